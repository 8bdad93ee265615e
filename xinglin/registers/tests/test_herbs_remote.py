"""Herb cultivation (seeds/004 八(十九): "种植面积、产值保持稳定增长" as a computed trend) and
remote consultations (seeds/003 三(四)17)."""

from __future__ import annotations

import pytest

from xinglin.evaluation.engine import evaluate
from xinglin.registers.models import HerbCultivation, RemoteConsultation
from xinglin.registers.tests.conftest import upload

HERBS = (
    "地区,年度,中药材品种,种植面积（亩）,产值（万元）\n"
    "640323,2022,甘草,1000,300\n"
    "640323100,2022,黄芪,200,80\n"
    "640323,2023,甘草,1100,320\n"
    "640323100,2023,黄芪,220,90\n"
    "640323,2024,甘草,1300,300\n"
)


def _import(client, code, text, name="file.csv"):
    return client.post(f"/registers/{code}/import/", {"file": upload(name, text)})


def _totals(year):
    rows = HerbCultivation.objects.filter(year=year)
    return sum(r.area_mu for r in rows), sum(r.output_value for r in rows)


@pytest.mark.django_db
def test_stable_growth_is_both_area_and_output_above_the_year_before(catalogue, alice, client_for):
    assert _import(client_for(alice), "herbs", HERBS).status_code == 302
    grew = {
        y: all(a > b for a, b in zip(_totals(y), _totals(y - 1), strict=True)) for y in (2023, 2024)
    }
    assert grew == {2023: True, 2024: False}  # 2024: area up, output down
    for year in (2023, 2024):
        result = evaluate("work-points-2023", "640323", str(year)).result(
            "work_points.herb_cultivation_trend"
        )
        assert (result.value, result.status) == (
            float(grew[year]),
            "met" if grew[year] else "not_met",
        )
    first = evaluate("work-points-2023", "640323", "2022").result(
        "work_points.herb_cultivation_trend"
    )
    assert first.status == "no_data"  # nothing to compare 2022 with


@pytest.mark.django_db
def test_a_year_entered_later_moves_the_next_years_trend(catalogue, alice, client_for):
    client = client_for(alice)
    _import(
        client,
        "herbs",
        "地区,年度,中药材品种,种植面积（亩）,产值（万元）\n640323,2024,甘草,10,10\n",
    )
    assert evaluate("work-points-2023", "640323", "2024").result(
        "work_points.herb_cultivation_trend").status == "no_data"  # fmt: skip
    _import(
        client, "herbs", "地区,年度,中药材品种,种植面积（亩）,产值（万元）\n640323,2023,甘草,5,5\n"
    )
    assert evaluate("work-points-2023", "640323", "2024").result(
        "work_points.herb_cultivation_trend").status == "met"  # fmt: skip


@pytest.mark.django_db
def test_a_negative_area_is_refused_and_another_county_cannot_record_here(
    catalogue, alice, zed, client_for
):
    response = _import(client_for(alice), "herbs", HERBS + "640323,2025,枸杞,abc,1\n")
    assert HerbCultivation.objects.count() == 0
    assert response.context["errors"] == ["file.csv，第 7 行，种植面积（亩）：请输入一个数字。"] or \
        response.context["errors"][0].startswith("file.csv，第 7 行，种植面积（亩）：")  # fmt: skip
    response = _import(client_for(zed), "herbs", HERBS)
    assert HerbCultivation.objects.count() == 0 and len(response.context["errors"]) == 5


@pytest.mark.django_db
def test_remote_consultations_feed_the_hospitals_rule(catalogue, alice, carol, client_for):
    text = "提供服务医院,申请机构,服务类别,服务日期\n" + "".join(
        f"640323000001,{p},远程会诊,2024-0{m}-10\n" for m, p in ((1, "640323100001"), (2, "大水坑镇卫生院")))  # fmt: skip
    assert (
        _import(client_for(carol), "remote", text).status_code == 200
    )  # a clinic clerk: not her hospital
    assert _import(client_for(alice), "remote", text).status_code == 302
    given = RemoteConsultation.objects.filter(
        orgunit__code="640323000001", held_on__year=2024
    ).count()
    hospital = [r for r in evaluate("capacity-2021-2025", "640323", "2024").at("640323000001")
                if r.indicator == "capacity.remote_consultation"][0]  # fmt: skip
    assert (given, hospital.status) == (2, "met")
    assert (
        evaluate("capacity-2021-2025", "640323", "2023")
        .result("capacity.remote_consultation")
        .status
        == "not_met"
    )
