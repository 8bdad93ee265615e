"""Demo: the five plans loaded for 盐池县 with progress as it might stand today — most tasks
past their deadline done with evidence, some overdue, a few rectification tasks, and the
demo-county standard's evidence items partly accepted, partly awaiting review."""

from __future__ import annotations

import io
import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from xinglin.network.actions import create_user
from xinglin.network.models import Membership, OrgUnit, Role
from xinglin.plans.actions import (
    create_rectification,
    default_period,
    evidence_kind_for,
    load_departments,
    load_plan,
    review_evidence,
    update_task_status,
    upload_evidence,
)
from xinglin.plans.models import (
    Department,
    Evidence,
    EvidenceKind,
    Plan,
    RectificationTask,
    Task,
    TaskStatus,
    TaskUpdate,
    year_bounds,
)
from xinglin.plans.packs import read_packs

PASSWORD = "Xinglin-2026"
# Liaisons besides the network step's `education` (education_sports).
LIAISONS = [
    ("yibao", "medical_insurance", "县医保局联络员"),
    ("canlian", "disabled_persons_federation", "县残联联络员"),
]
# demo-county evidence items: accepted, awaiting review, rejected (item 1 accepted).
ACCEPTED_ITEMS = [
    "organisation.development_plan",
    "organisation.study_and_implementation",
    "organisation.joint_meeting_mechanism",
    "development.administrative_department",
    "development.funding",
    "development.publicity",
]
PENDING_ITEMS = ["organisation.creation_plan", "development.talent_policy", "development.land_use"]
REJECTED_ITEMS = ["development.medical_insurance"]
# Annual items whose records of the current year are not yet uploaded.
RECORDS_LACKING_LAST_YEAR = ["development.funding"]
# (pack, indicator, owner, measure, deadline, value at creation, value at closure or None)
RECTIFICATIONS = [
    (
        "demo-county-2022",
        "grassroots.tcm_visit_share",
        "health_commission",
        "乡镇卫生院中医诊疗人次占比未达35%：增派县中医医院医师坐诊，推广针灸推拿项目纳入医保报销。",
        date(2027, 3, 31),
        0.312,
        None,
    ),
    (
        "demo-county-2022",
        "system.station_clinic_tcm_corner",
        "health_commission",
        "村卫生室中医阁建设不足10%：2026年内在4个村卫生室建成中医阁。",
        date(2026, 10, 31),
        0.06,
        0.12,
    ),
    (
        "rehab-2021-2025",
        "rehab.tcm_hospital_rehab_beds",
        "health_commission",
        "县中医医院康复病床34张，未达40张：扩建康复病区增设病床8张。",
        date(2026, 12, 31),
        34.0,
        None,
    ),
]


def build(context) -> None:
    county = OrgUnit.objects.get(code=context.county_code)
    load_departments()
    plans = [load_plan(pack, county).plan for pack in read_packs()]
    users = _users(context, county)
    today = timezone.localdate()
    for plan in plans:
        _progress(plan, users, today)
    _evidence_items(county, users)
    _rectifications(county, users["bureau"])
    done = Task.objects.filter(plan__orgunit=county, status=TaskStatus.DONE).count()
    total = Task.objects.filter(plan__orgunit=county).count()
    context.log.append(
        f"plans: {len(plans)} plans, {done}/{total} tasks done, "
        f"{Evidence.objects.filter(orgunit=county).count()} evidence files"
    )


def _users(context, county: OrgUnit) -> dict:
    from django.contrib.auth.models import User

    for username, department, name in LIAISONS:
        if not User.objects.filter(username=username).exists():
            user = create_user(
                username,
                PASSWORD,
                role=Role.DEPARTMENT_LIAISON,
                orgunit=county,
                department=department,
            )
            user.first_name = name
            user.save(update_fields=["first_name"])
        context.logins.append((username, PASSWORD, str(Role.DEPARTMENT_LIAISON.label)))
    liaisons = {
        m.department: m.user
        for m in Membership.objects.filter(role=Role.DEPARTMENT_LIAISON, orgunit=county)
    }
    return {"bureau": User.objects.get(username="bureau"), "liaisons": liaisons}


def _progress(plan: Plan, users: dict, today: date) -> None:
    """Deterministic per task: most tasks past their deadline are done, some are overdue."""
    for task in plan.tasks.prefetch_related("lead", "support"):
        rng = random.Random(f"{plan.pack}:{task.number}")
        status, finished = _target_state(task, rng, today)
        user = _uploader(task, users)
        if task.status != status:
            update_task_status(task, status, user=user, on=finished)
            _backdate(task, finished or today - timedelta(days=rng.randint(3, 60)))
        if status == TaskStatus.DONE and not task.evidence.exists():
            _evidence_for_task(task, user, users["bureau"], rng, finished)


def _target_state(task: Task, rng: random.Random, today: date) -> tuple[str, date | None]:
    deadline = task.deadline
    if deadline is None:
        roll = rng.random()
        if roll < 0.45:
            return TaskStatus.DONE, today - timedelta(days=rng.randint(30, 900))
        return (TaskStatus.IN_PROGRESS if roll < 0.9 else TaskStatus.NOT_STARTED), None
    if deadline >= today:
        return TaskStatus.IN_PROGRESS, None
    if rng.random() < 0.78:
        return TaskStatus.DONE, deadline - timedelta(days=rng.randint(0, 90))
    return (TaskStatus.IN_PROGRESS if rng.random() < 0.7 else TaskStatus.NOT_STARTED), None


