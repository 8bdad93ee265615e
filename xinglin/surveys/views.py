from __future__ import annotations

import io
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from xinglin.lib import cells, uploads
from xinglin.network import access
from xinglin.surveys import imports
from xinglin.surveys.actions import (
    ResponseError,
    feed_engine,
    record_response,
    store_responses,
)
from xinglin.surveys.forms import ImportForm, PlanForm, ResponseForm, question_label
from xinglin.surveys.models import Instrument, SurveyResponse
from xinglin.surveys.results import Status, sampling_plan, survey_results

PAGE_SIZE = 50  # responses per page of the responses list

EXPORT_FIELDS = (
    "orgunit",
    "name",
    "respondents",
    "positive",
    "rate",
    "lower",
    "upper",
    "target",
    "status",
)


def _check_period(period: str) -> None:
    if not (period.isdigit() and len(period) == 4):
        raise Http404(period)


def _instrument(code: str) -> Instrument:
    return get_object_or_404(Instrument, code=code)


def _entry_year(request) -> str:
    """?year=, else this year: new responses belong to the year they are collected in."""
    year = request.GET.get("year", "")
    return year if year.isdigit() and len(year) == 4 else str(date.today().year)


def _default_year(request) -> str:
    """?year=, else the latest year with responses in the user's scope, else this year."""
    year = request.GET.get("year", "")
    if year.isdigit() and len(year) == 4:
        return year
    latest = (
        SurveyResponse.objects.filter(access.scope_q(request.user, "view", "orgunit__path"))
        .order_by("-period")
        .values_list("period", flat=True)
        .first()
    )
    return latest[:4] if latest else str(date.today().year)


def _home_unit(user):
    roots = access.scope_roots(user)
    if not roots:
        raise Http404("no scope")
    return roots[0]


@login_required
def home(request):
    year = _default_year(request)
    scoped = SurveyResponse.objects.filter(access.scope_q(request.user, "view", "orgunit__path"))
    counts = dict(
        scoped.filter(period=year).values_list("instrument_id").annotate(n=Count("id")).order_by()
    )
    instruments = list(Instrument.objects.all())
    for instrument in instruments:
        instrument.count = counts.get(instrument.pk, 0)
    return render(
        request,
        "surveys/home.html",
        {
            "instruments": instruments,
            "year": year,
            "unit": _home_unit(request.user),
            "can_report": access.orgunits_for_user(request.user, "report").exists(),
        },
    )


@login_required
def instrument_detail(request, code):
    instrument = _instrument(code)
    questions = [
        {**q, "label": question_label(n, q)} for n, q in enumerate(instrument.questions, start=1)
    ]
    return render(
        request, "surveys/instrument.html", {"instrument": instrument, "questions": questions}
    )


def _report_units(user):
    return access.orgunits_for_user(user, "report").filter(closed_on__isnull=True).order_by("path")


@login_required
def respond(request, code):
    instrument = _instrument(code)
    units = list(_report_units(request.user))
    if not units:
        raise Http404(code)
    form = ResponseForm(
        instrument,
        units,
        request.POST or None,
        initial={"period": _entry_year(request), "orgunit": units[0].code},
    )
    if request.method == "POST" and form.is_valid():
        unit = access.get_orgunit_for_user(request.user, form.cleaned_data["orgunit"], "report")
        try:
            record_response(
                instrument, unit, form.cleaned_data["period"], form.answers(), user=request.user
            )
        except ResponseError as error:
            for qid, message in error.errors.items():
                form.add_error(f"q_{qid}", message)
        else:
            feed_engine([form.cleaned_data["period"]])
            messages.success(request, _("Saved. Next respondent."))
            url = f"{request.path}?year={form.cleaned_data['period']}&unit={unit.code}"
            return redirect(url)
    if request.method == "GET" and request.GET.get("unit"):
        form.initial["orgunit"] = request.GET["unit"]
    return render(request, "surveys/respond.html", {"instrument": instrument, "form": form})


