"""Personal information (PIPL): identifiers only hashed and masked, never in logs, exports
only for the roles that need them and always audited, and a retention period for care
records (`xinglin care purge`)."""

from __future__ import annotations

import csv
import io
import logging
import re
from datetime import date

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, models
from django.urls import reverse

from conftest import PASSWORD
from xinglin.care.actions import record_assessment, register_resident
from xinglin.care.constitution import N_ITEMS
from xinglin.care.models import Child, ChildGuidance, ConstitutionAssessment, Resident, Visit
from xinglin.care.personal_id import make_id_card
from xinglin.core.models import EventKind, SecurityEvent
from xinglin.network.actions import create_user
from xinglin.network.models import OrgUnit, Role
from xinglin.web.tests import world

# An 18-character ID-card number standing alone (not inside a hex digest or a longer code).
ID_CARD = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
NAMES = ["张三丰", "李四光"]
HMC, DSK = "640323100001", "640323101001"


def _numbers() -> list[str]:
    return [make_id_card("640323", date(1948, 5, 6), 200 + i) for i in range(len(NAMES))]


def _assessment_csv() -> bytes:
    header = ["id_number", "name", "institution", "assessed_on"]
    header += [f"q{i}" for i in range(1, N_ITEMS + 1)] + ["guidance"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for number, name in zip(_numbers(), NAMES, strict=True):
        writer.writerow([number, name, HMC, "2025-04-02", *world.BALANCED, "diet"])
    return out.getvalue().encode()


def _visits_csv() -> bytes:
    header = ["visit_date", "institution", "department", "patient_id", "diagnoses",
              "tcm_diagnoses", "techniques", "herbal"]  # fmt: skip
    rows = [["2025-01-04", HMC, "中医科", number, "", "", "", "0"] for number in _numbers()]
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    return out.getvalue().encode()


@pytest.fixture
def people(county, alice, bob, carol, dave, settings, tmp_path):
    """The world plus residents imported from files through the web, as clerks do."""
    settings.MEDIA_ROOT = tmp_path / "media"
    world.build({"HMC": bob, "DSK": dave})
    client = _client(carol)
    upload = SimpleUploadedFile("assessments.csv", _assessment_csv())
    client.post(reverse("care:assessment_import"), {"file": upload})
    upload = SimpleUploadedFile("his.csv", _visits_csv())
    client.post(reverse("care:visit_import"), {"file": upload})
    assert Resident.objects.filter(name__in=NAMES).count() == 2
    assert Visit.objects.count() == 2
    return client


def _client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def _text_columns():
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField | models.TextField | models.JSONField):
                yield model, field


def test_no_table_holds_a_plain_id_card_number(people):
    found = []
    with connection.cursor() as cursor:
        for model, field in _text_columns():
            table, column = model._meta.db_table, field.column
            cursor.execute(f"SELECT {connection.ops.quote_name(column)} FROM {table}")
            for (value,) in cursor.fetchall():
                if value is not None and ID_CARD.search(str(value)):
                    found.append(f"{table}.{column}: {value!r}")
    assert found == []


def test_the_scan_would_find_a_plain_number(people):
    """The pattern matches the numbers used above, and not the keyed hashes stored."""
    assert all(ID_CARD.fullmatch(n) for n in _numbers())
    hashes = " ".join(Resident.objects.values_list("id_hash", flat=True))
    assert ID_CARD.search(hashes) is None


def test_personal_data_never_reaches_the_logs(county, alice, bob, carol, dave, settings, tmp_path,
                                              caplog):  # fmt: skip
    caplog.set_level(logging.DEBUG)
    settings.MEDIA_ROOT = tmp_path / "media"
    world.build({"HMC": bob, "DSK": dave})
    client = _client(carol)
    client.post(reverse("care:assessment_import"),
                {"file": SimpleUploadedFile("a.csv", _assessment_csv())})  # fmt: skip
    client.post(reverse("care:visit_import"), {"file": SimpleUploadedFile("v.csv", _visits_csv())})
    bad = _visits_csv().replace(b"2025-01-04", b"2025-13-40")
    client.post(reverse("care:visit_import"), {"file": SimpleUploadedFile("v.csv", bad)})
    client.get(reverse("care:residents"))
    for pk in ConstitutionAssessment.objects.values_list("pk", flat=True):
        client.get(reverse("care:assessment", args=[pk]))
        _client(dave).get(reverse("care:assessment", args=[pk]))  # refused: logged as a 404
    client.get(reverse("care:assessments_csv"), {"year": 2025})
    logged = caplog.text + " ".join(str(r.args) for r in caplog.records)
    secrets = _numbers() + NAMES + [world.marker("HMC", "CARE")]
    assert [s for s in secrets if s in logged] == []


