from __future__ import annotations

import io
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from xinglin.care import children, guidance, privacy, rates
from xinglin.care.actions import (
    CareError,
    import_assessments,
    read_assessment_file,
    record_assessment,
    record_child_guidance,
    register_child,
    register_resident,
)
from xinglin.care.constitution import CONSTITUTIONS, POSITIVE_RESULTS, load_form, questions
from xinglin.care.forms import AssessmentForm, ChildForm, ImportForm, VisitForm
from xinglin.care.labels import CONSTITUTION_LABELS, FLAG_LABELS, RESULT_LABELS
from xinglin.care.models import Child, ChildGuidance, ConstitutionAssessment, Resident
from xinglin.core import limits
from xinglin.core.models import EventKind
from xinglin.core.security import record_event
from xinglin.lib import cells, uploads
from xinglin.network import access
from xinglin.network.models import Kind, OrgUnit

PAGE_SIZE = 50  # rows a list page shows; the rest is paged on the server (?page=)
PERSON_FIELDS = ("institution", "id_number", "name", "assessed_on", "assessor", "height_cm",
                 "weight_kg", "waist_cm")  # fmt: skip


# ---------------------------------------------------------------------------
# Access: every care record is scoped through its institution's path.
# ---------------------------------------------------------------------------


def _scoped(queryset: QuerySet, user, action: access.Action = "view") -> QuerySet:
    return queryset.filter(access.scope_q(user, action, field="institution__path"))


def get_assessment_for_user(user, pk: int) -> ConstitutionAssessment:
    """404 outside the user's view scope (its existence is not revealed)."""
    records = ConstitutionAssessment.objects.select_related("resident", "institution")
    found = _scoped(records, user).filter(pk=pk).first()
    if found is None:
        raise Http404(pk)
    return found


def get_child_for_user(user, pk: int, action: access.Action = "view") -> Child:
    child = _scoped(Child.objects.select_related("institution"), user).filter(pk=pk).first()
    if child is None:
        raise Http404(pk)
    access.get_orgunit_for_user(user, child.institution.code, action)  # 403 when view-only
    return child


def _institutions(user, action: access.Action) -> QuerySet[OrgUnit]:
    return access.orgunits_for_user(user, action).filter(kind=Kind.INSTITUTION, closed_on=None)


FIRST_YEAR, LAST_YEAR = 1900, 2200


def parse_year(text: str) -> int:
    """A year a care page can show; anything else (0, -1, 99999, words) is a 404, not a 500."""
    try:
        year = int(text)
    except (TypeError, ValueError) as error:
        raise Http404("year") from error
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise Http404("year")
    return year


def _year(request) -> int:
    """?year=, else the latest year with assessments in the user's scope, else this year."""
    if "year" not in request.GET:
        latest = _scoped(ConstitutionAssessment.objects, request.user).order_by("-assessed_on")
        first = latest.values_list("assessed_on", flat=True).first()
        return first.year if first else date.today().year
    return parse_year(request.GET["year"])


def _csv_response(name: str, header: list[str], rows) -> HttpResponse:
    out = io.StringIO()
    writer = cells.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# ---------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------


@login_required
def home(request):
    year = _year(request)
    assessments = _scoped(ConstitutionAssessment.objects, request.user).filter(
        assessed_on__year=year
    )
    context = {
        "year": year,
        "assessments": assessments.count(),
        "complete": assessments.filter(is_complete=True).count(),
        "managed": _scoped(rates.managed_elderly(year), request.user).count(),
        "visits": _scoped(ChildGuidance.objects, request.user)
        .filter(visited_on__year=year)
        .count(),
        "children_managed": _scoped(rates.managed_children(year), request.user).count(),
        "can_report": _institutions(request.user, "report").exists(),
    }
    return render(request, "care/home.html", context)


