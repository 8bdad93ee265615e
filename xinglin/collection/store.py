"""The column-wise store behind `collection.actions.write`: values compared with what is stored,
written in bulk (executemany/COPY through `lib.bulk`, a staging table for large writes), each
change audited; a value's creation is kept in its own row until it first changes (decision
0004). Private to collection: every channel writes through `actions.write`, which takes the
writer locks and checks before calling `_store_values` in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from xinglin.collection import validation
from xinglin.collection.batch import ValueColumns
from xinglin.collection.models import (
    AuditEntry,
    Channel,
    DataValue,
    Submission,
)
from xinglin.core import generation
from xinglin.lib import statements
from xinglin.lib.bulk import copy_columns, insert_columns, widen_sqlite_cache
from xinglin.lib.statements import param
from xinglin.network.models import OrgUnit
from xinglin.standards import operands
from xinglin.standards.models import DataElement


@dataclass
class StoreResult:
    added: int = 0
    changed: int = 0
    unchanged: int = 0


def _store_values(
    values: Iterable[tuple[DataElement, OrgUnit, str, float]],
    *,
    user: User | None = None,
    channel: str = Channel.SYSTEM,
    locked: bool = False,
) -> StoreResult:
    """Insert or update values in one transaction, with an audit entry per change of a stored
    value. A new value's row records its creation (who, when, channel); the first change of a
    value writes that creation as an audit entry before the change's own (decision 0004).
    Private: only `write` calls it, after checking the values in the same transaction.
    A key given twice keeps its last value. `values` may be validation's ValueColumns (what
    Checked.for_storing() gives for a file): then nothing is built per value in Python.
    `locked`: the caller holds the writer locks of these org units in this transaction
    (`write` takes them before it checks)."""
    result = StoreResult()
    element_ids, orgunit_ids, periods, numbers, combos = _value_columns(values)
    # `write`'s own transaction rolls back whole on an error here: no savepoint of its own
    # then (other callers may carry on after a failure: they get one)
    with transaction.atomic(savepoint=not locked):
        if not locked:
            _lock_writers(orgunit_ids)
        widen_sqlite_cache(len(numbers))
        pks, old = _current_values(element_ids, orgunit_ids, periods, combos)
        is_new = pks == 0
        is_changed = ~is_new & (old != numbers)
        now = timezone.now()
        user_id = user.pk if user else None
        writes = _Writes(element_ids, orgunit_ids, periods, numbers, user_id, channel, now, combos)
        written = is_new | is_changed
        recreated = _recreated(element_ids, orgunit_ids, periods, is_new, combos)
        if written.sum() > generation.BULK_ROWS:
            with generation.bulk_write(_GENERATION_TABLES):
                writes.staged(is_new, is_changed, pks, old)
                _bump_submissions(orgunit_ids[written], periods, written)
        else:
            writes.insert_values(is_new)
            writes.record_creations(pks[is_changed])
            writes.update_values(is_changed, pks)
            writes.insert_audit(is_changed, old)
            _bump_submissions(orgunit_ids[written], periods, written)
        _record_recreations(recreated)
    result.added, result.changed = int(is_new.sum()), int(is_changed.sum())
    result.unchanged = len(numbers) - result.added - result.changed
    return result


# A change of at most this many values is one UPDATE per value (a form's save: one statement,
# no temporary table); more go through a temporary table on PostgreSQL (one UPDATE … FROM).
_ROWS_PER_STATEMENT = 32

# The tables _store_values writes that keep the data generation (core.generation).
_GENERATION_TABLES = ("collection_datavalue", "collection_submission")

# Writers of more org units than this take the whole-table lock instead of one lock per unit
# (PostgreSQL keeps a bounded number of locks per transaction).
_MAX_UNIT_LOCKS = 200
_LOCK_SPACE = 7_340_000  # advisory-lock key space of data-value writers


def _lock_writers(orgunit_ids: np.ndarray) -> None:
    """Serialise writers of the same org units for the rest of the transaction, so two clerks
    saving at once cannot overwrite each other unseen or race on the first insert. SQLite's
    IMMEDIATE transactions already admit one writer at a time."""
    if connection.vendor != "postgresql":
        return
    units = sorted({int(u) for u in orgunit_ids.tolist()})  # one order: no deadlock
    with connection.cursor() as cursor:
        if len(units) > _MAX_UNIT_LOCKS:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, 0)", [_LOCK_SPACE])
            return
        # one statement: the shared lock, then each unit's in order (a select list is
        # evaluated left to right)
        locks = ", ".join(["pg_advisory_xact_lock(%s, %s)"] * len(units))
        sql = "SELECT pg_advisory_xact_lock_shared(%s, 0)" + (f", {locks}" if units else "")
        cursor.execute(sql, [_LOCK_SPACE, *(x for u in units for x in (_LOCK_SPACE + 1, u))])


def _bump_submissions(orgunit_ids: np.ndarray, periods: _Periods, mask) -> None:
    """Tell the forms whose values changed (a superset at worst: same units and periods)."""
    units = np.unique(orgunit_ids).tolist()
    if not units:
        return
    written = periods.codes[np.unique(periods.index[mask])].tolist()
    Submission.objects.filter(orgunit_id__in=units, period__in=written).update(
        data_version=F("data_version") + 1
    )


@dataclass
class _Periods:
    """The values' periods as the distinct codes, sorted, and each value's index into them
    (a million values have a few dozen periods: no string is handled per value)."""

    codes: np.ndarray  # object array of str
    index: np.ndarray  # int64

    @classmethod
    def of(cls, codes: list[str], index: np.ndarray) -> _Periods:
        order = np.argsort(np.array(codes, dtype=object)) if codes else np.zeros(0, np.int64)
        rank = np.empty(len(codes), dtype=np.int64)
        rank[order] = np.arange(len(codes))
        return cls(np.array(codes, dtype=object)[order], rank[index])

    def __len__(self) -> int:
        return len(self.index)


def _value_columns(values) -> tuple[np.ndarray, np.ndarray, _Periods, np.ndarray, np.ndarray]:
    """(element ids, org unit ids, periods, values, category option combinations), one key
    once (the last value). An element may be a operands.Operand (element and combination)."""
    if isinstance(values, ValueColumns):
        element_ids = np.array([e.pk for e in values.elements], dtype=np.int64)
        orgunit_ids = np.array([o.pk for o in values.orgunits], dtype=np.int64)
        combos = np.array([operands.combo_of(e) for e in values.elements], dtype=object)
        periods = _Periods.of(list(values.periods), values.period_index.astype(np.int64))
        return (
            element_ids[values.element_index],
            orgunit_ids[values.orgunit_index],
            periods,
            values.values.astype(float),
            combos[values.element_index],
        )
    latest = {(e.pk, o.pk, p, operands.combo_of(e)): v for e, o, p, v in values}
    keys = list(latest)
    codes = list({k[2]: None for k in keys})
    position = {code: i for i, code in enumerate(codes)}
    return (
        np.array([k[0] for k in keys], dtype=np.int64),
        np.array([k[1] for k in keys], dtype=np.int64),
        _Periods.of(codes, np.array([position[k[2]] for k in keys], np.int64)),
        np.array(list(latest.values()), dtype=float),
        np.array([k[3] for k in keys], dtype=object),
    )


def _current_values(
    element_ids, orgunit_ids, periods: _Periods, combos: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(pk or 0, stored value or NaN) per key, read in the transaction."""
    pks, old = np.zeros(len(element_ids), dtype=np.int64), np.full(len(element_ids), np.nan)
    if not len(element_ids):
        return pks, old
    position = {code: i for i, code in enumerate(periods.codes.tolist())}
    numbers = {code: n for n, code in enumerate(sorted(set(combos.tolist()) | {""}))}
    span, width = len(position), (int(element_ids.max()) + 1) * len(numbers)
    stored_keys, stored_values, stored_pks = validation.fetch_keyed(
        sorted(set(element_ids.tolist())),
        sorted(set(orgunit_ids.tolist())),
        position,
        span=span,
        width=width,
        combos=numbers,
        pks=True,
    )
    if not len(stored_keys):
        return pks, old
    order = np.argsort(stored_keys)
    stored_keys = stored_keys[order]
    operands = element_ids * len(numbers)
    if len(numbers) > 1:
        operands = operands + np.array([numbers[c] for c in combos.tolist()], dtype=np.int64)
    wanted = (orgunit_ids * span + periods.index) * width + operands
    at = np.minimum(np.searchsorted(stored_keys, wanted), len(stored_keys) - 1)
    hit = stored_keys[at] == wanted
    pks[hit] = stored_pks[order][at[hit]]
    old[hit] = stored_values[order][at[hit]]
    return pks, old


