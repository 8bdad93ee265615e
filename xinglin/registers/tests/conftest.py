from __future__ import annotations

import pytest

from xinglin.network.actions import create_institution, create_user, import_divisions
from xinglin.network.models import OrgUnit, Role
from xinglin.standards.catalogue import sync_catalogue

PASSWORD = "Correct-Horse-42"


@pytest.fixture
def catalogue(county):
    sync_catalogue()
    return county


@pytest.fixture
def zed(county):
    """Bureau administrator of another county (同心县), with one health centre there."""
    import_divisions("640324")
    township = (
        OrgUnit.objects.filter(parent__code="640324", kind="division").order_by("code").first()
    )
    create_institution(code="640324100001", name="同心县某镇卫生院",
                       institution_type="township_health_center", parent=township)  # fmt: skip
    return create_user(
        "zed", PASSWORD, role=Role.BUREAU_ADMIN, orgunit=OrgUnit.objects.get(code="640324")
    )


def upload(name: str, text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, ("\ufeff" + text).encode("utf-8"), content_type="text/csv")
