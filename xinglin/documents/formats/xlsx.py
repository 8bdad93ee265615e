"""Excel output: the report's scorecard and the data annex (附件: every indicator value of
every org unit beneath and every year covered, with its numerator and denominator).
Written in openpyxl's write-only mode: a county's annex runs to tens of thousands of rows.

Both sheets print as an office prints a table: A4 landscape, fitted to the page width (as
many pages down as needed), the header row frozen on screen and repeated on every printed
page, with filters on the header row."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from xinglin.documents.content import Report
from xinglin.documents.figures import Figure
from xinglin.documents.gather import ReportData, status_label
from xinglin.lib import cells

SCORECARD_SHEET = "指标完成情况"
ANNEX_SHEET = "数据附件"
ANNEX_HEADER = [
    "年度", "标准", "序号", "指标编码", "指标名称", "单位编码", "单位名称", "完成值", "分子",
    "分母", "目标值", "状态", "未达标机构",
]  # fmt: skip
SCORECARD_HEADER = [*ANNEX_HEADER[1:5], "目标值", "完成值", "分子", "分母", "状态", "差距",
                    "未达标机构"]  # fmt: skip
HEADER_FILL = PatternFill("solid", fgColor="DDE5F0")
BOLD = Font(bold=True)
WIDTHS = {"scorecard": [22, 6, 36, 40, 10, 10, 10, 10, 10, 10, 40],
          "annex": [6, 22, 6, 36, 40, 14, 20, 10, 10, 10, 10, 10, 40]}  # fmt: skip


def render(report: Report, data: ReportData) -> bytes:
    workbook = Workbook(write_only=True)
    own = sum(len(pack.own) for pack in data.packs)
    annexed = sum(len(rows) for pack in data.packs for rows in pack.by_year.values())
    scorecard = _sheet(workbook, SCORECARD_SHEET, WIDTHS["scorecard"])
    _print_setup(scorecard, header_row=2, columns=len(SCORECARD_HEADER), rows=own)
    title = WriteOnlyCell(scorecard, value=report.title)
    title.font = Font(bold=True, size=14)
    cells.append(scorecard, [title])
    _header(scorecard, SCORECARD_HEADER)
    for pack in data.packs:
        for f in pack.own:
            cells.append(scorecard, _scorecard_row(scorecard, f, data))
    annex = _sheet(workbook, ANNEX_SHEET, WIDTHS["annex"])
    _print_setup(annex, header_row=1, columns=len(ANNEX_HEADER), rows=annexed)
    _header(annex, ANNEX_HEADER)
    for pack in data.packs:
        for year in sorted(pack.by_year):
            for f in pack.by_year[year]:
                cells.append(annex, _annex_row(annex, year, f, data))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet(workbook, title: str, widths: list[int]):
    sheet = workbook.create_sheet(title)
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    return sheet


def _print_setup(sheet, *, header_row: int, columns: int, rows: int) -> None:
    """Set before the rows are written (write-only sheets write their settings first)."""
    last = get_column_letter(columns)
    sheet.freeze_panes = f"A{header_row + 1}"
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.auto_filter.ref = f"A{header_row}:{last}{header_row + max(rows, 1)}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = "9"  # A4 (ECMA-376 paper size 9)
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as the rows need
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.gridLines = True


def _signs(text):
    return text.replace(">=", "≥").replace("<=", "≤") if isinstance(text, str) else text


def _header(sheet, header: list[str]) -> None:
    row = []
    for text in header:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font, cell.fill = BOLD, HEADER_FILL
        row.append(cell)
    cells.append(sheet, row)


def _failing(f: Figure, data: ReportData) -> str:
    return "、".join(data.name_of(code) for code in f["failing"])


def _percent(sheet, f: Figure, value: float | None):
    if f["unit"] != "percent" or value is None:
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = "0.0%"
    return cell


def _scorecard_row(sheet, f: Figure, data: ReportData) -> list:
    return [
        f["pack"], f["item"], f["indicator"], f["name"], _signs(f["target"]),
        _percent(sheet, f, f["value"]), f["numerator"], f["denominator"],
        status_label(f["status"]), _percent(sheet, f, f["gap"]), _failing(f, data),
    ]  # fmt: skip


def _annex_row(sheet, year: int, f: Figure, data: ReportData) -> list:
    return [
        year, f["pack"], f["item"], f["indicator"], f["name"], f["orgunit"],
        data.name_of(f["orgunit"]), _percent(sheet, f, f["value"]), f["numerator"],
        f["denominator"], _signs(f["target"]), status_label(f["status"]), _failing(f, data),
    ]  # fmt: skip
