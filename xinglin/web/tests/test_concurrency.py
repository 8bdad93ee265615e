"""Concurrency on PostgreSQL: 50 clerks saving values at once, two supervisors approving the
same form at once. Threads, each with its own database connection (transaction=True)."""

from __future__ import annotations

import contextlib
import threading
from collections import defaultdict

import pytest
from django.db import connection, connections

from xinglin.collection import audit
from xinglin.collection.actions import (
    WorkflowError,
    approve_submission,
    get_submission,
    submit_form,
    write_rows,
)
from xinglin.collection.models import DataValue, Submission, SubmissionEvent
from xinglin.network.models import OrgUnit
from xinglin.standards.catalogue import sync_catalogue
from xinglin.standards.models import DataElement

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises all writers with one database lock, so there is no race to "
        "test; the suite also runs on PostgreSQL (make test), where these run",
    ),
]
CLERKS = 50
UNITS = ["640323100001", "640323100101", "640323100102"]
MONTHS = ["202501", "202502"]


def _in_threads(work, count: int) -> list[BaseException]:
    """Run work(i) in `count` threads started together; return what they raised."""
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(i: int) -> None:
        try:
            start.wait()
            work(i)
        except BaseException as error:  # noqa: BLE001 - collected and asserted by the test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung (deadlock?)"
    return errors


@pytest.mark.parametrize("first", ["existing", "new"])
def test_fifty_clerks_saving_at_once_lose_no_update(county, carol, first):
    sync_catalogue()
    element = DataElement.objects.get(code="total_visits")
    units = {code: OrgUnit.objects.get(code=code) for code in UNITS}
    if first == "existing":
        write_rows([(element, units[c], m, 1) for c in UNITS for m in MONTHS])

    def save(i: int) -> None:
        # Every clerk writes every cell (with their own figure): the most contention there is.
        # As the system: the cells span three institutions, beyond one clerk's scope.
        rows = [(element, units[c], m, 1000 + i) for c in UNITS for m in MONTHS]
        write_rows(rows)

    assert _in_threads(save, CLERKS) == []
    values = {
        (v.orgunit.code, v.period): v.value for v in DataValue.objects.select_related("orgunit")
    }
    assert len(values) == len(UNITS) * len(MONTHS)
    chains = defaultdict(list)
    codes = {unit.pk: code for code, unit in units.items()}
    for entry in audit.trail():
        chains[(codes[entry.orgunit_id], entry.period)].append(entry)
    for cell, entries in chains.items():
        # Each change starts from the value the previous one left: none was overwritten unseen.
        assert entries[0].old_value is None and entries[0].new_value == (
            1 if first == "existing" else entries[0].new_value
        )
        for before, after in zip(entries, entries[1:], strict=False):
            assert after.old_value == before.new_value, cell
        assert entries[-1].new_value == values[cell]


def test_two_supervisors_approving_at_once_approve_once(county, alice, bob, carol):
    sync_catalogue()
    unit = OrgUnit.objects.get(code="640323100001")
    visits = DataElement.objects.filter(code__in=["total_visits", "tcm_visits"])
    write_rows([(element, unit, "202501", 10) for element in visits])  # required values
    submit_form(unit, "202501", user=carol)
    supervisors = [alice, bob]

    def approve(i: int) -> None:
        submission = get_submission(unit, "202501")
        # the other one was first: refused with the workflow's own error
        with contextlib.suppress(WorkflowError):
            approve_submission(submission, user=supervisors[i])

    assert _in_threads(approve, 2) == []
    submission = Submission.objects.get(orgunit=unit, period="202501")
    assert submission.status == "approved"
    assert SubmissionEvent.objects.filter(submission=submission, action="approve").count() == 1


def test_an_approval_of_data_changed_since_the_supervisor_looked_is_refused(county, bob, carol):
    sync_catalogue()
    element = DataElement.objects.get(code="total_visits")
    unit = OrgUnit.objects.get(code="640323100001")
    tcm = DataElement.objects.get(code="tcm_visits")
    write_rows([(element, unit, "202501", 100), (tcm, unit, "202501", 10)], user=carol)
    submit_form(unit, "202501", user=carol)
    seen = get_submission(unit, "202501")  # what bob's page showed
    write_rows([(element, unit, "202501", 999)], user=carol)  # changed after he looked
    with pytest.raises(WorkflowError):
        approve_submission(seen, user=bob)
