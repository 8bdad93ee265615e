"""Visit records at scale: import 1 million HIS rows (target < 30 s), derive the monthly
figures over 10 million visits on DuckDB over Parquet (target < 3 s).

    XINGLIN_VAR_DIR=/tmp/xl-bench .venv/bin/python bench/bench_visits.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinglin.settings")
os.environ.setdefault("XINGLIN_VAR_DIR", tempfile.mkdtemp(prefix="xl-bench-"))

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

TECHNIQUES = ["", "", "", "艾灸", "推拿;拔罐", "针刺"]


def _csv(rows: int, units: list[str]) -> bytes:
    rng = random.Random(1)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["visit_date", "institution", "department", "patient_id", "diagnoses",
                     "tcm_diagnoses", "techniques", "herbal"])  # fmt: skip
    for _ in range(rows):
        writer.writerow([f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                         rng.choice(units), rng.choice(["内科", "中医科", "外科"]),
                         f"P{rng.randint(1, 50000)}", "I10", rng.choice(["", "B03.01.03"]),
                         rng.choice(TECHNIQUES), rng.choice("001")])  # fmt: skip
    return out.getvalue().encode()


def bench_import(rows: int) -> None:
    from xinglin.care.visits import import_visits
    from xinglin.network.actions import import_divisions
    from xinglin.network.models import OrgUnit
    from xinglin.standards.catalogue import sync_catalogue

    call_command("migrate", verbosity=0)
    sync_catalogue()
    if not OrgUnit.objects.filter(code="640323").exists():
        import_divisions("640323")
    from xinglin.network.actions import create_institution

    units = []
    for n, township in enumerate(["640323100", "640323101", "640323102"]):
        code = f"{township}001"
        if not OrgUnit.objects.filter(code=code).exists():
            create_institution(code=code, name=f"卫生院{n}",
                               institution_type="township_health_center",
                               parent=OrgUnit.objects.get(code=township))  # fmt: skip
        units.append(code)
    content = _csv(rows, units)
    started = time.perf_counter()
    result = import_visits("bench.csv", content)
    seconds = time.perf_counter() - started
    assert not result.errors, result.errors[:3]
    print(f"import: {result.rows:,} rows in {seconds:.1f} s ({result.rows / seconds:,.0f} rows/s)")
    from xinglin.care.visit_warehouse import export_visits
    from xinglin.warehouse import Warehouse
    from xinglin.warehouse.engine import default_root

    started = time.perf_counter()
    export_visits(Warehouse(default_root()))
    print(f"export to Parquet: {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    from xinglin.care.visit_figures import visit_figures, year_months

    figures = visit_figures(year_months(2025))
    print(
        f"figures on the operational DB: {len(figures)} rows in {time.perf_counter() - started:.2f} s"
    )


def bench_warehouse(rows: int) -> None:
    """10 million visits written straight to Parquet in the warehouse's layout (generated with
    DuckDB: 400 institutions, 12 months, two departments), then derived."""
    import duckdb

    from xinglin.care import visit_warehouse as stored
    from xinglin.care.visit_figures import year_months
    from xinglin.warehouse import Warehouse

    root = Path(tempfile.mkdtemp(prefix="xl-warehouse-"))
    for table in ("visits", "visit_departments", "visit_institutions"):
        (root / table).mkdir()
    duckdb.execute(f"""
        COPY (SELECT 1::BIGINT AS batch_id, (1 + i % 400)::BIGINT AS institution_id,
                     (202501 + i % 12)::INTEGER AS month,
                     CASE WHEN i % 5 = 0 THEN 0 ELSE 1 END::INTEGER AS department_id,
                     i % 7 = 0 AS has_tcm_diagnosis, i % 11 = 0 AS has_technique,
                     i % 13 = 0 AS has_herbal
              FROM range({rows}) t(i))
        TO '{root / "visits" / "batch-1.parquet"}' (FORMAT PARQUET)""")
    duckdb.execute(f"""COPY (SELECT * FROM (VALUES (0, '中医科'), (1, '内科')) t(id, department))
        TO '{root / "visit_departments" / "all.parquet"}' (FORMAT PARQUET)""")
    duckdb.execute(f"""COPY (SELECT i::BIGINT AS id, '640323' || lpad(i::VARCHAR, 6, '0') AS code
        FROM range(1, 401) t(i)) TO '{root / "visit_institutions" / "all.parquet"}'
        (FORMAT PARQUET)""")
    warehouse = Warehouse(root)
    started = time.perf_counter()
    figures = stored.visit_figures(warehouse, year_months(2025))
    seconds = time.perf_counter() - started
    total = sum(f[2] for f in figures)
    print(f"warehouse: {total:,} visits → {len(figures):,} institution-months in {seconds:.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--warehouse-rows", type=int, default=10_000_000)
    args = parser.parse_args()
    bench_import(args.rows)
    bench_warehouse(args.warehouse_rows)
