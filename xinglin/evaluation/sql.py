"""Compile one indicator expression to one set-based SQL statement (a SQLGlot expression).

The statement reads four per-evaluation work tables that `prepare.fill` fills:
- xl_unit(id, code, name, kind, itype, dlevel, parent_id, path, is_open, in_scope): the tree as
  it stood at the period's end, below the evaluated org unit;
- xl_member(target_id, inst_id, itype): every open institution beneath (or equal to) a unit;
- xl_value(element_id, orgunit_id, value, source): each element's value for the year, per
  unit (months rolled up by the element's aggregation; derived values win over reported
  ones), keyed by the element's id in the database read;
- xl_tech(orgunit_id, categories, items): distinct technique categories / items delivered.

It returns one row per target unit: id, covered, included, numerator, denominator, value and
the institution's own raw figures (r0…, for explaining why it falls short).

The statement is built as a SQLGlot tree (`statements.render` writes it for each cursor, with
each element's id in the place the tree holds for it: `bound`; the ids are the database's, so
a statement compiles once and is written once per database and vendor), and
what the expression reads — institutions' aggregates, a share, the count of covered
institutions, technique counts, a division's own figure, a denominator — is recorded while
compiling (`Reads`), never found afterwards by searching the statement's text.

Indicators of one coverage — the same covered institutions, judged at the same units — are
compiled together into one statement (`compile_coverage`, decision 0020): each element is
joined once, every indicator's aggregates are computed in one GROUP BY, and its columns
(prefixed i{j}_) are cut from the result. An indicator alone compiles to its own statement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlglot import exp

from xinglin.evaluation.statements import (
    all_of,
    among,
    case,
    coalesce,
    column,
    divide,
    double,
    eq,
    is_not_null,
    never,
    nullif_zero,
    number,
    paren,
    render,
    star,
    table,
    text,
)
from xinglin.standards import expressions as ex
from xinglin.standards.loader import PackIndicator

_COMPARE: dict[str, type[exp.Binary]] = {
    "=": exp.EQ,
    "!=": exp.NEQ,
    ">=": exp.GTE,
    "<=": exp.LTE,
    ">": exp.GT,
    "<": exp.LT,
}
_ARITHMETIC: dict[str, type[exp.Binary]] = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul}
_AGGREGATES: dict[str, type[exp.AggFunc]] = {"sum": exp.Sum, "max": exp.Max, "min": exp.Min}


@dataclass(frozen=True)
class Reads:
    """What an indicator's expression reads, recorded while it is compiled."""

    aggregates: bool = False  # sum/max/min of the covered institutions' figures
    share: bool = False  # share(condition) of the covered institutions
    count: bool = False  # count(): the number of covered institutions
    techniques: bool = False  # technique categories / items delivered
    own: bool = False  # a division's own figure (own(), or a division-level element)
    denominator: bool = False  # the value is numerator / denominator

    @property
    def institutions(self) -> bool:
        """Reads the covered institutions, so a result counts them (included, missing)."""
        return self.aggregates or self.share or self.count


@dataclass(frozen=True)
class CompiledIndicator:
    statement: exp.Select
    raw_columns: tuple[str, ...]  # names of the r0… columns (element codes, technique counts)
    elements: tuple[str, ...]  # every element code read
    reads: Reads
    division_only: bool  # not evaluated at institutions
    _texts: dict[object, str] = field(default_factory=dict, compare=False, repr=False)

    def sql(self, vendor: str, elements: Mapping[str, int]) -> str:
        """The statement's text for a cursor of `vendor`, the elements' ids bound from
        `elements` (code -> id, `_Units.elements`); rendered once per vendor and ids."""
        return _text(self.statement, self._texts, vendor, elements)

    @property
    def uses_techniques(self) -> bool:
        return self.reads.techniques

    @property
    def institutional(self) -> bool:
        return self.reads.institutions

    @property
    def has_denominator(self) -> bool:
        return self.reads.denominator


@dataclass(frozen=True)
class _Aggregate:
    """One of the agg CTE's a{k} columns: FUNC(the institution column where the row's figures
    are complete) for sum/max/min, or the number of institutions meeting a share's condition."""

    func: str  # sum | max | min | share
    operand: exp.Expr  # the institution's column, or the share's condition


