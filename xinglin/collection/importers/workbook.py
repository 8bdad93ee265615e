"""The Excel template of a form (one row per institution beneath an org unit, for one period)
and its upload. Layout of the sheet:

    row 1  title
    row 2  报表编码 <form code> | 期间 <period> | 单位 <org unit code>
    row 3  Chinese headers: 机构编码, 机构名称, <element name>（<unit>）…
    row 4  element codes (the machine row): orgunit, name, <element code>…
    row 5… one institution per row

Header rows are protected; data cells are open, with drop-down (1/0) and number validation.
Percent cells are formatted as percent (35% shows 35%, holds 0.35, as Excel keeps any
percent): a percent-formatted cell is read as the fraction it holds; a plain number in a
percent column (an older template) is read as typed 0–100, as the web form shows them."""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path
from xml.etree.ElementTree import ParseError

import numpy as np
import pyarrow as pa
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.datavalidation import DataValidation

from xinglin.collection import rules
from xinglin.collection.batch import Batch, Location, Problem
from xinglin.collection.forms import Form
from xinglin.collection.importers import Parsed, UnreadableFile
from xinglin.lib import sheets, uploads
from xinglin.network.models import OrgUnit
from xinglin.standards import categories, operands
from xinglin.standards.models import DataElement

PERCENT_FORMAT = "0.0#%"  # 35.0%, 17.6%, 17.65%
CODES_ROW = 4
FIRST_ROW = 5
PERIOD_LABEL = "期间"
FORM_LABEL = "报表编码"
ERRORS_SHEET = "错误"
LONG_COLUMNS = ("orgunit", "period", "element", "value")  # the export's layout
COMMENT = "comment"  # the long layout's optional fifth column
COMBO = "category_option_combo"  # the long layout's optional column: a value's combination
_BAD = PatternFill("solid", fgColor="FFC7CE")
_WARN = PatternFill("solid", fgColor="FFEB9C")
_HEAD = PatternFill("solid", fgColor="DDEBF7")


# ----------------------------------------------------------------------------- template
def build_template(
    form: Form, orgunit: OrgUnit, period: str, rows: list[OrgUnit], values: dict
) -> Workbook:
    """`rows`: the institutions (or divisions) to list; `values`: {(orgunit_id, element_id):
    stored value} to pre-fill ((orgunit_id, element_id, combo) for a categorised element's
    values). An element with categories has a column per option combination (its code row
    names the operand, `elderly_tcm_managed.F`; decision 0013)."""
    elements = operands.expand(form.elements())
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
    name = element.name_zh
    if isinstance(element, operands.Operand):  # the combination's Chinese name
        name = f"{name}·{categories.combo_name_in(element.categories, element.combo, 'zh')}"
    return f"{name}（{unit}）" if unit else name


def _write_row(sheet, row: int, unit: OrgUnit, elements, values: dict) -> None:
    sheet.cell(row, 1, unit.code)
    sheet.cell(row, 2, unit.name)
    for column, element in enumerate(elements, start=3):
        cell = sheet.cell(row, column)
        combo = operands.combo_of(element)
        stored = values.get((unit.pk, element.pk, combo) if combo else (unit.pk, element.pk))
        if element.value_type == "percent":
            # Shown and typed as a percent (35%); the cell holds the fraction, as Excel keeps
            # any percent, and the importer reads percent-formatted cells as fractions.
            cell.number_format = PERCENT_FORMAT
            if stored is not None:
                cell.value = stored
        elif stored is not None:
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
        # the cell holds the fraction (35% is 0.35): 0%–100%
        return DataValidation(type="decimal", operator="between", formula1="0", formula2="1")
    return DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0")


# ----------------------------------------------------------------------------- upload
# Uploads are read in openpyxl's read-only mode (rows streamed as plain values, without
# holding every cell object in memory), opened and decoded by lib.sheets (the same rows, three
# times faster: a million values' workbook in 8 s, not 26; all of `read` 12 s, not 30). That
# mode does not parse merged ranges, so they are read from the sheet's XML (`<mergeCell ref=…>`).
_MERGED = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"')


_DAMAGED = (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, EOFError, zlib.error)


def open_workbook(path: Path, *, read_only: bool = False, name: str | None = None):
    try:
        if read_only:  # = load_workbook(path, read_only=True), faster, bounded
            return sheets.load(path, name=name)
        return load_workbook(path, data_only=False)
    except _DAMAGED:
        raise UnreadableFile(_("this is not an Excel workbook (.xlsx)")) from None


def _rows(sheet, bounds: uploads.Bounds) -> list[tuple]:
    """The sheet's rows (= list(sheet.iter_rows(values_only=True))), bounded (uploads.TooLarge).
    A sheet whose stream or XML is damaged (opening reads no further than the first cell) is
    an unreadable file."""
    try:
        return sheets.rows(sheet, bounds)
    except (*_DAMAGED, ParseError):
        raise UnreadableFile(_("this is not an Excel workbook (.xlsx)")) from None


