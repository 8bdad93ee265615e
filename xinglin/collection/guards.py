"""No lost update (issue 18.2, decision 0007): the checks `actions.write` makes, under the
writer locks and in the transaction that stores, before it stores.

- A candidate may carry the version of the stored value its writer saw (`expected`, made by
  `version_of`: the time the value was stored, "" when there was none). A value stored or
  removed since is refused, naming who changed it, when, and both values (`stale`).
- An import may name a time (`xinglin import --if-unchanged-since`): a value of the file whose
  stored value was stored or removed after it is refused, naming the file's row and field,
  the newer value's time and its author (`changed_since`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pyarrow.compute as pc
from django.utils import timezone
from django.utils.translation import gettext as _

from xinglin.collection import rules
from xinglin.collection.batch import Batch, Candidate, Location, Problem
from xinglin.collection.models import AuditEntry, DataValue, element_codes, values_under
from xinglin.collection.store import DELETED_NOTE
from xinglin.core.labels import person
from xinglin.standards.models import DataElement

Key = tuple[str, str, str]  # (org unit, period, element) codes


def version_of(value: DataValue | None) -> str:
    """The version token of a stored value as a form carries it: the time it was stored
    (microseconds; every store and comment change sets it), "" for no value."""
    if value is None:
        return ""
    return _version(value.updated_at)


def _version(stored_at: datetime) -> str:
    return stored_at.astimezone(UTC).isoformat(timespec="microseconds")


State = tuple[str, str]  # (version, comment) of a stored value


def states(keys: set[Key]) -> dict[Key, State]:
    """The version and comment of each value stored now under `keys` (none: no entry): what
    a save compares, read once under the writer locks for `stale` and the comments."""
    if not keys:
        return {}
    rows = values_under(keys).values_list(
        "orgunit__code", "period", "element__code", "combo", "updated_at", "comment"
    )
    found = {}
    for orgunit, period, element, combo, stored_at, comment in rows:
        key = (orgunit, period, f"{element}.{combo}" if combo else element)
        if key in keys:
            found[key] = (_version(stored_at), comment)
    return found


def shown(element: DataElement, value: float | None) -> str:
    """A stored value as a person reads it: in its unit (percent as 0–100 %)."""
    if value is None:
        return "—"
    text = rules.to_entry(element.value_type, value)
    if element.value_type == "percent":
        return f"{text}%"
    if element.value_type == "boolean":
        return _("yes") if value else _("no")
    return f"{text} {element.unit}".strip() if element.unit else text


def _who(user) -> str:
    return person(user) if user is not None else _("the system")


def _when(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def _stored(keys: set[Key]) -> dict[Key, DataValue]:
    """The values stored now under `keys`, with their element, org unit and author."""
    if not keys:
        return {}
    rows = values_under(keys).select_related("element", "orgunit", "stored_by")
    found = {(v.orgunit.code, v.period, v.operand): v for v in rows}
    return {k: v for k, v in found.items() if k in keys}


def _removals(keys: set[Key], since: datetime | None = None) -> dict[Key, AuditEntry]:
    """The latest removal of each of `keys` (after `since`, when given)."""
    if not keys:
        return {}
    entries = AuditEntry.objects.filter(
        note=DELETED_NOTE,
        orgunit__code__in={k[0] for k in keys},
        period__in={k[1] for k in keys},
        element__code__in=element_codes(keys),
    )
    if since is not None:
        entries = entries.filter(at__gt=since)
    found: dict[Key, AuditEntry] = {}
    for entry in entries.select_related("element", "orgunit", "user").order_by("at", "id"):
        found[(entry.orgunit.code, entry.period, entry.operand)] = entry
    return {k: v for k, v in found.items() if k in keys}


def stale(
    candidates: Sequence[Candidate], known: dict[Key, State] | None = None
) -> tuple[list[Candidate], list[Problem]]:
    """(the candidates to write, the refusals): a candidate whose `expected` version is not
    the stored value's now is refused, naming who stored the newer value, when, and both
    values; the problem carries the stored value (`conflict`) for the form to offer it.
    `known`: `states` of at least the candidates' keys, read already."""
    watched = {(c.orgunit, c.period, c.element): c for c in candidates if c.expected is not None}
    if not watched:
        return list(candidates), []
    now = states(set(watched)) if known is None else known
    moved = {k for k, c in watched.items() if (now[k][0] if k in now else "") != c.expected}
    if not moved:
        return list(candidates), []
    stored = _stored(moved)  # the values themselves, with who stored them: for the messages
    removed = _removals(moved - set(stored))
    problems = []
    for key in moved:
        candidate, value = watched[key], stored.get(key)
        problems.append(_stale_problem(candidate, value, removed.get(key)))
    kept = [c for c in candidates if (c.orgunit, c.period, c.element) not in moved]
    return kept, problems


def _stale_problem(candidate: Candidate, value: DataValue | None, removal) -> Problem:
    key = (candidate.orgunit, candidate.period, candidate.element)
    yours = "—" if candidate.delete else str(candidate.raw)
    if value is not None:
        message = _(
            "%(who)s stored %(stored)s here at %(when)s, after you opened the form (yours: "
            "%(yours)s). Keep yours, or take the stored value."
        ) % {
            "who": _who(value.stored_by),
            "stored": shown(value.element, value.value),
            "when": _when(value.updated_at),
            "yours": yours,
        }
    else:
        message = _(
            "%(who)s removed this value at %(when)s, after you opened the form (yours: "
            "%(yours)s). Keep yours, or leave it empty."
        ) % {
            "who": _who(removal.user) if removal else _("someone"),
            "when": _when(removal.at) if removal else "—",
            "yours": yours,
        }
    return Problem(candidate.location, message, key=key, conflict=value, is_conflict=True)


def changed_since(batch: Batch, deletions: Sequence[Candidate], since: datetime) -> list[Problem]:
    """A problem for each value (of `batch` or `deletions`) whose stored value was stored or
    removed after `since`: its row and field, the newer value's time and author."""
    periods = {str(p) for p in pc.unique(batch.period).to_pylist() if p is not None}
    periods |= {c.period for c in deletions}
    newer: dict[Key, tuple[datetime, object, str]] = {}
    values = DataValue.objects.filter(updated_at__gt=since, period__in=periods)
    for value in values.select_related("element", "orgunit", "stored_by"):
        key = (value.orgunit.code, value.period, value.operand)
        newer[key] = (value.updated_at, value.stored_by, shown(value.element, value.value))
    removals = AuditEntry.objects.filter(note=DELETED_NOTE, at__gt=since, period__in=periods)
    for entry in removals.select_related("element", "orgunit", "user").order_by("at", "id"):
        key = (entry.orgunit.code, entry.period, entry.operand)
        if key not in newer or newer[key][0] < entry.at:
            newer[key] = (entry.at, entry.user, _("removed"))
    if not newer:
        return []
    places: list[tuple[Key, Location]] = []
    for i in batch.find(set(newer)):
        candidate = batch.candidate(i)
        key = (candidate.orgunit, candidate.period, candidate.element)
        places.append((key, batch.location(i)))
    places += [((c.orgunit, c.period, c.element), c.location) for c in deletions]
    problems = []
    for key, location in places:
        if key not in newer:
            continue
        at, user, value = newer[key]
        message = _(
            "the stored value changed after %(since)s: %(value)s, stored by %(who)s at %(when)s"
        ) % {"since": _when(since), "value": value, "who": _who(user), "when": _when(at)}
        problems.append(Problem(location, message, key=key))
    return problems
