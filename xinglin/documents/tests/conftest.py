"""A county with three years of figures: 花马池镇卫生院 meets the TCM-visit share and has a TCM
hall; 大水坑镇卫生院 falls short on both; the county TCM hospital climbs to 42 rehab beds."""

from __future__ import annotations

import pytest

from xinglin.collection.testing import store_facts
from xinglin.network.models import OrgUnit
from xinglin.standards.catalogue import sync_catalogue
from xinglin.standards.models import DataElement

YEARS = (2023, 2024, 2025)
REHAB_BEDS = {2023: 30.0, 2024: 36.0, 2025: 42.0}


@pytest.fixture
def figures_county(county):
    sync_catalogue()
    elements = {e.code: e for e in DataElement.objects.all()}
    units = {o.code: o for o in OrgUnit.objects.all()}
    values = []
    for year in YEARS:
        for month in range(1, 13):
            period = f"{year}{month:02d}"
            values += [
                (elements["total_visits"], units["640323100001"], period, 100.0),
                (elements["tcm_visits"], units["640323100001"], period, 40.0),
                (elements["total_visits"], units["640323101001"], period, 100.0),
                (elements["tcm_visits"], units["640323101001"], period, 20.0 + year - 2023),
            ]
        values += [
            (elements["has_tcm_hall"], units["640323100001"], str(year), 1.0),
            (elements["has_tcm_hall"], units["640323101001"], str(year), 0.0),
            (elements["rehab_beds"], units["640323000001"], str(year), REHAB_BEDS[year]),
            (elements["residents"], units["640323100"], str(year), 50000.0),
            (elements["residents"], units["640323101"], str(year), 30000.0),
        ]
    store_facts(values)
    return county
