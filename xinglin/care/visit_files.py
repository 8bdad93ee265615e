"""Reading the rows of an HIS export or a code list: CSV/TSV (UTF-8 or GBK) or xlsx, bounded
by the upload limits, each row with the number a person sees in the file."""

from __future__ import annotations

import csv
import io
import zlib
from collections.abc import Iterator
from xml.etree.ElementTree import ParseError
from zipfile import BadZipFile

from xinglin.care.actions import CareError
from xinglin.lib import cells, sheets, uploads
from xinglin.lib.text import decode_text


def read_table(name: str, content: bytes) -> Iterator[list[str]]:
    """Rows of a .csv/.tsv (UTF-8 or GBK) or .xlsx file as lists of strings, blank rows
    skipped."""
    for _number, row in read_numbered(name, content):
        yield row


def read_numbered(name: str, content: bytes) -> Iterator[tuple[int, list[str]]]:
    """(row number in the file, cells) of each row that is not blank: the numbers a person
    sees in a spreadsheet or an editor, so an error's row can be found."""
    if name.lower().endswith(".xlsx"):
        yield from _xlsx_rows(name, content)
        return
    text = decode_text(content)
    if text is None:
        raise CareError(f"{name} is neither UTF-8 nor GBK text")
    delimiter = "\t" if name.lower().endswith(".tsv") else ","
    text = text.replace("\x00", "")  # never meaningful; PostgreSQL refuses it (fuzzing)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1  # the line a record starts on (a quoted field may span lines)
    try:
        for row in uploads.csv_rows(reader, name):
            if row and (row[0] or any(row)):
                yield start, row
            start = reader.line_num + 1
    except csv.Error as error:  # e.g. a stray carriage return inside a field (fuzzing)
        raise CareError(f"{name} is not a readable CSV file ({error})") from error
    except uploads.TooLarge as error:
        raise CareError(str(error)) from None


def _xlsx_rows(name: str, content: bytes) -> Iterator[tuple[int, list[str]]]:

    try:
        rows = sheets.workbook_rows(content, name)
    except uploads.TooLarge as error:
        raise CareError(str(error)) from None
    except (BadZipFile, KeyError, OSError, ValueError, EOFError, zlib.error, ParseError) as error:
        # zlib.error, EOFError: a damaged zip, at load or while rows are read (fuzzing).
        raise CareError(f"{name} is not an Excel workbook ({error})") from error
    for number, row in enumerate(rows, start=1):
        cells = [_cell(c) for c in row]
        if any(cells):
            yield number, cells


def _cell(value) -> str:
    return cells.cell_text(value)
