from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from xinglin.plans import files
from xinglin.plans.actions import (
    evidence_status,
    evidence_statuses,
    review_evidence,
    upload_evidence,
)
from xinglin.plans.files import EvidenceFileError, check_file, sanitise_name
from xinglin.plans.models import Evidence
from xinglin.plans.tests.conftest import pdf_bytes, png_bytes

TASK = "三(二)1"  # led by education_sports (eve)


def _upload(client, task, name, content, content_type="application/octet-stream"):
    upload = SimpleUploadedFile(name, content, content_type=content_type)
    return client.post(reverse("plans:task_evidence", args=[task.pk]), {"file": upload})


def _xlsx() -> bytes:
    out = io.BytesIO()
    Workbook().save(out)
    return out.getvalue()


def test_liaison_uploads_and_downloads_a_pdf(plan, eve, client_for, settings):
    task = plan.tasks.get(number=TASK)
    content = pdf_bytes()
    client = client_for(eve)
    response = _upload(client, task, "培训通知.pdf", content, "application/pdf")
    assert response.status_code == 302
    evidence = Evidence.objects.get()
    assert (evidence.name, evidence.size, evidence.status, evidence.task) == (
        "培训通知.pdf",
        len(content),
        "pending",
        task,
    )
    stored = settings.MEDIA_ROOT / evidence.file.name
    assert stored.read_bytes() == content
    assert "培训通知" not in evidence.file.name  # stored under a random name
    response = client.get(reverse("plans:evidence_download", args=[evidence.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    response.close()
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("virus.exe", b"MZ\x90\x00" + b"\x00" * 100, "Only PDF, PNG, JPEG"),
        ("fake.pdf", b"<html><script>alert(1)</script></html>", "Only PDF, PNG, JPEG"),
        ("image.png", b"%PDF-1.4 not really a png", "content is PDF but its name ends in .png"),
        ("empty.pdf", b"", "The submitted file is empty."),
        ("archive.docx", b"PK\x03\x04 broken zip", "Only PDF, PNG, JPEG"),
    ],
)
def test_wrong_types_are_refused_and_nothing_is_stored(
    plan, eve, client_for, settings, name, content, message
):
    settings.LANGUAGE_CODE = "en"
    response = _upload(client_for(eve), plan.tasks.get(number=TASK), name, content)
    assert response.status_code == 302
    assert Evidence.objects.count() == 0
    assert not (settings.MEDIA_ROOT / "evidence").exists() or not any(
        p.is_file() for p in (settings.MEDIA_ROOT / "evidence").rglob("*")
    )
    followed = client_for(eve).get(response["Location"])
    assert any(message in str(m) for m in followed.context["messages"])


def test_too_large_files_are_refused(plan, eve, client_for, monkeypatch, settings):
    settings.LANGUAGE_CODE = "en"
    monkeypatch.setattr(files, "MAX_EVIDENCE_BYTES", 1000)
    monkeypatch.setattr("xinglin.plans.forms.MAX_EVIDENCE_BYTES", 1000)
    response = _upload(
        client_for(eve), plan.tasks.get(number=TASK), "big.pdf", b"%PDF-" + b"0" * 2000
    )
    assert response.status_code == 302
    assert Evidence.objects.count() == 0
    with pytest.raises(EvidenceFileError, match="larger than"):
        check_file("big.pdf", b"%PDF-" + b"0" * 2000)


def test_the_real_limit_is_20_mb():
    assert files.MAX_EVIDENCE_BYTES == 20 * 1024 * 1024


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\system32\\a.pdf", "a.pdf"),
        ("/var/www/static/x.png", "x.png"),
        ("..", "evidence"),
        ("a\x00b\nc.pdf", "abc.pdf"),
        ("会议纪要 (2023).pdf", "会议纪要 (2023).pdf"),
        ("<script>.pdf", "_script_.pdf"),
    ],
)
def test_file_names_are_sanitised(raw, clean):
    assert sanitise_name(raw) == clean


def test_path_traversal_upload_stays_inside_media(plan, eve, client_for, settings):
    _upload(client_for(eve), plan.tasks.get(number=TASK), "../../../outside.pdf", pdf_bytes())
    evidence = Evidence.objects.get()
    assert evidence.name == "outside.pdf"
    path = (settings.MEDIA_ROOT / evidence.file.name).resolve()
    assert path.is_relative_to((settings.MEDIA_ROOT / "evidence").resolve())
    assert not (settings.MEDIA_ROOT.parent / "outside.pdf").exists()


