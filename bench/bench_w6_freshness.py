"""W6 — freshness: a value saved through the guarded write (as a form or the API saves it),
then the city and province evaluations on the warehouse (backend "warehouse", DuckDB over the
Parquet copy) of the generated province (bench/_province.py: 30,000 institutions, ≈ 65 M
values): how long until they show it, with no command run by hand — the maintainer that
`xinglin serve` starts (xinglin/warehouse/fresh.py, here in a thread of this process with its
default interval, WAREHOUSE_FRESH_SECONDS) brings the write into the copy as a delta file.
Target: ≤ 10 s.

Peer, in the same run: a full re-export of the copy from the database (`export_tables(...,
everything=True)`: what a nightly batch does), after which a page would show the value.

The operational database is the SQLite province of bench/bench_w1_peers.py
(var/bench/w1-sqlite, loaded by it when missing: some 20 minutes). The full export writes
var/bench/w6-warehouse, which is then the copy the maintainer keeps fresh. The saved value is
put back at the end.

Run: python bench/bench_w6_freshness.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "var" / "bench" / "province"
SQLITE_FILE = ROOT / "var" / "bench" / "w1-sqlite" / "xinglin.sqlite3"
WAREHOUSE = ROOT / "var" / "bench" / "w6-warehouse"
PACK, PROVINCE, CITY, YEAR = "demo-county-2022", "99", "9901", "2024"
INSTITUTION, ELEMENT, MONTH = "990101000001", "total_visits", "202406"  # a county TCM hospital
TARGET = 10.0


def load() -> None:
    """The SQLite province (bench_w1_peers.py loads it, or finds it loaded)."""
    sys.path.insert(0, str(ROOT / "bench"))
    import _province

    _province.generate(DATA)
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="xinglin.settings",
               XINGLIN_VAR_DIR=str(ROOT / "var" / "bench" / "w1-peers" / "sqlite-var"),
               XINGLIN_DATABASE_URL=f"sqlite:///{SQLITE_FILE}")  # fmt: skip
    SQLITE_FILE.parent.mkdir(parents=True, exist_ok=True)
    (ROOT / "var" / "bench" / "w1-peers").mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, str(ROOT / "bench" / "bench_w1_peers.py"), "--child", "load",
                    "--db", "sqlite"], env=env, check=True)  # fmt: skip


def setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "xinglin.settings"
    os.environ["XINGLIN_DATABASE_URL"] = f"sqlite:///{SQLITE_FILE}"
    os.environ["XINGLIN_VAR_DIR"] = str(ROOT / "var" / "bench" / "w6-var")
    import django

    django.setup()
    import logging

    logging.getLogger("xinglin").setLevel(logging.WARNING)


def rows(evaluation) -> list:
    return sorted(json.dumps(r.as_json(), sort_keys=True) for r in evaluation.results)


def main() -> None:
    load()
    setup()
    from xinglin.collection.actions import write
    from xinglin.collection.batch import Candidate
    from xinglin.collection.models import DataValue
    from xinglin.evaluation.engine import evaluate
    from xinglin.warehouse import Warehouse, fresh
    from xinglin.warehouse.export import export_tables

    # the peer: a full re-export (nightly batch); its copy is then the one kept fresh
    WAREHOUSE.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    full = export_tables(WAREHOUSE, everything=True)
    full_seconds = time.perf_counter() - started
    print(f"full re-export (the nightly batch's peer): {full.rows:,} rows in "
          f"{len(full.written)} files, {full_seconds:.1f} s", flush=True)  # fmt: skip
    warehouse = Warehouse(WAREHOUSE)
    fresh.catch_up(WAREHOUSE)  # writes made meanwhile (none expected)
    before = {}
    for unit in (CITY, PROVINCE):
        evaluation = evaluate(PACK, unit, YEAR, backend="warehouse", warehouse=warehouse)
        before[unit] = rows(evaluation)
        print(f"  {unit}: {len(evaluation.results):,} results on the warehouse in "
              f"{evaluation.seconds:.2f} s (data as of {evaluation.data_as_of})", flush=True)  # fmt: skip
    stored = DataValue.objects.get(element__code=ELEMENT, orgunit__code=INSTITUTION,
                                   period=MONTH)  # fmt: skip
    old = stored.value
    thread, stop = fresh.start_thread(WAREHOUSE)  # the maintainer, its default interval
    try:
        saved = time.perf_counter()
        result = write([Candidate(INSTITUTION, MONTH, ELEMENT, old + 100_000)], user=None,
                       channel="api", confirm=True)  # fmt: skip
        assert result.written, result.problems
        save_seconds = time.perf_counter() - saved
        seen = {}
        evaluations = 0
        while len(seen) < 2 and time.perf_counter() - saved < 120:
            for unit in (CITY, PROVINCE):
                if unit in seen:
                    continue
                evaluation = evaluate(PACK, unit, YEAR, backend="warehouse", warehouse=warehouse)
                evaluations += 1
                if rows(evaluation) != before[unit]:
                    seen[unit] = time.perf_counter() - saved
            time.sleep(0.1)
        # one truth: the copy's figures equal the database backend's, field by field (city)
        on_db = evaluate(PACK, CITY, YEAR, backend="database")
        on_copy = evaluate(PACK, CITY, YEAR, backend="warehouse", warehouse=warehouse)
        same = rows(on_db) == rows(on_copy)
    finally:
        write([Candidate(INSTITUTION, MONTH, ELEMENT, old)], user=None, channel="api",
              confirm=True)  # fmt: skip
        time.sleep(3 * 2.0)
        stop.set()
        thread.join(timeout=60)
    interval = float(os.environ.get("XINGLIN_WAREHOUSE_FRESH_SECONDS", 2.0))
    print(f"save through the guarded write: {save_seconds * 1000:.0f} ms; maintainer interval "
          f"{interval:.1f} s; {evaluations} warehouse evaluations while waiting")  # fmt: skip
    for unit, label in ((CITY, "city"), (PROVINCE, "province")):
        if unit not in seen:
            print(f"W6 {label} {unit}: NOT SEEN within 120 s")
            continue
        print(f"W6 {label} {unit}: visible {seen[unit]:.1f} s after the save (target ≤ "
              f"{TARGET:.0f} s: {'MET' if seen[unit] <= TARGET else 'NOT MET'}); full re-export "
              f"{full_seconds:.1f} s, {full_seconds / seen[unit]:.0f}x the fresh path")  # fmt: skip
    print(f"city figures on the caught-up copy equal the database backend's, every field: {same}")
    print(f"delta files now: {len(fresh.delta_files(WAREHOUSE))}")


if __name__ == "__main__":
    main()
