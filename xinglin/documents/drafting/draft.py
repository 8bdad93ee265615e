"""The first draft of a report's narrative sections, written from live data.

Every figure comes from the engine's evaluation already gathered for the document
(`gather.ReportData`: this year's and earlier years' results); plan facts (tasks, milestones,
evidence, rectification) from the plans app; activity counts (survey responses, institutions
delivering techniques) are counted from their records. Nothing is computed here that the engine
computes. Each sentence carries its sources; a paragraph's fingerprint is the state of its
sources, so that a stored paragraph whose figures have since changed can be marked stale.
The wording is in the YAML templates (templates.py), never here."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.db.models import Count, Q
from django.urls import reverse

from xinglin.collection import completeness, rules
from xinglin.collection.forms import Form, expected_orgunits
from xinglin.collection.models import DeliveredTechnique, Submission
from xinglin.documents.drafting import numbers
from xinglin.documents.drafting.templates import Templates
from xinglin.documents.figures import Figure, PackInfo
from xinglin.documents.gather import PackData, ReportData
from xinglin.documents.models import ReportKind
from xinglin.documents.progress import _beneath
from xinglin.network.models import Kind, OrgUnit
from xinglin.plans.actions import evidence_kind_for
from xinglin.plans.models import (
    Evidence,
    EvidenceStatus,
    Milestone,
    Plan,
    RectificationStatus,
    RectificationTask,
    Task,
    TaskStatus,
)
from xinglin.plans.queries import plan_counts, status_q
from xinglin.surveys.models import SurveyResponse

MAX_NAMES = 5  # institutions named in one sentence before "等N家"
MAX_PROGRESS = 3  # institutions named for notable progress
MAX_LISTED = 8  # tasks or milestones listed in one sentence
UNMET = ("not_met",)
DATA_ERROR = "data_error"  # a status the engine may report for figures it cannot trust


@dataclass(frozen=True)
class Source:
    """Where a sentence's content comes from: `kind` figure | task | milestone | evidence |
    rectification | records; `ref` identifies it (a figure: pack/indicator/org unit/year);
    `label` is what a person reads; `state` is what the sentence depends on."""

    kind: str
    ref: str
    label: str
    url: str
    state: str

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "ref": self.ref, "label": self.label, "url": self.url,
                "state": self.state}  # fmt: skip


@dataclass
class Sentence:
    text: str
    sources: list[Source] = field(default_factory=list)


@dataclass
class Drafted:
    """One drafted paragraph of a section, identified by a key stable across drafts."""

    section: str
    key: str
    sentences: list[Sentence]

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.sentences)

    @property
    def sources(self) -> list[Source]:
        seen: dict[str, Source] = {}
        for sentence in self.sentences:
            for source in sentence.sources:
                seen.setdefault(f"{source.kind}:{source.ref}", source)
        return list(seen.values())

    @property
    def fingerprint(self) -> str:
        states = sorted(f"{s.kind}:{s.ref}={s.state}" for s in self.sources)
        return hashlib.sha256(json.dumps(states).encode()).hexdigest()[:32]

    def sentences_json(self) -> list[dict]:
        return [{"text": s.text, "sources": [x.as_json() for x in s.sources]}
                for s in self.sentences]  # fmt: skip


# ---------------------------------------------------------------- sources


def figure_source(pack: PackData, figure: Figure, data: ReportData, t: Templates) -> Source:
    unit_name = data.name_of(figure["orgunit"])
    title = pack.info.title_zh if t.language == "zh" else (pack.info.title_en or pack.info.title_zh)
    query = f"?orgunit={figure['orgunit']}&pack={figure['pack']}&period={figure['period']}"
    return Source(
        kind="figure",
        ref=f"{figure['pack']}/{figure['indicator']}/{figure['orgunit']}/{figure['period']}",
        label=f"《{title}》{figure['name']} · {unit_name} · {figure['period']}",
        url=reverse("evaluation:data") + query + f"&indicator={figure['indicator']}",
        state=f"{figure['value']}|{figure['status']}|{figure['target']}",
    )


def _task_source(task, as_of: date) -> Source:
    return Source("task", str(task.pk), f"{task.number} {task.title_zh}",
                  reverse("plans:task", args=[task.pk]),
                  f"{task.get_status(as_of)}|{task.completed_on}|{task.deadline}")  # fmt: skip


def _milestone_source(milestone) -> Source:
    return Source("milestone", str(milestone.pk), milestone.title_zh,
                  reverse("plans:plan", args=[milestone.plan_id]),
                  f"{milestone.done_on}|{milestone.due}")  # fmt: skip


def _evidence_source(item) -> Source:
    url = (reverse("plans:task", args=[item.task_id]) if item.task_id
           else reverse("plans:items", args=[item.orgunit.code, item.pack]))  # fmt: skip
    return Source("evidence", str(item.pk), item.name, url, f"{item.status}|{item.reviewed_at}")


def _rectification_source(item) -> Source:
    return Source("rectification", str(item.pk), item.indicator_name or item.indicator,
                  reverse("plans:rectification", args=[item.pk]),
                  f"{item.status}|{item.deadline}|{item.measure}")  # fmt: skip


# ---------------------------------------------------------------- helpers


def _departments(task_or_milestone, attribute: str = "lead") -> str:
    names = [_short(d.name_zh) for d in getattr(task_or_milestone, attribute).all()]
    return "、".join(names)


def _short(name: str) -> str:
    # "卫生健康行政部门（卫生健康委员会／卫生健康局）" → "卫生健康行政部门"
    return re.split(r"[（(]", name, maxsplit=1)[0] or name


def _area(number: str) -> str:
    """The task area of a task number: 三(一)2 → 三(一); 四(一) → 四."""
    stripped = re.sub(r"[0-9·].*$", "", number)
    if stripped != number:
        return stripped
    return re.sub(r"\([^()]*\)$", "", number)


def _as_of(year: int) -> date:
    return min(date.today(), date(year, 12, 31))


def _plans(orgunit: OrgUnit):
    return Plan.objects.filter(_beneath(orgunit)).select_related("orgunit")


def _meta(pack: PackData, figure: Figure):
    return pack.info.indicator(figure["indicator"])


def _previous(pack: PackData, figure: Figure, year: int) -> Figure | None:
    rows = pack.history.get(year - 1, [])
    return next((f for f in rows if f["indicator"] == figure["indicator"]), None)


def _quoted(names: list[str], t: Templates) -> str:
    return t.join([t.say("achievements.quoted", name=name) for name in names])


def _pack_title(info: PackInfo, t: Templates) -> str:
    return info.title_zh if t.language == "zh" else (info.title_en or info.title_zh)


def _computed(pack: PackData, figure: Figure) -> bool:
    meta = _meta(pack, figure)
    return meta is not None and meta.kind == "computed"


# ---------------------------------------------------------------- figures


def figure_sentence(pack: PackData, figure: Figure, data: ReportData, t: Templates) -> Sentence:
    """The year's figure with its change from last year and its target: 全县…达37.2%，较上年
    提高2.1个百分点，超过35%的目标。"""
    unit = figure["unit"]
    sources = [figure_source(pack, figure, data, t)]
    template = "achievements.figure" if unit == "percent" else "achievements.figure_plain"
    parts = [t.say(template, name=figure["name"], value=numbers.value(unit, figure["value"]))]
    before = _previous(pack, figure, data.year)
    if before is not None and before["value"] is not None and figure["value"] is not None:
        word, size, difference = numbers.change(unit, before["value"], figure["value"], t)
        sources.append(figure_source(pack, before, data, t))
        parts.append(t.say("achievements.change", direction=word, amount=size) if difference
                     else t.say("achievements.same"))  # fmt: skip
    goal = numbers.target(unit, figure["target"])
    if goal is not None and figure["status"] == "met":
        op, threshold = goal
        limit = numbers.threshold(unit, figure["target"])
        above = limit is not None and numbers.shown(unit, figure["value"]) != limit
        key = ("achievements.target_below_limit" if op in ("<=", "<")
               else "achievements.target_above" if above else "achievements.target_reached")  # fmt: skip
        parts.append(t.say(key, target=threshold))
    return Sentence(t.comma.join(parts) + t.end, sources)


def _why_words(why: str, t: Templates) -> str:
    """The engine's reason for one institution, already in words ("未达标：设有标准化中医馆 否"),
    without its status: what the sentence puts in brackets after the institution's name."""
    for colon in ("：", ": "):
        if colon in why:
            return why.partition(colon)[2].strip()
    return ""


