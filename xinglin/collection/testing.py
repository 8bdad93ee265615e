"""Test support: facts stored as they are, without the checks of `actions.write`.

For tests of other apps that need arbitrary facts in the database (the engine's reference
test writes random values an institution could not report). Never imported by application
code (`test_one_write.py` pins it): every channel writes through `actions.write`."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User

from xinglin.collection.models import Channel
from xinglin.collection.store import StoreResult, _store_values
from xinglin.network.models import OrgUnit
from xinglin.standards.models import DataElement


def store_facts(
    rows: Iterable[tuple[DataElement, OrgUnit, str, float]],
    *,
    user: User | None = None,
    channel: str = Channel.SYSTEM,
) -> StoreResult:
    """Store (element, org unit, period, value) rows unchecked, audited as any write."""
    return _store_values(rows, user=user, channel=channel)
