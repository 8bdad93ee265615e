"""W2 — visits: 50,000,000 visit rows → the visit figures (total and TCM visits) for every
institution and month (target ≤ 2 s, < 4 GB resident), with the peer in pandas.

The rows are generated (seeded) straight into the Parquet layout of the visits warehouse
(xinglin/warehouse/visits.py, `xinglin visits export`: visits/batch-<n>.parquet with
institution, month, department, diagnosis / technique / herbal flags) and the figures come from
its `visit_figures` with the TCM-visit rule of care.visits (`tcm_sql`). 3,000 institutions
(a city's worth), 12 months. Run: python bench/bench_w2_visits.py (data under var/bench/visits)
"""

from __future__ import annotations

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
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    codes = pa.array(
        [f"99{n // 300:02d}{(n // 20) % 15:02d}{n % 20:06d}" for n in range(INSTITUTIONS)]
    )
    departments, months = pa.array(DEPARTMENTS), pa.array(MONTHS)
    for batch in range(1, BATCHES + 1):
        n = ROWS // BATCHES
        pick = lambda values, size: pa.DictionaryArray.from_arrays(  # noqa: E731
            pa.array(rng.integers(0, len(values), size).astype(np.int32)), values
        ).cast(pa.string())
        table = pa.table({
            "batch_id": pa.array(np.full(n, batch, dtype=np.int64)),
            "institution": pick(codes, n), "month": pick(months, n),
            "department": pick(departments, n),
            "has_tcm_diagnosis": pa.array(rng.random(n) < 0.25),
            "has_technique": pa.array(rng.random(n) < 0.12),
            "has_herbal": pa.array(rng.random(n) < 0.15),
        })  # fmt: skip
        pq.write_table(table, folder / f"batch-{batch}.parquet", row_group_size=1_000_000)


def pandas_figures(rule: dict):
    import pandas as pd

    frame = pd.read_parquet(DATA / "visits", columns=["institution", "month", "department",
                            "has_tcm_diagnosis", "has_technique", "has_herbal"])  # fmt: skip
    rules = rule["rules"]
    tcm = pd.Series(False, index=frame.index)
    department = rules["department"]
    if department.get("enabled"):
        tcm |= frame["department"].isin(department.get("names", []))
        for word in department.get("contains", []):
            tcm |= frame["department"].str.contains(word, regex=False)
        for prefix in department.get("code_prefixes", []):
            tcm |= frame["department"].str.startswith(prefix)
    for name, column in (("tcm_diagnosis", "has_tcm_diagnosis"), ("technique", "has_technique"),
                         ("herbal_prescription", "has_herbal")):  # fmt: skip
        if rules[name].get("enabled"):
            tcm |= frame[column]
    frame["tcm"] = tcm
    grouped = frame.groupby(["institution", "month"], observed=True)["tcm"].agg(["size", "sum"])
    return pd.__version__, grouped


def main() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinglin.settings")
    import django

    django.setup()
    import logging

    logging.getLogger("xinglin.warehouse").setLevel(logging.WARNING)
    from xinglin.care.visits import tcm_rules, tcm_sql
    from xinglin.warehouse import Warehouse
    from xinglin.warehouse.visits import visit_figures

    started = time.perf_counter()
    generate()
    print(f"visits: {ROWS:,} rows, {INSTITUTIONS:,} institutions, 12 months "
          f"(ready in {time.perf_counter() - started:.1f} s; seed {SEED})")  # fmt: skip
    warehouse = Warehouse(DATA)
    times = []
    for _ in range(3):
        started = time.perf_counter()
        figures = visit_figures(warehouse, MONTHS, tcm_sql())
        times.append(time.perf_counter() - started)
    best = min(times)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"DuckDB (warehouse.visits.visit_figures): {len(figures):,} institution-months, best "
          f"{best:.2f} s of {[round(t, 2) for t in times]}; target ≤ {TARGET_SECONDS} s: "
          f"{'MET' if best <= TARGET_SECONDS else 'NOT MET'}; peak resident {rss:.2f} GB")  # fmt: skip
    started = time.perf_counter()
    version, grouped = pandas_figures(tcm_rules())
    seconds = time.perf_counter() - started
    mine = {(i, m): (t, c) for i, m, t, c in figures}
    same = sum(mine.get(key) == (int(s), int(c)) for key, (s, c) in grouped.iterrows())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"pandas {version}: {seconds:.2f} s ({same:,}/{len(grouped):,} figures equal); "
          f"DuckDB is {seconds / best:.1f}x faster; peak resident with pandas {rss:.2f} GB")  # fmt: skip
    print("PostgreSQL peer: not measured in this run (see docs/benchmarks.md)")


if __name__ == "__main__":
    main()
