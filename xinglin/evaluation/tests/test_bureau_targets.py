"""Staffing and beds against the bureau's own targets (issue 24.6, seeds/001 item 22): the
ratios are computed from the collected counts and judged against the value the bureau set for
its place and year; unset, the result is 目标未设定 (target_unset) — never a silent pass."""

from __future__ import annotations

import re

import pytest

from xinglin.evaluation.engine import evaluate
from xinglin.network.models import OrgUnit
from xinglin.standards.actions import BureauTargetError, set_bureau_target
from xinglin.standards.loader import get_pack
from xinglin.standards.models import BureauTargetChange

PACK, COUNTY = "demo-county-2022", "640323"
BEDS, RATIO = "workforce.beds_per_1000", "workforce.nurse_physician_ratio"


@pytest.fixture
def staffed(write):
    # 盐池县's residents are the sum of its townships' (own(residents))
    write(("residents", "640323100", "2024", 60000), ("residents", "640323101", "2024", 40000),
          ("beds", "640323000001", "2024", 300), ("beds", "640323100001", "2024", 60),
          ("physicians", "640323000001", "2024", 120), ("physicians", "640323100001", "2024", 30),
          ("registered_nurses", "640323000001", "2024", 160),
          ("registered_nurses", "640323100001", "2024", 20))  # fmt: skip
    return OrgUnit.objects.get(code=COUNTY)


def test_an_unset_target_is_its_own_state_and_never_a_pass(staffed):
    evaluation = evaluate(PACK, COUNTY, "2024")
    beds = evaluation.result(BEDS)
    assert beds.value == 3.6  # 360 beds × 1000 / 100,000 residents
    assert (beds.status, beds.target, beds.gap) == ("target_unset", "", None)
    # every indicator judged against a bureau's number (item 22's five ratios, and the shares
    # of items 24, 29 and 30 the documents give no figure for) waits for the bureau
    bureau_set = [i for i in get_pack(PACK).indicators if i.target is not None and i.target.key]
    assert len(bureau_set) == 13
    assert evaluation.verdict.counts["target_unset"] == len(bureau_set)
    assert evaluation.verdict.status == "not_met"


def test_the_bureau_target_judges_the_ratio(staffed, alice):
    set_bureau_target(staffed, 2024, "beds_per_1000", 4.0, user=alice, source="盐池县卫生规划")
    set_bureau_target(staffed, 2024, "nurses_per_physician", 1.2, user=alice)
    evaluation = evaluate(PACK, COUNTY, "2024")
    beds, ratio = evaluation.result(BEDS), evaluation.result(RATIO)
    assert (beds.status, beds.target, beds.gap) == ("not_met", ">= 4", 0.4)
    assert (ratio.value, ratio.status, ratio.target) == (1.2, "met", ">= 1.2")  # 180 / 150
    # another year keeps its own state
    assert evaluate(PACK, COUNTY, "2025").result(BEDS).status != "not_met"


def test_each_change_is_audited_and_clearing_unsets(staffed, alice):
    set_bureau_target(staffed, 2024, "beds_per_1000", 3.0, user=alice)
    assert evaluate(PACK, COUNTY, "2024").result(BEDS).status == "met"
    set_bureau_target(staffed, 2024, "beds_per_1000", None, user=alice)
    assert evaluate(PACK, COUNTY, "2024").result(BEDS).status == "target_unset"
    changes = list(BureauTargetChange.objects.order_by("at", "id").values_list("old", "new"))
    assert changes == [(None, 3.0), (3.0, None)]
    assert {c.changed_by for c in BureauTargetChange.objects.all()} == {alice}


def test_unknown_keys_and_townships_are_refused(staffed):
    with pytest.raises(BureauTargetError):
        set_bureau_target(staffed, 2024, "no_such_key", 1.0)
    with pytest.raises(BureauTargetError):
        set_bureau_target(OrgUnit.objects.get(code="640323100"), 2024, "beds_per_1000", 1.0)


def test_the_page_sets_targets_for_the_bureau_only(staffed, alice, bob, victor, client_for):
    from django.urls import reverse

    url = reverse("standards:targets")
    page = client_for(alice).get(url, {"orgunit": COUNTY, "year": 2024})
    text = page.content.decode()
    assert "每千常住人口医疗卫生机构床位数" in text and "目标未设定" in text
    # the key is a form field's name, never words a person reads
    assert "beds_per_1000" not in re.sub(r'name="[^"]*"', "", text)
    response = client_for(alice).post(url, {"orgunit": COUNTY, "year": "2024",
                                            "value-beds_per_1000": "3.5",
                                            "source-beds_per_1000": "盐池县卫生健康规划"})  # fmt: skip
    assert response.status_code == 302
    assert evaluate(PACK, COUNTY, "2024").result(BEDS).status == "met"
    page = client_for(alice).get(url, {"orgunit": COUNTY, "year": 2024}).content.decode()
    assert 'value="3.5"' in page and "盐池县卫生健康规划" in page and 'id="target-history"' in page
    # a viewer of the city sees the values but cannot change them; a township supervisor
    # cannot set a county's targets
    seen = client_for(victor).get(url, {"orgunit": COUNTY, "year": 2024})
    assert seen.status_code == 200 and 'name="value-beds_per_1000"' not in seen.content.decode()
    assert client_for(victor).post(url, {"orgunit": COUNTY, "year": "2024",
                                         "value-beds_per_1000": "9"}).status_code == 403  # fmt: skip
    assert client_for(bob).post(url, {"orgunit": COUNTY, "year": "2024",
                                      "value-beds_per_1000": "9"}).status_code in (403, 404)  # fmt: skip
    assert evaluate(PACK, COUNTY, "2024").result(BEDS).target == ">= 3.5"
