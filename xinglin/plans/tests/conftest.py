from __future__ import annotations

import functools
import io
from datetime import date

import pytest

from conftest import PASSWORD
from xinglin.network.actions import create_user
from xinglin.network.models import Role
from xinglin.plans.actions import load_departments, load_plan
from xinglin.plans.models import Plan
from xinglin.plans.packs import PACKS_DIR, read_packs


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"


@functools.cache
def _rehab_pack():
    return next(p for p in read_packs(PACKS_DIR) if p.code == "rehab-2021-2025")


@pytest.fixture
def plan(county):
    """The rehab plan (seeds/000) loaded for 盐池县, still running: its end is moved past any
    test's today, so that open tasks past their deadline are overdue (an ended plan shows final
    states instead: test_final_states)."""
    load_departments()
    loaded = load_plan(_rehab_pack(), county).plan
    Plan.objects.filter(pk=loaded.pk).update(end=date(2099, 12, 31))
    loaded.refresh_from_db()
    return loaded


@pytest.fixture
def eve(county):
    """Liaison of the education and sports bureau for 盐池县."""
    return create_user(
        "eve", PASSWORD, role=Role.DEPARTMENT_LIAISON, orgunit=county, department="education_sports"
    )


@pytest.fixture
def finn(county):
    """Liaison of the medical insurance bureau for 盐池县."""
    return create_user(
        "finn",
        PASSWORD,
        role=Role.DEPARTMENT_LIAISON,
        orgunit=county,
        department="medical_insurance",
    )


def pdf_bytes(text: str = "evidence") -> bytes:
    """A small real PDF."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(2, 1))
    figure.text(0.1, 0.5, text)
    out = io.BytesIO()
    figure.savefig(out, format="pdf")
    return out.getvalue()


def png_bytes() -> bytes:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(1, 1))
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
