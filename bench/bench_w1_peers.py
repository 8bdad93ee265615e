"""W1 peers — the province evaluation of bench/bench_w1_province.py (demo-county-2022 for every
org unit of the generated province, 2024) on the operational databases: PostgreSQL and SQLite,
`evaluate(..., backend="database")`, checked against the engine on DuckDB (backend="warehouse").

Each database is one of its own, migrated by Django, with the catalogue synced
(`sync_catalogue()`: the element and technique ids must equal the generated Parquet's) and the
province's tables (bench/_province.py, var/bench/province) bulk-loaded: COPY on PostgreSQL
(database xl_bench_w1 on 127.0.0.1:5432, or XINGLIN_BENCH_POSTGRES), executemany on SQLite
(var/bench/w1-sqlite/xinglin.sqlite3). The load drops the big tables' secondary indexes and
creates them again afterwards (their definitions are kept in var/bench/w1-peers until then),
turns off foreign-key checks and SQLite's generation triggers (re-installed after); the loaded
databases are kept (about 11 GB on PostgreSQL, 7 GB on SQLite; each load takes some 7
minutes here), and a run whose row counts match only measures.

Every step runs in a process of its own (the script calls itself with --child), since Django
reads XINGLIN_DATABASE_URL at start: the DuckDB reference, then per database the load and the
evaluation — one county first (compiles the indicators' SQL, warms up), then the province
--repeat times, each stopped after --timeout seconds (an evaluation that did not finish is
reported as such). Printed: load time, evaluation time, CPU seconds (the evaluating process,
and on PostgreSQL the server process and its parallel workers), peak resident memory of the
evaluating process, and whether every result (every field of every Result) equals DuckDB's.

Run: python bench/bench_w1_peers.py [--repeat 2] [--timeout 1200] [--only postgres|sqlite]
     [--reload]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import queue
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "var" / "bench" / "province"
WORK = ROOT / "var" / "bench" / "w1-peers"  # markers, index definitions, results, var dirs
SQLITE_FILE = ROOT / "var" / "bench" / "w1-sqlite" / "xinglin.sqlite3"
PG_URL = os.environ.get("XINGLIN_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/")
PG_DATABASE = "xl_bench_w1"
DATABASES = {"postgres": PG_URL + PG_DATABASE, "sqlite": f"sqlite:///{SQLITE_FILE}"}
LABELS = {"duckdb": "DuckDB (warehouse)", "postgres": "PostgreSQL", "sqlite": "SQLite"}
PACK, UNIT, COUNTY, YEAR = "demo-county-2022", "99", "990101", "2024"

# loaded in this order (parents first); the big ones lose their secondary indexes meanwhile
TABLES = ("network_orgunit", "network_orgunithistory", "evaluation_derivedvalue",
          "collection_deliveredtechnique", "collection_datavalue")  # fmt: skip
REINDEXED = ("collection_deliveredtechnique", "collection_datavalue")
STAMP = "2026-01-01 00:00:00"
# NOT NULL columns the Parquet lacks, filled with constants (`check_columns` holds them to the
# models); STAMP gets "+00" on PostgreSQL
CONSTANTS = {
    "network_orgunit": {
        "address": "",
        "phone": "",
        "ownership": "public",
        "roles": "",
        "updated_at": STAMP,
    },
    "network_orgunithistory": {"reason": ""},
    "evaluation_derivedvalue": {"computed_at": STAMP},
    "collection_deliveredtechnique": {},
    "collection_datavalue": {"comment": "", "channel": "import", "updated_at": STAMP, "combo": ""},
}
GENERATED_ID = {"collection_datavalue"}  # the Parquet has no id: numbered while loading
BATCH = {"postgres": 1_000_000, "sqlite": 250_000}


def parquet_files(table: str) -> list[Path]:
    return sorted(p for p in (DATA / table).glob("*.parquet") if not p.name.startswith("_"))


def parquet_rows(table: str) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(p).metadata.num_rows for p in parquet_files(table))


def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinglin.settings")
    import django

    django.setup()
    import logging

    logging.getLogger("xinglin").setLevel(logging.WARNING)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# ---- loading ---------------------------------------------------------------------------


def create_pg_database() -> None:
    import psycopg

    with psycopg.connect(PG_URL + "postgres", autocommit=True) as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [PG_DATABASE])
        if found.fetchone() is None:
            admin.execute(f"CREATE DATABASE {PG_DATABASE}")


def sync_standards() -> None:
    """The catalogue as the app syncs it, plus the province's filler elements (other forms'
    monthly elements, bench/_province.py); then the ids must be the Parquet's."""
    import _province
    import pyarrow.parquet as pq
    from django.db import connection

    from xinglin.standards.catalogue import sync_catalogue
    from xinglin.standards.models import DataElement

    sync_catalogue()
    elements, _items = _province.catalogue()
    for element in elements:
        if element["code"].startswith("bench_form_"):
            DataElement.objects.get_or_create(code=element["code"], defaults={
                "name_zh": element["code"], "value_type": element["type"],
                "period_type": element["period_type"], "level": element["level"],
                "institution_types": element["types"], "aggregation": element["aggregation"]})  # fmt: skip
    for table, columns in (("standards_dataelement", "id, code, period_type, aggregation, level"),
                           ("standards_techniqueitem", "id, code, category_id")):  # fmt: skip
        names = [c.strip() for c in columns.split(",")]
        wanted = [tuple(r.values()) for r in
                  pq.read_table(DATA / table / "all.parquet", columns=names).to_pylist()]  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {columns} FROM {table} ORDER BY id")
            have = [tuple(r) for r in cursor.fetchall()]
        if have != wanted:
            first = next((w, h) for w, h in zip(wanted + [None] * len(have),
                          have + [None] * len(wanted), strict=False) if w != h)  # fmt: skip
            raise SystemExit(
                f"{table}: the database's ids are not the generated province's ({len(have)} rows"
                f" here, {len(wanted)} in the Parquet; first difference: Parquet {first[0]},"
                f" database {first[1]}). Either core.yaml changed since the province was"
                f" generated (delete {DATA} and run again) or the database held other"
                f" catalogue rows before the sync (drop database {PG_DATABASE}, delete"
                f" {SQLITE_FILE.parent}, and run again)."
            )


