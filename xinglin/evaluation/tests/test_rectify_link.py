from __future__ import annotations

import pytest

from xinglin.collection.testing import store_facts
from xinglin.network.models import OrgUnit
from xinglin.standards.catalogue import sync_catalogue
from xinglin.standards.models import DataElement
from xinglin.web.tests.visible import visible_text

URL = "/evaluation/?pack=demo-county-2022&orgunit=640323&period=2025"


@pytest.fixture
def short_of_tcm_visits(county):
    sync_catalogue()
    centre = OrgUnit.objects.get(code="640323100001")
    total, tcm = (DataElement.objects.get(code=c) for c in ("total_visits", "tcm_visits"))
    store_facts([(total, centre, "202503", 1000.0), (tcm, centre, "202503", 200.0)])


def test_the_bureau_can_open_a_rectification_from_a_failing_item(
    client_for, alice, short_of_tcm_visits
):
    text = client_for(alice).get(URL).text
    assert (
        "/plans/rectification/new/?pack=demo-county-2022&indicator="
        'grassroots.tcm_visit_share&orgunit=640323&period=2025&value=0.2"'
    ) in text


def test_a_viewer_gets_no_rectification_link(client_for, victor, short_of_tcm_visits):
    text = client_for(victor).get(URL).text
    assert "grassroots.tcm_visit_share" in text
    assert "/plans/rectification/new/" not in text


def test_the_scorecard_links_to_the_reported_vs_records_check(client_for, alice, county):
    text = client_for(alice).get(URL).text
    assert 'href="/care/visits/compare/640323/?year=2025"' in text


def test_the_verdict_is_in_the_readers_words(client_for, alice, short_of_tcm_visits):
    client = client_for(alice)
    assert "总体结论: ✗ 未达标" in visible_text(client.get(URL).text)
    client.cookies["django_language"] = "en"
    text = client.get(URL).text
    assert "Verdict: ✗ not met" in visible_text(text)
    assert "Grassroots TCM demonstration county standard" in text
