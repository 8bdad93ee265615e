"""Health guidance per constitution (data/constitution_guidance.yaml), to print for residents."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from django.utils.translation import get_language

PATH = Path(__file__).resolve().parent / "data" / "constitution_guidance.yaml"


@cache
def _data() -> dict[str, Any]:
    with PATH.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _lang() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh"


def areas() -> list[dict[str, str]]:
    lang = _lang()
    return [{"code": a["code"], "label": a[lang]} for a in _data()["areas"]]


def for_types(types: list[str]) -> list[dict[str, Any]]:
    """Per constitution: its Chinese name and the guidance text of each area."""
    lang, names = _lang(), {a["code"]: a for a in _data()["areas"]}
    out = []
    for code in types:
        spec = _data()["constitutions"][code]
        texts = [
            {"area": names[area][lang], "text": text[lang]}
            for area, text in spec["guidance"].items()
        ]
        out.append({"code": code, "name": spec["zh"], "areas": texts})
    return out
