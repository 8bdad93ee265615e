"""Every write of the plans app: loading plan packs, task progress, evidence and its review,
rectification tasks; and `evidence_status`, which settles an indicator's evidence item."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from xinglin.core.models import EventKind
from xinglin.core.security import record_event
from xinglin.network.models import OrgUnit
from xinglin.plans import excel
from xinglin.plans.files import check_file
from xinglin.plans.indicators import find_indicator
from xinglin.plans.models import (
    Department,
    Evidence,
    EvidenceKind,
    EvidenceStatus,
    FinalStatus,
    IndicatorLink,
    Milestone,
    MilestoneKind,
    Phase,
    Plan,
    RectificationStatus,
    RectificationTask,
    Task,
    TaskStatus,
    TaskUpdate,
    UpdateKind,
    period_covers,
    year_bounds,
)
from xinglin.plans.packs import PackError, PlanPack, parse_month_day, read_departments, read_packs
from xinglin.standards.expressions import TargetError, parse_target


class PlanError(ValueError):
    pass


# ---------------------------------------------------------------- loading packs


@dataclass
class LoadResult:
    plan: Plan
    tasks_created: int = 0
    tasks_updated: int = 0
    milestones: int = 0
    notes: list[str] = field(default_factory=list)


def load_departments() -> int:
    for item in read_departments():
        name = item.get("name") or {}
        Department.objects.update_or_create(
            code=item["code"],
            defaults={
                "name_zh": name.get("zh", ""),
                "name_en": name.get("en", ""),
                "aliases": list(item.get("aliases") or []),
                "note": item.get("note", ""),
            },
        )
    return Department.objects.count()


@transaction.atomic
def load_plan(pack: PlanPack, orgunit: OrgUnit) -> LoadResult:
    """Create or bring up to date the plan of `pack` for `orgunit`. Task progress, updates and
    evidence are kept; text, departments, dates and links follow the pack."""
    if pack.errors:
        raise PackError("\n".join(pack.errors))
    data = pack.data
    departments = {d.code: d for d in Department.objects.all()}
    plan, _created = Plan.objects.update_or_create(
        orgunit=orgunit,
        pack=pack.code,
        defaults={
            "title_zh": data["title"]["zh"],
            "title_en": data["title"].get("en", ""),
            "source": data["source"],
            "start": data["period"]["start"],
            "end": data["period"]["end"],
        },
    )
    result = LoadResult(plan)
    phases = _load_phases(plan, data.get("phases") or [])
    keys: set[str] = set()
    for position, item in enumerate(pack.tasks):
        task = _load_task(plan, item, position, phases, departments, result)
        keys |= _load_task_milestones(plan, task, item, departments)
    keys |= _load_reporting(plan, data.get("reporting") or [], departments)
    plan.milestones.exclude(key__in=keys).delete()
    result.milestones = len(keys)
    numbers = {str(t["number"]) for t in pack.tasks}
    for task in plan.tasks.exclude(number__in=numbers):
        result.notes.append(f"task {task.number} is no longer in the pack (kept)")
    return result


def _load_phases(plan: Plan, items: list[dict]) -> dict[str, Phase]:
    phases = {}
    for item in items:
        phases[item["code"]], _ = Phase.objects.update_or_create(
            plan=plan,
            code=item["code"],
            defaults={
                "name_zh": item["name"]["zh"],
                "name_en": item["name"].get("en", ""),
                "start": item["start"],
                "end": item["end"],
                "source": item.get("source", ""),
            },
        )
    plan.phases.exclude(code__in=phases).delete()
    return phases


def _load_task(plan, item, position, phases, departments, result: LoadResult) -> Task:
    task, created = Task.objects.update_or_create(
        plan=plan,
        number=str(item["number"]),
        defaults={
            "position": position,
            "title_zh": item["title"]["zh"],
            "title_en": item["title"].get("en", ""),
            "text": item.get("text", ""),
            "category": item.get("category", "task"),
            "phase": phases.get(item.get("phase")),
            "deadline": item.get("deadline"),
            "source": item.get("source", ""),
            "note": item.get("note", ""),
        },
    )
    if created:
        result.tasks_created += 1
    else:
        result.tasks_updated += 1
    task.lead.set([departments[c] for c in item.get("lead") or []])
    task.support.set([departments[c] for c in item.get("support") or []])
    refs = list(item.get("indicators") or [])
    refs += [m["indicator"] for m in item.get("milestones") or [] if m.get("indicator")]
    _set_links(task, refs)
    return task


def _set_links(task: Task, refs: list[str]) -> None:
    wanted = {tuple(ref.split("/", 1)) for ref in refs}
    existing = {(link.pack, link.indicator): link for link in task.indicator_links.all()}
    for key, link in existing.items():
        if key not in wanted:
            link.delete()
    for pack, indicator in wanted - set(existing):
        IndicatorLink.objects.create(task=task, pack=pack, indicator=indicator)


def _save_milestone(plan, key, departments, **fields) -> str:
    milestone, _ = Milestone.objects.update_or_create(plan=plan, key=key, defaults=fields)
    milestone.departments.set(departments)
    return key


def _load_task_milestones(plan, task, item, departments) -> set[str]:
    keys = set()
    leads = [departments[c] for c in item.get("lead") or []]
    for index, m in enumerate(item.get("milestones") or [], start=1):
        keys.add(
            _save_milestone(
                plan,
                f"task:{task.number}:{index}",
                leads,
                task=task,
                kind=MilestoneKind.TASK,
                title_zh=m["title"]["zh"],
                title_en=m["title"].get("en", ""),
                due=m["due"],
                indicator=m.get("indicator") or "",
                source=m.get("source") or item.get("source", ""),
                note=m.get("note", ""),
            )
        )
    return keys


def _load_reporting(plan: Plan, items: list[dict], departments) -> set[str]:
    """Yearly reporting deadlines become one milestone per plan year; one-off ones one."""
    keys = set()
    for item in items:
        by = [departments[c] for c in item.get("by") or []]
        common = {
            "task": None,
            "kind": MilestoneKind.REPORTING,
            "title_zh": item["name"]["zh"],
            "title_en": item["name"].get("en", ""),
            "indicator": item.get("indicator") or "",
            "source": item.get("source", ""),
            "note": item.get("note", ""),
        }
        if item.get("recurrence") == "yearly":
            if "due" not in item:
                continue  # the document gives no date: nothing to put on the timeline
            for year in range(plan.start.year, plan.end.year + 1):
                due = parse_month_day(item["due"], year)
                key = f"reporting:{item['code']}:{year}"
                keys.add(_save_milestone(plan, key, by, due=due, **common))
        else:
            key = f"reporting:{item['code']}"
            keys.add(_save_milestone(plan, key, by, due=item["date"], **common))
    return keys


# ---------------------------------------------------------------- task progress


def _journal(task: Task, user: User | None, kind: str, **fields) -> TaskUpdate:
    return TaskUpdate.objects.create(task=task, user=user, kind=kind, at=timezone.now(), **fields)


@transaction.atomic
def update_task_status(
    task: Task, status: str, *, user: User | None, comment: str = "", on: date | None = None
) -> Task:
    if status not in (TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS, TaskStatus.DONE):
        raise PlanError(_("Unknown status %(status)s.") % {"status": status})
    old = task.status
    if old == status:
        if comment:
            add_comment(task, user=user, text=comment)
        return task
    task.status = status
    task.completed_on = (on or date.today()) if status == TaskStatus.DONE else None
    task.save(update_fields=["status", "completed_on"])
    if status == TaskStatus.DONE:
        task.milestones.filter(done_on__isnull=True).update(done_on=task.completed_on)
    _journal(task, user, UpdateKind.STATUS, old_status=old, new_status=status, text=comment)
    return task


# ---------------------------------------------------------------- the task sheet (任务分工表)


@transaction.atomic
def import_task_sheet(
    plan: Plan, content: bytes, *, user: User | None = None, name: str = ""
) -> excel.ImportResult:
    """Update the plan's tasks from a 任务分工表 (read by `excel.read_task_sheet`): rows are
    matched by 序号, new numbers add tasks. Any error in any row rejects the whole file; each
    error names its row and column."""
    result, items = excel.read_task_sheet(content, name=name)
    if not result.errors:
        apply_task_rows(plan, items, result, user)
    return result


def apply_task_rows(
    plan: Plan, items: list[dict], result: excel.ImportResult, user: User | None
) -> None:
    """Create or update the tasks of checked sheet rows, counting them in `result`."""
    existing = {t.number: t for t in plan.tasks.all()}
    position = max((t.position for t in existing.values()), default=0)
    for item in items:
        task = existing.get(item["number"])
        if task is None:
            position += 1
            task = Task(plan=plan, number=item["number"], position=position)
            result.created += 1
        else:
            result.updated += 1
        task.title_zh = item["title"]
        task.deadline = item["deadline"]
        _set_sheet_status(task, item["status"], user)
        task.save()
        task.lead.set(item["lead"])
        task.support.set(item["support"])


def _set_sheet_status(task: Task, status: str | None, user: User | None) -> None:
    # An ended plan's final states read back as what they mean: done, or not done.
    status = {FinalStatus.DONE_LATE: TaskStatus.DONE, FinalStatus.NOT_DONE: TaskStatus.OVERDUE}.get(
        status, status
    )
    # 已逾期 is derived from the deadline; it says "not done" and leaves the stored status.
    if status is None or status == TaskStatus.OVERDUE:
        if status == TaskStatus.OVERDUE and task.status == TaskStatus.DONE:
            status = TaskStatus.IN_PROGRESS
        else:
            return
    if task.status == status:
        return
    if task.pk:
        _journal(task, user, UpdateKind.STATUS, old_status=task.status, new_status=status,
                 text="任务分工表")  # fmt: skip
    task.status = status
    task.completed_on = timezone.localdate() if status == TaskStatus.DONE else None


def add_comment(task: Task, *, user: User | None, text: str) -> TaskUpdate:
    text = text.strip()
    if not text:
        raise PlanError(_("A comment cannot be empty."))
    return _journal(task, user, UpdateKind.COMMENT, text=text)


def complete_milestone(milestone: Milestone, *, on: date | None = None) -> Milestone:
    milestone.done_on = on or date.today()
    milestone.save(update_fields=["done_on"])
    return milestone


# ---------------------------------------------------------------- evidence


Period = tuple[date, "date | None"]


def evidence_kind_for(*, task: Task | None = None, pack: str = "", indicator: str = "") -> str:
    """What evidence for a task or an item needs: the item's kind; for a task, "annual" when
    any evidence item it is linked to needs the year's records, else "standing"."""
    if task is None:
        info = find_indicator(pack, indicator)
        return (info.evidence_kind if info else "") or EvidenceKind.STANDING
    for link in task.indicator_links.all():
        info = find_indicator(link.pack, link.indicator)
        if info is not None and info.evidence_kind == EvidenceKind.ANNUAL:
            return EvidenceKind.ANNUAL
    return EvidenceKind.STANDING


