"""The state of the warehouse copy that the export and the fresh-keeping both write: its lock,
its manifest, its delta files and the change triggers that feed it (decision 0014). Below
export.py, fresh.py, national.py and the reader (engine.py), and importing none of them, so
that none of them imports another back."""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

from xinglin.core import generation

# Tables whose changes reach the copy as delta files (`<table>_delta/<year>-<seq>.parquet`,
# xinglin/warehouse/fresh.py), with the columns that identify a row; the readers (engine.py,
# national.py) merge them into their table
DELTA_KEYS = {"collection_datavalue": ("element_id", "orgunit_id", "period")}
DELTA_SUFFIX = "_delta"
MANIFEST = "evaluation_manifest.json"
LAYOUT = "layout.json"  # a national warehouse's mark (xinglin/warehouse/national.py)
MANIFESTS = "_manifests"  # a national warehouse's per-province manifests
CHANGES = "warehouse_change"
PREFIX = "xl_wh_"
VALUE_TABLE = "collection_datavalue"
KEY = DELTA_KEYS[VALUE_TABLE]
DELTA_DIR = VALUE_TABLE + DELTA_SUFFIX


# ---- the lock and the manifest ---------------------------------------------------------


@contextmanager
def locked(root: Path) -> Iterator[None]:
    """The warehouse's lock: one writer of the copy at a time (catch-up, compaction, export),
    across processes."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_manifest(root: Path) -> dict:

    path = Path(root) / MANIFEST
    return json.loads(path.read_text()) if path.exists() else {}


def write_manifest(root: Path, manifest: dict) -> None:

    path = Path(root) / MANIFEST
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(manifest, indent=1))
    partial.replace(path)  # a reader never sees half a manifest


def copy_generation(root: Path) -> str | None:
    """The data generation the copy was read at (None: unknown, e.g. a generated copy)."""
    return read_manifest(root).get("generation")


def lags(root: Path, scope: generation.Scope | None = None) -> bool:
    """Whether anything `scope` reads (default: anything) was written after the copy's last
    read from the database (an export or a catch-up), by the snapshot of the scopes'
    generations its manifest keeps (decision 0019). True for a copy that does not say."""
    return generation.changed_since(read_manifest(root).get("scopes"), scope)


def delta_files(root: Path, year: str | None = None) -> list[Path]:
    return sorted((Path(root) / DELTA_DIR).glob(f"{year or '*'}-*.parquet"))


def _seq(path: Path) -> int:
    return int(path.stem.split("-")[1])


def year_of(path: Path) -> str | None:
    """The year a value file or a delta file holds (`2025.parquet`, `2026-0000000001.parquet`:
    the period's first four characters); None for a file not named by a year."""
    year = path.stem.split("-", 1)[0]
    return year if len(year) == 4 and year.isdigit() else None


# ---- the triggers ----------------------------------------------------------------------


def install_triggers(conn=None) -> None:
    """Record every write to the value table in warehouse_change (idempotent)."""
    conn = conn or connection
    with conn.cursor() as cursor:
        for statement in _triggers(conn.vendor):
            cursor.execute(statement)


def uninstall_triggers(conn=None) -> None:
    conn = conn or connection
    with conn.cursor() as cursor:
        if conn.vendor == "sqlite":
            for event in ("insert", "update", "delete"):
                cursor.execute(f"DROP TRIGGER IF EXISTS {PREFIX}{event}")
        elif conn.vendor == "postgresql":
            for event in ("insert", "update", "delete", "truncate"):
                cursor.execute(f"DROP TRIGGER IF EXISTS {PREFIX}{event} ON {VALUE_TABLE}")


def triggers_present(conn=None) -> bool:
    conn = conn or connection
    with conn.cursor() as cursor:
        if conn.vendor == "sqlite":
            cursor.execute(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
                [PREFIX + "%"],
            )
            return cursor.fetchone()[0] >= 3
        if conn.vendor == "postgresql":
            cursor.execute("SELECT COUNT(*) FROM pg_trigger WHERE tgname LIKE %s", [PREFIX + "%"])
            return cursor.fetchone()[0] >= 4
    return False


def _triggers(vendor: str) -> list[str]:
    columns = ", ".join(KEY)
    insert = f"INSERT INTO {CHANGES} ({columns})"
    if vendor == "sqlite":
        new = ", ".join(f"NEW.{c}" for c in KEY)
        old = ", ".join(f"OLD.{c}" for c in KEY)
        moved = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in KEY)
        return [
            (
                f"CREATE TRIGGER IF NOT EXISTS {PREFIX}insert AFTER INSERT ON {VALUE_TABLE}"
                f" BEGIN {insert} VALUES ({new}); END"
            ),
            (
                f"CREATE TRIGGER IF NOT EXISTS {PREFIX}update AFTER UPDATE ON {VALUE_TABLE}"
                f" BEGIN {insert} VALUES ({new}); {insert} SELECT {old} WHERE {moved}; END"
            ),
            (
                f"CREATE TRIGGER IF NOT EXISTS {PREFIX}delete AFTER DELETE ON {VALUE_TABLE}"
                f" BEGIN {insert} VALUES ({old}); END"
            ),
        ]
    if vendor != "postgresql":
        return []
    keys = f"SELECT DISTINCT {columns} FROM"
    functions = {
        "new": f"{insert} {keys} new_rows;",
        "old": f"{insert} {keys} old_rows;",
        "both": f"{insert} {keys} new_rows UNION SELECT {columns} FROM old_rows;",
        "all": f"{insert} VALUES (NULL, NULL, NULL);",
    }
    statements = [
        f"CREATE OR REPLACE FUNCTION {PREFIX}{name}() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN {body} RETURN NULL; END $$"
        for name, body in functions.items()
    ]
    for event, tables, function in (
        ("insert", "NEW TABLE AS new_rows", "new"),
        ("update", "OLD TABLE AS old_rows NEW TABLE AS new_rows", "both"),
        ("delete", "OLD TABLE AS old_rows", "old"),
        ("truncate", "", "all"),
    ):
        referencing = f" REFERENCING {tables}" if tables else ""
        statements += [
            f"DROP TRIGGER IF EXISTS {PREFIX}{event} ON {VALUE_TABLE}",
            (
                f"CREATE TRIGGER {PREFIX}{event} AFTER {event.upper()} ON {VALUE_TABLE}{referencing}"
                f" FOR EACH STATEMENT EXECUTE FUNCTION {PREFIX}{function}()"
            ),
        ]
    return statements


# ---- catching up -----------------------------------------------------------------------


# ---- a national warehouse (xinglin/warehouse/national.py writes it) ---------------------


def is_national(root: Path) -> bool:
    path = Path(root) / LAYOUT
    return path.exists() and json.loads(path.read_text()).get("layout") == "national"


def provinces_in(root: Path) -> dict[str, str]:
    """province code -> when its export finished (ISO 8601, UTC)."""
    return {
        path.stem: json.loads(path.read_text())["exported_at"]
        for path in sorted((Path(root) / MANIFESTS).glob("*.json"))
    }


def national_export_time(root: Path) -> str | None:
    """The oldest province's export: the national figures are as of then."""
    stamps = provinces_in(root).values()
    return min(stamps) if stamps else None
