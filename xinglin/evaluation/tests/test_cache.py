"""Cached evaluations and dashboard figures: reused while nothing changed, recomputed on the
next request after any write to the data behind them."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection, transaction
from django.urls import reverse

from xinglin.collection import store
from xinglin.collection.models import DataValue
from xinglin.collection.testing import store_facts
from xinglin.core import generation
from xinglin.evaluation import cache
from xinglin.evaluation.actions import replace_derived_values
from xinglin.evaluation.engine import evaluate
from xinglin.evaluation.tests.conftest import visits
from xinglin.network.actions import move_orgunit
from xinglin.network.models import OrgUnit
from xinglin.standards.catalogue import sync_catalogue
from xinglin.standards.models import DataElement

# every status shown: the default view lists only what needs attention
SCORECARD = (
    reverse("evaluation:scorecard") + "?pack=demo-county-2022&period=2024&orgunit=640323&status=all"
)
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
    # 13: with item 15's computed part (the county TCM hospital reports none of its departments)
    # and item 21's timely reporting (no form was submitted)
    assert _demo_verdict(client)["not_met"] == 13


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


def _generation_triggers() -> int:
    """The generation triggers installed (counted without `current`, which re-installs)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
                [generation.PREFIX + "%"],
            )
        else:
            cursor.execute(
                "SELECT COUNT(*) FROM pg_trigger WHERE tgname LIKE %s", [generation.PREFIX + "%"]
            )
        return cursor.fetchone()[0]


def _bulk_rows(value: float) -> list:
    """More values than generation.BULK_ROWS: two elements, every org unit, enough months."""
    sync_catalogue()
    elements = [DataElement.objects.get(code=c) for c in ("total_visits", "tcm_visits")]
    units = list(OrgUnit.objects.all())
    months = generation.BULK_ROWS // (2 * len(units)) + 2
    periods = [f"{2000 + m // 12}{m % 12 + 1:02d}" for m in range(months)]
    rows = [(e, u, p, value) for p in periods for u in units for e in elements]
    assert len(rows) > generation.BULK_ROWS
    return rows


def test_a_bulk_write_changes_the_generation_once_and_keeps_the_triggers(county):
    rows = _bulk_rows(5.0)
    triggers, before = _generation_triggers(), generation.current()
    assert before is not None and triggers > 0
    store_facts(rows)
    after = generation.current()
    assert after is not None and after != before
    assert _generation_triggers() == triggers
    store_facts(rows[:1])  # unchanged: nothing written, nothing changed
    assert generation.current() == after
    store_facts([(*rows[0][:3], 6.0)])  # one row: the row triggers still fire
    assert generation.current() not in (after, None)


def test_a_bulk_write_rolled_back_midway_leaves_the_triggers_and_the_generation(
    county, monkeypatch
):
    rows = _bulk_rows(5.0)
    triggers, before = _generation_triggers(), generation.current()

    def fail(*args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "_bump_submissions", fail)  # after values and audit
    with transaction.atomic():  # a caller that carries on after the failure
        with pytest.raises(RuntimeError):
            store_facts(rows)
        assert _generation_triggers() == triggers
        assert generation.current() == before
        assert not DataValue.objects.exists()
    monkeypatch.undo()
    store_facts(rows[:1])  # and the row triggers still fire
    assert generation.current() not in (before, None)


def test_bulk_write_rolls_back_to_its_own_savepoint(county):
    # SQLite: triggers dropped and restored; PostgreSQL: statement triggers, only the savepoint
    triggers, before = _generation_triggers(), generation.current()
    with pytest.raises(RuntimeError), generation.bulk_write(["network_orgunit"]):
        OrgUnit.objects.filter(code="640323100101").update(name="改名卫生室")
        raise RuntimeError("stop")
    assert _generation_triggers() == triggers
    assert generation.current() == before
    assert OrgUnit.objects.get(code="640323100101").name != "改名卫生室"