@dataclass
class _Shared:
    """The names the indicators compiled into one statement share: inst's element columns
    (e{i}: each element joined once), the own figures' joins (o{k}, oc{k}) and whether inst
    reads the techniques. An indicator compiled alone has its own."""

    elements: list[str] = field(default_factory=list)  # -> inst.e{i}, agg.r{i}
    owns: list[str] = field(default_factory=list)  # -> o{k}, oc{k}
    techniques: bool = False  # -> inst.tc, inst.ti (agg's last two r columns)

    def element(self, code: str) -> int:
        if code not in self.elements:
            self.elements.append(code)
        return self.elements.index(code)

    def own(self, code: str) -> int:
        if code not in self.owns:
            self.owns.append(code)
        return self.owns.index(code)

    @property
    def raw_count(self) -> int:
        """agg's r columns: one per element, and the two technique counts."""
        return len(self.elements) + (2 if self.techniques else 0)


@dataclass
class _Compiler:
    levels: dict[str, str]
    shared: _Shared = field(default_factory=_Shared)
    prefix: str = ""  # of this indicator's columns in agg, base and the result ("" alone)
    inst_elements: list[str] = field(default_factory=list)  # the institution figures it reads
    agg_elements: list[str] = field(default_factory=list)  # read by sum/max/min
    cond_elements: list[str] = field(default_factory=list)  # read inside share()
    aggregates: list[_Aggregate] = field(default_factory=list)  # -> agg.a{k}
    own_elements: list[str] = field(default_factory=list)  # -> o{k} / oc{k}
    techniques: bool = False
    has_aggregate: bool = False
    has_share: bool = False
    has_count: bool = False

    def inst_column(self, code: str) -> exp.Column:
        if code not in self.inst_elements:
            self.inst_elements.append(code)
        return column("inst", f"e{self.shared.element(code)}")

    def aggregate(self, func: str, operand: exp.Expr) -> exp.Column:
        self.aggregates.append(_Aggregate(func, operand))
        return column("agg", f"{self.prefix}a{len(self.aggregates) - 1}")

    def own(self, code: str) -> exp.Expr:
        if code not in self.own_elements:
            self.own_elements.append(code)
        k = self.shared.own(code)
        return coalesce(column(f"o{k}", "value"), column(f"oc{k}", "value"))

    def name(self, column_name: str) -> str:
        """This indicator's column `column_name` (included, numerator, …) in the statement."""
        return f"{self.prefix}{column_name}"

    @property
    def raw_positions(self) -> list[int]:
        """Where its raw columns (`raw_columns`) are among the statement's r columns."""
        positions = [self.shared.elements.index(code) for code in self.inst_elements]
        if self.techniques:
            positions += [len(self.shared.elements), len(self.shared.elements) + 1]
        return positions

    def covered(self) -> exp.Cast:
        return double(column("agg", "covered"))

    def top(self, node: ex.Node) -> exp.Expr:  # noqa: PLR0911 — one branch per node kind
        if isinstance(node, ex.Number):
            return number(float(node.value))
        if isinstance(node, ex.Aggregate):
            if node.func == "own" or self.levels.get(node.element) == "division":
                return self.own(node.element)
            self.has_aggregate = True
            if node.element not in self.agg_elements:
                self.agg_elements.append(node.element)
            return self.aggregate(node.func, self.inst_column(node.element))
        if isinstance(node, ex.Count):
            self.has_count = True
            return double(coalesce(column("agg", "covered"), number(0)))
        if isinstance(node, ex.Share):
            self.has_share = True
            ok = self.aggregate("share", self.condition(node.condition))
            return paren(divide(ok, nullif_zero(self.covered())))
        if isinstance(node, ex.PerTenThousand):
            a, b = self.top(node.numerator), self.top(node.denominator)
            scaled = exp.Mul(this=paren(a), expression=number(10000.0))
            return paren(divide(scaled, nullif_zero(b)))
        if isinstance(node, ex.Binary):
            a, b = self.top(node.left), self.top(node.right)
            if node.op == "/":
                return paren(divide(paren(a), nullif_zero(b)))
            return paren(_ARITHMETIC[node.op](this=paren(a), expression=paren(b)))
        if isinstance(node, ex.Negate):
            return paren(exp.Neg(this=paren(self.top(node.operand))))
        raise TypeError(f"unexpected node {node!r} at the top level")

    def condition(self, node: ex.Node) -> exp.Expr:
        if isinstance(node, ex.Logical):
            joined = exp.And if node.op == "and" else exp.Or
            left, right = self.condition(node.left), self.condition(node.right)
            return paren(joined(this=left, expression=right))
        if isinstance(node, ex.Not):
            return paren(exp.Not(this=self.condition(node.operand)))
        if isinstance(node, ex.Compare):
            left, right = self.operand(node.left), self.operand(node.right)
            return paren(_COMPARE[node.op](this=left, expression=right))
        raise TypeError(f"unexpected node {node!r} in a condition")

    def operand(self, node: ex.Node) -> exp.Expr:
        if isinstance(node, ex.Number):
            return number(float(node.value))
        if isinstance(node, ex.Element):
            if node.code not in self.cond_elements:
                self.cond_elements.append(node.code)
            return self.inst_column(node.code)
        if isinstance(node, ex.TechniqueCount):
            self.techniques = self.shared.techniques = True
            return column("inst", "tc" if node.what == "technique_categories" else "ti")
        if isinstance(node, ex.Binary):
            a, b = self.operand(node.left), self.operand(node.right)
            if node.op == "/":
                return paren(divide(a, nullif_zero(b)))
            return paren(_ARITHMETIC[node.op](this=a, expression=b))
        if isinstance(node, ex.Negate):
            return paren(exp.Neg(this=self.operand(node.operand)))
        raise TypeError(f"unexpected node {node!r} in a condition")

    def reads(self, denominator: bool) -> Reads:
        return Reads(
            aggregates=self.has_aggregate,
            share=self.has_share,
            count=self.has_count,
            techniques=self.techniques,
            own=bool(self.own_elements),
            denominator=denominator,
        )


