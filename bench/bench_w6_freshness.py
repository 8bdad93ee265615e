"""W6 — freshness: a value saved through the guarded write (as a form or the API saves it),
then the city and province evaluations on the warehouse (backend "warehouse", DuckDB over the
Parquet copy) of the generated province (bench/_province.py: 30,000 institutions, ≈ 65 M
values): how long until they show it, with no command run by hand — the maintainer that
`xinglin serve` starts (`xinglin warehouse maintain`, xinglin/warehouse/fresh.py: a process of
its own with its default interval, WAREHOUSE_FRESH_SECONDS) brings the write into the copy as a
delta file. "Shows it": the unit's own results (its scorecard) differ from before the save.
Target: ≤ 10 s.

Peer, in the same run: a full re-export of the copy from the database (`export_tables(...,
everything=True)`: what a nightly batch does), after which a page would show the value.

The operational database is the SQLite province of bench/bench_w1_peers.py
(var/bench/w1-sqlite, loaded by it when missing: some 20 minutes). The full export writes
var/bench/w6-var/warehouse, which is then the copy the maintainer keeps fresh. The saved value is
put back at the end.

`--database postgres`: the same on PostgreSQL, the multi-user server, with W7's province
(bench/bench_w7_monthend.py's database xl_bench_w7: the same generated tree of 30,000
institutions and five years of every catalogue element, ≈ 6.5 M values — not the 34 filler
elements, which no evaluation reads; prepared by W7's own step when missing, a few minutes).
Its copy is var/bench/w6-pg-var/warehouse.

Run: python bench/bench_w6_freshness.py [--reuse-export] [--database sqlite|postgres]
  (--reuse-export: keep the copy of an earlier run and print that run's peer, saying so)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "var" / "bench" / "province"
SQLITE_FILE = ROOT / "var" / "bench" / "w1-sqlite" / "xinglin.sqlite3"
VAR = ROOT / "var" / "bench" / "w6-var"
WAREHOUSE = VAR / "warehouse"  # the default root (XINGLIN_VAR_DIR/warehouse) of the maintainer
PACK, PROVINCE, CITY, YEAR = "demo-county-2022", "99", "9901", "2024"
# a township health centre's visits: the TCM visit share of the centres (grassroots.tcm_visit_share)
# of its township, county, city and province moves with them
INSTITUTION, ELEMENT = "990101100001", "total_visits"
TARGET = 10.0


def use_postgres() -> None:
    """Point this run at W7's PostgreSQL province (prepared by W7's step when missing)."""
    global VAR, WAREHOUSE  # noqa: PLW0603 - the run's choice, made once before anything reads them
    sys.path.insert(0, str(ROOT / "bench"))
    import bench_w7_monthend as w7

    VAR = ROOT / "var" / "bench" / "w6-pg-var"
    WAREHOUSE = VAR / "warehouse"
    os.environ["XINGLIN_DATABASE_URL"] = w7.DATABASES["postgres"]
    w7.BASE.mkdir(parents=True, exist_ok=True)
    w7.generate()
    w7.ensure_database()
    subprocess.run([sys.executable, w7.__file__, "--child", "prepare", "postgres"],
                   env=w7._env("postgres"), check=True)  # fmt: skip


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
    os.environ.setdefault("XINGLIN_DATABASE_URL", f"sqlite:///{SQLITE_FILE}")
    os.environ["XINGLIN_VAR_DIR"] = str(VAR)
    import django

    django.setup()
    import logging

    logging.getLogger("xinglin").setLevel(logging.WARNING)


def rows(evaluation) -> list:
    return sorted(json.dumps(r.as_json(), sort_keys=True) for r in evaluation.results)


def page(evaluation) -> list:
    """What the unit's own scorecard shows: its results (not all 249,132 of a province)."""
    return [json.dumps(r.as_json(), sort_keys=True) for r in evaluation.at(evaluation.orgunit.code)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse-export", action="store_true")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    if args.database == "postgres":
        use_postgres()
    else:
        os.environ.pop("XINGLIN_DATABASE_URL", None)
        load()
    setup()
    print(f"W6 on {args.database}: {os.environ['XINGLIN_DATABASE_URL']}", flush=True)
    from xinglin.collection.actions import write
    from xinglin.collection.batch import Candidate
    from xinglin.collection.models import DataValue
    from xinglin.core import generation
    from xinglin.evaluation.engine import evaluate
    from xinglin.warehouse import Warehouse, copy_state, fresh
    from xinglin.warehouse.export import export_tables

    # the peer: a full re-export (nightly batch); its copy is then the one kept fresh
    WAREHOUSE.mkdir(parents=True, exist_ok=True)
    peer = VAR / "w6-peer.json"
    if args.reuse_export and peer.exists():
        full_seconds = json.loads(peer.read_text())["seconds"]
        print(f"full re-export (the nightly batch's peer): {full_seconds:.1f} s, measured by an "
              f"earlier run ({json.loads(peer.read_text())['at']}); not measured again")  # fmt: skip
    else:
        started = time.perf_counter()
        full = export_tables(WAREHOUSE, everything=True)
        full_seconds = time.perf_counter() - started
        peer.write_text(json.dumps({"seconds": full_seconds, "rows": full.rows,
                                    "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}))  # fmt: skip
        print(f"full re-export (the nightly batch's peer): {full.rows:,} rows in "
              f"{len(full.written)} files, {full_seconds:.1f} s", flush=True)  # fmt: skip
    warehouse = Warehouse(WAREHOUSE)
    fresh.catch_up(WAREHOUSE)  # writes made meanwhile (none expected)
    before = {}
    for unit in (CITY, PROVINCE):
        evaluation = evaluate(PACK, unit, YEAR, backend="warehouse", warehouse=warehouse)
        before[unit] = page(evaluation)
        print(f"  {unit}: {len(evaluation.results):,} results on the warehouse in "
              f"{evaluation.seconds:.2f} s (data as of {evaluation.data_as_of})", flush=True)  # fmt: skip
    stored = DataValue.objects.filter(element__code=ELEMENT, orgunit__code=INSTITUTION,
                                      period__startswith=YEAR).order_by("period").first()  # fmt: skip
    month = stored.period
    old = stored.value
    # the maintainer as `xinglin serve` starts it: a process of its own, its default interval
    maintainer = subprocess.Popen(
        [sys.executable, "-c", "from xinglin.cli import main; main()", "warehouse", "maintain",
         "--parent", str(os.getpid())], env=dict(os.environ, PYTHONPATH=str(ROOT)))  # fmt: skip
    time.sleep(5)  # its start (Django, DuckDB): a server starts it once
    seen, caught, save_seconds, evaluations = {}, {}, [], 0
    try:
        # one save per unit, each unit polled on its own (a page reloaded until it shows it)
        for step, unit in enumerate((CITY, PROVINCE), start=1):
            shown = page(evaluate(PACK, unit, YEAR, backend="warehouse", warehouse=warehouse))
            saved = time.perf_counter()
            result = write([Candidate(INSTITUTION, month, ELEMENT, old + 100_000 * step)],
                           user=None, channel="api", confirm=True)  # fmt: skip
            assert result.written, result.problems
            save_seconds.append(time.perf_counter() - saved)
            wanted = generation.current()
            while unit not in seen and time.perf_counter() - saved < 120:
                evaluation = evaluate(PACK, unit, YEAR, backend="warehouse", warehouse=warehouse)
                evaluations += 1
                if unit not in caught and copy_state.copy_generation(WAREHOUSE) == wanted:
                    caught[unit] = time.perf_counter() - saved
                if page(evaluation) != shown:
                    seen[unit] = time.perf_counter() - saved
                print(f"    {time.perf_counter() - saved:5.1f} s: {unit} evaluated in "
                      f"{evaluation.seconds:.2f} s on the copy as of {evaluation.data_as_of}"
                      f"{' — shows the value' if unit in seen else ''}", flush=True)  # fmt: skip
                time.sleep(0.1)
        # one truth: the copy's figures equal the database backend's, field by field (city)
        on_db = evaluate(PACK, CITY, YEAR, backend="database")
        on_copy = evaluate(PACK, CITY, YEAR, backend="warehouse", warehouse=warehouse)
        same = rows(on_db) == rows(on_copy)
    finally:
        write([Candidate(INSTITUTION, month, ELEMENT, old)], user=None, channel="api",
              confirm=True)  # fmt: skip
        time.sleep(3 * 2.0)
        maintainer.terminate()
        maintainer.wait(timeout=60)
    interval = float(os.environ.get("XINGLIN_WAREHOUSE_FRESH_SECONDS", "2.0"))
    print(f"saves through the guarded write: {', '.join(f'{x * 1000:.0f} ms' for x in save_seconds)};"
          f" maintainer interval {interval:.1f} s; {evaluations} warehouse evaluations while"
          f" waiting; the copy had caught up by the evaluation ending "
          f"{', '.join(f'{v:.1f} s' for v in caught.values())} after the save")  # fmt: skip
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
