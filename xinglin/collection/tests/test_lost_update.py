"""No lost update (issue 18.2, decision 0007): a form writes only what its user changed, each
field carrying the version its user saw; a value stored by someone else since is refused with
both values shown, and the user chooses. `xinglin import --if-unchanged-since` refuses rows
whose stored value changed after a time. Two logged-in sessions on one form."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from xinglin.collection import audit, guards
from xinglin.collection.actions import write, write_rows
from xinglin.collection.batch import Candidate
from xinglin.collection.models import AuditEntry, DataValue
from xinglin.collection.tests.conftest import HMC
from xinglin.network.actions import create_user
from xinglin.network.models import OrgUnit, Role
from xinglin.standards.models import DataElement

pytestmark = pytest.mark.usefixtures("county", "catalogue")
FORM = f"/collection/{HMC}/202401/"


def _value(element: str) -> float | None:
    row = DataValue.objects.filter(orgunit__code=HMC, period="202401", element__code=element)
    found = row.first()
    return found.value if found else None


def _store(**values):
    unit = OrgUnit.objects.get(code=HMC)
    write_rows([(DataElement.objects.get(code=k), unit, "202401", v) for k, v in values.items()])


@pytest.fixture
def erin(county):
    """A second clerk of 花马池镇卫生院 (carol is the first)."""
    user = create_user("erin", "pw-erin-123456", role=Role.INSTITUTION_CLERK,
                       orgunit=OrgUnit.objects.get(code=HMC))  # fmt: skip
    user.first_name, user.last_name = "琳", "王"
    user.save()
    return user


def _session(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def _form(page) -> dict[str, str]:
    """The fields a browser would post back from the entry form as the page shows it."""
    html = page.content.decode()
    form = html[
        html.index('id="entry-form"') : html.index("</form>", html.index('id="entry-form"'))
    ]
    fields = {}
    for tag in re.findall(r"<input [^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or 'type="checkbox"' in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        fields[name.group(1)] = value.group(1) if value else ""
    for name, body in re.findall(r'<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        fields[name] = chosen.group(1) if chosen else ""
    return fields


def test_save_all_writes_only_the_fields_the_user_changed(carol, erin):
    """The issue's case: a clerk saves tcm_visits=888; another user, the form open from
    before, saves another field with "save all": tcm_visits stays 888."""
    _store(total_visits=1000, tcm_visits=777)
    clerk, other = _session(carol), _session(erin)
    mine, theirs = _form(clerk.get(FORM)), _form(other.get(FORM))
    assert theirs["tcm_visits"] == "777" and theirs["was_tcm_visits"] == "777"
    mine["tcm_visits"] = "888"
    assert clerk.post(FORM, mine).status_code == 302
    theirs["total_visits"] = "1200"
    assert other.post(FORM, theirs).status_code == 302
    assert (_value("tcm_visits"), _value("total_visits")) == (888, 1200)
    changes = AuditEntry.objects.filter(orgunit__code=HMC, old_value__isnull=False)
    assert sorted((e.element.code, e.old_value, e.new_value, e.user.username) for e in changes) == [
        ("tcm_visits", 777, 888, "carol"),
        ("total_visits", 1000, 1200, "erin"),
    ]


def test_a_field_stored_by_someone_else_since_is_refused_with_both_values(carol, erin):
    _store(total_visits=1000, tcm_visits=777)
    clerk, other = _session(carol), _session(erin)
    mine, theirs = _form(clerk.get(FORM)), _form(other.get(FORM))
    mine["tcm_visits"] = "888"
    clerk.post(FORM, mine)
    theirs["tcm_visits"], theirs["total_visits"] = "999", "1100"
    page = other.post(FORM, theirs)
    assert page.status_code == 200  # shown again: nothing of erin's tcm_visits was written
    html = page.content.decode()
    conflict = html[html.index('id="conflict-tcm_visits"') :]
    assert "888" in conflict[: conflict.index("</div>")]  # the stored value
    assert "999" in conflict[: conflict.index("</div>")]  # hers
    assert "Keep mine" in conflict and "Take the stored value" in conflict
    assert "carol" in html  # who stored it (no name on carol's account: her username)
    assert _value("tcm_visits") == 888
    assert _value("total_visits") == 1100  # the other changed field was saved
    # She keeps hers: the page she got back carries the stored value's version now.
    again = _form(page)
    assert again["tcm_visits"] == "999" and again["was_tcm_visits"] == "888"
    assert other.post(FORM, again).status_code == 302
    assert _value("tcm_visits") == 999
    history = [(e.old_value, e.new_value) for e in audit.history(
        OrgUnit.objects.get(code=HMC), DataElement.objects.get(code="tcm_visits"), "202401")]  # fmt: skip
    assert history == [(888, 999), (777, 888), (None, 777)]


def test_the_field_save_offers_keep_mine_or_take_the_stored_value(carol, erin):
    _store(total_visits=1000, tcm_visits=777)
    clerk, other = _session(carol), _session(erin)
    mine, theirs = _form(clerk.get(FORM)), _form(other.get(FORM))
    url = f"{FORM}value/tcm_visits/"
    clerk.post(url, {**mine, "tcm_visits": "888"})
    refused = other.post(url, {**theirs, "tcm_visits": "999"}).content.decode()
    assert 'id="conflict-tcm_visits"' in refused and _value("tcm_visits") == 888
    version = re.search(r'name="version_tcm_visits" value="([^"]*)"', refused).group(1)
    assert version == guards.version_of(DataValue.objects.get(element__code="tcm_visits"))
    taken = other.post(url, {**theirs, "tcm_visits": "999", "take": "1"}).content.decode()
    assert 'value="888"' in taken and "conflict" not in taken and _value("tcm_visits") == 888
    kept = other.post(url, {**theirs, "tcm_visits": "999", "version_tcm_visits": version})
    assert "✓" in kept.content.decode() and _value("tcm_visits") == 999


def test_a_value_removed_since_is_a_conflict_too(carol):
    _store(total_visits=1000, tcm_visits=777)
    seen = guards.version_of(DataValue.objects.get(element__code="tcm_visits"))
    write([Candidate(HMC, "202401", "tcm_visits", "", delete=True)], user=None, channel="system")
    result = write(
        [Candidate(HMC, "202401", "tcm_visits", "500", expected=seen)], user=carol, channel="web"
    )
    [problem] = result.errors
    assert problem.is_conflict and "删除了此数值" in problem.message  # in the user's language
    assert _value("tcm_visits") is None and not result.written


def test_a_value_that_did_not_exist_when_seen_and_exists_now_is_refused(carol, erin):
    write([Candidate(HMC, "202401", "total_visits", "900")], user=erin, channel="web")
    result = write(
        [Candidate(HMC, "202401", "total_visits", "950", expected="")], user=carol, channel="web"
    )
    [problem] = result.errors
    assert problem.is_conflict and problem.conflict.value == 900 and "900" in problem.message
    assert _value("total_visits") == 900


def test_the_version_moves_on_with_every_store_and_not_otherwise(carol):
    _store(total_visits=1000)
    first = guards.version_of(DataValue.objects.get(element__code="total_visits"))
    write([Candidate(HMC, "202401", "total_visits", "1000", expected=first)], user=carol,
          channel="web")  # fmt: skip
    assert guards.version_of(DataValue.objects.get(element__code="total_visits")) == first
    write([Candidate(HMC, "202401", "total_visits", "1001", expected=first)], user=carol,
          channel="web")  # fmt: skip
    second = guards.version_of(DataValue.objects.get(element__code="total_visits"))
    assert second != first and _value("total_visits") == 1001


# ----------------------------------------------------------------------------- the CLI
def test_import_if_unchanged_since_refuses_rows_changed_after_that_time(csv_file, run_import, erin):
    _store(total_visits=1000, tcm_visits=300)
    since = timezone.now()
    write([Candidate(HMC, "202401", "tcm_visits", "350")], user=erin, channel="web")
    path = csv_file([f"{HMC},202401,total_visits,1100", f"{HMC},202401,tcm_visits,400"])
    code, _out, err = run_import(path, "--if-unchanged-since", since.isoformat())
    assert code == 2
    # the row and field, the newer value and its author (by name, in either language's order)
    assert "row 3" in err and "value" in err and "350" in err
    assert "王" in err and "琳" in err and "erin" not in err
    assert "rejected, nothing was written" in err
    assert (_value("total_visits"), _value("tcm_visits")) == (1000, 350)  # all or nothing
    later = (timezone.now() + timedelta(seconds=1)).isoformat()
    code, out, _err = run_import(path, "--if-unchanged-since", later)
    assert code == 0 and "2 changed" in out
    assert (_value("total_visits"), _value("tcm_visits")) == (1100, 400)


def test_import_if_unchanged_since_names_a_removal(csv_file, run_import):
    _store(tcm_visits=300)
    since = timezone.now()
    write([Candidate(HMC, "202401", "tcm_visits", "", delete=True)], user=None, channel="system")
    code, _out, err = run_import(
        csv_file([f"{HMC},202401,tcm_visits,400"]), "--if-unchanged-since", since.isoformat()
    )
    assert code == 2 and "已删除" in err and _value("tcm_visits") is None  # "removed"


def test_import_if_unchanged_since_takes_an_iso_date_time_only(csv_file, run_import):
    from django.core.management.base import CommandError

    path = csv_file([f"{HMC},202401,total_visits,1100"])
    with pytest.raises((CommandError, SystemExit)):
        run_import(path, "--if-unchanged-since", "yesterday")
    assert _value("total_visits") is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="two connections writing at once need PostgreSQL (SQLite admits one writer: its "
    "IMMEDIATE transaction is the lock)",
)
def test_two_saves_of_one_version_at_once_store_one_and_refuse_the_other(
    county, catalogue, carol, erin, monkeypatch
):
    """The version check runs under the writer lock, in the transaction that stores: the
    first save is held between its check and its store; the second, carrying the same
    version, waits for the lock, then finds the value moved on and is refused."""
    from xinglin.collection import actions

    _store(total_visits=1000)
    seen = guards.version_of(DataValue.objects.get(element__code="total_visits"))
    checked = threading.Event()
    store = actions._store_values

    def held_store(*args, **kwargs):
        checked.set()
        time.sleep(1.0)  # the other save runs now (and, with the lock, waits)
        return store(*args, **kwargs)

    monkeypatch.setattr(actions, "_store_values", held_store)
    outcome: dict[str, object] = {}

    def save(name: str, user, value: str, wait: bool) -> None:
        try:
            if wait:
                assert checked.wait(30)
            candidate = Candidate(HMC, "202401", "total_visits", value, expected=seen)
            outcome[name] = write([candidate], user=user, channel="web")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=save, args=("first", carol, "1100", False)),
        threading.Thread(target=save, args=("second", erin, "1200", True)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert outcome["first"].written and not outcome["second"].written
    [problem] = outcome["second"].errors
    assert problem.is_conflict and "1100" in problem.message
    assert _value("total_visits") == 1100
