from __future__ import annotations

from datetime import date

import pytest

from conftest import PASSWORD
from xinglin.care.models import ConstitutionAssessment
from xinglin.care.tests.helpers import id_card
from xinglin.web.tests.browser import browser_page, log_in

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_a_clerk_enters_an_assessment_with_the_keyboard(live_server, carol):
    number = id_card(date(1952, 7, 8), 41)
    with browser_page(viewport={"width": 1024, "height": 768}) as page:  # a tablet
        log_in(page, live_server.url, "carol", PASSWORD)
        page.goto(f"{live_server.url}/care/assessments/new/")
        page.fill("input[name=id_number]", number)
        page.fill("input[name=height_cm]", "160")
        page.fill("input[name=weight_kg]", "70")
        # the browser fills item 9 from the BMI (27.3 -> 4) as the numbers are typed
        assert page.locator("input[name=q9][value='4']").is_checked()
        page.focus("input[name=q1][value='1']")
        page.keyboard.press("5")
        for _ in range(32):  # each digit answers the item and moves to the next one
            page.keyboard.press("1")
        page.keyboard.press("Space")  # focus is on the first guidance box: 情志调摄
        for _ in range(6):
            page.keyboard.press("Tab")
        page.keyboard.press("Enter")  # from the "other guidance" field: submit
        page.wait_for_url(f"{live_server.url}/care/assessments/*/")
        assert "平和质" in page.locator("#results").inner_text()
    a = ConstitutionAssessment.objects.get()
    # typing "1" on item 9 is overruled by the measurement on the server too
    assert a.answers == "5" + "1" * 7 + "4" + "1" * 24
    assert (a.balanced_result, a.guidance, a.is_complete) == ("yes", ["emotion"], True)
