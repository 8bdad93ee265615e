"""Fill empty (or fuzzy) msgstr entries of a .po file from a JSON object {msgid: translation}.

    .venv/bin/python scripts/po_fill.py xinglin/<app>/locale/zh_Hans/LC_MESSAGES/django.po zh.json

Prints the msgids still untranslated. A developer tool; nothing at run time uses it.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path


def _unquote(lines: list[str]) -> str:
    return "".join(json.loads(line) for line in lines)


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def fill(po_path: str, translations: dict[str, str]) -> list[str]:
    blocks = Path(po_path).read_text(encoding="utf-8").split("\n\n")
    missing, out = [], []
    for written in blocks:
        block = written
        match = re.search(r'^msgid ((?:".*"\n?)+)msgstr ((?:".*"\n?)+)', block + "\n", re.M)
        if not match or "msgid_plural" in block:
            out.append(block)
            continue
        msgid = _unquote(re.findall(r'".*"', match.group(1)))
        msgstr = _unquote(re.findall(r'".*"', match.group(2)))
        fuzzy = bool(re.search(r"^#,.*\bfuzzy\b", block, re.M))
        if msgid and (not msgstr or fuzzy):
            if msgid in translations:
                block = block[: match.start(2)] + _quote(translations[msgid])
                block = re.sub(r"^#\| .*\n", "", block, flags=re.M)
                block = re.sub(r"^#, fuzzy\n", "", block, flags=re.M)
                block = re.sub(r"^(#,.*), fuzzy", r"\1", block, flags=re.M)
            else:
                missing.append(msgid)
        out.append(block.rstrip("\n"))
    with open(po_path, "w", encoding="utf-8") as handle:
        handle.write("\n\n".join(out).rstrip("\n") + "\n")
    return missing


if __name__ == "__main__":
    with open(sys.argv[2], encoding="utf-8") as handle:
        left = fill(sys.argv[1], json.load(handle))
    for msgid in left:
        print(f"untranslated: {msgid!r}")
