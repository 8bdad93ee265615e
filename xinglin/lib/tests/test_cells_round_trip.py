"""Issue 20.5 / 18.3: the apostrophe an export puts before dangerous text is taken off by every
CSV reader (one rule in lib.cells), so an export is a valid import of itself."""

from __future__ import annotations

import csv
import io

import pytest

from xinglin.lib import cells, uploads

TEXTS = [
    '=HYPERLINK("x")',
    "+86 951 000",
    "-rf",
    "@SUM(A1)",
    "\tindented",
    "'=already quoted",
    "''=twice",
    "'plain apostrophe",
    "'",
    "'-3.5",
    "-3.5",
    "+12",
    "35%",
    "盐池县中医医院",
    "",
]


@pytest.mark.parametrize("text", TEXTS)
def test_csv_value_undoes_csv_text_exactly(text):
    assert cells.csv_value(cells.csv_text(text)) == text


def test_only_the_neutralising_apostrophe_is_taken_off():
    assert cells.csv_text("=1+1") == "'=1+1"
    assert cells.csv_text("'=1+1") == "''=1+1"  # else it would read back as =1+1
    assert cells.csv_text("'plain") == "'plain"  # nothing to guard: as it is
    assert cells.csv_value("'plain") == "'plain"
    assert cells.csv_value("'-3.5") == "'-3.5"  # a number was never neutralised


def test_a_csv_written_by_the_writer_reads_back_through_the_readers(settings):
    out = io.StringIO()
    cells.writer(out, lineterminator="\n").writerows([[t, "x"] for t in TEXTS])
    assert "'=HYPERLINK" in out.getvalue()  # neutralised in the file
    rows = list(uploads.csv_rows(csv.reader(io.StringIO(out.getvalue(), newline="")), "a.csv"))
    assert [row[0] for row in rows] == TEXTS
