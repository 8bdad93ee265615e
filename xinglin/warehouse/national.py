"""The national layout of the warehouse: the 31 provinces' exports side by side.

`xinglin warehouse export --layout national --to DIR` writes, for each province of the
operational database (a division of level province), Hive-partitioned Parquet with codes, not
the database's local ids:

  DIR/layout.json                                   {"layout": "national"}
  DIR/_manifests/<province>.json                    when that province's export finished
  DIR/collection_datavalue/province=<code>/<year>.parquet   element, orgunit, period, value
  DIR/<table>/province=<code>/all.parquet           the small tables (NATIONAL below)

Org units, elements, technique items and their categories are named by code (a unit's parent
too), so that two provinces' files never collide: the provinces' databases each number from 1.
A province's export replaces its own partition only (files written beside and renamed).

Reading it: `register_duckdb` / `register_spark` give the engine the tables it reads on every
backend (`network_orgunit`, `collection_datavalue`, …) as views over these files, with ids
numbered from the codes (the same SQL for DuckDB and Spark: `VIEWS`, transpiled by SQLGlot).
The standard layout (`export.export_tables`) is registered as it is.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from django.db import connection

from xinglin.warehouse.copy_state import DELTA_KEYS, DELTA_SUFFIX, LAYOUT, MANIFESTS, is_national
from xinglin.warehouse.export import CHUNK, ROW_GROUP, ExportResult, _array

VALUES = "collection_datavalue"
_INT, _STR, _DATE, _FLOAT = pa.int64(), pa.string(), pa.date32(), pa.float64()
_STAMP = pa.timestamp("us")

# table -> (schema, SELECT on the operational database for one province; %s: its path prefix)
NATIONAL: dict[str, tuple[pa.Schema, str]] = {
    "network_orgunit": (pa.schema([
        ("code", _STR), ("name", _STR), ("kind", _STR), ("division_level", _STR),
        ("institution_type", _STR), ("parent", _STR), ("path", _STR), ("depth", _INT),
        ("opened_on", _DATE), ("closed_on", _DATE), ("ownership", _STR), ("roles", _STR),
    ]), ("SELECT o.code, o.name, o.kind, o.division_level, o.institution_type, p.code, o.path,"
        " o.depth, o.opened_on, o.closed_on, o.ownership, o.roles FROM network_orgunit AS o"
        " LEFT JOIN network_orgunit AS p ON p.id = o.parent_id WHERE o.path LIKE %s"
        " ORDER BY o.code")),
    # seq: the change's order within its unit (the engine orders a unit's changes by date, id)
    "network_orgunitchange": (pa.schema([
        ("seq", _INT), ("orgunit", _STR), ("field", _STR), ("old", _STR), ("valid_from", _DATE),
    ]), ("SELECT c.id, o.code, c.field, c.old, c.valid_from FROM network_orgunitchange AS c"
        " JOIN network_orgunit AS o ON o.id = c.orgunit_id WHERE o.path LIKE %s ORDER BY c.id")),
    "network_orgunithistory": (pa.schema([
        ("orgunit", _STR), ("parent", _STR), ("path", _STR), ("valid_from", _DATE),
        ("valid_to", _DATE),
    ]), ("SELECT o.code, p.code, h.path, h.valid_from, h.valid_to FROM network_orgunithistory"
        " AS h JOIN network_orgunit AS o ON o.id = h.orgunit_id LEFT JOIN network_orgunit AS p"
        " ON p.id = h.parent_id WHERE o.path LIKE %s ORDER BY h.id")),
    "standards_dataelement": (pa.schema([
        ("code", _STR), ("period_type", _STR), ("aggregation", _STR), ("level", _STR),
    ]), ("SELECT code, period_type, aggregation, level FROM standards_dataelement"
        " ORDER BY code")),
    "standards_techniqueitem": (pa.schema([("code", _STR), ("category", _STR)]),
        ("SELECT i.code, c.code FROM standards_techniqueitem AS i JOIN standards_techniquecategory"
        " AS c ON c.id = i.category_id ORDER BY i.code")),
    "evaluation_derivedvalue": (pa.schema([
        ("element", _STR), ("orgunit", _STR), ("period", _STR), ("value", _FLOAT),
        ("source", _STR),
    ]), ("SELECT e.code, o.code, d.period, d.value, d.source FROM evaluation_derivedvalue AS d"
        " JOIN standards_dataelement AS e ON e.id = d.element_id JOIN network_orgunit AS o"
        " ON o.id = d.orgunit_id WHERE o.path LIKE %s ORDER BY e.code, o.code, d.period")),
    "collection_deliveredtechnique": (pa.schema([
        ("orgunit", _STR), ("period", _STR), ("item", _STR), ("source", _STR),
    ]), ("SELECT o.code, d.period, i.code, d.source FROM collection_deliveredtechnique AS d"
        " JOIN network_orgunit AS o ON o.id = d.orgunit_id JOIN standards_techniqueitem AS i"
        " ON i.id = d.item_id WHERE o.path LIKE %s ORDER BY o.code, d.period, i.code")),
    "collection_submission": (pa.schema([
        ("orgunit", _STR), ("period", _STR), ("status", _STR), ("submitted_at", _STAMP),
    ]), ("SELECT o.code, s.period, s.status, s.submitted_at FROM collection_submission AS s"
        " JOIN network_orgunit AS o ON o.id = s.orgunit_id WHERE o.path LIKE %s"
        " ORDER BY o.code, s.period, s.id")),
    VALUES: (pa.schema([
        ("element", _STR), ("orgunit", _STR), ("period", _STR), ("value", _FLOAT),
    ]), ("SELECT e.code, o.code, v.period, v.value FROM collection_datavalue AS v"
        " JOIN standards_dataelement AS e ON e.id = v.element_id JOIN network_orgunit AS o"
        " ON o.id = v.orgunit_id WHERE o.path LIKE %s AND v.period LIKE %s"
        " ORDER BY e.code, o.code, v.period")),
}  # fmt: skip

# The engine's tables over the national files (national_<table>: a table's files, every
# province), ids numbered from the codes. Written once (PostgreSQL's dialect, as the engine's
# statements), transpiled by SQLGlot for DuckDB and Spark; in dependency order.
VIEWS: dict[str, str] = {
    "national_unit_id": "SELECT code, ROW_NUMBER() OVER (ORDER BY code) AS id"
    " FROM national_network_orgunit",
    "network_orgunit": "SELECT i.id, o.code, o.name, o.kind, o.division_level,"
    " o.institution_type, p.id AS parent_id, o.path, o.depth, o.opened_on, o.closed_on,"
    " o.ownership, o.roles FROM national_network_orgunit AS o JOIN national_unit_id AS i"
    " ON i.code = o.code LEFT JOIN national_unit_id AS p ON p.code = o.parent",
    "network_orgunitchange": "SELECT c.seq AS id, i.id AS orgunit_id, c.field, c.old,"
    " c.valid_from FROM national_network_orgunitchange AS c JOIN national_unit_id AS i"
    " ON i.code = c.orgunit",
    "network_orgunithistory": "SELECT ROW_NUMBER() OVER (ORDER BY h.orgunit, h.valid_from) AS id,"
    " i.id AS orgunit_id, p.id AS parent_id, h.path, h.valid_from, h.valid_to"
    " FROM national_network_orgunithistory AS h JOIN national_unit_id AS i ON i.code = h.orgunit"
    " LEFT JOIN national_unit_id AS p ON p.code = h.parent",
    "standards_dataelement": "SELECT ROW_NUMBER() OVER (ORDER BY code) AS id, code,"
    " MIN(period_type) AS period_type, MIN(aggregation) AS aggregation, MIN(level) AS level"
    " FROM national_standards_dataelement GROUP BY code",
    "standards_techniqueitem": "SELECT ROW_NUMBER() OVER (ORDER BY code) AS id, code,"
    " DENSE_RANK() OVER (ORDER BY MIN(category)) AS category_id"
    " FROM national_standards_techniqueitem GROUP BY code",
    "evaluation_derivedvalue": "SELECT e.id AS element_id, i.id AS orgunit_id, d.period,"
    " d.value, d.source FROM national_evaluation_derivedvalue AS d JOIN standards_dataelement"
    " AS e ON e.code = d.element JOIN national_unit_id AS i ON i.code = d.orgunit",
    "collection_deliveredtechnique": "SELECT i.id AS orgunit_id, d.period, t.id AS item_id,"
    " d.source FROM national_collection_deliveredtechnique AS d JOIN national_unit_id AS i"
    " ON i.code = d.orgunit JOIN standards_techniqueitem AS t ON t.code = d.item",
    "collection_submission": "SELECT i.id AS orgunit_id, s.period, s.status, s.submitted_at"
    " FROM national_collection_submission AS s JOIN national_unit_id AS i ON i.code = s.orgunit",
    VALUES: "SELECT e.id AS element_id, i.id AS orgunit_id, v.period, v.value"
    " FROM national_collection_datavalue AS v JOIN standards_dataelement AS e"
    " ON e.code = v.element JOIN national_unit_id AS i ON i.code = v.orgunit",
}


def _merge_deltas(spark, root: Path, table: str) -> None:
    """The table's view with the fresh copy's delta files applied (decision 0014), as
    `Warehouse.table_sql` does on DuckDB: the newest delta row of a key replaces the row of the
    same key, a deleted key's row is left out."""
    deltas = sorted((root / (table + DELTA_SUFFIX)).glob("*.parquet"))
    if not deltas:
        return
    from pyspark.sql import Window  # noqa: PLC0415 — pyspark loads only with the Spark backend
    from pyspark.sql import functions as F  # noqa: PLC0415, N812

    key = list(DELTA_KEYS[table])
    changed = spark.read.schema(_spark_schema(deltas[0])).parquet(*map(str, deltas))
    newest = changed.withColumn("_newest", F.max("seq").over(Window.partitionBy(*key))).filter(
        F.col("seq") == F.col("_newest")
    )
    base = spark.table(table)
    merged = base.join(newest.select(*key), on=key, how="left_anti").unionByName(
        newest.filter(~F.col("deleted")).select(*base.columns)
    )
    merged.createOrReplaceTempView(table)


