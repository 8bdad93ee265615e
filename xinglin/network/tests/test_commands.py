from __future__ import annotations

import subprocess
import sys

import pytest
from django.core.management import call_command

from xinglin.network.models import Membership, OrgUnit


def test_import_institutions_command_rejects_a_bad_file_with_exit_2(county, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,type,parent\n640323100109,X,hospital,640323100\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_institutions", str(bad))
    assert exit_info.value.code == 2
    assert "bad.csv: row 2, type" in capsys.readouterr().err
    assert not OrgUnit.objects.filter(code="640323100109").exists()


def test_import_institutions_command_reads_an_xlsx(county, tmp_path, capsys):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["机构编码", "机构名称", "机构类型", "上级编码"])
    book.active.append(["640323100109", "苏步井村卫生室", "village_clinic", "640323100"])
    book.save(tmp_path / "ok.xlsx")
    call_command("import_institutions", str(tmp_path / "ok.xlsx"))
    assert "1 institutions added" in capsys.readouterr().out
    assert OrgUnit.objects.get(code="640323100109").name == "苏步井村卫生室"


def test_createuser_gives_a_scoped_role(county, capsys):
    call_command(
        "createuser",
        "li",
        "--role",
        "township_supervisor",
        "--orgunit",
        "640323100",
        "--password",
        "Long-Enough-1",
    )
    membership = Membership.objects.get(user__username="li")
    assert (membership.role, membership.orgunit.code) == ("township_supervisor", "640323100")


def test_the_xinglin_command_lists_its_commands_with_help():
    out = subprocess.run(
        [sys.executable, "-m", "xinglin.cli", "import-divisions", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "province (64), city (6403) or county (640323)" in out
