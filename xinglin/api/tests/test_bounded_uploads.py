"""Issue 18.10 on the API's bodies (dataValueSets, ADX): a body past the limits is refused
(422) with a message naming it and the limit, and nothing is written."""

from __future__ import annotations

import json

import pytest

from xinglin.api.tests.conftest import snapshot


@pytest.mark.parametrize(
    ("url", "content_type"),
    [("/api/v1/dataValueSets", "application/json"), ("/api/v1/adx", "application/adx+xml")],
)
def test_a_body_past_the_byte_limit_is_refused(
    client, carol, stored, bearer, settings, url, content_type
):
    settings.UPLOAD_MAX_MB = 1
    before = snapshot()
    body = b" " * (2**20 + 1)
    response = client.post(url, body, content_type=content_type, **bearer(carol))
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == (
        "请求正文 超过 1 MB（上传上限）：请拆分为较小的文件"
    )
    assert snapshot() == before


def test_more_values_than_the_row_limit_are_refused(client, carol, stored, bearer, settings):
    settings.UPLOAD_MAX_ROWS = 1
    before = snapshot()
    values = [
        {"dataElement": "total_visits", "period": "202401", "orgUnit": "640323100001", "value": n}
        for n in ("1", "2")
    ]
    response = client.post(
        "/api/v1/dataValueSets", json.dumps({"dataValues": values}),
        content_type="application/json", **bearer(carol),
    )  # fmt: skip
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "请求正文 超过 1 行（上传上限）：请拆分"
    assert snapshot() == before


def test_the_code_mapping_command_refuses_an_oversize_file(db, settings, tmp_path):
    from django.core.management import CommandError, call_command

    settings.UPLOAD_MAX_MB = 1
    path = tmp_path / "mapping.yaml"
    path.write_bytes(b"scheme: dhis2\n" + b"#" * 2**20)
    with pytest.raises(CommandError, match="mapping.yaml 超过 1 MB"):
        call_command("load_code_mapping", str(path))
