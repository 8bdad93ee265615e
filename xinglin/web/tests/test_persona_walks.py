"""Issue 21: each persona's everyday task walked in a real browser (Chromium, SQLite), with no
internal code in the visible text of any page on the way.

- the officer finds the institutions that hold a figure back and opens one's value history;
- the supervisor approves from the queue on her home page;
- the city viewer compares counties;
- on a 390 px phone the header collapses to a menu and wide tables scroll inside their card.
The clerk entering and submitting a form is walked in collection/tests/test_browser.py."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from conftest import PASSWORD
from xinglin.collection.actions import save_form_values, submit_form
from xinglin.collection.models import Submission
from xinglin.network.models import OrgUnit
from xinglin.web.tests.browser import browser_page, log_in
from xinglin.web.tests.visible import internal_codes, visible_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCORECARD = "/evaluation/?pack=demo-county-2022&orgunit=640323&period=2025"


@pytest.fixture
def figures(county):
    from xinglin.documents.tests.conftest import figures_county as build

    return build.__wrapped__(county)


def _named(*users) -> list[str]:
    names = {
        "alice": ("王", "丽"),
        "bob": ("包", "博"),
        "carol": ("陈", "可"),
        "victor": ("魏", "韬"),
    }
    for user in users:
        user.last_name, user.first_name = names[user.username]
        user.save()
    return list(User.objects.values_list("username", flat=True))


def _clean(page, usernames) -> None:
    found = internal_codes(visible_text(page.content()), usernames)
    assert found == [], (page.url, found)


def test_the_officer_finds_who_holds_a_figure_back_and_opens_a_value_history(
    live_server, figures, alice
):
    usernames = _named(alice)
    with browser_page() as page:
        log_in(page, live_server.url, "alice", PASSWORD)
        page.goto(live_server.url + SCORECARD)
        _clean(page, usernames)
        # the default view is what needs attention: no met row is shown
        statuses = page.eval_on_selector_all(
            "#indicators tbody tr[data-status]", "rows => rows.map(r => r.dataset.status)"
        )
        assert statuses and "met" not in statuses
        page.click("#indicators a.short >> nth=0")  # one click: who falls short
        page.wait_for_selector("#failing")
        _clean(page, usernames)
        first = page.inner_text("#failing tbody tr >> nth=0")
        # its own value or the reason, in words
        assert "%" in first or "未填报" in first or "无数据" in first
        page.click("#failing a.history >> nth=0")
        page.wait_for_selector("#history")
        _clean(page, usernames)
        assert "修改记录" in page.inner_text("h1")  # the value history


def test_the_supervisor_approves_from_the_queue_on_her_home_page(live_server, figures, bob, carol):
    usernames = _named(bob, carol)
    unit = OrgUnit.objects.get(code="640323100001")
    save_form_values(unit, "2024", {"has_tcm_hall": "1"}, user=carol)
    submit_form(unit, "2024", user=carol)
    with browser_page() as page:
        log_in(page, live_server.url, "bob", PASSWORD)
        queue = page.wait_for_selector("#queue")
        _clean(page, usernames)
        assert "陈可" in queue.inner_text()  # the clerk by name
        page.click("#queue tbody a >> nth=0")
        page.wait_for_selector("#approve")
        _clean(page, usernames)
        page.check("#confirm-approve")  # approving asks for confirmation (issue 18.5)
        page.click("#approve")
        page.wait_for_load_state()
        assert Submission.objects.get(orgunit=unit, period="2024").status == "approved"


def test_the_city_viewer_compares_counties(live_server, figures, victor):
    usernames = _named(victor)
    with browser_page() as page:
        log_in(page, live_server.url, "victor", PASSWORD)
        page.goto(live_server.url + "/?year=2025")
        page.wait_for_selector("#league-chart canvas")
        _clean(page, usernames)
        assert "盐池县" in page.inner_text("#league table")


def test_on_a_phone_the_header_is_a_menu_and_tables_scroll_in_their_card(
    live_server, figures, alice
):
    _named(alice)
    with browser_page({"width": 390, "height": 844}) as page:
        log_in(page, live_server.url, "alice", PASSWORD)
        page.goto(live_server.url + SCORECARD + "&status=all")
        header = page.eval_on_selector(".topbar", "el => el.getBoundingClientRect().height")
        assert header < 70
        assert not page.is_visible(".mainnav")
        page.click(".menu-button")
        assert page.is_visible(".mainnav a >> nth=0")
        page_width = page.evaluate("document.documentElement.scrollWidth")
        assert page_width <= 390  # the wide table scrolls inside its card, not the page
