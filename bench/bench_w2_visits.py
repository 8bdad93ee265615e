"""W2 — visits: 50,000,000 visit rows → the visit figures (total and TCM visits) for every
institution and month (target ≤ 2 s, < 4 GB resident), with the peers PostgreSQL and pandas.

The rows are generated (seeded) straight into the Parquet layout of the visits warehouse
(xinglin/care/visit_warehouse.py, `xinglin visits export`: visits/batch-<n>.parquet with integer
institution, month and department ids and the diagnosis / technique / herbal flags, plus the
small visit_departments and visit_institutions tables), and the figures come from its
`visit_figures` with the TCM-visit rules of care.visits. 3,000 institutions (a city's worth),
12 months. PostgreSQL gets the same rows (COPY into a database of its own, kept between runs)
and runs the same statement. Run: python bench/bench_w2_visits.py [--no-postgres]
(data under var/bench/visits)
"""

from __future__ import annotations

import io
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "var" / "bench" / "visits"
ROWS, BATCHES, INSTITUTIONS, SEED = 50_000_000, 10, 3_000, 20260202
DEPARTMENTS = ["中医科", "内科", "外科", "儿科", "妇产科", "康复科", "针灸科", "全科", "急诊科",
               "口腔科", "中医馆", "预防保健科"]  # fmt: skip
TARGET_SECONDS = 2.0
MONTHS = [f"2024{m:02d}" for m in range(1, 13)]


def generate() -> None:
    folder = DATA / "visits"
    if len(list(folder.glob("batch-*.parquet"))) == BATCHES:
        return
    for name in ("visits", "visit_departments", "visit_institutions"):
        (DATA / name).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    codes = [f"99{n // 300:02d}{(n // 20) % 15:02d}{n % 20:06d}" for n in range(INSTITUTIONS)]
    pq.write_table(pa.table({"id": pa.array(range(1, INSTITUTIONS + 1), pa.int64()),
                             "code": codes}), DATA / "visit_institutions" / "all.parquet")  # fmt: skip
    pq.write_table(pa.table({"id": pa.array(range(len(DEPARTMENTS)), pa.int32()),
                             "department": DEPARTMENTS}), DATA / "visit_departments" / "all.parquet")  # fmt: skip
    months = np.array([int(m) for m in MONTHS], dtype=np.int32)
    for batch in range(1, BATCHES + 1):
        n = ROWS // BATCHES
        table = pa.table({
            "batch_id": pa.array(np.full(n, batch, dtype=np.int64)),
            "institution_id": pa.array(rng.integers(1, INSTITUTIONS + 1, n).astype(np.int64)),
            "month": pa.array(months[rng.integers(0, len(months), n)]),
            "department_id": pa.array(rng.integers(0, len(DEPARTMENTS), n).astype(np.int32)),
            "has_tcm_diagnosis": pa.array(rng.random(n) < 0.25),
            "has_technique": pa.array(rng.random(n) < 0.12),
            "has_herbal": pa.array(rng.random(n) < 0.15),
        })  # fmt: skip
        pq.write_table(table, folder / f"batch-{batch}.parquet", row_group_size=1_000_000)


def pandas_figures(rules: dict):
    """The best plain pandas can do: the department rule per name (a lookup array), the flags
    per row, one groupby."""
    import pandas as pd

    from xinglin.care.visit_rules import tcm_definition

    definition = tcm_definition(rules)
    frame = pd.read_parquet(DATA / "visits", columns=["institution_id", "month", "department_id",
                            "has_tcm_diagnosis", "has_technique", "has_herbal"])  # fmt: skip
    names = pd.read_parquet(DATA / "visit_departments")
    counted = set(definition.departments_counted(names["department"]))
    ids = [int(i) for i, n in zip(names["id"], names["department"], strict=True) if n in counted]
    columns = {c: frame[c].to_numpy() for c in definition.flags}
    tcm = definition.array(columns, frame["department_id"].to_numpy(), ids)
    frame["tcm"] = tcm
    grouped = frame.groupby(["institution_id", "month"])["tcm"].agg(["size", "sum"])
    codes = pd.read_parquet(DATA / "visit_institutions").set_index("id")["code"]
    return pd.__version__, {
        (codes[i], str(m)): (int(s), int(c)) for (i, m), (s, c) in grouped.iterrows()
    }


PG_URL = os.environ.get("XINGLIN_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/")
PG_DATABASE = "xl_bench_w2"


