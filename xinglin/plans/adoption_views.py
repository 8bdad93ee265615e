"""The adoption page: which documents (packs) judge a unit, whose documents they are, and —
for a bureau administrator over a county or city — adopting or withdrawing one (adopting a
document loads its plan: see plans/apps.py). Served at /standards/adoption/."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from xinglin.plans.models import Plan
from xinglin.standards import actions
from xinglin.standards.access import (
    adoption_units_for_user,
    first_unit_code,
    get_adoption_unit_for_user,
    may_adopt,
)
from xinglin.standards.adoption import adoptions_of, document_place
from xinglin.standards.loader import all_packs


@login_required
def adoption(request):
    units = list(adoption_units_for_user(request.user))
    code = (
        request.GET.get("orgunit")
        or request.POST.get("orgunit")
        or first_unit_code(request.user, units)
    )
    if code is None:
        return render(request, "standards/adoption.html", {"unit": None, "units": units})
    unit = get_adoption_unit_for_user(request.user, code, change=request.method == "POST")
    if request.method == "POST":
        _change(request, unit)
        return redirect(reverse("standards:adoption") + f"?orgunit={unit.code}")
    return render(request, "standards/adoption.html", _context(request, unit, units))


def _change(request, unit) -> None:
    pack = request.POST.get("pack", "")
    if request.POST.get("withdraw"):
        if actions.withdraw(unit, pack, user=request.user):
            messages.success(request, _("%(pack)s is no longer applied.") % {"pack": _title(pack)})
        return
    since = request.POST.get("since", "").strip()
    try:
        actions.adopt(
            unit, pack, int(since) if since.isdigit() else None, user=request.user,
            confirm_other_place=bool(request.POST.get("confirm_other_place")),
        )  # fmt: skip
    except actions.AdoptionError as error:
        messages.error(request, str(error))
        return
    messages.success(request, _("%(unit)s is now judged by %(pack)s.") % {
        "unit": unit.name, "pack": _title(pack)})  # fmt: skip


def _title(code: str) -> str:
    pack = all_packs().get(code)
    return pack.title(get_language() or "zh") if pack else code


def _context(request, unit, units) -> dict:
    language = get_language() or "zh"
    current = adoptions_of(unit)
    adopted = {a.pack_code for a in current}
    choices = [
        {"code": code, "title": pack.title(language), "place": document_place(code),
         "other": actions.is_other_place(unit, code)}
        for code, pack in sorted(all_packs().items())
        if code not in adopted
    ]  # fmt: skip
    rows = [
        {"adoption": a, "title": _title(a.pack_code), "place": document_place(a.pack_code),
         "inherited": a.orgunit_id != unit.pk}
        for a in current
    ]  # fmt: skip
    return {
        "unit": unit,
        "units": units,
        "rows": rows,
        "choices": choices,
        "plans": Plan.objects.filter(orgunit=unit).order_by("start"),
        "can_adopt": may_adopt(request.user, unit),
    }
