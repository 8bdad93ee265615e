"""The bureau-set targets page (issue 24.6, seeds/001 item 22): a bureau administrator over a
county (or city, province) enters its local health plan's values for a year; everyone who sees
the unit sees them. Each key is named by the indicators judged against it, in their unit."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from xinglin.standards import actions
from xinglin.standards.access import (
    adoption_units_for_user,
    first_unit_code,
    get_adoption_unit_for_user,
    may_adopt,
)
from xinglin.standards.models import BureauTarget, BureauTargetChange


@login_required
def targets(request):
    units = list(adoption_units_for_user(request.user))
    code = (
        request.GET.get("orgunit")
        or request.POST.get("orgunit")
        or first_unit_code(request.user, units)
    )
    year = _year(request.GET.get("year") or request.POST.get("year"))
    if code is None:
        return render(request, "standards/targets.html", {"unit": None, "units": units})
    unit = get_adoption_unit_for_user(request.user, code, change=request.method == "POST")
    if request.method == "POST":
        _save(request, unit, year)
        return redirect(reverse("standards:targets") + f"?orgunit={unit.code}&year={year}")
    return render(request, "standards/targets.html", _context(request, unit, units, year))


def _year(raw) -> int:
    text = str(raw or "").strip()
    return int(text) if text.isdigit() and 1900 < int(text) < 2200 else timezone.localdate().year


def _is_percent(indicators) -> bool:
    """A key judged against percent indicators is entered and shown as a percentage (60 for
    60%) and kept as the fraction the engine compares (0.6)."""
    return indicators[0].unit == "percent"


def _shown(value: float | None, percent: bool) -> str:
    if value is None:
        return ""
    return f"{round(value * 100, 6):g}" if percent else f"{value:g}"


def _save(request, unit, year: int) -> None:
    saved = 0
    for key, indicators in actions.bureau_target_keys().items():
        raw = request.POST.get(f"value-{key}", "").strip().removesuffix("%").strip()
        try:
            value = float(raw) if raw else None
        except ValueError:
            messages.error(request, _("%(value)s is not a number.") % {"value": raw})
            continue
        if value is not None and _is_percent(indicators):
            value = value / 100
        source = request.POST.get(f"source-{key}", "").strip()[:200]
        try:
            actions.set_bureau_target(unit, year, key, value, user=request.user, source=source)
        except actions.BureauTargetError as error:
            messages.error(request, str(error))
            continue
        saved += 1
    if saved:
        messages.success(request, _("Targets saved."))


def _context(request, unit, units, year: int) -> dict:
    language = get_language() or "zh"
    kept = {t.key: t for t in BureauTarget.objects.filter(orgunit=unit, year=year)}
    rows = [
        {"key": key, "names": [i.name(language) for i in indicators],
         "op": indicators[0].target.op, "unit": indicators[0].unit, "target": kept.get(key),
         "percent": _is_percent(indicators),
         "shown": _shown(kept[key].value if key in kept else None, _is_percent(indicators))}
        for key, indicators in sorted(actions.bureau_target_keys().items())
    ]  # fmt: skip
    history = BureauTargetChange.objects.filter(orgunit=unit).select_related("changed_by")[:20]
    names = {row["key"]: "、".join(row["names"]) for row in rows}
    percent = {row["key"]: row["percent"] for row in rows}

    def shown(value, key):
        if value is None:
            return "—"
        return _shown(value, percent.get(key, False)) + ("%" if percent.get(key) else "")

    return {
        "unit": unit,
        "units": units,
        "year": year,
        "rows": rows,
        "history": [
            (
                change,
                names.get(change.key, change.key),
                shown(change.old, change.key),
                shown(change.new, change.key),
            )
            for change in history
        ],  # fmt: skip
        "can_set": may_adopt(request.user, unit),
    }
