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