def _held_back(pack: PackData, figure: Figure, data: ReportData, t: Templates) -> tuple[str, list]:
    """ ", mainly 大水坑镇卫生院（中医诊疗人次占比为22.0%）" — the institutions the engine lists as
    falling short, each with its own figure (or the raw figures behind it)."""
    failing = figure["failing"]
    if not failing:
        return "", []
    own = {f["orgunit"]: f for f in pack.figures if f["indicator"] == figure["indicator"]}
    names, sources = [], []
    for code in failing[:MAX_NAMES]:
        row = own.get(code)
        # an institution's own share of 0% or 100% is a yes/no: its raw figures say more
        yes_no = row is not None and row["unit"] == "percent" and row["value"] in (0.0, 1.0)
        if row is not None and row is not figure and row["value"] is not None and not yes_no:
            why = numbers.value(row["unit"], row["value"])
            sources.append(figure_source(pack, row, data, t))
        else:
            why = _why_words(figure.get("why", {}).get(code, ""), t)
        name = data.name_of(code)
        names.append(t.say("problems.reason", institution=name, why=why) if why else name)
    text = t.join(names)
    if len(failing) > MAX_NAMES:
        text += t.say("and_more", count=len(failing))
    return t.say("problems.held_back", institutions=text), sources


def problem_sentence(pack: PackData, figure: Figure, data: ReportData, t: Templates) -> Sentence:
    unit = figure["unit"]
    sources = [figure_source(pack, figure, data, t)]
    value = numbers.value(unit, figure["value"])
    goal = numbers.target(unit, figure["target"])
    meta = _meta(pack, figure)
    if not figure["due"] and goal is not None:
        text = t.say("problems.at_risk", name=figure["name"], value=value, target=goal[1],
                     deadline=meta.deadline if meta and meta.deadline else data.year)  # fmt: skip
    elif goal is not None:
        text = t.say("problems.not_met", name=figure["name"], value=value, target=goal[1],
                     gap=numbers.gap(unit, figure["gap"], t))  # fmt: skip
    else:
        text = t.say("problems.not_met_no_target", name=figure["name"], value=value)
    held, more = _held_back(pack, figure, data, t)
    return Sentence(text + held + t.end, sources + more)


