"""The register's file formats, derived from its declaration: the import template (xlsx and
CSV: one column per declared field, headed by its name in Chinese; English names and field
codes are read too), and the CSV and JSON exports, each a valid import of itself. Cells pass
through `xinglin.lib.cells` (no formula reaches a reader)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import PurePath

import openpyxl
from django.utils import translation
from django.utils.translation import gettext as _

from xinglin.lib import cells, sheets
from xinglin.registers.registry import Register


class FileError(ValueError):
    """A file that cannot be read as the register's table (no row was looked at)."""


@dataclass(frozen=True)
class Row:
    number: int  # the row's number in the file (the header is row 1; JSON items count from 1)
    data: dict[str, str]


def headers(register: Register, language: str = "zh-hans") -> list[str]:
    with translation.override(language):
        return [str(register.field(f).verbose_name) for f in register.fields]


def _column_names(register: Register) -> dict[str, str]:
    """Every header a column may carry -> field name."""
    names = {f: f for f in register.fields}
    for language in ("zh-hans", "en"):
        names |= dict(zip(headers(register, language), register.fields, strict=True))
    return names


def _choice_words(register: Register, name: str) -> dict[str, str]:
    field = register.field(name)
    words = {}
    for value, label in field.choices or ():
        words[str(value)] = str(value)
        for language in ("zh-hans", "en"):
            with translation.override(language):
                words[str(label)] = str(value)
    return words


def _text(value) -> str:
    """A cell as typed, with the neutralising apostrophe of our own exports taken off."""
    return cells.csv_value(cells.cell_text(value))


def read(register: Register, name: str, content: bytes) -> list[Row]:
    """The rows of an uploaded file (.xlsx, .csv or .json), keyed by field name, choice labels
    turned into their codes. Raises FileError for an unreadable file or unknown columns."""
    suffix = PurePath(name).suffix.lower()
    if suffix == ".json":
        table = _json_table(register, content)
    elif suffix == ".xlsx":
        table = _xlsx_table(content)
    elif suffix == ".csv":
        table = _csv_table(content)
    else:
        raise FileError(_("%(file)s: use an .xlsx, .csv or .json file.") % {"file": name})
    if not table:
        raise FileError(_("%(file)s: the file is empty.") % {"file": name})
    columns = _columns(register, name, [_text(h) for h in table[0]])
    rows = []
    for number, values in enumerate(table[1:], start=2 if suffix != ".json" else 1):
        texts = [_text(v) for v in values]
        if not any(texts):
            continue
        data = {field: texts[i] if i < len(texts) else "" for i, field in columns}
        for field in data:
            if register.field(field).choices and data[field]:
                data[field] = _choice_words(register, field).get(data[field], data[field])
        rows.append(Row(number, data))
    return rows


def _columns(register: Register, name: str, header: list[str]) -> list[tuple[int, str]]:
    known = _column_names(register)
    unknown = [h for h in header if h and h not in known]
    if unknown:
        raise FileError(
            _(
                "%(file)s, row 1: unknown columns %(columns)s; the template's columns are %(expected)s."
            )
            % {
                "file": name,
                "columns": "、".join(unknown),
                "expected": "、".join(headers(register)),
            }
        )
    columns = [(i, known[h]) for i, h in enumerate(header) if h]
    missing = [f for f in register.fields if f not in {c for _i, c in columns}
               and not register.field(f).blank]  # fmt: skip
    if missing:
        with translation.override("zh-hans"):
            labels = "、".join(str(register.field(f).verbose_name) for f in missing)
        raise FileError(
            _("%(file)s, row 1: missing columns %(columns)s.") % {"file": name, "columns": labels}
        )
    return columns


def _json_table(register: Register, content: bytes) -> list[list]:
    try:
        items = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        raise FileError(_("not valid JSON: %(error)s") % {"error": error}) from error
    if isinstance(items, dict):
        items = items.get("items")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise FileError(_('JSON: expected a list of objects (or {"items": [...]}).'))
    header = list(dict.fromkeys(k for item in items for k in item)) or list(register.fields)
    return [header, *([item.get(k) for k in header] for item in items)]


def _csv_table(content: bytes) -> list[list]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("gb18030", errors="strict")
    return list(csv.reader(io.StringIO(text)))


def _xlsx_table(content: bytes) -> list[list]:
    try:
        book = sheets.load(io.BytesIO(content))
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise FileError(_("not a readable .xlsx file: %(error)s") % {"error": error}) from error
    return [list(r) for r in sheets.rows(book.worksheets[0])]


# ---------------------------------------------------------------------------- exports
def _cell(register: Register, record, name: str, *, for_json: bool):
    field = register.field(name)
    value = getattr(record, name)
    if name in register.org_fields:
        return value.code
    if value is None:
        return None if for_json else ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value) if for_json else f"{value.normalize():f}"
    if field.choices and not for_json:
        return str(dict(field.choices).get(value, value)) if value else ""
    return value


def csv_bytes(register: Register, records) -> bytes:
    out = io.StringIO()
    writer = cells.writer(out)
    writer.writerow(headers(register, translation.get_language() or "zh-hans"))
    for record in records:
        writer.writerow([_cell(register, record, f, for_json=False) for f in register.fields])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def json_items(register: Register, records) -> list[dict]:
    return [{f: _cell(register, r, f, for_json=True) for f in register.fields} for r in records]


def template_xlsx(register: Register) -> bytes:
    """The import template: the header row in Chinese, one example-free sheet."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = str(register.label)[:31]
    cells.append(sheet, headers(register))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
