"""Benchmark: data values through the `xinglin import` code path (`import_file`: read, check
every value, write with audit), long CSV or the Excel template, on SQLite or PostgreSQL.

Builds a county with N village clinics in a fresh database (a temporary SQLite file, or a
database `xinglin_bench_import` dropped and created on the PostgreSQL server given), writes
monthly total_visits / tcm_visits (seeded), then times the import (all values new) and again
(all unchanged), printing wall and CPU seconds per phase (read, check, write). CPU is this
process only; on PostgreSQL the server backend's CPU is added to each phase when the server
runs on this machine (read from /proc), else its work shows only in the wall time.
Target (issue 4): 100,000 values < 10 s. W3 (issue 10) runs it with 1,000,000 values.
Run: python bench/bench_import.py [--values N] [--clinics N] [--format csv|xlsx]
                                  [--postgres postgres://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

TARGET_SECONDS = 10.0  # issue 4: 100,000 values
W3_SECONDS = {"csv": 5.0, "xlsx": 60.0}  # issue 10, W3: 1,000,000 values
BENCH_DATABASE = "xinglin_bench_import"


def setup(database: Path | None = None, postgres: str = "") -> None:
    """Point Django at a fresh database (SQLite file `database`, or a new database on the
    PostgreSQL server `postgres`) and migrate it."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    if postgres:
        os.environ["XINGLIN_DATABASE_URL"] = _fresh_postgres(postgres)
    else:
        os.environ["XINGLIN_DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinglin.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _fresh_postgres(server: str) -> str:
    import psycopg

    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {BENCH_DATABASE}")
    return server.rsplit("/", 1)[0] + "/" + BENCH_DATABASE


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


def _months():
    year, month = 2000, 1
    while True:
        yield f"{year}{month:02d}"
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _visits(chance: random.Random) -> tuple[int, int]:
    total = chance.randint(800, 1200)
    return total, chance.randint(200, total // 2)


def write_csv(path: Path, codes: list[str], values: int, seed: int) -> None:
    chance = random.Random(seed)
    lines = ["orgunit,period,element,value"]
    months = _months()
    while len(lines) <= values:
        period = next(months)
        for code in codes:
            total, tcm = _visits(chance)
            lines.append(f"{code},{period},total_visits,{total}")
            lines.append(f"{code},{period},tcm_visits,{tcm}")
    path.write_text("\n".join(lines[: values + 1]) + "\n", encoding="utf-8")


def write_xlsx(path: Path, codes: list[str], values: int, seed: int) -> None:
    """The village clinics' monthly form template, one sheet per month (the layout the
    template download gives: rows 1–4 headers, one clinic per row)."""
    from openpyxl import Workbook

    chance = random.Random(seed)
    book = Workbook(write_only=True)
    months, left = _months(), values
    while left > 0:
        period = next(months)
        sheet = book.create_sheet(period)
        sheet.append([f"村卫生室 月报 · {period}"])
        sheet.append(["报表编码", "village_clinic.monthly", "期间", period, "单位", "640323"])
        sheet.append(["机构编码", "机构名称", "总诊疗人次（人次）", "中医诊疗人次（人次）"])
        sheet.append(["orgunit", "name", "total_visits", "tcm_visits"])
        for code in codes:
            if left <= 0:
                break
            total, tcm = _visits(chance)
            sheet.append([code, code, total, tcm] if left > 1 else [code, code, total])
            left -= 2
    book.save(path)


def server_cpu() -> float | None:
    """CPU seconds of this connection's PostgreSQL backend so far, when the server runs on
    this machine and its /proc entry is readable (else None)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


@dataclass
class Timing:
    """Wall, CPU and (PostgreSQL on this machine) server CPU seconds at each progress step of
    import_file."""

    server: bool = False
    marks: list[tuple[float, float, float | None]] = field(default_factory=list)

    def __call__(self, done: int, total: int) -> None:
        self.marks.append(self.now())

    def now(self) -> tuple[float, float, float | None]:
        return time.perf_counter(), time.process_time(), server_cpu() if self.server else None


def timed_import(path: Path) -> tuple[float, float, str, str]:
    """(wall, CPU, phases, summary) of one import_file run as the system (the command's path)."""
    from xinglin.collection.actions import import_file

    timing = Timing(server=server_cpu() is not None)
    first = timing.now()
    result = import_file(path, progress=timing)
    wall, used = time.perf_counter() - first[0], time.process_time() - first[1]
    if result.problems:
        raise SystemExit(f"rejected: {[p.message for p in result.problems[:5]]}")
    steps = [first] + timing.marks
    # progress marks: start, read, checked, written (see import_file)
    names = ("read", "check", "write")
    phases = "  ".join(
        f"{name} {b[0] - a[0]:.2f}/{b[1] - a[1]:.2f}"
        + (f"/{b[2] - a[2]:.2f}" if a[2] is not None and b[2] is not None else "")
        for name, a, b in zip(names, steps[:-1], steps[1:], strict=False)
    )
    summary = f"{result.added} added, {result.changed} changed, {result.unchanged} unchanged"
    return wall, used, phases, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=100_000)
    parser.add_argument("--clinics", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    parser.add_argument("--postgres", default="", help="a PostgreSQL server URL (else SQLite)")
    args = parser.parse_args(argv)
    backend = "PostgreSQL" if args.postgres else "SQLite"
    with tempfile.TemporaryDirectory() as directory:
        setup(Path(directory) / "bench.sqlite3", args.postgres)
        codes = build(args.clinics)
        path = Path(directory) / f"values.{args.format}"
        writer = write_xlsx if args.format == "xlsx" else write_csv
        writer(path, codes, args.values, args.seed)
        runs = [("new", *timed_import(path)), ("unchanged", *timed_import(path))]
    label = f"{args.values:,} values, {args.format}, {backend}"
    for name, wall, cpu, phases, summary in runs:
        print(
            f"import of {label} ({name}): {wall:6.2f} s wall, {cpu:6.2f} s CPU"
            f"  [phases wall/CPU{'/server CPU' if args.postgres else ''} s: {phases}]  {summary}"
        )
    first = runs[0][1]
    if args.values >= 1_000_000:  # W3 (issue 10): 1 M values
        name, target = "issue 10, W3", W3_SECONDS[args.format]
    else:  # issue 4: 100,000 values
        name, target = "issue 4", TARGET_SECONDS
    verdict = "met" if first <= target else "NOT met"
    print(f"target ({name}, {args.values:,} values, {args.format}) ≤ {target:.0f} s: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
