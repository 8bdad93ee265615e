from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from xinglin.core import labels
from xinglin.documents.gather import latest_year
from xinglin.lib import cells
from xinglin.network import access
from xinglin.network.models import Kind, Membership
from xinglin.plans.models import Department
from xinglin.web import dashboard


def _focus(request):
    """The org unit (?orgunit=, else the top of the user's scope) and year (?year=, else the
    latest year with data) the dashboard shows; None when the user has no scope."""
    code = request.GET.get("orgunit")
    if code:
        unit = access.find_orgunit_for_user(request.user, code)
    else:
        roots = access.scope_roots(request.user)
        if not roots:
            return None, None
        unit = roots[0]
    year = request.GET.get("year", "")
    if year.isdigit() and 2000 <= int(year) <= date.today().year:
        return unit, int(year)
    return unit, latest_year(unit, date.today().year)


@login_required
def home(request):
    memberships = Membership.objects.filter(user=request.user).select_related("orgunit")
    unit, year = _focus(request)
    context = {"memberships": memberships, "unit": unit, "year": year, "board": None,
               "departments": _department_names(memberships)}  # fmt: skip
    if unit is not None:
        context["board"] = dashboard.build(request.user, unit, year)
        context["years"] = range(date.today().year, date.today().year - 6, -1)
        context["sections"] = dashboard.CSV_SECTIONS
        context["pickable"] = _pickable(request.user)
        context["can_approve"] = access.orgunits_for_user(request.user, "approve").exists()
        context["chart_words"] = {"items": str(_("items not met it holds back")),
                                  "met": labels.status_label("met"),
                                  "not_met": labels.status_label("not_met")}  # fmt: skip
    return render(request, "web/home.html", context)


@login_required
def dashboard_csv(request, section):
    if section not in dashboard.CSV_SECTIONS:
        raise Http404(section)
    unit, year = _focus(request)
    if unit is None:
        raise Http404(section)
    board = dashboard.build(request.user, unit, year)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{unit.code}-{year}-{section}.csv"'
    response.write("\ufeff")  # Excel opens UTF-8 CSV with Chinese correctly only with a BOM
    cells.writer(response).writerows(dashboard.csv_rows(board, section))
    return response


def _pickable(user):
    """The divisions the user may pick on the dashboard, by name (datalist of the picker)."""

    units = access.orgunits_for_user(user).filter(kind=Kind.DIVISION).order_by("path")
    return list(units.values_list("name", "path")[:500])


def _department_names(memberships) -> dict[str, str]:
    codes = [m.department for m in memberships if m.department]
    return {d.code: d.name for d in Department.objects.filter(code__in=codes)}
