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
def test_backup_and_restore_round_trip_to_identical_data(county, media, tmp_path, capsys):
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

    call_command("restore", str(archive))
    assert _state() == before
    assert (media / "evidence" / "plan.pdf").read_bytes() == b"%PDF-1.4 demo"
    assert not (media / "evidence" / "later.pdf").exists()


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_file_that_is_not_a_backup(county, media, tmp_path):
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(b"not an archive")
    before = _state()
    with pytest.raises(CommandError, match="is not a Xinglin backup"):
        call_command("restore", str(bogus))
    assert _state() == before
    assert (media / "evidence" / "plan.pdf").exists()
