"""The Excel template of a form (one row per institution beneath an org unit, for one period)
and its upload. Layout of the sheet:

    row 1  title
    row 2  报表编码 <form code> | 期间 <period> | 单位 <org unit code>
    row 3  Chinese headers: 机构编码, 机构名称, <element name>（<unit>）…
    row 4  element codes (the machine row): orgunit, name, <element code>…
    row 5… one institution per row

Header rows are protected; data cells are open, with drop-down (1/0) and number validation.
Percentages are typed as 0–100, as the web form shows them."""

from __future__ import annotations

import zipfile
from pathlib import Path

from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from xinglin.collection import rules
from xinglin.collection.forms import Form
from xinglin.collection.importers import Parsed, UnreadableFile
from xinglin.collection.validation import Candidate, Location, Problem
from xinglin.network.models import OrgUnit
from xinglin.standards.models import DataElement

CODES_ROW = 4
FIRST_ROW = 5
PERIOD_LABEL = "期间"
FORM_LABEL = "报表编码"
ERRORS_SHEET = "错误"
_BAD = PatternFill("solid", fgColor="FFC7CE")
_WARN = PatternFill("solid", fgColor="FFEB9C")
_HEAD = PatternFill("solid", fgColor="DDEBF7")


# ----------------------------------------------------------------------------- template
def build_template(
    form: Form, orgunit: OrgUnit, period: str, rows: list[OrgUnit], values: dict
) -> Workbook:
    """`rows`: the institutions (or divisions) to list; `values`: {(orgunit_id, element_id):
    stored value} to pre-fill."""
    elements = form.elements()
    book = Workbook()
    sheet = book.active
    sheet.title = "报表"
    sheet["A1"] = f"{form.label} · {period} · {orgunit.name}"
    sheet["A1"].font = Font(bold=True, size=13)
    for column, text in enumerate(
        [FORM_LABEL, form.code, PERIOD_LABEL, period, "单位", orgunit.code], start=1
    ):
        sheet.cell(2, column, text)
    _write_headers(sheet, elements)
    for offset, unit in enumerate(rows):
        _write_row(sheet, FIRST_ROW + offset, unit, elements, values)
    _add_validation(sheet, elements, FIRST_ROW, FIRST_ROW + max(len(rows), 1) - 1)
    sheet.freeze_panes = sheet.cell(FIRST_ROW, 3)
    sheet.protection.sheet = True
    sheet.protection.formatRows = False
    sheet.protection.formatColumns = False
    return book


def _write_headers(sheet, elements: list[DataElement]) -> None:
    headers = ["机构编码", "机构名称"] + [_header(e) for e in elements]
    codes = ["orgunit", "name"] + [e.code for e in elements]
    for column, (header, code) in enumerate(zip(headers, codes, strict=True), start=1):
        cell = sheet.cell(3, column, header)
        cell.font, cell.fill = Font(bold=True), _HEAD
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.cell(CODES_ROW, column, code).font = Font(color="808080", size=8)
        sheet.column_dimensions[get_column_letter(column)].width = 14 if column > 2 else 18
    for column, element in enumerate(elements, start=3):
        if element.help_zh:
            sheet.cell(3, column).comment = Comment(element.help_zh, "杏林")
    sheet.row_dimensions[3].height = 60


def _header(element: DataElement) -> str:
    unit = "%" if element.value_type == "percent" else element.unit_zh
    return f"{element.name_zh}（{unit}）" if unit else element.name_zh


def _write_row(sheet, row: int, unit: OrgUnit, elements, values: dict) -> None:
    sheet.cell(row, 1, unit.code)
    sheet.cell(row, 2, unit.name)
    for column, element in enumerate(elements, start=3):
        cell = sheet.cell(row, column)
        stored = values.get((unit.pk, element.pk))
        if stored is not None:
            text = rules.to_entry(element.value_type, stored)
            cell.value = int(text) if text.lstrip("-").isdigit() else float(text)
        cell.protection = Protection(locked=False)


def _add_validation(sheet, elements, first: int, last: int) -> None:
    for column, element in enumerate(elements, start=3):
        letter = get_column_letter(column)
        validation = _validation_for(element.value_type)
        validation.error = _("Check the value of %(name)s") % {"name": element.name_zh}
        validation.showErrorMessage = True
        sheet.add_data_validation(validation)
        validation.add(f"{letter}{first}:{letter}{last}")


def _validation_for(value_type: str) -> DataValidation:
    if value_type == "boolean":
        return DataValidation(type="list", formula1='"1,0"', allow_blank=True)
    if value_type == "integer":
        return DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0")
    if value_type == "percent":
        return DataValidation(type="decimal", operator="between", formula1="0", formula2="100")
    return DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0")


# ----------------------------------------------------------------------------- upload
def open_workbook(path: Path):
    try:
        return load_workbook(path, data_only=False)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError):
        raise UnreadableFile(_("this is not an Excel workbook (.xlsx)")) from None


