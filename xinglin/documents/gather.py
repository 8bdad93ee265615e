"""Everything a report or the dashboard shows about one org unit and year, fetched once:
the engine's figures for every pack (this year and the years before, for trends), and the
names of the org units beneath."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from xinglin.collection.models import DataValue
from xinglin.core import generation
from xinglin.documents import figures
from xinglin.documents.figures import Figure, PackInfo, PackSummary
from xinglin.evaluation import cache
from xinglin.network.models import Kind, OrgUnit

HISTORY_YEARS = 5  # a five-year plan's span: the trend charts look back this far
KEY_INDICATORS = 6
STATUS_LABELS = {
    "met": "达标",
    "not_met": "未达标",
    "no_data": "缺数据",
    "not_applicable": "不适用",
    "awaiting_evidence": "待审核佐证",
    "data_error": "数据有误",
    "target_unset": "目标未设定",
}


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def format_value(figure: Figure, value: float | None) -> str:
    """A figure's value as the bureau writes it: percentages as 35.2%, counts as integers."""
    if value is None:
        return "—"
    if figure["unit"] == "percent":
        return f"{value * 100:.1f}%"
    if float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.2f}"


@dataclass
class PackData:
    info: PackInfo
    figures: list[Figure]
    own: list[Figure]
    summary: PackSummary
    history: dict[int, list[Figure]] = field(default_factory=dict)  # own figures per year
    by_year: dict[int, list[Figure]] = field(default_factory=dict)  # every unit's, per year
    evaluated: figures.Evaluated | None = None  # the year's evaluation (standing of any unit)

    def counts_of(self, code: str) -> dict[str, int]:
        """The engine's counts of statuses for a unit beneath (the same as its own page's)."""
        if self.evaluated is None:
            return {}
        return self.evaluated.counts_of(code)

    def status_of(self, indicator_id: str) -> str | None:
        return next((f["status"] for f in self.own if f["indicator"] == indicator_id), None)


@dataclass
class ReportData:
    kind: str
    orgunit: OrgUnit
    year: int
    packs: list[PackData]
    years: list[int]
    units: dict[str, tuple[str, str, str]]  # code -> (name, path, kind)
    institution_count: int | None = None

    def name_of(self, code: str) -> str:
        return self.units.get(code, (code,))[0]

    def key_series(self) -> list[tuple[str, list[tuple[int, float]], Figure]]:
        """Up to KEY_INDICATORS computed indicators with values, those with a deadline first:
        (name, [(year, value)], latest figure)."""
        candidates = []
        for pack in self.packs:
            for figure in pack.own:
                meta = pack.info.indicator(figure["indicator"])
                if meta is None or meta.kind != "computed" or figure["value"] is None:
                    continue
                points = _series(pack, figure["indicator"])
                candidates.append((meta.deadline is None, figure["name"], points, figure))
        candidates.sort(key=lambda c: c[0])
        return [(name, points, figure) for _, name, points, figure in candidates[:KEY_INDICATORS]]

    def met_by_group(self) -> list[tuple[str, int, int]]:
        """Per unit directly beneath the org unit: how many of its figures are met / not met
        (the units' own figures, or their institutions' when the engine reports only those)."""
        children = [
            (code, name, path)
            for code, (name, path, _kind) in self.units.items()
            if path.count("/") == self.orgunit.path.count("/") + 1 and code != self.orgunit.code
        ]
        if not children:
            return []
        rows = [f for pack in self.packs for f in pack.figures if f["orgunit"] != self.orgunit.code]
        by_child: dict[str, Counter] = {code: Counter() for code, _, _ in children}
        judged = {f["orgunit"] for f in rows} & set(by_child)
        if judged:  # the engine's standing of each unit, as its own page counts it
            for code in judged:
                for pack in self.packs:
                    by_child[code].update(pack.counts_of(code))
            rows = []
        for figure in rows:  # no unit beneath is judged itself: count its institutions' figures
            child = self._child_of(figure["orgunit"], children)
            if child is not None:
                by_child[child][figure["status"]] += 1
        result = [(name, by_child[code]["met"], by_child[code]["not_met"])
                  for code, name, _ in children]  # fmt: skip
        return [row for row in result if row[1] or row[2]]

    def _child_of(self, code: str, children: list[tuple[str, str, str]]) -> str | None:
        path = self.units.get(code, ("", "", ""))[1]
        return next((c for c, _, p in children if path.startswith(p)), None)


