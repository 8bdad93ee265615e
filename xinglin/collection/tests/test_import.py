"""`xinglin import FILE [--dry-run]`: every bad-input case of issue 4 gets a test."""

from __future__ import annotations

import csv
import json

import pytest
from django.utils import translation
from openpyxl import Workbook, load_workbook

from xinglin.collection import audit
from xinglin.collection.actions import approve_submission, submit_form
from xinglin.collection.models import AuditEntry, ConfirmedWarning, DataValue
from xinglin.collection.tests.conftest import CLINIC, HMC
from xinglin.network.actions import close_orgunit
from xinglin.network.models import OrgUnit

pytestmark = pytest.mark.usefixtures("county", "catalogue")


@pytest.fixture(autouse=True)
def _english():
    # Messages are asserted in English (the msgids); the command speaks the active language.
    with translation.override("en"):
        yield


def _values():
    return sorted(
        DataValue.objects.values_list("orgunit__code", "period", "element__code", "value")
    )


def test_it_imports_a_long_csv_and_reports_counts(csv_file, run_import):
    path = csv_file([f"{HMC},202401,total_visits,1200", f"{HMC},202401,tcm_visits,480"])
    code, out, err = run_import(path)
    assert (code, err) == (0, "")
    assert "2 values were added, 0 changed, 0 unchanged" in out
    assert _values() == [
        (HMC, "202401", "tcm_visits", 480.0),
        (HMC, "202401", "total_visits", 1200.0),
    ]
    assert [entry.channel for entry in audit.trail()] == ["import", "import"]


def test_reimporting_the_same_file_changes_nothing(csv_file, run_import):
    path = csv_file([f"{HMC},202401,total_visits,1200", f"{HMC},202401,tcm_visits,480"])
    run_import(path)
    code, out, _err = run_import(path)
    assert code == 0
    assert "0 values were added, 0 changed, 2 unchanged" in out
    assert len(audit.trail()) == 2


def test_a_changed_value_is_counted_and_audited(csv_file, run_import):
    run_import(csv_file([f"{HMC},202401,total_visits,1200"]))
    code, out, _err = run_import(csv_file([f"{HMC},202401,total_visits,1300"]))
    assert code == 0
    assert "0 values were added, 1 changed, 0 unchanged" in out
    entry = AuditEntry.objects.first()
    assert (entry.old_value, entry.new_value, entry.channel) == (1200.0, 1300.0, "import")


def test_dry_run_writes_nothing(csv_file, run_import):
    code, out, _err = run_import(csv_file([f"{HMC},202401,total_visits,1200"]), "--dry-run")
    assert code == 0
    assert "1 values would be added, 0 changed, 0 unchanged (dry run: nothing written)" in out
    assert _values() == []


def test_a_utf8_bom_is_accepted(tmp_path, run_import):
    path = tmp_path / "bom.csv"
    path.write_bytes(
        ("\ufefforgunit,period,element,value\n" + f"{HMC},2024,physicians,12\n").encode()
    )
    assert run_import(path)[0] == 0
    assert _values() == [(HMC, "2024", "physicians", 12.0)]


def test_a_gbk_encoded_csv_is_read(tmp_path, run_import):
    path = tmp_path / "gbk.csv"
    text = "orgunit,period,element,value,备注\n" + f"{HMC},2024,physicians,12,花马池镇卫生院\n"
    path.write_bytes(text.encode("gbk"))
    assert run_import(path)[0] == 0
    assert _values() == [(HMC, "2024", "physicians", 12.0)]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (f"{HMC},202401,total_visits,many", "total_visits: “many” is not a number"),
        (f"{HMC},202401,total_visits,12.5", "total_visits: 12.5 is not a whole number"),
        (f"{HMC},202401,total_visits,-3", "total_visits: cannot be negative"),
        (f"{HMC},2024,has_tcm_hall,2", "has_tcm_hall: “2” is not 1 (yes) or 0 (no)"),
        (f"{HMC},2024,has_tcm_hall,1.00", None),
        (f"{HMC},2024,performance_score_tcm_share,35", "a percentage cannot be above 1"),
        (f"{HMC},2024,performance_score_tcm_share,35%", None),  # 35 %, stored 0.35
        (f"{HMC},2024,physicians,35%", "physicians: write the number without a percent sign"),
        ("640323999999,2024,physicians,3", "unknown org unit “640323999999”"),
        (f"{HMC},2024,doctors,3", "unknown data element “doctors”"),
        (f"{HMC},2024,total_visits,3", "total_visits is reported monthly; “2024” is not a monthly"),
        (f"{HMC},202401,physicians,3", "physicians is reported yearly; “202401” is not a yearly"),
        (f"{HMC},2024-01,total_visits,3", "period “2024-01” is not a year"),
        (f"{CLINIC},2024,rehab_beds,3", "rehab_beds is not reported by 640323100101"),
        ("640323100,2024,physicians,3", "reported by institutions, not by the division"),
        (f"{HMC},2024,residents,3", "residents is reported by divisions"),
    ],
)
def test_a_bad_value_rejects_the_whole_file(csv_file, run_import, line, message):
    path = csv_file([f"{HMC},2024,tcm_physicians,2", line])
    code, out, err = run_import(path)
    if message is None:
        assert code == 0
        return
    assert code == 2
    assert message in err
    assert "row 3, field value: error:" in err
    assert f"error report: {path.with_name('values.errors.csv')}" in err
    assert "rejected, nothing was written" in err
    assert _values() == []


