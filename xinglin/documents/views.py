from __future__ import annotations

from datetime import date

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from xinglin.collection import exports
from xinglin.documents import jobs
from xinglin.documents.actions import (
    DocumentError,
    delete_typical_case,
    edit_paragraphs,
    keep_draft,
    save_narratives,
    save_typical_case,
)
from xinglin.documents.content import NARRATIVE_SECTIONS, TITLES, narratives_for
from xinglin.documents.drafting.draft import suggest_cases
from xinglin.documents.formats import FORMATS
from xinglin.documents.forms import NarrativeForm, TypicalCaseForm
from xinglin.documents.gather import gather
from xinglin.documents.models import (
    VALUES,
    DocumentJob,
    DraftParagraph,
    JobStatus,
    JobStep,
    ReportKind,
    TypicalCase,
)
from xinglin.documents.narrative import sections
from xinglin.lib import periods
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


PARAGRAPH_FIELD = "paragraph:"  # POST fields of the drafted paragraphs: paragraph:<key>
ORIGINAL_FIELD = "original:"  # the text the page showed, to refuse overwriting a newer edit


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
            _apply(request, unit, year, kind, form.cleaned_data)
            return redirect("documents:report", code, year, kind)
    else:
        form = NarrativeForm(kind, initial=narratives_for(unit, year, kind))
    data = gather(kind, unit, year)
    shown = sections(data)
    editor = [{"key": key, "heading": heading, "field": form[key],
               "paragraphs": shown[key].paragraphs if key in shown else []}
              for key, heading in NARRATIVE_SECTIONS[kind]]  # fmt: skip
    cases = TypicalCase.objects.filter(orgunit=unit, year=year)
    context = {"unit": unit, "year": year, "kind": kind, "kind_label": ReportKind(kind).label,
               "form": form, "number_field": form["document_number"], "editor": editor,
               "can_edit": can_edit, "cases": cases, "case_form": TypicalCaseForm(),
               "suggestions": suggest_cases(data) if kind != "annual" and len(cases) < 2 else [],
               "formats": list(FORMATS)}  # fmt: skip
    return render(request, "documents/report.html", context)


def _apply(request, unit, year: int, kind: str, own: dict[str, str]) -> None:
    """One POST of the editor: `save` (own texts and paragraph edits), `draft` (keep the whole
    draft; edited paragraphs stay), `regenerate` (the ticked paragraphs; edited ones only with
    the overwrite box ticked — the draft never replaces a person's text unasked)."""
    action = request.POST.get("action", "save")
    if action == "draft":
        result = keep_draft(unit, year, kind, user=request.user)
        messages.success(request, _("Draft kept: %(new)d new, %(updated)d redrafted, "
                                    "%(kept)d edited paragraphs left as written.")
                         % {"new": result.created, "updated": result.updated, "kept": result.kept})  # fmt: skip
        return
    if action == "regenerate":
        keys = request.POST.getlist("regenerate")
        overwrite = request.POST.get("overwrite_edited") == "1"
        result = keep_draft(unit, year, kind, user=request.user, keys=keys,
                            overwrite_edited=overwrite)  # fmt: skip
        if result.kept:
            messages.warning(request, _("%(kept)d paragraphs you edited were not regenerated: "
                                        "tick “Replace my edits” to replace them.")
                             % {"kept": result.kept})  # fmt: skip
        messages.success(request, _("%(n)d paragraphs regenerated from the current data.")
                         % {"n": result.created + result.updated})  # fmt: skip
        return
    save_narratives(unit, year, kind, own, user=request.user)
    texts = _fields(request, PARAGRAPH_FIELD)
    unkept = [key for key in texts if key not in _kept_keys(unit, year, kind)]
    if unkept:  # a section shown from the live draft is kept before its edits are applied
        keep_draft(unit, year, kind, user=request.user, keys=unkept)
    result = edit_paragraphs(unit, year, kind, texts, user=request.user,
                             originals=_fields(request, ORIGINAL_FIELD))  # fmt: skip
    if result.conflicts:
        messages.error(request, _("%(n)d paragraphs were changed by someone else while you "
                                  "edited them; yours were not saved. Please check them again.")
                       % {"n": len(result.conflicts)})  # fmt: skip
    messages.success(request, _("Saved. The next document generated includes it."))


def _fields(request, prefix: str) -> dict[str, str]:
    return {key[len(prefix):]: value for key, value in request.POST.items()
            if key.startswith(prefix)}  # fmt: skip


def _kept_keys(unit, year: int, kind: str) -> set[str]:
    rows = DraftParagraph.objects.filter(orgunit=unit, year=year, kind=kind)
    return set(rows.values_list("key", flat=True))


