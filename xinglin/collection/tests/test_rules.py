"""The comparison parser of rules.yaml, value checks by type, the jump warning, deadlines."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinglin.collection import rules, validation


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("a <= b", {"a": 3, "b": 3}, True),
        ("a <= b", {"a": 4, "b": 3}, False),
        ("a + b <= 2 * c", {"a": 1, "b": 2, "c": 1.5}, True),
        ("(a - b) * 2 > c", {"a": 5, "b": 1, "c": 7}, True),
        ("a == 0.3", {"a": 0.1 + 0.2}, True),
        ("a != b", {"a": 1, "b": 1}, False),
        ("a <= b", {"a": 1}, None),
    ],
)
def test_a_check_compares_sums_of_elements(text, values, expected):
    assert rules.parse_check(text, "t").holds(values) is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a <=", "rule t: unexpected end at position 5 of 'a <='"),
        ("a b", "rule t: expected a comparison, found 'b' at position 3 of 'a b'"),
        ("a <= b; import os", "rule t: unexpected character at position 7"),
        ("__import__('os') <= 1", "rule t: unexpected character at position 12"),
        ("a <= b <= c", "rule t: unexpected text at position 8"),
        ("(a <= b", "rule t: expected ')' at position 1"),
    ],
)
def test_a_malformed_check_names_rule_and_position(text, message):
    with pytest.raises(rules.RuleSyntaxError) as error:
        rules.parse_check(text, "t")
    assert message in str(error.value)


def test_every_rule_of_the_file_parses_and_cites_a_source():
    book = rules.load()
    assert len(book.rules) >= 10
    assert all(rule.source and rule.check.names for rule in book.rules)
    assert {"tcm_visits", "total_visits"} == set(book.rules[0].check.names)


@pytest.mark.parametrize(
    ("value_type", "raw", "entry", "stored"),
    [
        ("integer", "1,200", False, 1200.0),
        ("integer", 7, False, 7.0),
        ("boolean", "是", False, 1.0),
        ("boolean", "0", False, 0.0),
        ("boolean", True, False, 1.0),
        ("percent", "35", True, 0.35),
        ("percent", "0.35", False, 0.35),
        ("number", "2.5", False, 2.5),
    ],
)
def test_values_convert_to_what_is_stored(value_type, raw, entry, stored):
    assert rules.to_stored(value_type, raw, entry=entry) == pytest.approx(stored)


@pytest.mark.parametrize(
    ("value_type", "raw", "entry"),
    [
        ("integer", "1.5", False),
        ("integer", "-1", False),
        ("number", "nan", False),
        ("number", "inf", False),
        ("boolean", "2", False),
        ("boolean", "maybe", False),
        ("percent", "101", True),
        ("percent", "1.01", False),
        ("percent", "-1", True),
    ],
)
def test_bad_values_are_refused(value_type, raw, entry):
    with pytest.raises(rules.ValueProblem):
        rules.to_stored(value_type, raw, entry=entry)


@given(st.integers(min_value=0, max_value=100))
def test_percent_round_trips_between_entry_and_storage(percent):
    stored = rules.to_stored("percent", str(percent), entry=True)
    assert rules.to_entry("percent", stored) == str(percent)


@pytest.mark.parametrize(
    ("value", "last", "warns"),
    [
        (50, 10, False),
        (51, 10, True),
        (2, 10, False),
        (1.9, 10, True),
        (5, None, False),
        (5, 0, False),
    ],
)
def test_a_jump_over_five_times_warns(value, last, warns):
    assert (rules.jump_warning("integer", value, last) is not None) is warns
    assert rules.jump_warning("boolean", value, last) is None


@pytest.mark.parametrize(
    ("period", "due"),
    [
        ("202401", date(2024, 2, 5)),
        ("202412", date(2025, 1, 5)),
        ("2024", date(2025, 1, 15)),
        ("2024Q2", date(2024, 7, 15)),
    ],
)
def test_deadlines_follow_the_calendar(period, due):
    assert rules.deadline(period) == due


def test_a_group_reports_a_broken_rule_on_each_new_value():
    findings = rules.check_group({"tcm_visits": 120}, {"total_visits": 100})
    assert [(f.element, f.rule) for f in findings] == [("tcm_visits", "tcm_visits_within_visits")]
    assert rules.check_group({"tcm_visits": 100}, {"total_visits": 100}) == []
    assert rules.check_group({"tcm_visits": 100}, {}) == []


# ----------------------------------------------------------------------------- one rule, two forms
# Each rule is written once, column-wise; its one-value form is that on one entry. These check
# that the forms the write path uses agree, on numbers hypothesis picks.
_NUMBERS = st.one_of(
    st.floats(min_value=-1e9, max_value=1e9, allow_nan=False),
    st.integers(min_value=-5, max_value=200).map(float),
    st.sampled_from([0.0, 0.5, 1.0, 1.5, 100.0, 100.0000001, -0.0, 58819.99999999999]),
)


@given(
    value_type=st.sampled_from(["integer", "number", "boolean", "percent"]),
    numbers=st.lists(_NUMBERS, min_size=1, max_size=8),
    entry=st.booleans(),
)
def test_the_column_wise_value_check_accepts_and_stores_what_to_stored_does(
    value_type, numbers, entry
):
    kinds = np.full(len(numbers), validation._VALUE_TYPES.index(value_type), dtype=np.int64)
    values, ok = validation._stored_numbers(np.array(numbers), kinds, entry)
    for number, value, accepted in zip(numbers, values.tolist(), ok.tolist(), strict=True):
        if value_type == "boolean" and number not in (0.0, 1.0):
            assert not accepted  # to_stored refuses it while parsing (not 1 or 0)
            continue
        try:
            stored = rules.to_stored(value_type, number, entry=entry)
        except rules.ValueProblem:
            assert not accepted, (value_type, number, entry)
        else:
            assert accepted and value == stored, (value_type, number, entry, value, stored)


@given(
    columns=st.lists(
        st.tuples(*[st.one_of(st.just(math.nan), _NUMBERS)] * 3), min_size=1, max_size=6
    ),
    text=st.sampled_from(["a <= b", "a + b >= 2 * c", "a == c", "a != b", "(a - b) * 2 > c"]),
)
def test_a_comparison_fails_over_columns_where_it_does_not_hold_for_one(columns, text):
    comparison = rules.parse_check(text, "t")
    arrays = {name: np.array([row[n] for row in columns]) for n, name in enumerate("abc")}
    fails = comparison.fails(arrays).tolist()
    for row, failed in zip(columns, fails, strict=True):
        one = {name: row[n] for n, name in enumerate("abc") if not math.isnan(row[n])}
        assert failed is (comparison.holds(one) is False), (text, row)


@given(values=st.lists(st.tuples(_NUMBERS, _NUMBERS), min_size=1, max_size=8))
def test_jumps_over_arrays_are_the_jump_warnings_of_single_values(values):
    flagged = rules.jumps(np.array([v for v, _ in values]), np.array([w for _, w in values]))
    for (value, last), jumped in zip(values, flagged.tolist(), strict=True):
        assert jumped is (rules.jump_warning("integer", value, last) is not None)
