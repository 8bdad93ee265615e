"""The warehouse copy kept fresh: every committed write reaches it within seconds, without
rewriting a year's file (docs/decisions/0014-fresh-warehouse.md).

- **Capture.** Database triggers on collection_datavalue record the key (element, org unit,
  period) of every inserted, changed or deleted value in `warehouse_change` (core's
  WarehouseChange): on SQLite row triggers, on PostgreSQL statement triggers with transition
  tables (one INSERT … SELECT per statement; a TRUNCATE records a row without a key, which
  asks for a full export). Triggers, as for the data generation (decision 0003), so that no
  write path — the guarded write, imports, deletions, derived values, raw SQL — can forget.
  They are installed by the first export and checked by every catch-up (SQLite drops a
  table's triggers when a migration rebuilds it: the copy is then exported again).
- **Catch-up** (`catch_up`). The recorded keys' current rows are read from the database and
  written as one small delta file per year touched (`collection_datavalue_delta/<year>-<seq>
  .parquet`: the value columns, `seq`, `deleted`); the keys read are then removed (only
  those: a key recorded meanwhile stays for the next round). The small tables (org units and
  their history, elements, techniques, derived values, submissions) are signed as by the
  export and rewritten when changed. The manifest then says when the copy was read
  (`exported_at`, `Evaluation.data_as_of`) and for which data generation (`generation`):
  an evaluation on a copy behind the database's generation is not kept by the cache.
- **Reading.** `Warehouse.table_sql`: the newest delta row of a key replaces the base row,
  a deleted key's row is left out.
- **Compaction** (`compact`). A year with WAREHOUSE_FRESH_COMPACT_FILES delta files is merged
  into its file by DuckDB (no database read), and its deltas are removed a minute later
  (a reader that listed them before still finds them; applied again on the merged file they
  change nothing).
- **Who runs it.** `xinglin serve` starts `xinglin warehouse maintain` beside gunicorn, which
  catches up every WAREHOUSE_FRESH_SECONDS when the data generation moved. Every step holds
  the warehouse's lock (`<root>/.lock`), as the full export does.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.db import close_old_connections, connection

from xinglin.core import generation
from xinglin.warehouse import export
from xinglin.warehouse.copy_state import (
    CHANGES,
    DELTA_DIR,
    KEY,
    VALUE_TABLE,
    delta_files,
    install_triggers,
    locked,
    read_manifest,
    triggers_present,
    write_manifest,
    year_of,
)
from xinglin.warehouse.engine import Warehouse, _listing
from xinglin.warehouse.export import ROW_GROUP, SCHEMAS

log = logging.getLogger("xinglin.warehouse")

BATCH = 200_000  # keys read per catch-up
LOOKUP = 900  # keys per database lookup (SQLite: 3 parameters each, under 32,766)
REWRITE_ABOVE = 50_000  # more keys in one year: the year is exported again instead
RETIRE_AFTER = 60.0  # seconds a merged delta file is kept for readers that listed it


@dataclass
class CatchUp:
    keys: int = 0  # value keys brought in
    deleted: int = 0  # of which no longer in the database
    deltas: list[str] = field(default_factory=list)  # delta files written
    rewritten: list[str] = field(default_factory=list)  # files written whole
    seconds: float = 0.0
    generation: str | None = None


def behind(root: Path) -> bool:
    """Whether the copy exists and the database's data generation moved since it was read."""
    manifest = read_manifest(root)
    if not manifest.get("exported_at"):
        return False
    return manifest.get("generation") != generation.current()


