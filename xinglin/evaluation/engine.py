"""The evaluation engine: a pack, an org unit and a year → one result per indicator and org
unit, compared with the target.

How it works: `_prepare` fills four temporary tables with set-based statements (the tree as
it stood at the year's end, who is beneath whom, the year's figures, the techniques), then each
computed indicator runs as one compiled SQL statement (`evaluation.sql`; on DuckDB two run side
by side). Each statement's rows stay columns (`_Block`): the statuses of every row are decided
column-wise with numpy, the verdict is read from them, and a `Result` object is built only when
asked for — one unit's (`Evaluation.at`, what a page shows) or all of them on first iteration
(`LazyResults`). A province has 220,000 results; building them all takes seconds, deciding
them a fraction of one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.db import connection, transaction
from sqlglot import exp

from xinglin.collection import completeness
from xinglin.collection.models import DataValue, DeliveredTechnique
from xinglin.core import generation
from xinglin.evaluation import cache
from xinglin.evaluation.models import DerivedValue
from xinglin.evaluation.results import (  # noqa: F401 (Result, statuses: the engine's public names)
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
    _round,
    _Sources,
    _Units,
    _verdict,
)
from xinglin.evaluation.sql import CompiledIndicator, compile_indicator, transpile
from xinglin.lib import periods
from xinglin.network import opening
from xinglin.network.models import OrgUnit, OrgUnitChange, OrgUnitHistory
from xinglin.plans.actions import evidence_statuses_for_units
from xinglin.standards import categories
from xinglin.standards.expressions import element_codes
from xinglin.standards.loader import Pack, PackIndicator, get_pack, read_elements
from xinglin.standards.models import BureauTarget, DataElement, TechniqueItem
from xinglin.warehouse.engine import Warehouse, default_root
from xinglin.warehouse.export import export_time
from xinglin.warehouse.fresh import read_manifest
from xinglin.warehouse.session import WarehouseCursor
from xinglin.warehouse.spark import SparkCursor

DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres", "duckdb": "duckdb"}
AGGREGATIONS = {"sum": "SUM", "max": "MAX", "min": "MIN", "average": "AVG"}
DATABASE, WAREHOUSE, SPARK = "database", "warehouse", "spark"
BACKENDS = ("auto", DATABASE, WAREHOUSE, SPARK)
LARGE_SCOPE_BACKENDS = (WAREHOUSE, SPARK)  # settings.LARGE_SCOPE_BACKEND
ANALYTIC = ("duckdb", "spark")  # cursors over the Parquet export (the others: Django's)
# Above this many institutions beneath the evaluated unit (a city, a province) the engine runs
# over the Parquet export when one exists (on DuckDB, or on Spark SQL when the settings say so:
# LARGE_SCOPE_BACKEND); a county (~300) stays on the database.
WAREHOUSE_MIN_INSTITUTIONS = 2000
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
        kept = self.__dict__.setdefault("_standings", {})
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
    language="zh",
    backend: str = "auto",
    warehouse=None,
    stratum: dict[str, str] | None = None,
) -> Evaluation:
    """Evaluate every indicator of `pack` for `orgunit` in the year `period`, and (with `tree`)
    for every org unit beneath it that an indicator covers.

    `backend`: `database` (the operational database), `warehouse` (DuckDB over the Parquet
    export, `xinglin warehouse export`), `spark` (Spark SQL over the same export:
    warehouse.spark, settings.SPARK_MASTER) or `auto` — for scopes of more than
    WAREHOUSE_MIN_INSTITUTIONS institutions, when an export exists, the large-scope backend of
    the settings (LARGE_SCOPE_BACKEND: warehouse or spark), else the database. The figures are
    the same on every backend; `Evaluation.backend` says which one ran.

    `stratum` ({category code: option code}, e.g. {"sex": "F"}): every element with that
    category counts only its option combinations in the stratum (the women of a sex-split
    count); elements without it count whole. The figures of a stratum are its counts: a rate
    whose denominator is not split (residents 65+) is not a rate of the stratum, so callers
    show a stratum's numerator (FHIR stratifiers), not its status."""
    started = time.perf_counter()
    pack = _pack(pack)
    year = _year(period)
    if backend not in BACKENDS:
        raise EvaluationError(f"unknown backend {backend!r}: one of {', '.join(BACKENDS)}")
    stratum = dict(stratum or {})
    try:
        categories.check_stratum(stratum)
    except ValueError as error:
        raise EvaluationError(str(error)) from error
    warehouse = warehouse or _default_warehouse()
    if backend == "auto":
        backend = choose_backend(orgunit, warehouse)
    if backend in LARGE_SCOPE_BACKENDS and _export_time(warehouse) is None:
        raise EvaluationError(f"no warehouse export under {warehouse.root}: run `xinglin"
                              f" warehouse export` first")  # fmt: skip
    if backend in LARGE_SCOPE_BACKENDS:  # the export is a snapshot; a province is too big to keep
        return _evaluate(pack, orgunit, year, tree, language, backend, warehouse, started, stratum)
    code = orgunit.code if isinstance(orgunit, OrgUnit) else str(orgunit)
    # id(pack): packs built in tests share codes; the entry keeps its pack alive, so the id
    # cannot be reused while the entry exists
    # today: which forms are due yet (collection.completeness) changes with the day
    key = ("evaluate", pack.code, id(pack), code, year.code, tree, language, date.today(),
           tuple(sorted(stratum.items())))  # fmt: skip
    return cache.cached(
        key,
        lambda: _evaluate(
            pack, orgunit, year, tree, language, backend, warehouse, started, stratum
        ),
        keep=lambda evaluation: len(evaluation.results) <= CACHE_MAX_RESULTS,
    )


