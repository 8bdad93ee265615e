"""The long CSV `orgunit,period,element,value` (UTF-8 or GBK, with or without a BOM).
Values are stored values: percentages as fractions (0.35), booleans 1/0.

A regular file (every record as wide as the header) is read by pyarrow's CSV reader into
columns (a million rows in a fraction of a second); any other file goes through the csv
module row by row, which says which row is short."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.utils.translation import gettext as _
from pyarrow import csv as arrow_csv

from xinglin.collection.importers import Parsed, UnreadableFile, _textreport
from xinglin.collection.validation import Batch, Candidate, Location, Problem
from xinglin.lib.text import ENCODINGS

COLUMNS = ("orgunit", "period", "element", "value")


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


def read(path: Path) -> Parsed:
    text, encoding = decode(path.read_bytes())
    parsed = Parsed("csv", encoding=encoding)
    header = [h.strip().lower() for h in next(csv.reader(io.StringIO(text, newline="")), [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        message = _("the first row must name the columns %(columns)s; missing: %(missing)s") % {
            "columns": ",".join(COLUMNS),
            "missing": ", ".join(missing),
        }
        parsed.problems.append(Problem(Location(row=1, field="header"), message))
        return parsed
    at = [header.index(c) for c in COLUMNS]
    table = _regular_table(text, len(header))
    if table is None:
        _read_rows(text, at, parsed)
    else:
        _read_columns(table, at, parsed)
    return parsed


def _regular_table(text: str, width: int) -> pa.Table | None:
    """The records after the header as text columns, or None when a record is not as wide
    as the header (or the file is otherwise irregular for arrow)."""
    names = [f"c{i}" for i in range(width)]
    try:
        return arrow_csv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=arrow_csv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=arrow_csv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
            convert_options=arrow_csv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _read_columns(table: pa.Table, at: list[int], parsed: Parsed) -> None:
    cells = [pc.utf8_trim_whitespace(column.combine_chunks()) for column in table.columns]
    blank = np.ones(table.num_rows, dtype=bool)
    for column in cells:
        blank &= pc.equal(column, "").to_numpy(zero_copy_only=False)
    orgunit, period, element, value = (cells[i] for i in at)
    empty = pc.equal(value, "").to_numpy(zero_copy_only=False) & ~blank
    rows = np.arange(2, table.num_rows + 2, dtype=np.int64)  # row 1 is the header
    for number in rows[empty].tolist():
        parsed.problems.append(Problem(Location(number, "value"), _("the value is empty")))
    keep = ~blank & ~empty
    mask = pa.array(keep)
    parsed.batch = Batch(
        orgunit=orgunit.filter(mask),
        period=period.filter(mask),
        element=element.filter(mask),
        raw=value.filter(mask),
        rows=rows[keep],
    )


def _read_rows(text: str, at: list[int], parsed: Parsed) -> None:
    reader = csv.reader(io.StringIO(text, newline=""))
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
        if value == "":
            parsed.problems.append(Problem(Location(number, "value"), _("the value is empty")))
            continue
        append(Candidate(orgunit, period, element, value, Location(number, "value")))


def write_report(path: Path, parsed: Parsed, problems: list[Problem], report: Path) -> None:
    _textreport.write(problems, report)
