"""W1 — province evaluation: demo-county-2022 for every org unit of a generated province
(100 counties, 30,000 institutions, 5 years ≈ 65 M values; bench/_province.py) for 2024.

Runs the engine on DuckDB over the Parquet warehouse (backend="warehouse"), prints the time
(total, of which SQL and Python assembly), the peak resident memory, and a pandas
implementation of the same figures over the same Parquet, checked against the engine's.
The PostgreSQL and SQLite peers (the same evaluation on the operational database) are in
bench/bench_w1_peers.py. Issue 25's target: median ≤ 2× the floor measured in the same run —
DuckDB's bare group-by of the same year's values by org unit and element from the same
Parquet — and ≤ 1.5 GB peak resident for the evaluation (the province is generated in a
process of its own, so this process's peak is the evaluation's); pandas ≥ 4× the engine.

Run: python bench/bench_w1_province.py [--repeat N] [--pairs N] [--data DIR]   (data cached under
var/bench/province, or DIR)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "var" / "bench" / "province"
TARGET_FLOOR_RATIO, TARGET_GB, TARGET_PANDAS = 2.0, 1.5, 4.0
PACK, UNIT, YEAR = "demo-county-2022", "99", "2024"


def use(data: Path) -> None:
    global DATA  # noqa: PLW0603 — the bench's one data directory, chosen on the command line
    DATA = data.resolve()


def setup() -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinglin.settings")
    # an operational database of its own (the engine asks it for evidence reviews)
    os.environ.setdefault("XINGLIN_VAR_DIR", str(DATA.parent / "w1-var"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def results_hash(results) -> str:
    """SHA-256 over every field of every result (floats as repr: to the last bit), sorted by
    indicator and org unit: the check that an engine change left every figure as it was."""
    digest = hashlib.sha256()
    rows = sorted((r.as_json() for r in results), key=lambda r: (r["indicator"], r["orgunit"]))
    for row in rows:
        digest.update(json.dumps(row, sort_keys=True, ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def floor_once() -> tuple[float, int]:
    """DuckDB's bare group-by of the year's values by org unit and element (the same Parquet,
    the same threads): what no evaluation of that year can beat. Seconds, groups."""
    import duckdb

    path = str(DATA / "collection_datavalue" / f"{YEAR}.parquet")
    connection = duckdb.connect(":memory:")
    started = time.perf_counter()
    table = connection.sql(
        "SELECT orgunit_id, element_id, SUM(value) AS total, COUNT(*) AS n"
        " FROM read_parquet(?) GROUP BY orgunit_id, element_id",
        params=[path],
    ).to_arrow_table()
    seconds = time.perf_counter() - started
    connection.close()
    return seconds, table.num_rows


def floor(repeat: int) -> tuple[float, int]:
    """The floor's median seconds over `repeat` runs (the first, warming the file cache,
    left out), and its groups."""
    times = [floor_once()[0] for _ in range(repeat + 1)]
    return statistics.median(times[1:]), floor_once()[1]


def pairs(count: int) -> None:
    """The evaluation and the floor alternated `count` times: on a shared machine the load
    is alike within a pair, so the median of the pairs' ratios swings less than the ratio of
    two medians taken a minute apart."""
    from xinglin.evaluation.engine import evaluate
    from xinglin.warehouse import Warehouse

    warehouse = Warehouse(DATA)
    engine, bare = [], []
    for _ in range(count):
        engine.append(evaluate(PACK, UNIT, YEAR, backend="warehouse", warehouse=warehouse).seconds)
        bare.append(floor_once()[0])
    ratios = sorted(e / f for e, f in zip(engine, bare, strict=True))
    print(f"  {count} pairs (evaluation, floor) alternated: engine median "
          f"{statistics.median(engine):.2f} s, floor median {statistics.median(bare):.2f} s, "
          f"median of the pairs' ratios {statistics.median(ratios):.2f}x "
          f"(from {ratios[0]:.2f}x to {ratios[-1]:.2f}x)")  # fmt: skip


def run_engine(repeat: int):
    from xinglin.evaluation.engine import evaluate
    from xinglin.warehouse import Warehouse

    warehouse = Warehouse(DATA)
    evaluate(PACK, UNIT, YEAR, backend="warehouse", warehouse=warehouse)  # compile, warm cache
    totals, sqls, cpus = [], [], []
    for _ in range(repeat):
        warehouse.recent.clear()  # it keeps the last 200 statements: an evaluation runs ~80
        cpu = time.process_time()
        evaluation = evaluate(PACK, UNIT, YEAR, backend="warehouse", warehouse=warehouse)
        cpus.append(time.process_time() - cpu)
        totals.append(evaluation.seconds)
        sqls.append(sum(q.seconds for q in warehouse.recent))
    return evaluation, totals, sqls, cpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=0,
                        help="then alternate the evaluation and the floor this many times")  # fmt: skip
    parser.add_argument("--data", type=Path, default=DATA,
                        help="where the province is generated once and reused (e.g. under /tmp:"
                        " worktrees can share one copy); default var/bench/province")  # fmt: skip
    args = parser.parse_args()
    use(args.data)
    setup()
    import _province

    started = time.perf_counter()
    # generated in a process of its own (GBs): this process's peak is the evaluation's
    subprocess.run([sys.executable, "-c", ("import sys; sys.path.insert(0, sys.argv[1]);"
                    " import _province, pathlib; _province.generate(pathlib.Path(sys.argv[2]))"),
                    str(ROOT / "bench"), str(DATA)], check=True)  # fmt: skip
    manifest = _province.generate(DATA)
    print(f"province: {manifest['institutions']:,} institutions, {manifest['orgunits']:,} org units,"
          f" {manifest['values']:,} values, {manifest['techniques']:,} technique rows"
          f" (ready in {time.perf_counter() - started:.1f} s; seed {manifest['seed']})")  # fmt: skip
    rss_before = rss_gb()
    evaluation, totals, sqls, cpus = run_engine(args.repeat)
    rss_engine = rss_gb()
    best, median = min(totals), statistics.median(totals)
    sql = statistics.median(sqls)
    bare, groups = floor(args.repeat)
    print(f"engine on DuckDB (warehouse): {len(evaluation.results):,} results; "
          f"backend={evaluation.backend}; verdict of {UNIT}: {evaluation.verdict.status}")  # fmt: skip
    print(f"  evaluation (every figure, status and verdict, kept as columns): best {best:.2f} s,"
          f" median {median:.2f} s (SQL statements {sql:.2f} s summed, two run side by side);"
          f" CPU of the process (all threads) median {statistics.median(cpus):.2f} s")  # fmt: skip
    print(f"  floor (DuckDB's bare group-by of {YEAR}'s values by org unit and element, "
          f"{groups:,} groups): median {bare:.2f} s; the engine is {median / bare:.1f}x the floor"
          f"  target ≤ {TARGET_FLOOR_RATIO:.0f}x: "
          f"{'MET' if median <= TARGET_FLOOR_RATIO * bare else 'NOT MET'}")  # fmt: skip
    if args.pairs:
        pairs(args.pairs)
    print(f"  peak resident memory of the evaluating process: {rss_engine:.2f} GB (before the "
          f"first evaluation {rss_before:.2f} GB)  target ≤ {TARGET_GB} GB: "
          f"{'MET' if rss_engine <= TARGET_GB else 'NOT MET'}")  # fmt: skip
    started = time.perf_counter()
    one = evaluation.at(evaluation.at(UNIT)[0].failing[0]) if evaluation.at(UNIT)[0].failing else []
    print(f"  one unit's Result objects (a page): {len(evaluation.at(UNIT)) + len(one)} in "
          f"{(time.perf_counter() - started) * 1000:.0f} ms")  # fmt: skip
    started = time.perf_counter()
    everything = list(evaluation.results)
    print(f"  every Result object built (what an export of all {len(everything):,} does):"
          f" {time.perf_counter() - started:.2f} s more, for "
          f"{len({r.orgunit for r in everything}):,} org units")  # fmt: skip
    print(f"  results' SHA-256 (every field of every Result, in indicator and unit order; equal"
          f" before and after an engine change): {results_hash(everything)}")  # fmt: skip
    try:
        import _pandas_peer
    except ImportError:  # the peer needs the bench extra
        print("pandas peer skipped: pandas is not installed (`make bench` installs it)")
        return

    started = time.perf_counter()
    figures = _pandas_peer.evaluate(DATA, PACK, UNIT, int(YEAR))
    seconds = time.perf_counter() - started
    same, compared = _pandas_peer.compare(figures, evaluation.results)
    print(f"pandas {_pandas_peer.version()}: {seconds:.2f} s for {len(figures):,} figures "
          f"({same:,}/{compared:,} equal to the engine's); engine median is "
          f"{seconds / median:.1f}x faster  target ≥ {TARGET_PANDAS:.0f}x: "
          f"{'MET' if seconds >= TARGET_PANDAS * median else 'NOT MET'}")  # fmt: skip
    print(f"peak resident memory (engine + pandas): {rss_gb():.2f} GB")


if __name__ == "__main__":
    main()