def read(path: Path, *, name: str | None = None) -> Parsed:
    """Raises uploads.TooLarge past the upload limits (rows of all sheets, columns)."""
    book = open_workbook(path, read_only=True, name=name or path.name)
    bounds = uploads.Bounds(name or path.name)
    parsed = Parsed("xlsx")
    columns = _Columns()
    empty = []
    try:
        for sheet in book.worksheets:
            if sheet.title == ERRORS_SHEET:
                continue
            rows = _rows(sheet, bounds)
            if _is_empty(rows):
                empty.append(sheet.title)
                continue
            _read_sheet(sheet, rows, _merged_ranges(book, sheet), parsed, columns)
    finally:
        book.close()
    parsed.batch = columns.batch() if columns.rows else None
    if not parsed.count and not parsed.problems:
        if empty:
            names = "、".join(empty)
            message = _("the workbook holds no values (empty sheets: %(names)s)") % {"names": names}
        else:
            message = _("the file holds no values")
        parsed.problems.append(Problem(Location(0, "", empty[0] if empty else ""), message))
    return parsed


class _Columns:
    """The values of every sheet, gathered as columns for batch.Batch."""

    def __init__(self) -> None:
        self.orgunit: list[str] = []
        self.period: list[str] = []
        self.element: list[str] = []
        self.raw: list[object] = []
        self.rows: list[int] = []
        self.columns: list[int] = []
        self.sheets: list[int] = []
        self.sheet_names: list[str] = []
        self.long_sheets: set[int] = set()  # sheets in the long layout: stored values
        self.comments: list[str | None] = []  # each value's comment (long layout's column)

    def batch(self) -> Batch:
        entries = None
        if self.long_sheets:  # per value: typed (template) or stored (long layout)
            entries = [s not in self.long_sheets for s in self.sheets]
        return Batch(
            orgunit=pa.array(self.orgunit, pa.string()),
            period=pa.array(self.period, pa.string()),
            element=pa.array(self.element, pa.string()),
            raw=self.raw,
            rows=np.array(self.rows, dtype=np.int64),
            entry=True,
            columns=np.array(self.columns, dtype=np.int64),
            sheets=np.array(self.sheets, dtype=np.int64),
            sheet_names=self.sheet_names,
            entries=entries,
            comments=self.comments if any(c is not None for c in self.comments) else None,
        )


def _is_empty(rows: list[tuple]) -> bool:
    return (
        len(rows) <= 1
        and all(len(row) <= 1 for row in rows)
        and (not rows or not rows[0] or rows[0][0] is None)
    )


def _merged_ranges(book, sheet) -> list[CellRange]:
    with book._archive.open(sheet._worksheet_path) as handle:
        data = handle.read()
    return [CellRange(ref.decode()) for ref in _MERGED.findall(data)]


def _value(rows: list[tuple], row: int, column: int) -> object:
    """The value at a 1-based row and column (None beyond the sheet)."""
    if row > len(rows) or column > len(rows[row - 1]):
        return None
    return rows[row - 1][column - 1]


def _read_sheet(sheet, rows, merged, parsed: Parsed, columns: _Columns) -> None:
    if rows and _is_long_header(rows[0]):
        _read_long(sheet.title, rows, parsed, columns)
        return
    codes_row = _find_codes_row(rows)
    if codes_row is None:
        message = _("not a Xinglin template: no row starting with “orgunit” (element codes)")
        parsed.problems.append(Problem(Location(1, "A", sheet.title, "A1"), message))
        return
    period = _find_period(rows, codes_row)
    if not period:
        message = _("the period cell (beside “期间”) is empty")
        parsed.problems.append(Problem(Location(2, "B", sheet.title, "B2"), message))
        return
    if _merged_problems(sheet.title, merged, codes_row, parsed):
        return
    codes = list(rows[codes_row - 1])
    columns.sheet_names.append(sheet.title)
    _read_rows(sheet.title, rows, codes_row, codes, period, parsed, columns)


def _read_rows(title, rows, codes_row: int, codes: list, period: str, parsed, columns) -> None:
    """The values below the codes row, into `columns` (a cell at a time, so a million cells
    run through as few steps as possible); cells that are not values go to _read_row, which
    names what is wrong."""
    elements = [str(code).strip() if code else None for code in codes]  # None: no code
    width, sheet = len(elements), len(columns.sheet_names) - 1
    add_unit, add_element, add_raw = (
        columns.orgunit.append,
        columns.element.append,
        columns.raw.append,
    )
    add_row, add_column, start = columns.rows.append, columns.columns.append, len(columns.raw)
    for number, row in enumerate(rows[codes_row:], start=codes_row + 1):
        orgunit = str(row[0] or "").strip() if row else ""
        for column in range(3, len(row) + 1):
            value = row[column - 1]
            if value is None or value == "":
                continue
            element = elements[column - 1] if column <= width else None
            if element is None or not orgunit or (isinstance(value, str) and value[:1] == "="):
                # a problem (_read_row names it; it adds nothing to `columns`)
                _read_row(title, number, row[:column], codes, period, parsed, columns, column)
                continue
            add_unit(orgunit)
            add_element(element)
            add_raw(value.strip() if isinstance(value, str) else value)
            add_row(number)
            add_column(column)
    added = len(columns.raw) - start
    columns.period.extend([period] * added)
    columns.sheets.extend([sheet] * added)
    columns.comments.extend([None] * added)


