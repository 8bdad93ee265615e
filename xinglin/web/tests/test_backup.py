from __future__ import annotations

import tarfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from xinglin.network.models import OrgUnit


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"
    (settings.MEDIA_ROOT / "evidence").mkdir(parents=True)
    (settings.MEDIA_ROOT / "evidence" / "plan.pdf").write_bytes(b"%PDF-1.4 demo")
    return settings.MEDIA_ROOT


def _state():
    return sorted(OrgUnit.objects.values_list("code", "name", "path", "closed_on"))


@pytest.mark.django_db(transaction=True)
def test_backup_and_restore_round_trip_to_identical_data(county, media, settings, tmp_path, capsys):
    before = _state()
    archive = tmp_path / "xinglin.tar.gz"
    call_command("backup", str(archive))
    with tarfile.open(archive) as content:
        names = content.getnames()
    assert "manifest.json" in names and "files/evidence/plan.pdf" in names

    OrgUnit.objects.filter(code="640323100001").update(name="changed after the backup")
    OrgUnit.objects.filter(code="640323101101").delete()
    (media / "evidence" / "plan.pdf").unlink()
    (media / "evidence" / "later.pdf").write_bytes(b"%PDF later")

    cached = settings.DOCUMENT_CACHE_DIR / "made-before-the-restore.pdf"
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(b"%PDF a document of the data before the restore")

    call_command("restore", str(archive))
    assert _state() == before
    assert (media / "evidence" / "plan.pdf").read_bytes() == b"%PDF-1.4 demo"
    assert not (media / "evidence" / "later.pdf").exists()
    # a restored generation token may stand for other data: no document made before is served
    assert not cached.exists()


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_file_that_is_not_a_backup(county, media, tmp_path):
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(b"not an archive")
    before = _state()
    with pytest.raises(CommandError, match="is not a Xinglin backup"):
        call_command("restore", str(bogus))
    assert _state() == before
    assert (media / "evidence" / "plan.pdf").exists()


# --- issue 20.3: the ID-hash key -----------------------------------------------------------


@pytest.fixture
def person(county, settings, tmp_path):
    """One resident hashed under the instance's original key; var/ is under tmp_path."""
    from datetime import date

    from xinglin.care.actions import register_resident
    from xinglin.care.personal_id import make_id_card

    settings.PERSONAL_ID_KEY = "the-original-key"
    settings.PERSONAL_ID_KEY_FILE = tmp_path / "var" / "personal_id_key"
    settings.PERSONAL_ID_KEY_FILE.parent.mkdir()
    settings.MEDIA_ROOT = tmp_path / "files"
    number = make_id_card("640323", date(1950, 1, 2), 17)
    register_resident(number, institution=OrgUnit.objects.get(code="640323100001"))
    return number


def _returning(number: str):
    from xinglin.care.actions import register_resident
    from xinglin.care.models import Resident

    register_resident(number, institution=OrgUnit.objects.get(code="640323100001"))
    return Resident.objects.count()


@pytest.mark.django_db(transaction=True)
def test_a_restore_into_a_fresh_var_matches_returning_persons(person, settings, tmp_path):
    import os
    import stat

    settings.BACKUP_PASSPHRASE = "long enough passphrase"
    archive = tmp_path / "backup.tar.gz"
    call_command("backup", str(archive))
    assert stat.S_IMODE(os.stat(archive).st_mode) == 0o600
    with tarfile.open(archive) as content:
        sealed = content.extractfile("keys/personal_id_key.enc").read()
    assert b"the-original-key" not in sealed  # carried encrypted
    settings.PERSONAL_ID_KEY = "a-fresh-instance-secret"  # what a new var/ generates
    call_command("restore", str(archive))
    assert settings.PERSONAL_ID_KEY_FILE.read_text() == "the-original-key"
    assert stat.S_IMODE(os.stat(settings.PERSONAL_ID_KEY_FILE).st_mode) == 0o600
    assert _returning(person) == 1  # the same person, not a duplicate


@pytest.mark.django_db(transaction=True)
def test_a_restore_that_could_not_match_people_is_refused(person, settings, tmp_path):
    from xinglin.care.models import Resident

    archive = tmp_path / "backup.tar.gz"
    call_command("backup", str(archive))  # no passphrase: the key stays out
    with tarfile.open(archive) as content:
        assert not any("key" in name for name in content.getnames())
    Resident.objects.all().delete()
    settings.PERSONAL_ID_KEY = "a-fresh-instance-secret"
    with pytest.raises(CommandError, match="hashed with another key"):
        call_command("restore", str(archive))
    assert Resident.objects.count() == 0  # nothing changed
    settings.PERSONAL_ID_KEY = "the-original-key"  # the operator sets the original key
    call_command("restore", str(archive))
    assert _returning(person) == 1


@pytest.mark.django_db(transaction=True)
def test_a_wrong_passphrase_is_a_clear_error(person, settings, tmp_path):
    settings.BACKUP_PASSPHRASE = "the right one"
    archive = tmp_path / "backup.tar.gz"
    call_command("backup", str(archive))
    settings.PERSONAL_ID_KEY, settings.BACKUP_PASSPHRASE = "fresh", "the wrong one"
    with pytest.raises(CommandError, match="XINGLIN_BACKUP_PASSPHRASE is not the passphrase"):
        call_command("restore", str(archive))
