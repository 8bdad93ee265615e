"""The evaluation engine: a pack, an org unit and a year → one result per indicator and org
unit, compared with the target.

How it works: `prepare.fill` fills four temporary tables with set-based statements (the tree as
it stood at the year's end, who is beneath whom, the year's figures, the techniques), then the
computed indicators of one coverage (the same covered institutions, judged at the same units)
run as one compiled SQL statement, each indicator's columns cut from it (`evaluation.sql`,
decision 0020; on DuckDB two run side by side). Each statement's rows stay columns (`_Block`): the statuses of every row are decided
column-wise with numpy, the verdict is read from them, and a `Result` object is built only when
asked for — one unit's (`Evaluation.at`, what a page shows) or all of them on first iteration
(`LazyResults`). A province has 220,000 results; building them all takes seconds, deciding
them a fraction of one.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

import numpy as np
from sqlglot import exp

from xinglin.evaluation import backends, cache
from xinglin.evaluation.backends import (
    ANALYTIC,
    BACKENDS,
    DATABASE,
    LARGE_SCOPE_BACKENDS,
    SPARK,
    WAREHOUSE,
    AnalyticCursor,
    Cursor,
    choose_backend,
    large_scope_backend,
    select_columns,
)
from xinglin.evaluation.prepare import elements_of, fill, read_units
from xinglin.evaluation.results import (
    _STATUS_CODES,
    ABOVE_100,
    AWAITING_EVIDENCE,
    DATA_ERROR,
    DIGITS,
    FALLING_SHORT,
    MET,
    NO_DATA,
    NOT_APPLICABLE,
    NOT_MET,
    STATUSES,
    TARGET_UNSET,
    WITHOUT_DENOMINATOR,
    LazyResults,
    Result,
    Verdict,
    _Block,
    _Evidence,
    _Sources,
    _Units,
    _verdict,
)
from xinglin.evaluation.sql import (
    CompiledCoverage,
    CompiledIndicator,
    compile_coverage,
    compile_coverages,
    compile_indicator,
)
from xinglin.evaluation.statements import (
    DIALECTS,
    column,
    eq,
    mark,
    render,
    table,
    text,
)
from xinglin.lib import periods
from xinglin.network.models import OrgUnit
from xinglin.plans.actions import evidence_statuses_for_units
from xinglin.standards import categories
from xinglin.standards.expressions import Target
from xinglin.standards.loader import Pack, PackIndicator, get_pack, read_elements
from xinglin.standards.models import BureauTarget
from xinglin.warehouse.engine import Warehouse

# the engine's public names (other apps import them from here)
__all__ = [
    "BACKENDS",
    "DATABASE",
    "DIALECTS",
    "SPARK",
    "STATUSES",
    "WAREHOUSE",
    "AWAITING_EVIDENCE",
    "DATA_ERROR",
    "MET",
    "NOT_APPLICABLE",
    "NOT_MET",
    "NO_DATA",
    "TARGET_UNSET",
    "Evaluation",
    "EvaluationError",
    "LazyResults",
    "Result",
    "Verdict",
    "choose_backend",
    "evaluate",
    "large_scope_backend",
]

_T = TypeVar("_T")

CACHE_MAX_RESULTS = 20_000  # larger evaluations (a province) are not kept in memory

log = logging.getLogger("xinglin.evaluation")


class EvaluationError(ValueError):
    """An unknown pack, org unit or a period the pack cannot be evaluated for."""


@dataclass
class Evaluation:
    pack: Pack
    orgunit: OrgUnit
    period: str
    results: Sequence[Result]  # a list, or the engine's LazyResults
    verdict: Verdict
    seconds: float
    backend: str = DATABASE  # where the figures were computed: database | warehouse | spark
    data_as_of: str | None = None  # the export's time when backend is warehouse or spark

    def at(self, code: str) -> list[Result]:
        if isinstance(self.results, LazyResults) and not self.results.built:
            return self.results.at(code)  # only this unit's results are built
        return list(self._by_unit().get(code, ()))

    def standing(self, code: str) -> Verdict:
        """The verdict and counts of any unit of the evaluation (a city scorecard's row for
        a county, the league table's column): the same reckoning as `verdict`."""
        if code == self.orgunit.code:
            return self.verdict
        kept: dict[str, Verdict] = self.__dict__.setdefault("_standings", {})
        if code not in kept:
            if isinstance(self.results, LazyResults):
                kept[code] = _verdict(self.results.standing(code))
            else:
                kept[code] = _verdict(self.at(code))
        return kept[code]

    def result(self, indicator: str, code: str | None = None) -> Result:
        code = code or self.orgunit.code
        return next(r for r in self.at(code) if r.indicator == indicator)

    def _by_unit(self) -> dict[str, list[Result]]:
        # built once: pages look up one unit's results many times (trends, children)
        index = self.__dict__.get("_index")
        if index is None or index[0] != len(self.results):
            by_unit: dict[str, list[Result]] = {}
            for r in self.results:
                by_unit.setdefault(r.orgunit, []).append(r)
            index = self.__dict__["_index"] = (len(self.results), by_unit)
        return index[1]


# ---- public entry points -------------------------------------------------------------


def evaluate(
    pack: str | Pack,
    orgunit: str | OrgUnit,
    period: str,
    *,
    tree: bool = True,
    language: str = "zh",
    backend: str = "auto",
    warehouse: Warehouse | None = None,
    stratum: dict[str, str] | None = None,
) -> Evaluation:
    """Evaluate every indicator of `pack` for `orgunit` in the year `period`, and (with `tree`)
    for every org unit beneath it that an indicator covers.

    `backend`: `database` (the operational database), `warehouse` (DuckDB over the Parquet
    export, `xinglin warehouse export`), `spark` (Spark SQL over the same export:
    warehouse.spark, settings.SPARK_MASTER) or `auto` — for scopes of more than
    backends.WAREHOUSE_MIN_INSTITUTIONS institutions, when an export exists, the large-scope backend of
    the settings (LARGE_SCOPE_BACKEND: warehouse or spark), else the database. The figures are
    the same on every backend; `Evaluation.backend` says which one ran.

    `stratum` ({category code: option code}, e.g. {"sex": "F"}): every element with that
    category counts only its option combinations in the stratum (the women of a sex-split
    count); elements without it count whole. The figures of a stratum are its counts: a rate
    whose denominator is not split (residents 65+) is not a rate of the stratum, so callers
    show a stratum's numerator (FHIR stratifiers), not its status."""
    started = time.perf_counter()
    chosen = _pack(pack)
    year = _year(period)
    if backend not in BACKENDS:
        raise EvaluationError(f"unknown backend {backend!r}: one of {', '.join(BACKENDS)}")
    strata = dict(stratum or {})
    try:
        categories.check_stratum(strata)
    except ValueError as error:
        raise EvaluationError(str(error)) from error
    store = warehouse or backends.default_warehouse()
    if backend == "auto":
        backend = choose_backend(orgunit, store)
    if backend in LARGE_SCOPE_BACKENDS and backends.export_time_of(store) is None:
        raise EvaluationError(f"no warehouse export under {store.root}: run `xinglin"
                              f" warehouse export` first")  # fmt: skip
    run = _Run(chosen, year, tree, language, backend, store, started, strata)
    if backend in LARGE_SCOPE_BACKENDS:  # the export is a snapshot; a province is too big to keep
        return _evaluate(run, orgunit)
    code = orgunit.code if isinstance(orgunit, OrgUnit) else str(orgunit)
    # id(pack): packs built in tests share codes; the entry keeps its pack alive, so the id
    # cannot be reused while the entry exists
    # today: which forms are due yet (collection.completeness) changes with the day
    key = ("evaluate", chosen.code, id(chosen), code, year.code, tree, language, date.today(),
           tuple(sorted(strata.items())))  # fmt: skip

    def compute() -> Evaluation:
        return _evaluate(run, orgunit)

    kept: Evaluation = cache.cached(
        key, compute, keep=lambda evaluation: len(evaluation.results) <= CACHE_MAX_RESULTS
    )
    return kept


@dataclass(frozen=True)
class _Run:
    """One evaluation's settings, as `evaluate` decided them."""

    pack: Pack
    year: periods.Period
    tree: bool
    language: str
    backend: str
    warehouse: Warehouse
    started: float
    stratum: dict[str, str]


def _evaluate(run: _Run, orgunit: str | OrgUnit) -> Evaluation:
    pack, year, language, backend = run.pack, run.year, run.language, run.backend
    # read before the copy's files are: the copy holds at least what its manifest says
    as_of, behind = (
        backends.copy_state(run.warehouse, orgunit, year.year)
        if backend in LARGE_SCOPE_BACKENDS
        else (None, False)
    )
    if behind:  # the figures may lag the database: no cache keeps them (decision 0014)
        cache.dont_keep()
    with backends.cursor_for(backend, run.warehouse) as cursor:
        unit = _orgunit(orgunit, cursor)
        if cursor.vendor in ANALYTIC and isinstance(orgunit, OrgUnit):
            exported = _orgunit(unit.code, cursor)
            if exported.pk != unit.pk:  # a national export numbers the units anew
                unit = exported
        keys = fill(cursor, pack, unit, year, run.tree, run.stratum)

        def besides(units: _Units) -> tuple[dict[str, _Evidence], _Sources]:
            """The evidence items' rows and the figures' sources: on DuckDB and Spark while
            the indicators' statements run in their threads."""
            divisions = _divisions(cursor, unit)
            judged = {i.id: _evidence_units(i, unit, divisions) for i in pack.indicators}
            statuses = _evidence_statuses(pack, judged, year.year)
            evidence = {
                i.id: _Evidence(
                    pack=pack, indicator=i, name=i.name(language), period=year.code,
                    due=i.due_in(year.year), units=judged[i.id],
                    statuses=[statuses.get(where[0], {}).get(i.id, AWAITING_EVIDENCE)
                              for where in judged[i.id]],
                )
                for i in pack.indicators if not i.is_computed
            }  # fmt: skip
            return evidence, _sources(cursor, pack, units)

        blocks, units, (evidence, sources) = _computed_all(
            cursor, pack, keys, year, language, besides
        )
        parts: list[_Block | _Evidence] = [
            blocks[i.id] if i.is_computed else evidence[i.id] for i in pack.indicators
        ]
    results = LazyResults(parts, units, sources)
    verdict = _verdict(results.standing(unit.code))
    seconds = time.perf_counter() - run.started
    log.info("evaluate %s %s %s on %s: %d results in %.3f s%s", pack.code, unit.code, year.code,
             backend, len(results), seconds, f" (export of {as_of})" if as_of else "")  # fmt: skip
    return Evaluation(pack, unit, year.code, results, verdict, seconds, backend, as_of)


def _pack(pack: str | Pack) -> Pack:
    if isinstance(pack, Pack):
        return pack
    try:
        return get_pack(pack)
    except KeyError as error:
        raise EvaluationError(error.args[0]) from error


_UNIT_FIELDS = ("id", "code", "name", "kind", "division_level", "institution_type", "path")


def _orgunit(orgunit: str | OrgUnit, cursor: Cursor) -> OrgUnit:
    if isinstance(orgunit, OrgUnit):
        return orgunit
    if cursor.vendor not in ANALYTIC:
        unit = OrgUnit.objects.filter(code=orgunit).first()
        if unit is None:
            raise EvaluationError(f"unknown org unit {orgunit!r}")
        return unit
    select = (
        exp.select(*_UNIT_FIELDS)
        .from_(table(OrgUnit._meta.db_table))
        .where(eq(column(None, "code"), mark()))
    )
    cursor.execute(render(select, cursor.vendor), [str(orgunit)])
    row = cursor.fetchone()
    if row is None:
        raise EvaluationError(f"unknown org unit {orgunit!r}")
    return OrgUnit(**dict(zip(_UNIT_FIELDS, row, strict=True)))  # read from the export


def _year(period: str) -> periods.Period:
    try:
        parsed = periods.parse(str(period))
    except periods.PeriodError as error:
        raise EvaluationError(str(error)) from error
    if parsed.type != "yearly":
        raise EvaluationError(f"period {period!r}: packs are evaluated for a year, e.g. 2024")
    return parsed


# ---- computing -------------------------------------------------------------------------

# (pack, indicator) -> the indicator compiled alone: what it reads, its raw columns (its
# figures are computed by its coverage's statement, `_plan`)
_COMPILED: dict[tuple[str, str], CompiledIndicator] = {}


def _compiled(pack: Pack, indicator: PackIndicator) -> CompiledIndicator:
    key = (pack.code, indicator.id)
    if key not in _COMPILED:
        _COMPILED[key] = compile_indicator(indicator, _levels())
    return _COMPILED[key]


_LEVELS: dict[str, str] = {}


def _levels() -> dict[str, str]:
    if not _LEVELS:
        _LEVELS.update(read_elements())
    return _LEVELS


_elements = elements_of  # the name scorecard and older callers know


# (pack, its computed indicators, combined) -> the statements that compute them: one per
# coverage (`sql.compile_coverages`), or with COMBINE off one per indicator
_PLANS: dict[tuple[str, tuple[str, ...], bool], list[CompiledCoverage]] = {}
# Indicators of one coverage run as one statement (one pass over their memberships). Off: one
# statement per indicator, each its own `compile_indicator` (what the tests compare with).
COMBINE = True


def _plan(
    pack: Pack, computed: list[PackIndicator], vendor: str, elements: dict[str, int]
) -> list[tuple[CompiledCoverage, str]]:
    """The statements of the computed indicators, rendered for the vendor with the elements'
    ids (`_Units.elements`); compiled once, written once per vendor and ids. The ones
    computing more indicators first (two run side by side: the longest first)."""
    key = (pack.code, tuple(i.id for i in computed), COMBINE)
    if key not in _PLANS:
        if COMBINE:
            coverages = compile_coverages(computed, _levels())
        else:
            coverages = [compile_coverage([i], _levels()) for i in computed]
        coverages.sort(key=lambda coverage: -len(coverage.indicators))
        _PLANS[key] = coverages
    return [(coverage, coverage.sql(vendor, elements)) for coverage in _PLANS[key]]


def _computed_all(  # noqa: PLR0913 — the evaluation's parts, and what runs beside
    cursor: Cursor,
    pack: Pack,
    elements: dict[str, int],
    year: periods.Period,
    language: str,
    besides: Callable[[_Units], _T],
) -> tuple[dict[str, _Block], _Units, _T]:
    """Every computed indicator's block, the units (`read_units`), and what `besides`
    returns. The indicators of one coverage are computed by one statement (`_plan`). On
    DuckDB and Spark the statements run backends.PARALLEL at a time on forked cursors (both
    work outside the GIL) while this thread and cursor read the units, then run `besides`;
    a statement's columns wait for the units to become blocks. Elsewhere one after the
    other."""
    computed = [i for i in pack.indicators if i.is_computed]
    bureau = _bureau_values(computed, year)  # here, not in the threads (Django's connection)
    plan = _plan(pack, computed, cursor.vendor, elements)
    for indicator in computed:
        _compiled(pack, indicator)  # compile once, before any thread
    fast = backends.analytic(cursor)
    if fast is None or len(plan) < 2:
        units = read_units(cursor, elements)
        blocks = {indicator: block for coverage in plan
                  for indicator, block in _blocks(pack, coverage[0], _selected(cursor, coverage),
                                                  units, year, language, bureau)}  # fmt: skip
        return blocks, units, besides(units)

    parallel = backends.PARALLEL
    forks: list[AnalyticCursor] = [fast.fork() for _ in range(parallel)]
    queue = list(plan)  # list.pop is atomic: each thread takes the next statement
    ready: Future[_Units] = Future()

    def work(fork: AnalyticCursor) -> list[tuple[str, _Block]]:
        done: list[tuple[str, _Block]] = []
        while True:
            try:
                coverage = queue.pop(0)
            except IndexError:
                return done
            columns = _selected(fork, coverage)
            done += _blocks(pack, coverage[0], columns, ready.result(), year, language, bureau)

    try:
        with ThreadPoolExecutor(parallel) as pool:
            running = [pool.submit(work, fork) for fork in forks]
            try:
                units = read_units(cursor, elements)
            except BaseException as error:
                ready.set_exception(error)
                raise
            ready.set_result(units)
            beside = besides(units)
            finished = [pair for job in running for pair in job.result()]
    finally:
        for fork in forks:
            fork.close()
    return dict(finished), units, beside


def _selected(cursor: Cursor, coverage: tuple[CompiledCoverage, str]) -> list[np.ndarray]:
    """Run one coverage's statement: its columns, in unit-id order (a statement's rows come
    in any order — Spark's follows its partitions — and every backend lists the results the
    same way)."""
    compiled, sql = coverage
    columns = select_columns(cursor, sql, compiled.width)
    order = np.argsort(columns[0], kind="stable")
    return [cells[order] for cells in columns]


def _blocks(  # noqa: PLR0913 — the evaluation's parts, one statement's blocks
    pack: Pack,
    compiled: CompiledCoverage,
    columns: list[np.ndarray],
    units: _Units,
    year: periods.Period,
    language: str,
    bureau: dict[str, dict[str, float]],
) -> list[tuple[str, _Block]]:
    """Each of a coverage's indicators' block, from its own columns of the statement's."""
    blocks: list[tuple[str, _Block]] = []
    for indicator_id, positions in zip(compiled.indicators, compiled.columns, strict=True):
        indicator = pack.indicator(indicator_id)
        own = [columns[p] for p in positions]
        blocks.append((indicator_id, _block(pack, indicator, own, units, year, language, bureau)))
    return blocks


def _block(  # noqa: PLR0913 — the evaluation's parts, one indicator's columns
    pack: Pack,
    indicator: PackIndicator,
    columns: list[np.ndarray],
    units: _Units,
    year: periods.Period,
    language: str,
    bureau: dict[str, dict[str, float]] | None = None,
) -> _Block:
    """An indicator's statuses decided from its columns (id, covered, included, numerator,
    denominator, raw figures, value), in unit-id order."""
    compiled = _compiled(pack, indicator)
    unit_ids = columns[0].astype(np.int64)
    value = _rounded(columns[-1])
    covered = np.nan_to_num(columns[1], nan=0.0)
    included = np.nan_to_num(columns[2], nan=0.0)
    positions = units.positions(unit_ids)
    is_institution = units.is_institution[positions]
    # one status per row, the later rules overriding the earlier: not met, an institution short
    # of figures (no data), met, no value, no bureau target, impossible figures, nothing covered
    status = np.full(len(unit_ids), _STATUS_CODES[NOT_MET], dtype=np.int8)
    status[is_institution & (included < covered)] = _STATUS_CODES[NO_DATA]
    known = ~np.isnan(value)
    target = _target(indicator)
    key = target.key
    targets = _bureau_targets((bureau or {}).get(key, {}), unit_ids, units) if key else None
    met = np.zeros(len(unit_ids), dtype=bool)
    if targets is None:
        met[known] = target.met_mask(value[known])
    else:
        known_target = known & ~np.isnan(targets)
        met[known_target] = target.met_mask(value[known_target], targets[known_target])
    status[met] = _STATUS_CODES[MET]
    status[~known] = _STATUS_CODES[NO_DATA]
    if targets is not None:
        status[np.isnan(targets)] = _STATUS_CODES[TARGET_UNSET]
    error = _impossible(indicator, compiled, columns[3], columns[4], value)
    status[error > 0] = _STATUS_CODES[DATA_ERROR]
    if indicator.over:
        status[covered == 0] = _STATUS_CODES[NOT_APPLICABLE]
    short = is_institution & np.isin(status, [_STATUS_CODES[s] for s in FALLING_SHORT])
    falls_short = np.zeros(len(units.ids), dtype=bool)
    falls_short[positions[short]] = True
    return _Block(
        pack=pack,
        indicator=indicator,
        compiled=compiled,
        name=indicator.name(language),
        period=year.code,
        due=indicator.due_in(year.year),
        unit_ids=unit_ids,
        covered=columns[1],
        included=columns[2],
        numerator=columns[3],
        denominator=columns[4],
        raw=columns[5:-1],
        value=value,
        status=status,
        falls_short=falls_short,
        error=error,
        language=language,
        targets=targets,
    )


def _bureau_values(
    computed: list[PackIndicator], year: periods.Period
) -> dict[str, dict[str, float]]:
    """key -> unit code -> the bureau's own target for the year (standards.BureauTarget), for
    the pack's bureau-set targets. Read through Django on every backend, before any thread:
    the rows are few; by code, as a national export numbers the units anew."""

    keys = {_target(i).key for i in computed if _target(i).key}
    found: dict[str, dict[str, float]] = {key: {} for key in keys}
    if keys:
        rows = BureauTarget.objects.filter(key__in=keys, year=year.year)
        for key, code, value in rows.values_list("key", "orgunit__code", "value"):
            found[key][code] = value
    return found


def _target(indicator: PackIndicator) -> Target:
    """A computed indicator's target (the packs' loader requires one)."""
    if indicator.target is None:
        raise EvaluationError(f"indicator {indicator.id} has no target")
    return indicator.target


def _bureau_targets(found: dict[str, float], unit_ids: np.ndarray, units: _Units) -> np.ndarray:
    """Per row, the bureau's number for the unit (NaN where none is set: 目标未设定)."""
    codes = units.codes
    return np.array([found.get(codes[k], np.nan) for k in units.positions(unit_ids).tolist()],
                    dtype=np.float64)  # fmt: skip


def _impossible(
    indicator: PackIndicator,
    compiled: CompiledIndicator,
    numerator: np.ndarray,
    denominator: np.ndarray,
    value: np.ndarray,
) -> np.ndarray:
    """Per row, why the figure cannot be true (issue 17.6; results.ABOVE_100 …, 0 when it
    can): a numerator without its denominator (missing, or zero under a positive numerator),
    or a proportion above 100% — which is also a share of a population larger than the
    population (children managed 709 of 682)."""
    error = np.zeros(len(value), dtype=np.int8)
    if indicator.unit == "percent":
        with np.errstate(invalid="ignore"):
            error[value > 1 + 10.0**-DIGITS] = ABOVE_100
    if compiled.has_denominator:
        with np.errstate(invalid="ignore"):
            orphan = (~np.isnan(numerator) & (numerator != 0)
                      & (np.isnan(denominator) | (denominator == 0)))  # fmt: skip
        error[orphan] = WITHOUT_DENOMINATOR
    return error


_SCALE = 10.0**DIGITS
_SAFE = 2.0**40  # |value x 10^DIGITS| below this: its floating product is off by < 2^-13


def _rounded(values: np.ndarray) -> np.ndarray:
    """Python's round(value, DIGITS) (correctly rounded), as the scalar _round: SQLite,
    PostgreSQL and DuckDB must agree to the last bit. Column-wise where numpy's way —
    rint(value x 10^DIGITS) / 10^DIGITS — is provably the same: the product's rounding error
    (< 2^-13 below _SAFE) cannot carry it across a half-integer when it lies more than 10^-3
    from one, rint then picks round()'s integer n, and n / 10^DIGITS (both exact doubles) is
    the double nearest to n x 10^-DIGITS, which is what round() returns. The few other
    values (near a tie, huge, NaN) go through round() itself."""
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = values * _SCALE
        whole = np.rint(scaled)
        clear = (np.abs(scaled) < _SAFE) & (np.abs(np.abs(scaled - np.floor(scaled)) - 0.5) > 1e-3)
    out = whole / _SCALE
    for k in np.flatnonzero(~clear).tolist():
        v = float(values[k])
        out[k] = v if v != v else round(v, DIGITS)
    return out


def _divisions(cursor: Cursor, unit: OrgUnit) -> list[tuple[str, str, str]]:
    """(code, name, level) of the evaluated unit, if a division, and of every division in
    scope beneath it, in path order."""
    cursor.execute(
        "SELECT code, name, dlevel FROM xl_unit WHERE kind = 'division' AND in_scope = 1"
        " ORDER BY path"
    )
    return [(str(code), str(name), str(level)) for code, name, level in cursor.fetchall()]


def _evidence_units(
    indicator: PackIndicator, unit: OrgUnit, divisions: list[tuple[str, str, str]]
) -> list[tuple[str, str, str]]:
    """Where an evidence item is judged: at the division levels of its `judged_at` (a
    county's evidence is the county's, so a city evaluation holds each county's items);
    without judging levels, at the evaluated division and every county beneath it."""
    if indicator.is_computed:
        return []
    levels = [level for level in indicator.judged_at if level != "institution"]
    if levels:
        return [d for d in divisions if d[2] in levels]
    return [d for d in divisions if d[0] == unit.code or d[2] == "county"]


def _evidence_statuses(
    pack: Pack, judged: dict[str, list[tuple[str, str, str]]], year: int
) -> dict[str, dict[str, str]]:
    """Evidence items are settled by reviewers in the plans app (accepted evidence that
    covers the year → met): unit code -> indicator -> status."""
    ids = [i for i, where in judged.items() if where]
    codes = sorted({d[0] for where in judged.values() for d in where})
    if not ids or not codes:
        return {}
    # the units in one query (not one per unit): a unit the operational database does not
    # know (a warehouse-only one) has no evidence, and the caller's default for a unit left
    # out is what evidence_statuses says of an unknown unit (awaiting evidence)
    known: list[OrgUnit | str] = list(OrgUnit.objects.filter(code__in=codes).order_by("code"))
    return evidence_statuses_for_units(known, pack.code, ids, year=year)


def _sources(cursor: Cursor, pack: Pack, units: _Units) -> _Sources:
    """Where the derived elements' figures came from, per unit: a unit's own figures' sources
    and those of every institution beneath it. The figures of the elements with a derived
    value this year are read once; the divisions above each institution are the membership
    pairs the engine holds (`_Units.ancestors`), not a join of xl_member with xl_value; the
    (unit, element, source) rows are made unique column-wise."""
    unit, element, source, labels = _derived_figures(cursor)
    names = {key: code for code, key in units.elements.items()}
    reported = labels.index("reported") if "reported" in labels else -1
    derived = {names[int(key)] for key in np.unique(element[source != reported]).tolist()}
    sources = _Sources(
        derived=derived,
        elements={i.id: _elements(i) for i in pack.indicators},
        techniques={i.id for i in pack.indicators if "technique" in i.value},
        by_code=units.by_code,
    )
    if derived:  # spread when a Result first asks
        sources.spread = functools.partial(_spread, unit, element, source, labels, units, names)
    return sources


@functools.cache
def _derived_figures_sql(vendor: str) -> str:
    """The figures (unit, element, source) of the elements that have a derived one."""
    derived = (
        exp.select(column(None, "element_id"))
        .from_("xl_value")
        .where(exp.NEQ(this=column(None, "source"), expression=text("reported")))
    )
    select = (
        exp.select("orgunit_id", "element_id", "source")
        .from_("xl_value")
        .where(exp.In(this=column(None, "element_id"), query=derived.subquery()))
    )
    return render(select, vendor)


def _derived_figures(cursor: Cursor) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """The derived elements' figures as columns: unit ids, element ids, sources (as positions
    in the list of sources returned last)."""
    sql = _derived_figures_sql(cursor.vendor)
    fast = backends.analytic(cursor)
    if fast is not None:
        figures = fast.query_arrow(sql)
        encoded = figures.column(2).combine_chunks().dictionary_encode()
        return (
            figures.column(0).to_numpy().astype(np.int64),
            figures.column(1).to_numpy().astype(np.int64),
            encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64),
            [str(label) for label in encoded.dictionary.to_pylist()],
        )
    cursor.execute(sql)
    rows = cursor.fetchall()
    labels, source = np.unique(np.array([str(r[2]) for r in rows], dtype=object),
                               return_inverse=True)  # fmt: skip
    return (
        np.array([int(r[0]) for r in rows], dtype=np.int64),
        np.array([int(r[1]) for r in rows], dtype=np.int64),
        source.astype(np.int64),
        [str(label) for label in labels],
    )


