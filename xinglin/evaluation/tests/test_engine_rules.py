from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from xinglin.evaluation.actions import DerivedValueError, replace_derived_values
from xinglin.evaluation.engine import EvaluationError, evaluate
from xinglin.evaluation.models import DerivedValue
from xinglin.evaluation.tests.conftest import visits
from xinglin.network.actions import close_orgunit, move_orgunit
from xinglin.network.models import OrgUnit
from xinglin.standards.loader import get_pack

PACK = "demo-county-2022"
SHARE = "grassroots.tcm_visit_share"
HALL = "system.health_centre_tcm_hall"


def test_ratio_adds_up_over_institutions_that_reported_both(write):
    write(*visits("640323100001", 2024, 100, 30), *visits("640323101001", 2024, 100, 40))
    write(*[("total_visits", "640323100101", f"2024{m:02d}", 50) for m in range(1, 13)])
    result = evaluate(PACK, "640323", "2024").result(SHARE)
    assert (result.value, result.numerator, result.denominator) == (0.35, 840.0, 2400.0)
    assert (result.status, result.gap, result.included, result.missing) == ("met", 0.0, 2, 0)
    assert result.failing == ["640323100001"]
    assert result.why == {"640323100001": "未达标：中医诊疗人次 360，总诊疗人次 1200"}
    assert result.sources == ["reported"]


def test_share_counts_institutions_without_a_value_as_short_and_lists_them(write):
    write(("has_tcm_hall", "640323100001", "2024", 1))
    evaluation = evaluate(PACK, "640323", "2024")
    county = evaluation.result(HALL)
    assert (county.value, county.numerator, county.denominator) == (0.5, 1.0, 2.0)
    assert (county.status, county.included, county.missing) == ("not_met", 1, 1)
    assert county.failing == ["640323101001"]
    assert county.why == {"640323101001": "缺数据：设有标准化中医馆 无数据"}
    assert evaluation.result(HALL, "640323101001").status == "no_data"
    assert evaluation.result(HALL, "640323100").status == "met"


def test_zero_denominator_is_no_data(write):
    write(*visits("640323100001", 2024, 0, 0))
    result = evaluate(PACK, "640323100", "2024").result(SHARE)
    assert (result.status, result.value, result.gap) == ("no_data", None, None)


def test_a_unit_without_an_institution_of_the_type_is_not_applicable(write):
    result = evaluate(PACK, "640323102", "2024").result(SHARE)
    assert (result.status, result.value, result.failing) == ("not_applicable", None, [])


def test_closed_institutions_count_only_while_open(write):
    write(("has_tcm_hall", "640323100001", "2023", 1), ("has_tcm_hall", "640323100001", "2024", 1))
    close_orgunit(OrgUnit.objects.get(code="640323101001"), date(2024, 1, 1))
    assert evaluate(PACK, "640323", "2023").result(HALL).value == 0.5
    assert evaluate(PACK, "640323", "2024").result(HALL).value == 1.0


def test_moved_institutions_roll_up_by_the_tree_of_the_period(write):
    write(*visits("640323101001", 2022, 100, 50), *visits("640323101001", 2024, 100, 50))
    move_orgunit(OrgUnit.objects.get(code="640323101001"), OrgUnit.objects.get(code="640323100"),
                 date(2023, 7, 1))  # fmt: skip
    old, new = evaluate(PACK, "640323", "2022"), evaluate(PACK, "640323", "2024")
    assert old.result(SHARE, "640323101").value == 0.5
    assert old.result(SHARE, "640323100").status == "no_data"
    assert old.result(SHARE, "640323100").failing == ["640323100001"]
    moved = new.result(SHARE, "640323100")
    assert (moved.value, moved.included, moved.missing) == (0.5, 1, 1)
    assert new.result(SHARE, "640323101").status == "not_applicable"


def test_derived_values_win_over_reported_ones_and_say_so(write):
    pack = get_pack("work-points-2023")
    write(
        ("elderly_tcm_managed", "640323100001", "2023", 10),
        ("residents_65_plus", "640323", "2023", 100),
    )
    rate = "work_points.elderly_tcm_management_rate"
    assert evaluate(pack, "640323", "2023").result(rate).value == 0.1
    replace_derived_values("care.constitution", [("elderly_tcm_managed", "640323100001", "2023", 80)],
                           ["2023"])  # fmt: skip
    result = evaluate(pack, "640323", "2023").result(rate)
    assert (result.value, result.status, result.sources) == (
        0.8,
        "met",
        ["care.constitution", "reported"],
    )
    replace_derived_values("care.constitution", [], ["2023"])
    assert DerivedValue.objects.count() == 0


