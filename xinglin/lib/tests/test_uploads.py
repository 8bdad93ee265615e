"""lib.uploads: the one check of bytes, rows and columns every upload path uses (issue 18.10).
The paths themselves are tested in each app's test_bounded_uploads.py."""

from __future__ import annotations

import io
import re
import tracemalloc
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from xinglin.lib import sheets, uploads

WHOLE_GRID = b'<dimension ref="A1:XFD1048576"/>'


@pytest.fixture(autouse=True)
def _english():
    from django.utils import translation

    with translation.override("en"):
        yield


def _xlsx(rows, *, whole_grid=False) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("s")
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    if not whole_grid:
        return out.getvalue()
    return _rewrite_sheet(
        out.getvalue(),
        lambda data: re.sub(
            rb"(<worksheet[^>]*>)",
            lambda m: m.group(1) + WHOLE_GRID,
            re.sub(rb"<dimension [^>]*/>", b"", data),
            count=1,
        ),
    )


def _rewrite_sheet(content: bytes, change) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(content)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = change(data)
            target.writestr(item, data)
    return out.getvalue()


def test_rows_past_the_limit_are_refused_naming_the_file_and_the_limit(settings):
    settings.UPLOAD_MAX_ROWS = 3
    rows = uploads.text_rows("a\nb\nc\n", "ok.csv")
    assert list(rows) == [["a"], ["b"], ["c"]]
    with pytest.raises(uploads.TooLarge) as refused:
        list(uploads.text_rows("a\nb\nc\nd\n", "big.csv"))
    assert str(refused.value) == "big.csv has more than 3 rows (the upload limit): split it"


def test_a_row_wider_than_the_limit_is_refused(settings):
    settings.UPLOAD_MAX_COLUMNS = 4
    assert list(uploads.text_rows("1,2,3,4\n", "ok.csv")) == [["1", "2", "3", "4"]]
    with pytest.raises(uploads.TooLarge, match="wide.csv has a row wider than 4 columns"):
        list(uploads.text_rows("1,2,3,4,5\n", "wide.csv"))


def test_the_message_speaks_the_users_language(settings):
    from django.utils import translation

    settings.UPLOAD_MAX_ROWS = 1
    with translation.override("zh-hans"), pytest.raises(uploads.TooLarge) as refused:
        list(uploads.text_rows("a\nb\n", "机构.csv"))
    assert str(refused.value).startswith("机构.csv 超过 1 行")


def test_a_workbook_row_is_refused_before_it_is_padded(settings):
    """One cell at XFD1 would make a row of 16,384 cells: refused on its width instead."""
    settings.UPLOAD_MAX_COLUMNS = 1000
    content = _rewrite_sheet(
        _xlsx([["a"]]),
        lambda data: data.replace(b'<c r="A1"', b'<c r="XFD1"'),
    )
    with pytest.raises(uploads.TooLarge, match="far.xlsx has a row wider than 1,000 columns"):
        sheets.workbook_rows(content, "far.xlsx")


def test_workbook_rows_count_the_rows_the_file_leaves_out(settings):
    settings.UPLOAD_MAX_ROWS = 100
    content = _rewrite_sheet(
        _xlsx([["a"]]),
        lambda data: data.replace(b'<row r="1"', b'<row r="1000000"').replace(b'r="A1"', b""),
    )
    with pytest.raises(uploads.TooLarge, match="more than 100 rows"):
        sheets.workbook_rows(content, "gap.xlsx")


def test_a_whole_grid_workbook_reads_in_bounded_memory(settings):
    """The small imports' reader (institutions, care, plans, surveys): 10,000 rows declaring
    A1:XFD1048576 took 1.4 GB when padded to the declared width."""
    content = _xlsx([["code", "name", n] for n in range(10_000)], whole_grid=True)
    tracemalloc.start()
    try:
        rows = sheets.workbook_rows(content, "grid.xlsx")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(rows) == 10_000 and rows[-1] == ("code", "name", 9999)
    assert peak < 32 * 1024 * 1024, f"peak {peak / 2**20:.0f} MB"


def test_a_workbook_unpacking_past_the_limit_is_refused_before_it_is_read(settings, tmp_path):
    settings.UPLOAD_MAX_MB = 1  # unpacked: at most 20 MB
    padded = _rewrite_sheet(
        _xlsx([["a"]]),
        lambda data: data.replace(b"<sheetData>", b" " * (21 * 2**20) + b"<sheetData>"),
    )
    assert len(padded) < 2**20  # a small file
    with pytest.raises(uploads.TooLarge, match="bomb.xlsx unpacks to more than 20 MB"):
        sheets.load(io.BytesIO(padded), name="bomb.xlsx")


def test_read_and_save_stop_at_the_byte_limit_and_keep_nothing(settings, tmp_path):
    settings.UPLOAD_MAX_MB = 1
    small = SimpleUploadedFile("small.csv", b"x" * 1000)
    assert uploads.read(small) == b"x" * 1000
    big = SimpleUploadedFile("big.csv", b"x" * (2**20 + 1))
    with pytest.raises(uploads.TooLarge) as refused:
        uploads.read(big)
    assert str(refused.value) == (
        "big.csv is larger than 1 MB (the upload limit): split it into smaller files"
    )
    stream = io.BytesIO(b"x" * (2**20 + 1))  # no declared size: stopped while reading
    with pytest.raises(uploads.TooLarge, match="stream.csv"):
        uploads.read(stream, name="stream.csv")
    with pytest.raises(uploads.TooLarge, match="evidence.pdf is larger than 0.5 MB"):
        uploads.read(SimpleUploadedFile("evidence.pdf", b"x" * 600_000), limit=2**19)
    target = tmp_path / "upload.csv"
    with pytest.raises(uploads.TooLarge):
        uploads.save(big, target)
    assert not target.exists()
    uploads.save(small, target)
    assert target.read_bytes() == b"x" * 1000


def test_the_command_line_check(settings, tmp_path):
    settings.UPLOAD_MAX_MB = 1
    path = tmp_path / "values.csv"
    path.write_bytes(b"x" * (2**20 + 1))
    with pytest.raises(uploads.TooLarge, match="values.csv is larger than 1 MB"):
        uploads.read_file(path)
    path.write_bytes(b"x")
    assert uploads.read_file(path) == b"x"