_split = ex.split  # one definition of numerator and denominator (FHIR publishes the same)


@dataclass(frozen=True)
class _Member:
    """One indicator compiled into a statement: its compiler (its names, what it reads), its
    figures and which units it is judged at."""

    indicator: PackIndicator
    compiler: _Compiler
    numerator: exp.Expr
    denominator: exp.Expr | None
    scale: float
    division_only: bool
    division_filter: exp.Expr

    @property
    def coverage(self) -> tuple[object, ...]:
        """What decides its statement's rows and memberships: the covered institutions (types,
        roles, ownership: inst's WHERE) and the units it has a row for (base's WHERE).
        Indicators with the same coverage can share one statement (`compile_coverage`)."""
        indicator = self.indicator
        return (tuple(sorted(set(indicator.over))), tuple(sorted(set(indicator.roles))),
                indicator.ownership, self.division_only, self.division_filter.sql())  # fmt: skip


def _member(indicator: PackIndicator, levels: dict[str, str], shared: _Shared,
            prefix: str) -> _Member:  # fmt: skip
    if indicator.expression is None:
        raise ValueError(f"indicator {indicator.id} has no expression to compile")
    compiler = _Compiler(levels, shared, prefix)
    numerator_node, denominator_node, scale = _split(indicator.expression)
    denominator: exp.Expr | None
    if isinstance(indicator.expression, ex.Share):
        compiler.top(indicator.expression)
        numerator: exp.Expr = column("agg", compiler.name("a0"))
        denominator = compiler.covered()
    else:
        numerator = compiler.top(numerator_node)
        denominator = compiler.top(denominator_node) if denominator_node else None
    division_only, division_filter = _judged(indicator, compiler)
    return _Member(indicator, compiler, numerator, denominator, scale, division_only,
                   division_filter)  # fmt: skip


def compile_indicator(indicator: PackIndicator, levels: dict[str, str]) -> CompiledIndicator:
    member = _member(indicator, levels, _Shared(), "")
    compiler = member.compiler
    raw = list(compiler.inst_elements)
    if compiler.techniques:
        raw += ["technique_categories", "technique_items"]
    return CompiledIndicator(
        statement=_statement([member]),
        raw_columns=tuple(raw),
        elements=tuple(ex.element_codes(indicator.expression)) if indicator.expression else (),
        reads=compiler.reads(member.denominator is not None),
        division_only=member.division_only,
    )


