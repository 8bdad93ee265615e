"""The column-wise paths of imports (pyarrow CSV, array checks, read-only workbooks) and the
per-value fallbacks they hand over to: same values, same messages."""

from __future__ import annotations

import zipfile

import pytest
from django.utils import timezone, translation
from openpyxl import Workbook

from xinglin.collection import audit
from xinglin.collection.actions import write_rows
from xinglin.collection.models import AuditEntry, Channel, DataValue
from xinglin.collection.tests.conftest import CLINIC, HMC
from xinglin.core import generation
from xinglin.network.models import OrgUnit
from xinglin.standards.models import DataElement

pytestmark = pytest.mark.usefixtures("county", "catalogue")
OTHER_CLINIC = "640323100102"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _values():
    return sorted(
        DataValue.objects.values_list("orgunit__code", "period", "element__code", "value")
    )


def test_a_short_row_falls_back_to_the_row_reader_and_is_named(csv_file, run_import):
    path = csv_file([f"{HMC},202401,total_visits,1200", f"{HMC},202401"])
    code, _out, err = run_import(path)
    assert code == 2
    assert "row 3, field row: error: expected 4 columns, found 2" in err
    assert _values() == []


def test_blank_rows_are_skipped_and_rows_keep_their_numbers(csv_file, run_import):
    path = csv_file([f"{HMC},202401,total_visits,1200", ",,,", f"{HMC},202401,tcm_visits,x"])
    code, _out, err = run_import(path)
    assert code == 2
    assert "row 4, field value: error: tcm_visits: “x” is not a number" in err


def test_text_numbers_and_words_go_through_the_value_rules(csv_file, run_import):
    path = csv_file([f'{HMC},202401,total_visits,"1,200"', f"{HMC},2024,has_tcm_hall,是"])
    code, out, _err = run_import(path)
    assert code == 0, out
    assert _values() == [
        (HMC, "2024", "has_tcm_hall", 1.0),
        (HMC, "202401", "total_visits", 1200.0),
    ]


def test_a_rule_is_checked_in_every_group_and_reported_where_it_fails(csv_file, run_import):
    lines = []
    for unit in (CLINIC, OTHER_CLINIC):
        for month in range(1, 13):
            tcm = 900 if (unit, month) == (OTHER_CLINIC, 7) else 300
            lines += [
                f"{unit},2024{month:02d},total_visits,800",
                f"{unit},2024{month:02d},tcm_visits,{tcm}",
            ]
    code, _out, err = run_import(csv_file(lines))
    assert code == 2
    errors = [line.split(": ", 1)[1] for line in err.splitlines() if ": error: " in line]
    assert errors == [
        "row 39, field value: error: tcm_visits: TCM visits cannot exceed total visits",
        "row 38, field value: error: total_visits: TCM visits cannot exceed total visits",
    ]
    assert _values() == []


@pytest.fixture(params=["rows", "staged"])
def write_path(request, monkeypatch):
    """Both ways write_rows writes: a statement per row, and (above generation.BULK_ROWS
    rows) through a temporary table, with one generation change."""
    if request.param == "staged":
        monkeypatch.setattr(generation, "BULK_ROWS", 4)
    return request.param


def _audit():
    codes = {
        **{("o", u.pk): u.code for u in OrgUnit.objects.all()},
        **{("e", e.pk): e.code for e in DataElement.objects.all()},
    }
    rows = [
        (codes["o", e.orgunit_id], e.period, codes["e", e.element_id], e.old_value, e.new_value,
         e.channel, e.user_id)
        for e in audit.trail()
    ]  # fmt: skip
    return sorted(rows, key=repr)