@login_required
def assessment_list(request, fmt: str = "html"):
    year = _year(request)
    records = (
        _scoped(ConstitutionAssessment.objects, request.user)
        .filter(assessed_on__year=year)
        .select_related("resident", "institution", "resident__institution")
    )
    if fmt == "csv":
        return _assessment_export(request, records, year)
    privacy.require_records(request.user)
    records = _scoped(records, request.user, privacy.RECORDS_ACTION)
    # searched by institution only: a person's name stays out of URLs and logs (issue 20.1)
    query = request.GET.get("q", "").strip()
    if query:
        records = records.filter(institution__name__contains=query)
    page = Paginator(records.order_by("-assessed_on", "-pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [(r, privacy.shown(request.user, r.resident)) for r in page.object_list]
    privacy.audit_view(request, f"care assessments {year}", len(rows))
    context = {"year": year, "records": rows, "total": page.paginator.count,
               "page": page, "query": query}  # fmt: skip
    return render(request, "care/assessment_list.html", context)


def _assessment_export(request, records, year: int):
    """Record-level personal data leaves the system only for the roles that need it (the
    bureau administrator, the institution's own clerk: access action `export`), and every
    export is in the security log (PIPL; issue 11)."""
    if not access.orgunits_for_user(request.user, "export").exists():
        raise PermissionDenied
    records = records.filter(access.scope_q(request.user, "export", "institution__path"))
    record_event(
        EventKind.PERSONAL_EXPORT,
        request=request,
        detail=f"care assessments {year}: {records.count()} rows",
    )
    # record by record, streamed (issue 20.7): an export of any size starts at once
    return limits.streamed_csv(f"assessments-{year}.csv", *_assessment_rows(records))


def _assessment_rows(records) -> tuple[list[str], list[list]]:
    parts = [f"{n}_{p}" for n in CONSTITUTIONS for p in ("score", "result")]
    header = ["id_masked", "institution", "assessed_on", *parts, "main_types", "flags"]
    header += ["guidance", "is_complete"]
    rows = (
        [
            r.resident.id_masked,
            r.institution.code,
            r.assessed_on.isoformat(),
            *(getattr(r, p) for p in parts),
            ";".join(r.main_types),
            ";".join(r.flags),
            ";".join(r.guidance),
            int(r.is_complete),
        ]
        for r in records.iterator()
    )
    return header, rows


@login_required
def assessment_new(request):
    institutions = _institutions(request.user, "report")
    if not institutions.exists():
        raise Http404("no institution to report for")
    form = AssessmentForm(request.POST or None, institutions=institutions)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        institution = access.get_orgunit_for_user(request.user, data["institution"], "report")
        try:
            resident = register_resident(
                data["id_number"], institution=institution, name=data["name"]
            )
            assessment = record_assessment(
                resident,
                institution=institution,
                assessed_on=data["assessed_on"],
                answers=form.answers(),
                **{k: data[k] for k in ("guidance", "guidance_other", "assessor")},
                **{k: data[k] for k in ("height_cm", "weight_kg", "waist_cm")},
                user=request.user,
            )
        except CareError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Assessment saved."))
            return redirect("care:assessment", assessment.pk)
    return render(request, "care/assessment_form.html", _form_context(form))


def _form_context(form: AssessmentForm) -> dict:
    measured = load_form()["measured_answers"]
    return {
        "form": form,
        "person_fields": [form[name] for name in PERSON_FIELDS],
        "items": list(zip(questions(), form.answer_fields(), strict=True)),
        "bands": {"bmi": measured["bmi"]["bands"], "waist": measured["waist"]["bands"]},
    }


@login_required
def assessment_detail(request, pk: int):
    privacy.require_records(request.user)
    assessment = get_assessment_for_user(request.user, pk)
    privacy.audit_view(request, f"care assessment {assessment.institution.code}", 1)
    context = {
        "a": assessment,
        "person": privacy.shown(request.user, assessment.resident),
        "rows": [
            {
                **row,
                "label": CONSTITUTION_LABELS[row["code"]],
                "text": RESULT_LABELS.get(row["result"], ""),
            }
            for row in assessment.results_table()
        ],
        "flags": [FLAG_LABELS[f] for f in assessment.flags],
        "guidance": guidance.for_types(assessment.main_types or assessment.positive_types),
        "answers": list(zip(questions(), assessment.answer_list, strict=True)),
    }
    return render(request, "care/assessment_detail.html", context)


@login_required
def blank_form(request):
    context = {"questions": questions(), "scale": load_form()["scale"], "areas": guidance.areas()}
    context["labels"] = [CONSTITUTION_LABELS[n] for n in CONSTITUTIONS]
    return render(request, "care/blank_form.html", context)


@login_required
def resident_list(request):
    """Health records. The search is a POST so that names and ID digits stay out of URLs and
    access logs; ID digits are matched only among records the user may export (otherwise
    cycling `00`…`99` would give the masked digits back)."""
    privacy.require_records(request.user)
    residents = _scoped(Resident.objects, request.user, privacy.RECORDS_ACTION)
    residents = residents.select_related("institution")
    residents = residents.annotate(n=Count("assessments")).order_by("-created_at")
    query = request.POST.get("q", "").strip() if request.method == "POST" else ""
    if query:
        own = access.scope_q(request.user, "export", "institution__path")
        residents = residents.filter(Q(name__contains=query) | (Q(id_masked__endswith=query) & own))
    page = Paginator(residents, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(r, privacy.shown(request.user, r)) for r in page.object_list]
    privacy.audit_view(request, "care residents search" if query else "care residents", len(rows))
    context = {"residents": rows, "total": page.paginator.count, "query": query,
               "page": page}  # fmt: skip
    return render(request, "care/resident_list.html", context)


@login_required
def assessment_import(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            rows = read_assessment_file(upload.name, uploads.read(upload))
            result = import_assessments(
                rows, user=request.user, allowed=lambda u: access.can(request.user, "report", u)
            )
        except (CareError, uploads.TooLarge) as error:
            form.add_error("file", str(error))
        if result and not result.errors:
            messages.success(
                request,
                _("%(n)s assessments imported, %(r)s replaced, %(i)s incomplete.")
                % {"n": result.created, "r": result.replaced, "i": result.incomplete},
            )
            return redirect("care:assessments")
    return render(request, "care/import.html", {"form": form, "result": result})


# ---------------------------------------------------------------------------
# Children
# ---------------------------------------------------------------------------


@login_required
def child_due(request):
    privacy.require_records(request.user)
    institutions = _institutions(request.user, privacy.RECORDS_ACTION)
    code = request.GET.get("institution") or (institutions.first().code if institutions else "")
    institution = (
        access.get_orgunit_for_user(request.user, code, privacy.RECORDS_ACTION) if code else None
    )
    today = date.today()
    rows = _due_rows(institution, today) if institution else []
    for row in rows:
        row["shown"] = privacy.shown(request.user, row["child"])
    privacy.audit_view(request, f"care children due {code}", len(rows))
    context = {
        "institutions": institutions,
        "institution": institution,
        "today": today,
        "rows": rows,
        "can_report": institution is not None and access.can(request.user, "report", institution),
    }
    return render(request, "care/child_due.html", context)


def _due_rows(institution: OrgUnit, today: date) -> list[dict]:
    rows = []
    for window in children.due_windows(today):
        done = ChildGuidance.objects.filter(
            child=OuterRef("pk"), visit_month=window.month, is_complete=True
        )
        open_children = Child.objects.filter(institution=institution).exclude(Exists(done))
        for status, born in (("due", window.due_born), ("overdue", window.overdue_born)):
            for child in open_children.filter(birth_date__range=born):
                due_on = children.add_months(child.birth_date, window.month)
                rows.append(
                    {"child": child, "month": window.month, "status": status, "due_on": due_on}
                )
    return sorted(rows, key=lambda r: (r["status"] != "overdue", r["due_on"]))


@login_required
def child_new(request):
    institutions = _institutions(request.user, "report")
    if not institutions.exists():
        raise Http404("no institution to report for")
    form = ChildForm(request.POST or None, institutions=institutions)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        institution = access.get_orgunit_for_user(request.user, data["institution"], "report")
        child = register_child(
            data["id_number"],
            institution=institution,
            birth_date=data["birth_date"],
            name=data["name"],
            sex=data["sex"],
        )
        return redirect("care:child_visit", child.pk)
    return render(request, "care/child_form.html", {"form": form})


@login_required
def child_visit(request, pk: int):
    child = get_child_for_user(request.user, pk, "report")
    privacy.audit_view(request, f"care child {child.institution.code}", 1)
    form = VisitForm(request.POST or None, child=child)
    if request.method == "POST" and form.is_valid():
        record_child_guidance(
            child, institution=child.institution, user=request.user, **form.cleaned_data
        )
        messages.success(request, _("Visit saved."))
        return redirect(f"{_url('care:child_due')}?institution={child.institution.code}")
    age = children.age_in_months(child.birth_date, date.today())
    month = children.scheduled_month(age)
    context = {
        "child": child,
        "shown": privacy.shown(request.user, child),
        "form": form,
        "visits": child.visits.all(),
        "band": children.band_for_month(month) if month else None,
        "month": month,
    }
    return render(request, "care/child_visit.html", context)


def _url(name: str) -> str:
    return reverse(name)


# ---------------------------------------------------------------------------
# Distribution of constitutions by township
# ---------------------------------------------------------------------------


def distribution_rows(user, year: int) -> list[dict]:
    """Complete assessments of the year in the user's scope, per township (the institution's
    parent), with the number positive (yes, leaning, basically) for each constitution."""
    positive = {
        f"n_{name}": Count("id", filter=Q(**{f"{name}_result__in": sorted(POSITIVE_RESULTS)}))
        for name in CONSTITUTIONS
    }
    records = _scoped(ConstitutionAssessment.objects, user).filter(
        is_complete=True, assessed_on__year=year
    )
    return list(
        records.values("institution__parent__code", "institution__parent__name")
        .annotate(total=Count("id"), **positive)
        .order_by("institution__parent__code")
    )


@login_required
def distribution(request, fmt: str = "html"):
    year = _year(request)
    rows = distribution_rows(request.user, year)
    if fmt == "csv":
        header = ["township_code", "township", "assessed", *CONSTITUTIONS]
        lines = [
            [r["institution__parent__code"], r["institution__parent__name"], r["total"]]
            + [r[f"n_{n}"] for n in CONSTITUTIONS]
            for r in rows
        ]
        return _csv_response(f"constitutions-{year}.csv", header, lines)
    table = [
        {
            "code": r["institution__parent__code"],
            "name": r["institution__parent__name"],
            "total": r["total"],
            "cells": [
                (r[f"n_{n}"], round(100 * r[f"n_{n}"] / r["total"], 1)) for n in CONSTITUTIONS
            ],
        }
        for r in rows
    ]
    chart = {
        "townships": [r["name"] for r in table],
        "series": [
            {"name": str(CONSTITUTION_LABELS[n]), "data": [row["cells"][i][1] for row in table]}
            for i, n in enumerate(CONSTITUTIONS)
        ],
    }
    context = {
        "year": year,
        "table": table,
        "chart": chart,
        "labels": [CONSTITUTION_LABELS[n] for n in CONSTITUTIONS],
        "years": range(date.today().year, date.today().year - 5, -1),
    }
    return render(request, "care/distribution.html", context)
