from __future__ import annotations

import pytest

from conftest import PASSWORD
from xinglin.plans.models import Evidence
from xinglin.plans.tests.conftest import pdf_bytes
from xinglin.web.tests.browser import browser_page, log_in

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_liaison_uploads_evidence_and_the_officer_accepts_it(
    live_server, plan, eve, alice, tmp_path
):
    task = plan.tasks.get(number="三(二)1")
    other = plan.tasks.get(number="三(一)2")
    document = tmp_path / "五进活动总结.pdf"
    document.write_bytes(pdf_bytes("five entries"))
    with browser_page() as page:
        log_in(page, live_server.url, "eve", PASSWORD)
        page.goto(f"{live_server.url}/plans/")
        page.click("a[href='/plans/departments/640323/education_sports/']")
        page.click(f"a[href='/plans/tasks/{task.pk}/']")
        page.set_input_files("#evidence-upload input[type=file]", str(document))
        page.fill("#evidence-upload input[name=description]", "2024年五进活动")
        page.click("#evidence-upload button")
        page.wait_for_url(f"{live_server.url}/plans/tasks/{task.pk}/")
        assert page.locator("#evidence table").inner_text().count("五进活动总结.pdf") == 1
        assert page.locator("form.review").count() == 0  # liaisons do not review
        response = page.goto(f"{live_server.url}/plans/tasks/{other.pk}/")
        assert response.status == 404
    evidence = Evidence.objects.get()
    assert (evidence.status, evidence.uploaded_by) == ("pending", eve)
    with browser_page() as page:
        log_in(page, live_server.url, "alice", PASSWORD)
        page.goto(f"{live_server.url}/plans/{plan.pk}/")
        page.wait_for_selector("#timeline canvas")
        page.goto(f"{live_server.url}/plans/tasks/{task.pk}/")
        page.fill("form.review input[name=comment]", "材料齐全")
        page.click("form.review button[value=accept]")
        page.wait_for_url(f"{live_server.url}/plans/tasks/{task.pk}/")
        assert "材料齐全" in page.locator("#evidence table").inner_text()
        page.screenshot(path=str(tmp_path / "task.png"))
    evidence.refresh_from_db()
    assert (evidence.status, evidence.reviewed_by, evidence.review_comment) == (
        "accepted",
        alice,
        "材料齐全",
    )
