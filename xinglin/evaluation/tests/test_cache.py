"""Cached evaluations and dashboard figures: reused while nothing changed, recomputed on the
next request after any write to the data behind them."""

from __future__ import annotations

from datetime import date

from django.db import connection
from django.urls import reverse

from xinglin.evaluation import cache, generation
from xinglin.evaluation.actions import replace_derived_values
from xinglin.evaluation.engine import evaluate
from xinglin.evaluation.tests.conftest import visits
from xinglin.network.actions import move_orgunit
from xinglin.network.models import OrgUnit

SCORECARD = reverse("evaluation:scorecard") + "?pack=demo-county-2022&period=2024&orgunit=640323"
DASHBOARD = "/?orgunit=640323&year=2024"
SHARE = 'data-indicator="grassroots.tcm_visit_share" data-status="{}"'


def test_a_changed_value_changes_the_scorecard_and_dashboard_at_once(write, alice, client_for):
    write(*visits("640323100001", 2024, 100, 30), *visits("640323101001", 2024, 100, 40))
    client = client_for(alice)
    assert SHARE.format("met") in client.get(SCORECARD).content.decode()
    assert _demo_verdict(client)["met"] == 1
    before = cache.stats()["hits"]
    client.get(SCORECARD)
    assert cache.stats()["hits"] > before  # the second page came from the cache

    write(*visits("640323100001", 2024, 100, 1), *visits("640323101001", 2024, 100, 1))

    assert SHARE.format("not_met") in client.get(SCORECARD).content.decode()
    assert _demo_verdict(client)["met"] == 0
    assert _demo_verdict(client)["not_met"] == 11


def _demo_verdict(client) -> dict:
    verdicts = client.get(DASHBOARD).context["board"]["verdicts"]
    return next(v for v in verdicts if v["pack"] == "demo-county-2022")


def test_derived_values_and_tree_changes_invalidate(write, county):
    write(*visits("640323100001", 2024, 100, 30))
    first = evaluate("demo-county-2022", "640323", "2024")
    assert evaluate("demo-county-2022", "640323", "2024") is first  # reused
    replace_derived_values(
        "care.visits", [("tcm_visits", "640323100001", "202401", 50)], ["202401"]
    )
    second = evaluate("demo-county-2022", "640323", "2024")
    assert second is not first
    assert (
        second.result("grassroots.tcm_visit_share", "640323100001").value == 0.316666667
    )  # (11 x 30 + 50) / 1200
    move_orgunit(
        OrgUnit.objects.get(code="640323100101"),
        OrgUnit.objects.get(code="640323101"),
        on=date(2024, 6, 1),
    )
    assert evaluate("demo-county-2022", "640323", "2024") is not second


def test_every_write_path_changes_the_generation(county):
    before = generation.current()
    OrgUnit.objects.filter(code="640323100101").update(name="改名卫生室")  # raw QuerySet.update
    after = generation.current()
    assert before is not None and after != before
    with connection.cursor() as cursor:  # even raw SQL
        cursor.execute("DELETE FROM network_orgunithistory WHERE 1 = 0")
    if connection.vendor == "sqlite":  # a row trigger: nothing deleted, nothing changed
        assert generation.current() == after
