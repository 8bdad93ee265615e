"""The data generation: a token that changes whenever anything an evaluation reads changes.

Cached evaluations (xinglin.evaluation.cache) are keyed by it. Database triggers, not calls in
each write path, keep it current: every write to the tables below — through `_store_values`,
`replace_derived_values`, an evidence review, an org-unit move, a bulk import, the demo or raw
SQL — changes it, so no writer can forget to. See docs/decisions/0003-evaluation-cache.md.

Scoped (docs/decisions/0019-scoped-data-generation.md): a write to a per-year, per-unit table
(`SCOPED`) changes the generation of the `Scope`s of its year and branch of the tree only; a
write to any other table changes everything's. `current(scope=...)` reads one scope's.

- SQLite: row triggers replace the row of the written key (year, org unit id) by one with a
  new id and a random token (SQLite has one writer at a time, so this adds no waiting); a
  scope's generation is its newest matching row. A random token, not a counter, so that a
  rolled-back write can never leave a token that later stands for other data.
- PostgreSQL: statement triggers add one row per writing transaction and key (unique `txid`:
  writers never wait on each other) and raise its weight with every further statement. A
  scope's generation is (sum of weights, max id) of its rows: every write statement raises
  the sum (also as seen inside its own transaction), a rolled-back transaction leaves no
  trace, and ids come from a sequence that is never rolled back. `_fold` merges old rows into
  the newest one of their key, keeping both figures of every scope.

A bulk write (`bulk_write`) on SQLite replaces the row triggers of the tables it writes by
one change of everything for the whole write (see there).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

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
# The tables whose rows are one org unit's in one period (columns `orgunit_id`, `period`): a
# write to them changes the generation of the scopes of that year and branch of the tree only
SCOPED = (
    "collection_datavalue",
    "collection_deliveredtechnique",
    "collection_submission",
    "evaluation_derivedvalue",
)
TABLE = "evaluation_datachange"
PREFIX = "xl_gen_"
FOLD_ABOVE = 1000  # PostgreSQL: rows kept before folding them into one


@dataclass(frozen=True)
class Scope:
    """What a cached entry reads: the values of the years `first`–`last` (None: unbounded)
    of the org units at or beneath (or above) `paths` (none: the whole tree).

    A write to a per-year, per-unit table (`SCOPED`) changes the generation of every scope
    whose years hold the value's year and whose paths lie on the written unit's branch (its
    ancestors, itself, its descendants, by its path today and any path it had); any other
    write changes every scope's generation."""

    paths: tuple[str, ...] = ()
    first: int | None = None
    last: int | None = None

    @classmethod
    def of(cls, path: str | None, first: int | None = None, last: int | None = None) -> Scope:
        return cls((path,) if path else (), first, last)

    def where(self, year: str, path: str) -> tuple[str, list[object]]:
        """The SQL condition (and its parameters) that a change row, whose year and path are
        the columns `year` and `path`, concerns this scope. Year 0 is every year; a path
        concerns this scope when either is a prefix of the other ('' is the whole tree)."""
        clauses, params = [], []
        if self.first is not None:
            clauses.append(f"({year} = 0 OR {year} >= %s)")
            params.append(self.first)
        if self.last is not None:
            clauses.append(f"({year} = 0 OR {year} <= %s)")
            params.append(self.last)
        if self.paths:
            either = " OR ".join(
                f"substr(CAST(%s AS TEXT), 1, length({path})) = {path}"
                f" OR substr({path}, 1, length(CAST(%s AS TEXT))) = CAST(%s AS TEXT)"
                for _ in self.paths
            )
            clauses.append(f"({path} IS NULL OR {either})")
            for p in self.paths:
                params += [p, p, p]
        return " AND ".join(clauses) or "1 = 1", params


EVERYTHING = Scope()


def current(using=None, scope: Scope | None = None) -> str | None:
    """The current data generation of `scope` (default: of everything), or None when it
    cannot be read (no table, no triggers): callers then must not use a cache."""
    conn = using or connection
    if conn.vendor == "sqlite":
        return _sqlite(conn, scope or EVERYTHING)
    if conn.vendor == "postgresql":
        return _postgresql(conn, scope or EVERYTHING)
    return None