def files(root: Path, table: str) -> list[Path]:
    return sorted((Path(root) / table).glob("province=*/*.parquet"))


# ---- writing --------------------------------------------------------------------------------


def export_national(root: Path, provinces: list[str] | None = None,
                    progress=None) -> ExportResult:  # fmt: skip
    """Write each province's partition (every table, every year of values) under `root`."""
    root = Path(root)
    result = ExportResult()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT code, path FROM network_orgunit WHERE kind = 'division'"
            " AND division_level = 'province' ORDER BY code"
        )
        found = dict(cursor.fetchall())
    unknown = sorted(set(provinces or ()) - set(found))
    if unknown:
        raise ValueError(f"no province with code {', '.join(unknown)} in this database")
    chosen = provinces or sorted(found)
    root.mkdir(parents=True, exist_ok=True)
    (root / LAYOUT).write_text(json.dumps({"layout": "national"}) + "\n")
    for done, code in enumerate(chosen, start=1):
        prefix = found[code] + "%"
        for table, (schema, sql) in NATIONAL.items():
            if table == VALUES:
                continue
            result.rows += _write(root / table / f"province={code}" / "all.parquet", schema,
                                  sql, [prefix])  # fmt: skip
            result.written.append(f"{table}/province={code}/all")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT DISTINCT SUBSTR(v.period, 1, 4) FROM collection_datavalue AS v"
                " JOIN network_orgunit AS o ON o.id = v.orgunit_id WHERE o.path LIKE %s",
                [prefix],
            )
            years = sorted(row[0] for row in cursor.fetchall())
        folder = root / VALUES / f"province={code}"
        for stale in folder.glob("*.parquet"):
            if stale.stem not in years:
                stale.unlink()
                result.removed.append(f"{VALUES}/province={code}/{stale.stem}")
        schema, sql = NATIONAL[VALUES]
        for year in years:
            result.rows += _write(folder / f"{year}.parquet", schema, sql, [prefix, year + "%"])
            result.written.append(f"{VALUES}/province={code}/{year}")
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        (root / MANIFESTS).mkdir(exist_ok=True)
        (root / MANIFESTS / f"{code}.json").write_text(
            json.dumps({"exported_at": stamp, "years": years}) + "\n"
        )
        if progress:
            progress(done, len(chosen))
    return result