# ---------------------------------------------------------------- sections


def _work_done(data: ReportData, t: Templates) -> list[Drafted]:
    as_of = _as_of(data.year)
    paragraphs: list[Drafted] = []
    for plan in _plans(data.orgunit):
        tasks = Task.objects.filter(plan=plan)
        counts = plan_counts(plan, tasks, as_of)
        overdue = (
            t.say("work_done.overdue_clause", overdue=counts.overdue) if counts.overdue else ""
        )
        intro = Sentence(t.say("work_done.plan", year=data.year, unit=plan.orgunit.name,
                               plan=plan.title_zh, total=counts.total, done=counts.done,
                               in_progress=counts.in_progress, overdue_clause=overdue,
                               as_of=numbers.day(as_of, t), start=numbers.day(plan.start, t)),
                         [_task_source(task, as_of) for task in tasks])  # fmt: skip
        paragraphs.append(Drafted("work_done", f"plan:{plan.pack}:{plan.orgunit.code}", [intro]))
        done = (tasks.filter(status=TaskStatus.DONE, completed_on__year=data.year)
                .prefetch_related("lead").order_by("position"))  # fmt: skip
        paragraphs += _areas(plan, list(done), t)
        paragraphs += _milestones_done(plan, Milestone, data.year, t)
    evidence = (Evidence.objects.filter(_plan_scope(data.orgunit), status=EvidenceStatus.ACCEPTED,
                                        reviewed_at__year=data.year)
                .select_related("task", "orgunit").order_by("reviewed_at"))  # fmt: skip
    if evidence:
        items = sorted({_evidence_subject(e, data) for e in evidence})
        sentence = Sentence(t.say("work_done.evidence", count=len(evidence),
                                  items=t.join(items[:MAX_LISTED])),
                            [_evidence_source(e) for e in evidence])  # fmt: skip
        paragraphs.append(Drafted("work_done", "evidence", [sentence]))
    paragraphs += _activity(data, t)
    if not paragraphs:
        text = t.say("work_done.nothing", year=data.year, unit=data.orgunit.name)
        paragraphs.append(Drafted("work_done", "nothing", [Sentence(text)]))
    return paragraphs


def _plan_scope(orgunit: OrgUnit) -> Q:
    return _beneath(orgunit)


def _evidence_subject(item, data: ReportData) -> str:
    if item.task_id:
        return item.task.title_zh
    for pack in data.packs:
        if pack.info.code == item.pack:
            meta = pack.info.indicator(item.indicator)
            if meta is not None:
                return meta.name_zh
    return item.name


