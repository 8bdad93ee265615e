from __future__ import annotations

import csv
import io

import pytest

from xinglin.evaluation.models import DerivedValue
from xinglin.lib.survey_stats import Interval
from xinglin.network.models import OrgUnit
from xinglin.surveys.actions import record_response
from xinglin.surveys.models import SurveyResponse
from xinglin.surveys.results import Status, derived_rows, status_for, survey_results
from xinglin.surveys.tests.conftest import DSK, HMC, knowledge_answers, satisfied_answers


def _fill(instrument, code, satisfied, unsatisfied):
    unit = OrgUnit.objects.get(code=code)
    for overall in ["满意"] * satisfied + ["一般"] * unsatisfied:
        record_response(instrument, unit, "2025", satisfied_answers(overall))


@pytest.fixture
def filled(satisfaction):
    _fill(satisfaction, HMC, 95, 5)  # 95/100: lower bound 0.888 < 0.9, met on the rate only
    _fill(satisfaction, DSK, 40, 10)  # 40/50 = 0.80: not met
    return satisfaction


@pytest.mark.parametrize(
    ("interval", "status"),
    [
        (Interval(0.95, 0.91, 0.98), Status.MET_CONFIDENT),
        (Interval(0.95, 0.888, 0.978), Status.MET_POINT),
        (Interval(0.9, 0.85, 0.94), Status.MET_POINT),
        (Interval(0.8, 0.67, 0.89), Status.NOT_MET),
        (None, Status.NO_DATA),
    ],
)
def test_status_against_target(interval, status):
    assert status_for(interval, 0.9) == status


def test_results_for_county_and_townships(filled):
    result = survey_results(filled, "2025", OrgUnit.objects.get(code="640323"))
    total = result.total
    assert (total.respondents, total.positive, total.status) == (150, 135, Status.MET_POINT)
    assert (round(total.interval.lower, 4), round(total.interval.upper, 4)) == (0.8416, 0.9385)
    parts = {r.orgunit.code: (r.respondents, r.positive, r.status) for r in result.parts}
    assert parts[HMC] == (100, 95, Status.MET_POINT)
    assert parts[DSK] == (50, 40, Status.NOT_MET)
    assert parts["640323203"] == (0, 0, Status.NO_DATA)
    assert len(parts) == 9


def test_derived_rows_for_county_and_townships(filled):
    assert derived_rows(["2025"]) == [
        ("satisfaction_respondents", "640323", "2025", 150.0),
        ("satisfaction_satisfied", "640323", "2025", 135.0),
        ("satisfaction_respondents", HMC, "2025", 100.0),
        ("satisfaction_satisfied", HMC, "2025", 95.0),
        ("satisfaction_respondents", DSK, "2025", 50.0),
        ("satisfaction_satisfied", DSK, "2025", 40.0),
    ]


def test_the_web_form_feeds_the_engine(client_for, alice, satisfaction):
    data = {"orgunit": HMC, "period": "2025"}
    data.update({f"q_{k}": v for k, v in satisfied_answers("比较满意").items()})
    response = client_for(alice).post("/surveys/resident_satisfaction/respond/", data)
    assert response.status_code == 302
    assert (
        response["Location"] == "/surveys/resident_satisfaction/respond/?year=2025&unit=640323100"
    )
    saved = SurveyResponse.objects.get()
    assert (saved.orgunit.code, saved.is_positive, saved.interviewer, saved.channel) == (
        HMC,
        True,
        alice,
        "web",
    )
    values = sorted(
        DerivedValue.objects.filter(source="surveys").values_list(
            "element__code", "orgunit__code", "value"
        )
    )
    assert values == [
        ("satisfaction_respondents", "640323", 1.0),
        ("satisfaction_respondents", HMC, 1.0),
        ("satisfaction_satisfied", "640323", 1.0),
        ("satisfaction_satisfied", HMC, 1.0),
    ]


def test_an_unanswered_question_is_refused(client_for, alice, satisfaction):
    data = {"orgunit": HMC, "period": "2025", "q_gender": "女"}
    response = client_for(alice).post("/surveys/resident_satisfaction/respond/", data)
    assert response.status_code == 200
    assert "q_overall" in response.context["form"].errors
    assert SurveyResponse.objects.count() == 0


def test_a_clerk_enters_only_for_their_institution(client_for, carol, satisfaction):
    client = client_for(carol)
    page = client.get("/surveys/resident_satisfaction/respond/")
    assert [c[0] for c in page.context["form"].fields["orgunit"].choices] == ["640323100001"]
    data = {"orgunit": HMC, "period": "2025"}
    data.update({f"q_{k}": v for k, v in satisfied_answers().items()})
    response = client.post("/surveys/resident_satisfaction/respond/", data)
    assert response.status_code == 200
    assert "orgunit" in response.context["form"].errors
    assert SurveyResponse.objects.count() == 0


def test_a_viewer_cannot_fill_in(client_for, victor, satisfaction):
    assert client_for(victor).get("/surveys/resident_satisfaction/respond/").status_code == 404


def test_a_supervisor_sees_only_their_townships_responses(client_for, dave, filled):
    response = client_for(dave).get("/surveys/resident_satisfaction/responses/?year=2025")
    assert response.context["total"] == 50
    assert {r.orgunit.code for r in response.context["rows"]} == {DSK}


