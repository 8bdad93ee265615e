"""Checks every value to be written, whatever its channel (a form field, a workbook cell, a
CSV row, a JSON entry): codes, period, type, range, open institution, scope, duplicates,
locks, comparison rules and the year-on-year jump.

Column-wise, so that a file of a million values is checked in seconds: codes are looked up
once per distinct value (org unit, element, period, and their pairs), numbers are parsed and
range-checked as arrays, rules are evaluated over all (org unit, period) groups at once and
stored values come in a few queries. Each condition is written once, column-wise: a value
that fails takes the message of the first condition the same arrays say it fails (codes:
`_CODE_CHECKS`; types and ranges: rules.in_range, whose one-value form rules.to_stored also
reads text numbers; comparisons and jumps: rules.Comparison.fails, rules.jumps)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.contrib.auth.models import User
from django.db import connection
from django.utils.translation import gettext as _

from xinglin.collection import rules
from xinglin.collection.batch import Batch, Candidate, Checked, Problem, ValueColumns
from xinglin.collection.forms import DIVISION, target_of
from xinglin.collection.models import DataValue, Submission, SubmissionStatus
from xinglin.lib import periods
from xinglin.network import access, opening
from xinglin.network.models import OrgUnit
from xinglin.standards import categories
from xinglin.standards.models import DataElement
from xinglin.standards.operands import Operand, combo_of

# A plain decimal number (what str→float in arrow and in Python read alike); any other text
# (thousands separators, 是/否, "12%") goes through rules.to_stored one value at a time.
_PLAIN_NUMBER = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_VALUE_TYPES = ("integer", "number", "boolean", "percent")
_CHUNK = 900  # SQLite limits the number of parameters of one query


class _Codes:
    """One column dictionary-encoded: distinct codes (in order of first appearance) and each
    value's index into them."""

    def __init__(self, column: pa.Array):
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        if isinstance(column, pa.DictionaryArray):
            # Already encoded (a CSV's columns): the same codes, in the same order, as
            # encoding the text would give, found from the indices (the dictionary may hold
            # a text twice, or texts no value uses).
            distinct = pc.dictionary_encode(column.dictionary)
            encoded = pc.dictionary_encode(distinct.indices.take(column.indices))
            codes = distinct.dictionary.take(encoded.dictionary)
        else:
            encoded = pc.dictionary_encode(column)
            codes = encoded.dictionary
        self.codes: list[str] = codes.to_pylist()
        self.index = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        self.position = {code: i for i, code in enumerate(self.codes)}


def combo_numbers(elements) -> dict[str, int]:
    """A number per category option combination any of `elements` has, 0 for the default:
    a value's operand id is element id × len(numbers) + its combination's number."""
    codes = {c.code for e in elements if e.categories for c in e.combos()}
    return {categories.DEFAULT: 0} | {code: n for n, code in enumerate(sorted(codes), start=1)}


def resolve_operand(text: str, elements: dict[str, DataElement]):
    """(element or Operand, None) for an operand text that names a value an element has, or
    (None, message) naming what is wrong: an unknown element, a category option combination
    on an element without categories or not one of its combinations, or none given for an
    element reported by categories (a total is refused: never collapsed, never dropped)."""
    code, combo = categories.split(text)
    element = elements.get(code)
    if element is None:
        return None, _("unknown data element “%(code)s”") % {"code": code}
    if not element.categories:
        if combo:
            return None, _(
                "%(element)s has no categories: the category option combination “%(combo)s”"
                " is refused (send its total without one)"
            ) % {"element": element.code, "combo": combo}
        return element, None
    combos = element.combos()
    listed = "、".join(f"{c.code}（{c.name}）" for c in combos)
    if not combo:
        return None, _(
            "%(element)s is reported by %(categories)s: give one value per option"
            " combination (%(combos)s), not a total"
        ) % {
            "element": element.code,
            "categories": "、".join(c.name for c in categories.categories_of(element.categories)),
            "combos": listed,
        }
    if combo not in {c.code for c in combos}:
        return None, _(
            "“%(combo)s” is not a category option combination of %(element)s (one of: %(combos)s)"
        ) % {"combo": combo, "element": element.code, "combos": listed}
    return Operand(element, combo), None