def models_by_table() -> dict:
    from django.apps import apps

    return {m._meta.db_table: m for m in apps.get_models()}


def constants_for(table: str, parquet_columns: list[str]) -> dict[str, str]:
    """The constants of the NOT NULL columns this table's Parquet lacks (a column the Parquet
    holds — the generated province's ownership and roles — is read from it)."""
    return {c: v for c, v in CONSTANTS[table].items() if c not in parquet_columns}


def check_columns(table: str, parquet_columns: list[str]) -> list[str]:
    """The columns to write (Parquet's, the generated id, the constants); stops when the
    model has a NOT NULL column nobody fills, or the Parquet one the model lacks."""
    model = models_by_table()[table]
    fields = {f.column: f for f in model._meta.concrete_fields}
    given = [*(["id"] if table in GENERATED_ID else []), *parquet_columns,
             *constants_for(table, parquet_columns)]  # fmt: skip
    unknown = [c for c in given if c not in fields]
    unfilled = [c for c, f in fields.items() if not f.null and c not in given]
    if unknown or unfilled:
        raise SystemExit(f"{table}: the model and the bench disagree: columns the model lacks"
                         f" {unknown}, NOT NULL columns nothing fills {unfilled}"
                         f" (update CONSTANTS in {Path(__file__).name})")  # fmt: skip
    return given


