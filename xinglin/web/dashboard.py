"""The home page's figures: one org unit and year, read from the engine through the documents
app's doorway (xinglin.documents.gather), plus tasks and submissions from their apps. Every
section is a list of plain dicts, so the page, its charts and the CSV twins share one source."""

from __future__ import annotations

from dataclasses import asdict

from django.utils import timezone
from django.utils.translation import get_language

from xinglin.collection.models import Submission
from xinglin.core import generation, labels
from xinglin.documents import progress
from xinglin.documents.figures import parse_target
from xinglin.documents.gather import HISTORY_YEARS, ReportData, gather
from xinglin.evaluation import cache
from xinglin.lib import projection
from xinglin.network import access
from xinglin.network.models import DivisionLevel, Kind, OrgUnit
from xinglin.standards.labels import expression_of
from xinglin.standards.loader import get_pack, is_yes_no

REGION_LEVELS = (DivisionLevel.PROVINCE, DivisionLevel.CITY)
CSV_SECTIONS = ("verdicts", "indicators", "failing", "projections", "league", "completeness",
                "laggards", "townships")  # fmt: skip
KEY_INDICATORS = 8


def build(user, orgunit: OrgUnit, year: int) -> dict:
    # The engine's sections are the same for every user who may see the unit, and the
    # completeness block for one user is the same all day: both are kept for the data
    # generation (any write to the data behind them shows on the next request).
    # Each is kept while the data of its years and branch of the tree is unchanged
    # (decision 0019): the sections read the year and the history before it (gather), the
    # completeness block the year. The user's lists below read everything.
    today = timezone.localdate()
    board = cache.cached(
        ("dashboard", orgunit.code, year, get_language()),
        lambda: _engine_sections(orgunit, year),
        scope=generation.Scope.of(orgunit.path, year - HISTORY_YEARS + 1, year),
    )
    completeness = cache.cached(
        ("completeness", user.pk, orgunit.code, year, today, get_language()),
        lambda: progress.completeness(user, orgunit, str(year)),
        scope=generation.Scope.of(orgunit.path, year, year),
    )
    return {
        **board,
        "completeness": completeness,
        "overdue": cache.cached(
            ("overdue", user.pk, today, get_language()), lambda: progress.overdue_tasks(user)
        ),
        "submissions": cache.cached(
            ("submissions", user.pk, get_language()), lambda: progress.recent_submissions(user)
        ),
        "waiting": cache.cached(("waiting", user.pk), lambda: waiting_submissions(user)),
        "queue": cache.cached(("queue", user.pk), lambda: approval_queue(user)),
    }


def approval_queue(user, limit: int = 20) -> list[dict]:
    """The submissions the user may approve that wait for it, oldest first: a supervisor's
    home starts with them."""

    scope = access.scope_q(user, "approve", "orgunit__path")
    rows = (
        Submission.objects.filter(scope, status="submitted")
        .select_related("orgunit", "orgunit__parent", "submitted_by")
        .order_by("submitted_at")[:limit]
    )
    return [
        {"code": s.orgunit.code, "orgunit": s.orgunit.name, "period": s.period,
         "parent": s.orgunit.parent.name if s.orgunit.parent else "",
         "by": labels.person(s.submitted_by) if s.submitted_by else "—", "at": s.submitted_at}
        for s in rows
    ]  # fmt: skip


def waiting_submissions(user) -> int:
    """How many submissions in the user's scope wait for approval."""

    scope = access.scope_q(user, "view", "orgunit__path")
    return Submission.objects.filter(scope, status="submitted").count()


def _engine_sections(orgunit: OrgUnit, year: int) -> dict:
    data = gather("annual", orgunit, year)
    return {
        "verdicts": verdicts(data),
        "indicators": indicators(data),
        "failing": failing(data),
        "laggards": laggards(data),
        "townships": townships(data),
        "projections": projections(data),
        "league": league(data) if orgunit.division_level in REGION_LEVELS else None,
    }


def verdicts(data: ReportData) -> list[dict]:
    """One tile per adopted document: its verdict, items met / not met, and the change in
    items met since the year before (None when that year has no figures)."""
    rows = []
    for p in data.packs:
        before = p.history.get(data.year - 1) or []
        met_before = sum(1 for f in before if f["status"] == "met") if before else None
        met = p.summary.counts.get("met", 0)
        rows.append({
            "pack": p.info.code, "title": p.info.title, "verdict": p.summary.verdict,
            "verdict_label": labels.status_label(p.summary.verdict), **p.summary.counts,
            "met_change": None if met_before is None else met - met_before,
        })  # fmt: skip
    return rows


