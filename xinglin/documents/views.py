from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinglin.documents.actions import (
    DocumentError,
    delete_typical_case,
    render_document,
    save_narratives,
    save_typical_case,
)
from xinglin.documents.content import narratives_for
from xinglin.documents.formats import FORMATS
from xinglin.documents.forms import NarrativeForm, TypicalCaseForm
from xinglin.documents.models import ReportKind, TypicalCase
from xinglin.network import access
from xinglin.network.models import Kind

FIRST_YEAR = 2000


def _kind(kind: str) -> str:
    if kind not in ReportKind.values:
        raise Http404(kind)
    return kind


def _year(year: int) -> int:
    if not FIRST_YEAR <= year <= date.today().year + 1:
        raise Http404(str(year))
    return year


@login_required
def home(request):
    units = access.orgunits_for_user(request.user).filter(kind=Kind.DIVISION)
    code = request.GET.get("orgunit") or (units[0].code if units else "")
    if code:
        code = access.get_orgunit_for_user(request.user, code).code
    year = _year(int(request.GET.get("year") or date.today().year - 1))
    context = {
        "units": units.exclude(division_level="province"),
        "code": code,
        "year": year,
        "years": range(date.today().year, date.today().year - 6, -1),
        "documents": _links(code, year) if code else [],
    }
    return render(request, "documents/home.html", context)


def _links(code: str, year: int) -> list[dict]:
    return [
        {
            "label": label,
            "edit": reverse("documents:report", args=[code, year, kind]),
            "downloads": [
                (fmt, reverse("documents:download", args=[code, year, kind, fmt]))
                for fmt in FORMATS
            ],
        }  # fmt: skip
        for kind, label in ReportKind.choices
    ]


@login_required
def report(request, code, year, kind):
    unit = access.get_orgunit_for_user(request.user, code)
    kind, year = _kind(kind), _year(year)
    can_edit = access.can(request.user, "report", unit)
    if request.method == "POST":
        if not can_edit:
            raise access.PermissionDenied(code)
        form = NarrativeForm(kind, request.POST)
        if form.is_valid():
            save_narratives(unit, year, kind, form.cleaned_data, user=request.user)
            messages.success(request, _("Saved. The next document generated includes it."))
            return redirect("documents:report", code, year, kind)
    else:
        form = NarrativeForm(kind, initial=narratives_for(unit, year, kind))
    cases = TypicalCase.objects.filter(orgunit=unit, year=year)
    context = {"unit": unit, "year": year, "kind": kind, "kind_label": ReportKind(kind).label,
               "form": form, "can_edit": can_edit, "cases": cases, "case_form": TypicalCaseForm(),
               "formats": list(FORMATS)}  # fmt: skip
    return render(request, "documents/report.html", context)


@login_required
def download(request, code, year, kind, fmt):
    unit = access.get_orgunit_for_user(request.user, code)
    kind, year = _kind(kind), _year(year)
    if fmt not in FORMATS:
        raise Http404(fmt)
    content = render_document(kind, unit, year, fmt)
    response = HttpResponse(content, content_type=FORMATS[fmt][1])
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=download_name(unit, year, kind, fmt)
    )
    return response


def download_name(unit, year: int, kind: str, fmt: str) -> str:
    """The file named as the document is titled: 盐池县2025年度中医药工作总结.docx (the
    spreadsheet is the document's annex: …工作总结（数据附件）.xlsx)."""
    from xinglin.documents.content import TITLES

    title = TITLES[ReportKind(kind)].format(name=unit.name, year=year)
    return f"{title}（数据附件）.{fmt}" if fmt == "xlsx" else f"{title}.{fmt}"


@login_required
@require_POST
def add_case(request, code, year):
    unit = access.get_orgunit_for_user(request.user, code, "report")
    form = TypicalCaseForm(request.POST)
    back = request.POST.get("kind") if request.POST.get("kind") in ReportKind.values else "final"
    if form.is_valid():
        try:
            save_typical_case(unit, _year(year), form.cleaned_data["title"],
                              form.cleaned_data["body"], user=request.user)  # fmt: skip
            messages.success(request, _("Typical case saved."))
        except DocumentError:
            messages.error(request, _("At most two typical cases a year."))
    return redirect("documents:report", code, year, back)


@login_required
@require_POST
def delete_case(request, pk):
    case = get_object_or_404(TypicalCase, pk=pk)
    access.get_orgunit_for_user(request.user, case.orgunit.code, "report")
    delete_typical_case(case)
    back = request.POST.get("kind") if request.POST.get("kind") in ReportKind.values else "final"
    return redirect("documents:report", case.orgunit.code, case.year, back)