def _is_long_header(row: tuple) -> bool:
    """The first row of `xinglin export values --format xlsx`: orgunit, period, element, value."""
    return tuple(str(c or "").strip().lower() for c in row[: len(LONG_COLUMNS)]) == LONG_COLUMNS


def _read_long(title: str, rows: list[tuple], parsed: Parsed, columns: _Columns) -> None:
    """A sheet in the long layout (the xlsx export): one value a row, stored values
    (percentages as fractions), so that every export is a valid import of itself."""
    columns.sheet_names.append(title)
    sheet = len(columns.sheet_names) - 1
    columns.long_sheets.add(sheet)
    header = [str(c or "").strip().lower() for c in rows[0]]
    comment = header.index(COMMENT) if COMMENT in header else None
    combo = header.index(COMBO) if COMBO in header else None
    for number, row in enumerate(rows[1:], start=2):
        cells = [*row[: len(LONG_COLUMNS)], *[None] * (len(LONG_COLUMNS) - len(row))]
        if all(c is None or c == "" for c in cells):
            continue
        missing = [i for i, c in enumerate(cells) if c is None or c == ""]
        for i in missing:
            message = _("%(field)s is empty") % {"field": LONG_COLUMNS[i]}
            parsed.problems.append(Problem(_location(title, number, i + 1), message))
        if missing:
            continue
        orgunit, period, element, value = cells
        split = _comment(row, combo)  # the combination cell, as text ("" or None: none)
        columns.orgunit.append(_code(orgunit))
        columns.period.append(_code(period))
        columns.element.append(f"{_code(element)}.{split}" if split else _code(element))
        columns.raw.append(value.strip() if isinstance(value, str) else value)
        columns.rows.append(number)
        columns.columns.append(len(LONG_COLUMNS))
        columns.sheets.append(sheet)
        columns.comments.append(_comment(row, comment))


def _comment(row: tuple, at: int | None) -> str | None:
    """The comment cell of a long-layout row ("" when the column is there but the cell empty;
    None without the column)."""
    if at is None:
        return None
    cell = row[at] if at < len(row) else None
    return "" if cell is None else str(cell).strip()


def _code(cell: object) -> str:
    """A code cell as text (a period typed as the number 2024 reads as "2024")."""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return str(cell).strip()


def _find_codes_row(rows: list[tuple]) -> int | None:
    for row in range(1, min(len(rows), 12) + 1):
        if str(_value(rows, row, 1) or "").strip() == "orgunit":
            return row
    return None


def _find_period(rows: list[tuple], codes_row: int) -> str:
    for row in range(1, codes_row + 1):
        for column, value in enumerate(rows[row - 1], start=1):
            if str(value or "").strip() == PERIOD_LABEL:
                found = _value(rows, row, column + 1)
                return str(found).strip() if found is not None else ""
    return ""


def _merged_problems(title: str, merged: list[CellRange], codes_row: int, parsed) -> bool:
    found = False
    for cells in merged:
        if cells.max_row >= codes_row:
            found = True
            letter = get_column_letter(cells.min_col)
            message = _("merged cells %(range)s: unmerge them and give each cell its value") % {
                "range": cells.coord
            }
            location = Location(cells.min_row, letter, title, f"{letter}{cells.min_row}")
            parsed.problems.append(Problem(location, message))
    return found


def _read_row(
    title, number: int, row: tuple, codes: list, period: str, parsed, columns, first: int = 3
) -> None:
    orgunit = str(row[0] or "").strip() if row else ""
    for column, value in enumerate(row[first - 1 :], start=first):
        if value is None or value == "":
            continue
        code = codes[column - 1] if column - 1 < len(codes) else None
        if isinstance(value, str) and value.startswith("="):
            letter = get_column_letter(column)
            message = _("%(cell)s holds a formula (%(formula)s): type the value instead") % {
                "cell": f"{letter}{number}",
                "formula": value[:40],
            }
            parsed.problems.append(Problem(_location(title, number, column), message))
        elif not code:
            message = _("%(cell)s has a value but its column has no element code") % {
                "cell": f"{get_column_letter(column)}{number}"
            }
            parsed.problems.append(Problem(_location(title, number, column), message))
        elif not orgunit:
            message = _("row %(row)d has values but no org unit code") % {"row": number}
            parsed.problems.append(Problem(_location(title, number, column), message))
        else:
            columns.orgunit.append(orgunit)
            columns.period.append(period)
            columns.element.append(str(code).strip())
            columns.raw.append(value.strip() if isinstance(value, str) else value)
            columns.rows.append(number)
            columns.columns.append(column)
            columns.sheets.append(len(columns.sheet_names) - 1)
            columns.comments.append(None)


def _location(title: str, row: int, column: int) -> Location:
    letter = get_column_letter(column)
    return Location(row, letter, title, f"{letter}{row}")


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