def _series(pack: PackData, indicator_id: str) -> list[tuple[int, float]]:
    points = []
    for year, rows in sorted(pack.history.items()):
        value = next((f["value"] for f in rows if f["indicator"] == indicator_id), None)
        if value is not None:
            points.append((year, float(value)))
    return points


def years_with_data(orgunit: OrgUnit, year: int, span: int = HISTORY_YEARS) -> list[int]:
    """The years up to `year` (at most `span`) with any value reported beneath the org unit."""
    periods = (
        DataValue.objects.filter(orgunit__path__startswith=orgunit.path)
        .filter(period__gte=str(year - span + 1), period__lt=str(year + 1))
        .values_list("period", flat=True)
        .distinct()
    )
    found = {int(p[:4]) for p in periods if p[:4].isdigit() and year - span < int(p[:4]) <= year}
    return sorted(found | {year})


def latest_year(orgunit: OrgUnit, today_year: int) -> int:
    """The latest year up to `today_year` with yearly values beneath the org unit, else the
    year before `today_year` (reports are written about a year that has ended)."""
    return cache.cached(
        ("latest_year", orgunit.path, today_year),
        lambda: _latest_year(orgunit, today_year),
        scope=generation.Scope.of(orgunit.path, None, today_year),
    )


def _latest_year(orgunit: OrgUnit, today_year: int) -> int:
    periods = (
        DataValue.objects.filter(
            orgunit__path__startswith=orgunit.path, period__lte=str(today_year)
        )
        .filter(period__regex=r"^[0-9]{4}$")
        .order_by("-period")
        .values_list("period", flat=True)[:1]
    )
    return int(periods[0]) if periods else today_year - 1


def gather(kind: str, orgunit: OrgUnit, year: int, *, history: bool = True) -> ReportData:
    """The engine's figures for every adopted pack for the org unit in `year` (and, with
    `history`, in the years before it that have data)."""
    years = years_with_data(orgunit, year) if history else [year]
    packs = []
    for info in figures.adopted_packs(orgunit):
        evaluated = {y: figures.evaluate(info.code, orgunit.code, str(y)) for y in years}
        by_year = {y: e.figures for y, e in evaluated.items()}
        current = by_year[year]
        own = figures.own_figures(current, orgunit.code)
        history_rows = {y: figures.own_figures(rows, orgunit.code) for y, rows in by_year.items()}
        summary = figures.summarise(info, evaluated[year], str(year))
        packs.append(PackData(info, current, own, summary, history_rows, by_year, evaluated[year]))
    return ReportData(
        kind=kind,
        orgunit=orgunit,
        year=year,
        packs=packs,
        years=years,
        units=_units_beneath(orgunit),
        institution_count=_institution_count(orgunit),
    )


def _units_beneath(orgunit: OrgUnit) -> dict[str, tuple[str, str, str]]:
    rows = OrgUnit.objects.filter(path__startswith=orgunit.path).values_list(
        "code", "name", "path", "kind"
    )
    return {code: (name, path, kind) for code, name, path, kind in rows}


def _institution_count(orgunit: OrgUnit) -> int:
    if orgunit.kind == Kind.INSTITUTION:
        return 1
    return OrgUnit.objects.filter(
        path__startswith=orgunit.path, kind=Kind.INSTITUTION, closed_on__isnull=True
    ).count()
