"""The evaluation engine: a pack, an org unit and a year → one result per indicator and org
unit, compared with the target.

How it works: `_prepare` fills four temporary tables with set-based statements (the tree as
it stood at the year's end, who is beneath whom, the year's figures, the techniques), then each
computed indicator runs as one compiled SQL statement (`evaluation.sql`). Python only compares
the resulting figures with the targets and assembles the report.
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.db import connection, transaction

from xinglin.collection.models import DataValue, DeliveredTechnique
from xinglin.evaluation import cache
from xinglin.evaluation.models import DerivedValue
from xinglin.evaluation.sql import CompiledIndicator, compile_indicator, transpile
from xinglin.lib import periods
from xinglin.network.models import OrgUnit, OrgUnitHistory
from xinglin.standards.loader import Pack, PackIndicator, get_pack, read_elements
from xinglin.standards.models import DataElement, TechniqueItem

MET, NOT_MET, NO_DATA = "met", "not_met", "no_data"
NOT_APPLICABLE, AWAITING_EVIDENCE = "not_applicable", "awaiting_evidence"
STATUSES = (MET, NOT_MET, NO_DATA, NOT_APPLICABLE, AWAITING_EVIDENCE)
FALLING_SHORT = (NOT_MET, NO_DATA)
DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres", "duckdb": "duckdb"}
AGGREGATIONS = {"sum": "SUM", "max": "MAX", "min": "MIN", "average": "AVG"}
DIGITS = 9  # results are rounded so that SQLite and PostgreSQL agree to the last digit
DATABASE, WAREHOUSE = "database", "warehouse"
BACKENDS = ("auto", DATABASE, WAREHOUSE)
# Above this many institutions beneath the evaluated unit (a city, a province) the engine runs
# on DuckDB over the Parquet export when one exists; a county (~300) stays on the database.
WAREHOUSE_MIN_INSTITUTIONS = 2000
CACHE_MAX_RESULTS = 20_000  # larger evaluations (a province) are not kept in memory

log = logging.getLogger("xinglin.evaluation")


class EvaluationError(ValueError):
    """An unknown pack, org unit or a period the pack cannot be evaluated for."""


@dataclass
class Result:
    pack: str
    indicator: str
    item: int | None
    name: str
    orgunit: str
    orgunit_name: str
    level: str  # institution type or division level
    period: str
    value: float | None
    numerator: float | None
    denominator: float | None
    target: str
    unit: str
    status: str
    gap: float | None
    failing: list[str] = field(default_factory=list)
    why: dict[str, str] = field(default_factory=dict)
    included: int | None = None
    missing: int | None = None
    due: bool = True
    veto: bool = False
    points: float = 0.0
    sources: list[str] = field(default_factory=list)
    kind: str = "computed"

    def as_json(self) -> dict:
        return asdict(self)


@dataclass
class Verdict:
    """The evaluated org unit's overall standing: `met` only when every due indicator is met
    (a due veto item not met fails the unit whatever the score), `awaiting_evidence` when only
    evidence is outstanding."""

    status: str
    counts: dict[str, int]
    vetoed: list[str]
    score: float | None
    max_score: float | None
    not_due: int


@dataclass
class Evaluation:
    pack: Pack
    orgunit: OrgUnit
    period: str
    results: list[Result]
    verdict: Verdict
    seconds: float
    backend: str = DATABASE  # where the figures were computed: database | warehouse
    data_as_of: str | None = None  # the warehouse export's time when backend is warehouse

    def at(self, code: str) -> list[Result]:
        return list(self._by_unit().get(code, ()))

    def result(self, indicator: str, code: str | None = None) -> Result:
        code = code or self.orgunit.code
        return next(r for r in self._by_unit().get(code, ()) if r.indicator == indicator)

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
) -> Evaluation:
    """Evaluate every indicator of `pack` for `orgunit` in the year `period`, and (with `tree`)
    for every org unit beneath it that an indicator covers.

    `backend`: `database` (the operational database), `warehouse` (DuckDB over the Parquet
    export, `xinglin warehouse export`) or `auto` — the warehouse for scopes of more than
    WAREHOUSE_MIN_INSTITUTIONS institutions when an export exists, else the database. The
    figures are the same on every backend; `Evaluation.backend` says which one ran."""
    started = time.perf_counter()
    pack = _pack(pack)
    year = _year(period)
    if backend not in BACKENDS:
        raise EvaluationError(f"unknown backend {backend!r}: one of {', '.join(BACKENDS)}")
    warehouse = warehouse or _default_warehouse()
    if backend == "auto":
        backend = choose_backend(orgunit, warehouse)
    if backend == WAREHOUSE:  # the export is a snapshot already; a province is too big to keep
        return _evaluate(pack, orgunit, year, tree, language, backend, warehouse, started)
    code = orgunit.code if isinstance(orgunit, OrgUnit) else str(orgunit)
    # id(pack): packs built in tests share codes; the entry keeps its pack alive, so the id
    # cannot be reused while the entry exists
    key = ("evaluate", pack.code, id(pack), code, year.code, tree, language)
    return cache.cached(
        key,
        lambda: _evaluate(pack, orgunit, year, tree, language, backend, warehouse, started),
        keep=lambda evaluation: len(evaluation.results) <= CACHE_MAX_RESULTS,
    )


def _evaluate(pack, orgunit, year, tree, language, backend, warehouse, started) -> Evaluation:
    with _cursor(backend, warehouse) as cursor:
        unit = _orgunit(orgunit, cursor)
        units = _prepare(cursor, pack, unit, year, tree)
        results = []
        evidence = _evidence_statuses(pack, unit)
        for indicator in pack.indicators:
            if indicator.is_computed:
                results += _computed(cursor, pack, indicator, units, year, language)
            elif unit.kind == "division":  # evidence is about a county, not a clinic
                status = evidence.get(indicator.id, AWAITING_EVIDENCE)
                results.append(_evidence(pack, indicator, unit, year, language, status))
        _add_sources(cursor, results, pack, units)
    verdict = _verdict([r for r in results if r.orgunit == unit.code])
    seconds = time.perf_counter() - started
    as_of = _export_time(warehouse) if backend == WAREHOUSE else None
    log.info("evaluate %s %s %s on %s: %d results in %.3f s%s", pack.code, unit.code, year.code,
             backend, len(results), seconds, f" (export of {as_of})" if as_of else "")  # fmt: skip
    return Evaluation(pack, unit, year.code, results, verdict, seconds, backend, as_of)


def choose_backend(orgunit: str | OrgUnit, warehouse=None) -> str:
    """`warehouse` for a large scope when an export exists, else `database`."""
    warehouse = warehouse or _default_warehouse()
    if _export_time(warehouse) is None:
        return DATABASE
    unit = orgunit if isinstance(orgunit, OrgUnit) else OrgUnit.objects.filter(code=orgunit).first()
    if unit is None:
        return WAREHOUSE  # known to the export only
    beneath = OrgUnit.objects.filter(path__startswith=unit.path, kind="institution").count()
    return WAREHOUSE if beneath > WAREHOUSE_MIN_INSTITUTIONS else DATABASE


def _default_warehouse():
    from xinglin.warehouse.engine import Warehouse, default_root

    return Warehouse(default_root())


def _export_time(warehouse) -> str | None:
    from xinglin.warehouse.export import export_time

    return export_time(Path(warehouse.root))


@contextmanager
def _cursor(backend: str, warehouse):
    if backend == WAREHOUSE:
        from xinglin.warehouse.session import WarehouseCursor

        with WarehouseCursor(warehouse) as cursor:
            yield cursor
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.vendor = connection.vendor
        yield cursor


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
    if cursor.vendor != "duckdb":
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
    " is_open INTEGER, in_scope INTEGER",
    "xl_member": "target_id INTEGER, inst_id INTEGER, itype VARCHAR(32)",
    "xl_value": "element VARCHAR(64), orgunit_id INTEGER, value {float}, source VARCHAR(40)",
    "xl_tech": "orgunit_id INTEGER PRIMARY KEY, categories INTEGER, items INTEGER",
}
_INDEXES = {
    "xl_member_target": "xl_member (target_id, itype)",
    "xl_value_unit": "xl_value (orgunit_id, element)",
}


@dataclass
class _Units:
    """The prepared tree: id -> (code, name, kind, type or level, path, is_open)."""

    rows: dict[int, tuple]
    root_id: int
    division_paths: dict[str, int]  # path -> id, divisions only


def _create_tables(cursor) -> None:
    real = "REAL" if cursor.vendor == "sqlite" else "DOUBLE PRECISION"
    for name, columns in _TABLES.items():
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({columns.format(float=real)})")
        cursor.execute(f"DELETE FROM {name}")
    if cursor.vendor == "duckdb":
        return  # DuckDB joins by hashing; an index would only slow the inserts down
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


def _prepare(cursor, pack: Pack, unit: OrgUnit, year: periods.Period, tree: bool) -> _Units:
    _create_tables(cursor)
    start, end = year.start.isoformat(), year.end.isoformat()
    unit_t, history_t = OrgUnit._meta.db_table, OrgUnitHistory._meta.db_table
    cursor.execute(
        f"INSERT INTO xl_unit (id, code, name, kind, itype, dlevel, parent_id, path, is_open,"
        f" in_scope) SELECT o.id, o.code, o.name, o.kind, o.institution_type, o.division_level,"
        f" COALESCE(h.parent_id, o.parent_id), COALESCE(h.path, o.path),"
        f" CASE WHEN (o.opened_on IS NULL OR o.opened_on <= %s)"
        f" AND (o.closed_on IS NULL OR o.closed_on > %s) THEN 1 ELSE 0 END,"
        f" CASE WHEN %s = 1 OR o.id = %s THEN 1 ELSE 0 END"
        f" FROM {unit_t} AS o LEFT JOIN {history_t} AS h ON h.orgunit_id = o.id"
        f" AND h.valid_from <= %s AND (h.valid_to IS NULL OR h.valid_to > %s)"
        f" WHERE COALESCE(h.path, o.path) LIKE %s",
        [end, start, 1 if tree else 0, unit.pk, end, end, _path_on(cursor, unit, end) + "%"],
    )
    cursor.execute(_MEMBERS_DUCKDB if cursor.vendor == "duckdb" else _MEMBERS)
    _prepare_values(cursor, pack, year)
    _prepare_techniques(cursor, year)
    cursor.execute("SELECT id, code, name, kind, itype, dlevel, path, is_open FROM xl_unit")
    rows = {row[0]: row[1:] for row in cursor.fetchall()}
    return _Units(
        rows=rows,
        root_id=unit.pk,
        division_paths={r[5]: i for i, r in rows.items() if r[2] == "division"},
    )


_MEMBERS = (
    "INSERT INTO xl_member (target_id, inst_id, itype) SELECT u.id, i.id, i.itype"
    " FROM xl_unit AS u JOIN xl_unit AS i ON i.path LIKE u.path || '%'"
    " WHERE u.kind = 'division' AND u.in_scope = 1 AND i.kind = 'institution'"
    " AND i.is_open = 1 UNION ALL SELECT i.id, i.id, i.itype FROM xl_unit AS i"
    " WHERE i.kind = 'institution' AND i.is_open = 1 AND i.in_scope = 1"
)
# The same relation for DuckDB: "u.path is a prefix of i.path" as an equality join on each of
# i.path's '/'-bounded prefixes (a hash join), instead of LIKE (a nested loop: 30,000
# institutions x 1,600 divisions of a province took 3 s). Paths always end with '/', so the two
# are the same relation.
_MEMBERS_DUCKDB = (
    "INSERT INTO xl_member (target_id, inst_id, itype) SELECT u.id, i.id, i.itype FROM"
    " (SELECT id, itype, UNNEST(list_transform(range(2, len(string_split(path, '/'))),"
    " lambda k: array_to_string(string_split(path, '/')[1:k], '/') || '/')) AS prefix"
    " FROM xl_unit WHERE kind = 'institution' AND is_open = 1) AS i"
    " JOIN xl_unit AS u ON u.path = i.prefix WHERE u.kind = 'division' AND u.in_scope = 1"
    " UNION ALL SELECT i.id, i.id, i.itype FROM xl_unit AS i"
    " WHERE i.kind = 'institution' AND i.is_open = 1 AND i.in_scope = 1"
)


def _year_codes(year: periods.Period) -> dict[str, list[str]]:
    return {
        "yearly": [year.code],
        "quarterly": [f"{year.code}Q{q}" for q in range(1, 5)],
        "monthly": [m.code for m in year.months()],
    }


def _prepare_values(cursor, pack: Pack, year: periods.Period) -> None:
    codes = sorted({c for i in pack.indicators if i.is_computed for c in _elements(i)})
    cursor.execute(
        f"SELECT id, period_type, aggregation FROM {DataElement._meta.db_table}"
        f" WHERE code IN ({', '.join(['%s'] * len(codes or ['']))})",
        codes or [""],
    )
    elements = cursor.fetchall()
    groups: dict[tuple[str, str], list[int]] = {}
    for pk, period_type, aggregation in elements:
        groups.setdefault((period_type, aggregation), []).append(pk)
    by_type = _year_codes(year)
    for (period_type, aggregation), ids in sorted(groups.items()):
        _insert_values(cursor, ids, by_type[period_type], aggregation)


def _insert_values(cursor, element_ids: list[int], codes: list[str], aggregation: str) -> None:
    """The year's figure of each element and unit: its periods' values (a derived value
    replaces the reported one of the same period) combined by the element's aggregation."""
    derived_t, value_t = DerivedValue._meta.db_table, DataValue._meta.db_table
    element_t = DataElement._meta.db_table
    in_periods = ", ".join(["%s"] * len(codes))
    cursor.execute(
        f"SELECT DISTINCT element_id FROM {derived_t} WHERE period IN ({in_periods})"
        f" AND element_id IN ({', '.join(['%s'] * len(element_ids))})",
        [*codes, *element_ids],
    )
    derived = sorted(row[0] for row in cursor.fetchall())
    plain = [pk for pk in element_ids if pk not in derived]
    # only elements that have derived values pay for the per-row "is there a derived one?"
    facts = [
        f"SELECT v.element_id AS element_id, v.orgunit_id AS orgunit_id, v.period AS period,"
        f" v.value AS value, 'reported' AS source FROM {value_t} AS v"
        f" JOIN xl_unit AS u ON u.id = v.orgunit_id WHERE v.period IN ({in_periods})"
        f" AND v.element_id IN ({', '.join(['%s'] * len(plain or [0]))})"
    ]
    params = [*codes, *(plain or [0])]
    if derived:
        ids = ", ".join(["%s"] * len(derived))
        facts += [
            f"SELECT d.element_id, d.orgunit_id, d.period, SUM(d.value), MAX(d.source)"
            f" FROM {derived_t} AS d JOIN xl_unit AS u ON u.id = d.orgunit_id"
            f" WHERE d.period IN ({in_periods}) AND d.element_id IN ({ids})"
            f" GROUP BY d.element_id, d.orgunit_id, d.period",
            f"SELECT v.element_id, v.orgunit_id, v.period, v.value, 'reported'"
            f" FROM {value_t} AS v JOIN xl_unit AS u ON u.id = v.orgunit_id"
            f" WHERE v.period IN ({in_periods}) AND v.element_id IN ({ids})"
            f" AND NOT EXISTS (SELECT 1 FROM {derived_t} AS d WHERE d.element_id = v.element_id"
            f" AND d.orgunit_id = v.orgunit_id AND d.period = v.period)",
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
    from xinglin.standards.expressions import element_codes

    return element_codes(indicator.expression) if indicator.expression else []


def _round(value) -> float | None:
    return None if value is None else round(float(value), DIGITS)


def _computed(cursor, pack, indicator, units: _Units, year, language) -> list[Result]:
    compiled = _compiled(pack, indicator, cursor.vendor)
    cursor.execute(compiled.sql)
    due = indicator.deadline is None or year.year >= indicator.deadline
    results, institutions = [], []
    for row in cursor.fetchall():
        unit_id, covered, included, numerator, denominator = row[:5]
        raw, value = row[5:-1], _round(row[-1])
        code, name, kind, itype, dlevel, path, _open = units.rows[unit_id]
        status = _status(indicator, covered, included, value, kind)
        result = Result(
            pack=pack.code,
            indicator=indicator.id,
            item=indicator.item,
            name=indicator.name(language),
            orgunit=code,
            orgunit_name=name,
            level=itype or dlevel,
            period=year.code,
            value=value,
            numerator=_round(numerator),
            denominator=_round(denominator),
            target=indicator.target.text,
            unit=indicator.unit,
            status=status,
            gap=_gap(indicator, status, value),
            included=int(included or 0) if compiled.institutional else None,
            missing=int(covered - (included or 0)) if compiled.institutional else None,
            due=due,
            veto=indicator.veto,
            points=indicator.points,
        )
        results.append(result)
        if kind == "institution" and status in FALLING_SHORT:
            institutions.append((path, result, _why(status, compiled.raw_columns, raw)))
    _add_failing(results, institutions, units)
    return results


def _status(indicator: PackIndicator, covered: int, included, value, kind: str) -> str:
    if indicator.over and not covered:
        return NOT_APPLICABLE
    if value is None:
        return NO_DATA
    if indicator.target.is_met(value):
        return MET
    # an institution short of a figure its share condition needs has no data, not a verdict
    if kind == "institution" and (included or 0) < covered:
        return NO_DATA
    return NOT_MET


def _gap(indicator: PackIndicator, status: str, value: float | None) -> float | None:
    if status == MET:
        return 0.0
    if status != NOT_MET or value is None:
        return None
    return _round(indicator.target.gap(value))


def _why(status: str, columns: list[str], raw) -> str:
    parts = []
    for column, figure in zip(columns, raw, strict=True):
        parts.append(f"{column}: no value" if figure is None else f"{column}={float(figure):g}")
    return f"{status}: " + ", ".join(parts) if parts else status


def _add_failing(results: list[Result], institutions, units: _Units) -> None:
    """List beneath every division the institutions whose own result falls short."""
    by_code = {r.orgunit: r for r in results}
    for path, result, why in sorted(institutions, key=lambda t: t[1].orgunit):
        result.failing, result.why = [result.orgunit], {result.orgunit: why}
        cut = path.rstrip("/").rfind("/")
        while cut > 0:
            prefix = path[: cut + 1]
            division = units.division_paths.get(prefix)
            target = by_code.get(units.rows[division][0]) if division else None
            if target is not None:
                target.failing.append(result.orgunit)
                target.why[result.orgunit] = why
            cut = path.rfind("/", 0, cut)


def _evidence_statuses(pack: Pack, unit: OrgUnit) -> dict[str, str]:
    """Evidence items are settled by reviewers in the plans app (accepted evidence → met)."""
    ids = [i.id for i in pack.indicators if not i.is_computed]
    if not ids or unit.kind != "division":
        return {}
    from xinglin.plans.actions import evidence_statuses

    return evidence_statuses(unit.code, pack.code, ids)


def _evidence(
    pack: Pack, indicator: PackIndicator, unit: OrgUnit, year, language, status: str
) -> Result:
    due = indicator.deadline is None or year.year >= indicator.deadline
    return Result(
        pack=pack.code,
        indicator=indicator.id,
        item=indicator.item,
        name=indicator.name(language),
        orgunit=unit.code,
        orgunit_name=unit.name,
        level=unit.institution_type or unit.division_level,
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


def _add_sources(cursor, results: list[Result], pack: Pack, units: _Units) -> None:
    """Say where each figure came from: `reported` data values and/or derived sources."""
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
    elements = {i.id: _elements(i) for i in pack.indicators}
    techniques = {i.id for i in pack.indicators if "technique" in i.value}
    for result in results:
        if result.kind != "computed" or result.status == NOT_APPLICABLE:
            continue
        found = set()
        for element in elements[result.indicator]:
            if element in derived:
                found |= detail.get((result.orgunit, element), set())
            elif {result.value, result.numerator, result.denominator} != {None}:
                found.add("reported")
        if result.indicator in techniques:
            found.add("collection.techniques")
        result.sources = sorted(found)


def _verdict(results: list[Result]) -> Verdict:
    counts = {status: 0 for status in STATUSES}
    due = [r for r in results if r.due]
    for result in due:
        counts[result.status] += 1
    vetoed = [r.indicator for r in due if r.veto and r.status in FALLING_SHORT]
    scored = [r for r in due if r.points]
    score = sum(r.points for r in scored if r.status == MET) if scored else None
    if vetoed or counts[NOT_MET] or counts[NO_DATA]:
        status = NOT_MET
    elif counts[AWAITING_EVIDENCE]:
        status = AWAITING_EVIDENCE
    else:
        status = MET
    return Verdict(
        status=status,
        counts=counts,
        vetoed=vetoed,
        score=score,
        max_score=sum(r.points for r in scored) if scored else None,
        not_due=len(results) - len(due),
    )