@login_required
def download(request, code, year, kind, fmt):
    """The file at once when today's data already made it (the cache); otherwise the user's
    one background job (joined when under way): for the page's script (`Accept:
    application/json`) 202 and the job's status at once, so that no web thread waits on a
    generation; for a plain link the file if it is ready within DOCUMENT_WAIT_SECONDS, else
    the progress page."""
    unit = access.get_orgunit_for_user(request.user, code)
    kind, year = _kind(kind), _year(year)
    if fmt not in FORMATS:
        raise Http404(fmt)
    filename = download_name(unit, year, kind, fmt)
    cached = jobs.cached_file(jobs.cache_key(kind, unit, year, fmt), fmt)
    if cached is not None:
        return _file(cached, fmt, filename)
    try:
        job = jobs.start_or_join(request.user, kind, unit, year, fmt, filename)
    except jobs.Busy as busy:
        return _busy(request, busy.job)
    # a page's script follows the progress itself; a plain link waits a moment for the file
    return _answer(request, job)


@require_safe  # reading: a POST is refused, not taken as a second way to start a job
@login_required
def values_export(request, fmt):
    """collection's values.xlsx / values.json of a large scope (issue 21.5), as a background
    job like a document's: the cached file, or the user's one job (joined when under way),
    answered as `download` answers. The cap (XINGLIN_EXPORT_MAX_ROWS) still refuses."""

    if fmt not in ("json", "xlsx"):
        raise Http404(fmt)
    code, period = request.GET.get("orgunit"), request.GET.get("period") or ""
    unit = access.get_orgunit_for_user(request.user, code) if code else None
    if period:
        try:
            periods.parse(period)
        except periods.PeriodError:
            raise Http404(period) from None
    rows = exports.value_rows(orgunit=unit, period=period or None, user=request.user)
    message = exports.refusal(rows.count(), fmt)
    if message:
        return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
    filename = exports.download_name(unit, period, fmt)
    year = int(period[:4]) if period[:4].isdigit() else 0
    key = jobs.cache_key(VALUES, unit, year, fmt, jobs.values_extra(request.user, period))
    cached = jobs.cached_file(key, fmt)
    if cached is not None:
        return _file(cached, fmt, filename)
    try:
        job = jobs.start_or_join(request.user, VALUES, unit, year, fmt, filename, period)
    except jobs.Busy as busy:
        return _busy(request, busy.job)
    return _answer(request, job)


def _answer(request, job):
    """The file when the job is done soon enough, else its status (script) or progress page."""
    job = jobs.wait(job, 0 if _wants_json(request) else settings.DOCUMENT_WAIT_SECONDS)
    if job.status == JobStatus.DONE and jobs.job_file(job).is_file():
        return _file(jobs.job_file(job), job.fmt, job.filename)
    if _wants_json(request):
        return JsonResponse(_status(job), status=202)
    return redirect("documents:job", job.pk)


CONTENT_TYPES = {"json": "application/json"}  # the values export's (the others: FORMATS)


def _file(path, fmt: str, filename: str) -> HttpResponse:
    kind = FORMATS[fmt][1] if fmt in FORMATS else CONTENT_TYPES[fmt]
    response = HttpResponse(path.read_bytes(), content_type=kind)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=filename
    )
    return response


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _busy(request, job):
    message = _("Another document of yours is being prepared (%(name)s); it can be downloaded "
                "when it is ready, then ask for this one.") % {"name": job.filename}  # fmt: skip
    if _wants_json(request):
        return JsonResponse({**_status(job), "message": message}, status=409)
    messages.warning(request, message)
    return redirect("documents:job", job.pk)


def _own_job(request, pk: int) -> DocumentJob:
    """The user's own job, while the unit is still in their scope (404 otherwise)."""
    job = get_object_or_404(DocumentJob.objects.select_related("orgunit"), pk=pk, user=request.user)
    if job.orgunit is not None:  # (a values export of the whole scope has none)
        access.get_orgunit_for_user(request.user, job.orgunit.code)
    return job


def _status(job: DocumentJob) -> dict:
    """The JSON the progress bar polls (documents/jobs/<id>.json); its fields are pinned."""
    ready = job.status == JobStatus.DONE
    return {
        "id": job.pk,
        "status": job.status,
        "status_label": str(JobStatus(job.status).label),
        "step": str(JobStep(job.step).label),
        "progress": job.progress,
        "filename": job.filename,
        "file_url": reverse("documents:job_file", args=[job.pk]) if ready else None,
        "status_url": reverse("documents:job_status", args=[job.pk]),
    }


@login_required
def job(request, pk):
    job = _own_job(request, pk)
    return render(request, "documents/job.html", {"job": job, "status": _status(job)})


@login_required
def job_status(request, pk):
    return JsonResponse(_status(_own_job(request, pk)))


@login_required
def job_file(request, pk):
    job = _own_job(request, pk)
    path = jobs.job_file(job)
    if job.status != JobStatus.DONE or not path.is_file():
        raise Http404(str(pk))
    return _file(path, job.fmt, job.filename)


def download_name(unit, year: int, kind: str, fmt: str) -> str:
    """The file named as the document is titled: 盐池县2025年度中医药工作总结.docx (the
    spreadsheet is the document's annex: …工作总结（数据附件）.xlsx)."""

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
