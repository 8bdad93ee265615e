"""Read side of surveys: rates with Wilson intervals per division, the sampling plan, and the
rows handed to the evaluation engine. Counts are grouped in SQL by the responding org unit
and then summed up the tree by path prefix."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_lazy as _

from xinglin.collection.models import DataValue
from xinglin.lib.survey_stats import Interval, allocate, margin_of_error, sample_size, wilson
from xinglin.network.models import DivisionLevel, Kind, OrgUnit
from xinglin.standards.models import DataElement
from xinglin.surveys.models import Instrument, SurveyResponse

FEED_LEVELS = (DivisionLevel.COUNTY, DivisionLevel.TOWNSHIP)


class Status:
    MET_CONFIDENT = "met_confident"
    MET_POINT = "met_point"
    NOT_MET = "not_met"
    NO_DATA = "no_data"
    LABELS = {
        MET_CONFIDENT: _("Met with confidence"),
        MET_POINT: _("Met on the point estimate only"),
        NOT_MET: _("Not met"),
        NO_DATA: _("No data"),
    }
    # The traffic-light class of web/base.html for each status.
    LIGHTS = {
        MET_CONFIDENT: "met",
        MET_POINT: "awaiting_evidence",
        NOT_MET: "not_met",
        NO_DATA: "no_data",
    }


def status_for(interval: Interval | None, target: float | None) -> str:
    """Met with confidence when the lower 95% bound reaches the target; met on the point
    estimate when only the rate does; otherwise not met."""
    if interval is None or target is None:
        return Status.NO_DATA
    if interval.lower >= target:
        return Status.MET_CONFIDENT
    if interval.estimate >= target:
        return Status.MET_POINT
    return Status.NOT_MET


@dataclass
class ResultRow:
    orgunit: OrgUnit
    respondents: int
    positive: int
    interval: Interval | None
    status: str

    @property
    def light(self) -> str:
        return Status.LIGHTS[self.status]

    @property
    def status_label(self) -> str:
        return str(Status.LABELS[self.status])


@dataclass
class Results:
    instrument: Instrument
    period: str
    division: OrgUnit
    total: ResultRow
    parts: list[ResultRow] = field(default_factory=list)


def _groups(instrument: Instrument, period: str, path: str) -> list[tuple[str, int, int]]:
    """(responding org unit's path, respondents, positive) under `path`."""
    return list(
        SurveyResponse.objects.filter(
            instrument=instrument, period=period, orgunit__path__startswith=path
        )
        .values_list("orgunit__path")
        .annotate(n=Count("id"), positive=Count("id", filter=Q(is_positive=True)))
        .order_by()
    )


def _row(orgunit: OrgUnit, groups, target: float | None) -> ResultRow:
    respondents = sum(n for path, n, _p in groups if path.startswith(orgunit.path))
    positive = sum(p for path, _n, p in groups if path.startswith(orgunit.path))
    interval = wilson(positive, respondents)
    return ResultRow(orgunit, respondents, positive, interval, status_for(interval, target))


def survey_results(instrument: Instrument, period: str, division: OrgUnit) -> Results:
    """The rate of `division` and of each division directly below it."""
    groups = _groups(instrument, period, division.path)
    children = division.children.filter(kind=Kind.DIVISION).order_by("code")
    return Results(
        instrument=instrument,
        period=period,
        division=division,
        total=_row(division, groups, instrument.target),
        parts=[_row(child, groups, instrument.target) for child in children],
    )


def derived_rows(periods: list[str]) -> list[tuple[str, str, str, float]]:
    """(element code, division code, period, value): respondents and positive counts of every
    instrument for each county and township that has responses in `periods`."""
    rows: list[tuple[str, str, str, float]] = []
    for instrument in Instrument.objects.all():
        measures = instrument.definition["measures"]
        for period in periods:
            groups = _groups(instrument, period, "/")
            codes = {code for path, _n, _p in groups for code in path.strip("/").split("/")}
            divisions = OrgUnit.objects.filter(
                code__in=codes, kind=Kind.DIVISION, division_level__in=FEED_LEVELS
            ).order_by("path")
            for division in divisions:
                row = _row(division, groups, None)
                rows.append((measures["respondents"], division.code, period, row.respondents))
                rows.append((measures["positive"], division.code, period, row.positive))
    return [(e, o, p, float(v)) for e, o, p, v in rows]


@dataclass
class Assignment:
    orgunit: OrgUnit
    population: float
    sample: int
    first: int
    last: int
    collected: int
    margin: float | None

    @property
    def margin_pct(self) -> float | None:
        return None if self.margin is None else self.margin * 100


@dataclass
class SamplingPlan:
    instrument: Instrument
    period: str
    division: OrgUnit
    margin: float
    expected: float
    population_element: DataElement
    population_period: str | None
    population: float
    sample: int
    assignments: list[Assignment]


def population_by_division(
    element: DataElement, period: str, divisions: list[OrgUnit]
) -> tuple[str | None, dict[str, float]]:
    """The latest yearly figures of `element` up to `period` for each division: the
    division's own value for a division-level element, the sum over its institutions
    otherwise. Returns (the period used, {division code: figure})."""
    values = DataValue.objects.filter(element=element, period__lte=period, period__regex=r"^\d{4}$")
    latest = values.order_by("-period").values_list("period", flat=True).first()
    if latest is None:
        return None, {}
    values = values.filter(period=latest)
    figures = {}
    for division in divisions:
        if element.level == "division":
            scoped = values.filter(orgunit=division)
        else:
            scoped = values.filter(
                orgunit__path__startswith=division.path, orgunit__kind="institution"
            )
        figures[division.code] = scoped.aggregate(total=Sum("value"))["total"] or 0.0
    return latest, figures


def sampling_plan(
    instrument: Instrument,
    period: str,
    division: OrgUnit,
    margin: float | None = None,
    expected: float | None = None,
) -> SamplingPlan:
    """The sample for ±`margin` at 95% over the population below `division`, allocated to
    its child divisions in proportion to their population (largest remainder)."""
    sampling = instrument.definition.get("sampling", {})
    margin = float(margin or sampling.get("margin", 0.05))
    expected = float(expected or sampling.get("expected", 0.5))
    element = DataElement.objects.get(code=sampling.get("population_element", "residents"))
    strata = list(division.children.filter(kind=Kind.DIVISION).order_by("code")) or [division]
    used, sizes = population_by_division(element, period, strata)
    total = sum(sizes.values())
    n = sample_size(margin, expected, total) if total > 0 else 0
    parts = allocate(n, sizes) if total > 0 else {}
    groups = _groups(instrument, period, division.path)
    assignments, first = [], 1
    for stratum in strata:
        count = parts.get(stratum.code, 0)
        collected = _row(stratum, groups, None).respondents
        assignments.append(
            Assignment(
                stratum,
                sizes.get(stratum.code, 0.0),
                count,
                first,
                first + count - 1,
                collected,
                margin_of_error(count, expected, sizes.get(stratum.code) or None),
            )
        )
        first += count
    return SamplingPlan(
        instrument, period, division, margin, expected, element, used, total, n, assignments
    )
