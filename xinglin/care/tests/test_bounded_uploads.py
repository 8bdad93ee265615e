"""Issue 18.10 on the care imports (assessments, HIS visits): an upload past the limits is
refused with a message naming the file and the limit, and nothing is written."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from xinglin.care.models import ConstitutionAssessment, Resident, Visit

LINE = b"x" * 99 + b"\n"
BIG = LINE * (2**20 // len(LINE) + 1)  # just over 1 MB


@pytest.fixture
def one_mb(settings, tmp_path):
    settings.UPLOAD_MAX_MB = 1
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    ("url", "name"),
    [("/care/assessments/import/", "体质辨识.csv"), ("/care/visits/import/", "his.csv")],
)
def test_the_import_pages_refuse_an_oversize_file(client_for, carol, one_mb, url, name):
    page = client_for(carol).post(url, {"file": SimpleUploadedFile(name, BIG, "text/csv")})
    assert page.status_code == 200
    assert f"{name} 超过 1 MB（上传上限）" in page.content.decode()
    assert list(one_mb.iterdir()) == []  # no temporary file left
    assert not ConstitutionAssessment.objects.exists() and not Resident.objects.exists()
    assert not Visit.objects.exists()


def test_the_import_pages_refuse_too_many_columns(client_for, carol, settings):
    settings.UPLOAD_MAX_COLUMNS = 10
    wide = ",".join(["a"] * 11).encode() + b"\n"
    for url in ("/care/assessments/import/", "/care/visits/import/"):
        page = client_for(carol).post(url, {"file": SimpleUploadedFile("wide.csv", wide)})
        assert "wide.csv 有一行超过 10 列（上传上限）" in page.content.decode()


@pytest.mark.parametrize("command", ["constitution", "visits"])
def test_the_commands_refuse_an_oversize_file(county, one_mb, tmp_path, command):
    path = tmp_path / "big.csv"
    path.write_bytes(BIG)
    with pytest.raises(CommandError, match="big.csv 超过 1 MB"):
        call_command(command, "import", str(path))


def test_the_code_list_command_refuses_an_oversize_file(county, one_mb, tmp_path):
    path = tmp_path / "icd.csv"
    path.write_bytes(BIG)
    with pytest.raises(CommandError, match="icd.csv 超过 1 MB"):
        call_command("codes", "load", str(path), "--system", "icd10")
