"""Issue 21.4: the reported values behind a figure search, filter and page on the server (by
element, institution, period and source), with queries that do not grow with the rows; each
row opens the value's history."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from xinglin.collection.models import Channel
from xinglin.collection.testing import store_facts
from xinglin.evaluation.tests.conftest import visits
from xinglin.evaluation.views import VALUES_PAGE
from xinglin.network.models import OrgUnit
from xinglin.standards.models import DataElement

DATA = reverse("evaluation:data") + (
    "?pack=demo-county-2022&period=2024&orgunit=640323&indicator=grassroots.tcm_visit_share"
)


@pytest.fixture
def both(write):
    """A year of visits for 花马池镇卫生院 (system) and 大水坑镇卫生院 (its March by import)."""
    write(*visits("640323100001", 2024, 100, 30), *visits("640323101001", 2024, 100, 40))
    unit = OrgUnit.objects.get(code="640323101001")
    march = [(DataElement.objects.get(code=c), unit, "202403", 90.0) for c in ("total_visits",)]
    store_facts(march, channel=Channel.IMPORT)


def _listed(client, query=""):
    response = client.get(DATA + query)
    assert response.status_code == 200
    return [(v.orgunit.code, v.element.code, v.period) for v in response.context["values"]]


@pytest.mark.parametrize(
    "query, count, check",
    [
        ("", 48, None),
        ("&element=tcm_visits", 24, lambda r: r[1] == "tcm_visits"),
        ("&institution=大水坑", 24, lambda r: r[0] == "640323101001"),
        ("&value_period=202403", 4, lambda r: r[2] == "202403"),
        ("&source=import", 1, lambda r: r == ("640323101001", "total_visits", "202403")),
        (
            "&source=system&institution=大水坑&value_period=202403",
            1,
            lambda r: r == ("640323101001", "tcm_visits", "202403"),
        ),  # fmt: skip
        ("&institution=无此机构", 0, None),
    ],
)
def test_the_values_behind_a_figure_filter(both, alice, client_for, query, count, check):
    client = client_for(alice)
    rows = _listed(client, query + "&page=1") + _listed(client, query + "&page=2")
    rows = list(dict.fromkeys(rows))  # page 2 of a one-page list repeats the last page
    assert len(rows) == count
    assert check is None or all(check(r) for r in rows)


def test_the_values_page_on_the_server_and_rows_open_the_history(both, write, alice, client_for):
    yearly = [(e, o, "2024", 1200) for e in ("total_visits", "tcm_visits")
              for o in ("640323100001", "640323101001")]  # fmt: skip
    write(*yearly)
    client = client_for(alice)
    response = client.get(DATA)
    assert len(response.context["values"]) == VALUES_PAGE
    assert response.context["page"].paginator.count == 52
    assert len(_listed(client, "&page=2")) == 52 - VALUES_PAGE
    html = response.content.decode()
    first = response.context["values"][0]
    history = reverse(
        "collection:history", args=[first.orgunit.code, first.period, first.element.code]
    )
    assert f'data-href="{history}"' in html
    assert "value_period" in html and "page=2" in html
    # the filters name elements and sources in words
    assert "中医诊疗人次" in html or "中医" in html
    assert "文件导入" in html or "file import" in html


def test_the_values_queries_do_not_grow_with_rows(write, alice, client_for):
    client = client_for(alice)
    write(*visits("640323100001", 2024, 100, 30))

    def count() -> int:
        client.get(DATA)  # the figure computed once (cached); then the page's own queries
        with CaptureQueriesContext(connection) as captured:
            assert client.get(DATA).status_code == 200
        return len(captured)

    few = count()
    write(*visits("640323101001", 2024, 100, 40), *visits("640323100001", 2023, 100, 40))
    assert count() == few


def test_values_derived_from_records_page_by_themselves(write, alice, client_for):
    from django.utils import timezone

    from xinglin.evaluation.models import DerivedValue

    write(*visits("640323100001", 2024, 100, 30))
    element = DataElement.objects.get(code="tcm_visits")
    units = OrgUnit.objects.filter(kind="institution").order_by("code")[:5]
    DerivedValue.objects.bulk_create(
        DerivedValue(element=element, orgunit=u, period=f"2024{m:02d}", value=m,
                     source="care.visits", computed_at=timezone.now())
        for u in units for m in range(1, 13)
    )  # fmt: skip
    client = client_for(alice)
    response = client.get(DATA)
    derived = response.context["derived"]
    assert derived.paginator.count == 12 * len(units) > VALUES_PAGE
    assert len(derived.object_list) == VALUES_PAGE
    assert "derived_page=2" in response.content.decode()
    second = client.get(DATA + "&derived_page=2")
    assert len(second.context["derived"].object_list) == 12 * len(units) - VALUES_PAGE
    assert second.context["page"].number == 1  # the reported values stay on their page
    only = client.get(DATA + "&value_period=202403").context["derived"]
    assert {v.period for v in only.object_list} == {"202403"}
