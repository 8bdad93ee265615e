"""Spark SQL over the warehouse's Parquet: the evaluation engine's cursor when a scope is too
large for one machine (`engine.evaluate(backend="spark")`, `xinglin evaluate --backend spark`).

The engine's statements are the ones every backend runs — written once, transpiled by SQLGlot
to Spark's dialect (`translate`); nothing is implemented a second time. Spark SQL has no
temporary tables to insert into, so the cursor plays them: `CREATE TABLE` declares an empty
table, `INSERT INTO t SELECT …` runs the SELECT on Spark and appends its rows (materialised:
`localCheckpoint`), `DELETE FROM t` empties it; each is a temporary view of the cursor's own
session (`SparkSession.newSession`: one SparkContext per process, views private to an
evaluation). Parameters are written into the statement as SQL literals built by SQLGlot.

Where Spark runs: `settings.SPARK_MASTER` (`XINGLIN_SPARK_MASTER`, default `local[2]`: this
machine), or a cluster's master URL (`spark://host:7077`, `yarn`, `k8s://…`) whose executors
read the same Parquet path (shared storage or object storage). Needs pyspark and a Java 17
runtime; without them `SparkUnavailable` says which is missing.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import sqlglot
from django.conf import settings
from sqlglot import exp

from xinglin.warehouse.engine import Warehouse, WarehouseError
from xinglin.warehouse.national import register_spark

log = logging.getLogger("xinglin.warehouse")

DEFAULT_MASTER = "local[2]"
SPARK_TIMEOUT = 600.0  # seconds: a national statement takes tens of seconds on a cluster
READ = "postgres"  # the dialect the engine's statements are written in (they run on all four)


class SparkUnavailable(WarehouseError):
    """pyspark or Java is missing, or the master cannot be reached."""


def master() -> str:

    return getattr(settings, "SPARK_MASTER", "") or DEFAULT_MASTER


_SESSIONS: dict[str, object] = {}
_LOCK = threading.Lock()
# what SparkContext accepts as a master (a cluster manager's URL, or this machine)
_MASTER = re.compile(
    r"local(\[(\*|\d+)(,\s*\d+)?\])?|local-cluster\[\d+,\s*\d+,\s*\d+\]"
    r"|spark://[\w.-]+(:\d+)?(,[\w.-]+(:\d+)?)*|yarn|k8s://\S+|mesos://\S+"
)


def check(url: str) -> None:
    """SparkUnavailable naming what is missing: pyspark, Java, or a master URL Spark reads."""
    if not _MASTER.fullmatch(url):
        raise SparkUnavailable(
            f"XINGLIN_SPARK_MASTER {url!r} is not a Spark master URL: local[2] (this machine),"
            " spark://host:7077 (a standalone cluster), yarn or k8s://https://host:port"
        )
    if importlib.util.find_spec("pyspark") is None:
        raise SparkUnavailable(
            "the Spark backend needs pyspark: pip install pyspark==4.3.0 (and a Java 17"
            " runtime, e.g. Debian's openjdk-17-jre-headless)"
        )
    java_home = os.environ.get("JAVA_HOME", "")
    if not (shutil.which("java") or (java_home and Path(java_home, "bin", "java").exists())):
        raise SparkUnavailable(
            "the Spark backend needs a Java 17 runtime: no `java` on PATH nor under JAVA_HOME"
            " (Debian: apt-get install openjdk-17-jre-headless)"
        )


def session(url: str | None = None):
    """The process's SparkSession for `url` (started once: Spark takes seconds to start)."""
    url = url or master()
    check(url)
    with _LOCK:
        if url in _SESSIONS:
            return _SESSIONS[url]
        from pyspark.sql import SparkSession  # noqa: PLC0415 — optional pyspark, loaded on use

        if _SESSIONS:  # one SparkContext per process: another master needs a new process
            raise SparkUnavailable(
                f"Spark already runs here on {next(iter(_SESSIONS))}; {url} needs a new process"
            )
        started = time.perf_counter()
        try:
            builder = (
                SparkSession.builder.master(url)
                .appName("xinglin")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.sql.session.timeZone", "UTC")  # the export's stamps: naive UTC
                .config("spark.sql.ansi.enabled", "false")  # NULL on x / 0, as the databases
            )
            if url.startswith("local"):  # a few cores: Spark's 200 shuffle partitions are waste
                builder = builder.config("spark.sql.shuffle.partitions", str(os.cpu_count() or 2))
            spark = builder.getOrCreate()
            spark.sparkContext.setLogLevel("FATAL")  # errors reach the caller
        except Exception as error:  # py4j / JVM start-up: the message is Spark's own
            first = str(error).splitlines()[0] if str(error) else repr(error)
            raise SparkUnavailable(f"Spark could not start on master {url!r}: {first}") from error
        log.info("Spark %s on %s started in %.1f s", spark.version, url,
                 time.perf_counter() - started)  # fmt: skip
        _SESSIONS[url] = spark
        return spark


