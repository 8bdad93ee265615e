"""The engine's statements as SQLGlot expressions, and their text for each cursor.

Every statement the engine assembles from parts (the indicators' statements in `sql.py`, the
work tables' in `prepare.py`, a few reads in `engine.py`) is built as a SQLGlot expression
tree, never by formatting strings, and rendered for the cursor that runs it (`render`): SQLite
and PostgreSQL through Django's cursor, DuckDB through the warehouse's cursor, Spark through
`warehouse.spark.SparkCursor`, which reads PostgreSQL's dialect and writes Spark SQL itself
(`DIALECTS`).

Values stay parameters: a value is an `exp.Placeholder` in the tree, rendered `%s` for every
cursor (Django's paramstyle; the DuckDB cursor turns it into `?`, the Spark cursor binds it as
a literal), and travels beside the text. Literals in a tree are the packs' own words (element
codes, institution types, roles) and the engine's (`'division'`), escaped by SQLGlot.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import cast

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel
from sqlglot.generator import Generator

from xinglin.lib import dialects
from xinglin.warehouse.spark import READ as SPARK_READS

# the dialect each cursor reads, by its vendor (the Spark cursor writes Spark SQL itself)
DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres", "duckdb": "duckdb", "spark": SPARK_READS}


def _format_mark(_generator: Generator, _placeholder: exp.Placeholder) -> str:
    return "%s"


@functools.cache
def _generator(dialect: str) -> type[Generator]:
    """The dialect's generator, writing each placeholder as `%s`. Kept for the process: a
    half-loaded dialect's generic generator is refused (lib/dialects.py)."""
    base = dialects.get(dialect).generator_class
    transforms: dict[type[exp.Expr], Callable[..., str]] = {
        **base.TRANSFORMS,
        exp.Placeholder: _format_mark,
    }
    return cast(type[Generator], type(f"Bound{base.__name__}", (base,), {"TRANSFORMS": transforms}))


def render(statement: exp.Expr, vendor: str) -> str:
    """The statement's text for a cursor of `vendor` (sqlite, postgresql, duckdb, spark).
    A construct the dialect cannot express raises instead of being written wrong. With
    placeholders, a `%` in a literal would be read as a mark by Django's cursors: refused."""
    if any(True for _ in statement.find_all(exp.Placeholder)):
        for literal in statement.find_all(exp.Literal):
            if literal.is_string and "%" in literal.this:
                raise ValueError(f"a literal with % in a statement with parameters: {literal}")
    dialect = DIALECTS[vendor]
    generator = _generator(dialect)(
        dialect=Dialect.get_or_raise(dialect), unsupported_level=ErrorLevel.RAISE
    )
    return generator.generate(statement, copy=False)


# ---- small builders ---------------------------------------------------------------------


def column(table: str | None, name: str) -> exp.Column:
    return exp.column(name, table=table)


def text(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def number(value: int | float) -> exp.Expr:
    return exp.Literal.number(repr(value) if isinstance(value, float) else value)


def mark() -> exp.Placeholder:
    """A parameter's place."""
    return exp.Placeholder()


def marks(count: int) -> list[exp.Expr]:
    return [exp.Placeholder() for _ in range(count)]


def among(operand: exp.Expr, items: list[exp.Expr]) -> exp.In:
    """`operand IN (items)`."""
    return exp.In(this=operand, expressions=items)


def table(name: str, alias: str | None = None) -> exp.Table:
    return exp.table_(name, alias=alias)


def eq(left: exp.Expr, right: exp.Expr) -> exp.EQ:
    return exp.EQ(this=left, expression=right)


def paren(operand: exp.Expr) -> exp.Paren:
    return exp.Paren(this=operand)


def divide(left: exp.Expr, right: exp.Expr) -> exp.Div:
    """`left / right` as PostgreSQL reads it (how the statements were first written)."""
    return exp.Div(this=left, expression=right, typed=True, safe=False)


def nullif_zero(operand: exp.Expr) -> exp.Nullif:
    return exp.Nullif(this=operand, expression=number(0))


def double(operand: exp.Expr) -> exp.Cast:
    return exp.Cast(this=operand, to=exp.DataType.build("DOUBLE"))


def coalesce(first: exp.Expr, *rest: exp.Expr) -> exp.Coalesce:
    return exp.Coalesce(this=first, expressions=list(rest))


def case(condition: exp.Expr, then: exp.Expr, otherwise: exp.Expr | None = None) -> exp.Case:
    """`CASE WHEN condition THEN then [ELSE otherwise] END`."""
    return exp.Case(ifs=[exp.If(this=condition, true=then)], default=otherwise)


def is_not_null(operand: exp.Expr) -> exp.Is:
    return exp.Is(this=operand, expression=exp.Null(), negate=True)


def all_of(conditions: list[exp.Expr]) -> exp.Expr:
    """The conditions joined by AND, left to right; `1 = 1` when there are none."""
    if not conditions:
        return eq(number(1), number(1))
    return exp.and_(*conditions, copy=False)


def never() -> exp.EQ:
    """`1 = 0` (every engine reads it; SQLite has no FALSE before 3.23)."""
    return eq(number(1), number(0))


def star(table_name: str) -> exp.Column:
    """`table.*`."""
    return exp.Column(this=exp.Star(), table=exp.to_identifier(table_name))
