from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from xinglin.standards.catalogue import sync_catalogue

HEADER = "orgunit,period,element,value\n"
HMC = "640323100001"  # 花马池镇卫生院 (township health centre)
CLINIC = "640323100101"  # 北塘新村卫生室 (village clinic)


@pytest.fixture
def catalogue(db):
    sync_catalogue()


@pytest.fixture
def csv_file(tmp_path):
    """csv_file(rows, encoding="utf-8") -> a long CSV with the header and these lines."""

    def write(lines: list[str], encoding: str = "utf-8", name: str = "values.csv") -> Path:
        path = tmp_path / name
        path.write_bytes((HEADER + "".join(line + "\n" for line in lines)).encode(encoding))
        return path

    return write


@pytest.fixture
def run_import(capsys):
    """run_import(path, *options) -> (exit code, stdout, stderr) of `xinglin import`."""

    def run(path, *options):
        code = 0
        try:
            call_command("import", str(path), *options)
        except SystemExit as exit_:
            code = exit_.code
        out, err = capsys.readouterr()
        return code, out, err

    return run