def batches(table: str, size: int):
    """The table's Parquet rows as record batches, with the generated id where needed."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    next_id = 1
    for path in parquet_files(table):
        for batch in pq.ParquetFile(path).iter_batches(batch_size=size):
            if table in GENERATED_ID:
                ids = pa.array(range(next_id, next_id + batch.num_rows), pa.int64())
                batch = pa.RecordBatch.from_arrays([ids, *batch.columns],  # noqa: PLW2901
                                                   names=["id", *batch.schema.names])  # fmt: skip
                next_id += batch.num_rows
            yield batch


def prefetched(items, depth: int = 2):
    """`items` made in a thread of their own, `depth` ahead (pyarrow's CSV writer and
    sqlite3's statements release the GIL, so making and writing overlap)."""
    done = object()
    box: queue.Queue = queue.Queue(maxsize=depth)

    def make():
        try:
            for item in items:
                box.put(item)
        except BaseException as error:  # handed to the consumer
            box.put(error)
        box.put(done)

    threading.Thread(target=make, daemon=True).start()
    while (item := box.get()) is not done:
        if isinstance(item, BaseException):
            raise item
        yield item


class Loader:
    """Bulk-loads the province into the connected database (see the module docstring)."""

    def __init__(self, name: str):
        from django.db import connection

        self.name, self.connection = name, connection
        connection.ensure_connection()
        self.raw = connection.connection  # sqlite3 / psycopg connection
        self.indexes_file = WORK / f"{name}-indexes.json"

    def counts(self) -> dict[str, int]:
        with self.connection.cursor() as cursor:
            found = {}
            for table in TABLES:
                cursor.execute(f"SELECT COUNT(*) FROM {table}")
                found[table] = cursor.fetchone()[0]
        return found

    def load(self) -> None:
        from xinglin.core import generation

        self.prepare()
        self.save_indexes()
        self.drop_indexes()  # before emptying: fewer rows to delete from them
        if self.name == "sqlite":
            generation.uninstall(self.connection)
        self.empty()
        for table in TABLES:
            self.load_table(table)
        started = time.perf_counter()
        self.create_indexes()
        print(f"  indexes created again in {time.perf_counter() - started:.0f} s", flush=True)
        started = time.perf_counter()
        self.finish()
        if self.name == "sqlite":
            generation.install(self.connection)
        with self.connection.cursor() as cursor:  # one write: a new data generation
            cursor.execute("UPDATE network_orgunit SET name = name WHERE id = 1")
        print(f"  finished ({'VACUUM ANALYZE, sequences' if self.name == 'postgres' else 'WAL'})"
              f" in {time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip

    # -- per vendor

    def prepare(self) -> None:
        if self.name == "postgres":
            with self.raw.cursor() as cursor:
                cursor.execute("SET session_replication_role = replica")  # no FK / trigger
                cursor.execute("SET maintenance_work_mem = '1GB'")
                cursor.execute("SET synchronous_commit = off")
        else:
            for pragma in ("foreign_keys = OFF", "journal_mode = OFF", "synchronous = OFF",
                           "cache_size = -1048576", "threads = 2"):  # fmt: skip
                self.raw.execute(f"PRAGMA {pragma}").fetchall()

    def empty(self) -> None:
        with self.connection.cursor() as cursor:
            if self.name == "postgres":
                cursor.execute(f"TRUNCATE {', '.join(TABLES)} CASCADE")
            else:
                for table in reversed(TABLES):
                    cursor.execute(f"DELETE FROM {table}")

    def current_indexes(self) -> dict[str, list]:
        """table -> [[name, kind, sql]] of its secondary indexes (kind: index | unique
        constraint), the primary key left alone."""
        found: dict[str, list] = {}
        with self.connection.cursor() as cursor:
            for table in REINDEXED:
                if self.name == "sqlite":
                    cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'"
                                   " AND tbl_name = %s AND sql IS NOT NULL", [table])  # fmt: skip
                    found[table] = [[n, "index", s] for n, s in cursor.fetchall()]
                    continue
                cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                               " WHERE conrelid = %s::regclass AND contype = 'u'", [table])  # fmt: skip
                unique = [[n, "constraint", d] for n, d in cursor.fetchall()]
                cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s"
                               " AND indexname NOT IN (SELECT conname FROM pg_constraint"
                               " WHERE conrelid = %s::regclass)", [table, table])  # fmt: skip
                found[table] = unique + [[n, "index", d] for n, d in cursor.fetchall()]
        return found

    def save_indexes(self) -> None:
        # kept until the indexes exist again: an interrupted load must not lose them
        saved = json.loads(self.indexes_file.read_text()) if self.indexes_file.exists() else {}
        for table, defs in self.current_indexes().items():
            names = {d[0] for d in saved.get(table, [])}
            saved.setdefault(table, []).extend(d for d in defs if d[0] not in names)
        self.indexes_file.write_text(json.dumps(saved, indent=1))

    def drop_indexes(self) -> None:
        with self.connection.cursor() as cursor:
            for table, defs in self.current_indexes().items():
                for name, kind, _sql in defs:
                    if kind == "constraint":
                        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                    else:
                        cursor.execute(f'DROP INDEX "{name}"')

    def create_indexes(self) -> None:
        saved = json.loads(self.indexes_file.read_text())
        present = self.current_indexes()
        with self.connection.cursor() as cursor:
            for table, defs in saved.items():
                have = {d[0] for d in present.get(table, [])}
                for name, kind, sql in defs:
                    if name in have:
                        continue
                    started = time.perf_counter()
                    if kind == "constraint":
                        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {sql}')
                    else:
                        cursor.execute(sql)
                    print(f"    {name}: {time.perf_counter() - started:.0f} s", flush=True)
        self.indexes_file.unlink()

    def finish(self) -> None:
        if self.name == "postgres":
            from django.core.management.color import no_style

            models = [models_by_table()[t] for t in TABLES]
            with self.connection.cursor() as cursor:
                for statement in self.connection.ops.sequence_reset_sql(no_style(), models):
                    cursor.execute(statement)
            with self.raw.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")
                cursor.execute(f"VACUUM ANALYZE {', '.join(TABLES)}")
        else:
            self.raw.execute("PRAGMA journal_mode = WAL").fetchall()
            self.raw.execute("PRAGMA foreign_keys = ON").fetchall()

    def load_table(self, table: str) -> None:
        import pyarrow.parquet as pq

        files = parquet_files(table)
        names = pq.read_schema(files[0]).names
        columns, constants = check_columns(table, names), constants_for(table, names)
        total, done, started = parquet_rows(table), 0, time.perf_counter()
        write = self.copy_batches if self.name == "postgres" else self.insert_batches
        report = started
        for count in write(table, columns, constants):
            done += count
            if time.perf_counter() - report > 30:
                report = time.perf_counter()
                print(f"    {table}: {done:,}/{total:,} rows, "
                      f"{done / (report - started):,.0f} rows/s", flush=True)  # fmt: skip
        seconds = time.perf_counter() - started
        if done != total:
            raise SystemExit(f"{table}: {done:,} rows written, {total:,} in the Parquet")
        print(f"  {table}: {done:,} rows in {seconds:.1f} s ({done / max(seconds, 1e-9):,.0f}"
              f" rows/s)", flush=True)  # fmt: skip

    def copy_batches(self, table: str, columns: list[str], constants: dict[str, str]):
        import pyarrow as pa
        from pyarrow import csv as arrow_csv

        constants = {c: (f"{v}+00" if v == STAMP else v) for c, v in constants.items()}

        def csv_buffers():
            for batch in batches(table, BATCH["postgres"]):
                arrays = [*batch.columns, *(pa.repeat(v, batch.num_rows) for v in
                                            constants.values())]  # fmt: skip
                buffer = io.BytesIO()
                arrow_csv.write_csv(pa.Table.from_arrays(arrays, names=columns), buffer,
                                    arrow_csv.WriteOptions(include_header=False))  # fmt: skip
                yield batch.num_rows, buffer

        with (
            self.raw.cursor() as cursor,
            cursor.copy(
                f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
            ) as copy,
        ):
            for rows, buffer in prefetched(csv_buffers()):
                copy.write(buffer.getbuffer())
                yield rows

    def insert_batches(self, table: str, columns: list[str], constants: dict[str, str]):
        import pyarrow as pa
        import pyarrow.compute as pc

        given = [c for c in columns if c not in constants]
        values = [*(["?"] * len(given)), *(f"'{v}'" for v in constants.values())]
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(values)})"

        def rows():
            for batch in batches(table, BATCH["sqlite"]):
                lists = [(pc.cast(c, pa.string()) if pa.types.is_date(c.type) else c).to_pylist()
                         for c in batch.columns]  # fmt: skip
                yield list(zip(*lists, strict=True))

        self.raw.execute("BEGIN")
        for chunk in prefetched(rows()):
            self.raw.executemany(sql, chunk)
            yield len(chunk)
        self.raw.execute("COMMIT")