def _areas(plan, done: list, t: Templates) -> list[Drafted]:
    groups: dict[tuple[str, str], list] = {}
    for task in done:
        groups.setdefault((task.category, _area(task.number)), []).append(task)
    paragraphs = []
    for (category, area), tasks in groups.items():
        label = (
            t.say(f"words.categories.{category}")
            if category in t.raw("words.categories")
            else t.say("words.categories.task")
        )
        # the pack writes 三(一) in ASCII; the document writes 三（一）
        shown = area.replace("(", "（").replace(")", "）") if t.language == "zh" else area
        opening = (t.say("work_done.area", category=label, area=shown, count=len(tasks)) if area
                   else t.say("work_done.area_plain", category=label, count=len(tasks)))  # fmt: skip
        items = [t.say("work_done.task", title=task.title_zh, departments=_departments(task),
                       date=numbers.day(task.completed_on, t)) for task in tasks]  # fmt: skip
        sentence = Sentence(opening + t.join(items) + t.end,
                            [_task_source(task, task.completed_on) for task in tasks])  # fmt: skip
        key = f"area:{plan.pack}:{plan.orgunit.code}:{category}:{area}"
        paragraphs.append(Drafted("work_done", key, [sentence]))
    return paragraphs


def _milestones_done(plan, model, year: int, t: Templates) -> list[Drafted]:
    done = list(model.objects.filter(plan=plan, done_on__year=year).order_by("done_on"))
    if not done:
        return []
    items = [t.say("work_done.milestone", title=m.title_zh, date=numbers.day(m.done_on, t))
             for m in done[:MAX_LISTED]]  # fmt: skip
    sentence = Sentence(t.say("work_done.milestones", count=len(done), items=t.join(items)),
                        [_milestone_source(m) for m in done])  # fmt: skip
    return [Drafted("work_done", f"milestones:{plan.pack}:{plan.orgunit.code}", [sentence])]


def _activity(data: ReportData, t: Templates) -> list[Drafted]:
    """Technique rollout and surveys run in the year, where records exist."""

    sentences = []
    beneath = {"orgunit__path__startswith": data.orgunit.path,
               "period__startswith": str(data.year)}  # fmt: skip
    delivering = (DeliveredTechnique.objects.filter(**beneath)
                  .values("orgunit").distinct().count())  # fmt: skip
    if delivering:
        ref = f"techniques/{data.orgunit.code}/{data.year}"
        sentences.append(Sentence(t.say("work_done.techniques", count=delivering),
                                  [Source("records", ref, t.say("work_done.techniques",
                                          count=delivering), "", str(delivering))]))  # fmt: skip
    surveys = (SurveyResponse.objects.filter(**beneath).values("instrument__code",
               "instrument__title_zh").annotate(n=Count("id")).order_by("instrument__code"))  # fmt: skip
    for row in surveys:
        ref = f"survey/{row['instrument__code']}/{data.orgunit.code}/{data.year}"
        url = reverse("surveys:instrument", args=[row["instrument__code"]])
        text = t.say("work_done.surveys", title=row["instrument__title_zh"], count=row["n"])
        sentences.append(Sentence(text, [Source("records", ref, row["instrument__title_zh"],
                                                url, str(row["n"]))]))  # fmt: skip
    return [Drafted("work_done", "activity", sentences)] if sentences else []


def _achievements(data: ReportData, t: Templates) -> list[Drafted]:
    paragraphs = []
    for pack in data.packs:
        c = pack.summary.counts
        judged = pack.summary.total - c.get("not_applicable", 0)
        if not judged:
            continue
        head = Sentence(t.say("achievements.pack", pack=_pack_title(pack.info, t), year=data.year,
                              judged=judged, met=c.get("met", 0), not_met=c.get("not_met", 0),
                              no_data=c.get("no_data", 0),
                              awaiting=c.get("awaiting_evidence", 0)),
                        [figure_source(pack, f, data, t) for f in pack.own])  # fmt: skip
        met = [figure_sentence(pack, f, data, t) for f in pack.own
               if f["status"] == "met" and _computed(pack, f) and f["value"] is not None]  # fmt: skip
        paragraphs.append(Drafted("achievements", f"pack:{pack.info.code}", [head, *met]))
    progress = _institution_progress(data, t)
    if progress:
        paragraphs.append(progress)
    units = _units_summary(data, t)
    if units:
        paragraphs.append(units)
    if not paragraphs:
        text = t.say("achievements.none", year=data.year)
        paragraphs.append(Drafted("achievements", "none", [Sentence(text)]))
    return paragraphs