def test_replacing_derived_values_is_all_or_nothing(write):
    replace_derived_values("care.constitution", [("elderly_tcm_managed", "640323100001", "2023", 8)],
                           ["2023"])  # fmt: skip
    with pytest.raises(DerivedValueError):
        replace_derived_values("care.constitution", [("elderly_tcm_managed", "nope", "2023", 9)],
                               ["2023"])  # fmt: skip
    assert list(DerivedValue.objects.values_list("value", flat=True)) == [8.0]


def test_targets_with_a_deadline_are_judged_from_that_year_on(write):
    pack = get_pack("rehab-2021-2025")
    write(("has_standard_rehab_department", "640323000001", "2022", 0))
    early = evaluate(pack, "640323", "2022").result("rehab.tcm_hospital_standard_department")
    write(("has_standard_rehab_department", "640323000001", "2023", 0))
    due = evaluate(pack, "640323", "2023")
    assert (early.status, early.due) == ("not_met", False)
    assert due.result("rehab.tcm_hospital_standard_department").due is True
    assert "rehab.tcm_hospital_standard_department" not in [
        r.indicator
        for r in evaluate(pack, "640323", "2022").results
        if r.due and r.status == "not_met"
    ]


def _tiny_pack(veto: bool, points: float):
    pack = get_pack(PACK)
    share = replace(pack.indicator(SHARE), veto=veto, points=points)
    hall = replace(pack.indicator(HALL), points=3.0)
    return replace(pack, indicators=(share, hall))


def test_veto_items_decide_the_verdict_and_points_add_up(write):
    write(
        *visits("640323100001", 2024, 100, 10),
        *visits("640323101001", 2024, 100, 10),
        ("has_tcm_hall", "640323100001", "2024", 1),
        ("has_tcm_hall", "640323101001", "2024", 1),
    )
    verdict = evaluate(_tiny_pack(True, 5.0), "640323", "2024").verdict
    assert (verdict.status, verdict.vetoed, verdict.score, verdict.max_score) == (
        "not_met",
        [SHARE],
        3.0,
        8.0,
    )
    write(*visits("640323100001", 2024, 100, 50), *visits("640323101001", 2024, 100, 50))
    verdict = evaluate(_tiny_pack(True, 5.0), "640323", "2024").verdict
    assert (verdict.status, verdict.vetoed, verdict.score) == ("met", [], 8.0)
    assert verdict.counts["met"] == 2


def test_evidence_items_await_evidence(write):
    evaluation = evaluate(PACK, "640323", "2024")
    assert evaluation.result("organisation.development_plan").status == "awaiting_evidence"
    assert evaluation.verdict.status == "not_met"


@pytest.mark.parametrize(
    "pack, unit, period",
    [
        ("nope", "640323", "2024"),
        (PACK, "nope", "2024"),
        (PACK, "640323", "2024Q1"),
        (PACK, "640323", "20x"),
    ],
)
def test_unknown_pack_unit_or_period_raise(county, pack, unit, period):
    with pytest.raises(EvaluationError):
        evaluate(pack, unit, period)


def test_a_private_tcm_hospital_changes_no_county_hospital_figure(write):
    """ "县中医医院康复病床不少于40张" covers the hospital with the role county_tcm_hospital
    (seeds/000 三(一)2): a private TCM hospital's 80 beds neither meet it nor get a row."""
    from xinglin.network.actions import create_institution

    create_institution(code="640323000009", name="民营中医医院", institution_type="tcm_hospital",
                       parent=OrgUnit.objects.get(code="640323"))  # fmt: skip
    OrgUnit.objects.filter(code="640323000009").update(ownership="private")
    write(("rehab_beds", "640323000001", "2024", 30), ("rehab_beds", "640323000009", "2024", 80))
    evaluation = evaluate("rehab-2021-2025", "640323", "2024")
    county = evaluation.result("rehab.tcm_hospital_rehab_beds")
    assert (county.value, county.status, county.included) == (30.0, "not_met", 1)
    assert county.failing == ["640323000001"]
    assert not [r for r in evaluation.at("640323000009")
                if r.indicator == "rehab.tcm_hospital_rehab_beds"]  # fmt: skip


def test_an_area_total_is_judged_only_for_its_area(write):
    """ "全区21个基层医疗机构建成标准化中医馆" (seeds/004 二(四)) is the district's count: no
    township or centre is judged on it, and a centre with a hall is never listed as short."""
    write(("has_tcm_hall", "640323100001", "2023", 1), ("has_tcm_hall", "640323101001", "2023", 0))
    evaluation = evaluate("work-points-2023", "640323", "2023")
    county = evaluation.result("work_points.tcm_hall_count")
    assert (county.value, county.status, county.failing) == (1.0, "not_met", [])
    judged = {r.orgunit for r in evaluation.results if r.indicator == "work_points.tcm_hall_count"}
    assert judged == {"640323"}
    hall = evaluation.result("work_points.health_centre_tcm_hall")  # judged per centre
    assert hall.failing == ["640323101001"]
    assert hall.why == {"640323101001": "未达标：设有标准化中医馆 否"}
