"""Workbook readers compared (docs/decisions/0008): lib.sheets, openpyxl read-only,
python-calamine. Not part of the project's dependencies: run calamine in a venv of its own.

    .venv/bin/python bench/bench_workbook_readers.py make /tmp/wb      # realistic.xlsx, whole-grid.xlsx
    XINGLIN_DATABASE_URL=sqlite:///:memory: .venv/bin/python bench/bench_workbook_readers.py sheets /tmp/wb/realistic.xlsx
    /tmp/calamine-venv/bin/python bench/bench_workbook_readers.py calamine /tmp/wb/realistic.xlsx

Each run prints CPU seconds, peak RSS and how many cells (and percent-typed, date cells) it read.
"""

import sys

if sys.argv[1] == "make":
    import os

    os.chdir(sys.argv[2])
    import re
    import zipfile
    from datetime import datetime

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    for s in range(50):
        sh = book.create_sheet(f"表{s}")
        sh.append(["盐池县卫健局 报表"])
        sh.append(["报表编码", "core", "期间", "2024"])
        sh.append(["机构编码", "机构名称"] + [f"指标{c}" for c in range(60)])
        sh.append(["orgunit", "name"] + [f"e{c}" for c in range(60)])
        for r in range(200):
            row = [f"6403231{r:05d}", f"卫生院{r}"]
            for c in range(60):
                if c == 5:
                    cell = WriteOnlyCell(sh, value=0.35)
                    cell.number_format = "0.0#%"
                    row.append(cell)
                elif c == 6:
                    cell = WriteOnlyCell(sh, value=datetime(2024, 1, 2))
                    row.append(cell)
                else:
                    row.append(r * c + 0.5 if c % 3 else r + c)
            sh.append(row)
    book.save("realistic.xlsx")
    book = Workbook(write_only=True)
    sh = book.create_sheet("values")
    sh.append(["orgunit", "period", "element", "value"])
    for n in range(10000):
        sh.append(["640323000001", f"2{n % 1000:03d}01", "total_visits", n])
    book.save("plain.xlsx")
    with (
        zipfile.ZipFile("plain.xlsx") as src,
        zipfile.ZipFile("whole-grid.xlsx", "w", zipfile.ZIP_DEFLATED) as out,
    ):
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb"<dimension [^>]*/>", b"", data)
                data = re.sub(
                    rb"(<worksheet[^>]*>)",
                    lambda m: m.group(1) + b'<dimension ref="A1:XFD1048576"/>',
                    data,
                    count=1,
                )
            out.writestr(item, data)
else:
    import resource
    import time

    reader, path = sys.argv[1], sys.argv[2]
    t0 = time.process_time()
    if reader == "sheets":
        import os

        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinglin.settings")
        django.setup()
        from xinglin.lib import sheets

        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.process_time()
        book = sheets.load(path)
        cells = pct = dates = 0
        for sh in book.worksheets:
            for row in sheets.rows(sh):
                cells += len(row)
                pct += sum(type(v).__name__ == "Percent" for v in row)
                dates += sum(type(v).__name__ == "datetime" for v in row)
    elif reader == "openpyxl":
        from openpyxl import load_workbook

        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.process_time()
        book = load_workbook(path, read_only=True)
        cells = pct = dates = 0
        for sh in book.worksheets:
            for row in sh.iter_rows(values_only=True):
                cells += len(row)
                dates += sum(type(v).__name__ == "datetime" for v in row)
    else:
        from python_calamine import CalamineWorkbook

        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.process_time()
        book = CalamineWorkbook.from_path(path)
        cells = pct = dates = 0
        for name in book.sheet_names:
            for row in book.get_sheet_by_name(name).to_python():
                cells += len(row)
                dates += sum(type(v).__name__ in ("datetime", "date") for v in row)
    cpu = time.process_time() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"{reader:9s} {path:18s} cpu {cpu:6.2f} s  peak RSS {peak / 1024:7.0f} MB (+{(peak - base) / 1024:.0f} over import)  cells {cells}  percent-typed {pct}  dates {dates}"
    )