def indicators(data: ReportData) -> list[dict]:
    """The key indicators: what is not met first (largest gap first), then what has a
    deadline coming; a yes/no item that every institution meets tells an officer nothing."""
    candidates = []
    for pack in data.packs:
        for figure in pack.own:
            meta = pack.info.indicator(figure["indicator"])
            if meta is None or meta.kind != "computed" or figure["value"] is None:
                continue
            order = (figure["status"] != "not_met", -_relative_gap(figure), meta.deadline is None)
            candidates.append((order, pack, figure))
    candidates.sort(key=lambda c: c[0])
    rows = []
    for _order, pack, figure in candidates[:KEY_INDICATORS]:
        points = _series(pack, figure["indicator"])
        rows.append({
            "pack": figure["pack"], "indicator": figure["indicator"], "name": figure["name"],
            "value": figure["value"], "shown": _shown(figure),
            "target": _target(figure),
            "status": figure["status"], "status_label": labels.status_label(figure["status"]),
            "years": [p[0] for p in points], "values": [p[1] for p in points],
        })  # fmt: skip
    return rows


def _relative_gap(figure) -> float:
    """The gap as a share of the target, so that percentages and counts compare."""
    target = parse_target(figure["target"] or "")
    gap = figure["gap"] or 0.0
    return gap / abs(target[1]) if target and target[1] else gap


def _expression(figure) -> str:
    return expression_of(figure["pack"], figure["indicator"])


def _shown(figure) -> str:
    return labels.number(figure["value"], figure["unit"], _expression(figure))


def _target(figure) -> str:
    return labels.target(figure["target"] or "", figure["unit"], _expression(figure))