@dataclass
class Improvement:
    pack: PackData
    before: Figure
    after: Figure
    points: float  # the printed change, towards the target


def improvements(data: ReportData, first_year: int | None = None) -> list[Improvement]:
    """Institutions whose percentage figures moved furthest towards their targets between
    `first_year` (default: last year) and the report's year, best first, one per institution."""
    base = first_year or data.year - 1
    best: dict[str, Improvement] = {}
    for pack in data.packs:
        earlier = {(f["orgunit"], f["indicator"]): f for f in pack.by_year.get(base, [])}
        for after in pack.by_year.get(data.year, []):
            if after["unit"] != "percent" or after["orgunit"] == data.orgunit.code:
                continue
            if data.units.get(after["orgunit"], ("", "", ""))[2] != "institution":
                continue
            before = earlier.get((after["orgunit"], after["indicator"]))
            if before is None or before["value"] is None or after["value"] is None:
                continue
            if {before["value"], after["value"]} <= {0.0, 1.0}:
                continue  # an institution's own yes/no share (0% or 100%) is not a trend
            goal = numbers.target(after["unit"], after["target"])
            sign = -1 if goal and goal[0] in ("<=", "<") else 1
            moved = sign * (numbers.shown("percent", after["value"])
                            - numbers.shown("percent", before["value"]))  # fmt: skip
            current = best.get(after["orgunit"])
            if moved > 0 and (current is None or moved > current.points):
                best[after["orgunit"]] = Improvement(pack, before, after, moved)
    return sorted(best.values(), key=lambda i: (-i.points, i.after["orgunit"]))


def _progress_clause(item: Improvement, data: ReportData, t: Templates, key: str) -> str:
    unit = item.after["unit"]
    word, size, _ = numbers.change(unit, item.before["value"], item.after["value"], t)
    return t.say(key, institution=data.name_of(item.after["orgunit"]),
                 indicator=_quoted([item.after["name"]], t), before=numbers.value(unit, item.before["value"]),
                 after=numbers.value(unit, item.after["value"]), direction=word, amount=size,
                 first_year=item.before["period"], year=item.after["period"],
                 change=t.say("achievements.change", direction=word, amount=size))  # fmt: skip


def _institution_progress(data: ReportData, t: Templates) -> Drafted | None:
    found = improvements(data)[:MAX_PROGRESS]
    if not found:
        return None
    items = [_progress_clause(i, data, t, "achievements.institution") for i in found]
    sources = [figure_source(i.pack, f, data, t) for i in found for f in (i.before, i.after)]
    sentence = Sentence(t.say("achievements.institutions", items=t.join(items)), sources)
    return Drafted("achievements", "institutions", [sentence])


def _units_summary(data: ReportData, t: Templates) -> Drafted | None:
    """A city's (or county's) summary of the units directly beneath it: met and unmet items."""
    groups = data.met_by_group()
    if not groups:
        return None
    level = t.say("words.county_level" if data.orgunit.division_level in ("city", "province")
                  else "words.township_level")  # fmt: skip
    items = [t.say("achievements.unit_counts", name=name, met=met, not_met=not_met)
             for name, met, not_met in groups]  # fmt: skip
    names = {name for name, _, _ in groups}
    children = {code for code, (name, _, _) in data.units.items() if name in names}
    sources = [figure_source(p, f, data, t) for p in data.packs for f in p.figures
               if f["orgunit"] in children]  # fmt: skip
    joined = str(t.raw("units_separator")).join(items)
    sentence = Sentence(t.say("achievements.units_heading", level=level, items=joined), sources)
    return Drafted("achievements", "units", [sentence])


def _problems(data: ReportData, t: Templates) -> list[Drafted]:
    paragraphs = []
    for pack in data.packs:
        sentences = [problem_sentence(pack, f, data, t) for f in pack.own
                     if f["status"] in UNMET and f["value"] is not None]  # fmt: skip
        if sentences:
            paragraphs.append(Drafted("problems", f"unmet:{pack.info.code}", sentences))
    gaps = _data_gaps(data, t)
    reporting = _reporting(data, t)
    gaps += [reporting] if reporting else []
    if gaps:
        paragraphs.append(Drafted("problems", "data", gaps))
    overdue = _overdue(data, t)
    if overdue:
        paragraphs.append(overdue)
    if not paragraphs:
        text = t.say("problems.none", year=data.year)
        paragraphs.append(Drafted("problems", "none", [Sentence(text)]))
    return paragraphs


