"""Workbooks read as openpyxl's read-only mode reads them, three times faster: `load(path)` is
`load_workbook(path, read_only=True)`, and `rows(sheet)` is
`list(sheet.iter_rows(values_only=True))` (same values, same types, same padding). A
million-value workbook (167 sheets, 2 M cells): 7.9 s CPU, openpyxl 25.9 s.

`load`: openpyxl sizes each sheet on opening by looking for its `<dimension>`, which comes
before the cells; in a sheet without one (streaming writers leave it out) it reads every
cell to the end of `<sheetData>` first (5 s for a million-value workbook). Here the search
stops where the cells begin.

`rows`: openpyxl builds a dict per cell and pads every row in Python (~10 µs a cell: 20 s for
those 2 M cells; here 7.6 s, half of it the XML parser itself). The sheet's XML goes through the
same stdlib parser (`xml.etree.ElementTree.iterparse`, so untrusted files meet the same
parser), and the cells every workbook is made of — numbers, shared strings and plain inline
strings — are decoded in a few lines; anything else (formulas, dates, booleans, errors, rich
text, a cell without a plain value) goes to openpyxl's own cell parser, in document order, so
it comes out exactly as openpyxl gives it. It leans on openpyxl internals (`_reader`,
`_get_source`, the workbook's date formats), pinned with openpyxl in pyproject.toml; the
tests compare the two readers on workbooks holding every kind of cell.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import Element, iterparse

from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.numbers import BUILTIN_FORMATS_MAX_SIZE, builtin_format_code
from openpyxl.utils import column_index_from_string
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import WorkSheetParser, _cast_number
from openpyxl.worksheet.dimensions import SheetDimension
from openpyxl.xml.constants import SHEET_MAIN_NS

from xinglin.lib import uploads

# openpyxl has no type information: its workbooks and sheets are Any here, and so are the
# cell values it gives (text, numbers, dates, times, None).
Book = Any
Sheet = Any
Row = tuple[Any, ...]

ROW = f"{{{SHEET_MAIN_NS}}}row"
CELL = f"{{{SHEET_MAIN_NS}}}c"
VALUE = f"{{{SHEET_MAIN_NS}}}v"
INLINE = f"{{{SHEET_MAIN_NS}}}is"
TEXT = f"{{{SHEET_MAIN_NS}}}t"
DIMENSION = f"{{{SHEET_MAIN_NS}}}dimension"
SHEET_DATA = f"{{{SHEET_MAIN_NS}}}sheetData"
DIGITS = "0123456789"


class Percent(float):
    """A number from a cell with a percent number format: the fraction Excel stores (a cell
    showing 35% holds 0.35). Equal to that float; its type says it was shown as a percent."""


def percent_styles(book: Book) -> frozenset[int]:
    """The indexes of the workbook's cell styles whose number format shows a percent."""
    found: set[int] = set()
    for index, style in enumerate(getattr(book, "_cell_styles", ())):
        number = style.numFmtId
        if number < BUILTIN_FORMATS_MAX_SIZE:
            code = builtin_format_code(number) or ""
        else:
            custom = book._number_formats
            code = (
                custom[number - BUILTIN_FORMATS_MAX_SIZE]
                if number - BUILTIN_FORMATS_MAX_SIZE < len(custom)
                else ""
            )
        if _shows_percent(code):
            found.add(index)
    return frozenset(found)


def _shows_percent(code: str) -> bool:
    """A `%` in a number format outside quoted text and not escaped."""
    plain: list[str] = []
    quoted = escaped = False
    for char in code:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif not quoted:
            plain.append(char)
    return "%" in plain


def load(path: str | Path | IO[bytes], *, data_only: bool = False, name: str | None = None) -> Book:
    """`openpyxl.load_workbook(path, read_only=True, data_only=…)`, its sheets sized without
    reading their cells. Raises what load_workbook raises, and uploads.TooLarge for a workbook
    that unpacks past the upload limit (checked before any part is read; `name` names it)."""

    reader = _Reader(path, read_only=True, data_only=data_only)
    try:
        uploads.check_unpacked(reader.archive, name or getattr(path, "name", None) or str(path))
        reader.read()
    except BaseException:
        reader.archive.close()
        raise
    return reader.wb


class _Sheet(ReadOnlyWorksheet):  # type: ignore[misc]  # openpyxl is untyped
    def _get_size(self) -> None:
        with self._get_source() as source:
            for event, element in iterparse(source, events=("start", "end")):
                if event == "start":
                    if element.tag == SHEET_DATA:
                        return  # the cells begin: no <dimension> (it comes before them)
                elif element.tag == DIMENSION:
                    boundaries = SheetDimension.from_tree(element).boundaries
                    self._min_column, self._min_row, self._max_column, self._max_row = boundaries
                    return


class _Reader(ExcelReader):  # type: ignore[misc]  # openpyxl is untyped
    def read_worksheets(self) -> None:
        """ExcelReader.read_worksheets in read-only mode (all it does there), with _Sheet."""
        for sheet, rel in self.parser.find_sheets():
            if rel.target not in self.valid_files:
                continue
            if "chartsheet" in rel.Type:
                self.read_chartsheet(sheet, rel)
                continue
            worksheet = _Sheet(self.wb, sheet.name, rel.target, self.shared_strings)
            worksheet.sheet_state = sheet.state
            self.wb._sheets.append(worksheet)


