"""Visit records in the warehouse: incremental export from the operational database to
Parquet, and the visit figures derived on DuckDB with the same rules as care/visits.py.

Export unit = one import batch (care.VisitImport): `visits/batch-<id>.parquet` and
`visit_techniques/batch-<id>.parquet`. A manifest keeps each exported batch's row count; an
export writes batches that are new or whose count changed (a later import replaced some of
their institution-months) and removes files of batches that no longer exist.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from django.db import connection

from xinglin.warehouse.engine import Warehouse

CHUNK = 200_000
VISIT_SCHEMA = pa.schema(
    [
        ("batch_id", pa.int64()),
        ("institution", pa.string()),
        ("month", pa.string()),
        ("department", pa.string()),
        ("has_tcm_diagnosis", pa.bool_()),
        ("has_technique", pa.bool_()),
        ("has_herbal", pa.bool_()),
    ]
)
TECHNIQUE_SCHEMA = pa.schema(
    [
        ("batch_id", pa.int64()),
        ("institution", pa.string()),
        ("month", pa.string()),
        ("item", pa.string()),
    ]
)


@dataclass
class ExportResult:
    written: int = 0  # batches written
    removed: int = 0  # batch files removed
    rows: int = 0  # visit rows written
    unchanged: int = 0


def _tables():
    from xinglin.care.models import Visit, VisitImport, VisitTechnique
    from xinglin.network.models import OrgUnit
    from xinglin.standards.models import TechniqueItem

    return {
        "visit": Visit._meta.db_table,
        "batch": VisitImport._meta.db_table,
        "technique": VisitTechnique._meta.db_table,
        "unit": OrgUnit._meta.db_table,
        "item": TechniqueItem._meta.db_table,
    }


def export_visits(warehouse: Warehouse, progress=None) -> ExportResult:
    """Bring the Parquet copy of the visit records up to date (see the module docstring)."""
    root = warehouse.root
    for table in ("visits", "visit_techniques"):
        (root / table).mkdir(parents=True, exist_ok=True)
    manifest_path = root / "visits_manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    t = _tables()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT batch_id, COUNT(*) FROM {t['visit']} GROUP BY batch_id")
        counts = {str(batch): n for batch, n in cursor.fetchall()}
    result = ExportResult()
    for batch in set(manifest) - set(counts):
        for table in ("visits", "visit_techniques"):
            (root / table / f"batch-{batch}.parquet").unlink(missing_ok=True)
        del manifest[batch]
        result.removed += 1
    todo = sorted((b for b, n in counts.items() if manifest.get(b) != n), key=int)
    result.unchanged = len(counts) - len(todo)
    for done, batch in enumerate(todo, start=1):
        _write_batch(root, int(batch), t)
        manifest[batch] = counts[batch]
        result.written += 1
        result.rows += counts[batch]
        if progress:
            progress(done, len(todo))
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return result


def _write_batch(root: Path, batch: int, t: dict[str, str]) -> None:
    visits = (
        f"SELECT v.batch_id, u.code, v.month, v.department, v.has_tcm_diagnosis,"
        f" v.has_technique, v.has_herbal FROM {t['visit']} v JOIN {t['unit']} u"
        f" ON u.id = v.institution_id WHERE v.batch_id = %s"
    )
    techniques = (
        f"SELECT vt.batch_id, u.code, vt.month, i.code FROM {t['technique']} vt"
        f" JOIN {t['unit']} u ON u.id = vt.institution_id JOIN {t['item']} i ON i.id = vt.item_id"
        f" WHERE vt.batch_id = %s"
    )
    _copy(visits, batch, VISIT_SCHEMA, root / "visits" / f"batch-{batch}.parquet")
    _copy(techniques, batch, TECHNIQUE_SCHEMA, root / "visit_techniques" / f"batch-{batch}.parquet")


def _copy(sql: str, batch: int, schema: pa.Schema, path: Path) -> None:
    partial = path.with_suffix(".tmp")
    with connection.cursor() as cursor, pq.ParquetWriter(partial, schema) as writer:
        cursor.execute(sql, [batch])
        while rows := cursor.fetchmany(CHUNK):
            columns = list(zip(*rows, strict=True))
            arrays = [
                pa.array([bool(v) for v in col] if f.type == pa.bool_() else col, type=f.type)
                for col, f in zip(columns, schema, strict=True)
            ]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
    partial.replace(path)  # readers never see a half-written file


# ---- figures ---------------------------------------------------------------------------


def visit_figures(warehouse: Warehouse, months: list[str], condition: tuple[str, list]):
    """(institution code, month, total visits, TCM visits) for `months`, one GROUP BY.
    `condition` is the TCM-visit rule as SQL with `?` parameters (care.visits.tcm_sql)."""
    if not warehouse.table_files("visits"):
        return []
    rule, rule_params = condition
    marks = ", ".join("?" * len(months))
    sql = (
        f"SELECT institution, month, COUNT(*) AS total,"
        f" SUM(CASE WHEN {rule} THEN 1 ELSE 0 END) AS tcm FROM visits"
        f" WHERE month IN ({marks}) GROUP BY institution, month ORDER BY institution, month"
    )
    result = warehouse.query(sql, [*rule_params, *months], max_rows=10_000_000)
    return [(code, month, int(total), int(tcm)) for code, month, total, tcm in result.rows]


def delivered_techniques(warehouse: Warehouse, months: list[str]) -> list[tuple[str, str, str]]:
    """Distinct (institution code, month, item code) delivered in `months`."""
    if not warehouse.table_files("visit_techniques"):
        return []
    marks = ", ".join("?" * len(months))
    sql = (
        f"SELECT DISTINCT institution, month, item FROM visit_techniques"
        f" WHERE month IN ({marks}) ORDER BY institution, month, item"
    )
    return [tuple(r) for r in warehouse.query(sql, months, max_rows=10_000_000).rows]