def catch_up(root: Path) -> CatchUp:
    """Bring every write committed so far into the copy (see the module docstring). Nothing
    when there is no copy yet (the first one is a full export)."""

    root = Path(root)
    started = time.perf_counter()
    result = CatchUp()
    with locked(root):
        manifest = read_manifest(root)
        if not manifest.get("exported_at"):
            return result
        if not triggers_present():
            # a new copy, or a table rebuilt by a migration lost them: writes may be missed
            log.warning("warehouse: change triggers missing; exporting the copy again")
            install_triggers()
            full = export.export_tables(root, _locked=True)
            result.rewritten = full.written
            result.generation = read_manifest(root).get("generation")
            result.seconds = time.perf_counter() - started
            return result
        token, scopes = generation.current(), generation.snapshot()
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id, {', '.join(KEY)} FROM {CHANGES} ORDER BY id LIMIT {BATCH}")
            recorded = cursor.fetchall()
        if any(row[1] is None for row in recorded):  # a TRUNCATE: everything again
            full = export.export_tables(root, _locked=True, everything=True)
            _forget([row[0] for row in recorded])
            result.rewritten = full.written
            result.generation = read_manifest(root).get("generation")
            result.seconds = time.perf_counter() - started
            return result
        keys = sorted({tuple(row[1:]) for row in recorded})
        by_year: dict[str, list[tuple]] = {}
        for key in keys:
            by_year.setdefault(key[2][:4], []).append(key)
        seq = int(manifest.get("delta_seq", 0))
        for year, year_keys in sorted(by_year.items()):
            if len(year_keys) > REWRITE_ABOVE:
                export.write_year(root, year)
                _remove(delta_files(root, year))
                result.rewritten.append(f"{VALUE_TABLE}/{year}")
                continue
            seq += 1
            found = _current_rows(year_keys)
            result.keys += len(year_keys)
            result.deleted += len(year_keys) - len(found)
            result.deltas.append(_write_delta(root, year, seq, year_keys, found))
        _forget([row[0] for row in recorded])
        small = export.refresh_small_tables(root, manifest.get("files", {}))
        result.rewritten += small.written
        manifest = read_manifest(root)  # refresh_small_tables wrote the files' signatures
        manifest |= {"exported_at": stamp, "generation": token, "scopes": scopes,
                     "delta_seq": seq}  # fmt: skip
        write_manifest(root, manifest)
        result.generation = token
    result.seconds = time.perf_counter() - started
    if result.keys or result.rewritten:
        log.info("warehouse caught up in %.3f s: %d values (%d deleted) in %d delta files, "
                 "%d files rewritten", result.seconds, result.keys, result.deleted,
                 len(result.deltas), len(result.rewritten))  # fmt: skip
    return result


def _current_rows(keys: list[tuple]) -> dict[tuple, list[tuple]]:
    """key -> the rows (schema columns) as the database holds them now, for the keys present:
    one per option combination of a categorised element (decision 0013), one otherwise."""

    names = SCHEMAS[VALUE_TABLE].names
    found = {}
    with connection.cursor() as cursor:
        for start in range(0, len(keys), LOOKUP):
            chunk = keys[start : start + LOOKUP]
            match = " OR ".join(
                ["(element_id = %s AND orgunit_id = %s AND period = %s)"] * len(chunk)
            )
            cursor.execute(
                f"SELECT {', '.join(names)} FROM {VALUE_TABLE} WHERE {match}",
                [v for key in chunk for v in key],
            )
            for row in cursor.fetchall():
                record = dict(zip(names, row, strict=True))
                found.setdefault(tuple(record[c] for c in KEY), []).append(row)
    return found


def _write_delta(root: Path, year: str, seq: int, keys: list[tuple], found: dict) -> str:

    schema = SCHEMAS[VALUE_TABLE]
    # a key's rows all carry the catch-up's seq: the reader takes every row of a key's newest
    # seq (its combinations as they stand now), or drops the key when that row says deleted
    rows = [row for key in keys for row in found.get(key) or [_deleted_row(schema, key)]]
    deleted = [key not in found for key in keys for _row in found.get(key) or [None]]
    columns = list(zip(*rows, strict=True))
    arrays = [pa.array(list(c), type=f.type) for c, f in zip(columns, schema, strict=True)]
    arrays += [pa.array([seq] * len(rows), pa.int64()), pa.array(deleted, pa.bool_())]
    table = pa.Table.from_arrays(
        arrays, schema=schema.append(pa.field("seq", pa.int64())).append(
            pa.field("deleted", pa.bool_()))
    )  # fmt: skip
    path = Path(root) / DELTA_DIR / f"{year}-{seq:010d}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    pq.write_table(table, partial)
    partial.replace(path)
    return path.name


def _deleted_row(schema: pa.Schema, key: tuple) -> tuple:
    known = dict(zip(KEY, key, strict=True))
    return tuple(known.get(name) for name in schema.names)


def _forget(ids: list[int]) -> None:
    if not ids:
        return
    with connection.cursor() as cursor:
        ids = sorted(ids)
        # contiguous runs as ranges: a batch is mostly one run
        start = previous = ids[0]
        runs = []
        for pk in ids[1:]:
            if pk != previous + 1:
                runs.append((start, previous))
                start = pk
            previous = pk
        runs.append((start, previous))
        for first, last in runs:
            cursor.execute(f"DELETE FROM {CHANGES} WHERE id BETWEEN %s AND %s", [first, last])


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


# ---- compaction ------------------------------------------------------------------------


