from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinglin.lib import cells, uploads
from xinglin.network.models import OrgUnit
from xinglin.plans import access, actions, excel, queries
from xinglin.plans.digest import department_digest
from xinglin.plans.files import MAX_EVIDENCE_BYTES, EvidenceFileError
from xinglin.plans.forms import (
    CloseRectificationForm,
    CommentForm,
    EvidenceForm,
    ImportForm,
    RectificationForm,
    ReviewForm,
    StatusForm,
    TaskFilterForm,
    WithdrawForm,
)
from xinglin.plans.indicators import evidence_items, find_indicator, packs_with_evidence_items
from xinglin.plans.models import (
    Department,
    Evidence,
    EvidenceStatus,
    FinalStatus,
    Milestone,
    TaskStatus,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_SIZE = 50  # rows of a paged list (tasks, evidence)


def _today():
    return timezone.localdate()


@login_required
def home(request):
    user, today = request.user, _today()
    plans = list(access.plans_for_user(user))
    tasks = access.tasks_for_user(user)
    overdue, due_soon = queries.due_tasks(tasks, today)
    counties = {p.orgunit for p in plans if access.can_manage(user, p.orgunit)}
    context = {
        "plans": [(p, queries.plan_counts(p, tasks, today)) for p in plans],
        "overdue": overdue[:20],
        "overdue_count": overdue.count(),
        "due_soon": due_soon[:20],
        "departments": _my_departments(user, plans),
        "counties": sorted(counties, key=lambda u: u.path),
        "evidence_packs": packs_with_evidence_items(),
        "today": today,
    }
    return render(request, "plans/home.html", context)


def _my_departments(user, plans) -> list[tuple]:
    """(org unit, department) pairs the user is liaison of, for links to their own view."""
    codes = {(p.orgunit, d) for p in plans for d in access.liaison_departments(user, p.orgunit)}
    departments = {d.code: d for d in Department.objects.filter(code__in={c for _, c in codes})}
    return sorted(((u, departments[c]) for u, c in codes), key=lambda x: (x[0].path, x[1].pk))


@login_required
def plan(request, pk):
    plan = access.get_plan_for_user(request.user, pk)
    today = _today()
    tasks = access.tasks_for_user(request.user)
    context = {
        "plan": plan,
        "counts": queries.plan_counts(plan, tasks, today),
        "rows": _timeline(request.user, plan, today),
        "phases": plan.phases.all(),
        "can_manage": access.can_manage(request.user, plan.orgunit),
        "today": today,
    }
    return render(request, "plans/plan.html", context)


@login_required
def timeline_export(request, pk, fmt):
    plan = access.get_plan_for_user(request.user, pk)
    rows = _timeline(request.user, plan, _today())
    return _table_response(f"{plan.pack}-timeline", fmt, queries.TIMELINE_FIELDS, rows)


def _timeline(user, plan, today) -> list[dict]:
    milestones = access.visible_milestones(user, plan.milestones.all(), [plan])
    return queries.timeline_rows(plan, today, milestones)


def _table_response(name: str, fmt: str, fields: list[str], rows: list[dict]):
    if fmt == "json":
        return JsonResponse({"rows": rows}, json_dumps_params={"ensure_ascii": False})
    if fmt != "csv":
        raise Http404(fmt)
    out = io.StringIO()
    writer = cells.dict_writer(out, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@login_required
def task_list(request, pk, fmt="html"):
    plan = access.get_plan_for_user(request.user, pk)
    form = TaskFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    today = _today()
    tasks = queries.filter_tasks(
        access.tasks_for_user(request.user).filter(plan=plan), today=today, **filters
    )
    tasks = queries.with_departments(tasks)
    if fmt != "html":
        return _table_response(f"{plan.pack}-tasks", fmt, TASK_FIELDS, _task_rows(tasks, today))
    page = Paginator(tasks, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "plan": plan,
        "tasks": page.object_list,
        "page": page,
        "filters": filters,
        "departments": Department.objects.filter(
            Q(led_tasks__plan=plan) | Q(supported_tasks__plan=plan)
        ).distinct(),
        "statuses": [*TaskStatus, *FinalStatus],
        "phases": plan.phases.all(),
        "today": today,
        "query": request.GET.urlencode(),
    }
    return render(request, "plans/tasks.html", context)


TASK_FIELDS = ["number", "title", "lead", "support", "phase", "deadline", "status"]


def _task_rows(tasks, today) -> list[dict]:
    return [
        {
            "number": t.number,
            "title": t.title,
            "lead": "、".join(d.name_zh for d in t.lead.all()),
            "support": "、".join(d.name_zh for d in t.support.all()),
            "phase": t.phase.code if t.phase else "",
            "deadline": t.deadline.isoformat() if t.deadline else "",
            "status": t.get_status(today),
        }
        for t in tasks
    ]


@login_required
def plan_xlsx(request, pk):
    plan = access.get_plan_for_user(request.user, pk, manage=True)
    response = HttpResponse(excel.export_plan(plan, _today()), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{plan.pack}-tasks.xlsx"'
    return response


@login_required
def plan_import(request, pk):
    plan = access.get_plan_for_user(request.user, pk, manage=True)
    form = ImportForm(request.POST or None, request.FILES or None)
    errors = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            content = uploads.read(upload)
        except uploads.TooLarge as error:
            errors = [str(error)]
        else:
            result = actions.import_task_sheet(plan, content, user=request.user, name=upload.name)
            errors = result.errors
        if not errors:
            messages.success(
                request,
                _("%(created)d tasks added, %(updated)d updated.")
                % {"created": result.created, "updated": result.updated},
            )
            return redirect("plans:tasks", plan.pk)
    return render(request, "plans/import.html", {"plan": plan, "form": form, "errors": errors})


@login_required
def task(request, pk):
    task = access.get_task_for_user(request.user, pk)
    manage = access.can_task(request.user, "manage", task)
    context = {
        "task": task,
        "today": _today(),
        "links": [
            (link, find_indicator(link.pack, link.indicator)) for link in task.indicator_links.all()
        ],
        "updates": task.updates.select_related("user"),
        "evidence": task.evidence.select_related("uploaded_by", "reviewed_by"),
        "milestones": task.milestones.all(),
        "can_update": access.can_task(request.user, "update", task),
        "can_manage": manage,
        "status_form": StatusForm(initial={"status": task.status}),
        "comment_form": CommentForm(),
        "evidence_form": EvidenceForm(kind=actions.evidence_kind_for(task=task)),
    }
    return render(request, "plans/task.html", context)


@login_required
@require_POST
def task_status(request, pk):
    task = access.get_task_for_user(request.user, pk, "update")
    form = StatusForm(request.POST)
    if form.is_valid():
        actions.update_task_status(
            task,
            form.cleaned_data["status"],
            user=request.user,
            comment=form.cleaned_data["comment"],
        )
        messages.success(request, _("Status saved."))
    else:
        messages.error(request, _("Choose a status."))
    return redirect("plans:task", task.pk)


@login_required
@require_POST
def task_comment(request, pk):
    task = access.get_task_for_user(request.user, pk, "update")
    form = CommentForm(request.POST)
    if form.is_valid():
        actions.add_comment(task, user=request.user, text=form.cleaned_data["text"])
    else:
        messages.error(request, _("A comment cannot be empty."))
    return redirect("plans:task", task.pk)


@login_required
@require_POST
def task_evidence(request, pk):
    task = access.get_task_for_user(request.user, pk, "update")
    if _store_upload(request, orgunit=task.plan.orgunit, task=task):
        messages.success(request, _("Evidence uploaded; it awaits review."))
    return redirect("plans:task", task.pk)


def _store_upload(request, **target) -> bool:
    kind = actions.evidence_kind_for(
        task=target.get("task"), pack=target.get("pack", ""), indicator=target.get("indicator", "")
    )
    form = EvidenceForm(request.POST, request.FILES, kind=kind)
    if not form.is_valid():
        for error in form.errors.values():
            messages.error(request, " ".join(error))
        return False
    upload = form.cleaned_data["file"]
    try:
        actions.upload_evidence(
            name=upload.name,
            content=uploads.read(upload, limit=MAX_EVIDENCE_BYTES),
            user=request.user,
            description=form.cleaned_data["description"],
            period=form.period(),
            **target,
        )
    except (EvidenceFileError, actions.PlanError, uploads.TooLarge) as error:
        messages.error(request, str(error))
        return False
    return True


@login_required
def evidence_download(request, pk):
    evidence = access.get_evidence_for_user(request.user, pk)
    response = FileResponse(
        evidence.file.open("rb"),
        as_attachment=True,
        filename=evidence.name,
        content_type=evidence.content_type,
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def evidence_list(request):
    """Every piece of evidence the user may see, newest first: filtered by item (?item=
    "<pack>/<indicator id>"), year covered (?year=), review status (?status=) and words
    (?q=), paged on the server (?page=); each row opens the task or the item it supports."""
    year = request.GET.get("year", "")
    filters = {
        "item": request.GET.get("item", ""),
        "year": int(year) if year.isdigit() and 1990 <= int(year) <= 2100 else None,
        "status": request.GET.get("status", ""),
        "q": request.GET.get("q", "").strip()[:100],
    }
    evidence = queries.filter_evidence(access.evidence_for_user(request.user), **filters)
    page = Paginator(evidence, PAGE_SIZE).get_page(request.GET.get("page"))
    this_year = _today().year
    context = {
        "rows": [(e, _evidence_home(e), _supports(e)) for e in page.object_list],
        "page": page,
        "filters": filters,
        "items": [(p, evidence_items(p)) for p in packs_with_evidence_items()],
        "years": range(this_year, this_year - 6, -1),
        "statuses": EvidenceStatus.choices,
    }
    return render(request, "plans/evidence_list.html", context)


def _supports(evidence: Evidence) -> str:
    """What a piece of evidence supports, in words: its task, or its item."""
    if evidence.task_id:
        return f"{evidence.task.number} {evidence.task.title}"
    info = find_indicator(evidence.pack, evidence.indicator)
    return f"{info.section} {info.name}".strip() if info else ""


@login_required
@require_POST
def evidence_review(request, pk):
    evidence = access.get_evidence_for_user(request.user, pk, review=True)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            kind = actions.evidence_kind_for(
                task=evidence.task, pack=evidence.pack, indicator=evidence.indicator
            )
            actions.review_evidence(
                evidence,
                user=request.user,
                accept=form.cleaned_data["decision"] == "accept",
                comment=form.cleaned_data["comment"],
                period=form.period(kind),
            )
        except actions.PlanError as error:
            messages.error(request, str(error))
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = _evidence_home(evidence)  # never off the site: only a path of ours is followed
    return redirect(target)


@login_required
@require_POST
def evidence_withdraw(request, pk):
    evidence = access.get_evidence_for_user(request.user, pk, review=True)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the date and the reason of the withdrawal."))
    else:
        try:
            actions.withdraw_evidence(evidence, user=request.user, **form.cleaned_data)
        except actions.PlanError as error:
            messages.error(request, str(error))
    return redirect(_evidence_home(evidence))


def _evidence_home(evidence: Evidence) -> str:
    if evidence.task_id:
        return reverse("plans:task", args=[evidence.task_id])
    url = reverse("plans:items", args=[evidence.orgunit.code, evidence.pack])
    return f"{url}#item-{evidence.indicator}"


@login_required
@require_POST
def milestone_done(request, pk):
    milestone = get_object_or_404(Milestone.objects.select_related("plan__orgunit"), pk=pk)
    access.get_plan_for_user(request.user, milestone.plan_id, manage=True)
    actions.complete_milestone(milestone, on=_today())
    return redirect("plans:plan", milestone.plan_id)


@login_required
def due(request):
    user, today = request.user, _today()
    plans = access.plans_for_user(user)
    overdue, due_soon = queries.due_tasks(access.tasks_for_user(user), today)
    late_milestones, soon_milestones = (
        access.visible_milestones(user, m, plans) for m in queries.due_milestones(plans, today)
    )
    context = {
        "overdue": overdue,
        "due_soon": due_soon,
        "late_milestones": late_milestones,
        "soon_milestones": soon_milestones,
        "today": today,
    }
    return render(request, "plans/due.html", context)


@login_required
def department(request, orgunit, code):
    unit = _unit_for_department(request.user, orgunit, code)
    dept = get_object_or_404(Department, code=code)
    today = _today()
    tasks = queries.with_departments(access.tasks_for_user(request.user).filter(plan__orgunit=unit))
    tasks = queries.filter_tasks(tasks, department=code, today=today)
    context = {
        "unit": unit,
        "department": dept,
        "tasks": tasks.order_by("plan", "position"),
        "digest": department_digest(unit, dept, today),
        "today": today,
    }
    return render(request, "plans/department.html", context)


def _unit_for_department(user, orgunit_code, department_code):
    """The county for a department's page: liaisons of that department, and users who may
    view the county's plans."""

    unit = OrgUnit.objects.filter(code=orgunit_code).first()
    if unit is None:
        raise Http404(orgunit_code)
    if department_code in access.liaison_departments(user, unit):
        return unit
    if access.is_liaison(user) and not access.can_view_orgunit(user, unit):
        raise Http404(department_code)
    return access.get_orgunit_for_user(user, orgunit_code)


@login_required
def items(request, orgunit, pack):
    """A county's evidence items of a pack as judged for one year (`?year=`, default this
    year): the status the scorecard gives and the evidence covering that year."""
    unit = access.get_orgunit_for_user(request.user, orgunit)
    listed = evidence_items(pack)
    if not listed:
        raise Http404(pack)
    year = _year(request)
    statuses = actions.evidence_statuses(unit, pack, [i.id for i in listed], year=year)
    rows = []
    for info in listed:
        files = actions.evidence_for_item(unit, pack, info.id)
        covering = {e.pk for e in files if e.covers(year, info.evidence_kind)}
        form = EvidenceForm(kind=info.evidence_kind, auto_id=f"id_{info.id}_%s", year=year)
        rows.append((info, statuses[info.id], files, covering, form))
    context = {
        "unit": unit,
        "pack": pack,
        "year": year,
        "years": range(year - 3, year + 2),
        "rows": rows,
        "can_manage": access.can_manage(request.user, unit),
    }
    return render(request, "plans/items.html", context)


def _year(request) -> int:
    """The year asked for; by default last year, the scorecard's default period."""
    default = _today().year - 1
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return default
    return year if 1990 <= year <= 2100 else default


@login_required
@require_POST
def item_upload(request, orgunit, pack, indicator):
    unit = access.get_orgunit_for_user(request.user, orgunit, manage=True)
    if find_indicator(pack, indicator) is None:
        raise Http404(indicator)
    if _store_upload(request, orgunit=unit, pack=pack, indicator=indicator):
        messages.success(request, _("Evidence uploaded; it awaits review."))
    return redirect("plans:items", unit.code, pack)


@login_required
def rectifications(request):
    items_ = access.rectifications_for_user(request.user)
    today = _today()
    return render(request, "plans/rectifications.html", {"items": items_, "today": today})


@login_required
def rectification_new(request):
    initial = {k: request.GET.get(k, "") for k in ("pack", "indicator", "orgunit", "period")}
    initial["value"] = request.GET.get("value") or None
    form = RectificationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        unit = access.get_orgunit_for_user(request.user, data.pop("orgunit"), manage=True)
        try:
            item = actions.create_rectification(orgunit=unit, user=request.user, **data)
        except actions.PlanError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Rectification task created."))
            return redirect("plans:rectification", item.pk)
    info = find_indicator(initial["pack"], initial["indicator"])
    return render(request, "plans/rectification_new.html", {"form": form, "indicator": info})


@login_required
def rectification(request, pk):
    item = access.get_rectification_for_user(request.user, pk)
    form = CloseRectificationForm(request.POST or None)
    if request.method == "POST":
        return _rectification_post(request, item, form)
    context = {
        "item": item,
        "form": form,
        "met_at_creation": actions.meets_target(item.value_at_creation, item.target),
        "met_at_closure": actions.meets_target(item.value_at_closure, item.target),
        "can_manage": access.can_manage(request.user, item.orgunit),
        "today": _today(),
    }
    return render(request, "plans/rectification.html", context)


def _rectification_post(request, item, form):
    if request.POST.get("action") == "start":
        access.get_rectification_for_user(request.user, item.pk, "update")
        actions.start_rectification(item)
    else:
        access.get_rectification_for_user(request.user, item.pk, "manage")
        if not form.is_valid():
            raise PermissionDenied("invalid")
        try:
            actions.close_rectification(
                item,
                user=request.user,
                value=form.cleaned_data["value"],
                note=form.cleaned_data["note"],
            )
        except actions.PlanError as error:
            messages.error(request, str(error))
    return redirect("plans:rectification", item.pk)