def test_new_and_changed_values_are_written_with_their_audit_entries(
    csv_file, run_import, write_path
):
    def lines(year, change=0):
        return [
            f"{unit},{year}{month:02d},{element},{100 + month + (change if month < 3 else 0)}"
            for unit in (CLINIC, OTHER_CLINIC)
            for month in range(1, 13)
            for element in ("total_visits", "tcm_visits")
        ]

    assert run_import(csv_file(lines(2022)))[0] == 0
    before = generation.current()
    code, out, _err = run_import(csv_file(lines(2022, change=5) + lines(2023)))
    assert code == 0
    assert "48 values were added, 8 changed, 40 unchanged" in out
    assert generation.current() not in (before, None)
    expected = [
        (
            unit,
            f"{year}{month:02d}",
            element,
            float(100 + month + (5 if (year, month) < (2022, 3) else 0)),
        )
        for unit in (CLINIC, OTHER_CLINIC)
        for year in (2022, 2023)
        for month in range(1, 13)
        for element in ("total_visits", "tcm_visits")
    ]
    assert _values() == sorted(expected)
    first = [(o, p, e, float(100 + int(p[4:]))) for o, p, e, _v in expected]
    added = [(o, p, e, None, v, "import", None) for o, p, e, v in first]
    changed = [(o, p, e, v, v + 5, "import", None) for o, p, e, v in first if p < "202203"]
    assert _audit() == sorted(added + changed, key=repr)
    assert DataValue.objects.filter(channel="import", stored_by=None).count() == 96


def test_a_large_batch_writes_every_value_and_its_audit_entry(csv_file, run_import):
    lines = [
        f"{unit},{year}{month:02d},{element},{100 + month}"
        for unit in (CLINIC, OTHER_CLINIC)
        for year in (2022, 2023)
        for month in range(1, 13)
        for element in ("total_visits", "tcm_visits")
    ]
    code, out, _err = run_import(csv_file(lines))
    assert code == 0
    assert "96 values were added, 0 changed, 0 unchanged" in out
    assert DataValue.objects.count() == len(audit.trail()) == 96
    changed = [line.replace(",101", ",111") for line in lines]
    code, out, _err = run_import(csv_file(changed))
    assert "0 values were added, 8 changed, 88 unchanged" in out
    assert AuditEntry.objects.filter(old_value=101, new_value=111).count() == 8


def test_a_workbook_with_a_sheet_per_month_imports_every_sheet(tmp_path, run_import):
    book = Workbook()
    book.remove(book.active)
    for month in (1, 2):
        sheet = book.create_sheet(f"2024{month:02d}")
        sheet.append(["title"])
        sheet.append(["报表编码", "village_clinic.monthly", "期间", f"2024{month:02d}"])
        sheet.append(["机构编码", "机构名称", "总诊疗人次", "中医诊疗人次"])
        sheet.append(["orgunit", "name", "total_visits", "tcm_visits"])
        sheet.append([CLINIC, "x", 500, 100 * month])
        sheet.append([OTHER_CLINIC, "y", 400, "=B1"])
    path = tmp_path / "months.xlsx"
    book.save(path)
    code, _out, err = run_import(path)
    assert code == 2
    assert "sheet 202401, row 6, field D: error: D6 holds a formula (=B1)" in err
    assert "sheet 202402, row 6, field D: error: D6 holds a formula (=B1)" in err


def test_a_staged_write_keeps_who_when_and_through_which_channel(alice, monkeypatch):
    monkeypatch.setattr(generation, "BULK_ROWS", 0)  # every write staged
    elements = [DataElement.objects.get(code=c) for c in ("total_visits", "tcm_visits")]
    unit = OrgUnit.objects.get(code=CLINIC)
    rows = [(e, unit, f"2024{m:02d}", 10.0) for m in range(1, 13) for e in elements]
    started = timezone.now()
    stored = write_rows(rows, user=alice, channel=Channel.API)
    rows[0] = (*rows[0][:3], 20.0)
    again = write_rows(rows, user=alice, channel=Channel.WEB)
    assert (stored.added, again.changed, again.unchanged) == (24, 1, 23)
    value = DataValue.objects.get(element=elements[0], orgunit=unit, period="202401")
    assert (value.value, value.stored_by, value.channel, value.comment) == (20.0, alice, "web", "")
    assert started <= value.updated_at <= timezone.now()
    entries = [entry for entry in audit.trail() if entry.user == alice]
    assert len(entries) == 25 and [e.channel for e in entries].count("api") == 24
    (change,) = [entry for entry in entries if entry.channel == "web"]
    assert (change.old_value, change.new_value, change.note) == (10.0, 20.0, "")
    assert started <= change.at <= timezone.now()