@login_required
def responses(request, code):
    instrument = _instrument(code)
    year = _default_year(request)
    rows = (
        SurveyResponse.objects.filter(instrument=instrument, period=year)
        .filter(access.scope_q(request.user, "view", "orgunit__path"))
        .select_related("orgunit", "interviewer")
    )
    # searched by org unit name only (the answers stay out of URLs); paged on the server
    query = request.GET.get("q", "").strip()[:100]
    if query:
        rows = rows.filter(orgunit__name__contains=query)
    page = Paginator(rows.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {"instrument": instrument, "year": year, "total": page.paginator.count,
               "rows": page.object_list, "page": page, "query": query}  # fmt: skip
    return render(request, "surveys/responses.html", context)


@login_required
def import_page(request, code):
    instrument = _instrument(code)
    if not access.orgunits_for_user(request.user, "report").exists():
        raise Http404(code)
    form = ImportForm(
        request.POST or None, request.FILES or None, initial={"period": _entry_year(request)}
    )
    problems = []
    if request.method == "POST" and form.is_valid():
        period, upload = form.cleaned_data["period"], form.cleaned_data["file"]
        try:
            rows, problems = imports.read_responses(
                instrument, period, uploads.read(upload), request.user, name=upload.name
            )
        except uploads.TooLarge as error:
            rows, problems = [], [imports.Problem(None, None, str(error))]
        if not problems:
            count = store_responses(instrument, period, rows, user=request.user)
            feed_engine([period])
            messages.success(request, _("%(n)s responses imported.") % {"n": count})
            return redirect("surveys:responses", instrument.code)
    return render(
        request,
        "surveys/import.html",
        {"instrument": instrument, "form": form, "problems": problems},
    )


@login_required
def import_template(request, code):
    instrument = _instrument(code)
    response = HttpResponse(
        imports.template(instrument),
        content_type=("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )
    response["Content-Disposition"] = f'attachment; filename="{instrument.code}-template.xlsx"'
    return response


@login_required
def plan(request, code, orgunit=None):
    instrument = _instrument(code)
    unit = (
        access.get_orgunit_for_user(request.user, orgunit) if orgunit else _home_unit(request.user)
    )
    sampling = instrument.definition.get("sampling", {})
    form = PlanForm(
        request.GET or None,
        initial={
            "year": _default_year(request),
            "margin": sampling.get("margin", 0.05) * 100,
            "expected": sampling.get("expected", 0.5) * 100,
        },
    )
    if request.GET and not form.is_valid():
        return render(
            request, "surveys/plan.html", {"instrument": instrument, "unit": unit, "form": form}
        )
    values = form.cleaned_data if request.GET else form.initial
    result = sampling_plan(
        instrument, values["year"], unit, values["margin"] / 100, values["expected"] / 100
    )
    return render(
        request,
        "surveys/plan.html",
        {"instrument": instrument, "unit": unit, "form": form, "plan": result},
    )


@login_required
def results_default(request, code):
    instrument = _instrument(code)
    unit = _home_unit(request.user)
    return redirect("surveys:results", instrument.code, _default_year(request), unit.code)


@login_required
def results(request, code, period, orgunit):
    _check_period(period)
    instrument = _instrument(code)
    unit = access.get_orgunit_for_user(request.user, orgunit)
    result = survey_results(instrument, period, unit)
    rows = [result.total, *result.parts]
    return render(
        request,
        "surveys/results.html",
        {
            "instrument": instrument,
            "result": result,
            "rows": rows,
            "chart": _chart_data(rows, instrument.target),
            "labels": Status.LABELS,
            "previous": int(period) - 1,
            "next": int(period) + 1,
        },
    )


@login_required
def results_export(request, code, period, orgunit, fmt):
    if fmt not in ("csv", "json"):
        raise Http404(fmt)
    _check_period(period)
    instrument = _instrument(code)
    unit = access.get_orgunit_for_user(request.user, orgunit)
    result = survey_results(instrument, period, unit)
    rows = [_export_row(r, instrument.target) for r in [result.total, *result.parts]]
    if fmt == "json":
        return JsonResponse(
            {
                "instrument": instrument.code,
                "period": period,
                "orgunit": unit.code,
                "confidence": 0.95,
                "method": "wilson",
                "rows": rows,
            },
            json_dumps_params={"ensure_ascii": False},
        )
    out = io.StringIO()
    writer = cells.dict_writer(out, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"{instrument.code}-{period}-{unit.code}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _export_row(row, target) -> dict:
    interval = row.interval
    return {
        "orgunit": row.orgunit.code,
        "name": row.orgunit.name,
        "respondents": row.respondents,
        "positive": row.positive,
        "rate": round(interval.estimate, 4) if interval else None,
        "lower": round(interval.lower, 4) if interval else None,
        "upper": round(interval.upper, 4) if interval else None,
        "target": target,
        "status": row.status,
    }


def _chart_data(rows, target) -> dict:
    """Figures for the ECharts interval plot (percentages, one decimal)."""

    def pct(value):
        return None if value is None else round(value * 100, 1)

    return {
        "names": [r.orgunit.name for r in rows],
        "rates": [pct(r.interval.estimate) if r.interval else None for r in rows],
        "lower": [pct(r.interval.lower) if r.interval else None for r in rows],
        "upper": [pct(r.interval.upper) if r.interval else None for r in rows],
        "status": [r.status for r in rows],
        "target": pct(target),
    }
