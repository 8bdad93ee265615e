"""Numbers as an official summary writes them: values in their unit (37.2%, 42), differences of
percentages in 百分点, dates as 2025年3月15日. The words come from the templates; the values
are the engine's, only rounded for print (gather.format_value, the same rounding as the tables)."""

from __future__ import annotations

from datetime import date

from xinglin.documents.drafting.templates import Templates
from xinglin.documents.figures import parse_target
from xinglin.documents.gather import format_value

PERCENT_DIGITS = 1  # 37.2%: the tables print one decimal; sentences say the same number


def value(unit: str, number: float | None) -> str:
    return format_value({"unit": unit}, number)  # type: ignore[arg-type]


def shown(unit: str, number: float) -> float:
    """The number as printed (percentages in points, one decimal): differences are taken
    between printed numbers so that a reader can check them against the tables."""
    if unit == "percent":
        return round(number * 100, PERCENT_DIGITS)
    return round(number, 2)


def amount(unit: str, difference: float, t: Templates) -> str:
    """The size of a difference: 2.1个百分点 for percentages, the plain number otherwise."""
    size = abs(difference)
    if unit == "percent":
        return t.say("words.points", value=f"{size:.{PERCENT_DIGITS}f}")
    return f"{size:.0f}" if float(size).is_integer() else f"{size:.2f}"


def direction(unit: str, difference: float, t: Templates) -> str:
    if unit in ("count", "level"):
        return t.say("words.increase" if difference > 0 else "words.decrease")
    return t.say("words.rise" if difference > 0 else "words.fall")


def change(unit: str, before: float, after: float, t: Templates) -> tuple[str, str, float]:
    """(direction word, amount, signed difference) between two engine values, as printed."""
    difference = round(shown(unit, after) - shown(unit, before), 2)
    return direction(unit, difference, t), amount(unit, difference, t), difference


def gap(unit: str, number: float | None, t: Templates) -> str:
    """The engine's gap to the target, written in the indicator's unit."""
    if number is None:
        return ""
    if unit == "percent":
        return amount(unit, shown(unit, number), t)
    return amount(unit, number, t)


def target(unit: str, text: str | None) -> tuple[str, str] | None:
    """(operator, threshold as printed) of a pack target such as ">= 35%"."""
    parsed = parse_target(text)
    if parsed is None:
        return None
    op, threshold = parsed
    printed = value(unit, threshold)
    # a target is written as the document writes it: 35%, not 35.0%
    return op, printed.replace(".0%", "%") if printed.endswith(".0%") else printed


def threshold(unit: str, text: str | None) -> float | None:
    """The target's threshold as printed (shown), to compare with a printed value."""
    parsed = parse_target(text)
    return None if parsed is None else shown(unit, parsed[1])


def day(when: date, t: Templates) -> str:
    return t.say("date", year=when.year, month=when.month, day=when.day)
