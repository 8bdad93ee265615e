"""Bulk import of responses from Excel, in the layout questionnaire tools such as 问卷星 export:
序号, 提交答卷时间, then one column per question headed "N、question text", plus our
单位代码 column (the org unit where the respondent was interviewed). Multiple-choice answers are
option texts joined by ┋ (as 问卷星 writes them), |, or ;. Single answers may be the option
text, its number (1, 2, …) or its letter (A, B, …). Checking is complete before anything is
stored: one bad cell refuses the whole file, and every problem names its row and column."""

from __future__ import annotations

import io
import re
import zlib
from dataclasses import dataclass
from datetime import datetime
from xml.etree.ElementTree import ParseError
from zipfile import BadZipFile

from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from xinglin.lib import sheets, uploads
from xinglin.lib.cells import text_typed
from xinglin.network import access
from xinglin.network.models import OrgUnit
from xinglin.surveys.instruments import is_multiple
from xinglin.surveys.models import Instrument, SurveyResponse

SERIAL = "序号"
SUBMITTED = "提交答卷时间"
ORGUNIT = "单位代码"
# Columns 问卷星 adds to its exports that carry nothing we keep.
IGNORED = {"所用时间", "来源", "来源详情", "来自IP", "来自ip", "总分", "IP"}
MAX_ROWS = 20000
_NUMBERED = re.compile(r"^\s*(?:Q|第)?\s*\d+\s*(?:题)?\s*[、.．:：)）]\s*")
_SPLIT = re.compile(r"[┋|;；]")
_TIME_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d",
    "%Y-%m-%d",
)


@dataclass(frozen=True)
class Problem:
    row: int | None  # the Excel row number; None for a problem with the file or a column
    column: str | None  # the column letter and header
    message: str

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(_("row %(row)s") % {"row": self.row})
        if self.column:
            where.append(_("column %(column)s") % {"column": self.column})
        return f"{', '.join(where)}: {self.message}" if where else self.message


def question_header(number: int, question: dict) -> str:
    return f"{number}、{question['text']['zh']}"


def template(instrument: Instrument) -> bytes:
    """An empty workbook with the import columns, and a sheet listing each question's options."""
    book = Workbook()
    sheet = book.active
    sheet.title = "答卷"
    headers = [SERIAL, SUBMITTED, ORGUNIT] + [
        question_header(n, q) for n, q in enumerate(instrument.questions, start=1)
    ]
    sheet.append(headers)
    for index, _header in enumerate(headers, start=1):
        sheet.cell(row=1, column=index).font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(index)].width = 18 if index > 3 else 14
    notes = book.create_sheet("选项说明")
    notes.append(["题目", "题型", "可填写的选项", "多选分隔符"])
    for number, question in enumerate(instrument.questions, start=1):
        notes.append(
            [
                question_header(number, question),
                question["type"],
                " / ".join(question["options"]),
                "┋" if is_multiple(question) else "",
            ]
        )
    notes.append([])
    notes.append(
        [
            (
                f"{SERIAL}：问卷星导出的序号（同一文件内不重复）；{SUBMITTED}：如 2025/6/1 10:30:00；"
                f"{ORGUNIT}：调查所在乡镇（街道）或机构的代码。"
            )
        ]
    )
    out = io.BytesIO()
    text_typed(book)
    book.save(out)
    return out.getvalue()


def read_responses(
    instrument: Instrument, period: str, content: bytes, user: User, *, name: str = ""
) -> tuple[list[dict], list[Problem]]:
    """(rows ready for `store_imported_responses`, problems). Rows are only good to store when
    there are no problems. A file past the upload limits (lib/uploads.py) is one problem."""
    try:
        table = sheets.workbook_rows(content, name or _("the file"))
    except uploads.TooLarge as error:
        return [], [Problem(None, None, str(error))]
    except (BadZipFile, KeyError, OSError, ValueError, EOFError, zlib.error, ParseError) as error:
        # zlib.error, EOFError: a damaged zip, at load or while rows are read (fuzzing).
        return [], [Problem(None, None, _("Not an Excel workbook (.xlsx): %(e)s") % {"e": error})]
    if not table:
        return [], [Problem(None, None, _("The workbook is empty."))]
    columns, problems = _map_columns(instrument, table[0])
    if problems:
        return [], problems
    rows, seen = [], {}
    for number, cells in enumerate(table[1:], start=2):
        if all(c is None or str(c).strip() == "" for c in cells):
            continue
        if len(rows) >= MAX_ROWS:
            problems.append(Problem(number, None, _("More than %(n)s rows.") % {"n": MAX_ROWS}))
            break
        row, row_problems = _read_row(instrument, columns, cells, number, user)
        problems += row_problems
        if row is not None:
            key = (row["serial"], row["submitted_at"])
            if key in seen:
                problems.append(
                    Problem(
                        number,
                        columns[SERIAL][1],
                        _("serial %(s)s appears again (first on row %(r)s)")
                        % {"s": key[0], "r": seen[key]},
                    )
                )
            seen[key] = number
            rows.append(row)
    problems += _already_imported(instrument, period, rows, columns)
    if not rows and not problems:
        problems.append(Problem(None, None, _("The sheet has no responses.")))
    return rows, problems


