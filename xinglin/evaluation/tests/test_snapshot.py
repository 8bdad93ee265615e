"""An evaluation on the operational database reads one snapshot, and on SQLite without the
database's one write lock: at month-end (bench/bench_w7_monthend.py) a county's scorecard took
seconds inside an IMMEDIATE transaction, and every save, approval and login meanwhile waited,
then failed with "database is locked"."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from xinglin.evaluation import cache, engine
from xinglin.evaluation.engine import evaluate
from xinglin.evaluation.tests.conftest import visits


def _figures(evaluation) -> list[tuple]:
    return sorted((r.orgunit, r.indicator, r.value, r.status) for r in evaluation.results)


@pytest.mark.django_db(transaction=True)
def test_an_evaluation_reads_one_snapshot_and_leaves_the_write_lock_alone(write, monkeypatch):
    write(*visits("640323100001", 2024, 100, 30), *visits("640323101001", 2024, 100, 40))
    seen = {}
    sources = engine._sources  # runs inside the evaluation's transaction, after every read

    def watched(*args, **kwargs):
        seen["atomic"] = connection.in_atomic_block
        seen["open"] = connection.connection.in_transaction if _sqlite() else True
        return sources(*args, **kwargs)

    monkeypatch.setattr(engine, "_sources", watched)
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        evaluation = evaluate("demo-county-2022", "640323", "2024", backend="database")
    begun = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("BEGIN")]
    if _sqlite():
        # a reader's transaction: writers of other connections go on while it runs
        assert begun == ["BEGIN DEFERRED"]
        assert seen == {"atomic": False, "open": True}
        assert not connection.connection.in_transaction  # and it ended
    else:
        assert seen == {"atomic": True, "open": True}  # PostgreSQL: a plain transaction

    # the same figures as inside an atomic block (a caller's own transaction), where the
    # evaluation joins the caller's transaction on every backend
    cache.clear()
    with transaction.atomic():
        inside = evaluate("demo-county-2022", "640323", "2024", backend="database")
    assert _figures(inside) == _figures(evaluation)
    shares = {r.orgunit: r.value for r in evaluation.results
              if r.indicator == "grassroots.tcm_visit_share" and r.orgunit == "640323"}  # fmt: skip
    assert shares == {"640323": pytest.approx(70 / 200)}  # (30 + 40) / (100 + 100) each month


@pytest.mark.django_db(transaction=True)
def test_a_failed_evaluation_leaves_no_transaction_open(write, monkeypatch):
    write(*visits("640323100001", 2024, 100, 30))

    def broken(*args, **kwargs):
        raise RuntimeError("a statement failed")

    monkeypatch.setattr(engine, "_sources", broken)
    cache.clear()
    with pytest.raises(RuntimeError):
        evaluate("demo-county-2022", "640323", "2024", backend="database")
    assert not connection.in_atomic_block
    if _sqlite():
        assert not connection.connection.in_transaction


def _sqlite() -> bool:
    return connection.vendor == "sqlite"
