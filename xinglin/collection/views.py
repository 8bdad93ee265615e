from __future__ import annotations

import io
import json
import secrets
from datetime import date
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinglin.collection import (
    actions,
    audit,
    comments,
    completeness,
    exports,
    guards,
    review,
    rules,
)
from xinglin.collection.batch import Location, Problem
from xinglin.collection.forms import (
    Form,
    expected_orgunits,
    form_for,
    forms_for,
    get_form,
    target_of,
)
from xinglin.collection.importers import workbook
from xinglin.collection.models import ConfirmedWarning, DataValue, Submission
from xinglin.collection.store import DELETED_NOTE
from xinglin.core import limits
from xinglin.core.errors import Refusal
from xinglin.core.labels import SUBMISSION_STATES
from xinglin.lib import cells, periods, uploads
from xinglin.network import access
from xinglin.network.models import Kind, OrgUnit
from xinglin.standards import categories, operands
from xinglin.standards.models import DataElement, TechniqueCategory

REPORT_DIR = Path(settings.VAR_DIR) / "import-reports"


def _period_or_404(code: str) -> periods.Period:
    try:
        return periods.parse(code)
    except periods.PeriodError:
        raise Http404(code) from None


def _default_periods(today: date) -> dict[str, str]:
    last_month = periods.for_date(today.replace(day=1) - timezone.timedelta(days=1), "monthly")
    return {
        "monthly": last_month.code,
        "quarterly": periods.for_date(today, "quarterly").previous_year().code,
        "yearly": str(today.year - 1),
    }


PAGE_SIZE = 50
LIST_STATES = ("submitted", "returned", "open", "approved", "not_submitted")


