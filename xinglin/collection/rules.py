"""Validation rules of rules.yaml: value checks by type, comparisons between elements, the
year-on-year jump warning, and form deadlines. Comparisons are parsed by a tiny recursive
descent parser (numbers, element codes, + - * and parentheses, one comparison), never eval'd."""

from __future__ import annotations

import calendar
import fnmatch
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import numpy as np
import yaml
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from xinglin.lib import periods
from xinglin.lib.sheets import Percent

RULES_FILE = Path(__file__).parent / "rules.yaml"
_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(<=|>=|==|!=|<|>|[-+*()]))")
_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
    "==": operator.eq,
    "!=": operator.ne,
}
_TRUE_WORDS = {"1", "是", "有", "yes", "y", "true"}
_FALSE_WORDS = {"0", "否", "无", "no", "n", "false"}


class RuleSyntaxError(ValueError):
    """A rule's `check` that does not parse; the message names the rule and position."""


# ----------------------------------------------------------------------------- expressions
Expr = Callable[[Mapping[str, float]], float]


@dataclass(frozen=True)
class Comparison:
    text: str
    names: frozenset[str]
    left: Expr
    op: str
    right: Expr

    def fails(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """The comparison over arrays (one entry per org unit and period; NaN where an element
        has no value): True where every element it names has a value and it is False. The one
        definition: `holds` is this on one entry."""
        present = np.logical_and.reduce([~np.isnan(columns[name]) for name in self.names])
        with np.errstate(invalid="ignore"):
            left, right = self.left(columns), self.right(columns)
            holds = _COMPARISONS[self.op](left, right)
            if self.op in ("<=", ">=", "=="):
                # a small tolerance so that 0.1 + 0.2 <= 0.3 holds: math.isclose(left, right,
                # abs_tol=1e-9), element by element
                scale = np.maximum(np.abs(left), np.abs(right))
                holds |= np.abs(left - right) <= np.maximum(1e-9 * scale, 1e-9)
        return present & ~holds

    def holds(self, values: Mapping[str, float]) -> bool | None:
        """True/False for one org unit and period, or None when an element it names has no
        value: `fails` on one entry."""
        if not self.names <= values.keys():
            return None
        columns = {name: np.array([values[name]], dtype=float) for name in self.names}
        return not bool(np.asarray(self.fails(columns)).reshape(-1)[0])


class _Parser:
    def __init__(self, text: str, rule: str):
        self.text, self.rule, self.tokens, self.names = text, rule, [], set()
        position = 0
        while position < len(text):
            match = _TOKEN.match(text, position)
            if not match or match.end() == position:
                if text[position:].strip() == "":
                    break
                self._fail("unexpected character", position)
            kind = "num" if match.group(1) else "name" if match.group(2) else "op"
            value = match.group(1) or match.group(2) or match.group(3)
            self.tokens.append((kind, value, match.start(match.lastindex)))
            position = match.end()
        self.index = 0

    def _fail(self, message: str, position: int | None = None) -> None:
        where = len(self.text) if position is None else position
        raise RuleSyntaxError(
            f"rule {self.rule}: {message} at position {where + 1} of {self.text!r}"
        )

    def _peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _take(self) -> tuple[str, str, int]:
        token = self._peek()
        if token is None:
            self._fail("unexpected end")
        self.index += 1
        return token  # type: ignore[return-value]

    def comparison(self) -> Comparison:
        left = self._sum()
        kind, op, position = self._take()
        if op not in _COMPARISONS:
            self._fail(f"expected a comparison, found {op!r}", position)
        right = self._sum()
        if self._peek() is not None:
            self._fail("unexpected text", self._peek()[2])  # type: ignore[index]
        return Comparison(self.text, frozenset(self.names), left, op, right)

    def _sum(self) -> Expr:
        expr = self._product()
        while (token := self._peek()) and token[1] in "+-" and token[0] == "op":
            self.index += 1
            left, right, sign = expr, self._product(), token[1]
            expr = _combine(left, right, operator.add if sign == "+" else operator.sub)
        return expr

    def _product(self) -> Expr:
        expr = self._atom()
        while (token := self._peek()) and token[1] == "*":
            self.index += 1
            expr = _combine(expr, self._atom(), operator.mul)
        return expr

    def _atom(self) -> Expr:
        kind, value, position = self._take()
        if kind == "num":
            number = float(value)
            return lambda values: number
        if kind == "name":
            self.names.add(value)
            return lambda values: values[value]
        if value == "(":
            expr = self._sum()
            if self._take()[1] != ")":
                self._fail("expected ')'", position)
            return expr
        self._fail(f"unexpected {value!r}", position)
        raise AssertionError  # unreachable: _fail raises


def _combine(left: Expr, right: Expr, op: Callable[[float, float], float]) -> Expr:
    return lambda values: op(left(values), right(values))


def parse_check(text: str, rule: str = "?") -> Comparison:
    return _Parser(text, rule).comparison()


# ----------------------------------------------------------------------------- the rule file
@dataclass(frozen=True)
class Rule:
    id: str
    check: Comparison
    severity: str
    message_zh: str
    message_en: str
    source: str

    @property
    def message(self) -> str:
        return self.message_en if get_language() == "en" else self.message_zh


@dataclass(frozen=True)
class RuleBook:
    values: dict
    jump_factor: float
    jump_types: tuple[str, ...]
    rules: tuple[Rule, ...]
    deadlines: dict
    required: dict  # form code pattern (fnmatch) -> element codes

    def required_for(self, form_code: str) -> set[str]:
        """The element codes a form must hold before it is submitted."""
        return {
            code
            for pattern, codes in self.required.items()
            if fnmatch.fnmatchcase(form_code, pattern)
            for code in codes
        }


@cache
def load(path: Path = RULES_FILE) -> RuleBook:
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    rules = tuple(
        Rule(
            id=item["id"],
            check=parse_check(item["check"], item["id"]),
            severity=item.get("severity", "error"),
            message_zh=item["message"]["zh"],
            message_en=item["message"]["en"],
            source=item["source"],
        )
        for item in data["rules"]
    )
    return RuleBook(
        values=data["values"],
        jump_factor=float(data["jump"]["factor"]),
        jump_types=tuple(data["jump"]["types"]),
        rules=rules,
        deadlines=data["deadlines"],
        required=(data.get("required") or {}).get("forms") or {},
    )


# ----------------------------------------------------------------------------- single values
class ValueProblem(ValueError):
    """A raw value that cannot be stored for its element (wrong type or out of range)."""


PERCENT_SIGNS = ("%", "％")


def to_stored(value_type: str, raw: object, *, entry: bool = False) -> float:
    """The stored float for a raw value (text, number or bool). `entry` means the value was
    typed where percentages show as 0–100 (forms, the Excel template). A percent element's
    text ending in a percent sign is a percent in any channel ("35%" is 0.35 stored).
    Raises ValueProblem."""
    spec = load().values[value_type]
    if value_type == "percent" and isinstance(raw, str) and raw.strip().endswith(PERCENT_SIGNS):
        raw, entry = raw.strip()[:-1], True  # "35%" is 35 %, wherever it is typed
    number = _boolean(raw) if value_type == "boolean" else _number(raw)
    if isinstance(raw, Percent):  # a percent-formatted cell holds the fraction itself
        entry = False
    stored = stored_numbers(value_type, np.array([number]), entry)
    fault = int(range_faults(value_type, stored)[0])
    if fault < len(_RANGE):
        raise ValueProblem(_RANGE[fault].message(value_type, spec, float(stored[0]), entry))
    return float(stored[0])


def stored_numbers(value_type: str, numbers: np.ndarray, entry: bool | np.ndarray) -> np.ndarray:
    """Numbers given for an element of `value_type` as stored: a percent typed where
    percentages show as 0–100 (`entry`, for all or per number) divided by the entry scale,
    then `exact`. The column-wise check and `to_stored` alike."""
    spec = load().values[value_type]
    if value_type == "percent":
        numbers = np.where(entry, numbers / float(spec.get("entry_scale", 1)), numbers)
    return exact(spec, numbers)


@dataclass(frozen=True)
class _RangeCondition:
    """A condition a stored number of a type meets (rules.yaml `values`): where it holds over
    an array, and the message where it fails (of a number as stored; `entry` as to_stored)."""

    holds: Callable[[dict, np.ndarray], np.ndarray]
    message: Callable[[str, dict, float, bool], str]


def _whole_message(value_type: str, spec: dict, number: float, entry: bool) -> str:
    return _("%(value)g is not a whole number") % {"value": number}


def _min_message(value_type: str, spec: dict, number: float, entry: bool) -> str:
    if value_type == "percent":
        scale = spec.get("entry_scale", 1) if entry else 1
        return _("a percentage cannot be below %(low)g") % {"low": spec["min"] * scale}
    return _("cannot be negative")


def _max_message(value_type: str, spec: dict, number: float, entry: bool) -> str:
    high = spec["max"]
    if value_type == "percent" and not entry:  # a file of stored values: fractions
        return _(
            "a percentage cannot be above %(high)g here: this file carries percentages "
            "as fractions (35%% is 0.35) or with a percent sign (35%%)"
        ) % {"high": high}
    return _("a percentage cannot be above %(high)g") % {"high": high * spec.get("entry_scale", 1)}


def _allowed_message(value_type: str, spec: dict, number: float, entry: bool) -> str:
    return _("“%(value)s” is not 1 (yes) or 0 (no)") % {"value": f"{number:g}"}


def _everywhere(numbers: np.ndarray) -> np.ndarray:
    return np.ones(numbers.shape, dtype=bool)


# In the order a number's message is chosen; a condition its type's spec does not set holds.
_RANGE = (
    _RangeCondition(
        lambda spec, n: (np.floor(n) == n) if spec.get("whole") else _everywhere(n),
        _whole_message,
    ),
    _RangeCondition(
        lambda spec, n: (n >= spec["min"]) if spec.get("min") is not None else _everywhere(n),
        _min_message,
    ),
    _RangeCondition(
        lambda spec, n: (n <= spec["max"]) if spec.get("max") is not None else _everywhere(n),
        _max_message,
    ),
    _RangeCondition(
        lambda spec, n: np.isin(n, spec["allowed"]) if "allowed" in spec else _everywhere(n),
        _allowed_message,
    ),
)


def in_range(value_type: str, numbers: np.ndarray) -> np.ndarray:
    """Per stored number of an element of `value_type`: it meets every condition of _RANGE."""
    return range_faults(value_type, numbers) == len(_RANGE)


def range_faults(value_type: str, numbers: np.ndarray) -> np.ndarray:
    """Per stored number of an element of `value_type`, the first of _RANGE it fails
    (len(_RANGE): none). A NaN fails the first condition that tests it; the column-wise check
    reads only whether it is len(_RANGE), to_stored raises that condition's message."""
    spec = load().values[value_type]
    first = np.full(numbers.shape, len(_RANGE), dtype=np.int64)
    with np.errstate(invalid="ignore"):
        for number in reversed(range(len(_RANGE))):
            first[~_RANGE[number].holds(spec, numbers)] = number
    return first


# How near a whole number a value of a whole type must be to be that number (floating-point
# noise such as 58819.99999999999 for 58820); farther, it is a fraction and refused.
WHOLE_TOLERANCE = 1e-6


def exact(spec: dict, numbers: np.ndarray) -> np.ndarray:
    """Values as stored, without floating-point noise: a whole type (counts) snaps to the
    nearest whole number within WHOLE_TOLERANCE; any other type rounds to its `decimals`
    (rules.yaml). One function for the column-wise check and for single values, so both
    store the very same float and a re-import of an export compares equal."""
    if spec.get("whole"):
        nearest = np.rint(numbers)
        return np.where(np.abs(numbers - nearest) <= WHOLE_TOLERANCE, nearest, numbers)
    decimals = spec.get("decimals")
    return np.round(numbers, int(decimals)) if decimals is not None else numbers


def to_entry(value_type: str, stored: float | None) -> str:
    """A stored value as a form shows it (percent as 0–100, whole numbers without .0)."""
    if stored is None:
        return ""
    if value_type == "percent":
        stored = stored * load().values["percent"].get("entry_scale", 1)
        stored = round(stored, 6)
    return str(int(stored)) if float(stored).is_integer() else f"{stored:g}"


def _number(raw: object) -> float:
    if isinstance(raw, bool):
        return float(raw)
    if isinstance(raw, int | float):
        number = float(raw)
    else:
        text = str(raw).strip().replace(",", "").replace("，", "")
        if text.endswith("%"):
            raise ValueProblem(_("write the number without a percent sign"))
        try:
            number = float(text)
        except ValueError:
            raise ValueProblem(_("“%(value)s” is not a number") % {"value": text}) from None
    if not math.isfinite(number):
        raise ValueProblem(_("“%(value)s” is not a number") % {"value": raw})
    return number


def _boolean(raw: object) -> float:
    text = str(raw).strip().lower()
    if isinstance(raw, bool):
        return 1.0 if raw else 0.0
    if isinstance(raw, int | float) and float(raw) in (0.0, 1.0):
        return float(raw)
    if text in _TRUE_WORDS:
        return 1.0
    if text in _FALSE_WORDS:
        return 0.0
    try:
        number = float(text)
    except ValueError:
        number = None
    if number in (0.0, 1.0):
        return float(number)
    raise ValueProblem(_("“%(value)s” is not 1 (yes) or 0 (no)") % {"value": raw})


# ----------------------------------------------------------------------------- several values
@dataclass(frozen=True)
class Finding:
    """A rule that fails for one element of one org unit and period."""

    element: str
    severity: str  # error | warning
    rule: str
    message: str


def check_group(new: Mapping[str, float], stored: Mapping[str, float]) -> list[Finding]:
    """Comparison rules for one org unit and period: `new` values (being written) over the
    `stored` ones. Only rules naming at least one new value are checked; a failing rule is
    reported on each new value it names."""
    by_element = _rules_by_element()
    touched = {rule for name in new for rule in by_element.get(name, ())}
    if not touched:
        return []
    merged = {**stored, **new}
    findings = []
    for rule in sorted(touched, key=lambda r: r.id):
        involved = [name for name in sorted(rule.check.names) if name in new]
        if rule.check.holds(merged) is not False:
            continue
        for name in involved:
            findings.append(Finding(name, rule.severity, rule.id, rule.message))
    return findings


@cache
def _rules_by_element() -> dict[str, tuple[Rule, ...]]:
    found: dict[str, list[Rule]] = {}
    for rule in load().rules:
        for name in rule.check.names:
            found.setdefault(name, []).append(rule)
    return {name: tuple(rules) for name, rules in found.items()}


def jumps(values: np.ndarray, last_year: np.ndarray) -> np.ndarray:
    """Where a value is over `factor` times (or under 1/factor of) last year's, both above 0
    (NaN: no value last year), element by element. The one definition: `jump_warning` is
    this on one value."""
    factor = load().jump_factor
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = values / last_year
        return (last_year > 0) & (values > 0) & ((ratio < 1 / factor) | (ratio > factor))


def jump_warning(value_type: str, value: float, last_year: float | None) -> Finding | None:
    """The warning of a value of `value_type` against last year's (None: none), or None."""
    if value_type not in load().jump_types or last_year is None:
        return None
    if not jumps(np.array([value], dtype=float), np.array([last_year], dtype=float))[0]:
        return None
    ratio = value / last_year
    message = _("%(value)g is %(ratio).1f× last year's %(last)g; please confirm") % {
        "value": value,
        "ratio": ratio,
        "last": last_year,
    }
    return Finding("", "warning", "jump", message)


# ----------------------------------------------------------------------------- deadlines
def deadline(period_code: str) -> date:
    """The day a form for the period is due: `day` of the month after the period ends."""
    period = periods.parse(period_code)
    day = int(load().deadlines[period.type]["day"])
    year, month = period.end.year, period.end.month + 1
    if month == 13:
        year, month = year + 1, 1
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))
