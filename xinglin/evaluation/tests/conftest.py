from __future__ import annotations

import pytest

from xinglin.collection.testing import store_facts
from xinglin.evaluation.tests.test_engine_reference import world  # noqa: F401 (a shared fixture)
from xinglin.network.models import OrgUnit
from xinglin.standards.catalogue import sync_catalogue
from xinglin.standards.models import DataElement


@pytest.fixture
def write(county):
    """write(element, orgunit, period, value, ...) through the one write path."""
    sync_catalogue()

    def store(*rows):
        elements = {e.code: e for e in DataElement.objects.all()}
        units = {u.code: u for u in OrgUnit.objects.all()}
        store_facts([(elements[e], units[o], p, float(v)) for e, o, p, v in rows])

    return store


def visits(code: str, year: int, total: float, tcm: float) -> list:
    """A year of monthly visits: `total` and `tcm` each month."""
    rows = []
    for month in range(1, 13):
        rows += [("total_visits", code, f"{year}{month:02d}", total),
                 ("tcm_visits", code, f"{year}{month:02d}", tcm)]  # fmt: skip
    return rows
