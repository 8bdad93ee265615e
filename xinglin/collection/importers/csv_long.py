"""The long CSV `orgunit,period,element,value` (UTF-8 or GBK, with or without a BOM).
Values are stored values: percentages as fractions (0.35), booleans 1/0. Optional columns:
`comment`, and `category_option_combo` (the combination of a categorised element's value,
e.g. `F`; empty for an element without categories; decision 0013).

A regular file (every record as wide as the header) is read by pyarrow's CSV reader into
columns (a million rows in a fraction of a second), dictionary-encoded so that each distinct
text is trimmed (and later looked up or parsed) once; any other file goes through the csv
module row by row, which says which row is short."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.utils.translation import gettext as _
from pyarrow import csv as arrow_csv

from xinglin.collection.batch import Batch, Candidate, Location, Problem
from xinglin.collection.importers import Parsed, UnreadableFile, _textreport
from xinglin.lib import cells, uploads
from xinglin.lib.text import ENCODINGS

COLUMNS = ("orgunit", "period", "element", "value")
COMMENT = "comment"  # an optional column: each value's comment (empty clears it)
COMBO = "category_option_combo"  # an optional column: the value's category option combination


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding name). Raises UnreadableFile for binary files."""
    if b"\x00" in data[:4096]:
        raise UnreadableFile(_("this is not a text (CSV) file"))
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), "gbk" if encoding == "gb18030" else "utf-8"
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(_("the file is neither UTF-8 nor GBK text"))


def read(path: Path, *, name: str | None = None) -> Parsed:
    """Raises uploads.TooLarge past the upload limits on rows and columns."""
    bounds = uploads.Bounds(name or path.name)
    data = path.read_bytes()
    if data.isascii() and b"\x00" not in data[:4096]:
        # what decode would say (UTF-8) without decoding a copy of the file: ASCII lines
        # are their own text; the whole text is made only for an irregular file
        text, encoding = None, "utf-8"
    else:
        text, encoding = decode(data)
    parsed = Parsed("csv", encoding=encoding)
    lines = _lines(text) if text is not None else _ascii_lines(data)
    header = [h.strip().lower() for h in next(csv.reader(lines), [])]
    bounds.width(len(header))
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        message = _("the first row must name the columns %(columns)s; missing: %(missing)s") % {
            "columns": ",".join(COLUMNS),
            "missing": ", ".join(missing),
        }
        parsed.problems.append(Problem(Location(row=1, field="header"), message))
        return parsed
    at = [header.index(c) for c in COLUMNS]
    comment = header.index(COMMENT) if COMMENT in header else None
    combo = header.index(COMBO) if COMBO in header else None
    table = _regular_table(_utf8(data, text, encoding), len(header))
    if table is None:
        source = text if text is not None else data.decode("ascii")
        _read_rows(source, at, parsed, bounds, comment, combo)
    else:
        bounds.add(table.num_rows + 1)  # as wide as the header, every record
        _read_columns(table, at, parsed, comment, combo)
    return parsed


# The lines of a text as io.StringIO(text, newline="") gives them (ending in \r\n, \r or
# \n, kept), one at a time: the header needs the first, and a copy of the whole text costs.
_LINE = r"[^\r\n]*(?:\r\n|[\r\n])|[^\r\n]+"
_TEXT_LINE, _BYTES_LINE = re.compile(_LINE), re.compile(_LINE.encode())


def _lines(text: str) -> Iterator[str]:
    return (match.group() for match in _TEXT_LINE.finditer(text))


def _ascii_lines(data: bytes) -> Iterator[str]:
    return (match.group().decode("ascii") for match in _BYTES_LINE.finditer(data))


def _utf8(data: bytes, text: str | None, encoding: str) -> tuple[bytes, int]:
    """The text as UTF-8 bytes and where it starts in them: the file's own bytes when it is
    UTF-8 (after a BOM), no copy."""
    if encoding != "utf-8":
        return text.encode("utf-8"), 0
    return data, len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0


