"""A clerk fills a form, meets an error, fixes it and submits; the supervisor returns it once,
then approves; the values are then locked for the clerk."""

from __future__ import annotations

import pytest

from conftest import PASSWORD
from xinglin.collection.models import DataValue, Submission
from xinglin.collection.tests.conftest import HMC
from xinglin.web.tests.browser import browser_page, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _type(page, element: str, value: str) -> None:
    page.fill(f"#in-{element}", value)
    page.press(f"#in-{element}", "Tab")


def _switch(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    log_in(page, base, username, PASSWORD)


def test_clerk_submits_supervisor_returns_then_approves(live_server, catalogue, carol, bob):
    form = f"{live_server.url}/collection/{HMC}/202401/"
    with browser_page() as page:
        log_in(page, live_server.url, "carol", PASSWORD)
        page.goto(form)
        _type(page, "total_visits", "100")
        page.wait_for_selector("#field-total_visits .saved")
        _type(page, "tcm_visits", "150")
        error = page.wait_for_selector("#field-tcm_visits .error")
        assert "中医诊疗人次不能多于总诊疗人次" in error.inner_text()
        assert page.input_value("#in-tcm_visits") == "150"  # what was typed is kept
        _type(page, "tcm_visits", "40")
        page.wait_for_selector("#field-tcm_visits .saved")
        page.click("#submit-form")
        page.wait_for_load_state()
        assert Submission.objects.get().status == "submitted"

        _switch(page, live_server.url, "bob")
        page.goto(form)
        page.fill("#return-comment", "请核实中医诊疗人次")
        page.click("#return")
        page.wait_for_selector("#returned-comment")
        assert Submission.objects.get().status == "returned"

        _switch(page, live_server.url, "carol")
        page.goto(form)
        assert "请核实中医诊疗人次" in page.inner_text("#returned-comment")
        _type(page, "tcm_visits", "45")
        page.wait_for_selector("#field-tcm_visits .saved")
        page.click("#submit-form")
        page.wait_for_load_state()

        _switch(page, live_server.url, "bob")
        page.goto(form)
        page.check("#confirm-approve")
        page.click("#approve")
        page.wait_for_selector(".locked")
        assert Submission.objects.get().status == "approved"

        _switch(page, live_server.url, "carol")
        page.goto(form)
        assert page.is_disabled("#in-tcm_visits")
        assert page.query_selector("#submit-form") is None
        status = page.evaluate(
            """async () => (await fetch(location.pathname + 'value/tcm_visits/', {method: 'POST',
                headers: {'X-CSRFToken': document.querySelector('[name=csrfmiddlewaretoken]').value,
                          'Content-Type': 'application/x-www-form-urlencoded'},
                body: 'tcm_visits=50'})).status"""
        )
        assert status == 403
    values = dict(DataValue.objects.values_list("element__code", "value"))
    assert values == {"total_visits": 100.0, "tcm_visits": 45.0}


def test_a_conflict_shows_both_values_and_the_clerk_keeps_hers(live_server, catalogue, carol):
    """No lost update in a real browser: the clerk's form is open when someone else stores
    a value; her change of it is refused with both values, and "Keep mine" stores hers."""
    from xinglin.collection.actions import write
    from xinglin.collection.batch import Candidate

    write([Candidate(HMC, "202401", "total_visits", "1000")], user=None, channel="system")
    form = f"{live_server.url}/collection/{HMC}/202401/"
    with browser_page() as page:
        log_in(page, live_server.url, "carol", PASSWORD)
        page.goto(form)
        write([Candidate(HMC, "202401", "total_visits", "1100")], user=None, channel="system")
        _type(page, "total_visits", "1200")
        conflict = page.wait_for_selector("#conflict-total_visits")
        assert "1100" in conflict.inner_text() and "1200" in conflict.inner_text()
        assert DataValue.objects.get(element__code="total_visits").value == 1100
        page.click("#conflict-total_visits .keep-mine")
        page.wait_for_selector("#field-total_visits .saved")
        assert DataValue.objects.get(element__code="total_visits").value == 1200
        page.click("#field-total_visits details.comment summary")
        page.fill("#comment-total_visits", "含外出义诊")
        with page.expect_response(lambda r: "/value/total_visits/" in r.url):
            page.press("#comment-total_visits", "Tab")
    row = DataValue.objects.get(element__code="total_visits")
    assert (row.value, row.comment) == (1200, "含外出义诊")
