"""Shared fixtures: a small county and the named personas of STYLE.md.

alice: bureau administrator of 盐池县; bob: supervisor of 花马池镇; carol: clerk of 花马池镇卫生院;
dave: supervisor of 大水坑镇 (another township); victor: viewer over 吴忠市; olga: outsider.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import translation
from hypothesis import settings as hypothesis_settings
from hypothesis.database import DirectoryBasedExampleDatabase

from xinglin.network.actions import create_institution, create_user, import_divisions
from xinglin.network.models import OrgUnit, Role

PASSWORD = "Correct-Horse-42"


# Hypothesis keeps the examples it found under var/, never in the checkout. On CI Hypothesis
# loads its own "ci" profile (derandomised, no example database), which is left as it is:
# a database beside derandomize is refused when schemathesis builds its tests.
if hypothesis_settings.default.database is not None:
    hypothesis_settings.register_profile(
        "xinglin", database=DirectoryBasedExampleDatabase(str(settings.VAR_DIR / "hypothesis"))
    )
    hypothesis_settings.load_profile("xinglin")


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts, and leaves, in the default language (Chinese): a test that switches
    to English cannot change what the next one sees, in whatever order they run."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _documents_in_the_request(settings, tmp_path):
    """Background documents run inside the request (django-tasks' immediate backend: a worker
    thread would not see the test's transaction), cached in the test's own folder."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.DOCUMENT_CACHE_DIR = tmp_path / "documents"


@pytest.fixture
def county(db) -> OrgUnit:
    """盐池县 with its real townships, and a few institutions in two of them."""
    import_divisions("640323")
    county = OrgUnit.objects.get(code="640323")
    institutions = [
        ("640323000001", "盐池县中医医院", "tcm_hospital", "640323"),
        ("640323100001", "花马池镇卫生院", "township_health_center", "640323100"),
        ("640323100101", "北塘新村卫生室", "village_clinic", "640323100"),
        ("640323100102", "柳杨堡村卫生室", "village_clinic", "640323100"),
        ("640323101001", "大水坑镇卫生院", "township_health_center", "640323101"),
        ("640323101101", "新泉井村卫生室", "village_clinic", "640323101"),
    ]
    for code, name, kind, parent in institutions:
        create_institution(
            code=code, name=name, institution_type=kind, parent=OrgUnit.objects.get(code=parent)
        )
    # the county's own TCM hospital, as "县中医医院" indicators find it (issue 17.4)
    OrgUnit.objects.filter(code="640323000001").update(roles="county_tcm_hospital")
    return county


def _persona(username, role, code, department=""):
    return create_user(
        username, PASSWORD, role=role, orgunit=OrgUnit.objects.get(code=code), department=department
    )


@pytest.fixture
def alice(county):
    return _persona("alice", Role.BUREAU_ADMIN, "640323")


@pytest.fixture
def bob(county):
    return _persona("bob", Role.TOWNSHIP_SUPERVISOR, "640323100")


@pytest.fixture
def carol(county):
    return _persona("carol", Role.INSTITUTION_CLERK, "640323100001")


@pytest.fixture
def dave(county):
    return _persona("dave", Role.TOWNSHIP_SUPERVISOR, "640323101")


@pytest.fixture
def victor(county):
    return _persona("victor", Role.VIEWER, "6403")


@pytest.fixture
def olga(county):
    from django.contrib.auth.models import User

    return User.objects.create_user("olga", password=PASSWORD)


@pytest.fixture
def client_for(client):
    """client_for(user) -> a test client logged in as that user."""

    def login(user):
        client.force_login(user)
        return client

    return login


def pytest_collection_modifyitems(config, items):
    """On PostgreSQL run only the tests that touch the database: the others (pure functions,
    file formats, catalogues) ran on the SQLite pass and would only repeat themselves. Spark's
    tests (marker `spark`) read the Parquet export on Spark: their database side is SQLite's,
    and the backends' agreement on PostgreSQL is test_backends.py's."""
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        return
    uses_db = {"db", "transactional_db", "live_server", "django_db_setup"}
    keep, drop = [], []
    for item in items:
        wanted = item.get_closest_marker("django_db") or uses_db & set(item.fixturenames)
        wanted = wanted and not item.get_closest_marker("spark")
        (keep if wanted else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_report_header(config):
    return f"database: {settings.DATABASES['default']['ENGINE']}"
