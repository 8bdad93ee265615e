"""W3 — import of 1,000,000 data values, fully validated (targets: CSV ≤ 5 s, xlsx ≤ 60 s)
through the `xinglin import` code path (bench/bench_import.py with the W3 size: 3,000 village
clinics, monthly visits), CSV and xlsx, on SQLite and on PostgreSQL; and the peer: row-by-row
ORM saves (`DataValue(...).save()` per value, no validation, no audit) on a sample,
extrapolated to 1 M.
Run: python bench/bench_w3_import.py [--sample N] [--postgres URL] [--skip-xlsx]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
VALUES = 1_000_000
POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"


def orm_rows_per_second(sample: int, postgres: str) -> tuple[float, float]:
    """(values per second wall, per CPU second) of row-by-row ORM saves."""
    sys.path.insert(0, str(HERE))
    import bench_import

    with tempfile.TemporaryDirectory() as directory:
        bench_import.setup(Path(directory) / "orm.sqlite3", postgres)
        from xinglin.collection.models import DataValue
        from xinglin.network.models import OrgUnit
        from xinglin.standards.models import DataElement

        codes = bench_import.build(100)
        units = list(OrgUnit.objects.filter(code__in=codes))
        element = DataElement.objects.get(code="total_visits")
        started, cpu = time.perf_counter(), time.process_time()
        for n in range(sample):
            unit, month = units[n % len(units)], n // len(units)
            period = f"{2000 + month // 12}{month % 12 + 1:02d}"
            DataValue(element=element, orgunit=unit, period=period, value=float(n)).save()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        return sample / wall, sample / cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--postgres", default=POSTGRES, help="server URL; '' to skip")
    parser.add_argument("--skip-xlsx", action="store_true")
    args = parser.parse_args()
    servers = [""] + ([args.postgres] if args.postgres else [])
    formats = ["csv"] + ([] if args.skip_xlsx else ["xlsx"])
    ours: dict[tuple[str, str], float] = {}  # (format, server) -> wall seconds, all new values
    for fmt in formats:
        for server in servers:
            command = [sys.executable, str(HERE / "bench_import.py"), "--values", str(VALUES),
                       "--clinics", "3000", "--format", fmt, "--postgres", server]  # fmt: skip
            out = subprocess.run(command, capture_output=True, text=True).stdout
            print(out, end="", flush=True)
            found = re.search(r"\(new\):\s+([\d.]+) s wall", out)
            if found:
                ours[fmt, server] = float(found.group(1))
    for server in servers:
        backend = "PostgreSQL" if server else "SQLite"
        # each run in its own process: Django is configured once per process
        code = (
            f"import sys; sys.path.insert(0, {str(HERE)!r}); import bench_w3_import as w;"
            f" print(*w.orm_rows_per_second({args.sample}, {server!r}))"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        wall_rate, cpu_rate = (float(x) for x in out.stdout.split()[-2:])
        print(f"peer ({backend}): row-by-row ORM saves (no validation, no audit): "
              f"{wall_rate:,.0f} values/s wall, {cpu_rate:,.0f} per CPU s, on {args.sample:,}"
              f" values → {VALUES / wall_rate:.0f} s wall, {VALUES / cpu_rate:.0f} s CPU for 1 M"
              " (extrapolated)")  # fmt: skip
        for fmt in formats:
            if (fmt, server) in ours:
                print(f"  {fmt} import on {backend}: {ours[fmt, server]:.2f} s, "
                      f"{VALUES / wall_rate / ours[fmt, server]:.0f}x faster than the peer")  # fmt: skip


if __name__ == "__main__":
    main()