@pytest.mark.parametrize("damage", ["cut XML", "bad CRC"])
def test_a_workbook_whose_sheet_is_damaged_is_rejected(tmp_path, run_import, damage):
    """Opening reads a sheet only up to its first cell: damage further on is found while
    reading the cells, and named the same way."""
    book = Workbook(write_only=True)  # no <dimension>: opening stops at the cells
    sheet = book.create_sheet("202401")
    sheet.append(["报表编码", "village_clinic.monthly", "期间", "202401"])
    sheet.append(["orgunit", "name", "total_visits"])
    for number in range(200):
        sheet.append([CLINIC, "x", number])
    book.save(tmp_path / "good.xlsx")
    path = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(tmp_path / "good.xlsx") as source, zipfile.ZipFile(path, "w") as out:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/") and damage == "cut XML":
                data = data[: len(data) * 2 // 3]
            out.writestr(item, data)
    if damage == "bad CRC":  # the sheet's stored bytes altered after the zip was written
        content = bytearray(path.read_bytes())
        at = content.find(b"xl/worksheets/sheet1.xml") + 2000
        content[at] ^= 0xFF
        path.write_bytes(bytes(content))
    code, _out, err = run_import(path)
    assert code == 2
    assert "this is not an Excel workbook (.xlsx)" in err
    assert _values() == []


def test_a_workbook_s_cells_are_read_in_order_and_the_bad_ones_named(tmp_path):
    from xinglin.collection.importers import workbook

    book = Workbook()
    book.remove(book.active)
    for period in ("202401", "202402"):
        sheet = book.create_sheet(period)
        sheet.append(["title"])
        sheet.append(["报表编码", "village_clinic.monthly", "期间", period])
        sheet.append(["机构编码", "机构名称", "总诊疗人次", "", "中医诊疗人次", " "])
        sheet.append(["orgunit", "name", " total_visits ", None, "tcm_visits", " "])
        sheet.append([CLINIC, "x", 100, 7, "=1+1", "odd"])
        sheet.append([None, "y", 50, None, ""])
        sheet.append([f" {OTHER_CLINIC} ", "z", " 80 ", None, 20.5, None])
    book.save(tmp_path / "cells.xlsx")
    parsed = workbook.read(tmp_path / "cells.xlsx")
    assert [(p.location.sheet, p.location.cell, p.message) for p in parsed.problems] == [
        (sheet, cell, message)
        for sheet in ("202401", "202402")
        for cell, message in [
            ("D5", "D5 has a value but its column has no element code"),
            ("E5", "E5 holds a formula (=1+1): type the value instead"),
            ("C6", "row 6 has values but no org unit code"),
        ]
    ]
    batch = parsed.batch
    columns = [
        batch.orgunit.to_pylist(),
        batch.period.to_pylist(),
        batch.element.to_pylist(),
        batch.raw,
        batch.rows.tolist(),
        batch.columns.tolist(),
        [batch.sheet_names[s] for s in batch.sheets.tolist()],
    ]
    assert list(zip(*columns, strict=True)) == [
        row
        for period in ("202401", "202402")
        for row in [
            (CLINIC, period, "total_visits", 100, 5, 3, period),
            (CLINIC, period, "", "odd", 5, 6, period),  # a code of blanks is no missing code
            (OTHER_CLINIC, period, "total_visits", "80", 7, 3, period),
            (OTHER_CLINIC, period, "tcm_visits", 20.5, 7, 5, period),
        ]
    ]
