"""Issue 20.7: values.csv streams whatever its size; values.json and values.xlsx, built in
memory, are capped at XINGLIN_EXPORT_MAX_ROWS with a clear 413 that says what to do."""

from __future__ import annotations

import csv
import io

import pytest

from xinglin.collection.tests.test_views import _store

pytestmark = pytest.mark.usefixtures("county", "catalogue")


def _some_values():
    for code in ("640323000001", "640323100001", "640323101001"):
        for year in range(2021, 2025):
            _store(code, str(year), physicians=year - 2020)


def test_csv_streams_every_value(client_for, alice, settings):
    _some_values()
    settings.EXPORT_MAX_ROWS = 5
    response = client_for(alice).get("/collection/export/values.csv")
    assert response.status_code == 200 and response.streaming
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1 + 12


def test_json_and_xlsx_are_capped(client_for, alice, settings):
    _some_values()
    settings.EXPORT_MAX_ROWS = 5
    for fmt in ("json", "xlsx"):
        response = client_for(alice).get(f"/collection/export/values.{fmt}")
        assert response.status_code == 413
        assert "12" in response.content.decode() and "values.csv" in response.content.decode()
    narrow = client_for(alice).get("/collection/export/values.json", {"period": "2024"})
    assert narrow.status_code == 200 and len(narrow.json()["dataValues"]) == 3
