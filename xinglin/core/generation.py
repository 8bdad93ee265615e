"""The data generation: a token that changes whenever anything an evaluation reads changes.

Cached evaluations (xinglin.evaluation.cache) are keyed by it. Database triggers, not calls in
each write path, keep it current: every write to the tables below — through `_store_values`,
`replace_derived_values`, an evidence review, an org-unit move, a bulk import, the demo or raw
SQL — changes it, so no writer can forget to. See docs/decisions/0003-evaluation-cache.md.

- SQLite: row triggers replace one row's random token (SQLite has one writer at a time, so
  this adds no waiting). A random token, not a counter, so that a rolled-back write can never
  leave a token that later stands for other data.
- PostgreSQL: statement triggers add one row per writing transaction (unique `txid`: writers
  never wait on each other) and raise its weight with every further statement. The generation
  is (sum of weights, max id): every write statement raises the sum (also as seen inside its
  own transaction), a rolled-back transaction leaves no trace, and ids come from a sequence
  that is never rolled back. `_fold` merges old rows into the newest one, keeping
  both figures.

A bulk write (`bulk_write`) on SQLite replaces the row triggers of the tables it writes by
one token change for the whole write (see there).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

# Every table whose rows change a figure, a status, a name or a list the evaluation, the
# scorecard or the dashboard shows (submissions and memberships: the completeness block).
# A table added here reaches existing databases through the check in `current`.
TABLES = (
    "collection_datavalue",
    "collection_deliveredtechnique",
    "collection_submission",
    "evaluation_derivedvalue",
    "network_orgunit",
    "network_orgunithistory",
    "network_membership",
    "standards_dataelement",
    "standards_techniqueitem",
    "standards_packadoption",
    "standards_bureautarget",  # bureau-set targets (target_unset until set)
    "plans_evidence",
    "plans_indicatorlink",
    # the dashboard's overdue tasks
    "plans_plan",
    "plans_task",
    "plans_task_lead",
    "plans_task_support",
    "plans_department",
    # what documents print besides figures (the documents' cache, xinglin/documents/jobs.py)
    "plans_milestone",
    "plans_rectificationtask",
    "surveys_surveyresponse",
    "documents_narrative",
    "documents_typicalcase",
    "documents_draftparagraph",
)
TABLE = "evaluation_datachange"
PREFIX = "xl_gen_"
FOLD_ABOVE = 1000  # PostgreSQL: rows kept before folding them into one


def current(using=None) -> str | None:
    """The current data generation, or None when it cannot be read (no table, no
    triggers): callers then must not use a cache."""
    conn = using or connection
    if conn.vendor == "sqlite":
        return _sqlite(conn)
    if conn.vendor == "postgresql":
        return _postgresql(conn)
    return None


def _sqlite(conn) -> str | None:
    with conn.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT token FROM {TABLE} WHERE id = 1), (SELECT COUNT(*) FROM sqlite_master"
            f" WHERE type = 'trigger' AND name LIKE '{PREFIX}%')"
        )
        token, triggers = cursor.fetchone()
        if triggers < _expected_triggers(cursor, conn):
            # a table rebuilt by a later migration (SQLite's ALTER) lost its triggers
            install(conn)
            return None
    return f"s{token}"


def _postgresql(conn) -> str | None:
    with conn.cursor() as cursor:
        if conn.alias not in _CHECKED:
            cursor.execute("SELECT COUNT(*) FROM pg_trigger WHERE tgname LIKE %s", [PREFIX + "%"])
            if cursor.fetchone()[0] < len(_present(cursor, conn)):
                install(conn)
            _CHECKED.add(conn.alias)
        cursor.execute(
            f"SELECT COALESCE(SUM(weight), 0), COALESCE(MAX(id), 0), COUNT(*) FROM {TABLE}"
        )
        weight, top, rows = cursor.fetchone()
        if rows > FOLD_ABOVE and not conn.in_atomic_block:
            _fold(cursor)
    return f"p{weight}.{top}"


def _fold(cursor) -> None:
    # one statement: the rows below the newest give their weight to it (sum and max unchanged)
    cursor.execute(
        f"WITH top AS (SELECT MAX(id) AS id FROM {TABLE}),"
        f" gone AS (DELETE FROM {TABLE} WHERE id < (SELECT id FROM top) RETURNING weight)"
        f" UPDATE {TABLE} SET weight = weight + (SELECT COALESCE(SUM(weight), 0) FROM gone)"
        f" WHERE id = (SELECT id FROM top)"
    )


_EXPECTED: dict[str, int] = {}
_CHECKED: set[str] = set()


def _expected_triggers(cursor, conn) -> int:
    if conn.alias not in _EXPECTED:
        _EXPECTED[conn.alias] = 3 * len(_present(cursor, conn))
    return _EXPECTED[conn.alias]


def _present(cursor, conn) -> list[str]:
    existing = set(conn.introspection.table_names(cursor))
    return [t for t in TABLES if t in existing]


def install(conn=None) -> None:
    """Create the triggers on every table of TABLES that exists (idempotent)."""
    conn = conn or connection
    with conn.cursor() as cursor:
        tables = _present(cursor, conn)
        if conn.vendor == "sqlite":
            for statement in _sqlite_triggers(tables):
                cursor.execute(statement)
        elif conn.vendor == "postgresql":
            for statement in _postgresql_triggers(tables):
                cursor.execute(statement)


def uninstall(conn=None) -> None:
    conn = conn or connection
    with conn.cursor() as cursor:
        tables = _present(cursor, conn)
        for table in tables:
            for event in ("insert", "update", "delete", "truncate"):
                if conn.vendor == "sqlite" and event != "truncate":
                    cursor.execute(f"DROP TRIGGER IF EXISTS {PREFIX}{table}_{event}")
            if conn.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {PREFIX}{table} ON {table}")
        if conn.vendor == "postgresql":
            cursor.execute(f"DROP FUNCTION IF EXISTS {PREFIX}bump()")


# Rows a write must hold before `bulk_write` is worth its two schema changes.
BULK_ROWS = 5000
_SQLITE_BUMP = (
    f"INSERT OR REPLACE INTO {TABLE} (id, txid, weight, token)"
    f" VALUES (1, NULL, 1, lower(hex(randomblob(12))))"
)


@contextmanager
def bulk_write(tables, conn=None) -> Iterator[None]:
    """Write many rows of `tables` with one generation change instead of one per row.

    SQLite's row triggers cost one upsert per written row (about 26 µs: half the time of a
    million-value import). Inside a transaction (a savepoint when nested) this drops the
    generation triggers of `tables`, and after the block changes the token once and creates
    them again, before anything commits. SQLite's DDL is transactional and it has one writer
    at a time: other connections never see a table without its triggers (they re-prepare
    their statements after the schema change), and a block left by an exception rolls back
    to the savepoint, triggers included. Elsewhere only the savepoint: PostgreSQL's triggers
    fire once per statement already. On every backend the block is all or nothing."""
    conn = conn or connection
    if conn.vendor != "sqlite":
        with transaction.atomic(using=conn.alias):
            yield
        return
    chosen = [t for t in TABLES if t in set(tables)]
    with transaction.atomic(using=conn.alias):
        with conn.cursor() as cursor:
            chosen = [t for t in _present(cursor, conn) if t in chosen]
            for table in chosen:
                for event in _EVENTS:
                    cursor.execute(f"DROP TRIGGER IF EXISTS {PREFIX}{table}_{event}")
        yield
        with conn.cursor() as cursor:
            cursor.execute(_SQLITE_BUMP)
            for statement in _sqlite_triggers(chosen):
                cursor.execute(statement)


_EVENTS = ("insert", "update", "delete")


def _sqlite_triggers(tables: list[str]) -> list[str]:
    bump = _SQLITE_BUMP
    return [
        f"CREATE TRIGGER IF NOT EXISTS {PREFIX}{table}_{event} AFTER {event.upper()} ON {table}"
        f" BEGIN {bump}; END"
        for table in tables
        for event in _EVENTS
    ]


def _postgresql_triggers(tables: list[str]) -> list[str]:
    function = (
        f"CREATE OR REPLACE FUNCTION {PREFIX}bump() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN INSERT INTO {TABLE} (txid, weight, token) VALUES (txid_current(), 1, '')"
        f" ON CONFLICT (txid) DO UPDATE SET weight = {TABLE}.weight + 1; RETURN NULL; END $$"
    )
    statements = [function]
    for table in tables:
        statements += [
            f"DROP TRIGGER IF EXISTS {PREFIX}{table} ON {table}",
            (
                f"CREATE TRIGGER {PREFIX}{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
                f" ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {PREFIX}bump()"
            ),
        ]
    return statements