def child_load(name: str, reload: bool) -> None:
    setup_django()
    sync_standards()
    loader = Loader(name)
    wanted = {t: parquet_rows(t) for t in TABLES}
    marker = WORK / f"{name}-loaded.json"
    known = json.loads(marker.read_text()) if marker.exists() else {}
    if not reload and known.get("rows") == wanted and loader.counts() == wanted:
        print(f"{LABELS[name]}: loaded already ({sum(wanted.values()):,} rows; the load took"
              f" {known['seconds']:.0f} s)", flush=True)  # fmt: skip
        return
    marker.unlink(missing_ok=True)
    print(f"{LABELS[name]}: loading {sum(wanted.values()):,} rows", flush=True)
    started, cpu = time.perf_counter(), cpu_seconds()
    loader.load()
    seconds = time.perf_counter() - started
    if loader.counts() != wanted:
        raise SystemExit(f"{name}: row counts after the load differ from the Parquet's")
    marker.write_text(json.dumps({"rows": wanted, "seconds": seconds,
                                  "client_cpu": cpu_seconds() - cpu}))  # fmt: skip
    print(f"{LABELS[name]}: loaded in {seconds:.0f} s (this process's CPU "
          f"{cpu_seconds() - cpu:.0f} s)", flush=True)  # fmt: skip


