"""Issue 20.7: a Content-Security-Policy (django-csp) on every page; the pages run no inline
handler and every inline script carries the request's nonce, so a real browser reports no
violation on the pages with charts, and printing and the language switch still work."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import PASSWORD
from xinglin.web.tests.browser import browser_page, log_in

TEMPLATES = Path(__file__).resolve().parents[2]


def test_every_page_sends_the_policy(alice, client_for):
    response = client_for(alice).get("/care/distribution/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy and "object-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", response.content.decode())
    inline = [s for s in scripts if "application/json" not in s]
    assert inline and all(f'nonce="{nonce}"' in s for s in inline)


def test_no_template_has_an_inline_handler_or_an_unmarked_script():
    found = []
    for template in TEMPLATES.glob("*/templates/**/*.html"):
        text = template.read_text()
        if re.search(r"\son[a-z]+=", text):
            found.append(f"{template}: inline handler")
        for attributes in re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", text):
            if "nonce=" not in attributes and "application/json" not in attributes:
                found.append(f"{template}: inline script without nonce")
    assert found == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_browser_reports_no_violation(live_server, alice):
    violations: list[str] = []
    with browser_page() as page:
        page.on("console", lambda m: violations.append(m.text)
                if "Content Security Policy" in m.text else None)  # fmt: skip
        log_in(page, live_server.url, "alice", PASSWORD)
        for path in ("/", "/care/distribution/", "/care/referrals/", "/care/form/",
                     "/evaluation/scorecard/"):  # fmt: skip
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
        page.goto(live_server.url + "/care/form/")
        printed = page.evaluate(
            "() => { let n = 0; window.print = () => { n += 1; };"
            " document.querySelector('[data-print]').click(); return n; }"
        )
        assert printed == 1
        page.select_option("select[name=language]", "en")
        page.wait_for_load_state("networkidle")
        assert page.locator("html").get_attribute("lang") == "en"
    assert violations == []
