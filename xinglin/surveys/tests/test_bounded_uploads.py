"""Issue 18.10 on the survey import: an upload past the limits is refused with a message
naming the file and the limit, and nothing is stored."""

from __future__ import annotations

import io

from xinglin.surveys.models import SurveyResponse
from xinglin.surveys.tests.conftest import workbook


def _post(client, instrument, content, name="wjx.xlsx"):
    upload = io.BytesIO(content)
    upload.name = name
    url = f"/surveys/{instrument.code}/import/"
    return client.post(url, {"period": "2025", "file": upload})


def test_an_oversize_file_is_refused(client_for, alice, satisfaction, settings, tmp_path):
    settings.UPLOAD_MAX_MB = 1
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    response = _post(client_for(alice), satisfaction, b"x" * (2**20 + 1), "问卷星.xlsx")
    assert response.status_code == 200
    assert [str(p) for p in response.context["problems"]] == [
        "问卷星.xlsx 超过 1 MB（上传上限）：请拆分为较小的文件"
    ]
    assert SurveyResponse.objects.count() == 0
    assert list(tmp_path.iterdir()) == []


def test_a_row_too_wide_is_refused(client_for, alice, satisfaction, settings):
    settings.UPLOAD_MAX_COLUMNS = 5
    response = _post(client_for(alice), satisfaction, workbook([list(range(6))]))
    assert [str(p) for p in response.context["problems"]] == [
        "wjx.xlsx 有一行超过 5 列（上传上限）"
    ]
