"""The indicator expression language: a small, safe parser (no eval) and target strings.

    value  := arithmetic over aggregates and numbers, with + - * / and parentheses
    sum(e) max(e) min(e)   over the covered institutions beneath the org unit
    own(e)                 the value at the evaluated org unit itself (else the sum over its
                           child divisions) — populations and county-wide surveys
    count()                the number of open covered institutions
    share(condition)       the fraction of open covered institutions meeting the condition
    per_10000(a, b)        a * 10000 / b
    condition := comparisons of per-institution arithmetic (element codes, numbers,
                 technique_categories, technique_items) joined by and / or / not

Errors carry the 1-based position of the offending character in the expression.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

AGGREGATES = ("sum", "max", "min")
TECHNIQUE_COUNTS = ("technique_categories", "technique_items")
COMPARISONS = (">=", "<=", "!=", "<>", "==", "=", ">", "<")
_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>>=|<=|!=|<>|==|[=<>+\-*/(),]))"
)


class ExpressionError(ValueError):
    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return f"position {self.position}: {self.message}"


@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Element:
    """A data element's value at one institution (inside share conditions)."""

    code: str


@dataclass(frozen=True)
class TechniqueCount:
    what: str  # technique_categories | technique_items


@dataclass(frozen=True)
class Aggregate:
    func: str  # sum | max | min | own
    element: str


@dataclass(frozen=True)
class Count:
    pass


@dataclass(frozen=True)
class Share:
    condition: Node


@dataclass(frozen=True)
class PerTenThousand:
    numerator: Node
    denominator: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Negate:
    operand: Node


@dataclass(frozen=True)
class Compare:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Logical:
    op: str  # and | or
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    operand: Node


Node = Union[  # noqa: UP007 (dataclass forward references)
    Number,
    Element,
    TechniqueCount,
    Aggregate,
    Count,
    Share,
    PerTenThousand,
    Binary,
    Negate,
    Compare,
    Logical,
    Not,
]


@dataclass(frozen=True)
class Token:
    kind: str  # number | name | op | end
    text: str
    position: int  # 1-based


def tokenize(text: str) -> list[Token]:
    tokens, index = [], 0
    while index < len(text):
        if text[index:].strip() == "":
            break
        match = _TOKEN.match(text, index)
        if not match or match.end() == index:
            start = index + len(text[index:]) - len(text[index:].lstrip())
            raise ExpressionError(f"unexpected character {text[start]!r}", start + 1)
        kind = match.lastgroup or "op"
        tokens.append(Token(kind, match.group(kind), match.start(kind) + 1))
        index = match.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


