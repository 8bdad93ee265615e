from __future__ import annotations

import math

import pytest

from xinglin.lib import projection
from xinglin.lib.projection import meets, prediction_interval, project, t_quantile


def test_a_perfect_line_is_fitted_exactly():
    slope, intercept = projection.fit_line([(2021, 0.20), (2022, 0.25), (2023, 0.30)])
    assert math.isclose(slope, 0.05)
    assert math.isclose(slope * 2025 + intercept, 0.40)


def test_a_steady_climb_is_on_track_with_a_zero_width_interval():
    result = project(
        [(2021, 0.20), (2022, 0.25), (2023, 0.30)], target=0.35, operator=">=", deadline=2025
    )
    assert math.isclose(result.predicted, 0.40)
    assert math.isclose(result.low, 0.40) and math.isclose(result.high, 0.40)
    assert result.verdict == projection.ON_TRACK
    assert math.isclose(result.required_per_year, 0.025)
    assert (result.years, result.last_year, result.last_value) == (3, 2023, 0.30)


def test_the_prediction_interval_matches_the_textbook_formula():
    points = [(2021, 1.0), (2022, 3.0), (2023, 2.0), (2024, 4.0)]
    low, high = prediction_interval(points, 2025)
    # slope 0.8, intercept at 2025 = 4.5; residual s = sqrt(1.8/2); sxx = 5; t(2) = 4.303
    s = math.sqrt(1.8 / 2)
    half = 4.303 * s * math.sqrt(1 + 1 / 4 + (2025 - 2022.5) ** 2 / 5)
    assert math.isclose(low, 4.5 - half) and math.isclose(high, 4.5 + half)


def test_a_noisy_series_straddling_the_target_is_only_likely():
    points = [(2021, 1.0), (2022, 3.0), (2023, 2.0), (2024, 4.0)]
    assert project(points, target=4.4, operator=">=", deadline=2025).verdict == projection.LIKELY
    assert project(points, target=4.6, operator=">=", deadline=2025).verdict == projection.UNLIKELY


def test_a_flat_series_far_below_is_off_track_and_says_what_it_would_take():
    result = project(
        [(2021, 0.1), (2022, 0.1), (2023, 0.1)], target=0.35, operator=">=", deadline=2025
    )
    assert result.verdict == projection.OFF_TRACK
    assert math.isclose(result.required_per_year, 0.125)


def test_a_met_target_needs_no_projection():
    result = project([(2022, 0.3), (2023, 0.4)], target=0.35, operator=">=", deadline=2025)
    assert result.verdict == projection.ALREADY_MET


def test_one_year_of_data_is_too_few():
    result = project([(2023, 0.2)], target=0.35, operator=">=", deadline=2025)
    assert result.verdict == projection.TOO_FEW_YEARS
    assert result.predicted is None
    assert math.isclose(result.required_per_year, 0.075)


def test_two_years_project_without_an_interval():
    result = project([(2022, 0.2), (2023, 0.3)], target=0.5, operator=">=", deadline=2025)
    assert result.low is None and result.high is None
    assert result.verdict == projection.LIKELY


def test_a_missed_deadline_year_is_past_deadline():
    result = project([(2022, 0.2), (2023, 0.3)], target=0.5, operator=">=", deadline=2023)
    assert result.verdict == projection.PAST_DEADLINE
    assert result.required_per_year is None


def test_years_after_the_deadline_are_ignored():
    result = project(
        [(2022, 0.2), (2023, 0.3), (2024, 0.9)], target=0.5, operator=">=", deadline=2023
    )
    assert result.last_year == 2023


def test_a_ceiling_target_is_judged_downwards():
    points = [(2021, 9.0), (2022, 8.0), (2023, 7.0)]
    assert project(points, target=5, operator="<=", deadline=2025).verdict == projection.ON_TRACK


def test_a_hundred_percent_share_is_reached_not_hit():
    points = [(2021, 0.6), (2022, 0.8), (2023, 0.9)]
    result = project(points, target=1.0, operator="=", deadline=2025)
    assert result.verdict in {projection.ON_TRACK, projection.LIKELY}


@pytest.mark.parametrize(("value", "operator", "target", "expected"), [
    (0.35, ">=", 0.35, True), (0.34, ">=", 0.35, False), (1.0, "=", 1.0, True),
    (0.99, "=", 1.0, False), (5, "<=", 5, True), (5, "<", 5, False), (6, ">", 5, True),
])  # fmt: skip
def test_meets(value, operator, target, expected):
    assert meets(value, operator, target) is expected


def test_t_quantiles():
    assert t_quantile(1) == 12.706
    assert t_quantile(30) == 2.042
    assert t_quantile(100) == 1.960
    with pytest.raises(ValueError):
        t_quantile(0)
