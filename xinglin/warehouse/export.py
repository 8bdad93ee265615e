"""Incremental export of what the evaluation engine reads, from the operational database to
Parquet, so that province-scale evaluations run on DuckDB (`engine.evaluate(backend=...)`).

Layout under the warehouse root: one directory per table, named after the Django table so that
the engine's SQL reads the same names on every backend:
  network_orgunit/, network_orgunitchange/, network_orgunithistory/, standards_dataelement/, standards_techniqueitem/,
  evaluation_derivedvalue/, collection_deliveredtechnique/, collection_submission/
                                      — `all.parquet` (small tables)
  collection_datavalue/<year>.parquet — one file per year of the period, sorted by element,
                                        org unit and period (row groups prune by element)
Each directory also holds an empty `_schema.parquet`, so that an empty table is still a view.

Incremental: the manifest (`evaluation_manifest.json`) keeps a signature per file — row count,
highest id and latest change — and an export rewrites only the files whose signature changed
(a new, edited or deleted value changes its year's signature). Files are written beside their
target and renamed, so a reader never sees a half-written file.

Between exports the copy is kept fresh by xinglin/warehouse/fresh.py (delta files under
`collection_datavalue_delta/`, decision 0014). An export holds the same lock, rewrites every
year that has deltas and removes them; the manifest also says for which data generation the
copy was read (`generation`) and, in `exported_at`, when its reading began.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.db import connection

from xinglin.core import generation
from xinglin.warehouse import copy_state

CHUNK = 500_000
ROW_GROUP = 262_144
VALUE_TABLE = "collection_datavalue"

_INT, _STR, _DATE, _FLOAT = pa.int64(), pa.string(), pa.date32(), pa.float64()
_STAMP = pa.timestamp("us")
SCHEMAS: dict[str, pa.Schema] = {
    "network_orgunit": pa.schema([
        ("id", _INT), ("code", _STR), ("name", _STR), ("kind", _STR), ("division_level", _STR),
        ("institution_type", _STR), ("parent_id", _INT), ("path", _STR), ("depth", _INT),
        ("opened_on", _DATE), ("closed_on", _DATE), ("ownership", _STR), ("roles", _STR),
    ]),
    # dated ownership and roles: the engine reads them as they stood in the year evaluated
    "network_orgunitchange": pa.schema([
        ("id", _INT), ("orgunit_id", _INT), ("field", _STR), ("old", _STR), ("valid_from", _DATE),
    ]),
    "network_orgunithistory": pa.schema([
        ("id", _INT), ("orgunit_id", _INT), ("parent_id", _INT), ("path", _STR),
        ("valid_from", _DATE), ("valid_to", _DATE),
    ]),
    "standards_dataelement": pa.schema([
        ("id", _INT), ("code", _STR), ("period_type", _STR), ("aggregation", _STR),
        ("level", _STR),
    ]),
    "standards_techniqueitem": pa.schema([("id", _INT), ("code", _STR), ("category_id", _INT)]),
    "evaluation_derivedvalue": pa.schema([
        ("id", _INT), ("element_id", _INT), ("orgunit_id", _INT), ("period", _STR),
        ("value", _FLOAT), ("source", _STR),
    ]),
    "collection_deliveredtechnique": pa.schema([
        ("id", _INT), ("orgunit_id", _INT), ("period", _STR), ("item_id", _INT), ("source", _STR),
    ]),
    # the forms' submissions: reports due and on time (collection.completeness), naive UTC
    "collection_submission": pa.schema([
        ("id", _INT), ("orgunit_id", _INT), ("period", _STR), ("status", _STR),
        ("submitted_at", _STAMP),
    ]),
    # combo: the value's category option combination ("" the default; decision 0013)
    VALUE_TABLE: pa.schema([
        ("element_id", _INT), ("orgunit_id", _INT), ("period", _STR), ("value", _FLOAT),
        ("combo", _STR),
    ]),
}  # fmt: skip
# the change column that, with the row count and highest id, signs a table's content
_CHANGED = {
    "network_orgunit": "updated_at",
    "evaluation_derivedvalue": "computed_at",
    "collection_submission": "COALESCE(decided_at, submitted_at)",
    VALUE_TABLE: "updated_at",
}


@dataclass
class ExportResult:
    written: list[str] = field(
        default_factory=list
    )  # files rewritten, e.g. collection_datavalue/2024
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    rows: int = 0


def export_time(root: Path) -> str | None:
    """When the copy was last read from the database (ISO 8601, UTC: it holds every write
    committed before), by an export or a catch-up; for a national warehouse, its oldest
    province's export; None when there is no copy."""
    manifest = copy_state.read_manifest(root)
    if not manifest and copy_state.is_national(root):
        return copy_state.national_export_time(root)
    return manifest.get("exported_at")