def _data_gaps(data: ReportData, t: Templates) -> list[Sentence]:
    sentences = []
    for pack in data.packs:
        for f in pack.own:
            if f["status"] == DATA_ERROR:
                sentences.append(Sentence(t.say("problems.data_error", name=f["name"]),
                                          [figure_source(pack, f, data, t)]))  # fmt: skip
        no_data = [f for f in pack.own if f["status"] == "no_data" and f["due"]
                   and _computed(pack, f)]  # fmt: skip
        if no_data:
            names = _quoted([f["name"] for f in no_data[:MAX_LISTED]], t)
            if len(no_data) > MAX_LISTED:
                names += t.say("and_more_items", count=len(no_data))
            sentences.append(Sentence(t.say("problems.no_data", count=len(no_data), items=names),
                                      [figure_source(pack, f, data, t) for f in no_data]))  # fmt: skip
        missing = [f for f in pack.own if (f.get("missing") or 0) > 0
                   and f["status"] != "not_applicable"]  # fmt: skip
        if missing:
            worst = sorted(missing, key=lambda f: -f["missing"])[:3]
            items = [t.say("problems.missing_item", name=_quoted([f["name"]], t),
                           missing=f["missing"]) for f in worst]  # fmt: skip
            text = t.say("problems.missing_reports", count=len(missing), items=t.join(items))
            sentences.append(Sentence(text, [figure_source(pack, f, data, t) for f in missing]))
    return sentences


def _reporting(data: ReportData, t: Templates) -> Sentence | None:
    """The year's yearly forms owed beneath the org unit that came late or not at all, by the
    collection app's own rule (completeness: due date from rules.yaml, submission status)."""

    period = str(data.year)
    due, today = rules.deadline(period), date.today()
    types = sorted(set(OrgUnit.objects.filter(path__startswith=data.orgunit.path,
                                              kind=Kind.INSTITUTION)
                       .values_list("institution_type", flat=True)))  # fmt: skip
    states: dict[str, list[str]] = {"late": [], "missing": []}
    expected, shown_form = 0, ""
    for form in (Form(institution_type, "yearly") for institution_type in types):
        if not form.elements():
            continue
        units = expected_orgunits(form, period, within=data.orgunit)
        owed = {s.orgunit_id: s for s in Submission.objects.filter(
            form=form.code, period=period, orgunit__in=[u.pk for u in units])}  # fmt: skip
        expected += len(units)
        for unit in units:
            row = completeness._row(unit, owed.get(unit.pk), due, today, [])
            states.setdefault(row.state, []).append(unit.name)
            if row.state in ("late", "missing"):
                shown_form = shown_form or form.code
    if not states["late"] and not states["missing"]:
        return None
    missing = states["missing"]
    names = t.join(missing[:MAX_NAMES]) + (t.say("and_more", count=len(missing))
                                          if len(missing) > MAX_NAMES else "")  # fmt: skip
    text = t.say("problems.reporting", year=data.year, expected=expected,
                 late=len(states["late"]), missing=len(missing),
                 missing_clause=t.say("problems.missing_names", names=names) if missing else "")  # fmt: skip
    query = f"?form={shown_form}&period={period}"
    source = Source("records", f"submissions/{data.orgunit.code}/{period}",
                    t.say("problems.reporting_label", year=data.year),
                    reverse("collection:completeness") + query,
                    f"{expected}|{states['late']}|{missing}")  # fmt: skip
    return Sentence(text, [source])


def _overdue(data: ReportData, t: Templates) -> Drafted | None:
    as_of = _as_of(data.year)
    tasks = list(Task.objects.filter(plan__in=_plans(data.orgunit))
                 .filter(status_q("overdue", as_of)).prefetch_related("lead")
                 .order_by("deadline", "position"))  # fmt: skip
    if not tasks:
        return None
    items = [t.say("problems.overdue_task", title=task.title_zh, departments=_departments(task),
                   date=numbers.day(task.deadline, t)) for task in tasks[:MAX_LISTED]]  # fmt: skip
    sentence = Sentence(t.say("problems.overdue_tasks", count=len(tasks), items=t.join(items)),
                        [_task_source(task, as_of) for task in tasks])  # fmt: skip
    return Drafted("problems", "overdue", [sentence])