# ---- evaluating ------------------------------------------------------------------------


class ServerCpu:
    """CPU seconds of this connection's PostgreSQL backend, and of its parallel workers
    (processes of their own, named "parallel worker for PID <backend>": a thread looks for
    them every 0.1 s and keeps the last figure of each, so a worker living less than that may
    be missed), read from /proc: the server runs on this machine."""

    def __init__(self):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.pid = cursor.fetchone()[0]
        self.tick = os.sysconf("SC_CLK_TCK")
        self.workers: dict[int, float] = {}
        self.available = self._cpu(self.pid) is not None
        if self.available:
            threading.Thread(target=self._watch, daemon=True).start()

    def _cpu(self, pid: int) -> float | None:
        try:
            text = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None  # gone, or the server is elsewhere
        fields = text[text.rindex(")") + 2 :].split()  # from field 3 (state) on
        return (int(fields[11]) + int(fields[12])) / self.tick  # utime + stime

    def _watch(self) -> None:
        mark = f"parallel worker for PID {self.pid}".encode()
        text = Path(f"/proc/{self.pid}/stat").read_text()
        server = int(text[text.rindex(")") + 2 :].split()[1])  # the postmaster
        children = Path(f"/proc/{server}/task/{server}/children")
        while True:
            try:
                pids = [int(p) for p in children.read_text().split()]
            except OSError:  # a kernel without the children file
                pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
            for pid in pids:
                try:
                    if mark not in Path(f"/proc/{pid}/cmdline").read_bytes():
                        continue
                except OSError:
                    continue
                cpu = self._cpu(pid)
                if cpu is not None:
                    self.workers[pid] = cpu
            time.sleep(0.1)

    def seconds(self) -> float | None:
        own = self._cpu(self.pid) if self.available else None
        return None if own is None else own + sum(self.workers.values())