def test_the_csv_error_report_lists_row_field_message(csv_file, run_import):
    path = csv_file([f"{HMC},202401,total_visits,x", f"{HMC},202401,tcm_visits,5"])
    run_import(path)
    with open(path.with_name("values.errors.csv"), encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["row", "field", "severity", "message"],
        ["2", "value", "error", "total_visits: “x” is not a number"],
    ]


def test_duplicate_rows_with_different_values_are_rejected(csv_file, run_import):
    path = csv_file(
        [f"{HMC},2024,physicians,12", f"{HMC},2024,physicians,13", f"{HMC},2024,tcm_staff,4"]
    )
    code, _out, err = run_import(path)
    assert code == 2
    assert "row 3, field value: error: duplicate of row 2 with a different value (12 ≠ 13)" in err
    assert _values() == []


def test_duplicate_rows_with_the_same_value_are_one_value(csv_file, run_import):
    path = csv_file([f"{HMC},2024,physicians,12", f"{HMC},2024,physicians,12"])
    code, out, _err = run_import(path)
    assert code == 0
    assert "1 values were added" in out


def test_values_for_a_closed_institution_are_rejected(csv_file, run_import):
    from datetime import date

    close_orgunit(OrgUnit.objects.get(code=CLINIC), date(2023, 7, 1))
    ok = csv_file([f"{CLINIC},2023,physicians,1"], name="ok.csv")
    assert run_import(ok)[0] == 0
    code, _out, err = run_import(csv_file([f"{CLINIC},2024,physicians,1"]))
    assert code == 2
    assert "640323100101 was not open in 2024" in err
    assert _values() == [(CLINIC, "2023", "physicians", 1.0)]


def test_a_rule_between_elements_is_checked_with_stored_values(csv_file, run_import):
    run_import(csv_file([f"{HMC},202401,total_visits,100"], name="first.csv"))
    code, _out, err = run_import(csv_file([f"{HMC},202401,tcm_visits,101"]))
    assert code == 2
    assert "tcm_visits: TCM visits cannot exceed total visits" in err
    assert _values() == [(HMC, "202401", "total_visits", 100.0)]


def test_a_fivefold_jump_needs_confirmation_and_is_recorded(csv_file, run_import):
    run_import(csv_file([f"{HMC},2023,physicians,10"], name="last.csv"))
    path = csv_file([f"{HMC},2024,physicians,60"])
    code, _out, err = run_import(path)
    assert code == 2
    assert "warning: physicians: 60 is 6.0× last year's 10; please confirm" in err
    assert "warnings need --confirm-warnings" in err
    assert DataValue.objects.filter(period="2024").count() == 0
    code, out, _err = run_import(path, "--confirm-warnings")
    assert code == 0
    assert "1 values were added" in out
    warning = ConfirmedWarning.objects.get()
    assert (warning.rule, warning.value, warning.channel) == ("jump", 60.0, "import")


def test_approved_values_are_locked_against_imports(csv_file, run_import):
    run_import(csv_file([f"{HMC},2024,physicians,10"], name="first.csv"))
    unit = OrgUnit.objects.get(code=HMC)
    approve_submission(submit_form(unit, "2024", user=None), user=None)
    assert run_import(csv_file([f"{HMC},2024,physicians,10"], name="same.csv"))[0] == 0
    code, _out, err = run_import(csv_file([f"{HMC},2024,physicians,11"]))
    assert code == 2
    assert "the form is approved and locked" in err
    assert _values() == [(HMC, "2024", "physicians", 10.0)]


