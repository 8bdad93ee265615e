"""The data-element catalogue, read from packs/core.yaml into DataElement rows."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, TypeVar

import yaml
from django.db import models

from xinglin.standards.models import DataElement, TechniqueCategory, TechniqueItem
from xinglin.standards.paths import CORE_FILE, PACKS_DIR  # noqa: F401 (catalogue.X for callers)

# libyaml's parser where PyYAML was built with it: core.yaml parses in 10 ms instead of 100 ms
# (the same documents; standards/loader.py reads the packs with it too).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
M = TypeVar("M", bound=models.Model)


def _text(mapping: dict[str, str] | str | None, language: str) -> str:
    if isinstance(mapping, dict):
        return str(mapping.get(language, ""))
    return str(mapping or "")


def _read(path: Path) -> Any:
    """core.yaml as parsed; callers only read it."""
    return _parse(path.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=4)
def _parse(text: str) -> Any:
    # keyed by the file's text, so an edited file is parsed again
    return yaml.load(text, Loader=_LOADER)


def _put(model: type[M], existing: dict[str, M], code: str, values: dict[str, Any]) -> M:
    """The row of `code` holding `values`: created, updated, or left alone when it holds them
    already (a catalogue that did not change is not written: no generation change, and
    `xinglin migrate` and the tests' catalogue fixtures stay cheap)."""
    row = existing.get(code)
    if row is not None and all(getattr(row, field) == value for field, value in values.items()):
        return row
    row, _created = model._default_manager.update_or_create(code=code, defaults=values)
    return row


def sync_data_elements(path: Path = CORE_FILE) -> int:
    """Create or update every data element of core.yaml; returns how many there are."""
    declared = _read(path)["data_elements"]
    existing = {e.code: e for e in DataElement.objects.all()}
    for item in declared:
        _put(
            DataElement,
            existing,
            item["code"],
            {
                "name_zh": _text(item.get("name"), "zh"),
                "name_en": _text(item.get("name"), "en"),
                "value_type": item["type"],
                "unit_zh": _text(item.get("unit"), "zh"),
                "unit_en": _text(item.get("unit"), "en"),
                "period_type": item["period_type"],
                "level": item.get("level", "institution"),
                "institution_types": item.get("institution_types", []),
                "aggregation": item.get("aggregation", "sum"),
                "section_zh": _text(item.get("section"), "zh"),
                "section_en": _text(item.get("section"), "en"),
                "help_zh": _text(item.get("help"), "zh"),
                "help_en": _text(item.get("help"), "en"),
                "categories": list(item.get("categories") or []),
            },
        )
    return len(declared)


def sync_techniques(path: Path = CORE_FILE) -> int:
    """Create or update the technique taxonomy of core.yaml; returns the number of items."""
    core = _read(path)
    categories = {c.code: c for c in TechniqueCategory.objects.all()}
    items = {i.code: i for i in TechniqueItem.objects.all()}
    count = 0
    for position, entry in enumerate(core["techniques"]):
        category = _put(
            TechniqueCategory,
            categories,
            entry["code"],
            {
                "name_zh": _text(entry.get("name"), "zh"),
                "name_en": _text(entry.get("name"), "en"),
                "position": position,
            },
        )
        for item in entry.get("items", []):
            _put(
                TechniqueItem,
                items,
                item["code"],
                {
                    "category_id": category.pk,
                    "name_zh": item.get("zh", ""),
                    "name_en": item.get("en", ""),
                },
            )
            count += 1
    return count


def sync_catalogue() -> None:
    """Data elements and techniques, as the packs declare them."""
    sync_data_elements()
    sync_techniques()