def export_tables(
    root: Path, progress=None, *, _locked: bool = False, everything: bool = False
) -> ExportResult:
    """Bring the Parquet copy of the engine's tables up to date (see the module docstring).
    Also rewritten: every year that has delta files (xinglin/warehouse/fresh.py), whose deltas
    are then removed; `everything`: every file. With WAREHOUSE_FRESH the value table's change
    triggers are installed first, so that writes from now on reach the copy by catch-ups."""

    if not _locked:
        with copy_state.locked(root):
            return export_tables(root, progress, _locked=True, everything=everything)
    root = Path(root)
    if getattr(settings, "WAREHOUSE_FRESH", False):
        copy_state.install_triggers()
    # what the copy stands for: every write committed before its reading started
    token, scopes = generation.current(), generation.snapshot()
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    manifest = copy_state.read_manifest(root)
    signed = manifest.get("files", {})
    wanted = _signatures()
    result = ExportResult()
    for name in sorted(set(signed) - set(wanted)):
        (root / f"{name}.parquet").unlink(missing_ok=True)
        result.removed.append(name)
    with_deltas = {f"{VALUE_TABLE}/{p.name.split('-')[0]}" for p in copy_state.delta_files(root)}
    todo = [name for name in sorted(wanted)
            if everything or signed.get(name) != wanted[name] or name in with_deltas]  # fmt: skip
    result.unchanged = len(wanted) - len(todo)
    for table, schema in SCHEMAS.items():
        _write_empty(root / table / "_schema.parquet", schema)
    for done, name in enumerate(todo, start=1):
        table, part = name.split("/")
        result.rows += _write(root / f"{name}.parquet", table, part)
        result.written.append(name)
        if table == VALUE_TABLE:  # the year's deltas are older than what was just read
            for path in copy_state.delta_files(root, part):
                path.unlink()
        if progress:
            progress(done, len(todo))
    for name in with_deltas - set(wanted):  # a year with no value left
        for path in copy_state.delta_files(root, name.split("/")[1]):
            path.unlink()
    kept = {p.name for p in copy_state.delta_files(root)}
    manifest |= {"exported_at": stamp, "generation": token, "scopes": scopes, "files": wanted,
                 "retired": {n: t for n, t in manifest.get("retired", {}).items() if n in kept}}  # fmt: skip
    copy_state.write_manifest(root, manifest)
    return result


def write_year(root: Path, year: str) -> int:
    """Rewrite one year's value file from the database (a catch-up with many changes)."""
    return _write(Path(root) / VALUE_TABLE / f"{year}.parquet", VALUE_TABLE, year)


def refresh_small_tables(root: Path, signed: dict) -> ExportResult:
    """Sign the tables other than the values and rewrite those that changed (a catch-up);
    their signatures go into the manifest."""

    root = Path(root)
    tables = [t for t in SCHEMAS if t != VALUE_TABLE]
    wanted = _signatures(tables)
    result = ExportResult()
    for table in tables:
        _write_empty(root / table / "_schema.parquet", SCHEMAS[table])
        name = f"{table}/all"
        if name not in wanted and name in signed:  # emptied
            (root / f"{name}.parquet").unlink(missing_ok=True)
            result.removed.append(name)
        elif name in wanted and signed.get(name) != wanted[name]:
            result.rows += _write(root / f"{name}.parquet", table, "all")
            result.written.append(name)
    if result.written or result.removed:
        manifest = copy_state.read_manifest(root)
        files = {n: v for n, v in manifest.get("files", {}).items()
                 if n.split("/")[0] == VALUE_TABLE}  # fmt: skip
        manifest["files"] = files | wanted
        copy_state.write_manifest(root, manifest)
    return result


def _signatures(tables=None) -> dict[str, list]:
    """file name (table/part) -> [rows, highest id, latest change] in the database now."""
    found = {}
    with connection.cursor() as cursor:
        for table in tables or SCHEMAS:
            changed = f"MAX({_CHANGED[table]})" if table in _CHANGED else "NULL"
            if table == VALUE_TABLE:
                cursor.execute(
                    f"SELECT SUBSTR(period, 1, 4), COUNT(*), MAX(id), {changed} FROM {table}"
                    f" GROUP BY SUBSTR(period, 1, 4)"
                )
            else:
                cursor.execute(f"SELECT 'all', COUNT(*), MAX(id), {changed} FROM {table}")
            for part, rows, top, latest in cursor.fetchall():
                if rows:
                    # the columns sign it too: an export from before a column was added
                    # (ownership, roles) is rewritten, not read without them
                    found[f"{table}/{part}"] = [rows, top, str(latest) if latest else None,
                                                ",".join(SCHEMAS[table].names)]  # fmt: skip
    return found


def _select(table: str, part: str) -> tuple[str, list]:
    columns = ", ".join(SCHEMAS[table].names)
    if table == VALUE_TABLE:
        return (
            (
                f"SELECT {columns} FROM {table} WHERE period LIKE %s"
                f" ORDER BY element_id, orgunit_id, period"
            ),
            [part + "%"],
        )
    return f"SELECT {columns} FROM {table} ORDER BY id", []


def _write(path: Path, table: str, part: str) -> int:
    schema, (sql, params) = SCHEMAS[table], _select(table, part)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial, rows = path.with_suffix(".tmp"), 0
    with connection.cursor() as cursor, pq.ParquetWriter(partial, schema) as writer:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(CHUNK):
            columns = zip(*chunk, strict=True)
            arrays = [_array(c, f.type) for c, f in zip(columns, schema, strict=True)]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema), ROW_GROUP)
            rows += len(chunk)
    partial.replace(path)
    return rows


def _array(values, kind: pa.DataType) -> pa.Array:
    if kind == _DATE:  # SQLite hands dates back as ISO strings
        values = [date.fromisoformat(v) if isinstance(v, str) else v for v in values]
    if kind == _STAMP:  # naive UTC, whatever the database hands back
        values = [_naive_utc(v) for v in values]
    return pa.array(values, type=kind)


def _naive_utc(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def _write_empty(path: Path, schema: pa.Schema) -> None:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(schema.empty_table(), path)