@dataclass(frozen=True)
class CompiledCoverage:
    """Indicators of one coverage (the same covered institutions, rows for the same units) as
    one statement: one pass over their memberships, every indicator's aggregates in one GROUP
    BY. `columns[j]`: where indicator j's own statement's columns are in this one's result (id,
    covered, included, numerator, denominator, its raw figures, value)."""

    statement: exp.Select
    indicators: tuple[str, ...]  # the indicators' ids
    columns: tuple[tuple[int, ...], ...]
    width: int  # the statement's columns
    _texts: dict[object, str] = field(default_factory=dict, compare=False, repr=False)

    def sql(self, vendor: str, elements: Mapping[str, int]) -> str:
        """The statement's text for a cursor of `vendor`, the elements' ids bound from
        `elements` (code -> id, `_Units.elements`); rendered once per vendor and ids."""
        return _text(self.statement, self._texts, vendor, elements)


def element_id(code: str) -> exp.Placeholder:
    """An element's id in a statement (compared with xl_value.element_id): a place named by
    its code, where `bound` writes the id. The ids are the database's (a national export
    numbers them anew), the statements are compiled once."""
    return exp.Placeholder(this=code)


def bound(statement: exp.Expr, elements: Mapping[str, int]) -> exp.Expr:
    """A copy of the statement with each element's place holding its id in `elements` (an
    element not there: 0, which no row of xl_value has)."""
    copy = statement.copy()
    for place in list(copy.find_all(exp.Placeholder)):
        if place.this:
            place.replace(number(int(elements.get(str(place.this), 0))))
    return copy


def _text(statement: exp.Expr, texts: dict[object, str], vendor: str,
          elements: Mapping[str, int]) -> str:  # fmt: skip
    key = (vendor, tuple(sorted(elements.items())))
    if key not in texts:
        texts[key] = render(bound(statement, elements), vendor)
    return texts[key]


# A statement joins xl_value once per element its indicators read (inst) and twice per own
# figure (base): SQLite allows 64 tables in a join. A coverage whose indicators read more is
# cut into several statements (no shipped pack comes near: 15 elements at most).
MOST_ELEMENTS, MOST_OWN = 40, 12


def compile_coverages(
    indicators: Sequence[PackIndicator], levels: dict[str, str]
) -> list[CompiledCoverage]:
    """The indicators grouped by coverage (in the order each coverage first appears), one
    statement per group (or a few, past MOST_ELEMENTS or MOST_OWN)."""
    groups: dict[tuple[object, ...], list[tuple[list[PackIndicator], _Shared]]] = {}
    for indicator in indicators:
        alone = _member(indicator, levels, _Shared(), "")
        chunks = groups.setdefault(alone.coverage, [])
        if chunks:
            members, shared = chunks[-1]
            elements = set(shared.elements) | set(alone.compiler.shared.elements)
            owns = set(shared.owns) | set(alone.compiler.shared.owns)
            if len(elements) <= MOST_ELEMENTS and len(owns) <= MOST_OWN:
                members.append(indicator)
                shared.elements += [
                    e for e in alone.compiler.shared.elements if e not in shared.elements
                ]
                shared.owns += [o for o in alone.compiler.shared.owns if o not in shared.owns]
                continue
        chunks.append(([indicator], alone.compiler.shared))
    return [
        compile_coverage(members, levels) for chunks in groups.values() for members, _ in chunks
    ]


def compile_coverage(
    indicators: Sequence[PackIndicator], levels: dict[str, str]
) -> CompiledCoverage:
    """One statement for indicators of the same coverage: inst joins each element they read
    once, agg computes every indicator's columns (prefixed i{j}_), base and the outer select
    their figures. An indicator alone gets the statement `compile_indicator` writes."""
    shared = _Shared()
    alone = len(indicators) == 1
    members = [_member(indicator, levels, shared, "" if alone else f"i{j}_")
               for j, indicator in enumerate(indicators)]  # fmt: skip
    if len({member.coverage for member in members}) != 1:
        raise ValueError(f"indicators of different coverages: {[i.id for i in indicators]}")
    n = len(members)
    raw = 2 + 3 * n  # where the r columns start: after id, covered and each one's three
    columns = tuple(
        (0, 1, 2 + 3 * j, 3 + 3 * j, 4 + 3 * j,
         *(raw + p for p in member.compiler.raw_positions), raw + shared.raw_count + j)
        for j, member in enumerate(members)
    )  # fmt: skip
    return CompiledCoverage(
        statement=_statement(members),
        indicators=tuple(indicator.id for indicator in indicators),
        columns=columns,
        width=raw + shared.raw_count + n,
    )


