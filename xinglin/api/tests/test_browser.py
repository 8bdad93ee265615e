from __future__ import annotations

import pytest

from conftest import PASSWORD
from xinglin.web.tests.browser import browser_page, log_in

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_a_clerk_creates_a_token_and_reads_the_docs_offline(live_server, carol):
    outside: list[str] = []
    with browser_page() as page:
        # Nothing may come from outside the server (no CDN): the docs work offline.
        page.route(
            "**/*",
            lambda route: (
                route.continue_()
                if route.request.url.startswith(live_server.url)
                else (outside.append(route.request.url), route.abort())
            ),
        )
        log_in(page, live_server.url, "carol", PASSWORD)
        page.goto(f"{live_server.url}/api/tokens/")
        page.fill("input[name=name]", "区域平台")
        page.click("button.button")
        token = page.locator("#new-token code").inner_text()
        assert token.startswith("xl_")
        page.goto(f"{live_server.url}/api/v1/docs")
        page.wait_for_selector(".opblock", timeout=15000)
        assert page.locator(".opblock").count() >= 20
        units = page.evaluate("fetch('/api/v1/orgunits').then(r => r.json())")
        assert [u["code"] for u in units["items"]] == ["640323100001"]
    assert outside == []
