"""Large exports are bounded (issue 20.7): files built in memory are refused above
XINGLIN_EXPORT_MAX_ROWS with a sentence saying what to do; record-level CSVs stream."""

from __future__ import annotations

import csv
import io
from datetime import date

from django.urls import reverse

from xinglin.care.tests.helpers import assess, id_card
from xinglin.core import limits

SCORECARD = "?pack=demo-county-2022&period=2024&orgunit=640323"


def test_the_scorecard_csv_of_a_large_scope_is_refused_with_a_reason(client_for, alice, settings):
    client = client_for(alice)
    url = reverse("evaluation:scorecard_export", args=["csv"]) + SCORECARD
    assert client.get(url).status_code == 200
    settings.EXPORT_MAX_ROWS = 1
    refused = client.get(url)
    assert refused.status_code == 413
    assert "1" in refused.content.decode() and "行" in refused.content.decode()


def test_the_completeness_csv_of_a_large_scope_is_refused(client_for, alice, settings):
    client = client_for(alice)
    url = reverse("collection:completeness_twin", args=["csv"])
    assert client.get(url).status_code == 200
    settings.EXPORT_MAX_ROWS = 1
    assert client.get(url).status_code == 413


def test_the_assessments_csv_streams_every_row(client_for, alice, settings):
    for serial in range(1, 4):
        assess("640323100001", id_card(serial=serial), date(2025, 5, 1))
    settings.EXPORT_MAX_ROWS = 1  # streamed exports have no cap
    response = client_for(alice).get(reverse("care:assessments_csv"), {"year": 2025})
    assert response.status_code == 200 and response.streaming
    rows = list(csv.reader(io.StringIO(response.getvalue().decode("utf-8-sig"))))
    assert len(rows) == 4 and rows[0][0] == "id_masked"


def test_chunks_are_a_whole_csv_with_formulas_neutralised(monkeypatch):
    monkeypatch.setattr(limits, "CHUNK_ROWS", 2)
    chunks = list(limits.csv_chunks(["name"], [["甲"], ["=HYPERLINK(1)"], ["乙"]]))
    assert len(chunks) == 2
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))
    assert rows[0] == ["name"] and rows[1] == ["甲"] and rows[3] == ["乙"]
    assert not rows[2][0].startswith("=")
