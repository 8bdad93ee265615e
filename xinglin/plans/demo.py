"""Demo: each place's own plan loaded for its own root (issue 19) with progress as it stands
today (the real date). A plan whose period has ended shows its final state: tasks done on
time, done late, or not done; a plan still running shows work in progress. Each place's
evidence items are partly accepted, partly awaiting review, one rejected; the place's failing
indicators of its last complete year get rectification tasks, their values from the engine."""

from __future__ import annotations

import functools
import io
import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from xinglin.demo import DemoContext, Place
from xinglin.network.actions import create_user
from xinglin.network.models import Membership, OrgUnit, Role
from xinglin.plans.actions import (
    create_rectification,
    evidence_kind_for,
    load_departments,
    load_plan,
    review_evidence,
    start_rectification,
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
# 盐池县's liaisons besides the network step's `education` (education_sports).
LIAISONS = [
    ("yibao", "medical_insurance", "县医保局联络员"),
    ("canlian", "disabled_persons_federation", "县残联联络员"),
]
# Share of a place's tasks done by their deadline, and done late; the rest were not done.
ON_TIME = {"yanchi": 0.70, "huimin": 0.80, "tunliu": 0.55, "zhongwei": 0.65, "yanjiang": 0.85}
LATE = 0.15
# Evidence items: most accepted; these wait for review or were rejected.
PENDING = {
    "demo-county-2022": ["organisation.creation_plan", "development.talent_policy",
                         "development.land_use"],
    "capacity-2021-2025": ["capacity.final_evaluation"],
    "rehab-2021-2025": ["rehab.heritage_studio"],
}  # fmt: skip
REJECTED = {"demo-county-2022": ["development.medical_insurance"]}
RECTIFICATIONS_PER_PLACE = 2


def build(context: DemoContext) -> None:
    load_departments()
    packs = {pack.code: pack for pack in read_packs()}
    today = timezone.localdate()
    for place in context.places:
        root = OrgUnit.objects.get(code=place.root)
        users = _users(context, place, root)
        if users["bureau"] is None:
            continue
        _forget_other_places(root)
        plans = [load_plan(packs[code], root).plan for code in place.plans]
        for plan in plans:
            _progress(plan, users, today, ON_TIME[place.key])
        _evidence_items(root, place, users["bureau"])
        _rectifications(root, place, users["bureau"])
        tasks = Task.objects.filter(plan__orgunit=root)
        context.log.append(
            f"plans: {place.name} {len(plans)} plan(s), "
            f"{tasks.filter(status=TaskStatus.DONE).count()}/{tasks.count()} tasks done, "
            f"{Evidence.objects.filter(orgunit=root).count()} evidence files"
        )


def _forget_other_places(root: OrgUnit) -> None:
    """Earlier demos loaded all five plans into 盐池县; a re-run on such a database removes
    the demo's copies of other places' plans, evidence items and rectifications there, so the
    place's task lists and reports speak of its own programmes only (demo data, not facts)."""
    from xinglin.standards.actions import is_other_place

    other = {p.pack for p in Plan.objects.filter(orgunit=root) if is_other_place(root, p.pack)}
    other |= {
        pack
        for pack in Evidence.objects.filter(orgunit=root, task=None).values_list("pack", flat=True)
        if is_other_place(root, pack)
    }
    if other:
        Evidence.objects.filter(orgunit=root, task=None, pack__in=other).delete()
        RectificationTask.objects.filter(orgunit=root, pack__in=other).delete()
        Plan.objects.filter(orgunit=root, pack__in=other).delete()


def _users(context: DemoContext, place: Place, root: OrgUnit) -> dict:
    if place.key == "yanchi":
        for username, department, name in LIAISONS:
            create_user(
                username, PASSWORD, role=Role.DEPARTMENT_LIAISON, orgunit=root,
                department=department, full_name=name,
            )  # fmt: skip
            context.login(place.name, username, PASSWORD, str(Role.DEPARTMENT_LIAISON.label))
    liaisons = {
        m.department: m.user
        for m in Membership.objects.filter(role=Role.DEPARTMENT_LIAISON, orgunit=root)
    }
    bureau = Membership.objects.filter(role=Role.BUREAU_ADMIN, orgunit=root).order_by("pk")
    return {"bureau": bureau.first().user if bureau.exists() else None, "liaisons": liaisons}


def _progress(plan: Plan, users: dict, today: date, on_time: float) -> None:
    """Deterministic per task (seeded by plan and task number)."""
    for task in plan.tasks.prefetch_related("lead", "support"):
        rng = random.Random(f"{plan.pack}:{task.number}")
        status, finished = target_state(task, plan, rng, today, on_time)
        user = _uploader(task, users)
        if task.status != status or (finished and task.completed_on != finished):
            update_task_status(task, status, user=user, on=finished)
            _backdate(task, finished or min(today, plan.end) - timedelta(days=rng.randint(3, 60)))
        if status == TaskStatus.DONE and not task.evidence.exists():
            _evidence_for_task(task, user, users["bureau"], rng, finished)


def target_state(
    task: Task, plan: Plan, rng: random.Random, today: date, on_time: float
) -> tuple[str, date | None]:
    """A task's status and completion day as the demo tells it. Tasks due before today are
    done on time, done late or not done; tasks due later are in progress (or done early)."""
    deadline = task.deadline or plan.end
    if deadline >= today:
        if rng.random() < 0.25:
            return TaskStatus.DONE, today - timedelta(days=rng.randint(5, 60))
        return TaskStatus.IN_PROGRESS, None
    roll = rng.random()
    if roll < on_time:
        earliest = max(plan.start, deadline - timedelta(days=90))
        return TaskStatus.DONE, earliest + timedelta(
            days=rng.randint(0, (deadline - earliest).days)
        )
    if roll < on_time + LATE:
        late = deadline + timedelta(days=rng.randint(10, 120))
        return TaskStatus.DONE, min(late, today - timedelta(days=1))
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
        content=_pdf(task.plan.title_zh, "工作总结及佐证材料"),
        user=uploader,
        description="工作总结及佐证材料",
    )
    if rng.random() < 0.35:
        photo = upload_evidence(
            orgunit=task.plan.orgunit,
            task=task,
            name=f"{task.number} 现场照片.png",
            content=_png(),
            user=uploader,
        )
        Evidence.objects.filter(pk=photo.pk).update(uploaded_at=_at(day))
    roll = rng.random()
    if roll < 0.75:
        review_evidence(evidence, user=reviewer, accept=True, comment="材料齐全")
    elif roll < 0.85:
        review_evidence(evidence, user=reviewer, accept=False, comment="缺少盖章文件，请补充")
    Evidence.objects.filter(pk=evidence.pk).update(uploaded_at=_at(day))


