"""The progress of a document in the browser (issue 21.5): a bar and the step in words while
the job waits and runs, then the file saved under its Chinese name."""

from __future__ import annotations

import time

import pytest

from conftest import PASSWORD
from xinglin.documents import jobs
from xinglin.documents.models import DocumentJob
from xinglin.web.tests.browser import browser_page, log_in

pytestmark = pytest.mark.browser


def _job(timeout: float = 20.0) -> DocumentJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = DocumentJob.objects.first()
        if job is not None:
            return job
        time.sleep(0.1)
    raise AssertionError("no job was started")


@pytest.mark.django_db(transaction=True)
def test_the_download_shows_progress_then_saves_the_file(live_server, alice, figures_county,
                                                        settings):  # fmt: skip
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    with browser_page() as page:
        log_in(page, live_server.url, "alice", PASSWORD)
        page.goto(f"{live_server.url}/documents/?orgunit=640323&year=2025")
        link = page.locator("a.download[href$='/640323/2025/annual.docx']")
        with page.expect_download(timeout=60_000) as download:
            link.click()
            # waiting, in words, beside the bar (written by the page's first poll)
            status = page.locator("progress + .job-text", has_text="排队中")
            status.wait_for(timeout=30_000)
            jobs.generate_document.call(_job().pk)  # what the pool's worker does
        assert download.value.suggested_filename == "盐池县2025年度中医药工作总结.docx"
        assert page.locator("progress").count() == 0  # the bar is gone once saved
        page.goto(f"{live_server.url}/documents/jobs/{_job().pk}/")
        ready = page.locator(".job-ready a")
        ready.wait_for()
        assert "盐池县2025年度中医药工作总结.docx" in ready.inner_text()
        assert page.locator("progress").get_attribute("value") == "100"
