"""Issue 21.5: a large values.xlsx / values.json is made in the background by the documents'
jobs (kind "values"): same progress JSON and page, one job per user, cached per data
generation, named in Chinese; the file equals the immediate export; the cap still refuses;
small exports stay immediate."""

from __future__ import annotations

import io
import json
from urllib.parse import quote

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from xinglin.collection.testing import store_facts
from xinglin.documents import jobs
from xinglin.documents.models import DocumentJob, JobStatus
from xinglin.network.models import OrgUnit
from xinglin.standards.models import DataElement

SCOPE = {"orgunit": "640323", "period": "2025"}  # the figures county's yearly values: 5
NAME = "盐池县2025年数据"
STATUS_FIELDS = {"id", "status", "status_label", "step", "progress", "filename", "file_url",
                 "status_url"}  # fmt: skip


@pytest.fixture
def renders(monkeypatch):
    calls = []
    real = jobs._render

    def counting(job):
        calls.append(job.kind)
        return real(job)

    monkeypatch.setattr(jobs, "_render", counting)
    return calls


@pytest.fixture
def background(settings):
    settings.EXPORT_BACKGROUND_ROWS = 3


def _export(client, fmt, follow=True, scope=SCOPE, **headers):
    return client.get(f"/collection/export/values.{fmt}", scope, follow=follow, headers=headers)


def _sheet_rows(content: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))


def test_small_exports_stay_immediate(client_for, alice, figures_county, renders, settings):
    settings.EXPORT_BACKGROUND_ROWS = 5
    response = _export(client_for(alice), "xlsx", follow=False)
    assert response.status_code == 200 and renders == []
    assert not DocumentJob.objects.exists()
    assert len(_sheet_rows(response.content)) == 1 + 5


def test_a_large_xlsx_goes_through_a_job_and_equals_the_immediate_file(
    client_for, alice, figures_county, renders, settings
):
    client = client_for(alice)
    immediate = _sheet_rows(_export(client, "xlsx", follow=False).content)
    settings.EXPORT_BACKGROUND_ROWS = 3
    first = _export(client, "xlsx", follow=False)
    assert first.status_code == 302
    assert first["Location"].startswith(reverse("documents:values_export", args=["xlsx"]))
    response = _export(client, "xlsx")
    assert response.status_code == 200 and renders == ["values"]
    assert quote(f"{NAME}.xlsx") in response["Content-Disposition"]
    assert _sheet_rows(response.content) == immediate
    assert len(immediate) == 1 + 5
    job = DocumentJob.objects.get()
    assert (job.kind, job.period, job.status, job.filename) == (
        "values", "2025", JobStatus.DONE, f"{NAME}.xlsx")  # fmt: skip


def test_a_large_json_equals_the_immediate_one_and_is_cached_per_data_generation(
    client_for, alice, figures_county, renders, settings
):
    client = client_for(alice)
    immediate = _export(client, "json", follow=False).json()
    settings.EXPORT_BACKGROUND_ROWS = 3
    assert json.loads(_export(client, "json").content) == immediate
    assert json.loads(_export(client, "json").content) == immediate
    assert renders == ["values"]  # the second was the cached file
    element = DataElement.objects.get(code="rehab_beds")
    store_facts([(element, OrgUnit.objects.get(code="640323000001"), "2025", 50.0)])
    changed = json.loads(_export(client, "json").content)
    assert renders == ["values", "values"] and changed != immediate


def test_the_cache_is_per_user(client_for, alice, bob, figures_county, renders, settings):
    settings.EXPORT_BACKGROUND_ROWS = 1  # bob's scope holds 2 of the 5
    whole = _export(client_for(alice), "json", scope={"period": "2025"}).json()["dataValues"]
    narrower = _export(client_for(bob), "json", scope={"period": "2025"}).json()["dataValues"]
    assert len(renders) == 2
    assert {v["orgUnit"] for v in narrower} < {v["orgUnit"] for v in whole}


def test_one_job_per_user_and_the_status_json(client_for, alice, figures_county, background,
                                              settings):  # fmt: skip
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    settings.DOCUMENT_WAIT_SECONDS = 0
    client = client_for(alice)
    first = _export(client, "xlsx", Accept="application/json")
    assert first.status_code == 202
    status = first.json()
    assert set(status) == STATUS_FIELDS
    job = DocumentJob.objects.get()
    assert status == {
        "id": job.pk, "status": "queued", "status_label": "排队中", "step": "等待空闲的生成器",
        "progress": 0, "filename": f"{NAME}.xlsx", "file_url": None,
        "status_url": reverse("documents:job_status", args=[job.pk]),
    }  # fmt: skip
    again = _export(client, "xlsx", Accept="application/json")
    assert again.status_code == 202 and again.json()["id"] == job.pk
    other = _export(client, "json", Accept="application/json")
    assert other.status_code == 409 and other.json()["id"] == job.pk
    assert DocumentJob.objects.count() == 1
    page = client.get(reverse("documents:job", args=[job.pk]))
    assert page.status_code == 200 and f"{NAME}.xlsx" in page.content.decode()
    assert "正在生成导出文件" in page.content.decode()  # an export, not "the document"
    assert "正在生成文件" not in page.content.decode()


def test_the_cap_still_refuses(client_for, alice, figures_county, background, settings):
    settings.EXPORT_MAX_ROWS = 4
    client = client_for(alice)
    for url in ("/collection/export/values.xlsx", reverse("documents:values_export",
                                                          args=["xlsx"])):  # fmt: skip
        response = client.get(url, SCOPE)
        assert response.status_code == 413 and "values.csv" in response.content.decode()
    assert not DocumentJob.objects.exists()


def test_a_failed_export_offers_to_try_again(client_for, alice, figures_county, background,
                                             monkeypatch):  # fmt: skip
    def broken(job):
        raise RuntimeError("disk full")

    monkeypatch.setattr(jobs, "_render_values", broken)
    client = client_for(alice)
    response = _export(client, "xlsx")
    job = DocumentJob.objects.get()
    assert job.status == JobStatus.FAILED and response.status_code == 200
    page = response.content.decode()
    again = reverse("documents:values_export", args=["xlsx"]) + "?orgunit=640323&amp;period=2025"
    assert again in page and "disk full" not in page
