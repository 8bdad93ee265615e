"""Beyond one machine: the evaluation engine on Spark SQL (local mode) vs DuckDB, over the
generated province's Parquet (bench/_province.py, cached by bench_w1_province.py).

`evaluate(backend="spark")` — what `xinglin evaluate --backend spark` runs: the engine's own
statements, transpiled by SQLGlot, on Spark SQL over the same files as DuckDB — for a county,
a city and (with --province) the whole province; each figure, status and verdict compared with
DuckDB's (`backend="warehouse"`) field by field. Prints Spark's start-up and each scope's
seconds on both, and the machine's load. Needs pyspark and Java 17; prints what is missing.
Run: python bench/bench_spark.py [--province] [--master local[2]]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "var" / "bench" / "province"
PACK, YEAR = "demo-county-2022", "2024"
SCOPES = {"county": "990101", "city": "9901", "province": "99"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--province", action="store_true", help="the whole province too")
    parser.add_argument("--master", default="local[2]", help="Spark master URL")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinglin.settings")
    os.environ.setdefault("XINGLIN_VAR_DIR", str(DATA.parent / "w1-var"))
    os.environ["XINGLIN_SPARK_MASTER"] = args.master
    import django

    django.setup()
    import logging

    logging.getLogger("xinglin.warehouse").setLevel(logging.WARNING)
    from django.core.management import call_command

    from xinglin.evaluation.engine import evaluate
    from xinglin.warehouse import Warehouse, WarehouseError
    from xinglin.warehouse import spark as spark_backend

    call_command("migrate", verbosity=0)
    try:
        started = time.perf_counter()
        session = spark_backend.session()
    except WarehouseError as error:
        print(f"Spark bench skipped: {error}")
        return 0
    print(f"Spark {session.version} {args.master} started in {time.perf_counter() - started:.1f} s;"
          f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
    import _province

    if not (DATA / "province.json").exists():
        _province.generate(DATA)
    _province.ensure_engine_tables(DATA)
    warehouse = Warehouse(DATA)
    scopes = dict(SCOPES) if args.province else {k: v for k, v in SCOPES.items()
                                                   if k != "province"}  # fmt: skip
    for scope, code in scopes.items():
        duck = evaluate(PACK, code, YEAR, backend="warehouse", warehouse=warehouse)
        duck = evaluate(PACK, code, YEAR, backend="warehouse", warehouse=warehouse)  # warm
        runs = [evaluate(PACK, code, YEAR, backend="spark", warehouse=warehouse) for _ in range(2)]
        on_spark = runs[-1]
        rows = _rows(on_spark)
        same = rows == _rows(duck)
        print(f"{scope} {code}: {len(rows):,} results; DuckDB {duck.seconds:.2f} s, Spark "
              f"{runs[0].seconds:.1f} s first, {on_spark.seconds:.1f} s again "
              f"({on_spark.seconds / duck.seconds:.0f}x DuckDB); identical to DuckDB's in every "
              f"field: {'yes' if same else 'NO'}; verdict {on_spark.verdict.status}; "
              f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
    return 0


def _rows(evaluation) -> list[dict]:
    return sorted((r.as_json() for r in evaluation.results),
                  key=lambda r: (r["indicator"], r["orgunit"]))  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