def _next_steps(data: ReportData, t: Templates) -> list[Drafted]:
    paragraphs = []
    open_items = (RectificationTask.objects.filter(orgunit__path__startswith=data.orgunit.path)
                  .exclude(status=RectificationStatus.CLOSED).select_related("owner")
                  .order_by("deadline", "id"))  # fmt: skip
    rectified = set()
    sentences = []
    for item in open_items:
        rectified.add((item.pack, item.indicator))
        sentences.append(Sentence(t.say("next_steps.rectification",
                                        indicator=item.indicator_name or item.indicator,
                                        measure=item.measure.rstrip("。；;. "),
                                        owner=_short(item.owner.name_zh),
                                        date=numbers.day(item.deadline, t)),
                                  [_rectification_source(item)]))  # fmt: skip
    if sentences:
        paragraphs.append(Drafted("next_steps", "rectification", sentences))
    unmet = [(p, f) for p in data.packs for f in p.own if f["status"] in UNMET
             and (f["pack"], f["indicator"]) not in rectified]  # fmt: skip
    if unmet:
        names = _quoted([f["name"] for _, f in unmet[:MAX_LISTED]], t)
        sentence = Sentence(t.say("next_steps.unmet", items=names),
                            [figure_source(p, f, data, t) for p, f in unmet])  # fmt: skip
        paragraphs.append(Drafted("next_steps", "unmet", [sentence]))
    plans = _plans(data.orgunit)
    coming = list(Milestone.objects.filter(plan__in=plans, done_on__isnull=True,
                                           due__year=data.year + 1)
                  .prefetch_related("departments").order_by("due"))  # fmt: skip
    if coming:
        items = [t.say("next_steps.milestone", title=m.title_zh, date=numbers.day(m.due, t),
                       departments=_departments(m, "departments") or t.say("none"))
                 for m in coming[:MAX_LISTED]]  # fmt: skip
        sentence = Sentence(t.say("next_steps.milestones", year=data.year + 1, count=len(coming),
                                  items=t.join(items)),
                            [_milestone_source(m) for m in coming])  # fmt: skip
        paragraphs.append(Drafted("next_steps", "milestones", [sentence]))
    open_tasks = list(Task.objects.filter(plan__in=plans).exclude(status=TaskStatus.DONE)
                      .filter(deadline__isnull=False).prefetch_related("lead")
                      .order_by("deadline", "position"))  # fmt: skip
    if open_tasks:
        items = [t.say("next_steps.task", title=task.title_zh, departments=_departments(task),
                       date=numbers.day(task.deadline, t)) for task in open_tasks[:MAX_LISTED]]  # fmt: skip
        sentence = Sentence(t.say("next_steps.tasks", count=len(open_tasks), items=t.join(items)),
                            [_task_source(task, _as_of(data.year)) for task in open_tasks])  # fmt: skip
        paragraphs.append(Drafted("next_steps", "tasks", [sentence]))
    if not paragraphs:
        paragraphs.append(Drafted("next_steps", "none", [Sentence(t.say("next_steps.none"))]))
    return paragraphs


def _mechanisms(data: ReportData, t: Templates) -> list[Drafted]:
    accepted = (Evidence.objects.filter(_plan_scope(data.orgunit), status=EvidenceStatus.ACCEPTED)
                .exclude(indicator="").select_related("orgunit").order_by("reviewed_at"))  # fmt: skip
    by_indicator: dict[tuple[str, str], list] = {}
    for item in accepted:  # dated evidence (issue 17.2): what covers the year, by plans' rule
        if item.covers(data.year, evidence_kind_for(pack=item.pack, indicator=item.indicator)):
            by_indicator.setdefault((item.pack, item.indicator), []).append(item)
    sentences = []
    for items in by_indicator.values():
        name = _evidence_subject(items[0], data)
        files = t.join([Path(i.name).stem for i in items[:MAX_LISTED]])  # no ".pdf" in prose
        sentences.append(Sentence(t.say("mechanisms.evidence", indicator=name, files=files),
                                  [_evidence_source(i) for i in items]))  # fmt: skip
    paragraphs = [Drafted("mechanisms", "evidence", sentences)] if sentences else []
    standing = list(Task.objects.filter(plan__in=_plans(data.orgunit), status=TaskStatus.DONE,
                                        category__in=("policy", "safeguard"),
                                        completed_on__year__lte=data.year)
                    .order_by("position"))  # fmt: skip
    if standing:
        items = t.join([task.title_zh for task in standing[:MAX_LISTED]])
        sentence = Sentence(t.say("mechanisms.tasks", items=items),
                            [_task_source(task, _as_of(data.year)) for task in standing])  # fmt: skip
        paragraphs.append(Drafted("mechanisms", "tasks", [sentence]))
    if not paragraphs:
        paragraphs.append(Drafted("mechanisms", "none", [Sentence(t.say("mechanisms.none"))]))
    return paragraphs