# ---- statements: the engine's SQL in Spark's dialect ----------------------------------------


def literal(value) -> str:
    """A parameter as a SQL literal (SQLGlot escapes it), in the engine's dialect."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, datetime):  # naive UTC (collection.completeness._stamp)
        text = exp.Literal.string(value.isoformat(sep=" ")).sql(READ)
        return f"CAST({text} AS TIMESTAMP)"
    if isinstance(value, date):
        return f"CAST({exp.Literal.string(value.isoformat()).sql(READ)} AS DATE)"
    return exp.Literal.string(str(value)).sql(READ)


def bind(sql: str, params: Sequence = ()) -> str:
    """`%s` placeholders replaced by the parameters as literals, in order."""
    if not params:
        return sql
    parts = sql.split("%s")
    if len(parts) != len(params) + 1:
        raise WarehouseError(f"{len(parts) - 1} placeholders for {len(params)} parameters")
    out = [parts[0]]
    for value, part in zip(params, parts[1:], strict=True):
        out += [literal(value), part]
    return "".join(out)


@lru_cache(maxsize=512)
def translate(sql: str) -> exp.Expression:
    """The statement parsed in the engine's dialect (cached: the same statements recur)."""
    return sqlglot.parse_one(sql, read=READ)


def _kind(kind: exp.DataType) -> str:
    """A work table's column type on Spark (whose DataFrames know no VARCHAR(n))."""
    if kind.is_type(*exp.DataType.TEXT_TYPES):
        return "STRING"
    return kind.sql(dialect="spark")


def spark_sql(expression: exp.Expression) -> str:
    return expression.sql(dialect="spark")


# ---- the cursor -----------------------------------------------------------------------------