def postgres_figures(condition: str) -> tuple[float, list, str]:
    """The same statement on PostgreSQL over the same rows (loaded once with COPY)."""
    import psycopg
    from pyarrow import csv as arrow_csv

    from xinglin.care.visit_warehouse import figures_sql

    with psycopg.connect(PG_URL + "postgres", autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [PG_DATABASE])
        if exists.fetchone() is None:
            admin.execute(f"CREATE DATABASE {PG_DATABASE}")
    with psycopg.connect(PG_URL + PG_DATABASE, autocommit=True) as db:
        loaded = db.execute("SELECT to_regclass('visits') IS NOT NULL").fetchone()[0]
        if not loaded or db.execute("SELECT COUNT(*) FROM visits").fetchone()[0] != ROWS:
            started = time.perf_counter()
            db.execute("DROP TABLE IF EXISTS visits, visit_departments, visit_institutions")
            db.execute("CREATE TABLE visits (batch_id bigint, institution_id bigint, month int,"
                       " department_id int, has_tcm_diagnosis bool, has_technique bool,"
                       " has_herbal bool)")  # fmt: skip
            db.execute("CREATE TABLE visit_departments (id int, department text)")
            db.execute("CREATE TABLE visit_institutions (id bigint, code text)")
            for table in ("visit_departments", "visit_institutions", "visits"):
                for path in sorted((DATA / table).glob("*.parquet")):
                    buffer = io.BytesIO()
                    arrow_csv.write_csv(pq.read_table(path), buffer,
                                        arrow_csv.WriteOptions(include_header=False))  # fmt: skip
                    with db.cursor().copy(f"COPY {table} FROM STDIN (FORMAT csv)") as copy:
                        copy.write(buffer.getbuffer())
            db.execute("VACUUM ANALYZE")
            print(f"PostgreSQL: {ROWS:,} rows loaded in {time.perf_counter() - started:.0f} s")
        sql = figures_sql(condition, MONTHS)
        times = []
        for _ in range(2):
            started = time.perf_counter()
            rows = db.execute(sql).fetchall()
            times.append(time.perf_counter() - started)
        version = db.execute("SHOW server_version").fetchone()[0]
    return min(times), [(c, str(m), int(t), int(n)) for c, m, t, n in rows], version


def main() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinglin.settings")
    import django

    django.setup()
    import logging

    logging.getLogger("xinglin.warehouse").setLevel(logging.WARNING)
    from xinglin.care.visit_rules import tcm_rules
    from xinglin.care.visit_warehouse import tcm_condition, visit_figures
    from xinglin.warehouse import Warehouse

    started = time.perf_counter()
    generate()
    print(f"visits: {ROWS:,} rows, {INSTITUTIONS:,} institutions, 12 months "
          f"(ready in {time.perf_counter() - started:.1f} s; seed {SEED})")  # fmt: skip
    warehouse = Warehouse(DATA)
    rules = tcm_rules()
    times = []
    for _ in range(3):
        started = time.perf_counter()
        figures = visit_figures(warehouse, MONTHS, rules)
        times.append(time.perf_counter() - started)
    best = min(times)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"DuckDB (care.visit_warehouse.visit_figures): {len(figures):,} institution-months, best "
          f"{best:.2f} s of {[round(t, 2) for t in times]}; target ≤ {TARGET_SECONDS} s: "
          f"{'MET' if best <= TARGET_SECONDS else 'NOT MET'}; peak resident {rss:.2f} GB")  # fmt: skip
    mine = {(i, m): (t, c) for i, m, t, c in figures}
    if "--no-postgres" not in sys.argv:
        seconds, theirs, version = postgres_figures(tcm_condition(warehouse, rules))
        print(f"PostgreSQL {version}: {seconds:.2f} s (best of 2; {theirs == figures and 'identical' or 'DIFFERENT'}"
              f" figures); DuckDB is {seconds / best:.1f}x faster")  # fmt: skip
    try:
        started = time.perf_counter()
        version, grouped = pandas_figures(rules)
        seconds = time.perf_counter() - started
    except ImportError:
        print("pandas peer: pandas is not installed (make bench installs it)")
        return
    same = sum(mine.get(key) == value for key, value in grouped.items())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"pandas {version}: {seconds:.2f} s ({same:,}/{len(grouped):,} figures equal); "
          f"DuckDB is {seconds / best:.1f}x faster; peak resident with pandas {rss:.2f} GB")  # fmt: skip


if __name__ == "__main__":
    main()
