"""The indicators of the indicator packs (xinglin/standards/packs/*.yaml), read as data: ids,
names, kinds and targets, for linking tasks and for the evidence items of a pack. The evaluation
engine owns the meaning of these packs; this module only needs their ids and labels."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.utils.translation import get_language

from xinglin.standards.loader import evidence_kind, load_yaml

INDICATOR_PACKS_DIR = Path(__file__).resolve().parent.parent / "standards" / "packs"


@dataclass(frozen=True)
class IndicatorInfo:
    pack: str
    id: str
    name_zh: str
    name_en: str
    kind: str
    section: str
    target: str
    evidence_zh: str
    evidence_en: str
    source: str
    evidence_kind: str = ""  # annual | standing for evidence items (standards.loader)

    @property
    def ref(self) -> str:
        return f"{self.pack}/{self.id}"

    @property
    def name(self) -> str:
        english = (get_language() or "").startswith("en")
        return self.name_en if english and self.name_en else self.name_zh

    @property
    def evidence(self) -> str:
        english = (get_language() or "").startswith("en")
        return self.evidence_en if english and self.evidence_en else self.evidence_zh

    @property
    def is_evidence_item(self) -> bool:
        return self.kind == "evidence"


def _text(value, lang: str) -> str:
    if isinstance(value, dict):
        return str(value.get(lang) or "")
    return str(value or "") if lang == "zh" else ""


def _evidence_kind(item: dict) -> str:
    if item.get("kind") != "evidence":
        return ""
    try:
        return evidence_kind(item)
    except ValueError:
        return "annual"  # `packs check` reports the bad value; the stricter reading meanwhile


@cache
def read_indicator_packs(
    directory: Path = INDICATOR_PACKS_DIR,
) -> dict[str, dict[str, IndicatorInfo]]:
    """{pack: {indicator id: IndicatorInfo}} for every indicator pack in `directory`."""
    packs: dict[str, dict[str, IndicatorInfo]] = {}
    for path in sorted(directory.glob("*.yaml")):
        data = load_yaml(path.read_text(encoding="utf-8")) or {}
        if "pack" not in data:
            continue  # core.yaml: the data-element catalogue
        pack = str(data["pack"])
        packs[pack] = {
            str(item["id"]): IndicatorInfo(
                pack=pack,
                id=str(item["id"]),
                name_zh=_text(item.get("name"), "zh"),
                name_en=_text(item.get("name"), "en"),
                kind=str(item.get("kind", "computed")),
                section=str(item.get("section", "")),
                target=str(item.get("target", "")),
                evidence_zh=_text(item.get("evidence"), "zh"),
                evidence_en=_text(item.get("evidence"), "en"),
                source=str(item.get("source", "")),
                evidence_kind=_evidence_kind(item),
            )
            for item in data.get("indicators") or []
        }
    return packs


def find_indicator(pack: str, indicator: str) -> IndicatorInfo | None:
    return read_indicator_packs().get(pack, {}).get(indicator)


def evidence_items(pack: str) -> list[IndicatorInfo]:
    return [i for i in read_indicator_packs().get(pack, {}).values() if i.is_evidence_item]


def packs_with_evidence_items() -> list[str]:
    return [
        pack
        for pack, items in read_indicator_packs().items()
        if any(i.is_evidence_item for i in items.values())
    ]