def _write(path: Path, schema: pa.Schema, sql: str, params: list) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial, rows = path.with_suffix(".tmp"), 0
    with connection.cursor() as cursor, pq.ParquetWriter(partial, schema) as writer:
        cursor.execute(sql, params[: sql.count("%s")])
        while chunk := cursor.fetchmany(CHUNK):
            columns = zip(*chunk, strict=True)
            arrays = [_array(c, f.type) for c, f in zip(columns, schema, strict=True)]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema), ROW_GROUP)
            rows += len(chunk)
        if not rows:
            writer.write_table(schema.empty_table())
    partial.replace(path)
    return rows


# ---- reading --------------------------------------------------------------------------------


def _quoted(paths: list[Path]) -> str:
    return ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)


def register_duckdb(connection_, root: Path) -> None:
    """The engine's tables as DuckDB views over a national warehouse."""
    for table in NATIONAL:
        found = files(root, table)
        if found:
            source = f"read_parquet([{_quoted(found)}], hive_partitioning = true)"
        else:  # no province exported yet: an empty table of the right columns
            source = _empty_select(NATIONAL[table][0])
        connection_.execute(f"CREATE VIEW national_{table} AS SELECT * FROM {source}")
    for name, sql in VIEWS.items():
        duckdb_sql = sqlglot.transpile(sql, read="postgres", write="duckdb")[0]
        connection_.execute(f"CREATE VIEW {name} AS {duckdb_sql}")


