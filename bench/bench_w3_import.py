"""W3 — import of 1,000,000 data values from CSV, fully validated (target ≤ 5 s), through the
`xinglin import` code path (collection's importer; measured by bench/bench_import.py, run here
with the W3 size: 3,000 village clinics, monthly visits), and the peer: row-by-row ORM saves
(`DataValue(...).save()` per value) on a sample, extrapolated to 1 M.
Run: python bench/bench_w3_import.py [--sample N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
VALUES = 1_000_000


def orm_rows_per_second(sample: int) -> float:
    sys.path.insert(0, str(HERE))
    import bench_import

    with tempfile.TemporaryDirectory() as directory:
        bench_import.setup(Path(directory) / "orm.sqlite3")
        from xinglin.collection.models import DataValue
        from xinglin.network.models import OrgUnit
        from xinglin.standards.models import DataElement

        codes = bench_import.build(100)
        units = list(OrgUnit.objects.filter(code__in=codes))
        element = DataElement.objects.get(code="total_visits")
        started = time.perf_counter()
        for n in range(sample):
            unit, month = units[n % len(units)], n // len(units)
            period = f"{2000 + month // 12}{month % 12 + 1:02d}"
            DataValue(element=element, orgunit=unit, period=period, value=float(n)).save()
        return sample / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=20_000)
    args = parser.parse_args()
    command = [sys.executable, str(HERE / "bench_import.py"), "--values", str(VALUES),
               "--clinics", "3000"]  # fmt: skip
    subprocess.call(command)
    rate = orm_rows_per_second(args.sample)
    print(f"peer: row-by-row ORM saves (no validation, no audit): {rate:,.0f} values/s on "
          f"{args.sample:,} values → {VALUES / rate:.1f} s for 1 M (extrapolated)")  # fmt: skip


if __name__ == "__main__":
    main()