def _statement(members: list[_Member]) -> exp.Select:
    """inst (the covered memberships and their figures), agg (per target unit), base (per
    unit in scope), then each member's value."""
    first = members[0]
    shared = first.compiler.shared
    institution_filter: exp.Expr = never()
    if not first.division_only:
        institution_filter = all_of([
            eq(column("u", "kind"), text("institution")),
            eq(column("u", "is_open"), number(1)),
            among(column("u", "itype"), _types(first.indicator)),
            *_coverage(first.indicator, "u"),
        ])  # fmt: skip
    in_scope = all_of([
        eq(column("u", "in_scope"), number(1)),
        paren(exp.Or(this=paren(first.division_filter), expression=paren(institution_filter))),
    ])  # fmt: skip
    columns: list[exp.Expr] = [
        exp.alias_(column("u", "id"), "id"),
        exp.alias_(coalesce(column("agg", "covered"), number(0)), "covered"),
    ]
    values: list[exp.Expr] = []
    for member in members:
        name = member.compiler.name
        denominator = member.denominator
        columns += [
            exp.alias_(column("agg", name("included")), name("included")),
            exp.alias_(member.numerator, name("numerator")),
            exp.alias_(denominator if denominator is not None else exp.Null(), name("denominator")),
        ]
        value: exp.Expr = column("base", name("numerator"))
        if denominator is not None:
            scaled = exp.Mul(
                this=column("base", name("numerator")), expression=number(member.scale)
            )
            value = divide(scaled, nullif_zero(column("base", name("denominator"))))
        values.append(exp.alias_(value, name("value")))
    columns += [column("agg", f"r{i}") for i in range(shared.raw_count)]
    base = exp.select(*columns).from_(table("xl_unit", "u"))
    base = base.join(table("agg"), on=eq(column("agg", "target_id"), column("u", "id")),
                     join_type="left")  # fmt: skip
    for k, code in enumerate(shared.owns):
        base = _join_own(base, k, code)
    return (
        exp.select(star("base"), *values)
        .from_("base")
        .with_("inst", as_=_institutions(first.indicator, shared))
        .with_("agg", as_=_aggregated(members))
        .with_("base", as_=base.where(in_scope))
    )


def _types(indicator: PackIndicator) -> list[exp.Expr]:
    return [text(t) for t in indicator.over] or [text("")]


def _institutions(indicator: PackIndicator, shared: _Shared) -> exp.Select:
    """inst: per target unit and covered institution, the institution's figures (e{i}) and
    technique counts (tc, ti)."""
    columns: list[exp.Expr] = [
        exp.alias_(column("m", "target_id"), "target_id"),
        exp.alias_(column("m", "inst_id"), "inst_id"),
        *(exp.alias_(column(f"v{i}", "value"), f"e{i}")
          for i, _code in enumerate(shared.elements)),
    ]  # fmt: skip
    if shared.techniques:
        columns += [
            exp.alias_(coalesce(column("t", "categories"), number(0)), "tc"),
            exp.alias_(coalesce(column("t", "items"), number(0)), "ti"),
        ]
    select = exp.select(*columns).from_(table("xl_member", "m"))
    for i, code in enumerate(shared.elements):
        on = all_of([eq(column(f"v{i}", "orgunit_id"), column("m", "inst_id")),
                     eq(column(f"v{i}", "element_id"), element_id(code))])  # fmt: skip
        select = select.join(table("xl_value", f"v{i}"), on=on, join_type="left")
    if shared.techniques:
        select = select.join(table("xl_tech", "t"), join_type="left",
                             on=eq(column("t", "orgunit_id"), column("m", "inst_id")))  # fmt: skip
    covered = [among(column("m", "itype"), _types(indicator)), *_coverage(indicator, "m")]
    return select.where(all_of(covered))