def default_period(kind: str, day: date | None = None) -> Period:
    """This year's records for an annual item, else a document valid from `day` (today)."""
    day = day or timezone.localdate()
    return year_bounds(day.year) if kind == EvidenceKind.ANNUAL else (day, None)


def _checked_period(period: Period | None, kind: str) -> Period:
    if period is None:
        return default_period(kind)
    start, end = period
    if start is None:
        raise PlanError(_("Say from when the evidence is valid."))
    if end is not None and end < start:
        raise PlanError(_("The period covered ends before it starts."))
    if kind == EvidenceKind.ANNUAL and end is None:
        raise PlanError(_("This item needs the records of a year: give the year they cover."))
    return start, end


@transaction.atomic
def upload_evidence(
    *,
    orgunit: OrgUnit,
    name: str,
    content: bytes,
    user: User | None,
    task: Task | None = None,
    pack: str = "",
    indicator: str = "",
    description: str = "",
    period: Period | None = None,
) -> Evidence:
    """Store an evidence file for a task, or for an indicator's evidence item (`pack`,
    `indicator`), covering `period` (start, end or None for a standing document; by default
    this year for an item needing the year's records, else valid from today). Raises
    EvidenceFileError (wrong type, too large, empty) or PlanError."""
    checked = check_file(name, content)
    if task is None and find_indicator(pack, indicator) is None:
        raise PlanError(_("Unknown indicator %(ref)s.") % {"ref": f"{pack}/{indicator}"})
    start, end = _checked_period(
        period, evidence_kind_for(task=task, pack=pack, indicator=indicator)
    )
    evidence = Evidence(
        orgunit=orgunit,
        task=task,
        pack=pack if task is None else "",
        indicator=indicator if task is None else "",
        name=checked.name,
        content_type=checked.content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        description=description.strip()[:300],
        period_start=start,
        period_end=end,
        uploaded_by=user,
        uploaded_at=timezone.now(),
    )
    # The stored name is random: nothing the uploader typed reaches the file system.
    evidence.file.save(f"{uuid.uuid4().hex}.{checked.kind}", ContentFile(content), save=False)
    evidence.save()
    if task is not None:
        _journal(task, user, UpdateKind.EVIDENCE, text=f"{evidence.name} ({evidence.period_label})")
    return evidence


