"""The task-assignment table (任务分工表) that bureaus circulate: one row per task with the
columns 序号, 任务, 牵头单位, 配合单位, 完成时限, 状态. Departments are written by their Chinese
names and read back through names and aliases (departments.yaml). This module writes and reads
the sheet; the import into a plan, all or nothing, is `actions.import_task_sheet`."""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from xml.etree.ElementTree import ParseError

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils.exceptions import InvalidFileException

from xinglin.lib import sheets, uploads
from xinglin.lib.cells import text_typed
from xinglin.plans.models import (
    Department,
    FinalStatus,
    Plan,
    TaskStatus,
)

COLUMNS = ["序号", "任务", "牵头单位", "配合单位", "完成时限", "状态"]
WIDTHS = [12, 60, 36, 36, 14, 10]
STATUS_ZH = {
    TaskStatus.NOT_STARTED: "未开始",
    TaskStatus.IN_PROGRESS: "进行中",
    TaskStatus.DONE: "已完成",
    TaskStatus.OVERDUE: "已逾期",
    FinalStatus.DONE_LATE: "逾期完成",
    FinalStatus.NOT_DONE: "未完成",
}
SEPARATORS = re.compile(r"[、，,；;/\s]+")
CHINESE_DATE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(?:(\d{1,2})\s*日)?$")


@dataclass
class ImportResult:
    errors: list[str] = field(default_factory=list)
    created: int = 0
    updated: int = 0


def export_plan(plan: Plan, today: date) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "任务分工表"
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    tasks = plan.tasks.prefetch_related("lead", "support")
    for task in tasks:
        sheet.append(
            [
                task.number,
                task.title_zh,
                "、".join(d.name_zh for d in task.lead.all()),
                "、".join(d.name_zh for d in task.support.all()),
                task.deadline,
                STATUS_ZH[task.get_status(today)],
            ]
        )
    for index, width in enumerate(WIDTHS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    for row in sheet.iter_rows(min_row=2):
        row[1].alignment = Alignment(wrap_text=True, vertical="top")
        row[4].number_format = "yyyy-mm-dd"
    out = io.BytesIO()
    text_typed(book)
    book.save(out)
    return out.getvalue()


def department_names() -> dict[str, Department]:
    """Every spelling (code, Chinese name, alias) → department."""
    names: dict[str, Department] = {}
    for department in Department.objects.all():
        for name in [department.code, department.name_zh, *department.aliases]:
            names[name.strip()] = department
    return names


def read_task_sheet(content: bytes, *, name: str = "") -> tuple[ImportResult, list[dict]]:
    """The rows of a 任务分工表, parsed: (the result, with every error naming its row and column,
    and the tasks read). The plan is written from them by `actions.import_task_sheet`."""
    result = ImportResult()
    rows = _read_rows(content, result, name or _("the file"))
    if result.errors:
        return result, []
    names = department_names()
    parsed = [_parse_row(number, row, names, result) for number, row in rows]
    seen: dict[str, int] = {}
    for (number, _row), item in zip(rows, parsed, strict=True):
        if item and item["number"] in seen:
            result.errors.append(
                _("row %(row)d, column 序号: %(number)s repeats row %(first)d")
                % {"row": number, "number": item["number"], "first": seen[item["number"]]}
            )
        if item:
            seen.setdefault(item["number"], number)
    return result, [p for p in parsed if p]


def _read_rows(content: bytes, result: ImportResult, name: str) -> list[tuple[int, list]]:
    try:
        table = [list(row) for row in sheets.workbook_rows(content, name)]
    except uploads.TooLarge as error:
        result.errors.append(str(error))
        return []
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError, IndexError,
            EOFError, zlib.error, ParseError):  # fmt: skip
        # zlib.error, EOFError: a damaged zip, at load or while rows are read (fuzzing).
        result.errors.append(_("The file is not an Excel workbook (.xlsx)."))
        return []
    header = [str(c or "").strip() for c in (table[0] if table else [])]
    if header[: len(COLUMNS)] != COLUMNS:
        result.errors.append(
            _("row 1: the columns must be %(columns)s") % {"columns": ", ".join(COLUMNS)}
        )
        return []
    rows = []
    for number, row in enumerate(table[1:], start=2):
        cells = (row + [None] * len(COLUMNS))[: len(COLUMNS)]
        if any(c not in (None, "") for c in cells):
            rows.append((number, cells))
    return rows


def _parse_row(number: int, cells: list, names, result: ImportResult) -> dict | None:
    errors_before = len(result.errors)

    def fail(column: str, message: str) -> None:
        result.errors.append(
            _("row %(row)d, column %(column)s: %(message)s")
            % {"row": number, "column": column, "message": message}
        )

    code, title, lead, support, deadline, status = cells
    code, title = str(code or "").strip(), str(title or "").strip()
    if not code:
        fail("序号", _("empty"))
    if not title:
        fail("任务", _("empty"))
    leads = _departments(lead, names, lambda m: fail("牵头单位", m))
    if not leads and lead in (None, ""):
        fail("牵头单位", _("empty"))
    supports = _departments(support, names, lambda m: fail("配合单位", m))
    due = _date(deadline, lambda m: fail("完成时限", m))
    state = _status(status, lambda m: fail("状态", m))
    if len(result.errors) > errors_before:
        return None
    return {
        "number": code,
        "title": title,
        "lead": leads,
        "support": supports,
        "deadline": due,
        "status": state,
    }


def _departments(value, names, fail) -> list[Department]:
    found = []
    for name in SEPARATORS.split(str(value or "").strip()):
        if not name:
            continue
        if name not in names:
            fail(_("unknown department %(name)s") % {"name": name})
            continue
        found.append(names[name])
    return list(dict.fromkeys(found))


def _date(value, fail) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    match = CHINESE_DATE.match(text)
    try:
        if match:
            return _month_end_or_day(int(match[1]), int(match[2]), match[3])
        return date.fromisoformat(text)
    except ValueError:
        fail(_("not a date: %(value)s (use 2025-12-31)") % {"value": text})
        return None


def _month_end_or_day(year: int, month: int, day: str | None) -> date:
    if day:
        return date(year, month, int(day))
    following = date(year + month // 12, month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def _status(value, fail) -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    by_name = {zh: code for code, zh in STATUS_ZH.items()} | {
        s.value: s.value for s in [*TaskStatus, *FinalStatus]
    }
    if text not in by_name:
        fail(_("unknown status %(value)s (use 未开始, 进行中, 已完成)") % {"value": text})
        return None
    return by_name[text]