def _sqlite(conn, scope: Scope) -> str | None:
    # a row per (year, org unit id) written, replaced by every write with a new id and a
    # random token: the scope's generation is its newest matching row (the everything row,
    # unit 0, year 0, matches every scope; none matches before the first write, and a prune
    # writes the everything row anew, so a scope never returns to "none")
    with conn.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE '{PREFIX}%'"
        )
        if cursor.fetchone()[0] < _expected_triggers(cursor, conn):
            # a table rebuilt by a later migration (SQLite's ALTER) lost its triggers
            install(conn)
            return None
        if scope == EVERYTHING:
            cursor.execute(f"SELECT id, token FROM {TABLE} ORDER BY id DESC LIMIT 1")
        else:
            now, now_params = scope.where("c.year", "o.path")
            then, then_params = scope.where("c.year", "h.path")
            cursor.execute(
                f"SELECT c.id, c.token FROM {TABLE} AS c"
                f" LEFT JOIN network_orgunit AS o ON o.id = c.unit WHERE ({now})"
                f" OR EXISTS (SELECT 1 FROM network_orgunithistory AS h"
                f" WHERE h.orgunit_id = c.unit AND {then}) ORDER BY c.id DESC LIMIT 1",
                [*now_params, *then_params],
            )
        row = cursor.fetchone()
    return f"s{row[0]}.{row[1]}" if row else "s"


def _postgresql(conn, scope: Scope) -> str | None:
    with conn.cursor() as cursor:
        if conn.alias not in _CHECKED:
            cursor.execute("SELECT COUNT(*) FROM pg_trigger WHERE tgname LIKE %s", [PREFIX + "%"])
            if cursor.fetchone()[0] < _expected_triggers(cursor, conn):
                install(conn)
            _CHECKED.add(conn.alias)
        where, params = scope.where("year", "scope")
        cursor.execute(
            f"SELECT COALESCE(SUM(weight), 0), COALESCE(MAX(id), 0),"
            f" (SELECT COUNT(*) FROM {TABLE}) FROM {TABLE} WHERE {where}",
            params,
        )
        weight, top, rows = cursor.fetchone()
        if rows > FOLD_ABOVE and not conn.in_atomic_block:
            _fold(cursor)
    return f"p{weight}.{top}"


def snapshot(using=None) -> dict | None:
    """Where the generation of every scope stands now, for `changed_since`: what a copy of
    the data read from now on (the warehouse's catch-up) can tell its readers it holds.
    None when the generation cannot be read."""
    conn = using or connection
    if current(conn) is None:
        return None
    with conn.cursor() as cursor:
        if conn.vendor == "sqlite":  # one writer: ids grow in the order writes commit
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {TABLE}")
            return {"vendor": "sqlite", "top": cursor.fetchone()[0]}
        # PostgreSQL: a key's committed weight only grows (folding keeps it): its sum now
        cursor.execute(f"SELECT year, scope, SUM(weight) FROM {TABLE} GROUP BY year, scope")
        sums = [[year, path, int(weight)] for year, path, weight in cursor.fetchall()]
        return {"vendor": "postgresql", "sums": sums}


def changed_since(taken: dict | None, scope: Scope | None = None, using=None) -> bool:
    """Whether anything `scope` reads was written after `snapshot()` returned `taken`
    (True when unknown: no snapshot, another database kind, an unreadable generation)."""
    conn = using or connection
    scope = scope or EVERYTHING
    if not taken or taken.get("vendor") != conn.vendor or current(conn) is None:
        return True
    with conn.cursor() as cursor:
        if conn.vendor == "sqlite":
            now, now_params = scope.where("c.year", "o.path")
            then, then_params = scope.where("c.year", "h.path")
            cursor.execute(
                f"SELECT 1 FROM {TABLE} AS c LEFT JOIN network_orgunit AS o ON o.id = c.unit"
                f" WHERE c.id > %s AND (({now}) OR EXISTS (SELECT 1 FROM network_orgunithistory"
                f" AS h WHERE h.orgunit_id = c.unit AND {then})) LIMIT 1",
                [taken["top"], *now_params, *then_params],
            )
            return cursor.fetchone() is not None
        where, params = scope.where("year", "scope")
        cursor.execute(
            f"SELECT year, scope, SUM(weight) FROM {TABLE} WHERE {where} GROUP BY year, scope",
            params,
        )
        sums = {(year, path): weight for year, path, weight in taken.get("sums", [])}
        return any(sums.get((year, path), 0) != int(weight) for year, path, weight in cursor)


