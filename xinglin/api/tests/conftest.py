"""Fixtures of the API tests: the catalogue, a few stored values, tokens per persona."""

from __future__ import annotations

import pytest

from xinglin.api.actions import create_token
from xinglin.collection.testing import store_facts
from xinglin.network.models import OrgUnit
from xinglin.standards.catalogue import sync_catalogue
from xinglin.standards.models import DataElement

# (element, org unit, period, value): carol's centre, bob's village clinic, dave's centre.
VALUES = [
    ("total_visits", "640323100001", "202401", 1200.0),
    ("tcm_visits", "640323100001", "202401", 450.0),
    ("has_tcm_hall", "640323100001", "2024", 1.0),
    ("performance_score_tcm_share", "640323100001", "2024", 0.175),
    ("total_visits", "640323100101", "202401", 80.0),
    ("total_visits", "640323101001", "202401", 900.0),
    ("tcm_visits", "640323101001", "202401", 300.0),
    ("residents", "640323100", "2024", 45210.0),
]


@pytest.fixture
def catalogue(db) -> None:
    sync_catalogue()


@pytest.fixture
def stored(county, catalogue) -> None:
    elements = {e.code: e for e in DataElement.objects.all()}
    units = {u.code: u for u in OrgUnit.objects.all()}
    store_facts([(elements[e], units[o], p, v) for e, o, p, v in VALUES])


@pytest.fixture
def bearer():
    """bearer(user) -> the Authorization header of a fresh token of that user."""

    def make(user) -> dict[str, str]:
        _row, token = create_token(user, "test")
        return {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    return make


def snapshot() -> list[tuple]:
    """Every stored value and audit entry, to show that a refused request changed nothing."""
    from xinglin.collection.models import AuditEntry, DataValue

    values = list(
        DataValue.objects.order_by("id").values_list("element_id", "orgunit_id", "period", "value")
    )
    return values + [("audit", AuditEntry.objects.count())]