def laggards(data: ReportData, limit: int = 15) -> list[dict]:
    """Institutions ranked by how many of the unit's unmet items they hold back."""
    counts: dict[str, int] = {}
    for pack in data.packs:
        for f in pack.own:
            if f["status"] == "not_met":
                for code in f["failing"]:
                    counts[code] = counts.get(code, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [{"code": c, "name": data.name_of(c), "items": n} for c, n in ranked]


def townships(data: ReportData) -> list[dict]:
    """The units one level down compared: figures met and not met in each."""
    return [{"name": name, "met": met, "not_met": not_met}
            for name, met, not_met in data.met_by_group()]  # fmt: skip


def failing(data: ReportData) -> list[dict]:
    rows = []
    for pack in data.packs:
        for f in pack.own:
            if f["status"] not in ("not_met", "data_error"):
                continue
            rows.append({
                "pack": f["pack"], "indicator": f["indicator"], "name": f["name"],
                "status": f["status"], "status_label": labels.status_label(f["status"]),
                "value": _shown(f), "target": _target(f),
                "gap": labels.gap(f["gap"], f["unit"], _expression(f)),
                "institutions": [{"code": c, "name": data.name_of(c), "why": f["why"].get(c, "")}
                                 for c in f["failing"]],
            })  # fmt: skip
    return rows


MIN_YEARS = 3  # a line through two points always fits: it says nothing of the trend


def projections(data: ReportData) -> list[dict]:
    """For every computed indicator with a deadline not yet past: will the trend reach it?
    Only a continuous figure with MIN_YEARS years of data is projected; a yes/no indicator
    says since when it is met, or that it is not yet (issue 17.7)."""
    rows = []
    for pack in data.packs:
        for f in pack.own:
            meta = pack.info.indicator(f["indicator"])
            target = parse_target(f["target"])
            if meta is None or meta.deadline is None or target is None or meta.deadline < data.year:
                continue
            base = {"pack": f["pack"], "indicator": f["indicator"], "name": f["name"],
                    "unit": f["unit"]}  # fmt: skip
            if _yes_no(pack.info.code, f["indicator"]):
                rows.append({**base, **_first_met(pack, f["indicator"], meta.deadline),
                             "target": _target(f)})  # fmt: skip
                continue
            points = [(y, float(v)) for y, v in _series(pack, f["indicator"])]
            result = projection.project(points, target=target[1], operator=target[0],
                                        deadline=meta.deadline)  # fmt: skip
            row = {**base, "kind": "continuous", **asdict(result)}
            if len(points) < MIN_YEARS and result.verdict not in (
                projection.ALREADY_MET,
                projection.PAST_DEADLINE,
            ):
                row.update(predicted=None, low=None, high=None, slope=None,
                           verdict=projection.TOO_FEW_YEARS)  # fmt: skip
            row["threshold"], row["target"] = row["target"], _target(f)
            expression = _expression(f)
            for key in ("last_value", "predicted", "low", "high", "required_per_year"):
                shown = labels.number(row[key], f["unit"], expression)
                row[f"{key}_shown"] = shown if row[key] is not None else ""
            rows.append(row)
    return rows


def _yes_no(pack_code: str, indicator_id: str) -> bool:
    return is_yes_no(get_pack(pack_code).indicator(indicator_id))


def _first_met(pack, indicator_id: str, deadline: int) -> dict:
    """The first year the unit's own figure was met (None: not yet)."""
    met = [year for year, rows in sorted(pack.history.items())
           if any(f["indicator"] == indicator_id and f["status"] == "met" for f in rows)]  # fmt: skip
    return {"kind": "yes_no", "deadline": deadline, "first_met": met[0] if met else None,
            "verdict": projection.ALREADY_MET if met else "not_yet"}  # fmt: skip


def _series(pack, indicator_id: str) -> list[tuple[int, float]]:
    points = []
    for year, rows in sorted(pack.history.items()):
        value = next((f["value"] for f in rows if f["indicator"] == indicator_id), None)
        if value is not None:
            points.append((year, value))
    return points


def league(data: ReportData) -> dict:
    """Counties side by side: each indicator's value and status per county (evidence items
    too: a city evaluation holds its counties'), and per county the engine's counts of
    statuses summed over the packs (`met`, for the chart, is its met count: the figure the
    county's own scorecard shows)."""
    counties = [
        (code, name)
        for code, (name, path, kind) in sorted(data.units.items(), key=lambda u: u[1][1])
        if kind == Kind.DIVISION and path.count("/") == data.orgunit.path.count("/") + 1
    ]
    by_key = {(f["indicator"], f["orgunit"]): f for p in data.packs for f in p.figures}
    rows = []
    for pack in data.packs:
        for meta in pack.info.indicators:
            cells = [by_key.get((meta.id, code)) for code, _name in counties]
            if not any(c and c["status"] != "not_applicable" for c in cells):
                continue
            rows.append({"pack": pack.info.code, "item": meta.item, "indicator": meta.id,
                         "name": meta.name,
                         "target": labels.target(meta.target or "", meta.unit,
                                                 expression_of(pack.info.code, meta.id)),
                         "cells": [_cell(c) for c in cells]})  # fmt: skip
    counts = [_summed(p.counts_of(code) for p in data.packs) for code, _name in counties]
    # per pack, the met count each county's own scorecard of that pack shows
    by_pack = [{"pack": p.info.code, "title": p.info.title,
                "met": [p.counts_of(code).get("met", 0) for code, _name in counties]}
               for p in data.packs]  # fmt: skip
    return {"counties": [{"code": c, "name": n} for c, n in counties], "rows": rows,
            "met": [c.get("met", 0) for c in counts], "counts": counts, "packs": by_pack}  # fmt: skip


def _summed(counts) -> dict[str, int]:
    total: dict[str, int] = {}
    for one in counts:
        for status, n in one.items():
            total[status] = total.get(status, 0) + n
    return total


def _cell(figure) -> dict:
    if figure is None:
        return {"status": "not_applicable", "shown": "—",
                "label": labels.status_label("not_applicable")}  # fmt: skip
    return {"status": figure["status"], "shown": _shown(figure),
            "label": labels.status_label(figure["status"])}  # fmt: skip


def csv_rows(dashboard: dict, section: str) -> list[list]:
    """The figures behind one section, as CSV rows (header first)."""
    if section == "league":
        board = dashboard["league"] or {"counties": [], "rows": []}
        header = ["pack", "item", "indicator", "name", "target",
                  *[c["code"] for c in board["counties"]]]  # fmt: skip
        return [header, *[[r["pack"], r["item"], r["indicator"], r["name"], r["target"],
                          *[c["shown"] for c in r["cells"]]] for r in board["rows"]]]  # fmt: skip
    if section == "failing":
        header = ["pack", "indicator", "name", "value", "target", "institutions"]
        return [header, *[[r["pack"], r["indicator"], r["name"], r["value"], r["target"],
                          "、".join(i["name"] for i in r["institutions"])]
                         for r in dashboard["failing"]]]  # fmt: skip
    rows = dashboard[section] or []
    if not rows:
        return [[]]
    # rows may differ in their keys (a yes/no projection has no fitted line): every key once
    header = [k for k in dict.fromkeys(k for r in rows for k in r) if k not in ("years", "values")]
    body = [[_flat(r.get(k)) for k in header] for r in rows]
    if section == "indicators":
        header += ["series"]
        body = [b + [" ".join(f"{y}:{v}" for y, v in zip(r["years"], r["values"], strict=True))]
                for b, r in zip(body, rows, strict=True)]  # fmt: skip
    return [header, *body]


def _flat(value):
    return "" if value is None else value