class Watchdog:
    """Interrupts the database connection's statements after `seconds`, again every second
    until stopped (the engine runs several statements)."""

    def __init__(self, seconds: float, vendor: str):
        from django.db import connection

        connection.ensure_connection()
        self.seconds, self.vendor, self.raw = seconds, vendor, connection.connection
        self.fired = False
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    def _run(self):
        if self.stop.wait(self.seconds):
            return
        self.fired = True
        while not self.stop.is_set():
            if self.vendor == "sqlite":
                self.raw.interrupt()
            else:
                self.raw.cancel_safe(timeout=10)
            self.stop.wait(1)


def dump(results, path: Path) -> None:
    rows = sorted((r.as_json() for r in results), key=lambda r: (r["indicator"], r["orgunit"]))
    path.write_text(json.dumps(rows))


def child_duckdb(repeat: int) -> None:
    setup_django()
    from xinglin.evaluation.engine import evaluate
    from xinglin.warehouse import Warehouse

    warehouse = Warehouse(DATA)
    evaluate(PACK, UNIT, YEAR, backend="warehouse", warehouse=warehouse)  # compile, warm cache
    runs = []
    for _ in range(repeat):
        cpu = cpu_seconds()
        evaluation = evaluate(PACK, UNIT, YEAR, backend="warehouse", warehouse=warehouse)
        runs.append({"seconds": evaluation.seconds, "cpu": cpu_seconds() - cpu})
    rss = rss_gb()
    dump(evaluation.results, WORK / "duckdb-results.json")
    summary = {"runs": runs, "results": len(evaluation.results), "rss_gb": rss,
               "verdict": evaluation.verdict.status}  # fmt: skip
    (WORK / "duckdb-summary.json").write_text(json.dumps(summary))


def version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version" if connection.vendor == "postgresql" else
                       "SELECT sqlite_version()")  # fmt: skip
        return cursor.fetchone()[0]


def child_evaluate(name: str, repeat: int, timeout: float) -> None:
    setup_django()
    from django.db import connection

    from xinglin.evaluation import cache
    from xinglin.evaluation.engine import evaluate

    server = ServerCpu() if name == "postgres" else None
    if server:
        (WORK / "postgres-backend.pid").write_text(str(server.pid))
    started = time.perf_counter()
    county = evaluate(PACK, COUNTY, YEAR, backend="database")  # compiles the SQL; warms up
    warm = time.perf_counter() - started
    print(f"  {LABELS[name]}: county {COUNTY} first ({len(county.results):,} results,"
          f" compiling the SQL): {warm:.1f} s", flush=True)  # fmt: skip
    runs, evaluation, unfinished = [], None, None
    for k in range(1, repeat + 1):
        cache.clear()
        cpu, server_cpu = cpu_seconds(), server.seconds() if server else None
        started = time.perf_counter()
        try:
            with Watchdog(timeout, connection.vendor) as watchdog:
                evaluation = evaluate(PACK, UNIT, YEAR, backend="database")
        except Exception as error:
            if not watchdog.fired:
                raise
            unfinished = time.perf_counter() - started
            print(f"  {LABELS[name]}: run {k} stopped after {unfinished:.0f} s (--timeout"
                  f" {timeout:.0f}): {type(error).__name__}", flush=True)  # fmt: skip
            break
        run = {"seconds": time.perf_counter() - started, "engine_seconds": evaluation.seconds,
               "cpu": cpu_seconds() - cpu,
               "server_cpu": server.seconds() - server_cpu if server else None}  # fmt: skip
        runs.append(run)
        print(
            f"  {LABELS[name]}: run {k}: {run['seconds']:.1f} s, CPU {run['cpu']:.1f} s here"
            + (f" + {run['server_cpu']:.1f} s in the server" if server else ""),
            flush=True,
        )
    summary = {"runs": runs, "unfinished": unfinished, "timeout": timeout, "rss_gb": rss_gb(),
               "version": version()}  # fmt: skip
    if evaluation is not None:
        summary |= {"results": len(evaluation.results), "verdict": evaluation.verdict.status}
        dump(evaluation.results, WORK / f"{name}-results.json")
        summary["rss_all_results_gb"] = rss_gb()
    (WORK / f"{name}-summary.json").write_text(json.dumps(summary))


