"""The bureau-set targets page (issue 24.6, seeds/001 item 22): a bureau administrator over a
county (or city, province) enters its local health plan's values for a year; everyone who sees
the unit sees them. Each key is named by the indicators judged against it, in their unit."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from xinglin.network.models import OrgUnit
from xinglin.standards import actions
from xinglin.standards.access import (
    adoption_units_for_user,
    first_unit_code,
    get_adoption_unit_for_user,
    may_adopt,
)
from xinglin.standards.loader import PackIndicator
from xinglin.standards.models import BureauTarget, BureauTargetChange


@login_required
def targets(request: HttpRequest) -> HttpResponse:
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


def _year(raw: object) -> int:
    text = str(raw or "").strip()
    return int(text) if text.isdigit() and 1900 < int(text) < 2200 else timezone.localdate().year


def _is_percent(indicators: list[PackIndicator]) -> bool:
    """A key judged against percent indicators is entered and shown as a percentage (60 for
    60%) and kept as the fraction the engine compares (0.6)."""
    return bool(indicators[0].unit == "percent")


def _shown(value: float | None, percent: bool) -> str:
    if value is None:
        return ""
    return f"{round(value * 100, 6):g}" if percent else f"{value:g}"


def _save(request: HttpRequest, unit: OrgUnit, year: int) -> None:
    user = request.user
    assert isinstance(user, User)  # the view requires a login
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
            actions.set_bureau_target(unit, year, key, value, user=user, source=source)
        except actions.BureauTargetError as error:
            messages.error(request, str(error))
            continue
        saved += 1
    if saved:
        messages.success(request, _("Targets saved."))


def _context(
    request: HttpRequest, unit: OrgUnit, units: list[OrgUnit], year: int
) -> dict[str, object]:
    language = get_language() or "zh"
    kept = {t.key: t for t in BureauTarget.objects.filter(orgunit=unit, year=year)}
    keys = sorted(actions.bureau_target_keys().items())
    names = {key: "、".join(i.name(language) for i in indicators) for key, indicators in keys}
    percent = {key: _is_percent(indicators) for key, indicators in keys}
    rows = [
        {"key": key, "names": [i.name(language) for i in indicators],
         "op": indicators[0].target.op if indicators[0].target else "",
         "unit": indicators[0].unit, "target": kept.get(key), "percent": percent[key],
         "shown": _shown(kept[key].value if key in kept else None, percent[key])}
        for key, indicators in keys
    ]  # fmt: skip
    history = BureauTargetChange.objects.filter(orgunit=unit).select_related("changed_by")[:20]

    def shown(value: float | None, key: str) -> str:
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
