"""Derived figures: elderly_tcm_managed and children_tcm_managed per institution and year."""

from __future__ import annotations

import random
from datetime import date

import pytest

from xinglin.care import children, rates
from xinglin.care.actions import feed_engine, record_child_guidance, register_child
from xinglin.care.models import ChildGuidance, ConstitutionAssessment
from xinglin.care.tests.helpers import assess, id_card
from xinglin.evaluation.models import DerivedValue
from xinglin.network.models import OrgUnit

pytestmark = pytest.mark.django_db
CLINICS = ["640323100001", "640323100101", "640323101001"]


def _independent_elderly_count(year: int) -> dict[str, int]:
    """Plain Python over every record: first complete assessment per person, 65+ by year end."""
    firsts: dict[int, ConstitutionAssessment] = {}
    for a in ConstitutionAssessment.objects.select_related("resident", "institution"):
        born = a.resident.birth_date
        if a.assessed_on.year != year or not a.is_complete or born.year > year - 65:
            continue
        best = firsts.get(a.resident_id)
        if best is None or (a.assessed_on, a.pk) < (best.assessed_on, best.pk):
            firsts[a.resident_id] = a
    counts = {
        a.institution.code: 0 for a in ConstitutionAssessment.objects.filter(assessed_on__year=year)
    }
    for a in firsts.values():
        counts[a.institution.code] += 1
    return counts


def test_elderly_managed_matches_an_independent_count(county):
    rng = random.Random(12)
    for serial in range(60):
        born = date(rng.randint(1945, 1962), rng.randint(1, 12), rng.randint(1, 28))
        number = id_card(born, serial)
        for _ in range(rng.randint(1, 3)):  # some people are assessed twice, at two places
            year = rng.choice([2024, 2025])
            assess(
                rng.choice(CLINICS),
                number,
                date(year, rng.randint(1, 12), rng.randint(1, 28)),
                guidance=rng.choice([["diet"], [], ["emotion", "other"]]),
            )
    for year in (2024, 2025):
        expected = _independent_elderly_count(year)
        rows = rates.elderly_managed_rows(year)
        assert rows == [
            ("elderly_tcm_managed", code, str(year), float(n))
            for code, n in sorted(expected.items())
        ]
        assert sum(expected.values()) > 5


def test_a_person_counts_once_a_year_at_the_first_place(county):
    number = id_card(date(1955, 1, 1))
    assess("640323100101", number, date(2025, 8, 1))
    assess("640323100001", number, date(2025, 3, 1))
    assess("640323100001", id_card(date(1961, 6, 1), 2), date(2025, 3, 1))  # 64 at year end
    assess("640323100001", id_card(date(1960, 12, 31), 3), date(2025, 3, 1))  # 65 on 31 Dec
    assert rates.elderly_managed_rows(2025) == [
        ("elderly_tcm_managed", "640323100001", "2025", 2.0),
        ("elderly_tcm_managed", "640323100101", "2025", 0.0),
    ]


def _visit(child, month, complete=True, code="640323100001"):
    techniques = children.band_techniques(month) if complete else []
    return record_child_guidance(
        child,
        institution=OrgUnit.objects.get(code=code),
        visited_on=children.add_months(child.birth_date, month),
        diet=True,
        daily_life=True,
        techniques=techniques,
    )


def _child(number, born):
    return register_child(
        number, institution=OrgUnit.objects.get(code="640323100001"), birth_date=born
    )


def test_children_counting_rules(county, monkeypatch):
    # born 2024-03-10: visits due in 2025 at 12 (2025-03) and 18 months (2025-09)
    both = _child("BC-00001", date(2024, 3, 10))
    _visit(both, 12), _visit(both, 18)
    one = _child("BC-00002", date(2024, 3, 11))
    _visit(one, 12)  # missed 18
    partial = _child("BC-00003", date(2024, 3, 12))
    _visit(partial, 12, complete=False)  # techniques not taught: not the guidance due
    assert ChildGuidance.objects.filter(is_complete=True).count() == 3
    assert rates.children_managed_rows(2025) == [
        ("children_tcm_managed", "640323100001", "2025", 2.0)
    ]
    rules = dict(children.rate_rules())
    rules["children_tcm_managed"] = {"counting_rule": "every_due_visit"}
    monkeypatch.setattr(rates, "rate_rules", lambda: rules)
    assert rates.children_managed_rows(2025) == [
        ("children_tcm_managed", "640323100001", "2025", 1.0)
    ]


def test_the_default_counting_rule_is_documented():
    assert children.rate_rules()["children_tcm_managed"]["counting_rule"] == "any_due_visit"


def test_feed_engine_hands_the_rows_over(county):
    assess("640323100001", id_card(date(1950, 1, 1)), date(2025, 3, 1))
    assert feed_engine([2025]) == {"care.constitution": 1, "care.child_guidance": 0}
    stored = DerivedValue.objects.filter(period="2025").values_list(
        "source", "element__code", "orgunit__code", "value"
    )
    assert sorted(stored) == [("care.constitution", "elderly_tcm_managed", "640323100001", 1.0)]
