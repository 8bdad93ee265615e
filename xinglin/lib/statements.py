"""Raw SQL statements of the write path generated from a model's fields, so that a field added to
the model cannot be forgotten by a statement written for it.

A bulk write names what goes into each of the model's columns (`column_values`, `insert_select`)
or, for an update, which columns a change sets and which it keeps (`update_set`); the column
lists, their order and quoting come from the model's `_meta`. A column the statement does not
account for, or one the model does not have, is an error naming the model and the columns
(`StatementError`), raised when the statement is built, before anything is written. Parameters
are named (`param`: `%(name)s`), which Django's SQLite and PostgreSQL cursors both take."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, TypeVar

from django.db import connection, models
from django.db.backends.base.base import BaseDatabaseWrapper

V = TypeVar("V")
Model = type[models.Model]


class StatementError(ValueError):
    """A statement that does not account for exactly the model's columns."""


def written_fields(model: Model) -> list[models.Field[Any, Any]]:
    """The model's columns a row is written with: every concrete field but an automatic
    primary key (the database numbers the rows)."""
    pk = model._meta.pk
    automatic = isinstance(pk, models.AutoField | models.BigAutoField | models.SmallAutoField)
    return [f for f in model._meta.concrete_fields if not (automatic and f is pk)]


def written_columns(model: Model) -> list[str]:
    """The column names of `written_fields`, in the model's order."""
    return [f.column for f in written_fields(model)]


def table(model: Model) -> str:
    """The model's table, quoted."""
    return connection.ops.quote_name(model._meta.db_table)


def param(name: str) -> str:
    """A named parameter (pass the statement's parameters as a dict)."""
    return f"%({name})s"


def column_values(model: Model, given: Mapping[str, V]) -> dict[str, V]:
    """`given` (per column name, what a row gets) in the model's column order; a
    StatementError when it names other columns than `written_columns(model)`."""
    _require(model, given.keys(), written_columns(model), "writes")
    return {column: given[column] for column in written_columns(model)}


def insert_select(model: Model, select: Mapping[str, str], source: str) -> str:
    """`INSERT INTO <model's table> (<its columns>) SELECT <select's expressions> <source>`:
    `select` gives each column's SQL expression, `source` is what follows (FROM …)."""
    ordered = column_values(model, select)
    names = ", ".join(_quote(c) for c in ordered)
    return f"INSERT INTO {table(model)} ({names}) SELECT {', '.join(ordered.values())} {source}"


def update_set(model: Model, changes: Mapping[str, str], *, kept: Collection[str]) -> str:
    """The SET list of an UPDATE of the model's rows: `changes` gives each changed column's
    SQL expression; every other column must be named in `kept` (a StatementError otherwise,
    and when a column is both changed and kept)."""
    both = sorted(set(changes) & set(kept))
    if both:
        raise StatementError(f"{_name(model)}: {', '.join(both)} both changed and kept")
    _require(model, [*changes, *kept], written_columns(model), "updates or keeps")
    ordered = [c for c in written_columns(model) if c in changes]
    return ", ".join(f"{_quote(c)} = {changes[c]}" for c in ordered)


def unique_key(model: Model, name: str) -> tuple[str, ...]:
    """The column names of the model's unique constraint `name`."""
    by_name = {f.name: f.column for f in model._meta.concrete_fields}
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.name == name:
            return tuple(by_name[f] for f in constraint.fields)
    raise StatementError(f"{_name(model)} has no unique constraint {name}")


def column_types(model: Model, columns: Iterable[str]) -> str:
    """`name type, …` of the model's columns as this database declares them (a foreign key as
    the key it refers to; the primary key as the integer a reference to it is): the columns
    of a temporary table that stages the model's rows."""
    return ", ".join(f"{c} {column_type(model, c)}" for c in columns)


def column_type(model: Model, column: str) -> str:
    """The type of one of the model's columns, as `column_types` gives it."""
    by_column = {f.column: f for f in model._meta.concrete_fields}
    if column not in by_column:
        raise StatementError(f"{_name(model)} has no column {column}")
    field = by_column[column]
    if isinstance(field, models.ForeignKey):
        field = field.target_field
    if field.primary_key:  # the integer a reference to it is, not its serial type
        rel_db_type: Callable[[BaseDatabaseWrapper], str] = field.rel_db_type  # type: ignore[attr-defined]
        return rel_db_type(connection)
    return str(field.db_type(connection))


def _require(model: Model, named: Iterable[str], columns: list[str], verb: str) -> None:
    named = list(named)
    missing = [c for c in columns if c not in named]
    unknown = [c for c in named if c not in columns]
    if missing or unknown:
        said = []
        if missing:
            said.append(f"it does not say what it {verb} in {', '.join(missing)}")
        if unknown:
            said.append(f"{_name(model)} has no column {', '.join(unknown)}")
        raise StatementError(f"A statement on {_name(model)}: {'; '.join(said)}")


def _name(model: Model) -> str:
    return model._meta.label


def _quote(column: str) -> str:
    return connection.ops.quote_name(column)
