"""Benchmark: 100,000 values through the `xinglin import` code path (long CSV).

Builds a county with 300 village clinics in a temporary SQLite database, writes a long CSV of
monthly total_visits / tcm_visits (100,000 rows), then times `xinglin import FILE` on it (all
values new) and again (all unchanged). Target: < 10 s for the first import.
Run: python bench/bench_import.py [--values N] [--clinics N]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

TARGET_SECONDS = 10.0


def setup(database: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ["XINGLIN_DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinglin.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build(clinics: int) -> list[str]:
    from xinglin.network.actions import create_institution, import_divisions
    from xinglin.network.models import OrgUnit
    from xinglin.standards.catalogue import sync_catalogue

    sync_catalogue()
    import_divisions("640323")
    townships = list(OrgUnit.objects.filter(parent__code="640323"))
    codes = []
    for number in range(clinics):
        township = townships[number % len(townships)]
        code = f"{township.code}{200 + number // len(townships):03d}"
        create_institution(
            code=code, name=f"卫生室{number}", institution_type="village_clinic", parent=township
        )
        codes.append(code)
    return codes


def write_csv(path: Path, codes: list[str], values: int, seed: int) -> None:
    chance = random.Random(seed)
    lines = ["orgunit,period,element,value"]
    year, month = 2000, 1
    while len(lines) <= values:
        period = f"{year}{month:02d}"
        for code in codes:
            total = chance.randint(800, 1200)
            lines.append(f"{code},{period},total_visits,{total}")
            lines.append(f"{code},{period},tcm_visits,{chance.randint(200, total // 2)}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    path.write_text("\n".join(lines[: values + 1]) + "\n", encoding="utf-8")


def timed_import(path: Path) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of this process, the command's summary line). The CPU figure
    shows the code's cost when the machine is busy with other work."""
    from django.core.management import call_command

    out, err = io.StringIO(), io.StringIO()
    start, cpu = time.perf_counter(), time.process_time()
    with redirect_stdout(out), redirect_stderr(err):
        call_command("import", str(path), stdout=out, stderr=err)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return wall, cpu, out.getvalue().strip().splitlines()[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=100_000)
    parser.add_argument("--clinics", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        setup(Path(directory) / "bench.sqlite3")
        codes = build(args.clinics)
        path = Path(directory) / "values.csv"
        write_csv(path, codes, args.values, args.seed)
        first, first_cpu, summary = timed_import(path)
        again, again_cpu, summary_again = timed_import(path)
    print(
        f"import of {args.values:,} values (new):       {first:6.2f} s (cpu {first_cpu:.2f} s)"
        f"  {summary}"
    )
    print(
        f"import of {args.values:,} values (unchanged): {again:6.2f} s (cpu {again_cpu:.2f} s)"
        f"  {summary_again}"
    )
    print(f"target < {TARGET_SECONDS:.0f} s: {'met' if first < TARGET_SECONDS else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
