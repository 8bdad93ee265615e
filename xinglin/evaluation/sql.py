"""Compile one indicator expression to one set-based SQL statement.

The statement reads four per-evaluation temporary tables that `engine._prepare` fills:
- xl_unit(id, code, name, kind, itype, dlevel, parent_id, path, is_open, in_scope): the tree as
  it stood at the period's end, below the evaluated org unit;
- xl_member(target_id, inst_id, itype): every open institution beneath (or equal to) a unit;
- xl_value(element, orgunit_id, value, source): each element's value for the year, per unit
  (months rolled up by the element's aggregation; derived values win over reported ones);
- xl_tech(orgunit_id, categories, items): distinct technique categories / items delivered.

It returns one row per target unit: id, covered, included, numerator, denominator, value and
the institution's own raw figures (r0…, for explaining why it falls short).
SQL is written in PostgreSQL's dialect and transpiled with SQLGlot for the other engines.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import sqlglot

from xinglin.standards import expressions as ex
from xinglin.standards.loader import PackIndicator

_SQL_OPS = {"=": "=", "!=": "<>", ">=": ">=", "<=": "<=", ">": ">", "<": "<"}


@dataclass
class CompiledIndicator:
    sql: str
    raw_columns: list[str]  # names of the r0… columns (element codes, technique counts)
    elements: list[str]  # every element code read
    uses_techniques: bool
    division_only: bool  # not evaluated at institutions
    institutional: bool  # reads institutions (sum/max/min/share/count), so counts them
    has_denominator: bool = False  # the value is numerator / denominator


@dataclass
class _Compiler:
    levels: dict[str, str]
    inst_elements: list[str] = field(default_factory=list)  # -> inst.e{i}
    agg_elements: set[str] = field(default_factory=set)  # read by sum/max/min
    cond_elements: set[str] = field(default_factory=set)  # read inside share()
    aggregates: list[str] = field(default_factory=list)  # -> agg.a{k}
    own_elements: list[str] = field(default_factory=list)  # -> o{k} / oc{k}
    uses_techniques: bool = False
    has_aggregate: bool = False
    has_share: bool = False

    def inst_column(self, code: str) -> str:
        if code not in self.inst_elements:
            self.inst_elements.append(code)
        return f"inst.e{self.inst_elements.index(code)}"

    def aggregate(self, sql: str) -> str:
        self.aggregates.append(sql)
        return f"agg.a{len(self.aggregates) - 1}"

    def own(self, code: str) -> str:
        if code not in self.own_elements:
            self.own_elements.append(code)
        k = self.own_elements.index(code)
        return f"COALESCE(o{k}.value, oc{k}.value)"

    def top(self, node: ex.Node) -> str:
        if isinstance(node, ex.Number):
            return repr(float(node.value))
        if isinstance(node, ex.Aggregate):
            if node.func == "own" or self.levels.get(node.element) == "division":
                return self.own(node.element)
            self.has_aggregate = True
            self.agg_elements.add(node.element)
            column = self.inst_column(node.element)
            return self.aggregate(f"{node.func.upper()}(CASE WHEN {{complete}} THEN {column} END)")
        if isinstance(node, ex.Count):
            return "CAST(COALESCE(agg.covered, 0) AS DOUBLE PRECISION)"
        if isinstance(node, ex.Share):
            self.has_share = True
            condition = self.condition(node.condition)
            ok = self.aggregate(f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)")
            return f"({ok} / NULLIF(CAST(agg.covered AS DOUBLE PRECISION), 0))"
        if isinstance(node, ex.PerTenThousand):
            a, b = self.top(node.numerator), self.top(node.denominator)
            return f"(({a}) * 10000.0 / NULLIF({b}, 0))"
        if isinstance(node, ex.Binary):
            a, b = self.top(node.left), self.top(node.right)
            if node.op == "/":
                return f"(({a}) / NULLIF({b}, 0))"
            return f"(({a}) {node.op} ({b}))"
        if isinstance(node, ex.Negate):
            return f"(-({self.top(node.operand)}))"
        raise TypeError(f"unexpected node {node!r} at the top level")

    def condition(self, node: ex.Node) -> str:
        if isinstance(node, ex.Logical):
            return f"({self.condition(node.left)} {node.op.upper()} {self.condition(node.right)})"
        if isinstance(node, ex.Not):
            return f"(NOT {self.condition(node.operand)})"
        if isinstance(node, ex.Compare):
            left, right = self.operand(node.left), self.operand(node.right)
            return f"({left} {_SQL_OPS[node.op]} {right})"
        raise TypeError(f"unexpected node {node!r} in a condition")

    def operand(self, node: ex.Node) -> str:
        if isinstance(node, ex.Number):
            return repr(float(node.value))
        if isinstance(node, ex.Element):
            self.cond_elements.add(node.code)
            return self.inst_column(node.code)
        if isinstance(node, ex.TechniqueCount):
            self.uses_techniques = True
            return "inst.tc" if node.what == "technique_categories" else "inst.ti"
        if isinstance(node, ex.Binary):
            a, b = self.operand(node.left), self.operand(node.right)
            if node.op == "/":
                return f"({a} / NULLIF({b}, 0))"
            return f"({a} {node.op} {b})"
        if isinstance(node, ex.Negate):
            return f"(-{self.operand(node.operand)})"
        raise TypeError(f"unexpected node {node!r} in a condition")


_split = ex.split  # one definition of numerator and denominator (FHIR publishes the same)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _complete(columns: list[str]) -> str:
    return " AND ".join(f"{c} IS NOT NULL" for c in columns) if columns else "1 = 1"


def compile_indicator(indicator: PackIndicator, levels: dict[str, str]) -> CompiledIndicator:
    compiler = _Compiler(levels)
    numerator_node, denominator_node, scale = _split(indicator.expression)
    if isinstance(indicator.expression, ex.Share):
        compiler.top(indicator.expression)
        numerator = "agg.a0"
        denominator = "CAST(agg.covered AS DOUBLE PRECISION)"
    else:
        numerator = compiler.top(numerator_node)
        denominator = compiler.top(denominator_node) if denominator_node else "NULL"
    return _assemble(indicator, compiler, numerator, denominator, scale)


def _assemble(indicator, compiler: _Compiler, numerator: str, denominator: str, scale: float):
    columns = [f"inst.e{i}" for i, _c in enumerate(compiler.inst_elements)]
    agg_cols = [f"inst.e{compiler.inst_elements.index(c)}" for c in compiler.agg_elements]
    cond_cols = [f"inst.e{compiler.inst_elements.index(c)}" for c in compiler.cond_elements]
    complete = _complete(agg_cols)
    included = _complete(agg_cols if compiler.has_aggregate else cond_cols)
    raw = list(compiler.inst_elements)
    raw_sql = [f"MAX({c}) AS r{i}" for i, c in enumerate(columns)]
    if compiler.uses_techniques:
        raw += ["technique_categories", "technique_items"]
        raw_sql += [f"MAX(inst.tc) AS r{len(raw) - 2}", f"MAX(inst.ti) AS r{len(raw) - 1}"]
    types = ", ".join(_quote(t) for t in indicator.over) or "''"
    joins = "".join(
        f" LEFT JOIN xl_value AS v{i} ON v{i}.orgunit_id = m.inst_id AND v{i}.element = {_quote(c)}"
        for i, c in enumerate(compiler.inst_elements)
    )
    if compiler.uses_techniques:
        joins += " LEFT JOIN xl_tech AS t ON t.orgunit_id = m.inst_id"
    inst_cols = "".join(f", v{i}.value AS e{i}" for i, _c in enumerate(compiler.inst_elements))
    if compiler.uses_techniques:
        inst_cols += ", COALESCE(t.categories, 0) AS tc, COALESCE(t.items, 0) AS ti"
    aggs = "".join(
        f", CAST({a.format(complete=complete)} AS DOUBLE PRECISION) AS a{k}"
        for k, a in enumerate(compiler.aggregates)
    )
    own_joins = "".join(
        f" LEFT JOIN xl_value AS o{k} ON o{k}.orgunit_id = u.id AND o{k}.element = {_quote(c)}"
        f" LEFT JOIN (SELECT c.parent_id AS parent_id, SUM(w.value) AS value FROM xl_unit AS c"
        f" JOIN xl_value AS w ON w.orgunit_id = c.id AND w.element = {_quote(c)}"
        f" WHERE c.kind = 'division' GROUP BY c.parent_id) AS oc{k} ON oc{k}.parent_id = u.id"
        for k, c in enumerate(compiler.own_elements)
    )
    division_only, division_filter = _judged(indicator, compiler)
    institution_filter = (
        "1 = 0"
        if division_only
        else f"u.kind = 'institution' AND u.is_open = 1 AND u.itype IN ({types})"
        + _coverage(indicator, "u")
    )
    extra = "".join(f", agg.r{i}" for i in range(len(raw)))
    value = "base.numerator"
    if denominator != "NULL":
        value = f"base.numerator * {scale!r} / NULLIF(base.denominator, 0)"
    sql = (
        f"WITH inst AS (SELECT m.target_id AS target_id, m.inst_id AS inst_id{inst_cols}"
        f" FROM xl_member AS m{joins} WHERE m.itype IN ({types}){_coverage(indicator, 'm')}),"
        f" agg AS (SELECT inst.target_id AS target_id, COUNT(*) AS covered,"
        f" SUM(CASE WHEN {included} THEN 1 ELSE 0 END) AS included{aggs}"
        f"{''.join(', ' + r for r in raw_sql)} FROM inst GROUP BY inst.target_id),"
        f" base AS (SELECT u.id AS id, COALESCE(agg.covered, 0) AS covered,"
        f" agg.included AS included, {numerator} AS numerator, {denominator} AS denominator{extra}"
        f" FROM xl_unit AS u LEFT JOIN agg ON agg.target_id = u.id{own_joins}"
        f" WHERE u.in_scope = 1 AND (({division_filter}) OR ({institution_filter})))"
        f" SELECT base.*, {value} AS value FROM base"
    )
    return CompiledIndicator(
        has_denominator=denominator != "NULL",
        sql=sql,
        raw_columns=raw,
        elements=ex.element_codes(indicator.expression),
        uses_techniques=compiler.uses_techniques,
        division_only=division_only,
        institutional=compiler.has_aggregate
        or compiler.has_share
        or "agg.covered" in numerator
        or "agg.covered" in denominator,
    )


def _judged(indicator, compiler: _Compiler) -> tuple[bool, str]:
    """(no institution rows, the SQL filter of the divisions with a row) from the judging
    levels (`judged_at`; a pack built in code without them: every level, or `evaluate_at`)."""
    if indicator.judged_at:
        levels = [level for level in indicator.judged_at if level != "institution"]
        division_only = (bool(compiler.own_elements) or not indicator.over
                         or "institution" not in indicator.judged_at)  # fmt: skip
    else:
        levels = list(indicator.evaluate_at)
        division_only = bool(compiler.own_elements) or bool(levels) or not indicator.over
    if indicator.judged_at and not levels:
        return division_only, "1 = 0"
    division_filter = "u.kind = 'division'"
    if levels:
        division_filter += f" AND u.dlevel IN ({', '.join(_quote(level) for level in levels)})"
    return division_only, division_filter


def _coverage(indicator, alias: str) -> str:
    """The extra condition on a covered institution: one of the indicator's roles (roles are
    ';'-joined sorted codes, tested the same way on every backend) and its ownership."""
    sql = ""
    if indicator.roles:
        tests = [f"(';' || {alias}.roles || ';') LIKE {_quote('%;' + role + ';%')}"
                 for role in indicator.roles]  # fmt: skip
        sql += f" AND ({' OR '.join(tests)})"
    if indicator.ownership:
        sql += f" AND {alias}.ownership = {_quote(indicator.ownership)}"
    return sql


@functools.cache
def transpile(sql: str, dialect: str) -> str:
    if dialect == "postgres":
        return sql
    return sqlglot.transpile(sql, read="postgres", write=dialect)[0]
