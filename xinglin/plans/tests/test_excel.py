from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from xinglin.plans.actions import import_task_sheet
from xinglin.plans.excel import COLUMNS, export_plan
from xinglin.plans.models import Task, TaskStatus

TODAY = date(2026, 11, 22)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def _sheet(content: bytes):
    return load_workbook(io.BytesIO(content)).active


def _save(sheet) -> bytes:
    out = io.BytesIO()
    sheet.parent.save(out)
    return out.getvalue()


def _snapshot(plan):
    return [
        (
            t.number,
            t.title_zh,
            [d.code for d in t.lead.all()],
            [d.code for d in t.support.all()],
            t.deadline,
            t.status,
        )
        for t in plan.tasks.prefetch_related("lead", "support")
    ]


def test_export_has_the_task_assignment_columns(plan):
    sheet = _sheet(export_plan(plan, TODAY))
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == ["序号", "任务", "牵头单位", "配合单位", "完成时限", "状态"] == COLUMNS
    assert rows[1][:4] == (
        "三(一)1",
        "加强中医康复中心建设",
        "卫生健康行政部门（卫生健康委员会／卫生健康局）、残疾人联合会",
        "医疗保障部门（医疗保障局）、财政部门（财政局）、发展和改革部门（发展改革委）",
    )
    assert rows[1][4] == datetime(2025, 12, 31)
    assert rows[1][5] == "已逾期"
    assert len(rows) == 18


def test_round_trip_changes_nothing(plan):
    before = _snapshot(plan)
    result = import_task_sheet(plan, export_plan(plan, TODAY))
    assert (result.errors, result.created, result.updated) == ([], 0, 17)
    assert _snapshot(plan) == before


def test_import_applies_edits_with_aliases(plan, alice):
    sheet = _sheet(export_plan(plan, TODAY))
    sheet["C2"] = "卫健局、县残联"
    sheet["D2"] = "县教体局，医保局"
    sheet["E2"] = "2024年6月"
    sheet["F2"] = "已完成"
    sheet.append(["七(一)", "新增任务：建立康复联络员制度", "卫健", "", "2026-12-31", "未开始"])
    result = import_task_sheet(plan, _save(sheet), user=alice)
    assert (result.errors, result.created, result.updated) == ([], 1, 17)
    task = plan.tasks.get(number="三(一)1")
    assert [d.code for d in task.support.all()] == ["education_sports", "medical_insurance"]
    assert (task.deadline, task.status) == (date(2024, 6, 30), TaskStatus.DONE)
    assert task.updates.get().new_status == "done"
    added = plan.tasks.get(number="七(一)")
    assert (added.title_zh, added.deadline, added.position) == (
        "新增任务：建立康复联络员制度",
        date(2026, 12, 31),
        17,
    )


def test_import_is_all_or_nothing_with_row_and_column(plan):
    before = _snapshot(plan)
    sheet = _sheet(export_plan(plan, TODAY))
    sheet["F2"] = "已完成"  # a valid change that must not be applied
    sheet["C3"] = "魔法部"
    sheet["E4"] = "明年"
    sheet["F5"] = "差不多"
    sheet["A6"] = "三(一)1"
    result = import_task_sheet(plan, _save(sheet))
    assert result.errors == [
        "row 3, column 牵头单位: unknown department 魔法部",
        "row 4, column 完成时限: not a date: 明年 (use 2025-12-31)",
        "row 5, column 状态: unknown status 差不多 (use 未开始, 进行中, 已完成)",
        "row 6, column 序号: 三(一)1 repeats row 2",
    ]
    assert _snapshot(plan) == before
    assert Task.objects.count() == 17


def test_import_refuses_wrong_columns_and_non_excel(plan):
    sheet = _sheet(export_plan(plan, TODAY))
    sheet["B1"] = "内容"
    assert import_task_sheet(plan, _save(sheet)).errors == [
        "row 1: the columns must be 序号, 任务, 牵头单位, 配合单位, 完成时限, 状态"
    ]
    assert import_task_sheet(plan, b"not excel").errors == [
        "The file is not an Excel workbook (.xlsx)."
    ]


def test_import_page(plan, alice, client_for, settings):
    settings.LANGUAGE_CODE = "en"
    client = client_for(alice)
    content = client.get(reverse("plans:xlsx", args=[plan.pk])).content
    sheet = _sheet(content)
    sheet["C2"] = "魔法部"
    upload = SimpleUploadedFile("分工表.xlsx", _save(sheet))
    response = client.post(reverse("plans:import", args=[plan.pk]), {"file": upload})
    assert response.status_code == 200
    assert response.context["errors"] == ["row 2, column 牵头单位: unknown department 魔法部"]
    upload = SimpleUploadedFile("分工表.xlsx", content)
    response = client.post(reverse("plans:import", args=[plan.pk]), {"file": upload})
    assert response.status_code == 302