def _spread(  # noqa: PLR0913 — the figures' columns and where they go
    unit: np.ndarray,
    element: np.ndarray,
    source: np.ndarray,
    labels: list[str],
    units: _Units,
    names: dict[int, str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The figures' (unit, element, source) at their own unit and at every division above it
    (`units.ancestors`: xl_member's pairs), each once: three columns (unit ids; element codes
    and sources as arrays of str, read per unit when a Result is built)."""
    division, institution = units.ancestors
    order = np.argsort(institution, kind="stable")
    below = institution[order]
    first = np.searchsorted(below, unit, "left")
    count = np.searchsorted(below, unit, "right") - first
    row = np.repeat(np.arange(len(unit)), count)
    # a figure's k-th division is at position first + k of the pairs sorted by institution
    k = np.arange(len(row)) - np.repeat(np.cumsum(count) - count, count)
    above = units.positions(division)[order[np.repeat(first, count) + k]]  # (sorted: fast)
    # (unit, element, source) as one integer, unit position x the (element, source) pairs
    # that occur + the pair's number: marked present in a boolean array, so each is kept once
    pairs, own = np.unique(element * len(labels) + source, return_inverse=True)
    width = len(pairs)
    present = np.zeros(len(units.ids) * width, dtype=bool)
    present[units.positions(unit) * width + own] = True
    present[above * width + own[row]] = True
    found = np.flatnonzero(present)
    codes = np.array([names[int(p) // len(labels)] for p in pairs.tolist()], dtype=object)
    words = np.array([labels[int(p) % len(labels)] for p in pairs.tolist()], dtype=object)
    return units.ids[found // width], codes[found % width], words[found % width]