# ---- the parent: runs the children, compares, prints -----------------------------------


def environment(name: str) -> dict[str, str]:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="xinglin.settings",
               XINGLIN_VAR_DIR=str(WORK / f"{name}-var"))  # fmt: skip
    if name in DATABASES:
        env["XINGLIN_DATABASE_URL"] = DATABASES[name]
    return env


def spawn(role: str, name: str, args, timeout: float | None = None) -> bool:
    """Runs this script with --child; False when it failed or was stopped."""
    command = [sys.executable, __file__, "--child", role, "--db", name, "--repeat",
               str(args.repeat), "--timeout", str(args.timeout)]  # fmt: skip
    if args.reload:
        command.append("--reload")
    pid_file = WORK / "postgres-backend.pid"  # written by the evaluating child
    pid_file.unlink(missing_ok=True)
    process = subprocess.Popen(command, env=environment(name))
    try:
        return process.wait(timeout=timeout) == 0
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        if name == "postgres" and pid_file.exists():  # its statement would run on
            import psycopg

            with psycopg.connect(PG_URL + "postgres", autocommit=True) as admin:
                admin.execute("SELECT pg_cancel_backend(pid) FROM pg_stat_activity"
                              " WHERE pid = %s AND datname = %s",
                              [int(pid_file.read_text()), PG_DATABASE])  # fmt: skip
        print(f"  {LABELS[name]}: {role} stopped after {timeout:.0f} s")
        return False


def compare(name: str) -> str:
    mine = json.loads((WORK / f"{name}-results.json").read_text())
    reference = json.loads((WORK / "duckdb-results.json").read_text())
    if len(mine) != len(reference):
        return f"DIFFERENT: {len(mine):,} results, DuckDB {len(reference):,}"
    differing: dict[str, int] = {}
    example = None
    for a, b in zip(mine, reference, strict=True):
        for key in b:
            if a.get(key) != b[key]:
                differing[key] = differing.get(key, 0) + 1
                example = example or (key, a["indicator"], a["orgunit"], a.get(key), b[key])
    if not differing:
        return f"identical to DuckDB's ({len(mine):,} results, every field)"
    return (f"DIFFERENT from DuckDB's in {differing} (of {len(mine):,}); e.g. {example[0]} of"
            f" {example[1]} at {example[2]}: {example[3]!r} vs DuckDB {example[4]!r}")  # fmt: skip


