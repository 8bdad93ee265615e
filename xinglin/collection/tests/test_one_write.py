"""Issue 18.1: one guarded write. The check and the store are one transaction under the org
unit's writer lock, which approvals take too, so no value lands in a form approved between
them; nothing outside collection reaches a private name of it."""

from __future__ import annotations

import ast
import threading
import time
from pathlib import Path

import pytest
from django.db import connection, connections

from xinglin.collection import actions, validation
from xinglin.collection.actions import (
    WorkflowError,
    approve_submission,
    get_submission,
    submit_form,
    write,
)
from xinglin.collection.batch import Candidate
from xinglin.collection.models import Channel, DataValue, Submission
from xinglin.network.models import OrgUnit
from xinglin.standards.catalogue import sync_catalogue

HMC = "640323100001"  # 花马池镇卫生院
ROOT = Path(__file__).resolve().parents[2]  # the xinglin package


def _value(element: str = "total_visits") -> float:
    return DataValue.objects.get(orgunit__code=HMC, period="202501", element__code=element).value


def _candidate(value: str) -> list[Candidate]:
    return [Candidate(HMC, "202501", "total_visits", value)]


def _filled(value: str) -> list[Candidate]:
    """The monthly form's required values (a form is submitted with them)."""
    return [*_candidate(value), Candidate(HMC, "202501", "tcm_visits", "2")]


@pytest.mark.django_db(transaction=True)
def test_the_check_runs_inside_the_transaction_that_stores(county, carol, monkeypatch):
    """On SQLite (IMMEDIATE transactions) the write lock is taken when the transaction
    begins: the approval lock is read inside the same transaction that stores, so no other
    connection can approve in between. Shown on every backend: check and store see the same
    outermost atomic block, opened by `write` itself."""
    sync_catalogue()
    seen = []
    check, store = validation.check, actions._store_values

    def watched_check(*args, **kwargs):
        seen.append(("check", connection.in_atomic_block, id(connection.atomic_blocks[0])))
        return check(*args, **kwargs)

    def watched_store(*args, **kwargs):
        seen.append(("store", connection.in_atomic_block, id(connection.atomic_blocks[0])))
        return store(*args, **kwargs)

    monkeypatch.setattr(validation, "check", watched_check)
    monkeypatch.setattr(actions, "_store_values", watched_store)
    assert not connection.in_atomic_block
    write(_candidate("6"), user=carol, channel=Channel.WEB)
    assert [s[0] for s in seen] == ["check", "store"]
    assert all(s[1] for s in seen) and seen[0][2] == seen[1][2]
    assert _value() == 6


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="two connections writing at once need PostgreSQL; on SQLite the test above shows "
    "the check inside the write transaction (make test runs both backends)",
)
def test_an_approval_between_check_and_store_is_refused(county, alice, carol, monkeypatch):
    """The race of issue 18 (rehab_beds 6 → 13 after approval): the clerk's write is held
    between its check and its store while the supervisor approves. The approval waits for
    the write's lock, then finds the values changed since it looked and is refused."""
    sync_catalogue()
    unit = OrgUnit.objects.get(code=HMC)
    write(_filled("6"), user=carol, channel=Channel.WEB)
    submit_form(unit, "202501", user=carol)
    seen = get_submission(unit, "202501")  # what the supervisor's page showed
    checked = threading.Event()
    store = actions._store_values

    def held_store(*args, **kwargs):
        checked.set()
        time.sleep(1.0)  # the approval runs now (and, with the lock, waits)
        return store(*args, **kwargs)

    monkeypatch.setattr(actions, "_store_values", held_store)
    outcome: dict[str, object] = {}

    def clerk() -> None:
        try:
            outcome["write"] = write(_candidate("13"), user=carol, channel=Channel.WEB)
        finally:
            connections.close_all()

    def supervisor() -> None:
        try:
            assert checked.wait(30)
            approve_submission(seen, user=alice)
            outcome["approval"] = "approved"
        except WorkflowError as error:
            outcome["approval"] = str(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=clerk), threading.Thread(target=supervisor)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert outcome["write"].written
    assert _value() == 13
    assert outcome["approval"] != "approved"
    assert Submission.objects.get(orgunit=unit, period="202501").status == "submitted"


def test_a_write_into_an_approved_form_is_refused_and_writes_nothing(county, alice, carol):
    sync_catalogue()
    unit = OrgUnit.objects.get(code=HMC)
    write(_filled("6"), user=carol, channel=Channel.WEB)
    submit_form(unit, "202501", user=carol)
    approve_submission(get_submission(unit, "202501"), user=alice)
    result = write(_candidate("13"), user=carol, channel=Channel.IMPORT)
    assert not result.written and result.errors
    assert "approved" in result.errors[0].message or "审核" in result.errors[0].message
    assert _value() == 6


def test_all_or_nothing_unless_partial(county, carol):
    sync_catalogue()
    both = [*_candidate("6"), Candidate(HMC, "202501", "tcm_visits", "-1")]
    refused = write(both, user=carol, channel=Channel.API)
    assert not refused.written and len(refused.errors) == 1
    assert not DataValue.objects.exists()
    partial = write(both, user=carol, channel=Channel.WEB, partial=True)
    assert partial.written and partial.stored == {(HMC, "202501", "total_visits")}
    assert _value() == 6


def test_a_dry_run_checks_everything_and_writes_nothing(county, carol):
    sync_catalogue()
    result = write(_candidate("6"), user=carol, channel=Channel.API, dry_run=True)
    assert (result.added, result.written, result.errors) == (1, False, [])
    assert not DataValue.objects.exists()


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names]
    return found


def test_nothing_outside_collection_imports_a_private_name_of_it():
    offenders = []
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith("collection/"):
            continue
        is_test = "/tests/" in relative
        for module, names in _imports(path):
            if not module.startswith("xinglin.collection"):
                continue
            private = [n for n in names if n.startswith("_")]
            if private or any(part.startswith("_") for part in module.split(".")):
                offenders.append(f"{relative}: {module} {private}")
            if module == "xinglin.collection.testing" and not is_test:
                offenders.append(f"{relative}: test support in application code")
    assert offenders == []
