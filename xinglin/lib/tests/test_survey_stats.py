from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinglin.lib.survey_stats import allocate, margin_of_error, sample_size, wilson, z_value


def test_z_for_95_percent():
    assert round(z_value(0.95), 6) == 1.959964


# Newcombe RG (1998), Two-sided confidence intervals for the single proportion: comparison of
# seven methods. Stat Med 17:857-872, Table II, method 3 (score, no continuity correction).
@pytest.mark.parametrize(
    ("successes", "n", "lower", "upper"),
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_newcombe_1998(successes, n, lower, upper):
    interval = wilson(successes, n)
    assert (round(interval.lower, 4), round(interval.upper, 4)) == (lower, upper)
    assert interval.estimate == successes / n


def test_wilson_without_observations_is_none():
    assert wilson(0, 0) is None


def test_wilson_refuses_impossible_counts():
    with pytest.raises(ValueError):
        wilson(5, 4)


@given(st.integers(min_value=1, max_value=5000), st.data())
def test_wilson_contains_the_estimate(n, data):
    successes = data.draw(st.integers(min_value=0, max_value=n))
    interval = wilson(successes, n)
    assert 0 <= interval.lower <= interval.estimate <= interval.upper <= 1


def test_sample_size_385_for_5_points_at_95_percent():
    # The textbook figure: z²·0.5·0.5/0.05² = 384.15, rounded up.
    assert sample_size(0.05) == 385


def test_sample_size_for_3_points():
    assert sample_size(0.03) == 1068


def test_smaller_variance_needs_fewer():
    # p = 0.9: 1.96²·0.09/0.05² = 138.3
    assert sample_size(0.05, expected=0.9) == 139


# Finite-population correction; Krejcie & Morgan (1970) Table 1 gives 278 for N = 1000 and
# 370 for N = 10 000 at 95% confidence, ±5%, p = 0.5.
@pytest.mark.parametrize(("population", "expected"), [(1000, 278), (10000, 370), (100, 80)])
def test_sample_size_with_finite_population(population, expected):
    assert sample_size(0.05, population=population) == expected


def test_sample_size_never_exceeds_population():
    assert sample_size(0.01, population=30) == 30


@pytest.mark.parametrize("margin", [0, 1, -0.1])
def test_sample_size_refuses_bad_margin(margin):
    with pytest.raises(ValueError):
        sample_size(margin)


def test_margin_of_error_of_385_is_5_points():
    assert round(margin_of_error(385), 4) == 0.0499


def test_margin_of_error_with_the_whole_population_is_zero():
    assert margin_of_error(50, population=50) == 0


def test_margin_of_error_without_respondents_is_none():
    assert margin_of_error(0) is None


def test_allocate_by_largest_remainder():
    # Quotas 4.2857, 2.8571, 2.8571 → floors 4, 2, 2 and one left over: ties broken by size,
    # then key order.
    assert allocate(10, {"a": 300, "b": 200, "c": 200}) == {"a": 4, "b": 3, "c": 3}


def test_allocate_exact_shares():
    assert allocate(385, {"x": 50, "y": 30, "z": 20}) == {"x": 193, "y": 115, "z": 77}


def test_allocate_zero_total():
    assert allocate(0, {"a": 1, "b": 2}) == {"a": 0, "b": 0}


def test_allocate_refuses_empty_sizes():
    with pytest.raises(ValueError):
        allocate(5, {"a": 0})


@given(
    st.integers(min_value=0, max_value=5000),
    st.dictionaries(
        st.text(min_size=1, max_size=4), st.integers(min_value=1, max_value=10**6), min_size=1
    ),
)
def test_allocations_always_sum_to_the_total(total, sizes):
    parts = allocate(total, sizes)
    assert sum(parts.values()) == total
    whole = sum(sizes.values())
    for key, part in parts.items():
        assert abs(part - total * sizes[key] / whole) < 1