def times(runs: list[dict], median: bool = False):
    values = [r["seconds"] for r in runs]
    if median:
        return statistics.median(values)
    return f"best {min(values):.2f} s, median {statistics.median(values):.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="province evaluations per database")
    parser.add_argument("--timeout", type=float, default=1200,
                        help="seconds before an evaluation is stopped (default 20 minutes)")  # fmt: skip
    parser.add_argument("--only", action="append", choices=sorted(DATABASES))
    parser.add_argument("--reload", action="store_true", help="load the databases again")
    parser.add_argument("--child", choices=("duckdb", "load", "evaluate"), help=argparse.SUPPRESS)
    parser.add_argument("--db", choices=("duckdb", *DATABASES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    SQLITE_FILE.parent.mkdir(parents=True, exist_ok=True)
    if args.child == "duckdb":
        return child_duckdb(args.repeat)
    if args.child == "load":
        return child_load(args.db, args.reload)
    if args.child == "evaluate":
        return child_evaluate(args.db, args.repeat, args.timeout)

    sys.path.insert(0, str(ROOT / "bench"))
    import _province

    manifest = _province.generate(DATA)
    print(f"province: {manifest['institutions']:,} institutions, {manifest['orgunits']:,} org"
          f" units, {manifest['values']:,} values, {manifest['techniques']:,} technique rows;"
          f" evaluating {PACK} for {UNIT} (every org unit), {YEAR}", flush=True)  # fmt: skip
    chosen = args.only or list(DATABASES)
    for stale in ("duckdb", *chosen):
        (WORK / f"{stale}-summary.json").unlink(missing_ok=True)
        (WORK / f"{stale}-results.json").unlink(missing_ok=True)
    if not spawn("duckdb", "duckdb", args):
        raise SystemExit("the DuckDB reference failed")
    duck = json.loads((WORK / "duckdb-summary.json").read_text())
    print(f"{LABELS['duckdb']}: {duck['results']:,} results, {times(duck['runs'])}"
          f" (after a warm-up), CPU {statistics.median(r['cpu'] for r in duck['runs']):.1f} s,"
          f" peak resident {duck['rss_gb']:.2f} GB", flush=True)  # fmt: skip
    for name in chosen:
        if name == "postgres":
            import psycopg

            try:
                create_pg_database()
            except psycopg.OperationalError as error:
                print(f"PostgreSQL does not answer at {PG_URL}: skipped ({error})")
                continue
        if not spawn("load", name, args):
            print(f"{LABELS[name]}: the load failed")
            continue
        print(f"{LABELS[name]}: evaluating (--repeat {args.repeat}, --timeout "
              f"{args.timeout:.0f} s)", flush=True)  # fmt: skip
        spawn("evaluate", name, args, timeout=args.timeout * args.repeat + 1800)
    print(f"\nW1 peers: {PACK}, every org unit of province {UNIT}, {YEAR}; "
          f"DuckDB {times(duck['runs'])}")  # fmt: skip
    for name in chosen:
        marker, path = WORK / f"{name}-loaded.json", WORK / f"{name}-summary.json"
        load = json.loads(marker.read_text())["seconds"] if marker.exists() else None
        if not path.exists():
            print(f"{LABELS[name]}: no result (see above)")
            continue
        summary = json.loads(path.read_text())
        loaded = f"{load:.0f} s" if load is not None else "?"
        line = f"{LABELS[name]} {summary['version']}: load {loaded} (once); "
        if summary["runs"]:
            runs = summary["runs"]
            line += (f"evaluation {times(runs)} ({len(runs)} runs), CPU "
                     f"{statistics.median(r['cpu'] for r in runs):.1f} s")  # fmt: skip
            if runs[0]["server_cpu"] is not None:
                line += f" + {statistics.median(r['server_cpu'] for r in runs):.1f} s server"
            ratio = times(runs, median=True) / times(duck["runs"], median=True)
            line += f"; {ratio:.0f}x DuckDB's median"
        if summary["unfinished"] is not None:
            line += (f"{'; then ' if summary['runs'] else ''}did not finish in "
                     f"{summary['timeout']:.0f} s (stopped)")  # fmt: skip
        line += f"; peak resident {summary['rss_gb']:.2f} GB"
        if "results" in summary:
            line += (f" ({summary['rss_all_results_gb']:.2f} GB with every Result built);"
                     f" {summary['results']:,} results, {compare(name)}")  # fmt: skip
        print(line)
    return None


if __name__ == "__main__":
    main()
