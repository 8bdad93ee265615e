from __future__ import annotations

import pytest

from conftest import PASSWORD
from xinglin.network.models import OrgUnit
from xinglin.web.tests.browser import browser_page, log_in

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_supervisor_browses_edits_and_is_refused_another_township(live_server, bob, tmp_path):
    with browser_page() as page:
        log_in(page, live_server.url, "bob", PASSWORD)
        page.click("text=服务网络")
        page.wait_for_url(f"{live_server.url}/network/640323100/")
        assert page.locator("h1").inner_text().startswith("花马池镇")
        page.click("table.children >> text=花马池镇卫生院")
        page.click("text=编辑")
        page.fill("input[name=phone]", "0953-6012345")
        page.fill("input[name=address]", "盐池县花马池镇")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/network/640323100001/")
        assert "已保存" in page.content()
        page.screenshot(path=str(tmp_path / "institution.png"))
        response = page.goto(f"{live_server.url}/network/640323101001/")
        assert response.status == 404
        response = page.goto(f"{live_server.url}/network/640323101001/edit/")
        assert response.status == 404
    unit = OrgUnit.objects.get(code="640323100001")
    assert (unit.phone, unit.address) == ("0953-6012345", "盐池县花马池镇")
    assert OrgUnit.objects.get(code="640323101001").phone == ""