@pytest.fixture
def liaison(county):
    return create_user("eve", PASSWORD, role=Role.DEPARTMENT_LIAISON,
                       orgunit=OrgUnit.objects.get(code="640323"), department="education_sports")  # fmt: skip


def test_personal_exports_only_for_admin_and_own_clerk_and_audited(
    people, alice, bob, carol, dave, victor, liaison
):
    url = reverse("care:assessments_csv")
    allowed = {}
    for user in (alice, carol, bob, dave, victor, liaison):
        response = _client(user).get(url, {"year": 2025})
        allowed[user.username] = response.status_code
        if response.status_code == 200:
            rows = list(csv.reader(io.StringIO(response.getvalue().decode("utf-8-sig"))))
            allowed[user.username] = (200, sorted({r[1] for r in rows[1:]}))
    assert allowed == {
        "alice": (200, [HMC, DSK]),
        "carol": (200, [HMC]),
        "bob": 403,
        "dave": 403,
        "victor": 403,
        "eve": 403,
    }
    events = SecurityEvent.objects.filter(kind=EventKind.PERSONAL_EXPORT).order_by("id")
    assert [(e.username, e.detail) for e in events] == [
        ("alice", "care assessments 2025: 4 rows"),
        ("carol", "care assessments 2025: 3 rows"),
    ]


def test_the_export_events_are_shown_to_the_bureau_administrator(people, alice, carol):
    _client(carol).get(reverse("care:assessments_csv"), {"year": 2025})
    page = _client(alice).get(reverse("security_events")).content.decode()
    assert "care assessments 2025: 3 rows" in page
    assert _client(carol).get(reverse("security_events")).status_code == 403


# ---------------------------------------------------------------- retention


def _old_and_new(county) -> None:
    unit = OrgUnit.objects.get(code=HMC)
    for serial, day in ((1, date(2010, 6, 1)), (2, date(2024, 6, 1))):
        resident = register_resident(make_id_card("640323", date(1940, 1, 1), serial),
                                     institution=unit)  # fmt: skip
        record_assessment(resident, institution=unit, assessed_on=day, answers=world.BALANCED,
                          guidance=["diet"])  # fmt: skip
    # A resident assessed long ago and again recently keeps the health record.
    kept = Resident.objects.get(assessments__assessed_on=date(2024, 6, 1))
    record_assessment(kept, institution=unit, assessed_on=date(2011, 1, 1),
                      answers=world.BALANCED, guidance=["diet"])  # fmt: skip
    Resident.objects.update(created_at="2009-01-01T00:00:00Z")


def test_purge_dry_run_counts_and_deletes_nothing(county, settings, capsys):
    settings.CARE_RETENTION_YEARS = 10
    _old_and_new(county)
    call_command("care", "purge", "--dry-run")
    out = capsys.readouterr().out
    assert "assessments: 2" in out and "residents: 1" in out and "would delete" in out
    assert ConstitutionAssessment.objects.count() == 3 and Resident.objects.count() == 2
    assert not SecurityEvent.objects.filter(kind=EventKind.PURGE).exists()


def test_purge_deletes_records_older_than_the_retention(county, settings, capsys):
    settings.CARE_RETENTION_YEARS = 10
    _old_and_new(county)
    call_command("care", "purge")
    assert list(ConstitutionAssessment.objects.values_list("assessed_on", flat=True)) == [
        date(2024, 6, 1)
    ]
    assert Resident.objects.count() == 1
    assert "assessments: 2" in capsys.readouterr().out
    event = SecurityEvent.objects.get(kind=EventKind.PURGE)
    assert event.detail.startswith("care purge before ")
    assert "assessments=2" in event.detail and "residents=1" in event.detail


def test_the_retention_follows_the_setting(county, settings, capsys):
    settings.CARE_RETENTION_YEARS = 30
    _old_and_new(county)
    call_command("care", "purge")
    assert ConstitutionAssessment.objects.count() == 3
    assert (Child.objects.count(), ChildGuidance.objects.count()) == (0, 0)


def test_a_bad_retention_setting_fails_loudly(monkeypatch):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", ("import django, os; os.environ['DJANGO_SETTINGS_MODULE']="
         "'xinglin.settings'; django.setup()")],
        env={**__import__("os").environ, "XINGLIN_CARE_RETENTION_YEARS": "ten"},
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode != 0
    assert "XINGLIN_CARE_RETENTION_YEARS must be a whole number" in result.stderr