class _Context:
    """Everything the batch refers to, fetched once, and the batch's codes encoded."""

    def __init__(self, batch: Batch, orgunits: dict[str, OrgUnit] | None = None):
        self.batch = batch
        self.e, self.o, self.p = _Codes(batch.element), _Codes(batch.orgunit), _Codes(batch.period)
        # the elements the batch names and those the rules on them compare (not the whole
        # catalogue: a form's field names one): every element a check looks up is among them
        named = {categories.split(code)[0] for code in self.e.codes}
        named |= _rule_codes(named)
        self.elements = {
            e.code: e for e in _chunked(DataElement.objects.all(), "code", sorted(named))
        }
        if orgunits is None:
            orgunits = orgunits_by_code(self.o.codes)
        found = {code: orgunits[code] for code in self.o.codes if code in orgunits}
        self.orgunits = found
        self.periods: dict[str, periods.Period | None] = {}
        self.element_of = [resolve_operand(code, self.elements)[0] for code in self.e.codes]
        self.orgunit_of = [found.get(code) for code in self.o.codes]
        self.period_of = [self.period(code) for code in self.p.codes]
        # operand ids (element id × combinations + combination; 0 for unknown codes) and a key
        # space: (org unit, period, operand id)
        self.combos = combo_numbers(self.elements.values())
        self.element_ids = np.array(
            [self.operand_id(e) if e else 0 for e in self.element_of], dtype=np.int64
        )
        self.orgunit_ids = np.array([u.pk if u else 0 for u in self.orgunit_of], dtype=np.int64)
        self.id_space = (max([e.pk for e in self.elements.values()], default=0) + 1) * len(
            self.combos
        )
        self._at: tuple | None = None

    def operand_id(self, element) -> int:
        """The number of an element (its default combination) or an Operand in the key space."""
        return element.pk * len(self.combos) + self.combos[combo_of(element)]

    def at(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(org unit, period, element) indexes of the rows (ascending positions in the
        batch, as every step keeps them). The last rows asked for are remembered: the steps
        of a check mostly ask about the same rows, often all of them."""
        if self._at is None or self._at[0] is not rows:
            if len(rows) == len(self.batch):  # all rows
                self._at = (rows, self.o.index, self.p.index, self.e.index)
            else:
                self._at = (rows, self.o.index[rows], self.p.index[rows], self.e.index[rows])
        return self._at[1:]

    def period(self, code: str) -> periods.Period | None:
        if code not in self.periods:
            try:
                self.periods[code] = periods.parse(code)
            except periods.PeriodError:
                self.periods[code] = None
        return self.periods[code]

    def key(self, o: np.ndarray, p: np.ndarray, element_id: np.ndarray) -> np.ndarray:
        """(org unit id, period, element id) as one number (see fetch_keyed); `o` and `p`
        are the batch's local indexes."""
        return self.group(o, p) * self.id_space + element_id

    def group(self, o: np.ndarray, p: np.ndarray) -> np.ndarray:
        return self.orgunit_ids[o] * len(self.p.codes) + p


def orgunits_by_code(codes: Iterable[str]) -> dict[str, OrgUnit]:
    """The org units with these codes, by code (unknown codes left out)."""
    return {u.code: u for u in _chunked(OrgUnit.objects.all(), "code", sorted(set(codes)))}


def _rule_codes(touching: set[str]) -> set[str]:
    """The element codes named by the comparison rules that name one of `touching`."""
    return {
        name
        for rule in rules.load().rules
        if not touching.isdisjoint(rule.check.names)
        for name in rule.check.names
    }


def _chunked(queryset, field_name: str, items: list, size: int = _CHUNK):
    for start in range(0, len(items), size):
        yield from queryset.filter(**{f"{field_name}__in": items[start : start + size]})


def check(
    candidates: Sequence[Candidate] | Batch,
    *,
    user: User | None = None,
    confirmed: bool = False,
    orgunits: dict[str, OrgUnit] | None = None,
) -> Checked:
    """Check a batch. `user` None means the system (no scope check); `confirmed` accepts
    warnings (they are still returned, for the record). `orgunits` (by code: at least the
    batch's, as `orgunits_by_code` reads them) saves reading them again."""
    batch = candidates if isinstance(candidates, Batch) else Batch.from_candidates(candidates)
    result = Checked()
    if not len(batch):
        return result
    context = _Context(batch, orgunits)
    rows, values = _resolve(context, user, result)
    keys = context.key(*context.at(rows)[:2], _element_ids(context, rows))
    rows, values, keys = _drop_duplicates(context, rows, values, keys, result)
    stored = _Stored.fetch(context, rows)
    found = np.zeros(len(rows), dtype=bool)
    if len(stored.keys):
        old, found = stored.lookup(keys)
        same = found & (old == values)
        result.unchanged = int(same.sum())
        if result.unchanged:
            rows, values, keys, found = rows[~same], values[~same], keys[~same], found[~same]
    is_locked = _locked(context, rows)
    if is_locked.any():
        for i in rows[is_locked].tolist():
            result.problems.append(_problem(context, i, _locked_message()))
        rows, values, keys, found = (a[~is_locked] for a in (rows, values, keys, found))
    _check_rules(context, rows, values, stored, result)
    _check_jumps(context, rows, values, keys, result)
    failed = _failed_keys(context, result, confirmed)
    if len(failed):
        keep = ~np.isin(keys, failed)
        rows, values, found = rows[keep], values[keep], found[keep]
    o, p, e = context.at(rows)
    result.columns = ValueColumns(
        elements=context.element_of,
        orgunits=context.orgunit_of,
        periods=context.p.codes,
        element_index=e,
        orgunit_index=o,
        period_index=p,
        values=values,
    )
    result.replacing = int(found.sum())
    return result


def _element_ids(context: _Context, rows: np.ndarray) -> np.ndarray:
    return context.element_ids[context.at(rows)[2]]


def _countable(size: int, count: int) -> bool:
    """Whether `count` indexes into range(size) are better counted than sorted (np.bincount
    makes an array of `size`; sorting a million numbers costs more than counting them)."""
    return size <= 4 * count + 65536


def _distinct(index: np.ndarray, size: int) -> np.ndarray:
    """np.unique(index) for indexes into range(size)."""
    if not _countable(size, len(index)):
        return np.unique(index)
    return np.flatnonzero(np.bincount(index, minlength=size))


def _groups(context: _Context, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (org unit, period) groups of the rows (as _Context.group numbers, in no
    particular order) and each row's position among them."""
    o, p, _e = context.at(rows)
    span = len(context.p.codes)
    size = len(context.o.codes) * span
    if not _countable(size, len(rows)):
        distinct, position = np.unique(context.group(o, p), return_inverse=True)
        return distinct, position.reshape(-1)
    local = o * span + p  # the rows' org units are known: one group per local pair
    present = np.flatnonzero(np.bincount(local, minlength=size))
    slot = np.zeros(size, dtype=np.int64)
    slot[present] = np.arange(len(present))
    return context.group(present // span, present % span), slot[local]


def _problem(context: _Context, i: int, message: str, severity: str = "error", rule: str = ""):
    batch = context.batch
    key = (batch.orgunit[i].as_py(), batch.period[i].as_py(), batch.element[i].as_py())
    return Problem(batch.location(i), message, severity, rule, key)


def _failed_keys(context: _Context, result: Checked, confirmed: bool) -> np.ndarray:
    failed = []
    for problem in result.problems:
        if problem.key is None or (confirmed and not problem.is_error):
            continue
        orgunit, period, element = problem.key
        o, p = context.o.position.get(orgunit), context.p.position.get(period)
        e = resolve_operand(element, context.elements)[0]
        if o is not None and p is not None and e is not None:
            failed.append(context.key(np.int64(o), np.int64(p), np.int64(context.operand_id(e))))
    return np.array(failed, dtype=np.int64)


def _locked_message() -> str:
    return _("the form is approved and locked; ask for it to be un-approved first")


# ----------------------------------------------------------------------------- codes and values
def _resolve(context: _Context, user, result: Checked) -> tuple[np.ndarray, np.ndarray]:
    """The rows whose codes fit and whose value converts, with their stored values; a
    problem for each other row (in row order)."""
    report_paths = None if user is None else access.scope_paths(user, "report")
    faults = _code_faults(context, report_paths)
    fits = faults == FITS
    values, converted = _convert(context)
    messages: dict[tuple[int, int, int, int], str] = {}
    found: list[tuple[int, str]] = []
    for i in np.flatnonzero(~fits).tolist():
        number = int(faults[i])
        key = (number, int(context.e.index[i]), int(context.o.index[i]), int(context.p.index[i]))
        if key not in messages:
            messages[key] = _code_message(context, number, i)
        found.append((i, messages[key]))
    for i in np.flatnonzero(fits & ~converted).tolist():
        element = context.element_of[context.e.index[i]]
        batch = context.batch
        try:
            values[i] = rules.to_stored(
                element.value_type, batch.raw_at(i), entry=batch.entry_at(i)
            )
            converted[i] = True
        except rules.ValueProblem as problem:
            found.append((i, f"{element.code}: {problem}"))
    for i, message in sorted(found):
        problem = _problem(context, i, message)
        if _combo_refused(context, i) and not problem.location.cell:
            # the combination is at fault: named as the field (dataValueSets, CSV)
            location = dataclasses.replace(problem.location, field=COMBO_FIELD)
            problem = dataclasses.replace(problem, location=location)
        result.problems.append(problem)
    good = fits & converted
    if good.all():
        return np.arange(len(good)), values
    return np.flatnonzero(good), values[good]


COMBO_FIELD = "category_option_combo"  # a problem's field when the combination is at fault


def _combo_refused(context: _Context, i: int) -> bool:
    """Whether row i names a known element with a combination it does not take (or none
    where it takes one)."""
    text = context.e.codes[context.e.index[i]]
    code = categories.split(text)[0]
    return code in context.elements and context.element_of[context.e.index[i]] is None


# ----------------------------------------------------------------------------- codes
# The conditions a value's codes meet, each written once (`_CODE_CHECKS`, in the order a row's
# message is chosen): where it holds, for every row at once (a table over the batch's distinct
# codes or pairs of codes, looked up per row), and the message of a row where it fails. A row's
# message is the one of the first condition it fails, so a condition's answer on a row that
# fails an earlier one is never read (it need only not break on the unknown codes).
Scope = list[str] | None  # the paths a user may report under; None: the system (no scope)


@dataclasses.dataclass(frozen=True)
class _CodeCheck:
    holds: Callable[[_Context, Scope], np.ndarray | None]  # per row; None: every row holds
    message: Callable[[_Context, int], str]  # of row i, where it fails


def _per_row(table: np.ndarray, *index: np.ndarray) -> np.ndarray | None:
    """A table over codes read off per row (None where it holds everywhere: no lookup)."""
    return None if table.all() else table[index]


def _element_known(context: _Context, scope: Scope) -> np.ndarray | None:
    table = np.array([e is not None for e in context.element_of], dtype=bool)
    return _per_row(table, context.e.index)


def _unknown_element(context: _Context, i: int) -> str:
    return resolve_operand(context.batch.candidate(i).element, context.elements)[1]


def _orgunit_known(context: _Context, scope: Scope) -> np.ndarray | None:
    table = np.array([u is not None for u in context.orgunit_of], dtype=bool)
    return _per_row(table, context.o.index)


def _unknown_orgunit(context: _Context, i: int) -> str:
    return _("unknown org unit “%(code)s”") % {"code": context.batch.candidate(i).orgunit}


def _in_scope(context: _Context, scope: Scope) -> np.ndarray | None:
    if scope is None:
        return None
    table = np.array(
        [u is None or any(u.path.startswith(x) for x in scope) for u in context.orgunit_of],
        dtype=bool,
    )
    return _per_row(table, context.o.index)


def _out_of_scope(context: _Context, i: int) -> str:
    return _("%(code)s is outside your reporting scope") % {"code": _orgunit(context, i).code}


def _period_known(context: _Context, scope: Scope) -> np.ndarray | None:
    table = np.array([x is not None for x in context.period_of], dtype=bool)
    return _per_row(table, context.p.index)


def _unknown_period(context: _Context, i: int) -> str:
    return _("period “%(code)s” is not a year (2024), a quarter (2024Q1) or a month (202401)") % {
        "code": context.batch.candidate(i).period
    }


def _period_type_fits(context: _Context, scope: Scope) -> np.ndarray | None:
    kinds = [x.type if x else None for x in context.period_of]
    table = np.array(
        [[e is None or k is None or k == e.period_type for k in kinds] for e in context.element_of],
        dtype=bool,
    ).reshape(len(context.element_of), len(kinds))
    return _per_row(table, context.e.index, context.p.index)


def _wrong_period_type(context: _Context, i: int) -> str:
    element, period = _element(context, i), _period(context, i)
    return _("%(element)s is reported %(kind)s; “%(period)s” is not a %(kind)s period") % {
        "element": element.code,
        "kind": _period_word(element.period_type),
        "period": period.code,
    }


def _period_word(kind: str) -> str:
    return {"monthly": _("monthly"), "quarterly": _("quarterly"), "yearly": _("yearly")}[kind]


def _by_target(reports: Callable[[DataElement, str], bool]):
    """A condition on (element, the org unit's form target: forms.target_of) as a table over
    the batch's elements and the distinct targets of its org units."""

    def holds(context: _Context, scope: Scope) -> np.ndarray | None:
        targets = sorted({target_of(u) for u in context.orgunit_of if u is not None})
        position = {t: n for n, t in enumerate(targets)}
        target_index = np.array(
            [position[target_of(u)] if u is not None else 0 for u in context.orgunit_of],
            dtype=np.int64,
        )
        table = np.array(
            [[e is None or reports(e, t) for t in targets] or [True] for e in context.element_of],
            dtype=bool,
        ).reshape(len(context.element_of), max(len(targets), 1))
        return _per_row(table, context.e.index, target_index[context.o.index])

    return holds


def _not_a_division(context: _Context, i: int) -> str:
    return _("%(element)s is reported by divisions, not by %(code)s") % {
        "element": _element(context, i).code,
        "code": _orgunit(context, i).code,
    }


def _a_division(context: _Context, i: int) -> str:
    return _("%(element)s is reported by institutions, not by the division %(code)s") % {
        "element": _element(context, i).code,
        "code": _orgunit(context, i).code,
    }


def _type_fits(element: DataElement, target: str) -> bool:
    types = element.institution_types or []
    return target == DIVISION or element.level == DIVISION or not types or target in types


def _wrong_type(context: _Context, i: int) -> str:
    orgunit = _orgunit(context, i)
    return _("%(element)s is not reported by %(code)s (%(type)s)") % {
        "element": _element(context, i).code,
        "code": orgunit.code,
        "type": orgunit.type_label,
    }


def _open(context: _Context, scope: Scope) -> np.ndarray | None:
    """network.opening's rule over the rows (open_mask)."""
    units = context.orgunit_of
    opened = opening.ordinals("opened_on", [u.opened_on if u else None for u in units])
    closed = opening.ordinals("closed_on", [u.closed_on if u else None for u in units])
    start = np.array([x.start.toordinal() if x else 0 for x in context.period_of], np.int64)
    end = np.array([x.end.toordinal() if x else 0 for x in context.period_of], np.int64)
    # the latest opening, earliest closing against the shortest span: every unit, every period
    if opening.open_mask(opened.max(), closed.min(), start.max(), end.min()):
        return None
    o, p = context.o.index, context.p.index
    mask: np.ndarray = opening.open_mask(opened[o], closed[o], start[p], end[p])
    return mask


def _not_open(context: _Context, i: int) -> str:
    return _("%(code)s was not open in %(period)s (closed or not yet opened)") % {
        "code": _orgunit(context, i).code,
        "period": _period(context, i).code,
    }


def _element(context: _Context, i: int):
    return context.element_of[context.e.index[i]]


def _orgunit(context: _Context, i: int) -> OrgUnit:
    return context.orgunit_of[context.o.index[i]]


def _period(context: _Context, i: int) -> periods.Period:
    return context.period_of[context.p.index[i]]


_CODE_CHECKS = (
    _CodeCheck(_element_known, _unknown_element),
    _CodeCheck(_orgunit_known, _unknown_orgunit),
    _CodeCheck(_in_scope, _out_of_scope),
    _CodeCheck(_period_known, _unknown_period),
    _CodeCheck(_period_type_fits, _wrong_period_type),
    _CodeCheck(_by_target(lambda e, t: e.level != DIVISION or t == DIVISION), _not_a_division),
    _CodeCheck(_by_target(lambda e, t: e.level == DIVISION or t != DIVISION), _a_division),
    _CodeCheck(_by_target(_type_fits), _wrong_type),
    _CodeCheck(_open, _not_open),
)
FITS = len(_CODE_CHECKS)  # a row's first failed condition when it fails none


def _code_faults(context: _Context, scope: Scope) -> np.ndarray:
    """Per row, the number of the first of _CODE_CHECKS its codes fail (FITS: none)."""
    first = np.full(len(context.batch), FITS, dtype=np.int64)
    for number in reversed(range(FITS)):  # the earliest failed condition written last
        holds = _CODE_CHECKS[number].holds(context, scope)
        if holds is not None:
            first[~holds] = number
    return first


def _code_message(context: _Context, number: int, i: int) -> str:
    """The message of row i, whose codes fail condition `number` first."""
    return _CODE_CHECKS[number].message(context, i)


def _convert(context: _Context) -> tuple[np.ndarray, np.ndarray]:
    """(stored values, converted) per row: plain numbers of the right type and range as
    arrays; anything else is left to rules.to_stored (converted False)."""
    batch = context.batch
    kinds = np.array(
        [_VALUE_TYPES.index(e.value_type) if e else 0 for e in context.element_of], np.int64
    )
    raw = batch.raw
    if isinstance(raw, pa.ChunkedArray):
        raw = raw.combine_chunks()
    if isinstance(raw, pa.DictionaryArray) and batch.entries is None:
        # Each distinct text converted once for each type it is given for: a table of
        # (type, text), read off per row.
        numbers = _numbers(raw.dictionary)
        texts = len(numbers)
        values = np.zeros(len(_VALUE_TYPES) * texts)
        ok = np.zeros(len(values), dtype=bool)
        for kind in sorted(set(kinds.tolist())):  # the types of the batch's elements
            at = slice(kind * texts, (kind + 1) * texts)
            of_kind = np.full(texts, kind, dtype=np.int64)
            values[at], ok[at] = _stored_numbers(numbers, of_kind, batch.entry)
        pick = kinds[context.e.index] * texts + raw.indices.to_numpy(zero_copy_only=False)
        return values[pick], ok[pick]
    entry = np.array(batch.entries, dtype=bool) if batch.entries is not None else batch.entry
    return _stored_numbers(_numbers(raw), kinds[context.e.index], entry)


def _stored_numbers(numbers: np.ndarray, kinds: np.ndarray, entry) -> tuple[np.ndarray, np.ndarray]:
    """(stored value, converted) of numbers given for elements of these types (indexes into
    _VALUE_TYPES); `entry`, per number or for all, as Candidate.entry. The conversion and the
    range conditions are rules.stored_numbers and rules.in_range, which to_stored reads too."""
    values = numbers.copy()
    ok = np.isfinite(numbers)
    for number, name in enumerate(_VALUE_TYPES):
        of_type = kinds == number
        if not of_type.any():
            continue
        everyone = bool(of_type.all())
        typed = numbers if everyone else numbers[of_type]
        given = entry[of_type] if isinstance(entry, np.ndarray) and not everyone else entry
        stored = rules.stored_numbers(name, typed, given)
        fits = rules.in_range(name, stored)
        if everyone:
            return stored, ok & fits
        values[of_type] = stored
        ok[of_type] &= fits
    return values, ok


def _numbers(raw: pa.Array | list) -> np.ndarray:
    """Each raw value as a float when it plainly is one (NaN otherwise)."""
    if isinstance(raw, list):
        if raw and all(type(x) is str for x in raw):
            raw = pa.array(raw, pa.string())
        else:
            kinds = (int, float)
            return np.fromiter(
                (float(x) if type(x) in kinds else math.nan for x in raw), float, len(raw)
            )
    if isinstance(raw, pa.ChunkedArray):
        raw = raw.combine_chunks()
    if isinstance(raw, pa.DictionaryArray):
        return _numbers(raw.dictionary)[raw.indices.to_numpy(zero_copy_only=False)]
    plain = pc.match_substring_regex(raw, _PLAIN_NUMBER)
    text = pc.if_else(plain, raw, pa.scalar("nan"))
    return pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False).copy()


def _drop_duplicates(context: _Context, rows, values, keys, result: Checked):
    """A key given twice with the same value is one value; with different values, both are
    errors (checked one by one, only for the keys that repeat). `keys` as _Context.key."""
    if not _repeats(context, rows):
        return rows, values, keys
    distinct, counts = np.unique(keys, return_counts=True)
    repeated = distinct[counts > 1]
    batch = context.batch
    involved = np.isin(keys, repeated)
    seen: dict[int, tuple[int, float]] = {}
    clashes: set[int] = set()
    dropped = np.zeros(len(rows), dtype=bool)
    for n in np.flatnonzero(involved).tolist():
        key, i, value = int(keys[n]), int(rows[n]), float(values[n])
        if key not in seen:
            seen[key] = (i, value)
            continue
        dropped[n] = True
        first, first_value = seen[key]
        if first_value != value:
            clashes.add(key)
            message = _("duplicate of row %(row)s with a different value (%(a)s ≠ %(b)s)") % {
                "row": batch.location(first).row,
                "a": batch.raw_at(first),
                "b": batch.raw_at(i),
            }
            result.problems.append(_problem(context, i, message))
    for key in clashes:
        first = seen[key][0]
        result.problems.append(
            _problem(context, first, _("this value is repeated with another value"))
        )
    dropped |= np.isin(keys, np.array(sorted(clashes), dtype=np.int64))
    return rows[~dropped], values[~dropped], keys[~dropped]


def _repeats(context: _Context, rows: np.ndarray) -> bool:
    """Whether a (org unit, period, element) is given twice among the rows (whose codes are
    known: distinct codes are distinct keys), counted when that is cheaper than sorting."""
    o, p, e = context.at(rows)
    shape = (len(context.o.codes), len(context.p.codes), len(context.e.codes))
    size = shape[0] * shape[1] * shape[2]
    if not _countable(size, len(rows)):
        return len(np.unique((o * shape[1] + p) * shape[2] + e)) < len(rows)
    return bool(np.bincount((o * shape[1] + p) * shape[2] + e, minlength=size).max(initial=0) > 1)


class _Stored:
    """Stored values of the batch's org units and periods (its elements and those the rules
    name), keyed as _Context.key."""

    def __init__(self, keys: np.ndarray, values: np.ndarray):
        order = np.argsort(keys, kind="stable")
        self.keys, self.values = keys[order], values[order]

    @classmethod
    def fetch(
        cls,
        context: _Context,
        rows: np.ndarray,
        period_codes: dict[str, int] | None = None,
        element_ids: set[int] | None = None,
    ) -> _Stored:
        if not len(rows):
            return cls(np.zeros(0, np.int64), np.zeros(0))
        if period_codes is None:
            distinct = _distinct(context.at(rows)[1], len(context.p.codes))
            period_codes = {context.p.codes[p]: p for p in distinct.tolist()}
        if element_ids is None:
            # the batch's and those its rules compare (what the context holds)
            element_ids = _distinct_element_ids(context, rows) | {
                context.operand_id(e) for e in context.elements.values()
            }
        units = _distinct(context.at(rows)[0], len(context.o.codes))
        n = len(context.combos)
        keys, values, _pks = fetch_keyed(
            sorted({i // n for i in element_ids}),
            context.orgunit_ids[units].tolist(),
            period_codes,
            span=len(context.p.codes),
            width=context.id_space,
            combos=context.combos,
        )
        return cls(keys, values)

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(stored value, found) per key."""
        if not len(self.keys):
            return np.zeros(len(keys)), np.zeros(len(keys), dtype=bool)
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        found = self.keys[at] == keys
        return np.where(found, self.values[at], np.nan), found


def fetch_keyed(
    element_ids: list[int],
    orgunit_ids: list[int],
    period_codes: dict[str, int],
    *,
    span: int,
    width: int,
    combos: dict[str, int],
    pks: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Stored values of the given elements, org units and periods as arrays (key, value, and
    the row's id when `pks`), the key being (orgunit_id * span + period_codes[period]) *
    width + operand id (element_id * len(combos) + combos[combo], `combo_numbers`; a stored
    combination `combos` does not number is left out). Raw SQL and arrays: a million model
    rows (even values_list) cost seconds. (Numbering the periods in SQL, by a join on a VALUES
    list, was slower on SQLite.)"""
    table = connection.ops.quote_name(DataValue._meta.db_table)
    found: list[tuple] = []
    codes = list(period_codes)
    columns = "element_id, orgunit_id, period, value, combo" + (", id" if pks else "")
    with connection.cursor() as cursor:
        for units in _slices(orgunit_ids, _CHUNK):
            for chunk in _slices(codes, _CHUNK):
                sql = (
                    f"SELECT {columns} FROM {table} WHERE element_id IN ({_marks(element_ids)})"
                    f" AND orgunit_id IN ({_marks(units)}) AND period IN ({_marks(chunk)})"
                )
                cursor.execute(sql, [*element_ids, *units, *chunk])
                found += cursor.fetchall()
    if len(combos) > 1:
        found = [row for row in found if row[4] in combos]
    elif any(row[4] for row in found):
        found = [row for row in found if not row[4]]
    if not found:
        empty = np.zeros(0, np.int64)
        return empty, np.zeros(0), (empty if pks else None)
    count = len(found)

    def column(at: int, dtype: type) -> np.ndarray:  # no transposed copy of the rows
        return np.fromiter((row[at] for row in found), dtype, count)

    numbers = np.fromiter((period_codes[row[2]] for row in found), np.int64, count)
    operands = column(0, np.int64) * len(combos)
    if len(combos) > 1:
        operands += np.fromiter((combos[row[4]] for row in found), np.int64, count)
    keys = (column(1, np.int64) * span + numbers) * width + operands
    return keys, column(3, float), (column(5, np.int64) if pks else None)


def _distinct_element_ids(context: _Context, rows: np.ndarray) -> set[int]:
    distinct = _distinct(context.at(rows)[2], len(context.e.codes))
    return set(context.element_ids[distinct].tolist())


def _slices(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _marks(items: list) -> str:
    return ", ".join(["%s"] * len(items))


def _locked(context: _Context, rows: np.ndarray) -> np.ndarray:
    """Per row: its form (org unit, period) is approved."""
    if not len(rows):
        return np.zeros(0, dtype=bool)
    approved = Submission.objects.filter(
        status=SubmissionStatus.APPROVED, period__in=context.p.codes
    )
    local = {u.pk: i for i, u in enumerate(context.orgunit_of) if u is not None}
    if len(local) <= _CHUNK:  # a form or a small file: its own forms, not all the period's
        approved = approved.filter(orgunit_id__in=sorted(local))
    groups = [
        context.group(np.int64(local[o]), np.int64(context.p.position[p]))
        for o, p in approved.values_list("orgunit_id", "period")
        if o in local
    ]
    if not groups:
        return np.zeros(len(rows), dtype=bool)
    mine = context.group(*context.at(rows)[:2])
    return np.isin(mine, np.array(groups, dtype=np.int64))


# ----------------------------------------------------------------------------- rules and jumps
def _check_rules(context: _Context, rows, values, stored: _Stored, result: Checked) -> None:
    """Comparison rules over every (org unit, period) group at once; the groups where one
    fails are then checked by rules.check_group, which writes the findings."""
    if not len(rows):
        return
    element_index = context.at(rows)[2]
    distinct, position = _groups(context, rows)
    failing = np.zeros(len(distinct), dtype=bool)
    # rules compare elements' values without categories (their default combination)
    ids = {code: context.operand_id(e) for code, e in context.elements.items()}
    for rule in rules.load().rules:
        names = sorted(rule.check.names)
        if any(name not in ids for name in names):
            continue
        new_ids = np.array([ids[name] for name in names], dtype=np.int64)
        touched = np.isin(context.element_ids, new_ids)[element_index]  # per code, per row
        if not touched.any():
            continue
        touched_groups = np.zeros(len(distinct), dtype=bool)
        touched_groups[position[touched]] = True
        columns = {
            name: _group_values(
                context, distinct, position, ids[name], element_index, values, stored
            )
            for name in names
        }
        failing |= touched_groups & rule.check.fails(columns)
    if not failing.any():
        return
    # each failing group's values (positions in rows, in row order), the groups in the order
    # of their first value
    at = np.flatnonzero(failing[position])
    at = at[np.argsort(position[at], kind="stable")]
    starts = np.flatnonzero(np.diff(position[at], prepend=-1))
    in_groups = sorted(np.split(at, starts[1:]), key=lambda in_group: int(in_group[0]))
    for in_group in in_groups:
        group = int(distinct[position[in_group[0]]])
        _report_group(context, group, in_group, rows, values, stored, result)


def _group_values(context, distinct, position, element_id, element_index, values, stored):
    """One element's value in each group: the new one, else the stored one, else NaN.
    `element_index`: the rows' elements (context.e), `position`: their groups' in `distinct`."""
    column = np.full(len(distinct), np.nan)
    if len(stored.keys):
        old, found = stored.lookup(distinct * context.id_space + element_id)
        column[found] = old[found]
    mine = (context.element_ids == element_id)[element_index]
    column[position[mine]] = values[mine]
    return column


def _report_group(context, group: int, in_group, rows, values, stored: _Stored, result) -> None:
    codes = {context.operand_id(e): code for code, e in context.elements.items()}
    new, where = {}, {}
    for n in in_group.tolist():
        element = context.element_of[context.e.index[rows[n]]]
        new[element.code], where[element.code] = float(values[n]), int(rows[n])
    low = group * context.id_space
    start, stop = np.searchsorted(stored.keys, [low, low + context.id_space])
    old = {
        codes[int(key - low)]: float(value)
        for key, value in zip(stored.keys[start:stop], stored.values[start:stop], strict=True)
        if int(key - low) in codes
    }
    for finding in rules.check_group(new, old):
        message = f"{finding.element}: {finding.message}"
        i = where[finding.element]
        result.problems.append(_problem(context, i, message, finding.severity, finding.rule))


def _check_jumps(context: _Context, rows, values, keys, result: Checked) -> None:
    """A warning where a value is over `factor` times (or under 1/factor of) the same
    period's value a year before: one query for last year's values."""
    book = rules.load()
    kinds = np.array(
        [bool(e) and e.value_type in book.jump_types for e in context.element_of], dtype=bool
    )
    mine = kinds[context.at(rows)[2]]
    if not mine.any():
        return
    if not mine.all():
        rows, values, keys = rows[mine], values[mine], keys[mine]
    last = {}
    for p in _distinct(context.at(rows)[1], len(context.p.codes)).tolist():
        last[context.period_of[p].previous_year().code] = p
    ids = _distinct_element_ids(context, rows)
    before = _Stored.fetch(context, rows, period_codes=last, element_ids=ids)
    old, found = before.lookup(keys)  # last year's value, under this year's period
    flagged = found & rules.jumps(values, old)
    for n in np.flatnonzero(flagged).tolist():
        element = context.element_of[context.e.index[rows[n]]]
        finding = rules.jump_warning(element.value_type, float(values[n]), float(old[n]))
        if finding is not None:
            message = f"{element.code}: {finding.message}"
            result.problems.append(_problem(context, int(rows[n]), message, "warning", "jump"))