@transaction.atomic
def review_evidence(
    evidence: Evidence,
    *,
    user: User,
    accept: bool,
    comment: str = "",
    period: Period | None = None,
) -> Evidence:
    """Accept or reject evidence; the reviewer may correct the period it covers. Accepting a
    standing document for an item replaces the item's earlier open-ended documents: they stay
    valid until the day before the new one's date."""
    if not accept and not comment.strip():
        raise PlanError(_("Say why the evidence is rejected."))
    evidence = Evidence.objects.select_for_update().get(pk=evidence.pk)
    before = evidence.period_label
    if period is not None:
        kind = evidence_kind_for(
            task=evidence.task, pack=evidence.pack, indicator=evidence.indicator
        )
        evidence.period_start, evidence.period_end = _checked_period(period, kind)
    evidence.status = EvidenceStatus.ACCEPTED if accept else EvidenceStatus.REJECTED
    evidence.reviewed_by = user
    evidence.reviewed_at = timezone.now()
    evidence.review_comment = comment.strip()
    evidence.save(
        update_fields=[
            "status", "reviewed_by", "reviewed_at", "review_comment", "period_start", "period_end"
        ]
    )  # fmt: skip
    replaced = _replace_standing(evidence) if accept else []
    detail = f"evidence {evidence.pk} {evidence.status} covering {evidence.period_label}"
    if evidence.period_label != before:
        detail += f" (was {before})"
    if replaced:
        detail += "; replaces " + ", ".join(str(pk) for pk in replaced)
    record_event(EventKind.EVIDENCE_DECISION, user=user, orgunit=evidence.orgunit, detail=detail)
    if evidence.task_id:
        verdict = _("accepted") if accept else _("rejected")
        text = f"{evidence.name} ({evidence.period_label}): {verdict}"
        text += f" — {evidence.review_comment}" if comment else ""
        _journal(evidence.task, user, UpdateKind.REVIEW, text=text)
    return evidence