def compact(root: Path, *, min_files: int | None = None) -> list[str]:
    """Merge the delta files of every year holding at least `min_files` of them into the
    year's file (DuckDB, from the copy itself); returns the years merged. The merged deltas
    are removed RETIRE_AFTER seconds later (`retire`)."""

    root = Path(root)
    min_files = min_files or settings.WAREHOUSE_FRESH_COMPACT_FILES
    retire(root)
    merged = []
    years = sorted({y for p in delta_files(root) if (y := year_of(p)) is not None})
    for year in years:
        retired = set(read_manifest(root).get("retired", {}))
        deltas = [p for p in delta_files(root, year) if p.name not in retired]
        if len(deltas) < min_files:
            continue
        base = root / VALUE_TABLE / f"{year}.parquet"
        partial = base.with_suffix(".merging")
        warehouse = Warehouse(root)
        listing = [p for p in warehouse.table_files(VALUE_TABLE) if p.name == base.name]
        columns = ", ".join(SCHEMAS[VALUE_TABLE].names)
        select = _merged_sql(warehouse, listing, deltas, year, columns)
        with locked(root):
            before = base.stat().st_mtime_ns if base.exists() else None
        database = warehouse._connect()
        try:
            database.execute("SET preserve_insertion_order = false")
            database.execute(
                f"COPY ({select} ORDER BY element_id, orgunit_id, period) TO"
                f" '{partial}' (FORMAT parquet, ROW_GROUP_SIZE {ROW_GROUP})"
            )
        finally:
            database.close()
        with locked(root):
            now = base.stat().st_mtime_ns if base.exists() else None
            if now != before or not all(p.exists() for p in deltas):
                partial.unlink(missing_ok=True)  # an export rewrote the year meanwhile
                continue
            partial.replace(base)
            manifest = read_manifest(root)
            stamp = time.time()
            manifest.setdefault("retired", {}).update({p.name: stamp for p in deltas})
            write_manifest(root, manifest)
        merged.append(year)
        log.info("warehouse: %d delta files of %s merged into its file", len(deltas), year)
    return merged


def _merged_sql(warehouse, listing: list[Path], deltas: list[Path], year: str, columns: str) -> str:

    base = f"SELECT {columns} FROM read_parquet([{_listing(listing)}])" if listing else None
    key = ", ".join(KEY)
    newest = (
        f"SELECT * FROM read_parquet([{_listing(deltas)}])"
        f" QUALIFY seq = max(seq) OVER (PARTITION BY {key})"
    )
    fresh = f"SELECT {columns} FROM d WHERE NOT deleted"
    if base is None:
        return f"WITH d AS ({newest}) {fresh}"
    return (
        f"WITH d AS ({newest}) SELECT * FROM ({base}) b ANTI JOIN d USING ({key})"
        f" UNION ALL BY NAME {fresh}"
    )


def retire(root: Path, *, after: float = RETIRE_AFTER) -> None:
    """Remove merged delta files kept longer than `after` seconds."""
    with locked(root):
        manifest = read_manifest(root)
        retired = manifest.get("retired", {})
        old = [name for name, stamp in retired.items() if time.time() - stamp >= after]
        if not old:
            return
        _remove([Path(root) / DELTA_DIR / name for name in old])
        manifest["retired"] = {n: s for n, s in retired.items() if n not in old}
        write_manifest(root, manifest)


# ---- the maintainer --------------------------------------------------------------------


def step(root: Path) -> CatchUp | None:
    """One round of the maintainer: catch up when the data moved, then compact."""
    result = catch_up(root) if behind(root) or _recorded() else None
    if delta_files(root):
        compact(root)
    return result


def _recorded() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {CHANGES} LIMIT 1")
        return cursor.fetchone() is not None


def run_forever(root: Path, *, interval: float | None = None, parent: int | None = None,
                stop: threading.Event | None = None) -> None:  # fmt: skip
    """The maintainer's loop (`xinglin warehouse maintain`, or a thread): a step every
    `interval` seconds until `stop` is set or `parent` (the server's process) is gone."""
    interval = interval if interval is not None else settings.WAREHOUSE_FRESH_SECONDS
    stop = stop or threading.Event()
    log.info("warehouse maintainer: keeping %s fresh every %.1f s", root, interval)
    while not stop.is_set():
        if parent is not None and os.getppid() != parent:
            return
        try:
            step(root)
        except Exception:  # a lost connection or a full disk must not end the maintainer
            log.exception("warehouse maintainer: a round failed; trying again")
            close_old_connections()
        stop.wait(interval)


def start_thread(
    root: Path, *, interval: float | None = None
) -> tuple[threading.Thread, threading.Event]:
    """The maintainer in a thread of this process (tests, a single-process deployment)."""
    stop = threading.Event()

    def loop() -> None:
        try:
            run_forever(root, interval=interval, stop=stop)
        finally:
            connection.close()

    thread = threading.Thread(target=loop, daemon=True, name="xinglin-warehouse-fresh")
    thread.start()
    return thread, stop
