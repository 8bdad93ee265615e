"""Issue 20.7: the database, backups, evidence files and keys under var/ are created for the
instance's own user only (files 0600, folders 0700)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_var_is_private(tmp_path):
    var = tmp_path / "var"
    env = {**os.environ, "XINGLIN_VAR_DIR": str(var), "XINGLIN_DATABASE_URL": ""}
    env.pop("XINGLIN_DATABASE_URL")
    xinglin = [sys.executable, "-c", "from xinglin.cli import main; main()"]
    code = "import os; os.umask(0o022); from xinglin.cli import main; main()"  # a permissive umask outside: the instance still writes private files
    run = subprocess.run([sys.executable, "-c", code, "migrate", "-v0"], env=env,
                         capture_output=True, text=True)  # fmt: skip
    assert run.returncode == 0, run.stderr
    backup = tmp_path / "b.tar.gz"
    run = subprocess.run([*xinglin, "backup", str(backup)], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    evidence = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'xinglin.settings');"
        "django.setup(); from django.core.files.storage import default_storage;"
        "from django.core.files.base import ContentFile;"
        "print(default_storage.save('evidence/x.pdf', ContentFile(b'%PDF-1.4')))"
    )
    run = subprocess.run([sys.executable, "-c", evidence], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert _mode(var) == 0o700
    assert _mode(var / "xinglin.sqlite3") == 0o600
    assert _mode(var / "secret_key") == 0o600
    assert _mode(backup) == 0o600
    files = list((var / "files").rglob("*"))
    assert files and all(_mode(p) == (0o700 if p.is_dir() else 0o600) for p in files)
