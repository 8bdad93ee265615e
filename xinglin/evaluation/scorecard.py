"""What the scorecard page shows, computed once per request from the engine's results."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import User

from xinglin.collection.models import DataValue, DeliveredTechnique
from xinglin.evaluation import cache
from xinglin.evaluation.engine import Evaluation, Result, evaluate
from xinglin.evaluation.models import DerivedValue
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
    children: list[dict]
    groups: list[dict]


def build(pack: str, unit: OrgUnit, period: str, user: User, language: str) -> Scorecard:
    # the rows are the same for every user who may see the unit (kept per data generation);
    # the children one level down depend on the user's scope
    evaluation, rows = cache.cached(
        ("scorecard", pack, unit.code, period, language),
        lambda: _rows(pack, unit, period, language),
    )
    return Scorecard(evaluation, rows, _children(evaluation, unit, user), _groups(rows))


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


def _children(evaluation: Evaluation, unit: OrgUnit, user: User) -> list[dict]:
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


def _groups(rows: list[Row]) -> list[dict]:
    """Met / not met per group of indicators (the id's first part: system, grassroots…)."""
    groups: dict[str, dict] = {}
    for row in rows:
        name = row.result.indicator.split(".")[0]
        group = groups.setdefault(name, {"name": name, "met": 0, "not_met": 0, "other": 0})
        status = row.result.status
        group[status if status in ("met", "not_met") else "other"] += 1
    return list(groups.values())


def data_behind(result: Result, indicator: PackIndicator, unit: OrgUnit, user: User) -> dict:
    """The data values, derived values and techniques that made one figure, within the
    user's scope: the covered institutions beneath the unit, and the unit itself."""
    from xinglin.evaluation.engine import _elements

    elements = DataElement.objects.filter(code__in=_elements(indicator))
    year = result.period
    periods = [year] + [f"{year}{m:02d}" for m in range(1, 13)]
    scope = access.scope_q(user, "view", "orgunit__path")
    beneath = {"orgunit__path__startswith": unit.path}
    values = (
        DataValue.objects.filter(scope, element__in=elements, period__in=periods, **beneath)
        .select_related("element", "orgunit")
        .order_by("orgunit__path", "element__code", "period")
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
    return {"values": values, "derived": derived, "techniques": techniques}
