"""Every user-facing string has its Chinese translation, and every catalogue is current:
regenerating it from the code finds no msgid that the committed catalogue lacks."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

APPS_DIR = Path(__file__).resolve().parents[2]
CATALOGUES = sorted(APPS_DIR.glob("*/locale/zh_Hans/LC_MESSAGES/django.po"))


def _entries(po: Path) -> dict[str, tuple[str, bool]]:
    """msgid -> (first msgstr, fuzzy) of a .po file, through msgattrib/msgfmt-free parsing."""
    entries: dict[str, tuple[str, bool]] = {}
    for block in po.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith("#~")]
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        msgid = _field(lines, "msgid ")
        msgstr = _field(lines, "msgstr ") or _field(lines, "msgstr[0] ")
        if msgid:
            entries[msgid] = (msgstr, fuzzy)
    return entries


def _field(lines: list[str], prefix: str) -> str:
    import json

    text, taking = "", False
    for line in lines:
        if line.startswith(prefix):
            text, taking = json.loads(line[len(prefix) :]), True
        elif taking and line.startswith('"'):
            text += json.loads(line)
        else:
            taking = False
    return text


def test_there_is_a_catalogue_for_every_app_with_strings():
    assert {po.parts[-5] for po in CATALOGUES} >= {
        "network",
        "web",
        "collection",
        "care",
        "plans",
        "surveys",
        "documents",
    }


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parts[-5])
def test_every_entry_is_translated(po):
    missing = [m for m, (s, fuzzy) in _entries(po).items() if not s or fuzzy]
    assert missing == []


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parts[-5])
def test_the_catalogue_holds_every_string_of_the_code(po, tmp_path):
    app = po.parents[3]
    copy = tmp_path / app.name
    shutil.copytree(app, copy, ignore=shutil.ignore_patterns("tests", "__pycache__", "*.mo"))
    manage = Path(shutil.which("django-admin") or APPS_DIR.parent / ".venv/bin/django-admin")
    subprocess.run(
        [str(manage), "makemessages", "-l", "zh_Hans", "--no-obsolete", "-v0"],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    fresh = set(_entries(copy / "locale/zh_Hans/LC_MESSAGES/django.po"))
    assert sorted(fresh - set(_entries(po))) == []