def _overview(data: ReportData, t: Templates) -> list[Drafted]:
    """Mid-term and final evaluations: the plans' progress, each pack's standing, and the whole
    period's trend of the key figures."""
    paragraphs = [Drafted("overview", d.key, d.sentences) for d in _work_done(data, t)
                  if d.key.startswith("plan:")]  # fmt: skip
    for d in _achievements(data, t):
        if d.key.startswith("pack:"):
            paragraphs.append(Drafted("overview", d.key, d.sentences[:1]))
    trend = _trend(data, t)
    if trend:
        paragraphs.append(trend)
    return paragraphs


def _trend(data: ReportData, t: Templates) -> Drafted | None:
    first = min(data.years)
    if first == data.year:
        return None
    sentences, steady, steady_sources = [], 0, []
    for pack in data.packs:
        before_rows = {f["indicator"]: f for f in pack.history.get(first, [])}
        for after in pack.own:
            before = before_rows.get(after["indicator"])
            if (before is None or before["value"] is None or after["value"] is None
                    or not _computed(pack, after)):  # fmt: skip
                continue
            unit = after["unit"]
            word, size, difference = numbers.change(unit, before["value"], after["value"], t)
            pair = [figure_source(pack, before, data, t), figure_source(pack, after, data, t)]
            if not difference:
                steady, steady_sources = steady + 1, steady_sources + pair
                continue
            text = t.say("overview.trend", name=after["name"], first_year=first, year=data.year,
                         before=numbers.value(unit, before["value"]),
                         after=numbers.value(unit, after["value"]), direction=word, amount=size)  # fmt: skip
            sentences.append(Sentence(text, pair))
    if steady:
        text = t.say("overview.steady", count=steady, first_year=first)
        sentences.append(Sentence(text, steady_sources))
    if not sentences:
        return None
    opening = Sentence(t.say("overview.trend_opening", first_year=first, year=data.year))
    return Drafted("overview", "trend", [opening, *sentences])


SECTIONS = {
    ReportKind.ANNUAL: {"work_done": _work_done, "achievements": _achievements,
                        "problems": _problems, "next_steps": _next_steps,
                        "mechanisms": _mechanisms},
    ReportKind.MIDTERM: {"overview": _overview, "problems": _problems, "next_steps": _next_steps},
    ReportKind.FINAL: {"overview": _overview, "problems": _problems, "next_steps": _next_steps},
}  # fmt: skip


def draft(data: ReportData, language: str = "zh", sections: list[str] | None = None
          ) -> list[Drafted]:  # fmt: skip
    """Every drafted paragraph of the report `data.kind` (or only of `sections`), in order."""
    t = Templates(data.kind, language)
    paragraphs: list[Drafted] = []
    for section, write in SECTIONS[data.kind].items():
        if sections is None or section in sections:
            for paragraph in write(data, t):
                # keys are unique in the report: the section names the paragraph's place
                paragraph.key = f"{section}/{paragraph.key}"
                paragraph.section = section
                paragraphs.append(paragraph)
    return paragraphs


def suggest_cases(data: ReportData, language: str = "zh", limit: int = 2) -> list[dict]:
    """典型案例 (seeds/000 §五(三)2, seeds/003): the institutions whose figures improved most
    over the period with data, as a title and a body for the officer to complete."""
    t = Templates(data.kind, language)
    first = min(data.years)
    found = improvements(data, first if first < data.year else data.year - 1)[:limit]
    return [{"title": _progress_clause(i, data, t, "typical_case.title"),
             "body": _progress_clause(i, data, t, "typical_case.body"),
             "institution": data.name_of(i.after["orgunit"]),
             "sources": [figure_source(i.pack, f, data, t).as_json()
                         for f in (i.before, i.after)]} for i in found]  # fmt: skip
