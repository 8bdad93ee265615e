"""The data-element catalogue, read from packs/core.yaml into DataElement rows."""

from __future__ import annotations

from pathlib import Path

import yaml

from xinglin.standards.models import DataElement, TechniqueCategory, TechniqueItem
from xinglin.standards.paths import CORE_FILE, PACKS_DIR  # noqa: F401 (catalogue.X for callers)


def _text(mapping: dict[str, str] | str | None, language: str) -> str:
    if isinstance(mapping, dict):
        return str(mapping.get(language, ""))
    return str(mapping or "")


def sync_data_elements(path: Path = CORE_FILE) -> int:
    """Create or update every data element of core.yaml; returns how many there are."""
    with open(path, encoding="utf-8") as handle:
        core = yaml.safe_load(handle)
    declared = core["data_elements"]
    for item in declared:
        DataElement.objects.update_or_create(
            code=item["code"],
            defaults={
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
    with open(path, encoding="utf-8") as handle:
        core = yaml.safe_load(handle)
    count = 0
    for position, entry in enumerate(core["techniques"]):
        category, _created = TechniqueCategory.objects.update_or_create(
            code=entry["code"],
            defaults={
                "name_zh": _text(entry.get("name"), "zh"),
                "name_en": _text(entry.get("name"), "en"),
                "position": position,
            },
        )
        for item in entry.get("items", []):
            TechniqueItem.objects.update_or_create(
                code=item["code"],
                defaults={
                    "category": category,
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
