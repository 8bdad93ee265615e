"""The supervisor's review screen (issue 18.5): each value beside last period's and the same
period last year's, by name and in its unit; what changed since the form was returned is
marked in words, not by colour alone."""

from __future__ import annotations

import re

import pytest

from xinglin.collection.actions import return_submission, submit_form, write_rows
from xinglin.collection.models import Submission
from xinglin.collection.review import previous
from xinglin.collection.tests.conftest import HMC
from xinglin.lib import periods
from xinglin.network.models import OrgUnit
from xinglin.standards.models import DataElement

pytestmark = pytest.mark.usefixtures("county", "catalogue")


def _store(period: str, **values):
    unit = OrgUnit.objects.get(code=HMC)
    write_rows([(DataElement.objects.get(code=k), unit, period, v) for k, v in values.items()])


def _rows(html: str) -> dict[str, list[str]]:
    """The review table: element name -> the texts of its cells."""
    table = html[html.index('id="review"') : html.index("</table>", html.index('id="review"'))]
    found = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)[1:]:
        cells = [
            re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        found[cells[0]] = cells[1:]
    return found


def test_previous_periods():
    assert previous(periods.parse("202401")).code == "202312"
    assert previous(periods.parse("2024Q1")).code == "2023Q4"
    assert previous(periods.parse("2024")).code == "2023"


def test_the_review_shows_last_period_and_last_year_beside_this_one(client_for, carol, bob):
    _store("202401", total_visits=1200, tcm_visits=450)
    _store("202312", total_visits=1100, tcm_visits=400)
    _store("202301", total_visits=900)
    submit_form(OrgUnit.objects.get(code=HMC), "202401", user=carol)
    client = client_for(bob)
    client.cookies["django_language"] = "zh-hans"
    html = client.get(f"/collection/{HMC}/202401/").content.decode()
    rows = _rows(html)
    assert rows["总诊疗人次"][:3] == ["1200 人次", "1100 人次", "900 人次"]
    assert rows["中医诊疗人次"][:3] == ["450 人次", "400 人次", "—"]
    assert "total_visits" not in "".join(sum(rows.values(), []))  # names, not codes
    assert "changed since returned" not in html and "自退回后已修改" not in html


def test_percent_values_are_shown_as_percent(client_for, carol, bob):
    _store("2024", performance_score_tcm_share=0.175)
    _store("2023", performance_score_tcm_share=0.15)
    submit_form(OrgUnit.objects.get(code=HMC), "2024", user=carol)
    name = DataElement.objects.get(code="performance_score_tcm_share").name
    rows = _rows(client_for(bob).get(f"/collection/{HMC}/2024/").content.decode())
    assert rows[name][:3] == ["17.5%", "15%", "15%"]


def test_what_changed_since_the_form_was_returned_is_marked(client_for, carol, bob):
    unit = OrgUnit.objects.get(code=HMC)
    _store("202401", total_visits=1200, tcm_visits=450)
    submission = submit_form(unit, "202401", user=carol)
    return_submission(submission, user=bob, comment="中医诊疗人次请核实")
    clerk = client_for(carol)
    clerk.post(f"/collection/{HMC}/202401/value/tcm_visits/", {"tcm_visits": "420"})
    submit_form(unit, "202401", user=carol)
    client = client_for(bob)
    client.cookies["django_language"] = "en"
    html = client.get(f"/collection/{HMC}/202401/").content.decode()
    rows = _rows(html)
    tcm = DataElement.objects.get(code="tcm_visits")
    total = DataElement.objects.get(code="total_visits")
    assert "changed since returned" in rows[tcm.name][3]
    assert rows[total.name][3] == ""
    assert "1 value changed since the form was returned" in html
    assert re.search(r'<tr class="changed"><td>' + re.escape(tcm.name), html)


def test_only_a_supervisor_sees_the_review(client_for, carol):
    _store("202401", total_visits=1200, tcm_visits=450)
    submit_form(OrgUnit.objects.get(code=HMC), "202401", user=carol)
    assert Submission.objects.get().status == "submitted"
    assert 'id="review"' not in client_for(carol).get(f"/collection/{HMC}/202401/").content.decode()
