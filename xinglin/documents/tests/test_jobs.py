"""Documents in the background, bounded and cached (issues 20.7 and 21.5): one generation per
user at a time, files kept per data generation, progress as JSON, the file named in Chinese."""

from __future__ import annotations

import threading
import time
from urllib.parse import quote

import pytest
from django.db import OperationalError
from django.urls import reverse

from xinglin.collection.testing import store_facts
from xinglin.documents import jobs, pool
from xinglin.documents.models import DocumentJob, JobStatus, Narrative
from xinglin.evaluation import cache
from xinglin.network.models import OrgUnit
from xinglin.standards.models import DataElement

ANNUAL_DOCX = ("640323", 2025, "annual", "docx")
NAME = "盐池县2025年度中医药工作总结.docx"


@pytest.fixture
def renders(monkeypatch):
    """Counts the documents actually generated (cache hits generate none)."""
    calls = []
    real = jobs._render

    def counting(job):
        calls.append(job.pk)
        return real(job)

    monkeypatch.setattr(jobs, "_render", counting)
    return calls


@pytest.fixture
def queued_only(settings):
    """Jobs are enqueued and stay queued (django-tasks' dummy backend): the pool is busy."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    settings.DOCUMENT_WAIT_SECONDS = 0


def _download(client, args=ANNUAL_DOCX, **headers):
    return client.get(reverse("documents:download", args=list(args)), headers=headers)


def test_unchanged_data_is_served_from_the_cache_and_a_new_value_invalidates_it(
    client_for, alice, figures_county, renders
):
    client = client_for(alice)
    first = _download(client)
    assert first.status_code == 200 and len(renders) == 1
    second = _download(client)
    assert second.status_code == 200 and len(renders) == 1  # no second generation
    assert second.content == first.content
    assert quote(NAME) in second["Content-Disposition"]

    element = DataElement.objects.get(code="rehab_beds")
    store_facts([(element, OrgUnit.objects.get(code="640323000001"), "2025", 50.0)])
    third = _download(client)
    assert third.status_code == 200 and len(renders) == 2


def test_an_edited_narrative_invalidates_the_cached_document(
    client_for, alice, figures_county, renders
):
    client = client_for(alice)
    _download(client)
    Narrative.objects.create(orgunit=figures_county, year=2025, kind="annual",
                             section="work_done", text="全县开展义诊36场。")  # fmt: skip
    response = _download(client)
    assert len(renders) == 2
    import io

    from docx import Document

    text = "\n".join(p.text for p in Document(io.BytesIO(response.content)).paragraphs)
    assert "全县开展义诊36场。" in text


def test_the_command_line_shares_the_cache(alice, figures_county, renders):
    from xinglin.documents.actions import render_document

    # the first read of the generation installs the triggers of tables migrated after it
    # (documents' own) and answers None: nothing is cached until they are in place
    jobs.cache_key("annual", figures_county, 2025, "docx")
    client_bytes = render_document("annual", figures_county, 2025, "docx")
    assert render_document("annual", figures_county, 2025, "docx") == client_bytes
    key = jobs.cache_key("annual", figures_county, 2025, "docx")
    assert jobs.cached_file(key, "docx").read_bytes() == client_bytes


def test_a_second_request_for_the_same_file_joins_the_first(client_for, alice, county, queued_only):
    client = client_for(alice)
    first = _download(client)
    job = DocumentJob.objects.get()
    assert first.status_code == 302 and first["Location"] == reverse("documents:job", args=[job.pk])
    second = _download(client, Accept="application/json")
    assert second.status_code == 202
    assert second.json()["id"] == job.pk
    assert DocumentJob.objects.count() == 1


def test_a_request_for_another_file_waits_for_the_users_first(
    client_for, alice, county, queued_only
):
    client = client_for(alice)
    _download(client)
    other = _download(client, ("640323", 2025, "annual", "pdf"), Accept="application/json")
    assert other.status_code == 409
    assert NAME in other.json()["message"]
    assert DocumentJob.objects.count() == 1


def test_progress_json_then_the_file_named_in_chinese(
    client_for, alice, figures_county, queued_only
):
    client = client_for(alice)
    _download(client)
    job = DocumentJob.objects.get()
    status = client.get(reverse("documents:job_status", args=[job.pk])).json()
    assert status == {
        "id": job.pk, "status": "queued", "status_label": "排队中", "step": "等待空闲的生成器",
        "progress": 0, "filename": NAME, "file_url": None,
        "status_url": reverse("documents:job_status", args=[job.pk]),
    }  # fmt: skip
    page = client.get(reverse("documents:job", args=[job.pk])).content.decode()
    assert "<progress" in page and "排队中" in page and NAME in page

    jobs.generate_document.call(job.pk)  # what the pool's worker does
    status = client.get(reverse("documents:job_status", args=[job.pk])).json()
    assert (status["status"], status["progress"]) == ("done", 100)
    assert status["file_url"] == reverse("documents:job_file", args=[job.pk])
    response = client.get(status["file_url"])
    assert response.status_code == 200
    assert quote(NAME) in response["Content-Disposition"]
    assert response.content[:2] == b"PK"  # a docx is a zip
    # the next request of unchanged data takes the kept file at once
    assert _download(client).status_code == 200


def test_a_users_job_is_not_anyone_elses(client_for, alice, victor, county, queued_only):
    _download(client_for(alice))
    job = DocumentJob.objects.get()
    client = client_for(victor)
    for name in ("documents:job", "documents:job_status", "documents:job_file"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404


def test_a_job_left_by_a_stopped_server_does_not_block_its_user(
    client_for, alice, county, queued_only, settings
):
    client = client_for(alice)
    _download(client)
    DocumentJob.objects.update(created_at="2020-01-01T00:00:00Z")
    other = _download(client, ("640323", 2025, "annual", "pdf"), Accept="application/json")
    assert other.status_code == 202
    assert list(DocumentJob.objects.order_by("pk").values_list("status", flat=True)) == [
        JobStatus.FAILED,
        JobStatus.QUEUED,
    ]


@pytest.mark.django_db(transaction=True)
def test_two_parallel_requests_of_one_user_make_one_generation(county, alice, queued_only):
    barrier, found, errors = threading.Barrier(2), [], []
    unit = OrgUnit.objects.get(code="640323")

    def request():
        from django.db import connection

        try:
            barrier.wait()
            for _attempt in range(50):
                try:
                    job = jobs.start_or_join(alice, "annual", unit, 2025, "docx", NAME)
                    break
                except OperationalError as error:
                    # the test database is SQLite's shared in-memory cache, whose table locks
                    # do not wait (a file database waits on its busy timeout): try again
                    if "locked" not in str(error):
                        raise
                    time.sleep(0.05)
            found.append(job.pk)
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert DocumentJob.objects.count() == 1
    assert found == [DocumentJob.objects.get().pk] * 2


@pytest.mark.django_db(transaction=True)
def test_the_pool_runs_queued_jobs_in_the_background(county, alice, settings, figures_county):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    # one thread, and the test waits on the file, not the database: the test database is
    # SQLite's shared in-memory cache, whose table locks do not wait for each other
    settings.DOCUMENT_WORKERS = 1
    unit = OrgUnit.objects.get(code="640323")
    job = jobs.start_or_join(alice, "annual", unit, 2025, "xlsx", "x.xlsx")
    try:
        assert pool._handle is not None  # this process took the lock and runs the pool
        assert len(pool._threads) == 1
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not jobs.job_file(job).is_file():
            time.sleep(0.2)
        time.sleep(0.5)  # the job's last write follows its file
    finally:
        pool.stop()
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    assert (job.progress, jobs.job_file(job).read_bytes()[:2]) == (100, b"PK")


def test_a_job_of_a_unit_no_longer_in_scope_is_not_served(client_for, bob, county, queued_only):
    from xinglin.network.models import Membership

    client = client_for(bob)
    _download(client, ("640323100", 2025, "annual", "docx"))
    job = DocumentJob.objects.get()
    assert client.get(reverse("documents:job_status", args=[job.pk])).status_code == 200
    Membership.objects.filter(user=bob).delete()
    assert client.get(reverse("documents:job_status", args=[job.pk])).status_code == 404


def test_a_document_built_on_a_lagging_warehouse_copy_is_not_kept(
    client_for, alice, figures_county, monkeypatch
):
    """Figures read from a warehouse copy behind the database (the evaluation calls
    cache.dont_keep, decision 0014) make a document that is served once and not cached: the
    next request renders it again, from the caught-up copy."""
    calls = []
    real = jobs._render

    def lagging(job):
        calls.append(job.pk)
        content = real(job)
        if len(calls) == 1:
            cache.dont_keep()  # as engine._evaluate does on a copy that lags
        return content

    monkeypatch.setattr(jobs, "_render", lagging)
    client = client_for(alice)
    assert _download(client).status_code == 200 and len(calls) == 1
    assert _download(client).status_code == 200 and len(calls) == 2  # rendered again
    assert _download(client).status_code == 200 and len(calls) == 2  # now kept