def test_office_and_image_types_are_recognised_by_content():
    assert check_file("photo.png", png_bytes()).kind == "png"
    assert check_file("表.xlsx", _xlsx()).kind == "xlsx"
    assert check_file("photo.jpeg", b"\xff\xd8\xff\xe0" + b"0" * 50).name == "photo.jpeg".replace(
        "jpeg", "jpg"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("word/document.xml", "<w/>")
    assert check_file("纪要", out.getvalue()).name == "纪要.docx"


def test_evidence_status_rules(plan, alice):
    county, pack = plan.orgunit, "rehab-2021-2025"
    task = plan.tasks.get(number="三(二)3")  # linked to rehab.quality_control_centre
    assert evidence_status(county, pack, "rehab.quality_control_centre") == "awaiting_evidence"
    first = upload_evidence(
        orgunit=county, task=task, name="a.pdf", content=pdf_bytes(), user=alice
    )
    assert evidence_status("640323", pack, "rehab.quality_control_centre") == "awaiting_evidence"
    review_evidence(first, user=alice, accept=False, comment="缺少盖章")
    assert evidence_status(county, pack, "rehab.quality_control_centre") == "not_met"
    second = upload_evidence(
        orgunit=county,
        pack=pack,
        indicator="rehab.quality_control_centre",
        name="b.pdf",
        content=pdf_bytes(),
        user=alice,
    )
    assert evidence_status(county, pack, "rehab.quality_control_centre") == "awaiting_evidence"
    review_evidence(second, user=alice, accept=True)
    assert evidence_statuses(
        county, pack, ["rehab.quality_control_centre", "rehab.plan_issued"]
    ) == {
        "rehab.quality_control_centre": "met",
        "rehab.plan_issued": "awaiting_evidence",
    }
    assert evidence_status("640323100", pack, "rehab.quality_control_centre") == "awaiting_evidence"


def test_rejecting_needs_a_reason(plan, alice, client_for):
    evidence = upload_evidence(
        orgunit=plan.orgunit,
        task=plan.tasks.get(number=TASK),
        name="a.pdf",
        content=pdf_bytes(),
        user=alice,
    )
    client_for(alice).post(
        reverse("plans:evidence_review", args=[evidence.pk]), {"decision": "reject"}
    )
    evidence.refresh_from_db()
    assert evidence.status == "pending"
    client_for(alice).post(
        reverse("plans:evidence_review", args=[evidence.pk]),
        {"decision": "reject", "comment": "不是本年度材料"},
    )
    evidence.refresh_from_db()
    assert (evidence.status, evidence.review_comment, evidence.reviewed_by) == (
        "rejected",
        "不是本年度材料",
        alice,
    )


def test_evidence_item_page_and_direct_upload(plan, alice, eve, client_for):
    client = client_for(alice)
    url = reverse("plans:items", args=["640323", "rehab-2021-2025"])
    response = client.get(url)
    assert response.status_code == 200
    ids = [row[0].id for row in response.context["rows"]]
    assert ids[:3] == [
        "rehab.plan_issued",
        "rehab.county_rehab_centre",
        "rehab.disability_rehab_centre",
    ]
    upload = SimpleUploadedFile("方案.pdf", pdf_bytes())
    client.post(
        reverse("plans:item_upload", args=["640323", "rehab-2021-2025", "rehab.plan_issued"]),
        {"file": upload},
    )
    evidence = Evidence.objects.get()
    assert (evidence.pack, evidence.indicator, evidence.task) == (
        "rehab-2021-2025",
        "rehab.plan_issued",
        None,
    )
    # a liaison may not read indicator evidence of the county, nor upload to items
    assert (
        client_for(eve).get(reverse("plans:evidence_download", args=[evidence.pk])).status_code
        == 404
    )
    assert client_for(eve).get(url).status_code == 404


def test_viewer_of_the_region_may_download(plan, alice, victor, client_for):
    evidence = upload_evidence(
        orgunit=plan.orgunit,
        task=plan.tasks.get(number=TASK),
        name="a.pdf",
        content=pdf_bytes(),
        user=alice,
    )
    response = client_for(victor).get(reverse("plans:evidence_download", args=[evidence.pk]))
    assert response.status_code == 200
    response.close()


def test_no_static_url_for_evidence(plan, alice):
    evidence = upload_evidence(
        orgunit=plan.orgunit,
        task=plan.tasks.get(number=TASK),
        name="a.pdf",
        content=pdf_bytes(),
        user=alice,
    )
    with pytest.raises(ValueError):
        evidence.file.url  # noqa: B018
