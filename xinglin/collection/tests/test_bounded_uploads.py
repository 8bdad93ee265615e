"""Issue 18.10 (part): a workbook's declared `<dimension>` is ignored. A 10,000-row workbook
declaring A1:XFD1048576 took 1.4 GB when each row was padded to 16,384 cells."""

from __future__ import annotations

import re
import tracemalloc
import zipfile

import pytest
from openpyxl import Workbook

from xinglin.collection import importers
from xinglin.collection.tests.conftest import HMC

ROWS = 10_000
WHOLE_GRID = b'<dimension ref="A1:XFD1048576"/>'


def _whole_grid_workbook(tmp_path):
    book = Workbook(write_only=True)
    sheet = book.create_sheet("values")
    sheet.append(["orgunit", "period", "element", "value"])
    for number in range(ROWS):
        sheet.append([HMC, f"2{number % 1000:03d}01", "total_visits", number])
    plain = tmp_path / "plain.xlsx"
    book.save(plain)
    target = tmp_path / "whole-grid.xlsx"
    with (
        zipfile.ZipFile(plain) as source,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb"<dimension [^>]*/>", b"", data)
                data = re.sub(
                    rb"(<worksheet[^>]*>)", lambda m: m.group(1) + WHOLE_GRID, data, count=1
                )
                assert WHOLE_GRID in data
            out.writestr(item, data)
    return target


@pytest.mark.django_db
def test_a_whole_grid_workbook_is_read_in_bounded_memory(tmp_path):
    path = _whole_grid_workbook(tmp_path)
    assert path.stat().st_size < 200_000  # a small file: ~100 KB
    tracemalloc.start()
    try:
        parsed = importers.read(path)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert parsed.count == ROWS and not parsed.problems
    # padded to 16,384 columns the rows alone would be 10,000 × 16,384 × 8 bytes = 1.3 GB
    assert peak < 64 * 1024 * 1024, f"peak {peak / 2**20:.0f} MB"


def test_an_upload_over_the_limit_is_refused_and_nothing_is_kept(
    client_for, carol, catalogue, settings, tmp_path, monkeypatch
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from xinglin.collection import views
    from xinglin.collection.models import DataValue

    settings.UPLOAD_MAX_MB = 1
    # the test's own folder: tests running beside it write reports of their own
    monkeypatch.setattr(views, "REPORT_DIR", tmp_path / "import-reports")
    views.REPORT_DIR.mkdir(parents=True, exist_ok=True)
    before = set(views.REPORT_DIR.iterdir())
    line = f"{HMC},202401,total_visits,1\n".encode()
    body = b"orgunit,period,element,value\n" + line * (1024 * 1024 // len(line) + 10)
    page = client_for(carol).post(
        "/collection/import/", {"file": SimpleUploadedFile("big.csv", body, "text/csv")}
    )
    assert page.status_code == 200
    assert "1 MB" in page.content.decode()
    assert set(views.REPORT_DIR.iterdir()) == before  # no upload, no report left behind
    assert not DataValue.objects.exists()


def test_old_import_reports_are_removed(tmp_path):
    import os
    import time

    from xinglin.collection.actions import remove_old_import_reports

    old, new = tmp_path / "a-report.csv", tmp_path / "b-report.csv"
    old.write_text("x")
    new.write_text("y")
    week = 7 * 86400
    os.utime(old, (time.time() - week - 60, time.time() - week - 60))
    assert remove_old_import_reports(tmp_path, 7) == 1
    assert not old.exists() and new.exists()


def test_the_whole_grid_workbook_uploaded_on_the_import_page_is_bounded_too(
    client_for, carol, catalogue, settings, tmp_path
):
    """The web path end to end (upload handler, save, read, check): nothing refused for its
    declared size, and a cell past the column limit refused with the file's own name."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from xinglin.collection.models import DataValue

    path = _whole_grid_workbook(tmp_path)
    page = client_for(carol).post(
        "/collection/import/",
        {"file": SimpleUploadedFile("全表.xlsx", path.read_bytes()), "dry_run": "1"},
    )
    assert "上传上限" not in page.content.decode()  # read, whatever its declared size
    settings.UPLOAD_MAX_ROWS = 100
    page = client_for(carol).post(
        "/collection/import/", {"file": SimpleUploadedFile("全表.xlsx", path.read_bytes())}
    )
    assert "全表.xlsx 超过 100 行（上传上限）：请拆分" in page.content.decode()
    assert not DataValue.objects.exists()