def _replace_standing(evidence: Evidence) -> list[int]:
    """Close the item's earlier accepted open-ended documents at the new one's date."""
    if evidence.period_end is not None or not evidence.indicator:
        return []
    earlier = Evidence.objects.filter(
        orgunit=evidence.orgunit,
        pack=evidence.pack,
        indicator=evidence.indicator,
        status=EvidenceStatus.ACCEPTED,
        period_end__isnull=True,
        period_start__lt=evidence.period_start,
    ).exclude(pk=evidence.pk)
    replaced = list(earlier.values_list("pk", flat=True))
    earlier.update(period_end=evidence.period_start - timedelta(days=1))
    return replaced


@transaction.atomic
def withdraw_evidence(evidence: Evidence, *, user: User, on: date, reason: str) -> Evidence:
    """A standing document withdrawn (revoked, superseded outside Xinglin): it covers no day
    after `on`."""
    if not reason.strip():
        raise PlanError(_("Say why the document is withdrawn."))
    evidence = Evidence.objects.select_for_update().get(pk=evidence.pk)
    if on < evidence.period_start:
        raise PlanError(_("A document cannot be withdrawn before the date it is valid from."))
    before = evidence.period_label
    evidence.period_end = on
    evidence.save(update_fields=["period_end"])
    record_event(
        EventKind.EVIDENCE_DECISION,
        user=user,
        orgunit=evidence.orgunit,
        detail=f"evidence {evidence.pk} withdrawn on {on.isoformat()} (was {before}): {reason}",
    )
    if evidence.task_id:
        _journal(evidence.task, user, UpdateKind.REVIEW, text=f"{evidence.name}: {reason}")
    return evidence


def item_q(pack: str, indicators: list[str] | None = None) -> Q:
    """The evidence of a pack's items: attached to the item, or to a task linked to it."""
    direct = Q(pack=pack)
    linked = Q(task__indicator_links__pack=pack)
    if indicators is not None:
        direct &= Q(indicator__in=indicators)
        linked &= Q(task__indicator_links__indicator__in=indicators)
    return direct | linked


def _evidence_for(orgunit: OrgUnit, pack: str, indicators: list[str] | None = None):
    return Evidence.objects.filter(orgunit=orgunit).filter(item_q(pack, indicators))


def _status_of(statuses: set[str]) -> str:
    if EvidenceStatus.ACCEPTED in statuses:
        return "met"
    if statuses == {EvidenceStatus.REJECTED}:
        return "not_met"
    return "awaiting_evidence"


def _as_orgunit(orgunit: OrgUnit | str) -> OrgUnit | None:
    if isinstance(orgunit, OrgUnit):
        return orgunit
    return OrgUnit.objects.filter(code=orgunit).first()


def evidence_status(
    orgunit: OrgUnit | str, pack: str, indicator_id: str, *, year: int | None = None
) -> str:
    """ "met" when a reviewer accepted evidence for the indicator covering `year` (attached to
    the item itself or to a task of `orgunit`'s plans linked to it), "not_met" when all its
    evidence covering `year` was rejected, else "awaiting_evidence"."""
    return evidence_statuses(orgunit, pack, [indicator_id], year=year)[indicator_id]