def _normalise(header) -> str:
    return _NUMBERED.sub("", str(header or "")).strip()


def _map_columns(instrument: Instrument, header_row) -> tuple[dict, list[Problem]]:
    """{field or question id: (column index, "C 「header」")}, and problems with columns."""
    wanted = {SERIAL: SERIAL, SUBMITTED: SUBMITTED, ORGUNIT: ORGUNIT}
    for question in instrument.questions:
        wanted[_normalise(question["text"]["zh"])] = question["id"]
        wanted[question["id"]] = question["id"]
    columns, problems = {}, []
    for index, header in enumerate(header_row):
        label = f"{get_column_letter(index + 1)}「{header}」"
        name = _normalise(header)
        if not name or name in IGNORED:
            continue
        key = wanted.get(name)
        if key is None:
            problems.append(Problem(None, label, _("not a question of this instrument")))
        elif key in columns:
            problems.append(Problem(None, label, _("the same question appears twice")))
        else:
            columns[key] = (index, label)
    for key, label in [(SERIAL, SERIAL), (SUBMITTED, SUBMITTED), (ORGUNIT, ORGUNIT)] + [
        (q["id"], question_header(n, q)) for n, q in enumerate(instrument.questions, start=1)
    ]:
        if key not in columns:
            problems.append(Problem(None, label, _("column missing")))
    return columns, problems


def _read_row(instrument, columns, cells, number, user) -> tuple[dict | None, list[Problem]]:
    def cell(key):
        index = columns[key][0]
        return cells[index] if index < len(cells) else None

    problems = []
    serial = str(cell(SERIAL) or "").strip()
    if serial.endswith(".0"):
        serial = serial[:-2]  # Excel stores 17 as 17.0
    if not serial:
        problems.append(Problem(number, columns[SERIAL][1], _("empty")))
    submitted_at = _parse_time(cell(SUBMITTED))
    if submitted_at is None:
        problems.append(Problem(number, columns[SUBMITTED][1], _("not a date and time")))
    orgunit, message = _orgunit(cell(ORGUNIT), user)
    if message:
        problems.append(Problem(number, columns[ORGUNIT][1], message))
    answers = {}
    for question in instrument.questions:
        value, message = _answer(question, cell(question["id"]))
        if message:
            problems.append(Problem(number, columns[question["id"]][1], message))
        elif value is not None:
            answers[question["id"]] = value
    if problems:
        return None, problems
    return {
        "row": number,
        "serial": serial,
        "submitted_at": submitted_at,
        "orgunit": orgunit,
        "answers": answers,
    }, []


def _parse_time(value) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value or "").strip()
        moment = None
        for fmt in _TIME_FORMATS:
            try:
                moment = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if moment is None:
            return None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _orgunit(value, user) -> tuple[OrgUnit | None, str]:
    code = str(value or "").strip()
    if code.endswith(".0"):
        code = code[:-2]
    if not code:
        return None, _("empty")
    unit = OrgUnit.objects.filter(code=code).first()
    if unit is None or not access.can(user, "view", unit):
        return None, _("no org unit %(code)s in your scope") % {"code": code}
    if not access.can(user, "report", unit):
        return None, _("you may not enter responses for %(code)s") % {"code": code}
    return unit, ""


def _answer(question: dict, value) -> tuple[object, str]:
    """(clean answer or None when blank, problem message or "")."""
    text = "" if value is None else str(value).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    if not text:
        return None, (_("answer missing") if question.get("required", True) else "")
    parts = (
        [p.strip() for p in _SPLIT.split(text) if p.strip()] if is_multiple(question) else [text]
    )
    chosen = []
    for part in parts:
        option = _option(question["options"], part)
        if option is None:
            return None, _("%(value)s is not an option (%(options)s)") % {
                "value": part,
                "options": " / ".join(question["options"]),
            }
        chosen.append(option)
    if is_multiple(question):
        return [o for o in question["options"] if o in chosen], ""
    return chosen[0], ""


def _option(options: list[str], text: str) -> str | None:
    if text in options:
        return text
    if text.isdigit() and 1 <= int(text) <= len(options):
        return options[int(text) - 1]
    if len(text) == 1 and text.isalpha() and text.isascii():
        index = ord(text.upper()) - ord("A")
        if 0 <= index < len(options):
            return options[index]
    return None


def _already_imported(instrument, period, rows, columns) -> list[Problem]:
    if not rows:
        return []
    existing = set(
        SurveyResponse.objects.filter(
            instrument=instrument, period=period, serial__in={r["serial"] for r in rows}
        ).values_list("serial", "submitted_at")
    )
    return [
        Problem(
            r["row"],
            columns[SERIAL][1],
            _("serial %(s)s (%(t)s) was imported before")
            % {
                "s": r["serial"],
                "t": timezone.localtime(r["submitted_at"]).strftime("%Y-%m-%d %H:%M"),
            },
        )
        for r in rows
        if (r["serial"], r["submitted_at"]) in existing
    ]
