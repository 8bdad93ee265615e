"""What the scorecard page shows, computed once per request from the engine's results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.http import QueryDict
from django.utils.translation import gettext as _

from xinglin.collection.models import DataValue, DeliveredTechnique
from xinglin.core import generation, labels
from xinglin.core.labels import ATTENTION, group_label, status_label
from xinglin.evaluation import cache
from xinglin.evaluation.engine import Evaluation, _elements, evaluate
from xinglin.evaluation.models import DerivedValue
from xinglin.evaluation.results import Result
from xinglin.network import access
from xinglin.network.models import OrgUnit
from xinglin.standards.loader import PackIndicator
from xinglin.standards.models import DataElement

TREND_YEARS = 5


@dataclass
class Row:
    result: Result
    indicator: PackIndicator
    trend: list[tuple[str, float | None]] = field(default_factory=list)


@dataclass
class Scorecard:
    evaluation: Evaluation
    rows: list[Row]
    children: list[dict[str, Any]]
    groups: list[dict[str, Any]]
    names: dict[str, str]  # code -> name of every institution a row lists as falling short
    # the indicator table's rendered rows, by what else they depend on (the filter, the view,
    # whether the user may rectify): kept with the rows, so they live and die with them
    rendered: dict[tuple[object, ...], str] = field(default_factory=dict)


def build(pack: str, unit: OrgUnit, period: str, user: User, language: str) -> Scorecard:
    # the rows are the same for every user who may see the unit (kept per data generation);
    # the children one level down depend on the user's scope
    # it reads the year and the trend years before it, of the unit and what lies beneath
    year = int(period) if period.isdigit() else None
    scope = generation.Scope.of(unit.path, year - TREND_YEARS + 1, year) if year else None
    # the names of the institutions falling short are kept with the rows (a city lists
    # thousands: one query of 30 ms a page otherwise); a rename changes every scope's
    # generation (network_orgunit is not a per-year table), so they are never stale
    evaluation, rows, names, rendered = cache.cached(
        ("scorecard", pack, unit.code, period, language),
        lambda: _named(*_rows(pack, unit, period, language)),
        scope=scope,
    )
    children = _children(evaluation, unit, user)
    return Scorecard(evaluation, rows, children, _groups(rows), names, rendered)


def _named(
    evaluation: Evaluation, rows: list[Row]
) -> tuple[Evaluation, list[Row], dict[str, str], dict[tuple[object, ...], str]]:
    # the last: the rendered tables of these rows (`Scorecard.rendered`), the one part of a
    # cached value that is written after it is kept (each entry once, the same text)
    return evaluation, rows, failing_names(rows), {}


def _rows(pack: str, unit: OrgUnit, period: str, language: str) -> tuple[Evaluation, list[Row]]:
    evaluation = evaluate(pack, unit, period, language=language)
    year = int(evaluation.period)
    history = {
        y: evaluate(evaluation.pack, unit, str(y), tree=False)
        for y in range(year - TREND_YEARS + 1, year)
    }
    history[year] = evaluation
    rows = []
    for result in evaluation.at(unit.code):
        trend = [
            (str(y), _value(e, result.indicator, unit.code)) for y, e in sorted(history.items())
        ]
        rows.append(Row(result, evaluation.pack.indicator(result.indicator), trend))
    return evaluation, rows


def _value(evaluation: Evaluation, indicator: str, code: str) -> float | None:
    found = [r for r in evaluation.at(code) if r.indicator == indicator]
    return found[0].value if found else None


def _children(evaluation: Evaluation, unit: OrgUnit, user: User) -> list[dict[str, Any]]:
    """The units one level down that the user may see, with their counts of statuses: the
    engine's standing of each (the counts its own scorecard shows, evidence included)."""
    visible = access.orgunits_for_user(user).filter(parent=unit).order_by("code")
    codes = {u.code: u for u in visible}
    children = []
    for code, child in codes.items():
        if not evaluation.at(code):
            continue
        standing = evaluation.standing(code)
        children.append({"unit": child, "counts": standing.counts, "verdict": standing.status})
    return children


def _groups(rows: list[Row]) -> list[dict[str, Any]]:
    """Met / not met per group of indicators (the id's first part: system, grassroots…)."""
    groups: dict[str, dict[str, Any]] = {}
    for row in rows:
        name = row.result.indicator.split(".")[0]
        group = groups.setdefault(
            name,
            {"name": name, "label": group_label(row.result.indicator), "met": 0, "not_met": 0,
             "other": 0},
        )  # fmt: skip
        status = row.result.status
        group[status if status in ("met", "not_met") else "other"] += 1
    return list(groups.values())


def data_behind(
    result: Result, indicator: PackIndicator, unit: OrgUnit, user: User
) -> dict[str, Any]:
    """The data values, derived values and techniques that made one figure, within the
    user's scope: the covered institutions beneath the unit, and the unit itself."""

    elements = DataElement.objects.filter(code__in=_elements(indicator))
    year = result.period
    periods = [year] + [f"{year}{m:02d}" for m in range(1, 13)]
    scope = access.scope_q(user, "view", "orgunit__path")
    beneath = {"orgunit__path__startswith": unit.path}
    values = (
        DataValue.objects.filter(scope, element__in=elements, period__in=periods, **beneath)
        .select_related("element", "orgunit")
        .order_by("orgunit__path", "element__code", "period", "combo")
    )
    derived = (
        DerivedValue.objects.filter(scope, element__in=elements, period__in=periods, **beneath)
        .select_related("element", "orgunit")
        .order_by("orgunit__path", "element__code", "period")
    )
    techniques = DeliveredTechnique.objects.none()
    if "technique" in indicator.value:
        techniques = (
            DeliveredTechnique.objects.filter(scope, period__in=periods, **beneath)
            .select_related("orgunit", "item__category")
            .order_by("orgunit__path", "item__category__position", "item__code")
        )
    return {
        "values": values,
        "derived": derived,
        "techniques": techniques,
        "elements": list(elements.order_by("pk")),
        "periods": periods,
    }


