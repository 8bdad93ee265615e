"""Issue 18.10 on the institutions import: an upload past the limits is refused with a
message naming the file and the limit, and changes nothing (web and command line)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from xinglin.network.models import OrgUnit

HEADER = b"code,name,type,parent\n"
ROW = b"640323100901,\xe6\x96\xb0\xe5\x8d\xab\xe7\x94\x9f\xe5\xae\xa4,village_clinic,640323100\n"


def test_the_import_page_refuses_an_oversize_file_and_keeps_nothing(
    client_for, bob, settings, tmp_path
):
    settings.UPLOAD_MAX_MB = 1
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # larger uploads would go to a temporary file
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    before = OrgUnit.objects.count()
    body = HEADER + ROW * (2**20 // len(ROW) + 1)
    page = client_for(bob).post(
        "/network/import/", {"file": SimpleUploadedFile("机构.csv", body, "text/csv")}
    )
    assert page.status_code == 200
    assert "机构.csv 超过 1 MB（上传上限）" in page.content.decode()
    assert OrgUnit.objects.count() == before
    assert list(tmp_path.iterdir()) == []  # no temporary file left


def test_the_import_page_refuses_too_many_rows(client_for, bob, settings):
    settings.UPLOAD_MAX_ROWS = 2
    page = client_for(bob).post(
        "/network/import/", {"file": SimpleUploadedFile("机构.csv", HEADER + ROW * 2, "text/csv")}
    )
    assert "机构.csv 超过 2 行（上传上限）" in page.content.decode()
    assert not OrgUnit.objects.filter(code="640323100901").exists()


def test_the_command_refuses_an_oversize_file(county, settings, tmp_path):
    settings.UPLOAD_MAX_COLUMNS = 3
    path = tmp_path / "units.csv"
    path.write_bytes(HEADER + ROW)
    with pytest.raises(CommandError, match="units.csv 有一行超过 3 列"):
        call_command("import_institutions", str(path))
    settings.UPLOAD_MAX_MB = 1
    path.write_bytes(HEADER + ROW * (2**20 // len(ROW) + 1))
    with pytest.raises(CommandError, match="units.csv 超过 1 MB"):
        call_command("import_institutions", str(path))
    assert not OrgUnit.objects.filter(code="640323100901").exists()