def test_a_csv_without_the_header_is_rejected(tmp_path, run_import):
    path = tmp_path / "bad.csv"
    path.write_text(f"{HMC},2024,physicians,12\n")
    code, _out, err = run_import(path)
    assert code == 2
    assert "row 1, field header: error: the first row must name the columns" in err


def test_a_file_that_is_not_a_spreadsheet_is_rejected(tmp_path, run_import):
    path = tmp_path / "photo.xlsx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    code, _out, err = run_import(path)
    assert code == 2
    assert "this is not an Excel workbook (.xlsx)" in err
    binary = tmp_path / "photo.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)))
    code, _out, err = run_import(binary)
    assert code == 2
    assert "this is not a text (CSV) file" in err


def test_a_huge_file_is_refused_before_reading(csv_file, run_import, settings):
    settings.UPLOAD_MAX_MB = 1
    path = csv_file([f"{HMC},2024,physicians,{n % 10}" for n in range(2**20 // 30)])
    assert path.stat().st_size > 2**20
    code, _out, err = run_import(path)
    assert code == 2
    assert "values.csv is larger than 1 MB (the upload limit): split it into smaller files" in err
    assert _values() == []


def test_too_many_rows_or_columns_are_refused(csv_file, run_import, settings):
    settings.UPLOAD_MAX_ROWS = 5
    code, _out, err = run_import(csv_file([f"{HMC},2024,physicians,{n}" for n in range(5)]))
    assert code == 2
    assert "values.csv has more than 5 rows (the upload limit): split it" in err
    settings.UPLOAD_MAX_ROWS, settings.UPLOAD_MAX_COLUMNS = 100, 4
    code, _out, err = run_import(csv_file([f"{HMC},2024,physicians,1,x"]))  # irregular: row 2
    assert code == 2
    assert "values.csv has a row wider than 4 columns (the upload limit)" in err
    assert _values() == []


def test_an_empty_file_is_rejected(tmp_path, run_import):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert "the file is empty" in run_import(path)[2]


def test_a_datavalueset_json_imports(tmp_path, run_import):
    path = tmp_path / "set.json"
    document = {
        "dataSet": "township_health_center.monthly",
        "period": "202402",
        "orgUnit": HMC,
        "dataValues": [
            {"dataElement": "total_visits", "value": "900"},
            {"dataElement": "tcm_visits", "value": 300, "period": "202402"},
        ],
    }
    path.write_text(json.dumps(document))
    code, out, _err = run_import(path)
    assert code == 0
    assert "2 values were added" in out
    assert _values() == [
        (HMC, "202402", "tcm_visits", 300.0),
        (HMC, "202402", "total_visits", 900.0),
    ]


def test_bad_json_is_rejected_with_its_position(tmp_path, run_import):
    path = tmp_path / "set.json"
    path.write_text('{"dataValues": [}')
    code, _out, err = run_import(path)
    assert code == 2
    assert "not valid JSON: Expecting value at line 1 column 17" in err
    missing = tmp_path / "missing.json"
    missing.write_text(json.dumps({"dataValues": [{"dataElement": "physicians", "value": 3}]}))
    code, _out, err = run_import(missing)
    assert code == 2
    assert "row 1, field period: error: missing" in err
    assert "row 1, field orgUnit: error: missing" in err


# ----------------------------------------------------------------------------- workbooks
def _template(tmp_path, form="township_health_center.yearly", code="640323100", period="2024"):
    from xinglin.collection.forms import get_form
    from xinglin.collection.importers.workbook import build_template

    unit = OrgUnit.objects.get(code=code)
    form = get_form(form)
    from xinglin.collection.forms import expected_orgunits

    book = build_template(form, unit, period, expected_orgunits(form, period, within=unit), {})
    path = tmp_path / "template.xlsx"
    book.save(path)
    return path


def _cell_of(sheet, element: str) -> str:
    for cell in sheet[4]:
        if cell.value == element:
            return cell.column_letter
    raise KeyError(element)


def test_a_filled_template_imports_with_percent_as_0_to_100(tmp_path, run_import):
    path = _template(tmp_path)
    book = load_workbook(path)
    sheet = book.active
    assert sheet["A5"].value == HMC
    sheet[f"{_cell_of(sheet, 'physicians')}5"] = 20
    sheet[f"{_cell_of(sheet, 'has_tcm_hall')}5"] = "是"
    # 15% typed into the percent-formatted cell: Excel keeps 0.15 with the percent format
    share = sheet[f"{_cell_of(sheet, 'performance_score_tcm_share')}5"]
    assert "%" in share.number_format
    share.value = 0.15
    book.save(path)
    code, out, _err = run_import(path)
    assert code == 0, _err
    assert "3 values were added" in out
    assert _values() == [
        (HMC, "2024", "has_tcm_hall", 1.0),
        (HMC, "2024", "performance_score_tcm_share", 0.15),
        (HMC, "2024", "physicians", 20.0),
    ]


def test_a_percent_cell_is_read_as_a_percent_and_a_plain_one_as_typed_0_to_100(
    tmp_path, run_import
):
    """Issue 18.4: a clerk typed 35% (stored 0.35 with a percent format), read on the 0–100
    scale, became 0.0035. A percent-formatted cell is a percent; a plain number in the
    column (an older template, or the format cleared) is typed 0–100, as on the web form."""
    path = _template(tmp_path)
    book = load_workbook(path)
    sheet = book.active
    share = sheet[f"{_cell_of(sheet, 'performance_score_tcm_share')}5"]
    share.value = 0.35
    book.save(path)
    assert run_import(path)[0] == 0
    assert _values()[-1] == (HMC, "2024", "performance_score_tcm_share", 0.35)
    share.value, share.number_format = 36, "General"
    book.save(path)
    assert run_import(path)[0] == 0
    assert _values()[-1] == (HMC, "2024", "performance_score_tcm_share", 0.36)
    share.value, share.number_format = 37, "0%"  # 3700%: refused, not divided silently
    book.save(path)
    code, _out, err = run_import(path)
    assert code == 2 and "rejected, nothing was written" in err
    assert _values()[-1] == (HMC, "2024", "performance_score_tcm_share", 0.36)


def test_the_template_has_protected_headers_and_drop_downs(tmp_path):
    sheet = load_workbook(_template(tmp_path)).active
    assert sheet.protection.sheet is True
    assert sheet["C3"].protection.locked is True
    assert sheet["C5"].protection.locked is False
    assert sheet["A3"].value == "机构编码"
    hall = _cell_of(sheet, "has_tcm_hall")
    assert sheet[f"{hall}3"].value == "设有标准化中医馆（是/否）"
    kinds = {(v.type, v.formula1) for v in sheet.data_validations.dataValidation}
    assert ("list", '"1,0"') in kinds
    assert ("whole", "0") in kinds


def _rejected_workbook(tmp_path, run_import, path):
    code, _out, err = run_import(path)
    assert code == 2
    assert _values() == []
    report = load_workbook(path.with_name(f"{path.stem}.errors.xlsx"))
    return err, report


def test_formulas_are_rejected_and_the_cell_is_marked(tmp_path, run_import):
    path = _template(tmp_path)
    book = load_workbook(path)
    sheet = book.active
    column = _cell_of(sheet, "physicians")
    sheet[f"{column}5"] = "=1+2"
    book.save(path)
    err, report = _rejected_workbook(tmp_path, run_import, path)
    assert f"{column}5 holds a formula (=1+2): type the value instead" in err
    assert report["报表"][f"{column}5"].fill.fgColor.rgb == "00FFC7CE"
    assert report["报表"][f"{column}5"].comment.text.startswith(f"{column}5 holds a formula")
    errors = list(report["错误"].values)
    assert errors[0] == ("工作表", "行", "列", "类别", "说明")
    assert errors[1][:4] == ("报表", 5, column, "错误")


def test_merged_cells_are_rejected(tmp_path, run_import):
    path = _template(tmp_path)
    book = load_workbook(path)
    book.active.merge_cells("C5:D5")
    book.save(path)
    err, _report = _rejected_workbook(tmp_path, run_import, path)
    assert "merged cells C5:D5: unmerge them" in err


def test_an_empty_workbook_is_rejected(tmp_path, run_import):
    path = tmp_path / "empty.xlsx"
    Workbook().save(path)
    err, report = _rejected_workbook(tmp_path, run_import, path)
    assert "the workbook holds no values (empty sheets: Sheet)" in err
    assert report["错误"]["E2"].value.startswith("the workbook holds no values")


def test_a_template_without_values_is_rejected(tmp_path, run_import):
    path = _template(tmp_path)
    err, _report = _rejected_workbook(tmp_path, run_import, path)
    assert "the file holds no values" in err


def test_a_foreign_sheet_is_rejected(tmp_path, run_import):
    path = tmp_path / "other.xlsx"
    book = Workbook()
    book.active.append(["name", "visits"])
    book.active.append(["x", 3])
    book.save(path)
    err, _report = _rejected_workbook(tmp_path, run_import, path)
    assert "not a Xinglin template" in err
