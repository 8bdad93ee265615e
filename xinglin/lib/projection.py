"""Will a target be met by its deadline at the current pace?

A least-squares line through the yearly values so far, extended to the deadline year, with a
95 % prediction interval (Student's t; the interval of a single future observation, not of
the mean, because the officer is asked about the figure that will be reported that year).
Framework-free: plain numbers in, a dataclass out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypedDict

import numpy as np

# Two-sided 95 % quantiles of Student's t (t_{0.975, df}) for df = 1..30; beyond 30 the normal
# quantile is close enough for a yearly series (standard statistical tables).
T_975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
Z_975 = 1.960

OPERATORS = (">=", ">", "<=", "<", "=")

# Verdicts, from the officer's question "will we make it?"
ALREADY_MET = "already_met"  # the latest value meets the target (no projection needed)
ON_TRACK = "on_track"  # the whole prediction interval at the deadline meets the target
LIKELY = "likely"  # the fitted line meets it, the interval straddles it
UNLIKELY = "unlikely"  # the fitted line misses it, the interval straddles it
OFF_TRACK = "off_track"  # the whole interval misses it
TOO_FEW_YEARS = "too_few_years"  # fewer than two years with data
PAST_DEADLINE = "past_deadline"  # the deadline year has data and it misses the target


@dataclass(frozen=True)
class Projection:
    deadline: int
    target: float
    operator: str
    years: int  # years with data used for the fit
    last_year: int | None
    last_value: float | None
    slope: float | None  # change per year of the fitted line
    predicted: float | None  # the line's value at the deadline
    low: float | None  # 95 % prediction interval at the deadline (None with < 3 years)
    high: float | None
    required_per_year: float | None  # yearly change from the last value that would reach it
    verdict: str


class _Base(TypedDict):
    """The fields of a Projection known before the fit."""

    deadline: int
    target: float
    operator: str
    years: int
    last_year: int | None
    last_value: float | None


def t_quantile(df: int) -> float:
    """Two-sided 95 % quantile of Student's t with `df` degrees of freedom."""
    if df < 1:
        raise ValueError("at least one degree of freedom is needed")
    return T_975[df - 1] if df <= len(T_975) else Z_975


def meets(value: float, operator: str, target: float) -> bool:
    """Whether `value` satisfies `operator target` (equality to 1e-9, for shares of 100 %)."""
    if operator not in OPERATORS:
        raise ValueError(f"unknown operator {operator!r}")
    if operator == "=":
        return math.isclose(value, target, abs_tol=1e-9)
    if operator == ">=":
        return value >= target - 1e-9
    if operator == ">":
        return value > target
    if operator == "<=":
        return value <= target + 1e-9
    return value < target


def fit_line(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Least-squares (slope, intercept) of value on year; needs two distinct years."""
    years = np.array([p[0] for p in points], dtype=float)
    values = np.array([p[1] for p in points], dtype=float)
    slope, intercept = np.polyfit(years, values, 1)
    return float(slope), float(intercept)


def prediction_interval(points: list[tuple[int, float]], year: int) -> tuple[float, float] | None:
    """95 % prediction interval of a new observation at `year`; None with fewer than 3 points."""
    n = len(points)
    if n < 3:
        return None
    slope, intercept = fit_line(points)
    years = np.array([p[0] for p in points], dtype=float)
    values = np.array([p[1] for p in points], dtype=float)
    residuals = values - (slope * years + intercept)
    s = math.sqrt(float(residuals @ residuals) / (n - 2))
    mean = float(years.mean())
    sxx = float(((years - mean) ** 2).sum())
    half = t_quantile(n - 2) * s * math.sqrt(1 + 1 / n + (year - mean) ** 2 / sxx)
    centre = slope * year + intercept
    return centre - half, centre + half


def project(
    points: list[tuple[int, float]], *, target: float, operator: str, deadline: int
) -> Projection:
    """Project yearly `points` (year, value) to `deadline` and judge `operator target` there.
    Years after the deadline are ignored; duplicate years keep the last value given."""
    series = sorted({year: value for year, value in points if year <= deadline}.items())
    last_year, last_value = series[-1] if series else (None, None)
    base = _Base(deadline=deadline, target=target, operator=operator, years=len(series),
                 last_year=last_year, last_value=last_value)  # fmt: skip
    required = _required_per_year(last_year, last_value, target, deadline)
    if last_value is not None and meets(last_value, operator, target):
        return _result(base, series, deadline, required, ALREADY_MET)
    if last_year == deadline:
        return _result(base, series, deadline, required, PAST_DEADLINE)
    if len(series) < 2:
        return Projection(**base, slope=None, predicted=None, low=None, high=None,
                          required_per_year=required, verdict=TOO_FEW_YEARS)  # fmt: skip
    return _result(base, series, deadline, required, None)


def _required_per_year(
    last_year: int | None, last_value: float | None, target: float, deadline: int
) -> float | None:
    if last_year is None or last_value is None or last_year >= deadline:
        return None
    return (target - last_value) / (deadline - last_year)


def _result(
    base: _Base, series: list[tuple[int, float]], deadline: int, required: float | None,
    verdict: str | None,
) -> Projection:  # fmt: skip
    slope = predicted = low = high = None
    if len(series) >= 2:
        slope, intercept = fit_line(series)
        predicted = slope * deadline + intercept
        interval = prediction_interval(series, deadline)
        if interval is not None:
            low, high = interval
    if verdict is None:
        verdict = _verdict(predicted, low, high, base["operator"], base["target"])
    return Projection(**base, slope=slope, predicted=predicted, low=low, high=high,
                      required_per_year=required, verdict=verdict)  # fmt: skip


def _verdict(
    predicted: float | None, low: float | None, high: float | None, operator: str, target: float
) -> str:
    assert predicted is not None
    # "= 100%" is a ceiling that a trend reaches rather than hits exactly: project it as ">=".
    operator = ">=" if operator == "=" else operator
    line_meets = meets(predicted, operator, target)
    if low is None or high is None:
        return LIKELY if line_meets else UNLIKELY
    both = meets(low, operator, target) and meets(high, operator, target)
    neither = not meets(low, operator, target) and not meets(high, operator, target)
    if both:
        return ON_TRACK
    if neither:
        return OFF_TRACK
    return LIKELY if line_meets else UNLIKELY