def _aggregated(members: list[_Member]) -> exp.Select:
    """agg: per target unit, how many institutions are covered, and per member how many are
    included and its aggregates (a{k}); then the institution's own raw figures (r{i}: one
    institution's, at its own row)."""
    columns: list[exp.Expr] = [
        exp.alias_(column("inst", "target_id"), "target_id"),
        exp.alias_(exp.Count(this=exp.Star()), "covered"),
    ]
    for member in members:
        compiler = member.compiler
        agg_cols = [compiler.inst_column(c) for c in compiler.agg_elements]
        cond_cols = [compiler.inst_column(c) for c in compiler.cond_elements]
        complete = all_of([is_not_null(c) for c in agg_cols])
        included = all_of([is_not_null(c)
                           for c in (agg_cols if compiler.has_aggregate else cond_cols)])  # fmt: skip
        columns.append(exp.alias_(exp.Sum(this=case(included, number(1), number(0))),
                                  compiler.name("included")))  # fmt: skip
        for k, aggregate in enumerate(compiler.aggregates):
            if aggregate.func == "share":
                counted: exp.Expr = exp.Sum(this=case(aggregate.operand, number(1), number(0)))
            else:
                counted = _AGGREGATES[aggregate.func](this=case(complete.copy(), aggregate.operand))
            columns.append(exp.alias_(double(counted), compiler.name(f"a{k}")))
    shared = members[0].compiler.shared
    raw = [column("inst", f"e{i}") for i in range(len(shared.elements))]
    if shared.techniques:
        raw += [column("inst", "tc"), column("inst", "ti")]
    columns += [exp.alias_(exp.Max(this=c), f"r{i}") for i, c in enumerate(raw)]
    return exp.select(*columns).from_("inst").group_by(column("inst", "target_id"))


def _join_own(base: exp.Select, k: int, code: str) -> exp.Select:
    """A division's own figure (o{k}), or else the sum of its child divisions' (oc{k})."""
    own = all_of([eq(column(f"o{k}", "orgunit_id"), column("u", "id")),
                  eq(column(f"o{k}", "element_id"), element_id(code))])  # fmt: skip
    children = (
        exp.select(
            exp.alias_(column("c", "parent_id"), "parent_id"),
            exp.alias_(exp.Sum(this=column("w", "value")), "value"),
        )
        .from_(table("xl_unit", "c"))
        .join(
            table("xl_value", "w"),
            on=all_of(
                [
                    eq(column("w", "orgunit_id"), column("c", "id")),
                    eq(column("w", "element_id"), element_id(code)),
                ]
            ),
        )  # fmt: skip
        .where(eq(column("c", "kind"), text("division")))
        .group_by(column("c", "parent_id"))
    )
    return base.join(table("xl_value", f"o{k}"), on=own, join_type="left").join(
        children.subquery(f"oc{k}"),
        on=eq(column(f"oc{k}", "parent_id"), column("u", "id")),
        join_type="left",
    )


def _judged(indicator: PackIndicator, compiler: _Compiler) -> tuple[bool, exp.Expr]:
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
        return division_only, never()
    divisions: list[exp.Expr] = [eq(column("u", "kind"), text("division"))]
    if levels:
        divisions.append(among(column("u", "dlevel"), [text(level) for level in levels]))
    return division_only, all_of(divisions)


def _coverage(indicator: PackIndicator, alias: str) -> list[exp.Expr]:
    """The extra conditions on a covered institution: one of the indicator's roles (roles are
    ';'-joined sorted codes, tested the same way on every backend) and its ownership."""
    conditions: list[exp.Expr] = []
    if indicator.roles:
        roles = exp.DPipe(this=exp.DPipe(this=text(";"), expression=column(alias, "roles"),
                                         safe=True), expression=text(";"), safe=True)  # fmt: skip
        tests = [exp.Like(this=paren(roles.copy()), expression=text(f"%;{role};%"))
                 for role in indicator.roles]  # fmt: skip
        conditions.append(paren(exp.or_(*tests, copy=False)))
    if indicator.ownership:
        conditions.append(eq(column(alias, "ownership"), text(indicator.ownership)))
    return conditions