BEHIND_FILTERS = ("element", "institution", "value_period", "source")


def filter_behind(behind: dict[str, Any], params: QueryDict) -> dict[str, Any]:
    """The data behind a figure narrowed by the page's filters: ?element= (code),
    ?institution= (words of its name), ?value_period= (the year or one of its months) and
    ?source= (the channel a reported value came by). The filters' own choices come along:
    the figure's elements and periods."""
    chosen = {k: (params.get(k) or "").strip()[:100] for k in BEHIND_FILTERS}
    values, derived, techniques = behind["values"], behind["derived"], behind["techniques"]
    if chosen["element"]:
        values = values.filter(element__code=chosen["element"])
        derived = derived.filter(element__code=chosen["element"])
    if chosen["institution"]:
        values = values.filter(orgunit__name__contains=chosen["institution"])
        derived = derived.filter(orgunit__name__contains=chosen["institution"])
        techniques = techniques.filter(orgunit__name__contains=chosen["institution"])
    if chosen["value_period"]:
        values = values.filter(period=chosen["value_period"])
        derived = derived.filter(period=chosen["value_period"])
        techniques = techniques.filter(period=chosen["value_period"])
    if chosen["source"]:
        values = values.filter(channel=chosen["source"])
    return {**behind, "values": values, "derived": derived, "techniques": techniques,
            "chosen": chosen}  # fmt: skip


# --- what the officer asks first: filters, order and who falls short (presentation only) ---

STATUS_FILTERS = ("attention", "not_met", "no_data", "awaiting_evidence", "met", "all")


def select(rows: list[Row], params: QueryDict) -> list[Row]:
    """The rows a scorecard shows for ?status= (default `attention`: what needs acting on),
    ?group= (the indicator id's first part) and ?sort=gap (largest shortfall first)."""

    status = params.get("status") or "attention"
    group = params.get("group") or ""
    chosen = [r for r in rows if not group or r.result.indicator.split(".")[0] == group]
    if status == "attention":
        chosen = [r for r in chosen if r.result.status in ATTENTION]
    elif status != "all":
        chosen = [r for r in chosen if r.result.status == status]
    if params.get("sort") == "gap":
        chosen.sort(key=_shortfall, reverse=True)
    return chosen


def _shortfall(row: Row) -> float:
    """The gap relative to the target, so that percentages and counts compare; rows without
    a gap (met, no data) come last."""
    gap, target = row.result.gap, row.indicator.target
    if not gap:
        return -1.0
    scale = abs(target.low) if target is not None and target.low else 1.0
    return gap / scale


def filter_links(rows: list[Row], params: QueryDict) -> dict[str, Any]:
    """The status and group choices with their counts, for the filter chips."""

    counts = {s: sum(1 for r in rows if r.result.status == s) for s in STATUS_FILTERS}
    counts["attention"] = sum(1 for r in rows if r.result.status in ATTENTION)
    counts["all"] = len(rows)

    words = {"attention": _("needs attention"), "all": _("all")}
    statuses = [
        {"code": s, "label": words.get(s) or status_label(s), "count": counts[s]}
        for s in STATUS_FILTERS
        if counts[s] or s in ("attention", "all")
    ]
    groups, seen = [], set()
    for row in rows:
        code = row.result.indicator.split(".")[0]
        if code not in seen:
            seen.add(code)
            groups.append({"code": code, "label": group_label(row.result.indicator)})
    return {
        "statuses": statuses,
        "groups": groups,
        "status": params.get("status") or "attention",
        "group": params.get("group") or "",
        "sort": params.get("sort") or "",
    }


def failing_names(rows: list[Row]) -> dict[str, str]:
    """code -> name of every institution any row lists as falling short (one query)."""
    codes = {code for row in rows for code in row.result.failing}
    return dict(OrgUnit.objects.filter(code__in=codes).values_list("code", "name"))


def falling_short(
    evaluation: Evaluation, result: Result, indicator: PackIndicator, user: User
) -> list[dict[str, Any]]:
    """Each institution beneath the unit that holds this figure back and that the user may
    see: its name, its own value, the reason in words, and where to look next (its
    scorecard, its form, the history of the first value behind the figure)."""

    visible = access.orgunits_for_user(user).filter(code__in=result.failing)
    units = {u.code: u for u in visible}
    first = next(iter(_read(indicator)), None)
    rows = []
    for code in result.failing:
        if code not in units:
            continue
        own = next((r for r in evaluation.at(code) if r.indicator == result.indicator), None)
        rows.append(
            {
                "unit": units[code],
                "value": labels.number(own.value if own else None, result.unit, indicator.value),
                "status": own.status if own else result.status,
                "reason": result.why.get(code, ""),  # the engine says why, in words
                "element": first,
            }
        )
    return rows


def _read(indicator: PackIndicator) -> list[str]:
    return list(_elements(indicator))