def rows(sheet: Sheet, bounds: uploads.Bounds | None = None) -> list[Row]:
    """The rows of a read-only worksheet, as `sheet.iter_rows(values_only=True)` gives them
    for a sheet without a declared size: each row as wide as its last cell, rows the file
    leaves out as (). The sheet's declared `<dimension>` is ignored (issue 18.10): a 50 KB
    workbook declaring A1:XFD1048576 had each of its rows padded to 16,384 cells (1.4 GB).
    `bounds` (uploads.Bounds) counts the rows (those left out too) and checks each row's
    width before it is built: uploads.TooLarge at the first past a limit."""
    book = sheet.parent
    strings = sheet._shared_strings
    dates = book._date_formats
    percents = percent_styles(book)
    max_col = max_row = None  # never the declared size
    empty_row: Row = ()
    # openpyxl's parser for the cells decoded here only in their plain form
    other = WorkSheetParser(
        None,
        strings,
        data_only=book.data_only,
        epoch=book.epoch,
        date_formats=dates,
        timedelta_formats=book._timedelta_formats,
    )
    columns: dict[str, int] = {}  # "AB" -> 28
    result: list[Row] = []
    counter = index = 1
    row_number = 0
    with sheet._get_source() as source:
        for _event, element in iterparse(source):
            if element.tag != ROW:
                continue
            number = element.get("r")
            row_number = _row_number(number) if number is not None else row_number + 1
            cells: list[tuple[int, object]] = []
            column = 0
            for cell in element:
                coordinate = cell.get("r")
                if coordinate:
                    letters = coordinate.rstrip(DIGITS)
                    at = columns.get(letters) or _column(letters, columns)
                else:
                    at = column + 1
                value = _plain(cell, strings, dates, percents) if at else _OTHER
                if at is None or value is _OTHER:  # (no column: value is _OTHER)
                    other.row_counter, other.col_counter = row_number, column
                    parsed = other.parse_cell(cell)
                    at, value = parsed["column"], parsed["value"]
                column = at
                cells.append((at, value))
            element.clear()
            index = row_number
            if max_row is not None and index > max_row:
                break
            if bounds is not None and index >= counter:
                bounds.add(index - counter + 1)
                if cells:
                    bounds.width(max(column for column, _value in cells))
            while counter < index:  # rows the file leaves out
                result.append(empty_row)
                counter += 1
            if counter <= index:
                result.append(_padded(cells, max_col))
                counter += 1
    if max_row is not None and max_row < index:
        result.extend(empty_row for _ in range(counter, max_row + 1))
    return result


_OTHER = object()


def _plain(  # noqa: C901, PLR0911 — one return per SpreadsheetML cell type
    cell: Element,
    strings: Sequence[str],
    dates: Collection[int],
    percents: frozenset[int] = frozenset(),
) -> object:
    """A number, shared string or plain inline string's value; _OTHER for anything else."""
    if cell.tag != CELL:
        return _OTHER
    kind = cell.get("t", "n")
    children = len(cell)
    if kind == "inlineStr":
        if children != 1:
            return _OTHER
        inline = cell[0]
        if inline.tag != INLINE or len(inline) != 1:
            return _OTHER
        node = inline[0]
        if node.tag != TEXT or len(node):
            return _OTHER
        return node.text or ""
    if children == 0:
        return None if kind in ("n", "s") else _OTHER
    if children != 1 or cell[0].tag != VALUE:
        return _OTHER  # a formula, or something unexpected
    text = cell[0].text
    if not text:
        return None if kind in ("n", "s") else _OTHER
    if kind == "n":
        if dates and int(cell.get("s") or 0) in dates:
            return _OTHER  # a date or time: openpyxl converts it
        if percents and int(cell.get("s") or 0) in percents:
            return Percent(_cast_number(text))
        return _cast_number(text)
    if kind == "s":
        return strings[int(text)]
    return _OTHER


def _column(letters: str, columns: dict[str, int]) -> int | None:
    """The column of a cell reference's letters (None when they are not plain letters:
    openpyxl's parser then decides, and names the error)."""
    if not letters.isalpha():
        return None
    try:
        columns[letters] = column_index_from_string(letters)
    except ValueError:
        return None
    return columns[letters]


def _row_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        value = float(text)
        if value.is_integer():
            return int(value)
        raise ValueError(f"{text} is not a valid row number") from None


def _padded(cells: list[tuple[int, object]], max_col: int | None) -> Row:
    if not cells and not max_col:
        return ()
    width = max_col or max(column for column, _value in cells)  # cells may come out of order
    row: list[object] = [None] * width
    for column, value in cells:
        if 1 <= column <= width:
            row[column - 1] = value
    return tuple(row)


def workbook_rows(content: bytes, name: str, *, data_only: bool = True) -> list[tuple[Any, ...]]:
    """The rows of a workbook's first sheet as `iter_rows(values_only=True)` gives them (the
    declared `<dimension>` ignored), bounded. Raises TooLarge, or what openpyxl raises for a
    damaged file."""
    book = load(io.BytesIO(content), data_only=data_only, name=name)
    try:
        return rows(book.worksheets[0], uploads.Bounds(name)) if book.worksheets else []
    finally:
        book.close()
