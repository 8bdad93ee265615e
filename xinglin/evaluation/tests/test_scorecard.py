from __future__ import annotations

import csv
import io

from django.urls import reverse

from xinglin.evaluation.tests.conftest import visits
from xinglin.network.models import OrgUnit

URL = reverse("evaluation:scorecard")
Q = "?pack=demo-county-2022&period=2024&orgunit="


def test_the_county_scorecard_shows_verdict_lights_and_drill_down(write, alice, client_for):
    write(*visits("640323100001", 2024, 100, 30), *visits("640323101001", 2024, 100, 40))
    response = client_for(alice).get(URL + Q + "640323&status=all")
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        'id="verdict"' in html
        and 'data-indicator="grassroots.tcm_visit_share" data-status="met"' in html
    )
    assert "?pack=demo-county-2022&orgunit=640323100&period=2024" in html  # drill down
    assert "indicator=grassroots.tcm_visit_share&orgunit=640323&period=2024" in html  # data behind


def test_a_clerk_sees_their_institution_only(write, carol, client_for):
    client = client_for(carol)
    response = client.get(URL + "?pack=demo-county-2022&period=2024")
    assert response.status_code == 200
    assert response.context["unit"].code == "640323100001"
    assert client.get(URL + Q + "640323").status_code == 404
    assert client.get(URL + Q + "640323101001").status_code == 404
    assert (
        client.get(reverse("evaluation:scorecard_export", args=["json"]) + Q + "640323").status_code
        == 404
    )


def test_the_csv_and_json_twins_carry_the_figures(write, bob, client_for):
    write(*visits("640323100001", 2024, 100, 30))
    client = client_for(bob)
    rows = client.get(
        reverse("evaluation:scorecard_export", args=["json"]) + Q + "640323100"
    ).json()
    assert {r["orgunit"] for r in rows} == {
        "640323100",
        "640323100001",
        "640323100101",
        "640323100102",
    }
    share = next(
        r
        for r in rows
        if r["indicator"] == "grassroots.tcm_visit_share" and r["orgunit"] == "640323100"
    )
    assert (share["value"], share["status"]) == (0.3, "not_met")
    text = client.get(
        reverse("evaluation:scorecard_export", args=["csv"]) + Q + "640323100"
    ).content.decode()
    assert len(list(csv.DictReader(io.StringIO(text)))) == len(rows)


def test_the_data_behind_a_figure_is_scoped(write, bob, client_for):
    write(*visits("640323100001", 2024, 100, 30), *visits("640323101001", 2024, 100, 40))
    client = client_for(bob)
    url = reverse("evaluation:data") + Q + "640323100&indicator=grassroots.tcm_visit_share"
    response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["values"]) == 24
    assert {v.orgunit.code for v in response.context["values"]} == {"640323100001"}
    assert (
        client.get(
            reverse("evaluation:data") + Q + "640323&indicator=grassroots.tcm_visit_share"
        ).status_code
        == 404
    )


def test_the_scorecard_opens_an_org_unit_typed_by_name(write, alice, client_for):
    response = client_for(alice).get(URL + "?pack=demo-county-2022&period=2024&orgunit=花马池镇")
    assert response.status_code == 200
    assert response.context["unit"].code == "640323100"
    assert '<option value="花马池镇"></option>' in response.content.decode()  # suggested


def test_the_names_of_institutions_falling_short_follow_a_rename_at_once(write, alice, client_for):
    """The names of the institutions a row lists as falling short are kept with the cached
    rows (a city lists thousands); a rename reaches the page on the next request."""
    write(*visits("640323100001", 2024, 100, 30), *visits("640323101001", 2024, 100, 1))
    client = client_for(alice)
    page = client.get(URL + Q + "640323&status=all")
    names = page.context["names"]
    assert names, "some institution falls short"
    code = sorted(names)[0]
    unit = OrgUnit.objects.get(code=code)
    assert names[code] == unit.name
    assert {c for r in page.context["card"].rows for c in r.result.failing} == set(names)
    unit.name = "改过名字的卫生院"
    unit.save()
    again = client.get(URL + Q + "640323&status=all")
    assert again.context["names"][code] == "改过名字的卫生院"
    assert again.context["card"].rows is not page.context["card"].rows  # computed again


def _table(response) -> str:
    html = response.content.decode()
    start = html.index('<table id="indicators"')
    return html[start : html.index("</table>", start)]


def test_the_indicator_table_is_rendered_once_per_cached_scorecard_and_person_it_depends_on(
    write, alice, victor, client_for
):
    """The indicator table (most of a city's page) is rendered once per cached scorecard,
    filter and what the person may do: the bureau's officer sees "rectify" links, a viewer
    opening the same scorecard after them does not, and a second look renders nothing."""
    write(*visits("640323100001", 2024, 100, 30), *visits("640323101001", 2024, 100, 1))
    rows = "evaluation/_indicator_rows.html"
    page = URL + Q + "640323&status=all"
    officer = client_for(alice).get(page)
    assert rows in [t.name for t in officer.templates]
    assert 'class="rectify"' in officer.content.decode()
    viewer = client_for(victor)
    first = viewer.get(page)
    assert first.context["card"].rows is officer.context["card"].rows  # the same cached rows
    assert rows in [t.name for t in first.templates]  # rendered for what a viewer may do
    assert 'class="rectify"' not in first.content.decode()
    again = viewer.get(page)
    assert rows not in [t.name for t in again.templates]  # kept
    assert _table(again) == _table(first)
    other = viewer.get(URL + Q + "640323&status=not_met")  # another filter: its own table
    assert rows in [t.name for t in other.templates]
    shown = {r.result.indicator for r in other.context["card"].rows if r.result.status == "not_met"}
    assert shown and all(
        f'data-indicator="{code}" data-status="not_met"' in other.content.decode() for code in shown
    )