def _fold(cursor) -> None:
    # one statement: in each (year, scope), the rows below the newest give their weight to it
    # (every scope's sum and max unchanged)
    cursor.execute(
        f"WITH tops AS (SELECT year, scope, MAX(id) AS id FROM {TABLE} GROUP BY year, scope),"
        f" gone AS (DELETE FROM {TABLE} AS d USING tops WHERE d.year = tops.year"
        f" AND d.scope = tops.scope AND d.id < tops.id RETURNING d.year, d.scope, d.weight),"
        f" sums AS (SELECT year, scope, SUM(weight) AS weight FROM gone GROUP BY year, scope)"
        f" UPDATE {TABLE} AS t SET weight = t.weight + sums.weight FROM sums"
        f" JOIN tops USING (year, scope) WHERE t.id = tops.id"
    )


_EXPECTED: dict[str, int] = {}
_CHECKED: set[str] = set()


def _expected_triggers(cursor, conn) -> int:
    if conn.alias not in _EXPECTED:
        present = _present(cursor, conn)
        if conn.vendor == "sqlite":
            _EXPECTED[conn.alias] = len(_EVENTS) * len(present)
        else:
            scoped = len([t for t in present if t in SCOPED])
            _EXPECTED[conn.alias] = len(present) - scoped + len(_PG_EVENTS) * scoped
    return _EXPECTED[conn.alias]


def _present(cursor, conn) -> list[str]:
    existing = set(conn.introspection.table_names(cursor))
    return [t for t in TABLES if t in existing]


def install(conn=None) -> None:
    """Create the triggers on every table of TABLES that exists (idempotent). Not before the
    change table has its key columns (a migration run from scratch calls this earlier, with
    today's code: core's 0003 installs them then)."""
    conn = conn or connection
    with conn.cursor() as cursor:
        columns = {c.name for c in conn.introspection.get_table_description(cursor, TABLE)}
        if "unit" not in columns:
            return
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
            if conn.vendor == "sqlite":
                for event in _EVENTS:
                    cursor.execute(f"DROP TRIGGER IF EXISTS {PREFIX}{table}_{event}")
            if conn.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {PREFIX}{table} ON {table}")
                for event in _PG_EVENTS:
                    cursor.execute(f"DROP TRIGGER IF EXISTS {PREFIX}{table}_{event} ON {table}")
        if conn.vendor == "postgresql":
            cursor.execute(f"DROP FUNCTION IF EXISTS {PREFIX}bump()")
            cursor.execute(f"DROP FUNCTION IF EXISTS {PREFIX}scoped()")
    _EXPECTED.pop(conn.alias, None)
    _CHECKED.discard(conn.alias)


# Rows a write must hold before `bulk_write` is worth its two schema changes.
BULK_ROWS = 5000
# SQLite: the rows kept before a write starts afresh (every scope's generation changes once)
PRUNE_ABOVE = 20000
_SQLITE_BUMP = (
    f"INSERT OR REPLACE INTO {TABLE} (txid, year, unit, scope, weight, token)"
    f" VALUES (0, 0, 0, '', 1, lower(hex(randomblob(12))))"
)  # the everything row: every scope's generation changes


@contextmanager
def bulk_write(tables, conn=None) -> Iterator[None]:
    """Write many rows of `tables` with one generation change instead of one per row.

    SQLite's row triggers cost one upsert per written row (about 26 µs: half the time of a
    million-value import). Inside a transaction (a savepoint when nested) this drops the
    generation triggers of `tables`, and after the block changes the token of everything once
    and creates them again, before anything commits. SQLite's DDL is transactional and it
    has one writer at a time: other connections never see a table without its triggers (they
    re-prepare their statements after the schema change), and a block left by an exception
    rolls back to the savepoint, triggers included. Elsewhere only the savepoint: PostgreSQL's
    triggers fire once per statement already. On every backend the block is all or nothing."""
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
_PG_EVENTS = ("insert", "update", "delete", "truncate")


def _sqlite_year(period: str) -> str:
    return (
        f"(CASE WHEN substr({period}, 1, 4) GLOB '[0-9][0-9][0-9][0-9]'"
        f" THEN CAST(substr({period}, 1, 4) AS INTEGER) ELSE 0 END)"
    )


_SQLITE_INSERT = f"INSERT OR REPLACE INTO {TABLE} (txid, year, unit, scope, weight, token)"
_SQLITE_TOKEN = "lower(hex(randomblob(12)))"


def _sqlite_prune() -> str:
    # A table grown past PRUNE_ABOVE ids is emptied; the everything row is then written anew,
    # so that every scope's newest row changes (a scope's generation never returns to an old
    # one)
    return (
        f"DELETE FROM {TABLE} WHERE (SELECT MAX(id) - MIN(id) FROM {TABLE}) > {PRUNE_ABOVE};"
        f" {_SQLITE_INSERT} SELECT 0, 0, 0, '', 1, {_SQLITE_TOKEN} WHERE NOT EXISTS"
        f" (SELECT 1 FROM {TABLE} WHERE txid = 0 AND year = 0 AND unit = 0 AND scope = '')"
    )


