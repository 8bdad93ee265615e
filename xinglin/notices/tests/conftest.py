from __future__ import annotations

import pytest

from xinglin.standards.catalogue import sync_catalogue


@pytest.fixture
def catalogue(county):
    sync_catalogue()