def _regular_table(utf8: tuple[bytes, int], width: int) -> pa.Table | None:
    """The records after the header as text columns, or None when a record is not as wide
    as the header (or the file is otherwise irregular for arrow). One thread (fewer CPU
    seconds); without a quote in the file no value holds a line break (a faster parse)."""
    data, start = utf8
    names = [f"c{i}" for i in range(width)]
    try:
        return arrow_csv.read_csv(
            pa.BufferReader(pa.py_buffer(data).slice(start)),
            read_options=arrow_csv.ReadOptions(column_names=names, skip_rows=1, use_threads=False),
            parse_options=arrow_csv.ParseOptions(
                newlines_in_values=data.find(b'"', start) != -1, ignore_empty_lines=False
            ),
            convert_options=arrow_csv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _read_columns(
    table: pa.Table, at: list[int], parsed: Parsed, comment: int | None, combo: int | None = None
) -> None:
    cells = [_trimmed(column) for column in table.columns]
    if combo is not None:  # the element column carries the operand `element.combo`
        cells[at[2]] = _operands(cells[at[2]], cells[combo])
    blank = np.ones(table.num_rows, dtype=bool)
    for column in cells:
        blank &= _empty(column)
    orgunit, period, element, value = (cells[i] for i in at)
    empty = _empty(value) & ~blank
    rows = np.arange(2, table.num_rows + 2, dtype=np.int64)  # row 1 is the header
    for number in rows[empty].tolist():
        parsed.problems.append(Problem(Location(number, "value"), _("the value is empty")))
    keep = ~blank & ~empty
    columns = [orgunit, period, element, value]
    if comment is not None:
        columns.append(cells[comment])
    if not keep.all():
        mask = pa.array(keep)
        columns = [column.filter(mask) for column in columns]
        rows = rows[keep]
    orgunit, period, element, value = columns[:4]
    parsed.batch = Batch(
        orgunit=orgunit,
        period=period,
        element=element,
        raw=value,
        rows=rows,
        comments=columns[4] if comment is not None else None,
    )


def _operands(element: pa.DictionaryArray, combo: pa.DictionaryArray) -> pa.DictionaryArray:
    """`element.combo` where a combination is given, the element alone where it is empty
    (as `standards.categories.operand`), dictionary-encoded."""
    codes, combos = pc.cast(element, pa.string()), pc.cast(combo, pa.string())
    joined = pc.binary_join_element_wise(codes, combos, ".")
    chosen = pc.if_else(pc.equal(pc.utf8_length(combos), 0), codes, joined)
    return pc.dictionary_encode(chosen)


def _trimmed(column: pa.ChunkedArray) -> pa.DictionaryArray:
    """A text column with whitespace trimmed, dictionary-encoded (each distinct text once,
    so that it is trimmed, and later looked up or parsed, once)."""
    encoded = pc.dictionary_encode(column).combine_chunks()  # the chunks share a dictionary
    trimmed = pc.utf8_trim_whitespace(encoded.dictionary)
    if pc.any(pc.starts_with(trimmed, "'")).as_py():  # as an export neutralised it: '=x
        trimmed = pa.array([cells.csv_value(t) for t in trimmed.to_pylist()], pa.string())
    if trimmed.equals(encoded.dictionary):
        return encoded
    again = pc.dictionary_encode(trimmed)  # " a" and "a" are one text now
    return pa.DictionaryArray.from_arrays(again.indices.take(encoded.indices), again.dictionary)


def _empty(column: pa.DictionaryArray) -> np.ndarray:
    """Per row: the text is empty."""
    empty = pc.binary_length(column.dictionary).to_numpy(zero_copy_only=False) == 0
    if not empty.any():
        return np.zeros(len(column), dtype=bool)
    return empty[column.indices.to_numpy(zero_copy_only=False)]


def _read_rows(
    text: str,
    at: list[int],
    parsed: Parsed,
    bounds: uploads.Bounds,
    comment: int | None = None,
    combo: int | None = None,
) -> None:
    reader = uploads.csv_rows(csv.reader(io.StringIO(text, newline="")), bounds.name)
    next(reader, None)
    width = max(at) + 1
    append = parsed.candidates.append
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < width:
            message = _("expected %(n)d columns, found %(found)d") % {"n": width, "found": len(row)}
            parsed.problems.append(Problem(Location(row=number, field="row"), message))
            continue
        orgunit, period, element, value = (row[i].strip() for i in at)
        if combo is not None and combo < len(row) and row[combo].strip():
            element = f"{element}.{row[combo].strip()}"
        if value == "":
            parsed.problems.append(Problem(Location(number, "value"), _("the value is empty")))
            continue
        note = None
        if comment is not None:
            note = row[comment].strip() if comment < len(row) else ""
        append(Candidate(orgunit, period, element, value, Location(number, "value"), comment=note))


def write_report(path: Path, parsed: Parsed, problems: list[Problem], report: Path) -> None:
    _textreport.write(problems, report)
