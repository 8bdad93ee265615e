"""Cells that cannot attack the reader of an export (issue 20.5; OWASP "CSV injection").

Every CSV and xlsx writer of the project goes through here:

- CSV: a text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is written
  with a leading apostrophe, so that a spreadsheet shows it as text instead of running it
  (`=HYPERLINK(…)` as an institution's name). Text that is a plain number (`-3.5`, `+12`)
  is left alone: it is a value, not a formula. Every CSV reader takes that apostrophe off
  again (`csv_value`, the one rule both sides share), so an export is a valid import of
  itself: names come back exactly.
- xlsx: every text cell is written with the explicit string type (`t="s"`/`inlineStr`), so
  openpyxl never turns `=…` into a formula; numbers stay numbers. Excel does not evaluate a
  string cell, so the text keeps its exact characters.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

    _DictWriterBase = csv.DictWriter[str]
else:
    _DictWriterBase = csv.DictWriter  # csv.DictWriter is subscriptable from Python 3.12

# openpyxl has no type information: its cells and sheets are Any here.
XlsxCell = Any
XlsxSheet = Any
XlsxBook = Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?$")
STRING = "s"


def _dangerous(text: str) -> bool:
    return text.startswith(TRIGGERS) and not PLAIN_NUMBER.match(text)


def _guarded(text: str) -> bool:
    """Text as csv_text neutralises it: apostrophes, then dangerous text."""
    return text.startswith("'") and _dangerous(text.lstrip("'"))


def csv_text(value: Any) -> Any:
    """The value as a CSV cell may hold it: dangerous text neutralised, the rest unchanged.
    Text that already looks neutralised (`'=x`) gets an apostrophe too, so that csv_value
    gives every text back exactly."""
    if isinstance(value, str) and (_dangerous(value) or _guarded(value)):
        return "'" + value
    return value


def csv_value(text: str) -> str:
    """The inverse of csv_text, for every CSV reader (issue 20.5): the neutralising
    apostrophe taken off exactly where csv_text put it, so every export is a valid import
    of itself (`'=HYPERLINK("x")` → `=HYPERLINK("x")`; `'=x` was written `''=x`). Any other
    text is left as it is."""
    return text[1:] if _guarded(text) else text


def cell_text(value: object) -> str:
    """A spreadsheet or CSV cell as the text a person typed: empty for nothing, a date (or the
    date of a date-time) in ISO form, a whole float without its `.0`, anything else stripped."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_text(v) for v in values]


class _Writer:
    def __init__(self, file: SupportsWrite[str], **kwargs: Any) -> None:
        self._writer = csv.writer(file, **kwargs)

    def writerow(self, values: Iterable[Any]) -> Any:
        return self._writer.writerow(csv_row(values))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for values in rows:
            self.writerow(values)


class _DictWriter(_DictWriterBase):
    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow({k: csv_text(v) for k, v in rowdict.items()})

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        for rowdict in rowdicts:
            self.writerow(rowdict)


def writer(file: SupportsWrite[str], **kwargs: Any) -> _Writer:
    """`csv.writer` whose rows are neutralised."""
    return _Writer(file, **kwargs)


def dict_writer(
    file: SupportsWrite[str], fieldnames: Collection[str], **kwargs: Any
) -> _DictWriter:
    """`csv.DictWriter` whose rows are neutralised (the header is ours)."""
    return _DictWriter(file, fieldnames, **kwargs)


# --- xlsx ------------------------------------------------------------------------------


def set_cell(cell: XlsxCell, value: Any) -> XlsxCell:
    """`cell.value = value` with text typed as text (never a formula)."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = STRING
    return cell


def xlsx_row(sheet: XlsxSheet, values: Iterable[Any]) -> list[Any]:
    """A row for `sheet.append` in write-only mode: text becomes a WriteOnlyCell typed as
    text; cells already made (styled) keep their style and get the text type too."""

    row: list[Any] = []
    for value in values:
        if isinstance(value, Cell):  # WriteOnlyCell() makes a Cell
            if isinstance(value.value, str):
                value.data_type = STRING
            row.append(value)
        elif isinstance(value, str):
            row.append(set_cell(WriteOnlyCell(sheet), value))
        else:
            row.append(value)
    return row


def append(sheet: XlsxSheet, values: Iterable[Any]) -> None:
    """`sheet.append(values)` for a normal or write-only sheet, text typed as text."""

    values = list(values)
    if isinstance(sheet, WriteOnlyWorksheet):
        sheet.append(xlsx_row(sheet, values))
        return
    sheet.append(values)
    for cell in sheet[sheet._current_row]:
        if isinstance(cell.value, str):
            cell.data_type = STRING


def text_typed(book: XlsxBook) -> None:
    """Every text cell of a (normal-mode) workbook typed as text: for writers that fill
    cells one by one. Call it just before saving."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.data_type == "f":
                    cell.data_type = STRING
