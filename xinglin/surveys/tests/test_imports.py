from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import load_workbook

from xinglin.surveys.imports import question_header
from xinglin.surveys.models import SurveyResponse
from xinglin.surveys.tests.conftest import workbook

HEADERS_LEAD = ["序号", "提交答卷时间", "所用时间", "来源", "来自IP", "单位代码"]


def _headers(instrument):
    return HEADERS_LEAD + [question_header(n, q) for n, q in enumerate(instrument.questions, 1)]


def _row(serial, overall="满意", unit="640323100", services="针刺┋拔罐"):
    return [
        serial,
        "2025/9/3 10:15:00",
        "120秒",
        "手机提交",
        "1.2.3.4",
        unit,
        "女",
        "65岁及以上",
        "是",
        services,
        "满意",
        "2",
        "C",
        "满意",
        overall,
    ]


def _post(client, instrument, content, period="2025"):
    upload = io.BytesIO(content)
    upload.name = "wjx.xlsx"
    return client.post(f"/surveys/{instrument.code}/import/", {"period": period, "file": upload})


def test_template_has_the_wjx_columns(client_for, alice, satisfaction):
    response = client_for(alice).get("/surveys/resident_satisfaction/import/template.xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert headers[:4] == ["序号", "提交答卷时间", "单位代码", "1、您的性别"]
    assert headers[-1] == "9、总体而言，您对本地中医药服务是否满意？"


def test_a_wjx_export_imports_with_texts_numbers_letters_and_separators(
    client_for, alice, satisfaction
):
    content = workbook(
        [
            _headers(satisfaction),
            _row(1),
            _row(2, "一般", "640323101001"),
            _row(3, "比较满意", services=""),
        ]
    )
    response = _post(client_for(alice), satisfaction, content)
    assert response.status_code == 302
    rows = list(
        SurveyResponse.objects.order_by("serial").values_list(
            "serial", "orgunit__code", "is_positive", "channel"
        )
    )
    assert rows == [
        ("1", "640323100", True, "import"),
        ("2", "640323101001", False, "import"),
        ("3", "640323100", True, "import"),
    ]
    first = SurveyResponse.objects.get(serial="1")
    assert first.answers["services"] == ["针刺", "拔罐"]
    assert (first.answers["effect"], first.answers["cost"]) == ("比较满意", "一般")
    assert first.submitted_at == datetime(2025, 9, 3, 2, 15, tzinfo=first.submitted_at.tzinfo)
    assert "services" not in SurveyResponse.objects.get(serial="3").answers


def test_one_bad_cell_imports_nothing_and_names_row_and_column(client_for, alice, satisfaction):
    bad = _row(2, overall="很满意")
    content = workbook([_headers(satisfaction), _row(1), bad, _row(3, unit="999999")])
    response = _post(client_for(alice), satisfaction, content)
    assert response.status_code == 200
    problems = [str(p) for p in response.context["problems"]]
    assert problems == [
        (
            "第 3 行, 列 O「9、总体而言，您对本地中医药服务是否满意？」: "
            "“很满意”不是可选项（满意 / 比较满意 / 一般 / 不太满意 / 不满意）"
        ),
        "第 4 行, 列 F「单位代码」: 您的范围内没有组织单元 999999",
    ]
    assert SurveyResponse.objects.count() == 0


def test_missing_and_unknown_columns_are_named(client_for, alice, satisfaction):
    headers = _headers(satisfaction)
    headers[-1] = "9、您喜欢中医吗"
    response = _post(client_for(alice), satisfaction, workbook([headers, _row(1)]))
    problems = [(p.row, p.column) for p in response.context["problems"]]
    assert problems == [
        (None, "O「9、您喜欢中医吗」"),
        (None, "9、总体而言，您对本地中医药服务是否满意？"),
    ]
    assert SurveyResponse.objects.count() == 0


def test_the_same_file_twice_is_refused(client_for, alice, satisfaction):
    content = workbook([_headers(satisfaction), _row(1), _row(2)])
    client = client_for(alice)
    _post(client, satisfaction, content)
    response = _post(client, satisfaction, content)
    assert [p.row for p in response.context["problems"]] == [2, 3]
    assert SurveyResponse.objects.count() == 2


def test_a_duplicate_serial_in_one_file_is_refused(client_for, alice, satisfaction):
    response = _post(
        client_for(alice), satisfaction, workbook([_headers(satisfaction), _row(1), _row(1)])
    )
    assert [(p.row, p.column) for p in response.context["problems"]] == [(3, "A「序号」")]
    assert SurveyResponse.objects.count() == 0


def test_a_supervisor_cannot_import_another_township(client_for, bob, satisfaction):
    content = workbook([_headers(satisfaction), _row(1), _row(2, unit="640323101")])
    response = _post(client_for(bob), satisfaction, content)
    assert [(p.row, p.column) for p in response.context["problems"]] == [(3, "F「单位代码」")]
    assert SurveyResponse.objects.count() == 0


@pytest.mark.parametrize("content", [b"not excel", b""])
def test_a_file_that_is_not_excel_is_refused(client_for, alice, satisfaction, content):
    response = _post(client_for(alice), satisfaction, content)
    assert response.status_code == 200
    assert SurveyResponse.objects.count() == 0


def test_a_viewer_cannot_import(client_for, victor, satisfaction):
    content = workbook([_headers(satisfaction), _row(1)])
    assert _post(client_for(victor), satisfaction, content).status_code == 404
    assert SurveyResponse.objects.count() == 0