def _evaluate(
    pack, orgunit, year, tree, language, backend, warehouse, started, stratum=None
) -> Evaluation:
    # read before the copy's files are: the copy holds at least what its manifest says
    as_of, behind = _copy_state(warehouse) if backend in LARGE_SCOPE_BACKENDS else (None, False)
    if behind:  # the figures may lag the database: no cache keeps them (decision 0014)
        cache.dont_keep()
    with _cursor(backend, warehouse) as cursor:
        unit = _orgunit(orgunit, cursor)
        if cursor.vendor in ANALYTIC and isinstance(orgunit, OrgUnit):
            exported = _orgunit(unit.code, cursor)
            if exported.pk != unit.pk:  # a national export numbers the units anew
                unit = exported
        units = _prepare(cursor, pack, unit, year, tree, stratum or {})
        blocks = _computed_all(cursor, pack, units, year, language)
        parts: list[_Block | Result] = []
        divisions = _divisions(cursor, unit)
        judged = {i.id: _evidence_units(i, unit, divisions) for i in pack.indicators}
        evidence = _evidence_statuses(pack, judged, year.year)
        for indicator in pack.indicators:
            if indicator.is_computed:
                parts.append(blocks[indicator.id])
                continue
            for code, name, level in judged[indicator.id]:
                status = evidence.get(code, {}).get(indicator.id, AWAITING_EVIDENCE)
                parts.append(_evidence(pack, indicator, (code, name, level), year, language,
                                       status))  # fmt: skip
        sources = _sources(cursor, pack, units)
    results = LazyResults(parts, units, sources)
    verdict = _verdict(results.standing(unit.code))
    seconds = time.perf_counter() - started
    log.info("evaluate %s %s %s on %s: %d results in %.3f s%s", pack.code, unit.code, year.code,
             backend, len(results), seconds, f" (export of {as_of})" if as_of else "")  # fmt: skip
    return Evaluation(pack, unit, year.code, results, verdict, seconds, backend, as_of)


def choose_backend(orgunit: str | OrgUnit, warehouse=None) -> str:
    """For a large scope, when an export exists, the large-scope backend of the settings
    (`warehouse`: DuckDB, or `spark`); else `database`."""
    warehouse = warehouse or _default_warehouse()
    if _export_time(warehouse) is None:
        return DATABASE
    large = large_scope_backend()
    unit = orgunit if isinstance(orgunit, OrgUnit) else OrgUnit.objects.filter(code=orgunit).first()
    if unit is None:
        return large  # known to the export only
    beneath = OrgUnit.objects.filter(path__startswith=unit.path, kind="institution").count()
    return large if beneath > WAREHOUSE_MIN_INSTITUTIONS else DATABASE


def large_scope_backend() -> str:
    """settings.LARGE_SCOPE_BACKEND (`XINGLIN_LARGE_SCOPE_BACKEND`): warehouse or spark."""

    return getattr(settings, "LARGE_SCOPE_BACKEND", WAREHOUSE) or WAREHOUSE