def _uploader(task: Task, users: dict):
    for department in list(task.lead.all()) + list(task.support.all()):
        if department.code in users["liaisons"]:
            return users["liaisons"][department.code]
    return users["bureau"]


def _at(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(10, 30)))


def _backdate(task: Task, day: date) -> None:
    TaskUpdate.objects.filter(task=task).update(at=_at(day))


def _evidence_for_task(task, uploader, reviewer, rng: random.Random, day: date | None) -> None:
    day = day or timezone.localdate()
    evidence = upload_evidence(
        orgunit=task.plan.orgunit,
        task=task,
        name=f"{task.number} {task.title_zh[:20]}.pdf",
        content=_pdf(f"{task.plan.pack} {task.number}", task.title_zh),
        user=uploader,
        description="工作总结及佐证材料",
        period=default_period(evidence_kind_for(task=task), day),
    )
    if rng.random() < 0.35:
        photo = upload_evidence(
            orgunit=task.plan.orgunit,
            task=task,
            name=f"{task.number} 现场照片.png",
            content=_png(task.number),
            user=uploader,
            period=default_period(evidence_kind_for(task=task), day),
        )
        Evidence.objects.filter(pk=photo.pk).update(uploaded_at=_at(day))
    roll = rng.random()
    if roll < 0.75:
        review_evidence(evidence, user=reviewer, accept=True, comment="材料齐全")
    elif roll < 0.85:
        review_evidence(evidence, user=reviewer, accept=False, comment="缺少盖章文件，请补充")
    Evidence.objects.filter(pk=evidence.pk).update(uploaded_at=_at(day))


def _evidence_items(county: OrgUnit, users: dict) -> None:
    """Dated evidence: a standing document valid from its date, or one file of records per
    year for an item asking for the year's records (the last year missing for one item, so
    the demo shows an item met in earlier years and awaiting evidence in the latest)."""
    reviewer = users["bureau"]
    pack = "demo-county-2022"
    today = timezone.localdate()
    for indicator in ACCEPTED_ITEMS + PENDING_ITEMS + REJECTED_ITEMS:
        if Evidence.objects.filter(orgunit=county, pack=pack, indicator=indicator).exists():
            continue
        if evidence_kind_for(pack=pack, indicator=indicator) == EvidenceKind.ANNUAL:
            last = today.year - 1 if indicator in RECORDS_LACKING_LAST_YEAR else today.year
            periods = [year_bounds(year) for year in range(today.year - 3, last + 1)]
        else:
            periods = [(date(today.year - 3, 3, 1), None)]
        for start, end in periods:
            evidence = upload_evidence(
                orgunit=county,
                pack=pack,
                indicator=indicator,
                name=f"{indicator} {start.year}.pdf" if end else f"{indicator}.pdf",
                content=_pdf(pack, indicator),
                user=reviewer,
                description="佐证材料",
                period=(start, end),
            )
            if indicator in ACCEPTED_ITEMS:
                review_evidence(evidence, user=reviewer, accept=True, comment="符合标准")
            elif indicator in REJECTED_ITEMS:
                review_evidence(
                    evidence, user=reviewer, accept=False, comment="文件未体现中医药内容"
                )


def _rectifications(county: OrgUnit, user) -> None:
    from xinglin.plans.actions import close_rectification

    for pack, indicator, owner, measure, deadline, before, after in RECTIFICATIONS:
        if RectificationTask.objects.filter(
            orgunit=county, pack=pack, indicator=indicator
        ).exists():
            continue
        item = create_rectification(
            orgunit=county,
            pack=pack,
            indicator=indicator,
            owner=Department.objects.get(code=owner),
            measure=measure,
            deadline=deadline,
            user=user,
            value=before,
            period="2025",
        )
        if after is not None:
            close_rectification(item, user=user, value=after, note="复核达标")


def _pdf(title: str, body: str) -> bytes:
    """A one-page PDF (real, small) naming the task, in the CJK font when there is one."""
    from matplotlib import font_manager
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5.8, 2))
    font = _cjk_font(font_manager)
    if font is None:  # no CJK font: keep the text the default font can draw
        title, body = title.encode("ascii", "ignore").decode(), ""
    figure.text(0.05, 0.7, title, fontsize=12, fontproperties=font)
    figure.text(0.05, 0.4, body, fontsize=10, fontproperties=font)
    out = io.BytesIO()
    figure.savefig(out, format="pdf")
    return out.getvalue()


def _png(label: str) -> bytes:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(2, 1.5))
    axes = figure.add_subplot()
    axes.bar([1, 2, 3], [3, 5, 4], color="#2f6f4f")
    axes.set_xticks([])
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=60)
    return out.getvalue()


def _cjk_font(font_manager):
    for entry in font_manager.fontManager.ttflist:
        if "CJK SC" in entry.name:
            return font_manager.FontProperties(fname=entry.fname)
    return None
