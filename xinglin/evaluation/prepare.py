"""The evaluation's work tables, filled with set-based statements before any indicator runs.

- xl_unit: the tree as it stood at the year's end below the evaluated unit (`OrgUnitHistory`),
  with each unit's roles and ownership as they stood then and whether it was open (the rule
  of `network.opening`);
- xl_member: who is beneath whom (every open institution under each division, and itself);
- xl_value: each element's figure for the year per unit (months and quarters combined by the
  element's aggregation; a derived value replaces the reported one; an element with
  categories counts its option combinations, or those of a stratum), keyed by the element's
  id (`_Units.elements`: code -> id; the statements compare integers, not codes);
- xl_tech: the technique categories and items each unit delivered.

Each statement is a SQLGlot expression (`statements`), rendered for the cursor's dialect, its
values bound as parameters. Statements whose shape depends only on how many values they take
are rendered once per shape (`functools.cache`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any, NamedTuple

import numpy as np
import sqlglot
from sqlglot import exp

from xinglin.collection import completeness
from xinglin.collection.models import DataValue, DeliveredTechnique
from xinglin.evaluation.backends import ANALYTIC, Cursor, analytic, select_columns
from xinglin.evaluation.models import DerivedValue
from xinglin.evaluation.results import _Units
from xinglin.evaluation.statements import (
    all_of,
    among,
    case,
    coalesce,
    column,
    eq,
    is_not_null,
    mark,
    marks,
    number,
    paren,
    render,
    table,
    text,
)
from xinglin.lib import periods
from xinglin.network import opening
from xinglin.network.models import OrgUnit, OrgUnitChange, OrgUnitHistory
from xinglin.standards import categories
from xinglin.standards.expressions import element_codes
from xinglin.standards.loader import Pack, PackIndicator
from xinglin.standards.models import DataElement, TechniqueItem

AGGREGATIONS: dict[str, type[exp.AggFunc]] = {
    "sum": exp.Sum,
    "max": exp.Max,
    "min": exp.Min,
    "average": exp.Avg,
}

# the work tables (PostgreSQL's words; each dialect writes its own: DOUBLE PRECISION is REAL
# on SQLite, DOUBLE on DuckDB)
_TABLES = {
    "xl_unit": "CREATE TABLE IF NOT EXISTS xl_unit (id INTEGER PRIMARY KEY, code VARCHAR(32),"
    " name VARCHAR(100), kind VARCHAR(12), itype VARCHAR(32), dlevel VARCHAR(10),"
    " parent_id INTEGER, path VARCHAR(400), is_open INTEGER, in_scope INTEGER,"
    " roles VARCHAR(200), ownership VARCHAR(8))",
    "xl_member": "CREATE TABLE IF NOT EXISTS xl_member (target_id INTEGER, inst_id INTEGER,"
    " itype VARCHAR(32), roles VARCHAR(200), ownership VARCHAR(8))",
    "xl_value": "CREATE TABLE IF NOT EXISTS xl_value (element_id INTEGER, orgunit_id INTEGER,"
    " value DOUBLE PRECISION, source VARCHAR(40))",
    "xl_tech": "CREATE TABLE IF NOT EXISTS xl_tech (orgunit_id INTEGER PRIMARY KEY,"
    " categories INTEGER, items INTEGER)",
}
_INDEXES = {
    "xl_member_target": "CREATE INDEX IF NOT EXISTS xl_member_target ON xl_member (target_id, itype)",
    "xl_value_unit": "CREATE INDEX IF NOT EXISTS xl_value_unit ON xl_value (orgunit_id, element_id)",
}


@functools.cache
def _creations(vendor: str) -> tuple[str, ...]:
    """CREATE TABLE IF NOT EXISTS and DELETE for each work table: TEMP tables, except on
    DuckDB, where they are plain tables of the evaluation's private in-memory database, so
    that forked cursors (statements run side by side) see them, and have no primary key
    (DuckDB keeps an index for it: half the time of filling xl_unit, which nothing runs
    beside; its joins hash)."""
    statements = []
    for name, definition in _TABLES.items():
        create = sqlglot.parse_one(definition, read="postgres")
        if vendor != "duckdb":
            create.set("properties", exp.Properties(expressions=[exp.TemporaryProperty()]))
        else:
            for key in list(create.find_all(exp.PrimaryKeyColumnConstraint)):
                if key.parent is not None:
                    key.parent.pop()  # the ColumnConstraint holding it
        statements += [render(create, vendor), render(exp.delete(name), vendor)]
    return tuple(statements)


def create_tables(cursor: Cursor) -> None:
    for statement in _creations(cursor.vendor):
        cursor.execute(statement)
    if cursor.vendor in ANALYTIC:
        return  # DuckDB and Spark join by hashing; an index would only slow the inserts down
    for statement in _INDEXES.values():
        cursor.execute(statement)


@functools.cache
def _path_on_sql(vendor: str) -> str:
    history = OrgUnitHistory._meta.db_table
    select = (
        exp.select(column("h", "path"))
        .from_(table(history, "h"))
        .where(all_of([eq(column("h", "orgunit_id"), mark()), _valid_on("h")]))
        .order_by(column("h", "valid_from"))
        .limit(1)
    )
    return render(select, vendor)


def _valid_on(alias: str) -> exp.Expr:
    """A history row valid on the day of the (two) parameters: from on or before it, to after."""
    ended = exp.or_(exp.Is(this=column(alias, "valid_to"), expression=exp.Null()),
                    exp.GT(this=column(alias, "valid_to"), expression=mark()))  # fmt: skip
    return all_of([exp.LTE(this=column(alias, "valid_from"), expression=mark()), paren(ended)])


def _path_on(cursor: Cursor, unit: OrgUnit, day: str) -> str:
    cursor.execute(_path_on_sql(cursor.vendor), [unit.pk, day, day])
    row = cursor.fetchone()
    return str(row[0]) if row else unit.path


def fill(  # noqa: PLR0913 — what an evaluation is of
    cursor: Cursor,
    pack: Pack,
    unit: OrgUnit,
    year: periods.Period,
    tree: bool,
    stratum: dict[str, str] | None = None,
) -> dict[str, int]:
    """Fill the work tables for `unit` (and, with `tree`, every unit beneath it) and `year`
    (`read_units` then reads the units as the engine's columns); the key xl_value holds each
    element read under (`_value_groups`)."""
    create_tables(cursor)
    end = year.end.isoformat()
    cursor.execute(
        _units_sql(cursor.vendor, year.start, year.end),
        [1 if tree else 0, unit.pk, end, end, end, end, _path_on(cursor, unit, end) + "%"],
    )
    fast = analytic(cursor)
    keys, groups, reporting = _value_groups(cursor, pack, year, stratum or {})
    values: list[_Job] = [functools.partial(_insert_group, group=group) for group in groups]
    others: list[_Job] = [_insert_members, functools.partial(_prepare_techniques, year=year)]
    if fast is None:
        _run(cursor, [*values, *others])
        if reporting:
            completeness.insert_yearly_figures(cursor, year, elements=keys)
    else:  # DuckDB, Spark: this cursor and a fork take the statements in turn (DuckDB:
        # from one list, the values' first, the longest; Spark: the fork the members and
        # techniques, this cursor the values) while this one computes the reporting
        # figures first (they ask Django's connection, which is this thread's)
        shared = [*values, *others]
        mine, theirs = (shared, shared) if cursor.vendor == "duckdb" else (values, others)
        fork = fast.fork()
        try:
            with ThreadPoolExecutor(1) as pool:
                beside = pool.submit(_run, fork, theirs)
                if reporting:
                    completeness.insert_yearly_figures(cursor, year, elements=keys)
                _run(cursor, mine)
                beside.result()
        finally:
            fork.close()
    if cursor.vendor == "postgresql":
        # autovacuum never analyzes temporary tables: without statistics the planner takes
        # each for a row or two and runs the indicators' statements as nested loops (a
        # province, W1: 8 minutes instead of 12 s)
        cursor.execute("ANALYZE xl_unit, xl_member, xl_value, xl_tech")
    return keys


def read_units(cursor: Cursor, keys: dict[str, int]) -> _Units:
    """The filled xl_unit and xl_member as the engine's columns (`_Units`)."""
    fast = analytic(cursor)
    units = "SELECT id, code, name, kind, itype, dlevel, path, is_open FROM xl_unit ORDER BY id"
    read: list[Any]
    if fast is not None:  # Arrow columns, read into Python when Results ask (_Units)
        table = fast.query_arrow(units)
        read = [table.column(0).to_numpy(), *(c.combine_chunks() for c in table.columns[1:])]
    else:
        cursor.execute(units)
        read = [list(column) for column in zip(*cursor.fetchall(), strict=True)] or [[]] * 8
    pairs = select_columns(
        cursor,
        "SELECT target_id, inst_id FROM xl_member WHERE target_id <> inst_id ORDER BY target_id",
        2,
    )
    return _Units(
        ids=np.asarray(read[0], dtype=np.int64),
        columns=tuple(read[1:]),
        ancestors=(pairs[0].astype(np.int64), pairs[1].astype(np.int64)),
        elements=keys,
    )


_Job = Callable[[Cursor], None]


def _insert_members(cursor: Cursor) -> None:
    cursor.execute(_members_sql(cursor.vendor))


class _ValueGroup(NamedTuple):
    """One statement's elements of xl_value: those of one period type and aggregation."""

    element_ids: list[int]
    codes: list[str]  # the year's periods of the type
    aggregation: str
    split_ids: frozenset[int]
    only: dict[int, list[str]]


def _insert_group(cursor: Cursor, group: _ValueGroup) -> None:
    insert_values(cursor, *group)


def _run(cursor: Cursor, jobs: list[_Job]) -> None:
    """Run the jobs, taking them one at a time from `jobs` (list.pop is atomic: two cursors
    in two threads can share the list)."""
    while True:
        try:
            job = jobs.pop(0)
        except IndexError:
            return
        job(cursor)


@functools.cache
def _units_sql(vendor: str, start: date, end: date) -> str:
    """xl_unit from the org units as they stood at the end of the year from `start` to
    `end`. Parameters: tree (1/0), the evaluated unit's id, the day (four times: history,
    roles, ownership) and its path%."""
    o = functools.partial(column, "o")
    is_open = opening.open_sql("o", opening.day(start), opening.day(end))
    in_scope = exp.or_(eq(mark(), number(1)), eq(o("id"), mark()))
    history = all_of([eq(column("h", "orgunit_id"), o("id")), _valid_on("h")])
    ownership = coalesce(exp.Nullif(this=coalesce(column("w", "old"), o("ownership")),
                                    expression=text("")), text("public"))  # fmt: skip
    path = coalesce(column("h", "path"), o("path"))
    select = (
        exp.select(
            o("id"), o("code"), o("name"), o("kind"), o("institution_type"), o("division_level"),
            coalesce(column("h", "parent_id"), o("parent_id")), path.copy(),
            case(is_open, number(1), number(0)),
            case(in_scope, number(1), number(0)),
            coalesce(column("r", "old"), o("roles"), text("")),
            ownership,
        )  # fmt: skip
        .from_(table(OrgUnit._meta.db_table, "o"))
        .join(table(OrgUnitHistory._meta.db_table, "h"), on=history, join_type="left")
        .join(as_of("roles").subquery("r"), join_type="left",
              on=all_of([eq(column("r", "orgunit_id"), o("id")), eq(column("r", "rn"), number(1))]))
        .join(as_of("ownership").subquery("w"), join_type="left",
              on=all_of([eq(column("w", "orgunit_id"), o("id")), eq(column("w", "rn"), number(1))]))
        .where(exp.Like(this=path, expression=mark()))
    )  # fmt: skip
    columns = ["id", "code", "name", "kind", "itype", "dlevel", "parent_id", "path", "is_open",
               "in_scope", "roles", "ownership"]  # fmt: skip
    return render(exp.insert(select, "xl_unit", columns=columns), vendor)


def as_of(field: str) -> exp.Select:
    """Per unit, its `field` (roles, ownership) as it stood on the day of the parameter: the
    old value of the first recorded change after that day (the row rn = 1; no row when none:
    the current value holds). One rule for every backend; the warehouse exports
    network_orgunitchange. A join, not a correlated subquery with LIMIT: Spark SQL refuses
    those."""
    c = functools.partial(column, "c")
    rank = exp.Window(
        this=exp.RowNumber(),
        partition_by=[c("orgunit_id")],
        order=exp.Order(expressions=[exp.Ordered(this=c("valid_from")), exp.Ordered(this=c("id"))]),
    )
    return (
        exp.select(
            exp.alias_(c("orgunit_id"), "orgunit_id"),
            exp.alias_(c("old"), "old"),
            exp.alias_(rank, "rn"),
        )  # fmt: skip
        .from_(table(OrgUnitChange._meta.db_table, "c"))
        .where(
            all_of([eq(c("field"), text(field)), exp.GT(this=c("valid_from"), expression=mark())])
        )  # fmt: skip
    )


def _members() -> exp.Insert:
    """Who is beneath whom, walking up parent ids (a hash or index join per level of the
    tree). xl_unit's parent_id and path come from the same history row, so the ancestors by
    parent are exactly the divisions whose path is a prefix of the institution's. The first
    form, LIKE on paths, is a nested loop: a province's 30,000 institutions x 1,600 divisions
    took 3 s on DuckDB, 10 s on PostgreSQL and 11.6 s on SQLite; this takes 0.015 s on DuckDB,
    0.3 s on the others (bench/bench_w1_peers.py)."""
    carried = ["itype", "roles", "ownership"]
    institutions = all_of([eq(column(None, "kind"), text("institution")),
                           eq(column(None, "is_open"), number(1))])  # fmt: skip
    start = exp.select("id", *carried, "parent_id").from_("xl_unit").where(institutions)
    step = (
        exp.select(
            column("up", "inst_id"), *(column("up", c) for c in carried), column("u", "parent_id")
        )  # fmt: skip
        .from_("up")
        .join(table("xl_unit", "u"), on=eq(column("u", "id"), column("up", "target_id")))
        .where(is_not_null(column("u", "parent_id")))
    )
    up = exp.union(start, step, distinct=False)
    above = (
        exp.select(
            column("up", "target_id"), column("up", "inst_id"), *(column("up", c) for c in carried)
        )  # fmt: skip
        .from_("up")
        .join(table("xl_unit", "u"), on=eq(column("u", "id"), column("up", "target_id")))
        .where(
            all_of(
                [eq(column("u", "kind"), text("division")), eq(column("u", "in_scope"), number(1))]
            )
        )  # fmt: skip
    )
    own = (
        exp.select(column("i", "id"), column("i", "id"), *(column("i", c) for c in carried))
        .from_(table("xl_unit", "i"))
        .where(
            all_of(
                [
                    eq(column("i", "kind"), text("institution")),
                    eq(column("i", "is_open"), number(1)),
                    eq(column("i", "in_scope"), number(1)),
                ]
            )
        )  # fmt: skip
    )
    walk = exp.union(above, own, distinct=False).with_(
        "up(inst_id, itype, roles, ownership, target_id)", as_=up, recursive=True
    )
    return exp.insert(walk, "xl_member", columns=["target_id", "inst_id", *carried])


@functools.cache
def _members_sql(vendor: str) -> str:
    return render(_members(), vendor)


def year_codes(year: periods.Period) -> dict[str, list[str]]:
    return {
        "yearly": [year.code],
        "quarterly": [f"{year.code}Q{q}" for q in range(1, 5)],
        "monthly": [m.code for m in year.months()],
    }


def elements_of(indicator: PackIndicator) -> list[str]:
    return element_codes(indicator.expression) if indicator.expression else []


class _Shape(NamedTuple):
    """How many values each part of the year's facts takes (its statement's shape)."""

    periods: int
    plain: int  # elements as reported (at least one mark)
    totalled: int  # elements with categories, all combinations
    stratified: tuple[int, ...]  # per element of a stratum: how many combinations it counts
    derived: int  # elements with derived values
    # per element with derived values in a stratum: how many combinations it counts (its
    # derived values are not split, so the stratum reads only its reported ones they leave)
    derived_stratified: tuple[int, ...] = ()


def _value_groups(
    cursor: Cursor, pack: Pack, year: periods.Period, stratum: dict[str, str]
) -> tuple[dict[str, int], list[_ValueGroup], bool]:
    """xl_value's statements: the figures the pack's computed indicators read, one group per
    period type and aggregation; whether the yearly reporting figures are read too (computed
    from the submissions, never entered: completeness); and the key of each element read
    (code -> the id xl_value keys it by: the database's, or for an element it does not hold
    a negative number no row has)."""
    read = sorted({c for i in pack.indicators if i.is_computed for c in elements_of(i)})
    timeliness = {completeness.DUE, completeness.ON_TIME}
    reporting = bool(timeliness & set(read))  # computed from the submissions, never entered
    asked = read or [""]
    select = (
        exp.select("id", "code", "period_type", "aggregation")
        .from_(DataElement._meta.db_table)
        .where(among(column(None, "code"), marks(len(asked))))
    )
    cursor.execute(render(select, cursor.vendor), asked)
    found = cursor.fetchall()
    keys = {str(code): int(pk) for pk, code, _type, _aggregation in found}
    for k, code in enumerate(c for c in read if c not in keys):
        keys[code] = -1 - k
    elements = [row for row in found if row[1] not in timeliness]
    groups: dict[tuple[str, str], list[int]] = {}
    split = categories.split_elements()  # element code -> its categories (reported per combo)
    split_ids = frozenset(pk for pk, code, _type, _aggregation in elements if code in split)
    # a stratum: the combinations each split element counts (an element it does not split: all)
    only: dict[int, list[str]] = {}
    for pk, code, _type, _aggregation in elements:
        chosen = categories.stratum_combos(split[code], stratum) if code in split else None
        if chosen is not None:
            only[pk] = chosen
    by_type = year_codes(year)
    for pk, _code, period_type, aggregation in elements:
        # a type with one period in the year (yearly) combines nothing: one statement for
        # its elements whatever their aggregation
        combined = aggregation if len(by_type[period_type]) > 1 else ""
        groups.setdefault((period_type, combined), []).append(pk)
    statements = [_ValueGroup(ids, by_type[period_type], aggregation, split_ids, only)
                  for (period_type, aggregation), ids in sorted(groups.items())]  # fmt: skip
    return keys, statements, reporting


def insert_values(
    cursor: Cursor,
    element_ids: list[int],
    codes: list[str],
    aggregation: str,
    split_ids: frozenset[int] = frozenset(),
    only: dict[int, list[str]] | None = None,
) -> None:
    """The year's figure of each element and unit: its periods' values (a derived value
    replaces the reported one of the same period) combined by the element's aggregation. The
    value of an element with categories (`split_ids`) in a period is the sum of its option
    combinations' values (its total; decision 0013), or of those in `only` (element id ->
    combination codes: a stratum)."""
    only = only or {}
    cursor.execute(_derived_sql(cursor.vendor, len(codes), len(element_ids)),
                   [*codes, *element_ids])  # fmt: skip
    derived = sorted(int(row[0]) for row in cursor.fetchall())
    plain = [pk for pk in element_ids if pk not in derived and pk not in split_ids]
    totalled = [
        pk for pk in element_ids if pk not in derived and pk in split_ids and pk not in only
    ]
    stratified = [pk for pk in element_ids if pk not in derived and pk in only]
    chosen = [only[pk] or [""] for pk in stratified]  # none in it: no combination matches
    # a stratum of an element with derived values: a derived value has no combination, so the
    # unit and period it covers have no figure within the stratum (the strata then do not add
    # up to the total, and FHIR gives none: decision 0015)
    derived_in_stratum = [pk for pk in derived if pk in only]
    derived = [pk for pk in derived if pk not in only]
    derived_chosen = [only[pk] or [""] for pk in derived_in_stratum]
    params: list[Any] = [*codes, *(plain or [0])]
    if totalled:
        params += [*codes, *totalled]
    for pk, combos in zip(stratified, chosen, strict=True):
        params += [*codes, pk, *combos]
    if derived:
        params += [*codes, *derived, *codes, *derived]
    for pk, combos in zip(derived_in_stratum, derived_chosen, strict=True):
        params += [*codes, pk, *combos]
    shape = _Shape(len(codes), len(plain or [0]), len(totalled),
                   tuple(len(c) for c in chosen), len(derived),
                   tuple(len(c) for c in derived_chosen))  # fmt: skip
    single = len(codes) == 1
    cursor.execute(_values_sql(cursor.vendor, shape, "" if single else aggregation), params)


@functools.cache
def _derived_sql(vendor: str, periods_count: int, elements_count: int) -> str:
    """The elements (of those asked) that have derived values in the periods asked."""
    select = (
        exp.select("element_id")
        .distinct()
        .from_(DerivedValue._meta.db_table)
        .where(
            all_of(
                [
                    among(column(None, "period"), marks(periods_count)),
                    among(column(None, "element_id"), marks(elements_count)),
                ]
            )
        )  # fmt: skip
    )
    return render(select, vendor)


@functools.cache
def _values_sql(vendor: str, shape: _Shape, aggregation: str) -> str:
    """INSERT INTO xl_value: the facts (one SELECT per kind of element, UNION ALL) combined
    by the aggregation ('' when the year has one period; 'last': the latest period's)."""
    facts = _facts(shape)
    columns = ["element_id", "orgunit_id", "value", "source"]
    if not aggregation:
        select = (
            exp.select(
                column("f", "element_id"),
                column("f", "orgunit_id"),
                column("f", "value"),
                column("f", "source"),
            )  # fmt: skip
            .from_(table("facts", "f"))
            .with_("facts", as_=facts)
        )
    elif aggregation in AGGREGATIONS:
        combined = AGGREGATIONS[aggregation](this=column("f", "value"))
        select = (
            exp.select(
                column("f", "element_id"),
                column("f", "orgunit_id"),
                combined,
                exp.Max(this=column("f", "source")),
            )  # fmt: skip
            .from_(table("facts", "f"))
            .group_by(column("f", "element_id"), column("f", "orgunit_id"))
            .with_("facts", as_=facts)
        )
    else:  # `last`: the value of the latest period that has one
        f = functools.partial(column, "f")
        rank = exp.Window(
            this=exp.RowNumber(),
            partition_by=[f("element_id"), f("orgunit_id")],
            order=exp.Order(expressions=[exp.Ordered(this=f("period"), desc=True)]),
        )
        ranked = exp.select(
            *(
                exp.alias_(f(name), name)
                for name in ("element_id", "orgunit_id", "value", "source")
            ),
            exp.alias_(rank, "rn"),
        ).from_(table("facts", "f"))
        select = (
            exp.select(
                column("r", "element_id"),
                column("r", "orgunit_id"),
                column("r", "value"),
                column("r", "source"),
            )  # fmt: skip
            .from_(table("ranked", "r"))
            .where(eq(column("r", "rn"), number(1)))
            .with_("facts", as_=facts)
            .with_("ranked", as_=ranked)
        )
    return render(exp.insert(select, "xl_value", columns=columns), vendor)


def _facts(shape: _Shape) -> exp.Query:
    """Each element's values per unit and period, one SELECT per kind of element: plain ones
    as they are; an element with categories, the sum of its option combinations (all, or a
    stratum's: one SELECT each); an element with derived values, those values and, for the
    periods without one, the reported ones. Only the elements that need it pay for summing
    combinations or the per-row "is there a derived one?"."""
    v = functools.partial(column, "v")
    reported = table(DataValue._meta.db_table, "v")
    in_tree = eq(column("u", "id"), v("orgunit_id"))
    key = [v("element_id"), v("orgunit_id"), v("period")]

    def periods_of(alias: str) -> exp.In:
        return among(column(alias, "period"), marks(shape.periods))

    def elements(alias: str, count: int) -> exp.In:
        return among(column(alias, "element_id"), marks(count))

    def summed(*conditions: exp.Expr) -> exp.Select:
        return (
            exp.select(*key, exp.Sum(this=v("value")), text("reported"))
            .from_(reported.copy())
            .join(table("xl_unit", "u"), on=in_tree.copy())
            .where(all_of([periods_of("v"), *conditions]))
            .group_by(*(c.copy() for c in key))
        )

    parts: list[exp.Select] = [
        exp.select(*(exp.alias_(v(name), name) for name in ("element_id", "orgunit_id", "period",
                                                             "value")),
                   exp.alias_(text("reported"), "source"))
        .from_(reported.copy())
        .join(table("xl_unit", "u"), on=in_tree.copy())
        .where(all_of([periods_of("v"), elements("v", shape.plain)]))
    ]  # fmt: skip
    if shape.totalled:
        parts.append(summed(elements("v", shape.totalled)))
    for combos in shape.stratified:
        parts.append(summed(eq(v("element_id"), mark()), among(v("combo"), marks(combos))))
    d = functools.partial(column, "d")
    replaced = (
        exp.select(number(1))
        .from_(table(DerivedValue._meta.db_table, "d"))
        .where(all_of([eq(d(name), v(name)) for name in ("element_id", "orgunit_id", "period")]))
    )
    if shape.derived:
        parts.append(
            exp.select(d("element_id"), d("orgunit_id"), d("period"), exp.Sum(this=d("value")),
                       exp.Max(this=d("source")))
            .from_(table(DerivedValue._meta.db_table, "d"))
            .join(table("xl_unit", "u"), on=eq(column("u", "id"), d("orgunit_id")))
            .where(all_of([periods_of("d"), elements("d", shape.derived)]))
            .group_by(d("element_id"), d("orgunit_id"), d("period"))
        )  # fmt: skip
        parts.append(summed(elements("v", shape.derived),
                            exp.Not(this=exp.Exists(this=replaced.copy()))))  # fmt: skip
    for combos in shape.derived_stratified:
        parts.append(summed(eq(v("element_id"), mark()), among(v("combo"), marks(combos)),
                            exp.Not(this=exp.Exists(this=replaced.copy()))))  # fmt: skip
    facts: exp.Query = parts[0]
    for part in parts[1:]:
        facts = exp.union(facts, part, distinct=False)
    return facts


def _prepare_techniques(cursor: Cursor, year: periods.Period) -> None:
    codes = [c for group in year_codes(year).values() for c in group]
    cursor.execute(_techniques_sql(cursor.vendor, len(codes)), codes)


@functools.cache
def _techniques_sql(vendor: str, periods_count: int) -> str:
    d = functools.partial(column, "d")
    select = (
        exp.select(
            d("orgunit_id"),
            exp.Count(this=exp.Distinct(expressions=[column("i", "category_id")])),
            exp.Count(this=exp.Distinct(expressions=[d("item_id")])),
        )
        .from_(table(DeliveredTechnique._meta.db_table, "d"))
        .join(table(TechniqueItem._meta.db_table, "i"), on=eq(column("i", "id"), d("item_id")))
        .join(table("xl_unit", "u"), on=eq(column("u", "id"), d("orgunit_id")))
        .where(among(d("period"), marks(periods_count)))
        .group_by(d("orgunit_id"))
    )
    insert = exp.insert(select, "xl_tech", columns=["orgunit_id", "categories", "items"])
    return render(insert, vendor)
