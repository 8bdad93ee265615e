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


def test_the_liaison_finds_their_task_and_uploads_a_year_s_evidence(
    live_server, county, tmp_path, settings
):
    """The department liaison: from the plans page to their task (searched in the task list,
    opened by its row), a real PDF uploaded for last year, then listed as awaiting review on
    the task and in the evidence list; no internal code on any page on the way."""
    from xinglin.plans.models import Evidence, IndicatorLink
    from xinglin.plans.tests.conftest import pdf_bytes

    settings.MEDIA_ROOT = tmp_path / "files"
    plan, eve = _rehab_plan_and_liaison()
    task = plan.tasks.get(number="三(二)1")  # led by education_sports, eve's bureau
    IndicatorLink.objects.create(
        task=task, pack="rehab-2021-2025", indicator="rehab.annual_summary"
    )
    usernames = list(User.objects.values_list("username", flat=True))
    document = tmp_path / "2024年康复服务覆盖情况.pdf"
    document.write_bytes(pdf_bytes("coverage 2024"))
    with browser_page() as page:
        log_in(page, live_server.url, "eve", PASSWORD)
        _clean(page, usernames)
        page.click(".mainnav a[href='/plans/']")
        _clean(page, usernames)
        page.click(f"a[href='/plans/{plan.pk}/']")
        page.click(f"a[href='/plans/{plan.pk}/tasks/']")
        page.fill("#task-filters input[name=q]", "覆盖面")
        page.click("#task-filters button")
        page.wait_for_url("**q=*")
        _clean(page, usernames)
        rows = page.locator("#task-list tbody tr.clickable")
        assert rows.count() == 1
        rows.first.locator("td >> nth=4").click()  # the row opens the task, not only its link
        page.wait_for_url(f"{live_server.url}/plans/tasks/{task.pk}/")
        _clean(page, usernames)
        form = page.locator("#evidence-upload")
        assert form.locator("input[name=year]").count() == 1  # the year the records cover
        form.locator("input[type=file]").set_input_files(str(document))
        form.locator("input[name=year]").fill("2024")
        form.locator("input[name=description]").fill("2024年度覆盖情况")
        form.locator("button").click()
        page.wait_for_url(f"{live_server.url}/plans/tasks/{task.pk}/")
        _clean(page, usernames)
        listed = page.inner_text("#evidence table")
        assert "2024年康复服务覆盖情况.pdf" in listed
        assert "2024年度" in listed and "待审核" in listed
        page.goto(f"{live_server.url}/plans/evidence/?status=pending")
        _clean(page, usernames)
        row = page.inner_text("#evidence-list tbody tr >> nth=0")
        assert "2024年康复服务覆盖情况.pdf" in row and "待审核" in row and "易文" in row
    evidence = Evidence.objects.get()
    assert (evidence.task, evidence.status, evidence.uploaded_by) == (task, "pending", eve)
    assert (evidence.period_start.isoformat(), evidence.period_end.isoformat()) == (
        "2024-01-01",
        "2024-12-31",
    )
    assert (settings.MEDIA_ROOT / evidence.file.name).read_bytes() == document.read_bytes()


def _rehab_plan_and_liaison():
    from datetime import date

    from xinglin.network.actions import create_user
    from xinglin.network.models import Role
    from xinglin.plans.actions import load_departments, load_plan
    from xinglin.plans.models import Plan
    from xinglin.plans.packs import PACKS_DIR, read_packs

    county = OrgUnit.objects.get(code="640323")
    load_departments()
    pack = next(p for p in read_packs(PACKS_DIR) if p.code == "rehab-2021-2025")
    plan = load_plan(pack, county).plan
    Plan.objects.filter(pk=plan.pk).update(end=date(2099, 12, 31))  # still running
    eve = create_user(
        "eve", PASSWORD, role=Role.DEPARTMENT_LIAISON, orgunit=county, department="education_sports"
    )
    eve.last_name, eve.first_name = "易", "文"
    eve.save()
    return plan, eve
