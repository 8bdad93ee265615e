"""The long CSV `orgunit,period,element,value` (UTF-8 or GBK, with or without a BOM).
Values are stored values: percentages as fractions (0.35), booleans 1/0."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from django.utils.translation import gettext as _

from xinglin.collection.importers import Parsed, UnreadableFile, _textreport
from xinglin.collection.validation import Candidate, Location, Problem

COLUMNS = ("orgunit", "period", "element", "value")
# GB18030 is a superset of GBK (and of GB2312), so it reads either.
ENCODINGS = ("utf-8-sig", "gb18030")


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
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        message = _("the first row must name the columns %(columns)s; missing: %(missing)s") % {
            "columns": ",".join(COLUMNS),
            "missing": ", ".join(missing),
        }
        parsed.problems.append(Problem(Location(row=1, field="header"), message))
        return parsed
    at = [header.index(c) for c in COLUMNS]
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
    return parsed


def write_report(path: Path, parsed: Parsed, problems: list[Problem], report: Path) -> None:
    _textreport.write(problems, report)