def _timestamp(model, name: str, now):
    return model._meta.get_field(name).get_db_prep_value(now, connection)


class _Writes:
    """The rows of one _store_values call, written in bulk (`insert_columns`: many-row INSERT
    statements on SQLite, COPY on PostgreSQL)."""

    def __init__(
        self, element_ids, orgunit_ids, periods: _Periods, numbers, user_id, channel, now, combos
    ):
        self.elements, self.units = element_ids, orgunit_ids
        self.periods, self.numbers, self.combos = periods, numbers, combos
        self.user_id, self.channel, self.now = user_id, str(channel), now
        self.is_postgresql = connection.vendor == "postgresql"

    def _columns(self, mask) -> list[np.ndarray]:
        """(element ids, org unit ids, period codes, values, combinations) of the rows `mask`
        selects, as arrays (insert_columns takes them as they are): _STAGED_COLUMNS."""
        return [
            self.elements[mask],
            self.units[mask],
            self.periods.codes[self.periods.index[mask]],
            self.numbers[mask],
            self.combos[mask],
        ]

    def insert_values(self, mask) -> None:
        if not mask.any():
            return
        elements, units, period_codes, numbers, combos = self._columns(mask)
        columns = {
            "element_id": elements,
            "orgunit_id": units,
            "period": period_codes,
            "combo": combos,
            "value": numbers,
            "stored_by_id": self.user_id,
            "channel": self.channel,
            "updated_at": _timestamp(DataValue, "updated_at", self.now),
            "comment": "",
        }
        insert_columns(DataValue, columns)

    def _by(self) -> dict[str, object]:
        """The parameters of _change_set: who, through which channel, when."""
        at = _timestamp(DataValue, "updated_at", self.now)
        return {"stored_by": self.user_id, "channel": self.channel, "updated_at": at}

    def update_values(self, mask, pks) -> None:
        if not mask.any():
            return
        table = statements.table(DataValue)
        ids, numbers = pks[mask].tolist(), self.numbers[mask].tolist()
        with connection.cursor() as cursor:
            if self.is_postgresql and len(ids) > _ROWS_PER_STATEMENT:
                cursor.execute(
                    f"CREATE TEMP TABLE xl_changed ({_staged_types(['id', 'value'])})"
                    " ON COMMIT DROP"
                )
                copy_columns(cursor, "xl_changed", {"id": ids, "value": numbers})
                cursor.execute(
                    f"UPDATE {table} AS d SET {_change_set('c.value')} FROM xl_changed AS c"
                    " WHERE d.id = c.id",
                    self._by(),
                )
                cursor.execute("DROP TABLE xl_changed")
                return
            sql = f"UPDATE {table} SET {_change_set(param('value'))} WHERE id = {param('id')}"
            by = self._by()
            rows = zip(ids, numbers, strict=True)
            cursor.executemany(sql, [{**by, "value": v, "id": pk} for pk, v in rows])

    def record_creations(self, pks) -> None:
        """Audit entries for the creation of the values `pks` (about to change) that have none
        yet: their rows still say who stored them, when and how."""
        ids = pks.tolist()
        for start in range(0, len(ids), _IDS_PER_STATEMENT):
            chunk = ids[start : start + _IDS_PER_STATEMENT]
            marks = ", ".join(param(f"id{n}") for n in range(len(chunk)))
            _record_creations(f"d.id IN ({marks})", {f"id{n}": pk for n, pk in enumerate(chunk)})

    def insert_audit(self, mask, old) -> None:
        if not mask.any():
            return
        elements, units, period_codes, numbers, combos = self._columns(mask)
        columns = {
            "element_id": elements,
            "orgunit_id": units,
            "period": period_codes,
            "combo": combos,
            "old_value": old[mask],  # changes only: a stored number each
            "new_value": numbers,
            "user_id": self.user_id,
            "channel": self.channel,
            "at": _timestamp(AuditEntry, "at", self.now),
            "note": "",
            "comment": None,  # not recorded: the comments are written after the values
        }
        insert_columns(AuditEntry, columns)

    def _ordered(self, order: np.ndarray) -> _Writes:
        """The same rows in `order`."""
        periods = _Periods(self.periods.codes, self.periods.index[order])
        return _Writes(self.elements[order], self.units[order], periods, self.numbers[order],
                       self.user_id, self.channel, self.now, self.combos[order])  # fmt: skip

    def staged(self, is_new, is_changed, pks, old) -> None:
        """A large write: its rows go once into a temporary table (on PostgreSQL the new
        values go straight into theirs by COPY), then one statement each inserts the new
        values, records the creation of the values about to change, updates them and inserts
        their audit entries. A statement per row (executemany) costs SQLite twice the index
        work: it opens every index and parent table again for each row; so do many-row
        INSERTs into the values' own table. The rows are staged in the values' unique-key
        order, and go in in that order: B-tree appends rather than page splits all over it."""
        value_table = statements.table(DataValue)
        order = self._key_order()
        is_new, is_changed = is_new[order], is_changed[order]
        staged = self._ordered(order)
        if self.is_postgresql:  # new values: COPY straight into their table, not staged
            staged.insert_values(is_new)
            is_new = np.zeros_like(is_new)  # none left to stage
        changed = {
            "pk": pks[order][is_changed].tolist(),
            "old_value": old[order][is_changed].tolist(),
        }
        by = self._by()
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE {_STAGED} ({_staged_types(_STAGED_COLUMNS)},"
                f" pk {statements.column_type(DataValue, 'id')} NOT NULL DEFAULT 0,"
                f" old_value {statements.column_type(AuditEntry, 'old_value')})"
                + (" ON COMMIT DROP" if self.is_postgresql else "")
            )
            for mask, extra in ((is_new, {}), (is_changed, changed)):
                if mask.any():
                    columns = dict(zip(_STAGED_COLUMNS, staged._columns(mask), strict=True))
                    insert_columns(_STAGED, columns | extra)
            if is_new.any():
                cursor.execute(_insert_staged_values(), by)
            if is_changed.any():
                _record_creations(f"d.id IN (SELECT pk FROM {_STAGED} WHERE pk <> 0)", {})
                cursor.execute(
                    f"UPDATE {value_table} SET {_change_set('s.value')} FROM {_STAGED} AS s"
                    f" WHERE s.pk <> 0 AND {value_table}.id = s.pk",
                    by,
                )
                at = _timestamp(AuditEntry, "at", self.now)
                cursor.execute(
                    _insert_staged_audit(),
                    {"user": self.user_id, "channel": self.channel, "at": at},
                )
            cursor.execute(f"DROP TABLE {_STAGED}")

    def _key_order(self) -> np.ndarray:
        """The rows' order by the values' unique key (org unit, element, period, combo)."""
        if any(self.combos.tolist()):
            combos = np.unique(self.combos.astype(str), return_inverse=True)[1].reshape(-1)
            return np.lexsort((combos, self.periods.index, self.elements, self.units))
        return np.lexsort((self.periods.index, self.elements, self.units))  # codes are sorted


