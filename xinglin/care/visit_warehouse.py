"""Visit records in the warehouse: incremental export from the operational database to
Parquet, and the visit figures derived on DuckDB with the same rules as care/visits.py.

Layout (version 2): rows hold integers, so that the figures over tens of millions of visits
are a scan of a few narrow columns:
  visits/batch-<id>.parquet            batch_id, institution_id, month (yyyymm as an integer),
                                       department_id, has_tcm_diagnosis, has_technique,
                                       has_herbal
  visit_techniques/batch-<id>.parquet  batch_id, institution_id, month, item_id
  visit_departments/all.parquet        id, department (the names, ids kept by the manifest)
  visit_institutions/all.parquet       id, code (every institution, from the org-unit table)
  visit_items/all.parquet              id, code (the technique catalogue)
The TCM-visit rule (care/tcm_visit.py)'s department part is applied to the few department
names, not to every row: the figures query tests `department_id IN (…)` and the flags.

Export unit = one import batch (care.VisitImport). The manifest keeps each exported batch's
row count; an export writes batches that are new or whose count changed (a later import
replaced some of their institution-months) and removes files of batches that no longer exist.
A warehouse of an older layout is rewritten whole.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.db import connection

from xinglin.care.models import Visit, VisitImport, VisitTechnique
from xinglin.care.visit_rules import tcm_definition, tcm_rules
from xinglin.network.models import Kind, OrgUnit
from xinglin.standards.models import TechniqueItem
from xinglin.warehouse.engine import Warehouse

LAYOUT = 2
CHUNK = 500_000
VISIT_SCHEMA = pa.schema(
    [
        ("batch_id", pa.int64()),
        ("institution_id", pa.int64()),
        ("month", pa.int32()),
        ("department_id", pa.int32()),
        ("has_tcm_diagnosis", pa.bool_()),
        ("has_technique", pa.bool_()),
        ("has_herbal", pa.bool_()),
    ]
)
TECHNIQUE_SCHEMA = pa.schema(
    [
        ("batch_id", pa.int64()),
        ("institution_id", pa.int64()),
        ("month", pa.int32()),
        ("item_id", pa.int64()),
    ]
)
BATCH_TABLES = ("visits", "visit_techniques")
SMALL_TABLES = ("visit_departments", "visit_institutions", "visit_items")


@dataclass
class ExportResult:
    written: int = 0  # batches written
    removed: int = 0  # batch files removed
    rows: int = 0  # visit rows written
    unchanged: int = 0


def _tables():
    return {
        "visit": Visit._meta.db_table,
        "batch": VisitImport._meta.db_table,
        "technique": VisitTechnique._meta.db_table,
        "unit": OrgUnit._meta.db_table,
        "institution": Kind.INSTITUTION.value,
        "item": TechniqueItem._meta.db_table,
    }


def export_visits(warehouse: Warehouse, progress=None) -> ExportResult:
    """Bring the Parquet copy of the visit records up to date (see the module docstring)."""
    root = warehouse.root
    manifest_path = root / "visits_manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    if manifest.get("layout") != LAYOUT:  # none yet, or an older layout: start again
        for table in BATCH_TABLES + SMALL_TABLES:
            for path in (root / table).glob("*.parquet"):
                path.unlink()
        manifest = {"layout": LAYOUT, "batches": {}, "departments": []}
    for table in BATCH_TABLES + SMALL_TABLES:
        (root / table).mkdir(parents=True, exist_ok=True)
    batches, departments = manifest["batches"], manifest["departments"]
    t = _tables()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT batch_id, COUNT(*) FROM {t['visit']} GROUP BY batch_id")
        counts = {str(batch): n for batch, n in cursor.fetchall()}
    result = ExportResult()
    for batch in set(batches) - set(counts):
        for table in BATCH_TABLES:
            (root / table / f"batch-{batch}.parquet").unlink(missing_ok=True)
        del batches[batch]
        result.removed += 1
    todo = sorted((b for b, n in counts.items() if batches.get(b) != n), key=int)
    result.unchanged = len(counts) - len(todo)
    for done, batch in enumerate(todo, start=1):
        _write_batch(root, int(batch), t, departments)
        batches[batch] = counts[batch]
        result.written += 1
        result.rows += counts[batch]
        if progress:
            progress(done, len(todo))
    _write_small_tables(root, t, departments)
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False))
    return result


def _write_batch(root: Path, batch: int, t: dict[str, str], departments: list[str]) -> None:
    """One batch's visits and techniques. New department names join `departments`, whose
    positions are the ids (kept across batches by the manifest)."""
    visits = (
        f"SELECT batch_id, institution_id, month, department, has_tcm_diagnosis,"
        f" has_technique, has_herbal FROM {t['visit']} WHERE batch_id = %s"
    )
    techniques = (
        f"SELECT batch_id, institution_id, month, item_id FROM {t['technique']} WHERE batch_id = %s"
    )

    def encode(columns: dict) -> dict:
        names = columns.pop("department")
        new = [n for n in pc.unique(names).to_pylist() if n not in set(departments)]
        departments.extend(sorted(new))
        columns["department_id"] = pc.index_in(names, value_set=pa.array(departments, pa.string()))
        return columns

    _copy(visits, batch, VISIT_SCHEMA, root / "visits" / f"batch-{batch}.parquet", encode)
    _copy(techniques, batch, TECHNIQUE_SCHEMA,
          root / "visit_techniques" / f"batch-{batch}.parquet")  # fmt: skip


def _copy(sql: str, batch: int, schema: pa.Schema, path: Path, encode=None) -> None:
    partial = path.with_suffix(".tmp")
    with connection.cursor() as cursor, pq.ParquetWriter(partial, schema) as writer:
        cursor.execute(sql, [batch])
        names = [d[0] for d in cursor.description]
        while rows := cursor.fetchmany(CHUNK):
            columns = {
                name: pa.array(values)
                for name, values in zip(names, zip(*rows, strict=True), strict=True)
            }
            columns["month"] = pc.cast(columns["month"], pa.int32())  # '202501' -> 202501
            if encode:
                columns = encode(columns)
            arrays = [pc.cast(columns[f.name], f.type) for f in schema]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
    partial.replace(path)  # readers never see a half-written file


def _write_small_tables(root: Path, t: dict[str, str], departments: list[str]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, code FROM {t['unit']} WHERE kind = %s", [t["institution"]])
        institutions = cursor.fetchall()
        cursor.execute(f"SELECT id, code FROM {t['item']}")
        items = cursor.fetchall()
    tables = {
        "visit_departments": {"id": list(range(len(departments))), "department": departments},
        "visit_institutions": _columns(institutions),
        "visit_items": _columns(items),
    }
    schemas = {
        "visit_departments": pa.schema([("id", pa.int32()), ("department", pa.string())]),
        "visit_institutions": pa.schema([("id", pa.int64()), ("code", pa.string())]),
        "visit_items": pa.schema([("id", pa.int64()), ("code", pa.string())]),
    }
    for name, columns in tables.items():
        partial = root / name / "all.tmp"
        pq.write_table(pa.table(columns, schema=schemas[name]), partial)
        partial.replace(root / name / "all.parquet")


def _columns(rows: list[tuple]) -> dict[str, list]:
    return {"id": [r[0] for r in rows], "code": [r[1] for r in rows]}


# ---- figures ---------------------------------------------------------------------------


def tcm_condition(warehouse: Warehouse, rules: dict) -> str:
    """The TCM-visit rule (care.tcm_visit) over the visits table, in DuckDB's SQL: the
    department part decided once per department name, reaching the SQL as integer ids; the
    content flags per row."""

    definition = tcm_definition(rules)
    ids = []
    if definition.department is not None:
        names = warehouse.query("SELECT id, department FROM visit_departments", max_rows=1_000_000)
        counted = set(definition.departments_counted(name for _i, name in names.rows))
        ids = [int(i) for i, name in names.rows if name in counted]
    return definition.sql("duckdb", "department_id", ids)


def visit_figures(warehouse: Warehouse, months: list[str], rules: dict | None = None):
    """(institution code, month, total visits, TCM visits) for `months`, one GROUP BY over
    integer columns, the codes joined to the 36,000-odd groups afterwards. `rules`: the
    TCM-visit rules (care.visit_rules.tcm_rules() when None)."""

    if not warehouse.table_files("visits") or not months:
        return []
    sql = figures_sql(tcm_condition(warehouse, rules or tcm_rules()), months)
    result = warehouse.query(sql, max_rows=10_000_000)
    return [(code, str(month), int(total), int(tcm)) for code, month, total, tcm in result.rows]


def figures_sql(condition: str, months: list[str]) -> str:
    """The figures statement (standard SQL: DuckDB here, PostgreSQL in the W2 bench). Only
    integers enter the text: the months as yyyymm numbers, the condition's department ids."""
    numbers = ", ".join(str(int(m)) for m in months)
    return (
        f"WITH f AS (SELECT institution_id, month, COUNT(*) AS total,"
        f" COUNT(*) FILTER (WHERE {condition}) AS tcm FROM visits"
        f" WHERE month IN ({numbers}) GROUP BY institution_id, month)"
        f" SELECT i.code, f.month, f.total, f.tcm FROM f"
        f" JOIN visit_institutions i ON i.id = f.institution_id ORDER BY i.code, f.month"
    )


def delivered_techniques(warehouse: Warehouse, months: list[str]) -> list[tuple[str, str, str]]:
    """Distinct (institution code, month, item code) delivered in `months`."""
    if not warehouse.table_files("visit_techniques") or not months:
        return []
    marks = ", ".join("?" * len(months))
    sql = (
        f"WITH d AS (SELECT DISTINCT institution_id, month, item_id FROM visit_techniques"
        f" WHERE month IN ({marks}))"
        f" SELECT i.code, d.month, t.code FROM d JOIN visit_institutions i"
        f" ON i.id = d.institution_id JOIN visit_items t ON t.id = d.item_id"
        f" ORDER BY 1, 2, 3"
    )
    rows = warehouse.query(sql, [int(m) for m in months], max_rows=10_000_000).rows
    return [(code, str(month), item) for code, month, item in rows]