@login_required
def forms(request):
    """The forms the user can fill: their units in reporting scope with the latest periods,
    searched by name (?q=), filtered by state (?state=; `submitted` is the queue waiting for
    approval) and paged on the server (?page=)."""

    defaults = _default_periods(timezone.localdate())
    chosen = set(defaults.values())
    units = (
        access.orgunits_for_user(request.user, "report")
        .exclude(kind=Kind.DIVISION, division_level__in=["province", "city"])
        .order_by("path")
    )
    query = request.GET.get("q", "").strip()
    if query:
        units = units.filter(Q(name__contains=query) | Q(code=query))
    state = request.GET.get("state", "")
    if state in LIST_STATES and state != "not_submitted":
        units = units.filter(submissions__period__in=chosen, submissions__status=state)
    elif state == "not_submitted":
        done = Submission.objects.filter(period__in=chosen, status__in=["submitted", "approved"])
        units = units.exclude(pk__in=done.values("orgunit_id"))
    page = Paginator(units.distinct(), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    catalogue = list(DataElement.objects.order_by("pk"))
    for unit in page.object_list:
        for form in forms_for(unit, catalogue):
            rows.append({"unit": unit, "form": form, "period": defaults[form.period_type]})
    statuses = {
        (s.orgunit_id, s.period): s
        for s in Submission.objects.filter(period__in=chosen, orgunit__in=[r["unit"] for r in rows])
    }
    for row in rows:
        row["submission"] = statuses.get((row["unit"].pk, row["period"]))
    if state in LIST_STATES:
        rows = [r for r in rows if _row_state(r) == state]
    context = {"rows": rows, "page": page, "q": query, "state": state, "states": _list_states()}
    return render(request, "collection/forms.html", context)


def _row_state(row: dict) -> str:
    submission = row["submission"]
    if submission is None or submission.status == "open":
        return "not_submitted" if submission is None else "open"
    return submission.status


def _list_states() -> list[tuple[str, str]]:
    words = {
        **{k: str(v) for k, v in SUBMISSION_STATES.items()},
        "not_submitted": _("not submitted"),
    }
    return [(code, words[code]) for code in LIST_STATES]


def _entry_context(request, unit: OrgUnit, period: str, outcomes=None) -> dict:
    kind = _period_or_404(period).type
    catalogue = Form(target_of(unit), kind).catalogue()  # read once for the form's sections
    form = form_for(unit, period, catalogue)
    if form is None:
        raise Http404(period)
    stored = {
        (v.element_id, v.combo): v for v in DataValue.objects.filter(orgunit=unit, period=period)
    }
    outcomes = outcomes or {}
    submission = Submission.objects.filter(orgunit=unit, period=period).first()
    locked = bool(submission and submission.is_locked)
    can_report = access.can(request.user, "report", unit) and not locked
    can_approve = access.can(request.user, "approve", unit)
    sections = [
        (name, _fields(elements, stored, outcomes)) for name, elements in form.sections(catalogue)
    ]
    return {
        "unit": unit,
        "period": period,
        "form": form,
        "sections": sections,
        "submission": submission,
        "events": submission.events.select_related("user") if submission else [],
        "locked": locked,
        "can_report": can_report,
        "can_approve": can_approve,
        "review": review.rows(form, unit, period, submission, catalogue) if can_approve else None,
        "deadline": rules.deadline(period),
        "has_techniques": form.period_type == "yearly" and unit.kind == Kind.INSTITUTION,
    }


def _fields(elements, stored: dict, outcomes: dict) -> list[dict]:
    """The fields of a section: one per element, or one per option combination of an element
    with categories followed by its total, computed (the sum of the combinations stored)."""
    fields = []
    for element in elements:
        for item in operands.expand([element]):
            value = stored.get((element.pk, operands.combo_of(item)))
            fields.append(_field(item, value, outcomes.get(item.code)))
        if element.categories:
            parts = [stored.get((element.pk, c.code)) for c in element.combos()]
            present = [p.value for p in parts if p is not None]
            total = guards.shown(element, sum(present)) if present else "—"
            fields.append({"element": element, "total": total, "dom": element.code})
    return fields


def _field(element: DataElement, value: DataValue | None, outcome=None) -> dict:
    """A form field: what to show (the typed text after a refusal, else the stored value),
    and what the form sends back: the version of the stored value it stands on and the
    stored text and comment (`was`), so that a save writes only what the user changed, and
    is refused when someone else stored the value since (no lost update)."""
    stored = value.value if value is not None else None
    was = rules.to_entry(element.value_type, stored)
    was_comment = value.comment if value is not None else ""
    typed = outcome.typed if outcome and not outcome.saved else was
    comment = was_comment
    if outcome and not outcome.saved and outcome.comment is not None:
        comment = outcome.comment
    conflict = bool(outcome and outcome.conflict)
    return {
        "element": element,
        "dom": element.code.replace(".", "--"),  # an HTML id (a "." would read as a class)
        "typed": typed,
        "errors": outcome.errors if outcome else [],
        "warnings": outcome.warnings if outcome else [],
        "saved": bool(outcome and outcome.saved),
        "is_percent": element.value_type == "percent",
        "version": guards.version_of(value),
        "was": was,
        "was_comment": was_comment,
        "comment": comment,
        "conflict": conflict,
        "stored_shown": guards.shown(element, stored) if conflict else "",
    }


@login_required
def entry(request, code, period):
    unit = access.get_orgunit_for_user(request.user, code, parent=False)
    _period_or_404(period)
    outcomes = None
    if request.method == "POST":
        _require_unlocked(request.user, unit, period)
        typed = {k: v for k, v in request.POST.items() if k not in ("csrfmiddlewaretoken",)}
        typed = {k: v for k, v in typed.items() if not k.startswith("confirm_")}
        confirmed = [k[len("confirm_") :] for k in request.POST if k.startswith("confirm_")]
        typed, versions, notes = _changed(request.POST, _known(typed))
        outcomes = actions.save_form_values(
            unit,
            period,
            typed,
            user=request.user,
            confirmed=confirmed,
            versions=versions,
            comments=notes,
        )
        if not any(o.errors or (o.warnings and not o.saved) for o in outcomes.values()):
            messages.success(request, _("Saved."))
            return redirect("collection:entry", unit.code, period)
    context = _entry_context(request, unit, period, outcomes)
    return render(request, "collection/entry.html", context)


def _changed(post, typed: dict[str, str]) -> tuple[dict[str, str], dict, dict]:
    """(the fields the user changed, their versions, their comments): a field whose value
    and comment are as the form showed them (`was_<code>`, `was_comment_<code>`) is not
    written, so "save all" never writes back a value someone else stored meanwhile. A field
    sent without what it showed is written as typed, unchecked."""
    changed, versions, comments = {}, {}, {}
    for code, text in typed.items():
        was = post.get(f"was_{code}")
        comment = post.get(f"comment_{code}")
        if was is None:
            changed[code] = text
            continue
        value_moved = text.strip() != was.strip()
        comment_moved = (
            comment is not None and comment.strip() != post.get(f"was_comment_{code}", "").strip()
        )
        if not (value_moved or comment_moved):
            continue
        changed[code] = text
        versions[code] = post.get(f"version_{code}", "")
        if comment_moved:
            comments[code] = comment.strip()
    return changed, versions, comments


def _known(typed: dict[str, str]) -> dict[str, str]:
    """The fields that name an element (`code`, or `code.combo` for a categorised one)."""
    codes = {categories.split(k)[0] for k in typed}
    known = set(DataElement.objects.filter(code__in=codes).values_list("code", flat=True))
    return {k: v for k, v in typed.items() if categories.split(k)[0] in known}


def _item(element: str):
    """(the element or Operand a field names, the element's stored values' filter)."""
    code, combo = categories.split(element)
    found = DataElement.objects.filter(code=code).first()
    if found is None or (combo and combo not in {c.code for c in found.combos()}):
        raise Http404(element)
    return (operands.Operand(found, combo) if combo else found), {
        "element": found,
        "combo": combo,
    }


def _require_unlocked(user, unit: OrgUnit, period: str) -> None:
    if not access.can(user, "report", unit):
        raise PermissionDenied(unit.code)
    if actions.is_locked(unit, period):
        raise Refusal(
            _(
                "This form is approved and locked. Ask your supervisor to un-approve "
                "it, with a reason, before changing a value."
            )
        )


@login_required
@require_POST
def save_value(request, code, period, element):
    """htmx: save one field as it is typed; returns the field, with its error or warning."""
    unit = access.get_orgunit_for_user(request.user, code, parent=False)
    _period_or_404(period)
    _require_unlocked(request.user, unit, period)
    item, key = _item(element)
    typed = request.POST.get(element, "")
    if request.POST.get("take"):  # a conflict: take the stored value (nothing is written)
        value = DataValue.objects.filter(orgunit=unit, period=period, **key).first()
        context = {"f": _field(item, value), "unit": unit, "period": period, "can_report": True}
        return _fragment("collection/_field.html", context)
    confirmed = [element] if request.POST.get("confirm") else []
    version = request.POST.get(f"version_{element}")
    comment = request.POST.get(f"comment_{element}")
    # One field saved as the user left it: cleared means delete its value.
    outcome = actions.save_form_values(
        unit,
        period,
        {element: typed},
        user=request.user,
        confirmed=confirmed,
        clear_empty=True,
        versions={element: version} if version is not None else None,
        comments={element: comment.strip()} if comment is not None else None,
        elements={key["element"].code: key["element"]},
    )[element]
    value = DataValue.objects.filter(orgunit=unit, period=period, **key).first()
    context = {"f": _field(item, value, outcome), "unit": unit, "period": period}
    context["can_report"] = True
    return _fragment("collection/_field.html", context)


def _fragment(template: str, context: dict) -> HttpResponse:
    """An htmx fragment: its template reads only `context` (no page header, so none of the
    context processors a page's navigation and notices need)."""
    return HttpResponse(render_to_string(template, context))


@login_required
@require_POST
def workflow(request, code, period, step):
    unit = access.get_orgunit_for_user(request.user, code, parent=False)
    _period_or_404(period)
    text = request.POST.get("comment", "")
    try:
        if step == "submit":
            actions.submit_form(unit, period, user=request.user)
            messages.success(request, _("Submitted for approval."))
        else:
            submission = Submission.objects.filter(orgunit=unit, period=period).first()
            if submission is None:
                raise actions.WorkflowError(_("this form has not been submitted"))
            # The decision is about the values the supervisor's page showed.
            seen = request.POST.get("version", "")
            if seen.isdigit():
                submission.data_version = int(seen)
            _decide(step, submission, request.user, text, bool(request.POST.get("confirmed")))
    except actions.WorkflowError as error:
        messages.error(request, str(error))
    return redirect("collection:entry", unit.code, period)


# Steps that lock or unlock a form's values are confirmed by a ticked box (issue 18.5).
_CONFIRMED_STEPS = ("approve", "unapprove")


def _decide(step: str, submission: Submission, user, text: str, confirmed: bool) -> None:
    if step in _CONFIRMED_STEPS and not confirmed:
        raise actions.WorkflowError(_("tick the box to confirm first"))
    steps = {
        "approve": lambda: actions.approve_submission(submission, user=user),
        "return": lambda: actions.return_submission(submission, user=user, comment=text),
        "unapprove": lambda: actions.unapprove_submission(submission, user=user, reason=text),
    }
    if step not in steps:
        raise Http404(step)
    steps[step]()


@login_required
def history(request, code, period, element):
    unit = access.get_orgunit_for_user(request.user, code)
    item, key = _item(element)
    entries = audit.history(unit, key["element"], period, key["combo"])
    notes = {DELETED_NOTE: _("deleted"), comments.COMMENT_NOTE: _("comment changed")}
    for entry in entries:
        entry.note_label = notes.get(entry.note, entry.note)
    warnings = ConfirmedWarning.objects.filter(orgunit=unit, period=period, **key)
    context = {
        "unit": unit,
        "period": period,
        "element": item,
        "entries": entries,
        "warnings": warnings.select_related("user"),
    }
    return render(request, "collection/history.html", context)


@login_required
def techniques(request, code, period):
    unit = access.get_orgunit_for_user(request.user, code)
    if _period_or_404(period).type != "yearly" or unit.kind != Kind.INSTITUTION:
        raise Http404(period)
    if request.method == "POST":
        _require_unlocked(request.user, unit, period)
        count = actions.set_delivered_techniques(
            unit, period, request.POST.getlist("item"), user=request.user
        )
        messages.success(request, _("%(n)d techniques recorded.") % {"n": count})
        return redirect("collection:techniques", unit.code, period)
    chosen = set(unit.techniques.filter(period=period).values_list("item__code", flat=True))
    context = {
        "unit": unit,
        "period": period,
        "categories": TechniqueCategory.objects.prefetch_related("items"),
        "chosen": chosen,
        "can_report": access.can(request.user, "report", unit)
        and not actions.is_locked(unit, period),
    }
    return render(request, "collection/techniques.html", context)


@login_required
def template(request, code, period, form_code):
    unit = access.get_orgunit_for_user(request.user, code, "report")
    _period_or_404(period)
    try:
        form = get_form(form_code)
    except KeyError:
        raise Http404(form_code) from None
    rows = [u for u in _template_units(form, unit, period) if access.can(request.user, "report", u)]
    values = {
        (v.orgunit_id, v.element_id, *([v.combo] if v.combo else [])): v.value
        for v in DataValue.objects.filter(period=period, orgunit__in=[u.pk for u in rows])
    }
    book = workbook.build_template(form, unit, period, rows, values)
    cells.text_typed(book)
    buffer = io.BytesIO()
    book.save(buffer)
    name = f"{form.code}-{unit.code}-{period}.xlsx"
    return HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _template_units(form: Form, unit: OrgUnit, period: str) -> list[OrgUnit]:
    return expected_orgunits(form, period, within=unit)


@login_required
def import_page(request):
    context: dict = {"result": None}
    if request.method == "POST" and request.FILES.get("file"):
        upload = request.FILES["file"]
        REPORT_DIR.mkdir(parents=True, exist_ok=True)
        actions.remove_old_import_reports(REPORT_DIR, settings.IMPORT_REPORT_DAYS)
        token = secrets.token_hex(8)
        suffix = Path(upload.name).suffix.lower()[:6]
        path = REPORT_DIR / f"{token}-upload{suffix}"
        report = REPORT_DIR / f"{token}-report{'.xlsx' if suffix == '.xlsx' else '.csv'}"
        try:  # the upload never outlives its import, whatever happens
            uploads.save(upload, path)
            result = actions.import_file(
                path,
                user=request.user,
                dry_run=bool(request.POST.get("dry_run")),
                confirm_warnings=bool(request.POST.get("confirm_warnings")),
                report=report,
                name=upload.name,
            )
        except uploads.TooLarge as error:
            result = actions.ImportResult(problems=[Problem(Location(0, "file"), str(error))])
        finally:
            path.unlink(missing_ok=True)
        if result.report:
            request.session.setdefault("import_reports", []).append(result.report.name)
            request.session.modified = True
        context.update(result=result, name=upload.name, dry_run=bool(request.POST.get("dry_run")))
    return render(request, "collection/import.html", context)


@login_required
def import_report(request, name):
    if name not in request.session.get("import_reports", []):
        raise Http404(name)
    path = REPORT_DIR / name
    if not path.is_file():
        raise Http404(name)
    return FileResponse(open(path, "rb"), as_attachment=True, filename=name)


@login_required
def export_values(request, fmt):
    if fmt not in exports.FORMATS:
        raise Http404(fmt)
    unit = None
    if request.GET.get("orgunit"):
        unit = access.get_orgunit_for_user(request.user, request.GET["orgunit"])
    period = request.GET.get("period") or None
    if period:
        _period_or_404(period)
    rows = exports.value_rows(orgunit=unit, period=period, user=request.user)
    types = exports.CONTENT_TYPES
    headers = {"Content-Disposition": f'attachment; filename="values.{fmt}"'}
    if fmt == "csv":  # any size: streamed (issue 20.7)
        return StreamingHttpResponse(
            exports.stream_csv(rows), content_type=types[fmt], headers=headers
        )
    # JSON and workbooks are built whole in memory: capped (XINGLIN_EXPORT_MAX_ROWS)...
    count = rows.count()
    message = exports.refusal(count, fmt)
    if message:
        return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
    if exports.in_background(count, fmt):  # ...and large ones made in the background (21.5)
        target = reverse("documents:values_export", args=[fmt])
        return redirect(f"{target}?{request.GET.urlencode()}" if request.GET else target)
    return HttpResponse(exports.render(rows, fmt), content_type=types[fmt], headers=headers)


def _completeness_report(request):
    defaults = _default_periods(timezone.localdate())
    try:
        form = get_form(request.GET.get("form") or "township_health_center.monthly")
    except KeyError:
        raise Http404("form") from None
    period = request.GET.get("period") or defaults[form.period_type]
    if _period_or_404(period).type != form.period_type:
        raise Http404(period)
    return completeness.report(form, period, request.user)


@login_required
def completeness_page(request, fmt: str = "html"):
    report = _completeness_report(request)
    if fmt in ("csv", "json"):
        return _completeness_twin(report, fmt)
    if fmt != "html":
        raise Http404(fmt)
    groups = report.by_group()
    chart = {
        "groups": [name for name, _counts in groups],
        "series": [
            {"state": state, "name": str(label), "data": [counts[state] for _n, counts in groups]}
            for state, label in completeness.STATES.items()
        ],
    }
    context = {
        "report": report,
        "counts": report.counts(),
        "states": completeness.STATES,
        "groups": groups,
        "chart": chart,
        "reminders": completeness.reminders(report, request.user),
        "forms": _all_forms(),
        "query": request.GET.urlencode(),
    }
    return render(request, "collection/completeness.html", context)


def _all_forms() -> list[Form]:
    found = []
    catalogue = list(DataElement.objects.order_by("pk"))
    for target in (
        OrgUnit.objects.filter(kind=Kind.INSTITUTION)
        .order_by()  # the model's ordering would make distinct() keep one row per unit
        .values_list("institution_type", flat=True)
        .distinct()
    ):
        for period_type in periods.PERIOD_TYPES:
            form = Form(target, period_type)
            if form.elements(catalogue):
                found.append(form)
    return sorted(found, key=lambda f: f.code)


def _completeness_twin(report: completeness.Report, fmt: str) -> HttpResponse:
    if refused := limits.too_many(len(report.rows)):  # built in memory: capped (issue 20.7)
        return refused
    rows = [
        {
            "orgunit": row.orgunit.code,
            "name": row.orgunit.name,
            "parent": row.orgunit.parent.code if row.orgunit.parent else "",
            "state": row.state,
            "status": row.status,
            "submitted_at": row.submitted_at.isoformat() if row.submitted_at else "",
            "days_late": row.days_late,
        }
        for row in report.rows
    ]
    if fmt == "json":
        payload = {
            "form": report.form.code,
            "period": report.period,
            "deadline": report.deadline.isoformat(),
            "rows": rows,
        }
        return HttpResponse(
            json.dumps(payload, ensure_ascii=False), content_type="application/json"
        )
    buffer = io.StringIO()
    writer = cells.dict_writer(
        buffer,
        ["orgunit", "name", "parent", "state", "status", "submitted_at", "days_late"],
        lineterminator="\n",
    )
    writer.writeheader()
    writer.writerows(rows)
    return HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