def _sqlite_scoped(row: str) -> str:
    # the row's year and org unit id; its path is looked up when a scope is read: a trigger
    # that named network_orgunit would break SQLite's rebuild of that table by a migration
    return (
        f"{_sqlite_prune()}; {_SQLITE_INSERT} VALUES (0, {_sqlite_year(row + '.period')},"
        f" {row}.orgunit_id, '', 1, {_SQLITE_TOKEN})"
    )


def _sqlite_triggers(tables: list[str]) -> list[str]:
    statements = []
    for table in tables:
        for event in _EVENTS:
            if table not in SCOPED:
                body = f"{_SQLITE_BUMP};"
            elif event == "insert":
                body = f"{_sqlite_scoped('NEW')};"
            elif event == "delete":
                body = f"{_sqlite_scoped('OLD')};"
            else:  # the old key too when a row changes period or org unit
                body = f"{_sqlite_scoped('NEW')}; {_sqlite_scoped('OLD')};"
            statements.append(
                f"CREATE TRIGGER IF NOT EXISTS {PREFIX}{table}_{event} AFTER {event.upper()}"
                f" ON {table} BEGIN {body} END"
            )
    return statements


# PostgreSQL: the scope of a written unit is its path (today's and every earlier one) cut
# after the county (/province/city/county/): any prefix of the path would be right, this one
# keeps the rows few (a province has ~100 counties) and a county's writes apart from another's
_PG_CUT = "substring({path} from '^(?:[^/]*/){{0,4}}')"
_PG_UPSERT = (
    f"INSERT INTO {TABLE} (txid, year, unit, scope, weight, token)"
    " SELECT txid_current(), k.year, 0, k.scope, 1, '' FROM ({keys}) AS k"
    f" ON CONFLICT (txid, year, unit, scope) DO UPDATE SET weight = {TABLE}.weight + 1"
)


def _pg_keys(rows: str) -> str:
    year = "CASE WHEN r.period ~ '^[0-9]{4}' THEN substr(r.period, 1, 4)::int ELSE 0 END"
    units = f"SELECT DISTINCT {year} AS year, r.orgunit_id FROM {rows} AS r"
    paths = (
        "SELECT o.path FROM network_orgunit AS o WHERE o.id = u.orgunit_id UNION"
        " SELECT h.path FROM network_orgunithistory AS h WHERE h.orgunit_id = u.orgunit_id"
    )
    cut = _PG_CUT.format(path="p.path")
    return (
        f"SELECT DISTINCT u.year, COALESCE({cut}, '') AS scope FROM ({units}) AS u"
        f" LEFT JOIN LATERAL ({paths}) AS p ON true"
    )


def _postgresql_triggers(tables: list[str]) -> list[str]:
    everything = _PG_UPSERT.format(keys="SELECT 0 AS year, '' AS scope")
    bump = (
        f"CREATE OR REPLACE FUNCTION {PREFIX}bump() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN {everything}; RETURN NULL; END $$"
    )
    scoped = (
        f"CREATE OR REPLACE FUNCTION {PREFIX}scoped() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN IF TG_OP = 'TRUNCATE' THEN {everything}; RETURN NULL; END IF;"
        f" IF TG_OP <> 'DELETE' THEN {_PG_UPSERT.format(keys=_pg_keys('new_rows'))}; END IF;"
        f" IF TG_OP <> 'INSERT' THEN {_PG_UPSERT.format(keys=_pg_keys('old_rows'))}; END IF;"
        f" RETURN NULL; END $$"
    )
    statements = [bump, scoped]
    transitions = {
        "insert": "REFERENCING NEW TABLE AS new_rows",
        "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "delete": "REFERENCING OLD TABLE AS old_rows",
        "truncate": "",
    }
    for table in tables:
        statements.append(f"DROP TRIGGER IF EXISTS {PREFIX}{table} ON {table}")
        if table not in SCOPED:
            statements.append(
                f"CREATE TRIGGER {PREFIX}{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
                f" ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {PREFIX}bump()"
            )
            continue
        for event, referencing in transitions.items():
            statements += [
                f"DROP TRIGGER IF EXISTS {PREFIX}{table}_{event} ON {table}",
                (
                    f"CREATE TRIGGER {PREFIX}{table}_{event} AFTER {event.upper()} ON {table}"
                    f" {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {PREFIX}scoped()"
                ),
            ]
    return statements