def evidence_statuses(
    orgunit: OrgUnit | str, pack: str, indicator_ids: list[str], *, year: int | None = None
) -> dict[str, str]:
    """evidence_status for several indicators of one pack in one query. `year`: the year
    being judged; only evidence covering it counts (Evidence.covers, by what each item needs).
    `year=None` counts all evidence whatever its period: only for callers with no year."""
    unit = _as_orgunit(orgunit)
    found: dict[str, set[str]] = {i: set() for i in indicator_ids}
    if unit is not None:
        rows = _evidence_for(unit, pack, list(indicator_ids)).values_list(
            "indicator", "task__indicator_links__indicator", "status", "period_start", "period_end"
        )
        for direct, linked, status, start, end in rows:
            for ident in {direct, linked} & set(found):
                kind = evidence_kind_for(pack=pack, indicator=ident)
                if year is None or period_covers(start, end, year, kind):
                    found[ident].add(status)
    return {ident: _status_of(statuses) for ident, statuses in found.items()}


def evidence_statuses_for_units(
    units: list[OrgUnit | str], pack: str, indicator_ids: list[str], *, year: int | None = None
) -> dict[str, dict[str, str]]:
    """evidence_statuses for several org units (a city evaluation's counties): code ->
    indicator -> status. Each unit goes through evidence_statuses, so one rule decides."""
    found = {}
    for unit in units:
        code = unit.code if isinstance(unit, OrgUnit) else str(unit)
        found[code] = evidence_statuses(unit, pack, indicator_ids, year=year)
    return found


def evidence_for_item(orgunit: OrgUnit, pack: str, indicator: str, year: int | None = None):
    """The evidence of one item (attached to it or to a linked task), newest first; with
    `year`, only the evidence covering that year — what evidence_status judges on."""
    rows = (
        _evidence_for(orgunit, pack, [indicator])
        .select_related("uploaded_by", "reviewed_by", "task")
        .distinct()
        .order_by("-uploaded_at", "-id")
    )
    if year is None:
        return list(rows)
    kind = evidence_kind_for(pack=pack, indicator=indicator)
    return [e for e in rows if e.covers(year, kind)]


# ---------------------------------------------------------------- rectification


def meets_target(value: float | None, target: str) -> bool | None:
    """Whether `value` meets a pack target such as ">= 35%" (percent values are fractions);
    None when either is missing or the target is not a simple comparison."""
    if value is None or not target:
        return None
    try:
        return parse_target(target).is_met(value)
    except TargetError:
        return None


@transaction.atomic
def create_rectification(
    *,
    orgunit: OrgUnit,
    pack: str,
    indicator: str,
    owner: Department,
    measure: str,
    deadline: date,
    user: User | None,
    value: float | None = None,
    period: str = "",
) -> RectificationTask:
    info = find_indicator(pack, indicator)
    if info is None:
        raise PlanError(_("Unknown indicator %(ref)s.") % {"ref": f"{pack}/{indicator}"})
    if not measure.strip():
        raise PlanError(_("Describe the rectification measure."))
    return RectificationTask.objects.create(
        orgunit=orgunit,
        pack=pack,
        indicator=indicator,
        indicator_name=info.name_zh,
        target=info.target,
        period=period,
        owner=owner,
        measure=measure.strip(),
        deadline=deadline,
        value_at_creation=value,
        created_by=user,
        created_at=timezone.now(),
    )


def start_rectification(item: RectificationTask) -> RectificationTask:
    if item.status == RectificationStatus.OPEN:
        item.status = RectificationStatus.IN_PROGRESS
        item.save(update_fields=["status"])
    return item


@transaction.atomic
def close_rectification(
    item: RectificationTask, *, user: User | None, value: float | None, note: str = ""
) -> RectificationTask:
    if item.status == RectificationStatus.CLOSED:
        raise PlanError(_("This rectification task is already closed."))
    item.status = RectificationStatus.CLOSED
    item.value_at_closure = value
    item.closure_note = note.strip()
    item.closed_by = user
    item.closed_at = timezone.now()
    item.save()
    return item


def load_adopted_plan(sender, *, orgunit: OrgUnit, pack_code: str, **kwargs) -> None:
    """A unit adopted a document (standards' `pack_adopted`): load the plan of the same code
    there (tasks, deadlines), inside the adoption's transaction."""
    pack = next((p for p in read_packs() if p.code == pack_code), None)
    if pack is not None:
        load_departments()
        load_plan(pack, orgunit)
