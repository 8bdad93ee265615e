"""Faults, through the `xinglin` command in a subprocess: an import killed half-way leaves all
or nothing, a database that is missing or unreachable gives one clear line and no traceback,
and a backup onto a full disk fails cleanly without leaving a partial archive."""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

XINGLIN = [sys.executable, "-m", "xinglin.cli"]
SETUP = """
import os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "xinglin.settings"
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from xinglin.network.actions import create_institution, import_divisions
from xinglin.network.models import OrgUnit
from xinglin.standards.catalogue import sync_catalogue
import_divisions("640323")
sync_catalogue()
township = OrgUnit.objects.get(code="640323100")
for n in range(int(sys.argv[1])):
    create_institution(code=f"640323100{n + 100:03d}", name=f"村卫生室{n}",
                       institution_type="village_clinic", parent=township)
"""
CLINICS = 300
YEARS = range(2019, 2026)


def _env(url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "XINGLIN_DATABASE_URL": url, **extra}


@pytest.fixture(scope="module")
def instance(tmp_path_factory) -> Path:
    """A migrated file-based SQLite database with 300 village clinics (built once)."""
    where = tmp_path_factory.mktemp("instance")
    database = where / "db.sqlite3"
    script = where / "setup.py"
    script.write_text(SETUP)
    done = subprocess.run([sys.executable, str(script), str(CLINICS)], capture_output=True,
                          text=True, env=_env(f"sqlite:///{database}"), timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return database


def _big_csv(path: Path) -> int:
    rows = ["orgunit,period,element,value"]
    for n in range(CLINICS):
        for year in YEARS:
            for month in range(1, 13):
                unit, period = f"640323100{n + 100:03d}", f"{year}{month:02d}"
                rows += [f"{unit},{period},total_visits,100", f"{unit},{period},tcm_visits,40"]
    path.write_text("\n".join(rows) + "\n")
    return len(rows) - 1


def _count(database: Path) -> int:
    # Opening the file recovers: frames of a transaction that never committed are ignored.
    db = sqlite3.connect(database)
    try:
        return db.execute("SELECT COUNT(*) FROM collection_datavalue").fetchone()[0]
    finally:
        db.close()


def test_an_import_killed_while_writing_leaves_nothing(instance, tmp_path):
    database = tmp_path / "db.sqlite3"
    database.write_bytes(instance.read_bytes())
    source = tmp_path / "big.csv"
    total = _big_csv(source)
    # SQLite runs in WAL mode (settings): pages of an open write transaction spill into the
    # -wal file long before it commits; a -wal past 256 KiB means the import is writing.
    wal = Path(f"{database}-wal")
    process = subprocess.Popen([*XINGLIN, "import", str(source)], env=_env(f"sqlite:///{database}"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    killed_while_writing = False
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if wal.exists() and wal.stat().st_size > 256 * 1024:
            process.send_signal(signal.SIGKILL)
            killed_while_writing = True
            break
        time.sleep(0.002)
    process.wait(timeout=30)
    assert killed_while_writing, "the import finished before its write transaction was seen"
    assert process.returncode == -signal.SIGKILL
    assert _count(database) == 0
    # …and the same file imports completely afterwards: all, not some.
    done = subprocess.run([*XINGLIN, "import", str(source)], env=_env(f"sqlite:///{database}"),
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _count(database) == total


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:////nonexistent-xinglin-dir/db.sqlite3", "unable to open database file"),
        ("postgres://postgres:secret@127.0.0.1:1/postgres", "Connection refused"),
    ],
)
@pytest.mark.parametrize("command", [["import", "values.csv"], ["backup", "out.tar.gz"]])
def test_a_database_that_is_not_there_gives_one_clear_line(tmp_path, url, expected, command):
    (tmp_path / "values.csv").write_text(
        "orgunit,period,element,value\n640323100001,202501,total_visits,5\n"
    )
    done = subprocess.run([*XINGLIN, *command], env=_env(url), cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 3
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("xinglin: database error (")
    assert expected in done.stderr
    assert "secret" not in done.stderr  # the password is never printed
    assert not (tmp_path / "out.tar.gz").exists()


def _small_disk():
    """In the child: files may grow to 64 KiB only, as on a disk that is full. (Not /dev/full:
    the backup writes `<target>.partial` beside the target, and as root that would create a
    file in /dev and then rename it over the device.) Python ignores SIGXFSZ, so writes fail
    with EFBIG like ENOSPC."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


def test_a_backup_onto_a_full_disk_fails_cleanly(instance, tmp_path):
    database = tmp_path / "db.sqlite3"
    database.write_bytes(instance.read_bytes())
    target = tmp_path / "backup.tar.gz"
    done = subprocess.run([*XINGLIN, "backup", str(target)], env=_env(f"sqlite:///{database}"),
                          capture_output=True, text=True, timeout=120,
                          preexec_fn=_small_disk)  # fmt: skip
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert done.stderr == "CommandError: the database copy failed: disk I/O error\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db.sqlite3"]  # no archive, no .partial
