"""The 0-36-month child guidance schedule (reference §A5): age bands, due visits, completeness.

The schedule and technique lists are data (data/child_guidance.yaml); the timing windows are
in data/rates.yaml.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).resolve().parent / "data"


@cache
def guidance_data() -> dict[str, Any]:
    with (DATA / "child_guidance.yaml").open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@cache
def rate_rules() -> dict[str, Any]:
    with (DATA / "rates.yaml").open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def visit_months() -> list[int]:
    return list(guidance_data()["visit_months"])


def band_for_month(month: int) -> dict[str, Any]:
    for band in guidance_data()["bands"]:
        if month in band["months"]:
            return band
    raise ValueError(f"{month} months is not a scheduled age")


def band_techniques(month: int) -> list[str]:
    return [t["code"] for t in band_for_month(month)["techniques"]]


def all_techniques() -> dict[str, dict[str, Any]]:
    return {t["code"]: t for band in guidance_data()["bands"] for t in band["techniques"]}


def add_months(day: date, months: int) -> date:
    """Same day `months` later (or earlier), clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def age_in_months(born: date, on: date) -> int:
    months = (on.year - born.year) * 12 + on.month - born.month
    return months - 1 if add_months(born, months) > on else months


def scheduled_month(age_months: int) -> int | None:
    """The scheduled age a visit at `age_months` serves, or None when none is near enough."""
    window = rate_rules()["child_schedule"]["visit_window_months"]
    nearest = min(visit_months(), key=lambda m: (abs(m - age_months), m))
    return nearest if abs(nearest - age_months) <= window else None


def is_complete_visit(month: int, diet: bool, daily_life: bool, techniques: list[str]) -> bool:
    # reference §A5: diet and daily-life guidance at every visit, plus the band's techniques.
    return diet and daily_life and set(band_techniques(month)) <= set(techniques)


def month_bounds(day: date) -> tuple[date, date]:
    start = day.replace(day=1)
    return start, start.replace(day=calendar.monthrange(start.year, start.month)[1])


@dataclass(frozen=True)
class DueWindow:
    """Birth dates for which the visit at `month` is due this month or overdue now."""

    month: int
    due_born: tuple[date, date]  # inclusive range: due in the current month
    overdue_born: tuple[date, date]  # inclusive range: fell due earlier, still open


def due_windows(today: date) -> list[DueWindow]:
    """A visit at `m` months falls due in the month the child turns `m` months (the birth month
    plus m), so each window is a range of whole birth months."""
    start = today.replace(day=1)
    months = visit_months()
    last_gap = rate_rules()["child_schedule"]["overdue_months"]
    windows = []
    for i, m in enumerate(months):
        following = months[i + 1] if i + 1 < len(months) else m + last_gap
        windows.append(
            DueWindow(
                month=m,
                due_born=month_bounds(add_months(start, -m)),
                # fell due in an earlier month; the next visit not yet due this month
                overdue_born=(
                    add_months(start, 1 - following),
                    month_bounds(add_months(start, -m - 1))[1],
                ),
            )
        )
    return windows
