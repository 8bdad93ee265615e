"""Shared fixtures: a small county and the named personas of STYLE.md.

alice: bureau administrator of 盐池县; bob: supervisor of 花马池镇; carol: clerk of 花马池镇卫生院;
dave: supervisor of 大水坑镇 (another township); victor: viewer over 吴忠市; olga: outsider.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.utils import translation
from hypothesis import settings as hypothesis_settings
from hypothesis.database import DirectoryBasedExampleDatabase
from pytest_django.plugin import blocking_manager_key, validate_django_db

from xinglin.core import generation
from xinglin.evaluation import cache as evaluation_cache
from xinglin.network.actions import create_institution, create_user, import_divisions
from xinglin.network.models import OrgUnit, OrgUnitHistory, Role
from xinglin.standards.catalogue import sync_catalogue

PASSWORD = "Correct-Horse-42"


# Hypothesis keeps the examples it found under var/, never in the checkout. On CI Hypothesis
# loads its own "ci" profile (derandomised, no example database), which is left as it is:
# a database beside derandomize is refused when schemathesis builds its tests.
if hypothesis_settings.default.database is not None:
    hypothesis_settings.register_profile(
        "xinglin", database=DirectoryBasedExampleDatabase(str(settings.VAR_DIR / "hypothesis"))
    )
    hypothesis_settings.load_profile("xinglin")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, and before it is dropped, on PostgreSQL, the end of every
    other session on it: a live server's request thread that a client kept alive (keep-alive,
    CONN_MAX_AGE) still holds its connection, and DROP DATABASE refuses a database in use."""
    yield django_db_setup
    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


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


# The county is built once per session (per xdist worker) by the real actions, kept as rows,
# and written again for each test that asks for it: one INSERT per tree level instead of the
# division import and six institutions through the actions (docs/architecture.md, Testing).
INSTITUTIONS = [
    ("640323000001", "盐池县中医医院", "tcm_hospital", "640323"),
    ("640323100001", "花马池镇卫生院", "township_health_center", "640323100"),
    ("640323100101", "北塘新村卫生室", "village_clinic", "640323100"),
    ("640323100102", "柳杨堡村卫生室", "village_clinic", "640323100"),
    ("640323101001", "大水坑镇卫生院", "township_health_center", "640323101"),
    ("640323101101", "新泉井村卫生室", "village_clinic", "640323101"),
]


def build_county() -> OrgUnit:
    """盐池县 with its real townships, and a few institutions in two of them, through the
    actions (import_divisions, create_institution)."""
    import_divisions("640323")
    for code, name, kind, parent in INSTITUTIONS:
        create_institution(
            code=code, name=name, institution_type=kind, parent=OrgUnit.objects.get(code=parent)
        )
    # the county's own TCM hospital, as "县中医医院" indicators find it (issue 17.4)
    OrgUnit.objects.filter(code="640323000001").update(roles="county_tcm_hospital")
    return OrgUnit.objects.get(code="640323")


@dataclass(frozen=True)
class Snapshot:
    """Rows a builder wrote into an empty database, as dictionaries of column values."""

    units: tuple[dict[str, Any], ...]
    history: tuple[dict[str, Any], ...]


def _row_counts() -> dict[str, int]:
    # every table but the data generation's own, which the triggers write on any insert
    return {
        m._meta.label: m._default_manager.count()
        for m in apps.get_models()
        if m._meta.db_table != generation.TABLE and m._meta.managed and not m._meta.proxy
    }


def take_snapshot(build: Callable[[], object]) -> Snapshot:
    """Run `build` in a transaction that is rolled back, keeping the org units and their
    history it wrote. Any other table it writes is refused: the snapshot would leave it out."""
    with transaction.atomic():
        before = _row_counts()
        if before["network.OrgUnit"]:
            raise RuntimeError("the county's snapshot is taken in a database without org units")
        build()
        after = _row_counts()
        others = {
            label: after[label] - before[label]
            for label in after
            if after[label] != before[label]
            and label not in {"network.OrgUnit", "network.OrgUnitHistory"}
        }
        snapshot = Snapshot(
            units=tuple(OrgUnit.objects.order_by("depth", "id").values()),
            history=tuple(OrgUnitHistory.objects.order_by("id").values()),
        )
        transaction.set_rollback(True)
    if others or not snapshot.units:
        raise RuntimeError(
            f"the county's snapshot keeps only org units and their history: {others}"
        )
    return snapshot


def restore_snapshot(snapshot: Snapshot) -> None:
    """Write the snapshot's rows again with new ids (from the tables' own sequences, as the
    actions would get them); parents first, one INSERT per tree level."""
    ids: dict[int, int] = {}

    def new_id(old: int | None) -> int | None:
        return None if old is None else ids[old]

    for _depth, level in groupby(snapshot.units, key=itemgetter("depth")):
        rows = list(level)
        made = OrgUnit.objects.bulk_create(
            OrgUnit(**{**row, "id": None, "parent_id": new_id(row["parent_id"])}) for row in rows
        )
        ids.update((row["id"], unit.pk) for row, unit in zip(rows, made, strict=True))
    OrgUnitHistory.objects.bulk_create(
        OrgUnitHistory(
            **{
                **row,
                "id": None,
                "orgunit_id": ids[row["orgunit_id"]],
                "parent_id": new_id(row["parent_id"]),
            }
        )
        for row in snapshot.history
    )


@pytest.fixture(autouse=True)
def _no_cached_evaluations():
    """Every test starts with an empty evaluation cache: on SQLite a rolled-back test leaves
    the data generation's token as it found it, so entries computed in one test could
    otherwise answer the next (same token, other settings or date)."""
    evaluation_cache.clear()


def _flushes(item: pytest.Item) -> bool:
    """Whether pytest-django runs `item` as a TransactionTestCase (committed writes, the
    tables flushed at teardown) rather than inside a rolled-back transaction."""
    marker = item.get_closest_marker("django_db")
    transactional, reset_sequences = validate_django_db(marker)[:2] if marker else (False, False)
    uses = set(getattr(item, "fixturenames", ()))
    return bool(transactional or reset_sequences or uses & {"transactional_db", "live_server"})


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    """After a test that flushed the database, bring back what `xinglin migrate` leaves in a
    fresh one (the catalogue of packs/core.yaml), so that the next test on this worker starts
    from the same database whatever ran before it."""
    result = yield
    if nextitem is not None and _flushes(item):  # after the last test the database is gone
        with item.config.stash[blocking_manager_key].unblock():
            sync_catalogue()
    return result


@pytest.fixture(scope="session")
def county_snapshot(django_db_setup, django_db_blocker) -> Snapshot:
    with django_db_blocker.unblock():
        return take_snapshot(build_county)


@pytest.fixture
def county(db, county_snapshot) -> OrgUnit:
    """盐池县 with its real townships, and a few institutions in two of them: the rows
    `build_county` wrote once this session, written again."""
    restore_snapshot(county_snapshot)
    return OrgUnit.objects.get(code="640323")


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
