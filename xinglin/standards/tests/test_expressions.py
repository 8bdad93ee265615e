from __future__ import annotations

import pytest

from xinglin.standards import expressions as ex

ELEMENTS = {"tcm_visits": "institution", "total_visits": "institution",
            "residents": "division", "has_tcm_hall": "institution"}  # fmt: skip


def test_it_parses_a_ratio_of_sums():
    node = ex.parse("sum(tcm_visits) / sum(total_visits)", ELEMENTS)
    assert node == ex.Binary("/", ex.Aggregate("sum", "tcm_visits"),
                             ex.Aggregate("sum", "total_visits"))  # fmt: skip


def test_it_tells_grouped_conditions_from_grouped_arithmetic():
    node = ex.parse("share((tcm_visits + 1) >= 3 and not (has_tcm_hall = 1 or tcm_visits < 2))",
                    ELEMENTS)  # fmt: skip
    condition = node.condition
    assert isinstance(condition.left.left, ex.Binary)
    assert isinstance(condition.right, ex.Not) and condition.right.operand.op == "or"


@pytest.mark.parametrize(
    "text, position, message",
    [
        ("sum(tcm_visit) / 2", 5, "unknown data element 'tcm_visit'"),
        ("sum(tcm_visits", 15, "expected ')', found the end"),
        ("share(has_tcm_hall >= )", 23, "expected a value, found ')'"),
        ("tcm_visits + 1", 1, "data element 'tcm_visits' needs sum(), max(), min() or own() here"),
        ("median(tcm_visits)", 1, "unknown function 'median'"),
        ("sum(tcm_visits) $", 17, "unexpected character '$'"),
        (
            "share(residents > 1)",
            7,
            "'residents' is reported for divisions, not institutions; use own()",
        ),
        ("technique_items", 1, "technique_items is only allowed inside share()"),
        ("", 1, "the expression is empty"),
    ],
)
def test_errors_name_the_position(text, position, message):
    with pytest.raises(ex.ExpressionError) as caught:
        ex.parse(text, ELEMENTS)
    assert (caught.value.position, caught.value.message) == (position, message)


@pytest.mark.parametrize(
    "text, value, met",
    [(">= 35%", 0.35, True), (">= 35%", 0.3499, False), ("= 100%", 1.0, True),
     ("= 100%", 0.99, False), ("<= 5", 5, True), ("<= 5", 6, False), (">= 40", 39, False),
     ("between 0.6 and 0.8", 0.6, True), ("between 0.6 and 0.8", 0.81, False), ("> 2", 2, False),
     ("< 2", 1, True)],
)  # fmt: skip
def test_targets(text, value, met):
    assert ex.parse_target(text).is_met(value) is met


def test_gaps_are_the_distance_to_the_target():
    assert ex.parse_target(">= 35%").gap(0.30) == pytest.approx(0.05)
    assert ex.parse_target("<= 5").gap(7) == 2
    assert ex.parse_target("between 0.6 and 0.8").gap(0.9) == pytest.approx(0.1)
    assert ex.parse_target(">= 35%").gap(0.4) == 0


@pytest.mark.parametrize("text", ["35%", ">= abc", "between 3 and 1", ">= 35 %%", "at least 3"])
def test_malformed_targets_fail(text):
    with pytest.raises(ex.TargetError):
        ex.parse_target(text)


def test_every_pack_expression_reads_back_from_its_text():
    """to_text (what FHIR Measures publish as criteria) parses to the same expression."""
    from xinglin.standards.loader import all_packs

    computed = [i for p in all_packs().values() for i in p.indicators if i.is_computed]
    assert computed
    for indicator in computed:
        assert ex.parse(ex.to_text(indicator.expression)) == indicator.expression, indicator.id


@pytest.mark.parametrize(
    "text, expected",
    [("(sum(a) - sum(b)) / sum(c)", "(sum(a) - sum(b)) / sum(c)"),
     ("sum(a) - (sum(b) - sum(c))", "sum(a) - (sum(b) - sum(c))"),
     ("share(not (a = 1 or b = 1) and c >= 0.5 * d)", "share(not (a = 1 or b = 1) and c >= 0.5 * d)"),
     ("per_10000(sum(a), own(b))", "per_10000(sum(a), own(b))")],
)  # fmt: skip
def test_to_text_keeps_the_parentheses_that_matter(text, expected):
    assert ex.to_text(ex.parse(text)) == expected
    assert ex.parse(expected) == ex.parse(text)


def test_split_names_numerator_denominator_and_scale():
    assert ex.split(ex.parse("sum(a) / sum(b)")) == (
        ex.Aggregate("sum", "a"),
        ex.Aggregate("sum", "b"),
        1.0,
    )
    assert ex.split(ex.parse("per_10000(sum(a), own(b))"))[1:] == (
        ex.Aggregate("own", "b"),
        10000.0,
    )
    assert ex.split(ex.parse("sum(a)"))[1] is None