class _Parser:
    def __init__(self, text: str, elements: dict[str, str] | None) -> None:
        self.tokens = tokenize(text)
        self.index = 0
        # element code -> level (institution | division); None skips the check
        self.elements = elements

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.token
        self.index += 1
        return token

    def expect(self, text: str) -> Token:
        if self.token.text != text:
            raise ExpressionError(f"expected {text!r}, found {self._found()}", self.token.position)
        return self.advance()

    def _found(self) -> str:
        return repr(self.token.text) if self.token.kind != "end" else "the end"

    # ---- top level: aggregates over institutions
    def value(self) -> Node:
        node = self.arithmetic(self.primary)
        if self.token.kind != "end":
            raise ExpressionError(f"unexpected {self._found()}", self.token.position)
        return node

    def arithmetic(self, primary: Callable[[], Node]) -> Node:
        node = self.term(primary)
        while self.token.text in ("+", "-"):
            op = self.advance().text
            node = Binary(op, node, self.term(primary))
        return node

    def term(self, primary: Callable[[], Node]) -> Node:
        node = self.unary(primary)
        while self.token.text in ("*", "/"):
            op = self.advance().text
            node = Binary(op, node, self.unary(primary))
        return node

    def unary(self, primary: Callable[[], Node]) -> Node:
        if self.token.text == "-":
            self.advance()
            return Negate(self.unary(primary))
        return primary()

    def number(self) -> Number:
        return Number(float(self.advance().text))

    def primary(self) -> Node:
        token = self.token
        if token.kind == "number":
            return self.number()
        if token.text == "(":
            self.advance()
            node = self.arithmetic(self.primary)
            self.expect(")")
            return node
        if token.kind != "name":
            raise ExpressionError(f"expected a value, found {self._found()}", token.position)
        self.advance()
        name = token.text
        if self.token.text != "(":
            if name in TECHNIQUE_COUNTS:
                raise ExpressionError(f"{name} is only allowed inside share()", token.position)
            raise ExpressionError(
                f"data element {name!r} needs sum(), max(), min() or own() here", token.position
            )
        self.advance()
        node = self.call(name, token.position)
        self.expect(")")
        return node

    def call(self, name: str, position: int) -> Node:
        if name in AGGREGATES or name == "own":
            return Aggregate(name, self.element_code(allow_division=True))
        if name == "count":
            return Count()
        if name == "share":
            return Share(self.condition())
        if name == "per_10000":
            numerator = self.arithmetic(self.primary)
            self.expect(",")
            return PerTenThousand(numerator, self.arithmetic(self.primary))
        raise ExpressionError(f"unknown function {name!r}", position)

    def element_code(self, *, allow_division: bool) -> str:
        token = self.token
        if token.kind != "name":
            raise ExpressionError(f"expected a data element, found {self._found()}", token.position)
        self.advance()
        if self.elements is not None:
            if token.text not in self.elements:
                raise ExpressionError(f"unknown data element {token.text!r}", token.position)
            if not allow_division and self.elements[token.text] == "division":
                raise ExpressionError(
                    f"{token.text!r} is reported for divisions, not institutions; use own()",
                    token.position,
                )
        return token.text

    # ---- conditions inside share(): one institution at a time
    def condition(self) -> Node:
        node = self.conjunction()
        while self.token.text == "or":
            self.advance()
            node = Logical("or", node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.negation()
        while self.token.text == "and":
            self.advance()
            node = Logical("and", node, self.negation())
        return node

    def negation(self) -> Node:
        if self.token.text == "not":
            self.advance()
            return Not(self.negation())
        if self.token.text == "(":
            # "(a = 1 and b = 1)" groups conditions, "(a + b) >= 3" groups arithmetic
            saved = self.index
            self.advance()
            try:
                node = self.condition()
                self.expect(")")
                if self.token.text not in COMPARISONS:
                    return node
            except ExpressionError:
                pass
            self.index = saved
        return self.comparison()

    def comparison(self) -> Node:
        left = self.arithmetic(self.operand)
        if self.token.text not in COMPARISONS:
            raise ExpressionError(
                f"expected a comparison (>=, <=, >, <, =, !=), found {self._found()}",
                self.token.position,
            )
        raw = self.advance().text
        op = {"==": "=", "<>": "!="}.get(raw, raw)
        return Compare(op, left, self.arithmetic(self.operand))

    def operand(self) -> Node:
        token = self.token
        if token.kind == "number":
            return self.number()
        if token.text == "(":
            self.advance()
            node = self.arithmetic(self.operand)
            self.expect(")")
            return node
        if token.kind == "name" and token.text in TECHNIQUE_COUNTS:
            self.advance()
            return TechniqueCount(token.text)
        if token.kind == "name" and token.text not in ("and", "or", "not"):
            return Element(self.element_code(allow_division=False))
        raise ExpressionError(f"expected a value, found {self._found()}", token.position)


def parse(text: str, elements: dict[str, str] | None = None) -> Node:
    """Parse an indicator value. `elements` maps known element codes to their level;
    unknown codes then fail with their position."""
    if not str(text).strip():
        raise ExpressionError("the expression is empty", 1)
    return _Parser(str(text), elements).value()


def split(node: Node) -> tuple[Node, Node | None, float]:
    """The numerator, denominator (None when the value is not a quotient) and scale of a
    top-level expression: `a / b` → (a, b, 1), `per_10000(a, b)` → (a, b, 10000). The one
    definition the engine computes with and the FHIR Measures publish."""
    if isinstance(node, Binary) and node.op == "/":
        return node.left, node.right, 1.0
    if isinstance(node, PerTenThousand):
        return node.numerator, node.denominator, 10000.0
    return node, None, 1.0


_PRECEDENCE = {"or": 1, "and": 2, "+": 4, "-": 4, "*": 5, "/": 5}


def to_text(node: Node) -> str:
    """The expression as the pack writes it (parentheses only where needed)."""
    if isinstance(node, Number):
        return f"{node.value:g}"
    if isinstance(node, Element):
        return node.code
    if isinstance(node, TechniqueCount):
        return node.what
    if isinstance(node, Aggregate):
        return f"{node.func}({node.element})"
    if isinstance(node, Count):
        return "count()"
    if isinstance(node, Share):
        return f"share({to_text(node.condition)})"
    if isinstance(node, PerTenThousand):
        return f"per_10000({to_text(node.numerator)}, {to_text(node.denominator)})"
    if isinstance(node, Negate):
        return f"-{_operand_text(node.operand, 6)}"
    if isinstance(node, Not):
        return f"not {_operand_text(node.operand, 3)}"
    if isinstance(node, Compare):
        return f"{to_text(node.left)} {node.op} {to_text(node.right)}"
    level = _PRECEDENCE[node.op]
    right = level + 1 if node.op in ("-", "/") else level
    return f"{_operand_text(node.left, level)} {node.op} {_operand_text(node.right, right)}"


def _operand_text(node: Node, level: int) -> str:
    text = to_text(node)
    own = _PRECEDENCE.get(getattr(node, "op", ""), 9) if isinstance(node, Binary | Logical) else 9
    if isinstance(node, Compare | Not):
        own = 3
    return f"({text})" if own < level else text


def walk(node: Node) -> Iterator[Node]:
    yield node
    for child in ("condition", "numerator", "denominator", "left", "right", "operand"):
        if hasattr(node, child):
            yield from walk(getattr(node, child))


def element_codes(node: Node) -> list[str]:
    """Every element code the expression reads, in order of appearance, once."""
    codes: list[str] = []
    for item in walk(node):
        code = getattr(item, "element", None) or getattr(item, "code", None)
        if code and code not in codes:
            codes.append(code)
    return codes


# ---- targets -------------------------------------------------------------------------

_NUMBER = r"(-?\d+(?:\.\d+)?)\s*(%?)"
_COMPARE_TARGET = re.compile(rf"^(>=|<=|==|=|>|<)\s*{_NUMBER}$")
_BETWEEN_TARGET = re.compile(rf"^between\s+{_NUMBER}\s+and\s+{_NUMBER}$", re.IGNORECASE)
TOLERANCE = 1e-9


# Whether a value meets a target, per operator: the one definition, for a number (is_met) and
# a numpy array (met_mask) alike — `&`, not `and`, so that it works element by element.
_MET: dict[str, Callable[[Any, Any, float], Any]] = {
    ">=": lambda value, low, high: value >= low - TOLERANCE,
    "=": lambda value, low, high: abs(value - low) <= TOLERANCE,
    "<=": lambda value, low, high: value <= low + TOLERANCE,
    ">": lambda value, low, high: value > low + TOLERANCE,
    "<": lambda value, low, high: value < low - TOLERANCE,
    "between": lambda value, low, high: (low - TOLERANCE <= value) & (value <= high + TOLERANCE),
}


def _met(op: str) -> Callable[[Any, Any, float], Any]:
    return _MET.get(op, _MET["between"])


class TargetError(ValueError):
    pass


@dataclass(frozen=True)
class Target:
    """A target such as ">= 35%" (op ">=", low 0.35) or "between 0.6 and 0.8". A bureau-set
    target (`key`) has its op here and its number per unit and year in
    standards.BureauTarget: `low` is then a placeholder and `at(value)` the unit's target."""

    text: str
    op: str  # >= <= > < = between
    low: float
    high: float | None = None
    key: str = ""  # a bureau-set target's key (pack `target: {from: bureau, key: …}`)
    percent: bool = False  # a bureau-set target of a percent indicator (its number a fraction)

    def at(self, low: float) -> Target:
        """The target with the bureau's number for one unit and year (a fraction written as a
        percentage for a percent indicator: 0.6 -> ">= 60%")."""
        text = f"{self.op} {round(low * 100, 6):g}%" if self.percent else f"{self.op} {low:g}"
        return Target(text, self.op, float(low))

    def is_met(self, value: float) -> bool:
        return bool(_met(self.op)(value, self.low, self.high or 0))

    def met_mask(
        self,
        values: npt.NDArray[np.floating[Any]],
        low: float | npt.NDArray[np.floating[Any]] | None = None,
    ) -> npt.NDArray[np.bool_]:
        """is_met over a numpy array of values (no NaN): the same comparison (`_MET`);
        `low`: per value thresholds (a bureau-set target's numbers), else the target's."""
        low = self.low if low is None else low
        met: npt.NDArray[np.bool_] = _met(self.op)(values, low, self.high or 0)
        return met

    def gap(self, value: float) -> float:
        """How far the value is from the target (0 when met), in the value's unit."""
        if self.is_met(value):
            return 0.0
        if self.op in (">=", ">"):
            return self.low - value
        if self.op in ("<=", "<"):
            return value - self.low
        if self.op == "=":
            return abs(self.low - value)
        return self.low - value if value < self.low else value - (self.high or 0)


def _number(text: str, percent: str) -> float:
    return float(text) / 100 if percent else float(text)


BUREAU_OPS = (">=", "<=", ">", "<", "=")


def bureau_target(raw: dict[str, Any], *, percent: bool = False) -> Target:
    """`{from: bureau, key: beds_per_1000, op: ">="}`: the bureau enters the number for its
    place and year (standards.BureauTarget); unset, the result is 目标未设定."""
    unknown = set(raw) - {"from", "key", "op"}
    if unknown or raw.get("from") != "bureau":
        raise TargetError("a target given as a mapping is {from: bureau, key: …, op: …}")
    key, op = str(raw.get("key") or ""), str(raw.get("op") or ">=")
    if not re.fullmatch(r"[a-z][a-z0-9_]{1,62}", key):
        raise TargetError(f"bureau target key {key!r}: lower-case letters, digits and _")
    if op not in BUREAU_OPS:
        raise TargetError(f"bureau target op {op!r} is not one of {', '.join(BUREAU_OPS)}")
    return Target(f"{op} bureau:{key}", op, 0.0, key=key, percent=percent)


def parse_target(text: str) -> Target:
    raw = str(text).strip()
    match = _COMPARE_TARGET.match(raw)
    if match:
        op = "=" if match.group(1) == "==" else match.group(1)
        return Target(raw, op, _number(match.group(2), match.group(3)))
    match = _BETWEEN_TARGET.match(raw)
    if match:
        low, high = _number(*match.group(1, 2)), _number(*match.group(3, 4))
        if low > high:
            raise TargetError(f"target {raw!r}: the lower bound is above the upper bound")
        return Target(raw, "between", low, high)
    raise TargetError(
        f'target {raw!r} is malformed; write e.g. ">= 35%", "= 100%", "<= 5" '
        f'or "between 0.6 and 0.8"'
    )
