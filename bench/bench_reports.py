"""Benchmark: `xinglin report` for a county of ≈300 institutions (all three kinds × docx, pdf,
xlsx), each written end to end: five years of figures from the engine, charts, layout.

Builds the county like bench_engine.py (9 townships of 盐池县, ≈32 village clinics each, the
county hospitals; five years of demo figures) in a throw-away SQLite file, then times the
report command in-process. Target: each document < 10 s.
Run: python bench/bench_reports.py [--clinics N]
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_engine import build, setup  # noqa: E402

TARGET_SECONDS = 10.0
KINDS = ("annual", "midterm", "final")
FORMATS = ("docx", "pdf", "xlsx")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clinics", type=int, default=32, help="village clinics per township")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        setup(Path(directory) / "bench.sqlite3")
        started = time.perf_counter()
        institutions = build(args.clinics)
        print(f"county built: {institutions} institutions, 5 years "
              f"({time.perf_counter() - started:.1f} s)")  # fmt: skip
        from django.core.management import call_command

        slowest = 0.0
        for kind in KINDS:
            for fmt in FORMATS:
                output = Path(directory) / f"{kind}.{fmt}"
                started, cpu = time.perf_counter(), time.process_time()
                call_command("report", kind, orgunit="640323", period="2025", output=str(output),
                             stdout=io.StringIO())  # fmt: skip
                seconds = time.perf_counter() - started
                # CPU time too: on a shared machine the wall clock includes waiting for a core.
                cpu = time.process_time() - cpu
                slowest = max(slowest, seconds)
                size = output.stat().st_size // 1024
                print(f"report {kind:8} .{fmt:4}: {seconds:5.2f} s wall, {cpu:5.2f} s CPU, "
                      f"{size:6d} KiB")  # fmt: skip
        verdict = "OK" if slowest < TARGET_SECONDS else "SLOW"
        print(f"slowest document: {slowest:.2f} s (target < {TARGET_SECONDS:.0f} s) {verdict}")


if __name__ == "__main__":
    main()
