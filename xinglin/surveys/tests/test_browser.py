from __future__ import annotations

import pytest

from conftest import PASSWORD
from xinglin.surveys.models import SurveyResponse
from xinglin.surveys.tests.conftest import satisfied_answers
from xinglin.web.tests.browser import browser_page, log_in

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.mark.django_db(transaction=True)
def test_an_interviewer_fills_a_questionnaire_on_a_phone(live_server, bob, satisfaction, tmp_path):
    with browser_page(viewport=PHONE) as page:
        log_in(page, live_server.url, "bob", PASSWORD)
        page.goto(f"{live_server.url}/surveys/resident_satisfaction/respond/?year=2025")
        # One column: the questionnaire never scrolls sideways on a phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        for qid, answer in satisfied_answers("比较满意").items():
            for value in answer if isinstance(answer, list) else [answer]:
                page.locator(f"#q_{qid} input[value='{value}']").check()
        box = page.locator("#q_overall input[value='比较满意']").bounding_box()
        assert box["width"] >= 18
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/surveys/resident_satisfaction/respond/?year=2025*")
        assert "已保存。请填写下一份。" in page.content()
        page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
    saved = SurveyResponse.objects.get()
    assert (saved.orgunit.code, saved.period, saved.is_positive) == ("640323100", "2025", True)
    assert saved.answers["services"] == ["针刺", "拔罐"]