def _default_warehouse():
    return Warehouse(default_root())


def _copy_state(warehouse) -> tuple[str | None, bool]:
    """When the warehouse copy was read from the database, and whether the database has
    changed since (its data generation moved, or the copy does not say which it holds)."""

    root = Path(warehouse.root)
    token = read_manifest(root).get("generation")
    return export_time(root), token is None or token != generation.current()


def _export_time(warehouse) -> str | None:
    return export_time(Path(warehouse.root))


@contextmanager
def _cursor(backend: str, warehouse):
    if backend == WAREHOUSE:
        with WarehouseCursor(warehouse) as cursor:
            yield cursor
        return
    if backend == SPARK:
        with SparkCursor(warehouse) as cursor:
            yield cursor
        return
    with _snapshot(), connection.cursor() as cursor:
        cursor.vendor = connection.vendor
        yield cursor


@contextmanager
def _snapshot():
    """One transaction for the evaluation's statements, so that they all read the same data.
    The engine writes only its TEMP tables. On SQLite it is a deferred transaction: a reader
    of the WAL's snapshot (TEMP tables live in their own file), while `transaction.atomic()`
    begins IMMEDIATE (the connection's mode, for writers) and would hold the database's one
    write lock for the whole evaluation, seconds for a county, during which every save,
    approval and login waits, and fails after the busy timeout (W7, docs/benchmarks.md)."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("BEGIN DEFERRED")
        try:
            yield
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")


def _pack(pack: str | Pack) -> Pack:
    if isinstance(pack, Pack):
        return pack
    try:
        return get_pack(pack)
    except KeyError as error:
        raise EvaluationError(error.args[0]) from error


_UNIT_FIELDS = ("id", "code", "name", "kind", "division_level", "institution_type", "path")


def _orgunit(orgunit: str | OrgUnit, cursor) -> OrgUnit:
    if isinstance(orgunit, OrgUnit):
        return orgunit
    if cursor.vendor not in ANALYTIC:
        unit = OrgUnit.objects.filter(code=orgunit).first()
        if unit is None:
            raise EvaluationError(f"unknown org unit {orgunit!r}")
        return unit
    cursor.execute(
        f"SELECT {', '.join(_UNIT_FIELDS)} FROM {OrgUnit._meta.db_table} WHERE code = %s",
        [str(orgunit)],
    )
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


# ---- preparing the temporary tables ---------------------------------------------------

_TABLES = {
    "xl_unit": "id INTEGER PRIMARY KEY, code VARCHAR(32), name VARCHAR(100), kind VARCHAR(12),"
    " itype VARCHAR(32), dlevel VARCHAR(10), parent_id INTEGER, path VARCHAR(400),"
    " is_open INTEGER, in_scope INTEGER, roles VARCHAR(200), ownership VARCHAR(8)",
    "xl_member": "target_id INTEGER, inst_id INTEGER, itype VARCHAR(32), roles VARCHAR(200),"
    " ownership VARCHAR(8)",
    "xl_value": "element VARCHAR(64), orgunit_id INTEGER, value {float}, source VARCHAR(40)",
    "xl_tech": "orgunit_id INTEGER PRIMARY KEY, categories INTEGER, items INTEGER",
}
_INDEXES = {
    "xl_member_target": "xl_member (target_id, itype)",
    "xl_value_unit": "xl_value (orgunit_id, element)",
}


def _create_tables(cursor) -> None:
    real = "REAL" if cursor.vendor == "sqlite" else "DOUBLE PRECISION"
    # DuckDB: plain tables of the evaluation's private in-memory database, so that forked
    # cursors (statements run side by side) see them
    temp = "" if cursor.vendor == "duckdb" else "TEMP "
    for name, columns in _TABLES.items():
        cursor.execute(f"CREATE {temp}TABLE IF NOT EXISTS {name} ({columns.format(float=real)})")
        cursor.execute(f"DELETE FROM {name}")
    if cursor.vendor in ANALYTIC:
        return  # DuckDB and Spark join by hashing; an index would only slow the inserts down
    for name, target in _INDEXES.items():
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def _path_on(cursor, unit: OrgUnit, day: str) -> str:
    cursor.execute(
        f"SELECT path FROM {OrgUnitHistory._meta.db_table} WHERE orgunit_id = %s"
        f" AND valid_from <= %s AND (valid_to IS NULL OR valid_to > %s)"
        f" ORDER BY valid_from LIMIT 1",
        [unit.pk, day, day],
    )
    row = cursor.fetchone()
    return row[0] if row else unit.path


def _prepare(
    cursor, pack: Pack, unit: OrgUnit, year: periods.Period, tree: bool, stratum=None
) -> _Units:
    _create_tables(cursor)
    end = year.end.isoformat()
    unit_t, history_t = OrgUnit._meta.db_table, OrgUnitHistory._meta.db_table
    cursor.execute(
        f"INSERT INTO xl_unit (id, code, name, kind, itype, dlevel, parent_id, path, is_open,"
        f" in_scope, roles, ownership) SELECT o.id, o.code, o.name, o.kind, o.institution_type,"
        f" o.division_level,"
        f" COALESCE(h.parent_id, o.parent_id), COALESCE(h.path, o.path),"
        f" {_is_open(year)},"
        f" CASE WHEN %s = 1 OR o.id = %s THEN 1 ELSE 0 END,"
        f" COALESCE(r.old, o.roles, ''),"
        f" COALESCE(NULLIF(COALESCE(w.old, o.ownership), ''), 'public')"
        f" FROM {unit_t} AS o LEFT JOIN {history_t} AS h ON h.orgunit_id = o.id"
        f" AND h.valid_from <= %s AND (h.valid_to IS NULL OR h.valid_to > %s)"
        f" LEFT JOIN ({_as_of('roles')}) AS r ON r.orgunit_id = o.id AND r.rn = 1"
        f" LEFT JOIN ({_as_of('ownership')}) AS w ON w.orgunit_id = o.id AND w.rn = 1"
        f" WHERE COALESCE(h.path, o.path) LIKE %s",
        [1 if tree else 0, unit.pk, end, end, end, end,
         _path_on(cursor, unit, end) + "%"],
    )  # fmt: skip
    cursor.execute(_MEMBERS)
    _prepare_values(cursor, pack, year, stratum or {})
    _prepare_techniques(cursor, year)
    if cursor.vendor == "postgresql":
        # autovacuum never analyzes temporary tables: without statistics the planner takes
        # each for a row or two and runs the indicators' statements as nested loops (a
        # province, W1: 8 minutes instead of 12 s)
        cursor.execute("ANALYZE xl_unit, xl_member, xl_value, xl_tech")
    cursor.execute(
        "SELECT id, code, name, kind, itype, dlevel, path, is_open FROM xl_unit ORDER BY id"
    )
    rows = {row[0]: row[1:] for row in cursor.fetchall()}
    pairs = _select_columns(
        cursor,
        "SELECT target_id, inst_id FROM xl_member WHERE target_id <> inst_id ORDER BY target_id",
        2,
    )
    return _Units(
        ancestors=(pairs[0].astype(np.int64), pairs[1].astype(np.int64)),
        rows=rows,
        root_id=unit.pk,
        division_paths={r[5]: i for i, r in rows.items() if r[2] == "division"},
        ids=np.fromiter(rows, dtype=np.int64, count=len(rows)),
        is_institution=np.fromiter(
            (r[2] == "institution" for r in rows.values()), dtype=bool, count=len(rows)
        ),
        by_code={r[0]: i for i, r in rows.items()},
    )


def _is_open(year: periods.Period) -> str:
    """1 when the unit aliased o is open during the year (network.opening's rule), else 0."""
    is_open = opening.open_sql("o", opening.day(year.start), opening.day(year.end))
    return exp.Case().when(is_open, exp.Literal.number(1)).else_(exp.Literal.number(0)).sql()


def _as_of(field: str) -> str:
    """Per unit, its `field` (roles, ownership) as it stood on the day of the parameter: the
    old value of the first recorded change after that day (the row rn = 1; no row when none:
    the current value holds). One rule for every backend; the warehouse exports
    network_orgunitchange. A join, not a correlated subquery with LIMIT: Spark SQL refuses
    those."""
    change_t = OrgUnitChange._meta.db_table
    return (
        f"SELECT c.orgunit_id AS orgunit_id, c.old AS old, ROW_NUMBER() OVER (PARTITION BY"
        f" c.orgunit_id ORDER BY c.valid_from, c.id) AS rn FROM {change_t} AS c"
        f" WHERE c.field = '{field}' AND c.valid_from > %s"
    )


# Who is beneath whom, walking up parent ids (a hash or index join per level of the tree).
# xl_unit's parent_id and path come from the same history row, so the ancestors by parent are
# exactly the divisions whose path is a prefix of the institution's. The first form, LIKE on
# paths, is a nested loop: a province's 30,000 institutions x 1,600 divisions took 3 s on
# DuckDB, 10 s on PostgreSQL and 11.6 s on SQLite; this takes 0.015 s on DuckDB, 0.3 s on the
# others (bench/bench_w1_peers.py).
_MEMBERS = (
    "INSERT INTO xl_member (target_id, inst_id, itype, roles, ownership) WITH RECURSIVE up"
    " (inst_id, itype, roles, ownership, target_id) AS (SELECT id, itype, roles, ownership,"
    " parent_id FROM xl_unit WHERE kind = 'institution' AND is_open = 1 UNION ALL SELECT"
    " up.inst_id, up.itype, up.roles, up.ownership, u.parent_id FROM up"
    " JOIN xl_unit AS u ON u.id = up.target_id WHERE u.parent_id IS NOT NULL)"
    " SELECT up.target_id, up.inst_id, up.itype, up.roles, up.ownership FROM up"
    " JOIN xl_unit AS u ON u.id = up.target_id WHERE u.kind = 'division' AND u.in_scope = 1"
    " UNION ALL SELECT i.id, i.id, i.itype, i.roles, i.ownership FROM xl_unit AS i"
    " WHERE i.kind = 'institution' AND i.is_open = 1 AND i.in_scope = 1"
)


def _year_codes(year: periods.Period) -> dict[str, list[str]]:
    return {
        "yearly": [year.code],
        "quarterly": [f"{year.code}Q{q}" for q in range(1, 5)],
        "monthly": [m.code for m in year.months()],
    }


def _prepare_values(cursor, pack: Pack, year: periods.Period, stratum=None) -> None:
    codes = sorted({c for i in pack.indicators if i.is_computed for c in _elements(i)})
    timeliness = {completeness.DUE, completeness.ON_TIME}
    if timeliness & set(codes):  # computed from the submissions, never entered
        completeness.insert_yearly_figures(cursor, year)
        codes = [c for c in codes if c not in timeliness]
    cursor.execute(
        f"SELECT id, code, period_type, aggregation FROM {DataElement._meta.db_table}"
        f" WHERE code IN ({', '.join(['%s'] * len(codes or ['']))})",
        codes or [""],
    )
    elements = cursor.fetchall()
    groups: dict[tuple[str, str], list[int]] = {}
    split = categories.split_elements()  # element code -> its categories (reported per combo)
    split_ids = {pk for pk, code, _type, _aggregation in elements if code in split}
    # a stratum: the combinations each split element counts (an element it does not split: all)
    only = {}
    for pk, code, _type, _aggregation in elements:
        chosen = categories.stratum_combos(split[code], stratum or {}) if code in split else None
        if chosen is not None:
            only[pk] = chosen
    for pk, _code, period_type, aggregation in elements:
        groups.setdefault((period_type, aggregation), []).append(pk)
    by_type = _year_codes(year)
    for (period_type, aggregation), ids in sorted(groups.items()):
        _insert_values(cursor, ids, by_type[period_type], aggregation, split_ids, only)


def _insert_values(
    cursor,
    element_ids: list[int],
    codes: list[str],
    aggregation: str,
    split_ids=frozenset(),
    only: dict[int, list[str]] | None = None,
) -> None:
    """The year's figure of each element and unit: its periods' values (a derived value
    replaces the reported one of the same period) combined by the element's aggregation. The
    value of an element with categories (`split_ids`) in a period is the sum of its option
    combinations' values (its total; decision 0013), or of those in `only` (element id ->
    combination codes: a stratum)."""
    only = only or {}
    derived_t, value_t = DerivedValue._meta.db_table, DataValue._meta.db_table
    element_t = DataElement._meta.db_table
    in_periods = ", ".join(["%s"] * len(codes))
    cursor.execute(
        f"SELECT DISTINCT element_id FROM {derived_t} WHERE period IN ({in_periods})"
        f" AND element_id IN ({', '.join(['%s'] * len(element_ids))})",
        [*codes, *element_ids],
    )
    derived = sorted(row[0] for row in cursor.fetchall())
    plain = [pk for pk in element_ids if pk not in derived and pk not in split_ids]
    totalled = [
        pk for pk in element_ids if pk not in derived and pk in split_ids and pk not in only
    ]
    stratified = [pk for pk in element_ids if pk not in derived and pk in only]
    # only elements that have derived values pay for the per-row "is there a derived one?"
    facts = [
        (
            f"SELECT v.element_id AS element_id, v.orgunit_id AS orgunit_id, v.period AS period,"
            f" v.value AS value, 'reported' AS source FROM {value_t} AS v"
            f" JOIN xl_unit AS u ON u.id = v.orgunit_id WHERE v.period IN ({in_periods})"
            f" AND v.element_id IN ({', '.join(['%s'] * len(plain or [0]))})"
        )
    ]
    params = [*codes, *(plain or [0])]
    if totalled:  # only elements with categories pay for summing their combinations
        facts.append(
            f"SELECT v.element_id, v.orgunit_id, v.period, SUM(v.value), 'reported'"
            f" FROM {value_t} AS v JOIN xl_unit AS u ON u.id = v.orgunit_id"
            f" WHERE v.period IN ({in_periods})"
            f" AND v.element_id IN ({', '.join(['%s'] * len(totalled))})"
            f" GROUP BY v.element_id, v.orgunit_id, v.period"
        )
        params += [*codes, *totalled]
    for pk in stratified:  # a stratum: the element's combinations in it
        chosen = only[pk] or [""]  # none in it: no combination matches (no value)
        facts.append(
            f"SELECT v.element_id, v.orgunit_id, v.period, SUM(v.value), 'reported'"
            f" FROM {value_t} AS v JOIN xl_unit AS u ON u.id = v.orgunit_id"
            f" WHERE v.period IN ({in_periods}) AND v.element_id = %s"
            f" AND v.combo IN ({', '.join(['%s'] * len(chosen))})"
            f" GROUP BY v.element_id, v.orgunit_id, v.period"
        )
        params += [*codes, pk, *chosen]
    if derived:
        ids = ", ".join(["%s"] * len(derived))
        facts += [
            (
                f"SELECT d.element_id, d.orgunit_id, d.period, SUM(d.value), MAX(d.source)"
                f" FROM {derived_t} AS d JOIN xl_unit AS u ON u.id = d.orgunit_id"
                f" WHERE d.period IN ({in_periods}) AND d.element_id IN ({ids})"
                f" GROUP BY d.element_id, d.orgunit_id, d.period"
            ),
            (
                f"SELECT v.element_id, v.orgunit_id, v.period, SUM(v.value), 'reported'"
                f" FROM {value_t} AS v JOIN xl_unit AS u ON u.id = v.orgunit_id"
                f" WHERE v.period IN ({in_periods}) AND v.element_id IN ({ids})"
                f" AND NOT EXISTS (SELECT 1 FROM {derived_t} AS d WHERE d.element_id = v.element_id"
                f" AND d.orgunit_id = v.orgunit_id AND d.period = v.period)"
                f" GROUP BY v.element_id, v.orgunit_id, v.period"
            ),
        ]
        params += [*codes, *derived, *codes, *derived]
    facts = " UNION ALL ".join(facts)
    if len(codes) == 1:
        cursor.execute(
            f"WITH facts AS ({facts}) INSERT INTO xl_value (element, orgunit_id, value, source)"
            f" SELECT e.code, f.orgunit_id, f.value, f.source FROM facts AS f"
            f" JOIN {element_t} AS e ON e.id = f.element_id",
            params,
        )
        return
    if aggregation in AGGREGATIONS:
        cursor.execute(
            f"WITH facts AS ({facts}) INSERT INTO xl_value (element, orgunit_id, value, source)"
            f" SELECT e.code, f.orgunit_id, {AGGREGATIONS[aggregation]}(f.value), MAX(f.source)"
            f" FROM facts AS f JOIN {element_t} AS e ON e.id = f.element_id"
            f" GROUP BY e.code, f.orgunit_id",
            params,
        )
        return
    # `last`: the value of the latest period that has one
    cursor.execute(
        f"WITH facts AS ({facts}), ranked AS (SELECT f.element_id AS element_id, f.orgunit_id AS"
        f" orgunit_id, f.value AS value, f.source AS source, ROW_NUMBER() OVER (PARTITION BY"
        f" f.element_id, f.orgunit_id ORDER BY f.period DESC) AS rn FROM facts AS f)"
        f" INSERT INTO xl_value (element, orgunit_id, value, source)"
        f" SELECT e.code, r.orgunit_id, r.value, r.source FROM ranked AS r"
        f" JOIN {element_t} AS e ON e.id = r.element_id WHERE r.rn = 1",
        params,
    )


def _prepare_techniques(cursor, year: periods.Period) -> None:
    codes = [c for group in _year_codes(year).values() for c in group]
    delivered_t, item_t = DeliveredTechnique._meta.db_table, TechniqueItem._meta.db_table
    cursor.execute(
        f"INSERT INTO xl_tech (orgunit_id, categories, items) SELECT d.orgunit_id,"
        f" COUNT(DISTINCT i.category_id), COUNT(DISTINCT d.item_id) FROM {delivered_t} AS d"
        f" JOIN {item_t} AS i ON i.id = d.item_id JOIN xl_unit AS u ON u.id = d.orgunit_id"
        f" WHERE d.period IN ({', '.join(['%s'] * len(codes))}) GROUP BY d.orgunit_id",
        codes,
    )


# ---- computing -------------------------------------------------------------------------

_COMPILED: dict[tuple[str, str, str], CompiledIndicator] = {}


def _compiled(pack: Pack, indicator: PackIndicator, vendor: str) -> CompiledIndicator:
    dialect = DIALECTS.get(vendor, "postgres")
    key = (pack.code, indicator.id, dialect)
    if key not in _COMPILED:
        compiled = compile_indicator(indicator, _levels())
        compiled.sql = transpile(compiled.sql, dialect)
        _COMPILED[key] = compiled
    return _COMPILED[key]


_LEVELS: dict[str, str] = {}


def _levels() -> dict[str, str]:
    if not _LEVELS:
        _LEVELS.update(read_elements())
    return _LEVELS


def _elements(indicator: PackIndicator) -> list[str]:
    return element_codes(indicator.expression) if indicator.expression else []


PARALLEL = 2  # DuckDB, Spark: indicator statements run side by side (each is small; 2 cores)


def _computed_all(cursor, pack, units: _Units, year, language) -> dict[str, _Block]:
    """Every computed indicator's block. On DuckDB and Spark the statements run PARALLEL at a
    time on forked cursors (both work outside the GIL); elsewhere one after the other."""
    computed = [i for i in pack.indicators if i.is_computed]
    bureau = _bureau_values(computed, year)  # here, not in the threads (Django's connection)
    if not hasattr(cursor, "fork") or len(computed) < 2:
        return {i.id: _computed(cursor, pack, i, units, year, language, bureau) for i in computed}

    for indicator in computed:
        _compiled(pack, indicator, cursor.vendor)  # compile once, before the threads
    forks = [cursor.fork() for _ in range(PARALLEL)]
    queue = list(computed)  # list.pop is atomic: each thread takes the next indicator

    def work(fork) -> list[tuple[str, _Block]]:
        done = []
        while True:
            try:
                indicator = queue.pop(0)
            except IndexError:
                return done
            done.append((indicator.id, _computed(fork, pack, indicator, units, year, language,
                                                 bureau)))  # fmt: skip

    try:
        with ThreadPoolExecutor(PARALLEL) as pool:
            finished = [pair for part in pool.map(work, forks) for pair in part]
    finally:
        for fork in forks:
            fork.close()
    return dict(finished)


def _computed(cursor, pack, indicator, units: _Units, year, language, bureau=None) -> _Block:
    compiled = _compiled(pack, indicator, cursor.vendor)
    columns = _select_columns(cursor, compiled.sql, 6 + len(compiled.raw_columns))
    # in unit-id order: a statement's rows come in any order (Spark's follows its partitions),
    # and every backend lists the results the same way
    order = np.argsort(columns[0], kind="stable")
    columns = [column[order] for column in columns]
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
    key = indicator.target.key
    targets = _bureau_targets((bureau or {}).get(key, {}), unit_ids, units) if key else None
    met = np.zeros(len(unit_ids), dtype=bool)
    if targets is None:
        met[known] = indicator.target.met_mask(value[known])
    else:
        known_target = known & ~np.isnan(targets)
        met[known_target] = indicator.target.met_mask(value[known_target], targets[known_target])
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
        due=indicator.deadline is None or year.year >= indicator.deadline,
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


def _bureau_values(computed, year) -> dict[str, dict[str, float]]:
    """key -> unit code -> the bureau's own target for the year (standards.BureauTarget), for
    the pack's bureau-set targets. Read through Django on every backend, before any thread:
    the rows are few; by code, as a national export numbers the units anew."""

    keys = {i.target.key for i in computed if i.target.key}
    found: dict[str, dict[str, float]] = {key: {} for key in keys}
    if keys:
        rows = BureauTarget.objects.filter(key__in=keys, year=year.year)
        for key, code, value in rows.values_list("key", "orgunit__code", "value"):
            found[key][code] = value
    return found


def _bureau_targets(found: dict[str, float], unit_ids: np.ndarray, units: _Units) -> np.ndarray:
    """Per row, the bureau's number for the unit (NaN where none is set: 目标未设定)."""
    return np.array([found.get(units.rows[int(i)][0], np.nan) for i in unit_ids.tolist()],
                    dtype=np.float64)  # fmt: skip


def _impossible(indicator, compiled, numerator, denominator, value) -> np.ndarray:
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


def _select_columns(cursor, sql: str, width: int) -> list[np.ndarray]:
    """A statement's result as float columns, NaN for NULL (DuckDB hands over Arrow
    columns; the operational databases' rows are turned around)."""
    if hasattr(cursor, "query_arrow"):
        table = cursor.query_arrow(sql)
        return [
            pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False) for column in table.columns
        ]
    cursor.execute(sql)
    rows = cursor.fetchall()
    if not rows:
        return [np.zeros(0) for _ in range(width)]
    return [
        np.array([np.nan if v is None else float(v) for v in column], dtype=np.float64)
        for column in zip(*rows, strict=True)
    ]


