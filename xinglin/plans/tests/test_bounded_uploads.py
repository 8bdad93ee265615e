"""Issue 18.10 on the plan import and evidence uploads: an upload past the limits is refused
with a message naming the file and the limit, and nothing is written."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from xinglin.plans.models import Evidence

TASK = "三(二)1"  # led by education_sports (eve)


def test_the_plan_import_refuses_an_oversize_file(plan, alice, client_for, settings, tmp_path):
    settings.UPLOAD_MAX_MB = 1
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    before = list(plan.tasks.values_list("number", "lead", "deadline"))
    upload = SimpleUploadedFile("分工表.xlsx", b"x" * (2**20 + 1))
    response = client_for(alice).post(reverse("plans:import", args=[plan.pk]), {"file": upload})
    assert response.status_code == 200
    assert response.context["errors"] == ["分工表.xlsx 超过 1 MB（上传上限）：请拆分为较小的文件"]
    assert list(plan.tasks.values_list("number", "lead", "deadline")) == before
    assert list(tmp_path.iterdir()) == []


def test_the_plan_import_refuses_too_many_rows(plan, alice, client_for, settings):
    settings.UPLOAD_MAX_ROWS = 5
    book = Workbook()
    for number in range(6):
        book.active.append([number])
    out = io.BytesIO()
    book.save(out)
    upload = SimpleUploadedFile("分工表.xlsx", out.getvalue())
    response = client_for(alice).post(reverse("plans:import", args=[plan.pk]), {"file": upload})
    assert response.context["errors"] == ["分工表.xlsx 超过 5 行（上传上限）：请拆分"]


def test_an_evidence_file_past_its_limit_is_refused(plan, eve, client_for, settings, tmp_path):
    settings.UPLOAD_MAX_MB = 1
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    task = plan.tasks.get(number=TASK)
    upload = SimpleUploadedFile("通知.pdf", b"%PDF-1.4\n" + b"x" * 2**20, "application/pdf")
    response = client_for(eve).post(
        reverse("plans:task_evidence", args=[task.pk]), {"file": upload}, follow=True
    )
    assert "通知.pdf 超过 1 MB（上传上限）" in response.content.decode()
    assert not Evidence.objects.exists()
    assert list(tmp_path.iterdir()) == []
