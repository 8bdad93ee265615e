"""The TCM clinics and practitioners register (seeds/004 六(十八): 中医诊所备案管理追踪和中医(专长)
医师注册): import, scope, privacy of practitioners' names, and the yearly figures the engine
receives. seeds/004 sets no number and no "all filed" rule, so no pack judges these figures."""

from __future__ import annotations

import pytest

from xinglin.evaluation.models import DerivedValue
from xinglin.registers.models import ClinicFiling, FilingStatus, RecordChange
from xinglin.registers.registry import REGISTERS
from xinglin.registers.tests.conftest import upload

HEADER = "所在地,备案类别,诊所或医师名称,申请日期,办理状态,办结日期\n"
ROWS = (
    "640323100,中医诊所备案,盐池县仁和中医诊所,2023-11-20,已备案,2024-01-10\n"
    "640323100001,中医（专长）医师注册,王某某,2024-02-01,已注册,2024-03-01\n"
    "大水坑镇卫生院,clinic,大水坑百草堂中医诊所,2024-05-06,refused,2024-05-20\n"
    "640323101,中医诊所备案,花马池中医诊所,2024-09-01,受理中,\n"
)


def _import(client, text, name="clinics.csv"):
    return client.post("/registers/clinics/import/", {"file": upload(name, text)})


def _derived(year):
    return {
        d.element.code: d.value
        for d in DerivedValue.objects.filter(
            source="registers.clinics", period=year
        ).select_related("element", "orgunit")
        if d.orgunit.code == "640323"
    }


def _independent(year):
    """The same figures counted from the records one by one."""
    records = list(ClinicFiling.objects.all())
    done = {FilingStatus.FILED, FilingStatus.REGISTERED}
    received = sum(r.filed_on.year == year for r in records)
    completed = sum(r.decided_on is not None and r.decided_on.year == year and r.status in done
                    for r in records)  # fmt: skip
    return {"clinic_filings_received": float(received),
            "clinic_filings_completed": float(completed)}  # fmt: skip


@pytest.mark.django_db
def test_an_import_adds_every_row_and_feeds_the_countys_yearly_figures(
    catalogue, alice, client_for
):
    assert REGISTERS["clinics"].personal == ("name",)
    response = _import(client_for(alice), HEADER + ROWS)
    assert response.status_code == 302
    assert ClinicFiling.objects.count() == 4
    assert RecordChange.objects.filter(register="clinics", action="created").count() == 4
    # 2024: three received (one filed in 2023); two completed (the 2023 clinic, the practitioner)
    assert _derived("2024") == _independent(2024)
    assert _independent(2024) == {"clinic_filings_received": 3.0, "clinic_filings_completed": 2.0}
    assert _derived("2023") == {"clinic_filings_received": 1.0}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("row", "error"),
    [
        ("640323100,中医诊所备案,某诊所,2024-02-01,已注册,2024-03-01", "办理状态："),
        ("640323100,中医诊所备案,某诊所,2024-02-01,已备案,", "办结日期："),
        ("640323100,中医诊所备案,某诊所,2024-02-01,受理中,2024-03-01", "办结日期："),
        ("640323100,中医诊所备案,某诊所,2024-02-01,已备案,2024-01-01", "办结日期："),
    ],
)
def test_a_bad_row_adds_nothing_and_names_file_row_and_column(
    catalogue, alice, client_for, row, error
):
    response = _import(client_for(alice), HEADER + ROWS + row + "\n", "备案.csv")
    assert response.status_code == 200
    assert ClinicFiling.objects.count() == 0
    errors = response.context["errors"]
    assert len(errors) == 1 and errors[0].startswith(f"备案.csv，第 6 行，{error}")


@pytest.mark.django_db
def test_another_county_cannot_record_here_and_names_are_masked_for_a_supervisor(
    catalogue, alice, bob, zed, victor, client_for
):
    _import(client_for(alice), HEADER + ROWS)
    response = _import(client_for(zed), HEADER + ROWS)
    assert ClinicFiling.objects.count() == 4 and len(response.context["errors"]) == 4
    assert client_for(zed).get("/registers/clinics/").context["page"].paginator.count == 0
    record = ClinicFiling.objects.get(name="王某某")
    page = client_for(bob).get(f"/registers/clinics/{record.pk}/").content.decode()
    assert "王*" in page and "王某某" not in page
    assert client_for(victor).get("/registers/clinics/").status_code == 403


@pytest.mark.django_db
def test_the_json_export_imports_back_through_the_api_and_a_supervisor_exports_none(
    catalogue, alice, bob, client_for
):
    client = client_for(alice)
    _import(client, HEADER + ROWS)
    items = client.get("/registers/clinics.json").json()["items"]
    assert client.get("/api/v1/registers/clinics").json()["count"] == len(items) == 4
    ClinicFiling.objects.all().delete()
    response = client.post("/api/v1/registers/clinics", {"items": items},
                           content_type="application/json")  # fmt: skip
    assert response.status_code == 200, response.json()
    assert response.json() == {"added": 4}
    assert client.get("/registers/clinics.json").json()["items"] == items
    assert _derived("2024") == _independent(2024)
    # last (the test client becomes bob's): a supervisor without the export right downloads none
    assert client_for(bob).get("/registers/clinics.json").json()["items"] == []