def _recreated(element_ids, orgunit_ids, periods: _Periods, is_new, combos) -> list[tuple]:
    """The new values' keys (element, org unit, period, combo) that held a value once, deleted since:
    their history has entries, so their creation is written as one at once (a value's own row
    holds its creation only while the key has no entries; decision 0004)."""
    new_units = np.unique(orgunit_ids[is_new]).tolist()
    if not new_units:
        return []
    deleted = set(
        AuditEntry.objects.filter(note=DELETED_NOTE, orgunit_id__in=new_units).values_list(
            "element_id", "orgunit_id", "period", "combo"
        )
    )
    if not deleted:
        return []
    rows = np.flatnonzero(is_new & np.isin(orgunit_ids, [k[1] for k in deleted]))
    codes = periods.codes[periods.index[rows]]
    keys = zip(element_ids[rows].tolist(), orgunit_ids[rows].tolist(), codes.tolist(),
               combos[rows].tolist(), strict=True)  # fmt: skip
    return [key for key in keys if key in deleted]


def _record_recreations(keys: list[tuple]) -> None:
    for element_id, orgunit_id, period, combo in keys:
        _record_creations(
            "d.element_id = %(element)s AND d.orgunit_id = %(orgunit)s"
            " AND d.period = %(period)s AND d.combo = %(combo)s",
            {"element": element_id, "orgunit": orgunit_id, "period": period, "combo": combo},
            always=True,
        )


