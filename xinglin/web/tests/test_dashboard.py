from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from xinglin.evaluation.engine import evaluate

pytestmark = pytest.mark.usefixtures("figures_county")


@pytest.fixture
def figures_county(county):
    from xinglin.documents.tests.conftest import figures_county as build

    return build.__wrapped__(county)


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_bureau_sees_the_verdict_and_the_institutions_holding_items_back(client_for, alice):
    response = client_for(alice).get(reverse("home"))
    assert response.status_code == 200
    page = response.content.decode()
    assert response.context["unit"].code == "640323" and response.context["year"] == 2025
    verdicts = {v["pack"]: v for v in response.context["board"]["verdicts"]}
    engine = evaluate("demo-county-2022", "640323", "2025").verdict
    assert verdicts["demo-county-2022"]["verdict"] == engine.status
    assert verdicts["demo-county-2022"]["met"] == engine.counts["met"]
    assert "大水坑镇卫生院" in page
    failing = _csv(client_for(alice).get(reverse("dashboard_csv", args=["failing"])))
    hall = next(r for r in failing if r[1] == "system.health_centre_tcm_hall")
    assert hall[5] == "大水坑镇卫生院"  # people read names in the CSV too


def test_key_indicators_show_what_is_not_met_first_with_its_trend(client_for, alice):
    board = client_for(alice).get(reverse("home")).context["board"]
    rows = board["indicators"]
    statuses = [r["status"] for r in rows]
    assert statuses == sorted(statuses, key=lambda s: s != "not_met") and "not_met" in statuses
    first = rows[0]
    expected = []
    for year in first["years"]:
        result = evaluate(first["pack"], "640323", str(year), tree=False).at("640323")
        expected.append(next(r.value for r in result if r.indicator == first["indicator"]))
    assert first["values"] == expected and first["years"][-1] == 2025


def test_projections_say_whether_the_deadline_will_be_met(client_for, alice):
    rows = _csv(
        client_for(alice).get(reverse("dashboard_csv", args=["projections"]) + "?year=2024")
    )
    header, body = rows[0], rows[1:]
    by_indicator = {r[header.index("indicator")]: dict(zip(header, r, strict=True)) for r in body}
    # rehab-2021-2025 item 6 (due 2025) is yes/no: never projected, not yet met (issue 17.7)
    general = by_indicator["rehab.general_hospital_standard_department"]
    assert (general["kind"], general["verdict"], general["first_met"]) == ("yes_no", "not_yet", "")
    assert general["target"] == "≥ 1" and general["predicted"] == ""
    # a continuous figure with two years of data (2023, 2024) is not projected either
    hall = by_indicator["capacity.health_centre_tcm_hall"]
    assert (hall["kind"], hall["verdict"], hall["predicted"]) == ("continuous", "too_few_years", "")


def test_a_supervisor_sees_only_his_township(client_for, dave):
    response = client_for(dave).get(reverse("home"))
    assert response.context["unit"].code == "640323101"
    assert client_for(dave).get(reverse("home") + "?orgunit=640323100").status_code == 404


def test_a_city_viewer_gets_a_league_table_of_its_counties(client_for, victor):
    response = client_for(victor).get(reverse("home") + "?year=2025")
    league = response.context["board"]["league"]
    assert [c["code"] for c in league["counties"]] == ["640323"]
    rows = _csv(client_for(victor).get(reverse("dashboard_csv", args=["league"]) + "?year=2025"))
    share = next(r for r in rows if r[2] == "grassroots.tcm_visit_share")
    assert share[-1] == "31.0%"


def test_a_user_without_scope_sees_no_figures(client_for, olga):
    response = client_for(olga).get(reverse("home"))
    assert response.status_code == 200 and response.context["board"] is None
    assert client_for(olga).get(reverse("dashboard_csv", args=["verdicts"])).status_code == 404
