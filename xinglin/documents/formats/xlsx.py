"""Excel output: the report's scorecard and the data annex (附件: every indicator value of
every org unit beneath and every year covered, with its numerator and denominator)."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from xinglin.documents.content import Report
from xinglin.documents.figures import Figure
from xinglin.documents.gather import ReportData, status_label

SCORECARD_SHEET = "指标完成情况"
ANNEX_SHEET = "数据附件"
ANNEX_HEADER = [
    "年度", "标准", "序号", "指标编码", "指标名称", "单位编码", "单位名称", "完成值", "分子",
    "分母", "目标值", "状态", "未达标机构",
]  # fmt: skip
SCORECARD_HEADER = ANNEX_HEADER[1:5] + [
    "目标值",
    "完成值",
    "分子",
    "分母",
    "状态",
    "差距",
    "未达标机构",
]
HEADER_FILL = PatternFill("solid", fgColor="DDE5F0")
STATUS_FILLS = {"met": "C8E6C9", "not_met": "FFCDD2", "no_data": "EEEEEE"}


def render(report: Report, data: ReportData) -> bytes:
    workbook = Workbook()
    scorecard = workbook.active
    scorecard.title = SCORECARD_SHEET
    scorecard.append([report.title])
    scorecard["A1"].font = Font(bold=True, size=14)
    _header(scorecard, SCORECARD_HEADER, row=2)
    for pack in data.packs:
        for f in pack.own:
            _scorecard_row(scorecard, f, data)
    annex = workbook.create_sheet(ANNEX_SHEET)
    _header(annex, ANNEX_HEADER, row=1)
    for pack in data.packs:
        for year in sorted(pack.by_year):
            for f in pack.by_year[year]:
                _annex_row(annex, year, f, data)
    for sheet in (scorecard, annex):
        _widths(sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _header(sheet, header: list[str], row: int) -> None:
    for column, text in enumerate(header, start=1):
        cell = sheet.cell(row=row, column=column, value=text)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center")
    sheet.freeze_panes = sheet.cell(row=row + 1, column=1)


def _failing(f: Figure, data: ReportData) -> str:
    return "、".join(data.name_of(code) for code in f["failing"])


def _scorecard_row(sheet, f: Figure, data: ReportData) -> None:
    sheet.append([
        f["pack"], f["item"], f["indicator"], f["name"], f["target"], f["value"], f["numerator"],
        f["denominator"], status_label(f["status"]), f["gap"], _failing(f, data),
    ])  # fmt: skip
    _formats(sheet, f, value_column=6, gap_column=10, status_column=9)


def _annex_row(sheet, year: int, f: Figure, data: ReportData) -> None:
    sheet.append([
        year, f["pack"], f["item"], f["indicator"], f["name"], f["orgunit"],
        data.name_of(f["orgunit"]), f["value"], f["numerator"], f["denominator"], f["target"],
        status_label(f["status"]), _failing(f, data),
    ])  # fmt: skip
    _formats(sheet, f, value_column=8, gap_column=None, status_column=12)


def _formats(sheet, f: Figure, *, value_column: int, gap_column: int | None, status_column: int):
    row = sheet.max_row
    if f["unit"] == "percent":
        for column in filter(None, (value_column, gap_column)):
            sheet.cell(row=row, column=column).number_format = "0.0%"
    colour = STATUS_FILLS.get(f["status"])
    if colour:
        sheet.cell(row=row, column=status_column).fill = PatternFill("solid", fgColor=colour)


def _widths(sheet) -> None:
    for column in range(1, sheet.max_column + 1):
        sheet.column_dimensions[get_column_letter(column)].width = 14
    sheet.column_dimensions["D" if sheet.title == SCORECARD_SHEET else "E"].width = 40