def _record_creations(where: str, params: dict, *, always: bool = False) -> None:
    """Write, for the data values `d` that `where` selects (with named `params`) and that have
    no audit entry yet, the entry of their creation from their own rows (the value, who stored
    it, when, how). Called just before those values change."""
    audit_table = statements.table(AuditEntry)
    unaudited = (
        f" AND NOT EXISTS (SELECT 1 FROM {audit_table} AS a WHERE a.orgunit_id = d.orgunit_id"
        " AND a.element_id = d.element_id AND a.period = d.period AND a.combo = d.combo)"
    )
    creation = {
        **{column: f"d.{column}" for column in _KEY},
        "old_value": "NULL",
        "new_value": "d.value",
        "user_id": "d.stored_by_id",
        "channel": "d.channel",
        "at": "d.updated_at",
        "note": "''",
        "comment": "d.comment",
    }
    source = (
        f"FROM {statements.table(DataValue)} AS d WHERE {where}{'' if always else unaudited}"
        " ORDER BY d.orgunit_id, d.element_id, d.period"
    )
    with connection.cursor() as cursor:
        cursor.execute(statements.insert_select(AuditEntry, creation, source), params)


# The statements of the store, generated from the models' fields (lib.statements): a field
# added to DataValue or AuditEntry is an error here until these say what it gets.
_KEY = statements.unique_key(DataValue, "unique_data_value")  # orgunit, element, period, combo
_KEPT_ON_CHANGE = (*_KEY, "comment")  # a change sets the rest: _change_set
_STAGED_COLUMNS = ("element_id", "orgunit_id", "period", "value", "combo")