@pytest.mark.parametrize(
    "url",
    [
        "/surveys/resident_satisfaction/results/2025/640323/",
        "/surveys/resident_satisfaction/results/2025/640323100/",
        "/surveys/resident_satisfaction/results/2025/640323100.csv",
        "/surveys/resident_satisfaction/plan/640323/",
    ],
)
def test_results_outside_scope_are_404(client_for, dave, filled, url):
    assert client_for(dave).get(url).status_code == 404


def test_results_page_has_chart_table_and_twins(client_for, alice, filled):
    client = client_for(alice)
    page = client.get("/surveys/resident_satisfaction/results/2025/640323/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="chart"' in html and "echarts.min.js" in html
    assert page.context["chart"]["target"] == 90.0
    assert html.count("<tr data-orgunit=") == 10
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get("/surveys/resident_satisfaction/results/2025/640323.csv").content.decode(
                    "utf-8-sig"
                )
            )
        )
    )
    assert rows[0] == {
        "orgunit": "640323",
        "name": "盐池县",
        "respondents": "150",
        "positive": "135",
        "rate": "0.9",
        "lower": "0.8416",
        "upper": "0.9385",
        "target": "0.9",
        "status": "met_point",
    }
    data = client.get("/surveys/resident_satisfaction/results/2025/640323.json").json()
    statuses = {r["orgunit"]: r["status"] for r in data["rows"]}
    assert (statuses["640323"], statuses[HMC], statuses[DSK]) == (
        "met_point",
        "met_point",
        "not_met",
    )
    assert (data["method"], data["confidence"]) == ("wilson", 0.95)


def test_supervisor_sees_own_township_results(client_for, bob, filled):
    page = client_for(bob).get("/surveys/resident_satisfaction/results/?year=2025")
    assert page["Location"] == "/surveys/resident_satisfaction/results/2025/640323100/"
    page = client_for(bob).get("/surveys/resident_satisfaction/results/2025/640323100/")
    assert page.context["result"].total.respondents == 100


def test_plan_allocates_the_sample_to_townships(client_for, alice, satisfaction, residents):
    page = client_for(alice).get(
        "/surveys/resident_satisfaction/plan/640323/?year=2025&margin=5&expected=50"
    )
    plan = page.context["plan"]
    # N = 60 000 + 25 000 + 7 × 5 000 = 120 000: n = 384.15 / (1 + 383.15/120 000) → 383.
    assert (plan.population, plan.sample) == (120000, 383)
    sizes = {a.orgunit.code: a.sample for a in plan.assignments}
    assert sum(sizes.values()) == 383
    # Quotas 191.5, 79.79 and 15.96 (×7): floors sum to 375; the 8 left go to the largest
    # remainders, the seven small townships (.96) and 大水坑镇 (.79), not 花马池镇 (.5).
    assert (sizes[HMC], sizes[DSK], sizes["640323203"]) == (191, 80, 16)
    assert [(a.first, a.last) for a in plan.assignments][:2] == [(1, 16), (17, 207)]


@pytest.mark.parametrize(
    "url",
    [
        "/surveys/",
        "/surveys/instruments/tcm_knowledge/",
        "/surveys/tcm_knowledge/respond/",
        "/surveys/tcm_knowledge/import/",
        "/surveys/tcm_knowledge/plan/",
        "/surveys/tcm_knowledge/responses/",
    ],
)
def test_pages_render(client_for, alice, instruments, url):
    assert client_for(alice).get(url).status_code == 200


def test_instrument_page_shows_rule_and_correct_answers(client_for, alice, knowledge):
    html = client_for(alice).get("/surveys/instruments/tcm_knowledge/").content.decode()
    assert "10道知识题答对6道及以上（≥60%）的计为知晓" in html
    assert "未病先防、既病防变、瘥后防复" in html


def test_knowledge_form_records_awareness(client_for, bob, knowledge):
    data = {"orgunit": HMC, "period": "2025"}
    data.update({f"q_{k}": v for k, v in knowledge_answers(knowledge, 6).items()})
    client_for(bob).post("/surveys/tcm_knowledge/respond/", data)
    saved = SurveyResponse.objects.get()
    assert (saved.is_positive, saved.correct_share) == (True, 0.6)


def test_results_open_on_the_latest_year_with_responses(client_for, bob, satisfaction):
    from xinglin.network.models import OrgUnit
    from xinglin.surveys.actions import record_response
    from xinglin.surveys.tests.conftest import satisfied_answers

    record_response(
        satisfaction, OrgUnit.objects.get(code="640323100"), "2024", satisfied_answers(), user=bob
    )
    response = client_for(bob).get("/surveys/resident_satisfaction/results/")
    assert response["Location"] == "/surveys/resident_satisfaction/results/2024/640323100/"


def test_the_responses_list_pages_and_searches_on_the_server(client_for, alice, filled):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from xinglin.surveys.views import PAGE_SIZE

    client = client_for(alice)
    url = "/surveys/resident_satisfaction/responses/?year=2025"
    first = client.get(url)
    assert first.context["total"] == 150
    assert len(first.context["rows"]) == PAGE_SIZE
    last = client.get(url + "&page=3")
    assert len(last.context["rows"]) == 150 - 2 * PAGE_SIZE
    assert "page=2" in first.text and "year=2025" in first.text  # the pager keeps the year
    searched = client.get(url + "&q=大水坑")
    assert searched.context["total"] == 50
    assert {r.orgunit.code for r in searched.context["rows"]} == {DSK}
    with CaptureQueriesContext(connection) as one_page:
        client.get(url + "&page=1")
    with CaptureQueriesContext(connection) as another:
        client.get(url + "&page=3")
    assert len(one_page) == len(another)  # rows do not add queries