def _evidence_items(root: OrgUnit, place: Place, reviewer) -> None:
    """Dated evidence for every evidence item of the place's packs: a standing document valid
    from the place's first year, or one file of records per year for an item asking for the
    year's records (through this year). Accepted, except those PENDING (uploaded, awaiting
    review) and REJECTED."""
    from xinglin.standards.loader import get_pack

    today = timezone.localdate()
    for pack_code, _since in place.packs:
        items = [i.id for i in get_pack(pack_code).indicators if i.kind == "evidence"]
        for indicator in items:
            if Evidence.objects.filter(orgunit=root, pack=pack_code, indicator=indicator).exists():
                continue
            if evidence_kind_for(pack=pack_code, indicator=indicator) == EvidenceKind.ANNUAL:
                years = range(min(place.years), today.year + 1)
                periods = [year_bounds(year) for year in years]
            else:
                periods = [(date(min(place.years), 3, 1), None)]
            title = _item_title(pack_code, indicator)  # files named as people name them
            for start, end in periods:
                evidence = upload_evidence(
                    orgunit=root, pack=pack_code, indicator=indicator,
                    name=f"{title}（{start.year}年度）.pdf" if end else f"{title}.pdf",
                    content=_pdf(pack_code, "佐证材料"), user=reviewer, description="佐证材料",
                    period=(start, end),
                )  # fmt: skip
                if indicator in REJECTED.get(pack_code, []):
                    review_evidence(
                        evidence, user=reviewer, accept=False, comment="文件未体现中医药内容"
                    )
                elif indicator not in PENDING.get(pack_code, []):
                    review_evidence(evidence, user=reviewer, accept=True, comment="符合标准")


def _item_title(pack: str, indicator: str) -> str:
    from xinglin.plans.indicators import find_indicator

    info = find_indicator(pack, indicator)
    return (info.name_zh if info and info.name_zh else "佐证材料")[:40]


def _rectifications(root: OrgUnit, place: Place, user) -> None:
    """Rectification tasks for the first computed indicators the engine finds not met for the
    place in its last year, each recording the engine's value; the first one is under way."""
    from xinglin.evaluation.engine import evaluate

    if RectificationTask.objects.filter(orgunit=root).exists():
        return
    year = str(max(place.years))
    owner = Department.objects.get(code="health_commission")
    made = []
    for pack_code, _since in place.packs:
        evaluation = evaluate(pack_code, root, year, tree=False)
        for result in evaluation.at(root.code):
            if result.status != "not_met" or result.value is None:
                continue
            if len(made) >= RECTIFICATIONS_PER_PLACE:
                break
            made.append(create_rectification(
                orgunit=root, pack=pack_code, indicator=result.indicator, owner=owner,
                measure=f"{result.name}未达标：制定整改方案，明确责任机构和完成时限，逐月跟踪。",
                deadline=date(max(place.years) + 2, 6, 30), user=user, value=result.value,
                period=year,
            ))  # fmt: skip
    if made:
        start_rectification(made[0])


@functools.lru_cache(maxsize=16)
def _pdf(title: str, body: str) -> bytes:
    """A one-page PDF (real, small; rendered once per title) naming the plan or pack, in the
    CJK font when there is one."""
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


@functools.lru_cache(maxsize=1)
def _png() -> bytes:
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
