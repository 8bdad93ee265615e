"""The one rule "an org unit is open during a period", and the forms the backends need.

The rule is stated once, as data (`RULE`): a unit is open during [start, end] when it opened
on or before the period's end and was not closed by its start — a unit closed on a period's
first day is not open in it; a missing date (never opened on record, never closed) passes its
condition. Every form below is derived from `RULE`: the Python predicate (forms, validation's
row checks, `OrgUnit.is_open_on`, the demo), the numpy mask (validation over arrays), the
Django `Q` (querysets) and the SQLGlot expression (the engine's and completeness's SQL).
network/tests/test_opening.py checks that the four agree on random dates, on each database.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db.models import Q
from sqlglot import exp

# (the unit's date field, how it compares, the period's bound)
RULE = (("opened_on", "<=", "end"), ("closed_on", ">", "start"))

FAR = 10**7  # beyond any date's ordinal: a missing date as an ordinal that passes its test
_PYTHON: dict[str, Callable[[Any, Any], Any]] = {"<=": operator.le, ">": operator.gt}
_MISSING = {"<=": -FAR, ">": FAR}
_LOOKUP = {"<=": "lte", ">": "gt"}
_SQL: dict[str, type[exp.Binary]] = {"<=": exp.LTE, ">": exp.GT}

Ordinals = npt.NDArray[np.int64]


def is_open_during(unit: Any, start: date, end: date) -> bool:
    """The rule for one unit (anything with opened_on and closed_on) and one period."""
    bounds = {"start": start, "end": end}
    return all(
        getattr(unit, field) is None or _PYTHON[op](getattr(unit, field), bounds[bound])
        for field, op, bound in RULE
    )


def ordinals(field: str, days: Iterable[date | None]) -> Ordinals:
    """A column of a unit's date field as ordinals; a missing date as one that passes."""
    missing = _MISSING[next(op for name, op, _ in RULE if name == field)]
    return np.array([d.toordinal() if d else missing for d in days], dtype=np.int64)


def open_mask(opened: Any, closed: Any, start: Any, end: Any) -> Any:
    """The rule over numpy arrays (or scalars) of ordinals, element by element: `opened` and
    `closed` from `ordinals`, `start` and `end` the periods' bounds' ordinals."""
    columns = {"opened_on": opened, "closed_on": closed, "start": start, "end": end}
    mask = None
    for field, op, bound in RULE:
        test = _PYTHON[op](columns[field], columns[bound])
        mask = test if mask is None else mask & test
    return mask


def open_q(start: date, end: date, prefix: str = "") -> Q:
    """The rule as a queryset filter; `prefix` reaches the unit through a relation
    (e.g. "orgunit__")."""
    bounds = {"start": start, "end": end}
    q = Q()
    for field, op, bound in RULE:
        name = prefix + field
        q &= Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__{_LOOKUP[op]}": bounds[bound]})
    return q


def open_sql(unit: str, start: exp.Expression, end: exp.Expression) -> exp.Condition:
    """The rule as a SQL condition on the table aliased `unit`; `start` and `end` are
    expressions (a date literal via `day`, or a column)."""
    bounds = {"start": start, "end": end}
    conditions = []
    for field, op, bound in RULE:
        column = exp.column(field, table=unit)
        conditions.append(
            exp.or_(
                exp.Is(this=column, expression=exp.Null()),
                _SQL[op](this=column.copy(), expression=bounds[bound].copy()),
            )
        )
    return exp.and_(*conditions)


def day(value: date) -> exp.Expression:
    """A date as a SQL literal ('YYYY-MM-DD': how SQLite stores dates, and what PostgreSQL
    and DuckDB compare with a date column)."""
    return exp.Literal.string(value.isoformat())