def register_spark(spark, root: Path) -> list:
    """The warehouse's tables as temporary views of a Spark session: as exported (standard
    layout), or the engine's tables over a national warehouse. Returns the frames kept in
    memory (the caller unpersists them when done)."""
    root = Path(root)
    if not is_national(root):
        for folder in sorted(p for p in root.glob("*") if p.is_dir()):
            if not folder.name.isidentifier() or folder.name.endswith(DELTA_SUFFIX):
                continue
            found = sorted(f for f in folder.glob("*.parquet") if not f.name.startswith("_"))
            if found:  # the schema from the file's footer: no inference job on Spark
                frame = spark.read.schema(_spark_schema(found[0])).parquet(*map(str, found))
            elif (folder / "_schema.parquet").exists():  # an empty table (Spark skips _files)
                frame = spark.createDataFrame([], schema=_spark_schema(folder / "_schema.parquet"))
            else:
                continue
            frame.createOrReplaceTempView(folder.name)
        for table in DELTA_KEYS:
            _merge_deltas(spark, root, table)
        return []
    for table, (schema, _) in NATIONAL.items():
        found = files(root, table)
        if found:
            frame = spark.read.option("basePath", str(root / table)).parquet(*map(str, found))
        else:
            frame = spark.createDataFrame([], schema=_ddl(schema))
        frame.createOrReplaceTempView(f"national_{table}")
    kept = []
    for name, sql in VIEWS.items():
        frame = spark.sql(sqlglot.transpile(sql, read="postgres", write="spark")[0])
        if name != VALUES:  # the small tables are read many times: kept in memory
            frame = frame.cache()
            kept.append(frame)
        frame.createOrReplaceTempView(name)
    return kept


_SQL_TYPES = {_INT: "BIGINT", _STR: "STRING", _DATE: "DATE", _FLOAT: "DOUBLE",
              _STAMP: "TIMESTAMP_NTZ"}  # fmt: skip


def _spark_schema(path: Path):
    from pyspark.sql.pandas.types import from_arrow_schema  # noqa: PLC0415 — optional pyspark

    return from_arrow_schema(pq.read_schema(path), prefer_timestamp_ntz=True)


def _ddl(schema: pa.Schema) -> str:
    return ", ".join(f"{f.name} {_SQL_TYPES[f.type]}" for f in schema)


def _empty_select(schema: pa.Schema) -> str:
    kinds = {**_SQL_TYPES, _STR: "VARCHAR", _STAMP: "TIMESTAMP"}
    columns = ", ".join(f"CAST(NULL AS {kinds[f.type]}) AS {f.name}" for f in schema)
    return f"(SELECT {columns} WHERE FALSE)"
