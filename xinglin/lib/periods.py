"""Period codes as in DHIS2: `2024` (yearly), `2024Q1` (quarterly), `202401` (monthly)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

PERIOD_TYPES = ("yearly", "quarterly", "monthly")
_PATTERNS = {
    "yearly": re.compile(r"^(\d{4})$"),
    "quarterly": re.compile(r"^(\d{4})Q([1-4])$"),
    "monthly": re.compile(r"^(\d{4})(0[1-9]|1[0-2])$"),
}


class PeriodError(ValueError):
    """A period code that is not one of the three forms."""


@dataclass(frozen=True, order=True)
class Period:
    start: date
    end: date
    code: str
    type: str

    @property
    def year(self) -> int:
        return self.start.year

    def months(self) -> list[Period]:
        """The monthly periods inside this period, in order."""
        result = []
        for month in range(self.start.month, self.end.month + 1):
            result.append(parse(f"{self.start.year}{month:02d}"))
        return result

    def contains(self, other: Period) -> bool:
        return self.start <= other.start and other.end <= self.end

    def previous_year(self) -> Period:
        """The same period one year earlier (for year-on-year checks)."""
        return parse(str(self.start.year - 1) + self.code[4:])


def parse(code: str) -> Period:
    """Parse a period code; raises PeriodError naming the code when it is malformed."""
    text = str(code).strip()
    for kind, pattern in _PATTERNS.items():
        match = pattern.match(text)
        if not match:
            continue
        year = int(match.group(1))
        if year < 1900 or year > 2200:
            break
        if kind == "yearly":
            return Period(date(year, 1, 1), date(year, 12, 31), text, kind)
        if kind == "quarterly":
            first = (int(match.group(2)) - 1) * 3 + 1
            return Period(date(year, first, 1), _month_end(year, first + 2), text, kind)
        month = int(match.group(2))
        return Period(date(year, month, 1), _month_end(year, month), text, kind)
    raise PeriodError(
        f"period {code!r} is not a year (2024), a quarter (2024Q1) or a month (202401)"
    )


def period_type(code: str) -> str:
    return parse(code).type


def yearly(year: int) -> Period:
    return parse(str(year))


def for_date(day: date, kind: str) -> Period:
    """The period of the given type that contains `day`."""
    if kind == "yearly":
        return parse(str(day.year))
    if kind == "quarterly":
        return parse(f"{day.year}Q{(day.month - 1) // 3 + 1}")
    if kind == "monthly":
        return parse(f"{day.year}{day.month:02d}")
    raise PeriodError(f"unknown period type {kind!r}; expected one of {', '.join(PERIOD_TYPES)}")


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])