def _change_set(value: str) -> str:
    """The SET list of a change of stored values to `value` (an SQL expression), by the
    parameters `stored_by`, `channel` and `updated_at` (_Writes._by)."""
    changes = {
        "value": value,
        "stored_by_id": param("stored_by"),
        "channel": param("channel"),
        "updated_at": param("updated_at"),
    }
    return statements.update_set(DataValue, changes, kept=_KEPT_ON_CHANGE)


def _staged_types(columns) -> str:
    """Columns of a staging table typed as DataValue's columns of those names."""
    return statements.column_types(DataValue, columns)


def _insert_staged_values() -> str:
    """The staged new values (pk 0) into their table, by the parameters of _change_set."""
    row = {c: c for c in _STAGED_COLUMNS} | {
        "comment": "''",
        "stored_by_id": param("stored_by"),
        "channel": param("channel"),
        "updated_at": param("updated_at"),
    }
    return statements.insert_select(DataValue, row, f"FROM {_STAGED} WHERE pk = 0")


def _insert_staged_audit() -> str:
    """An audit entry per staged changed value (pk set), by the parameters `user`, `channel`
    and `at`, in the values' key order."""
    entry = {c: c for c in _KEY} | {
        "old_value": "old_value",
        "new_value": "value",
        "user_id": param("user"),
        "channel": param("channel"),
        "at": param("at"),
        "note": "''",
        "comment": "NULL",  # not recorded: the comments are written after the values
    }
    source = f"FROM {_STAGED} WHERE pk <> 0 ORDER BY orgunit_id, element_id, period, combo"
    return statements.insert_select(AuditEntry, entry, source)


DELETED_NOTE = "deleted"  # the audit note of a deleted value
_IDS_PER_STATEMENT = 5000  # ids in one IN (...) list: under every backend's parameter limit
_STAGED = "xl_staged_values"
