"""Beyond one machine: the engine's compiled SQL on Spark SQL (local mode), over Parquet.

For one county of the generated province (bench/_province.py, cached by bench_w1_province.py)
the engine prepares its four tables on DuckDB (tree, membership, the year's figures,
techniques), writes them to Parquet, and Spark SQL runs each indicator's compiled statement —
the same SQL, transpiled by SQLGlot to the Spark dialect — over those files. The figures are
compared with DuckDB's. Needs pyspark and Java 17; prints what is missing otherwise.
Run: python bench/bench_spark.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "var" / "bench" / "province"
PACK, UNIT, YEAR = "demo-county-2022", "990101", "2024"


def main() -> int:
    try:
        import pyspark
        from pyspark.sql import SparkSession
    except ImportError:
        print("pyspark is not installed: pip install pyspark (and Java 17) to run this bench")
        return 0
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinglin.settings")
    import django

    django.setup()
    import logging

    logging.getLogger("xinglin.warehouse").setLevel(logging.WARNING)
    from xinglin.evaluation import engine
    from xinglin.evaluation.sql import compile_indicator, transpile
    from xinglin.lib import periods
    from xinglin.warehouse import Warehouse
    from xinglin.warehouse.session import WarehouseCursor

    if not (DATA / "province.json").exists():
        print("run bench/bench_w1_province.py first (it generates the province)")
        return 0
    pack = engine.get_pack(PACK)
    year = periods.parse(YEAR)
    tables = Path(tempfile.mkdtemp(prefix="xinglin-spark-"))
    duck: dict[str, set] = {}
    with WarehouseCursor(Warehouse(DATA)) as cursor:
        engine._prepare(cursor, pack, engine._orgunit(UNIT, cursor), year, True)
        for name in ("xl_unit", "xl_member", "xl_value", "xl_tech"):
            cursor.execute(f"COPY {name} TO '{tables / name}.parquet' (FORMAT PARQUET)")
        for indicator in (i for i in pack.indicators if i.is_computed):
            compiled = compile_indicator(indicator, engine._levels())
            cursor.execute(transpile(compiled.sql, "duckdb"))
            duck[indicator.id] = {_key(row) for row in cursor.fetchall()}
    started = time.perf_counter()
    spark = (SparkSession.builder.master("local[2]").appName("xinglin")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .getOrCreate())  # fmt: skip
    spark.sparkContext.setLogLevel("ERROR")
    print(f"Spark {pyspark.__version__} local[2] started in {time.perf_counter() - started:.1f} s")
    for name in ("xl_unit", "xl_member", "xl_value", "xl_tech"):
        spark.read.parquet(str(tables / f"{name}.parquet")).createOrReplaceTempView(name)
    same = 0
    started = time.perf_counter()
    for indicator in (i for i in pack.indicators if i.is_computed):
        sql = transpile(compile_indicator(indicator, engine._levels()).sql, "spark")
        rows = {_key(tuple(r)) for r in spark.sql(sql).collect()}
        same += rows == duck[indicator.id]
        if rows != duck[indicator.id]:
            print(f"  differs: {indicator.id}")
    print(f"Spark SQL ran {len(duck)} compiled indicators for county {UNIT} in "
          f"{time.perf_counter() - started:.1f} s; {same}/{len(duck)} identical to DuckDB's rows")  # fmt: skip
    spark.stop()
    return 0


def _key(row: tuple) -> tuple:
    return tuple(round(float(v), 9) if isinstance(v, float) else v for v in row)


if __name__ == "__main__":
    sys.exit(main())