def _rounded(values: np.ndarray) -> np.ndarray:
    """Python's round() (correctly rounded), as the scalar _round: numpy's rounding may
    differ in the last bit, and SQLite, PostgreSQL and DuckDB must agree exactly."""
    return np.array([v if v != v else round(v, DIGITS) for v in values.tolist()], dtype=np.float64)


def _divisions(cursor, unit: OrgUnit) -> list[tuple[str, str, str]]:
    """(code, name, level) of the evaluated unit, if a division, and of every division in
    scope beneath it, in path order."""
    cursor.execute(
        "SELECT code, name, dlevel FROM xl_unit WHERE kind = 'division' AND in_scope = 1"
        " ORDER BY path"
    )
    return [tuple(row) for row in cursor.fetchall()]


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

    return evidence_statuses_for_units(codes, pack.code, ids, year=year)


def _evidence(
    pack: Pack, indicator: PackIndicator, unit: tuple[str, str, str], year, language, status: str
) -> Result:
    code, name, level = unit
    due = indicator.deadline is None or year.year >= indicator.deadline
    return Result(
        pack=pack.code,
        indicator=indicator.id,
        item=indicator.item,
        name=indicator.name(language),
        orgunit=code,
        orgunit_name=name,
        level=level,
        period=year.code,
        value=None,
        numerator=None,
        denominator=None,
        target="",
        unit="",
        status=status,
        gap=None,
        due=due,
        veto=indicator.veto,
        points=indicator.points,
        kind="evidence",
    )


def _sources(cursor, pack: Pack, units: _Units) -> _Sources:
    cursor.execute("SELECT DISTINCT element FROM xl_value WHERE source <> 'reported'")
    derived = {row[0] for row in cursor.fetchall()}
    detail: dict[tuple[str, str], set[str]] = {}
    if derived:
        marks = ", ".join(["%s"] * len(derived))
        cursor.execute(
            f"SELECT m.target_id, v.element, v.source FROM xl_member AS m JOIN xl_value AS v"
            f" ON v.orgunit_id = m.inst_id WHERE v.element IN ({marks})"
            f" UNION SELECT u.id, v.element, v.source FROM xl_unit AS u JOIN xl_value AS v"
            f" ON v.orgunit_id = u.id WHERE v.element IN ({marks})",
            [*derived, *derived],
        )
        for unit_id, element, source in cursor.fetchall():
            detail.setdefault((units.rows[unit_id][0], element), set()).add(source)
    return _Sources(
        derived=derived,
        detail=detail,
        elements={i.id: _elements(i) for i in pack.indicators},
        techniques={i.id for i in pack.indicators if "technique" in i.value},
    )