class SparkCursor:
    """The engine's cursor on Spark SQL: execute / fetchall / fetchone / query_arrow, with the
    warehouse's tables as views and the engine's work tables as cursor-private views."""

    vendor = "spark"

    def __init__(self, warehouse: Warehouse, *, url: str | None = None,
                 timeout: float = SPARK_TIMEOUT) -> None:  # fmt: skip
        self.warehouse = warehouse
        self.timeout = timeout
        self.spark = session(url).newSession()
        self._rows: list[tuple] | None = None
        self._tables: dict[str, object] = {}  # work table -> its DataFrame
        self._schemas: dict[str, list[tuple[str, str]]] = {}  # work table -> (column, type)
        self._group = f"xinglin-{uuid.uuid4().hex[:12]}"

        self._kept = register_spark(self.spark, Path(warehouse.root))

    def fork(self) -> SparkCursor:
        """Another cursor on the same session (its views), for a statement run beside this
        one's in another thread: Spark plans one while it runs the other."""
        other = object.__new__(SparkCursor)
        other.__dict__.update(self.__dict__, _rows=None, _forked=True)
        other._group = f"xinglin-{uuid.uuid4().hex[:12]}"
        return other

    # DB-API-like
    def execute(self, sql: str, params: Sequence = ()) -> None:
        self._rows = None
        expression = translate(bind(sql, params))
        if isinstance(expression, exp.Create) and expression.kind == "TABLE":
            self._run(lambda: self._create(expression), sql)
        elif isinstance(expression, exp.Delete):
            name = expression.this.name
            self._run(lambda: self._empty(name), sql)
        elif isinstance(expression, exp.Insert):
            self._run(lambda: self._insert(expression), sql)
        elif isinstance(expression, exp.Create | exp.Command | exp.Analyze):
            return  # indexes, statistics: nothing to do on Spark
        else:
            text = spark_sql(expression)
            self._rows = self._run(
                lambda: [tuple(row) for row in self.spark.sql(text).collect()], sql
            )

    def query_arrow(self, sql: str, params: Sequence = ()) -> pa.Table:
        text = spark_sql(translate(bind(sql, params)))
        return self._run(lambda: self.spark.sql(text).toArrow(), sql)

    def fetchall(self) -> list[tuple]:
        rows, self._rows = self._rows or [], None
        return rows

    def fetchone(self) -> tuple | None:
        return self._rows.pop(0) if self._rows else None

    def close(self) -> None:
        if self.__dict__.get("_forked"):
            return  # the work tables are the parent cursor's
        for frame in [*self._tables.values(), *self._kept]:
            frame.unpersist()  # type: ignore[attr-defined]
        self._tables.clear()
        self._kept = []

    def __enter__(self) -> SparkCursor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # the work tables
    def _create(self, expression: exp.Create) -> None:
        schema = expression.this
        name = schema.this.name
        if name in self._schemas:
            return  # IF NOT EXISTS
        columns = [(c.name, _kind(c.args["kind"])) for c in schema.expressions
                   if isinstance(c, exp.ColumnDef)]  # fmt: skip
        self._schemas[name] = columns
        self._empty(name)

    def _empty(self, name: str) -> None:
        ddl = ", ".join(f"{column} {kind}" for column, kind in self._schemas[name])
        self._publish(name, self.spark.createDataFrame([], schema=ddl))

    def _insert(self, expression: exp.Insert) -> None:
        target = expression.this
        name = target.this.name if isinstance(target, exp.Schema) else target.name
        columns = [c.name for c in target.expressions] if isinstance(target, exp.Schema) else []
        source = expression.expression.copy()
        if isinstance(source, exp.Values):
            source = exp.select("*").from_(source.as_("v"))
        for key in ("with_", "with"):  # WITH … INSERT INTO … SELECT: the CTEs go to the SELECT
            if expression.args.get(key):
                source.set(key, expression.args[key].copy())
        frame = self.spark.sql(spark_sql(source))
        columns = columns or [c for c, _ in self._schemas[name]]
        frame = frame.toDF(*columns)
        kinds = dict(self._schemas[name])
        frame = frame.selectExpr(*(
            f"CAST({c} AS {kinds[c]}) AS {c}" if c in columns else f"CAST(NULL AS {kinds[c]}) AS {c}"
            for c in kinds
        ))  # fmt: skip
        old = self._tables[name]
        combined = old.unionByName(frame).localCheckpoint()  # type: ignore[attr-defined]
        old.unpersist()  # type: ignore[attr-defined]
        self._publish(name, combined)

    def _publish(self, name: str, frame) -> None:
        self._tables[name] = frame
        frame.createOrReplaceTempView(name)

    def _run(self, work, sql: str):
        """Run on Spark under this cursor's job group (cancelled after `timeout`); log it."""
        context = self.spark.sparkContext
        context.setJobGroup(self._group, "xinglin evaluation", interruptOnCancel=True)
        timer = threading.Timer(self.timeout, lambda: context.cancelJobGroup(self._group))
        started = time.perf_counter()
        timer.start()
        try:
            outcome = work()
        except Exception as error:
            from pyspark.errors import PySparkException  # noqa: PLC0415 — optional pyspark

            if not isinstance(error, PySparkException) and "py4j" not in type(error).__module__:
                raise
            java = getattr(error, "java_exception", None)  # py4j: the JVM's own message
            message = str(java.toString()) if java is not None else str(error).splitlines()[0]
            if time.perf_counter() - started >= self.timeout:
                message = f"statement timed out after {self.timeout} s"
            self.warehouse._log(sql, (), started, 0, message)
            raise WarehouseError(f"Spark: {message}") from error
        finally:
            timer.cancel()
        rows = len(outcome) if isinstance(outcome, list) else getattr(outcome, "num_rows", -1)
        self.warehouse._log(sql, (), started, rows, "")
        return outcome