def read(path: Path) -> Parsed:
    book = open_workbook(path)
    parsed = Parsed("xlsx")
    empty = []
    for sheet in book.worksheets:
        if sheet.title == ERRORS_SHEET:
            continue
        if sheet.max_row <= 1 and sheet.max_column <= 1 and sheet["A1"].value is None:
            empty.append(sheet.title)
            continue
        _read_sheet(sheet, parsed)
    if not parsed.candidates and not parsed.problems:
        if empty:
            names = "、".join(empty)
            message = _("the workbook holds no values (empty sheets: %(names)s)") % {"names": names}
        else:
            message = _("the file holds no values")
        parsed.problems.append(Problem(Location(0, "", empty[0] if empty else ""), message))
    return parsed


def _read_sheet(sheet, parsed: Parsed) -> None:
    codes_row = _find_codes_row(sheet)
    if codes_row is None:
        message = _("not a Xinglin template: no row starting with “orgunit” (element codes)")
        parsed.problems.append(Problem(Location(1, "A", sheet.title, "A1"), message))
        return
    period = _find_period(sheet, codes_row)
    if not period:
        message = _("the period cell (beside “期间”) is empty")
        parsed.problems.append(Problem(Location(2, "B", sheet.title, "B2"), message))
        return
    if _merged_problems(sheet, codes_row, parsed):
        return
    codes = [sheet.cell(codes_row, c).value for c in range(1, sheet.max_column + 1)]
    for row in sheet.iter_rows(min_row=codes_row + 1):
        _read_row(sheet.title, row, codes, period, parsed)


def _find_codes_row(sheet) -> int | None:
    for row in range(1, min(sheet.max_row, 12) + 1):
        if str(sheet.cell(row, 1).value or "").strip() == "orgunit":
            return row
    return None


def _find_period(sheet, codes_row: int) -> str:
    for row in sheet.iter_rows(min_row=1, max_row=codes_row):
        for cell in row:
            if str(cell.value or "").strip() == PERIOD_LABEL:
                value = sheet.cell(cell.row, cell.column + 1).value
                return str(value).strip() if value is not None else ""
    return ""


def _merged_problems(sheet, codes_row: int, parsed: Parsed) -> bool:
    found = False
    for merged in sheet.merged_cells.ranges:
        if merged.max_row >= codes_row:
            found = True
            first = f"{get_column_letter(merged.min_col)}{merged.min_row}"
            message = _("merged cells %(range)s: unmerge them and give each cell its value") % {
                "range": merged.coord
            }
            location = Location(
                merged.min_row, get_column_letter(merged.min_col), sheet.title, first
            )
            parsed.problems.append(Problem(location, message))
    return found


def _read_row(title: str, row, codes: list, period: str, parsed: Parsed) -> None:
    orgunit = str(row[0].value or "").strip()
    filled = [cell for cell in row[2:] if cell.value not in (None, "")]
    if not filled:
        return
    for cell in filled:
        location = Location(cell.row, cell.column_letter, title, cell.coordinate)
        code = codes[cell.column - 1] if cell.column - 1 < len(codes) else None
        if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith("=")):
            message = _("%(cell)s holds a formula (%(formula)s): type the value instead") % {
                "cell": cell.coordinate,
                "formula": str(cell.value)[:40],
            }
            parsed.problems.append(Problem(location, message))
        elif not code:
            message = _("%(cell)s has a value but its column has no element code") % {
                "cell": cell.coordinate
            }
            parsed.problems.append(Problem(location, message))
        elif not orgunit:
            message = _("row %(row)d has values but no org unit code") % {"row": cell.row}
            parsed.problems.append(Problem(location, message))
        else:
            raw = cell.value.strip() if isinstance(cell.value, str) else cell.value
            parsed.candidates.append(
                Candidate(orgunit, period, str(code).strip(), raw, location, entry=True)
            )


def write_report(path: Path, parsed: Parsed, problems: list[Problem], report: Path) -> None:
    """The uploaded workbook with each bad cell filled and commented, plus an errors sheet."""
    book = open_workbook(path)
    for problem in problems:
        location = problem.location
        if location.sheet in book.sheetnames and location.cell:
            cell = book[location.sheet][location.cell]
            cell.fill = _BAD if problem.is_error else _WARN
            cell.comment = Comment(problem.message, "杏林")
    if ERRORS_SHEET in book.sheetnames:
        del book[ERRORS_SHEET]
    sheet = book.create_sheet(ERRORS_SHEET, 0)
    sheet.append(["工作表", "行", "列", "类别", "说明"])
    for problem in problems:
        location = problem.location
        severity = "错误" if problem.is_error else "警告"
        sheet.append([location.sheet, location.row, location.field, severity, problem.message])
    sheet.column_dimensions["E"].width = 80
    book.save(report)
