"""Names people read for what the catalogue holds: a citation as its document's title and
section, an indicator's expression (the vocabulary without the catalogue is xinglin.core.labels)."""

from __future__ import annotations

from django.utils.translation import get_language

from xinglin.standards.loader import all_packs


def _english() -> bool:
    return (get_language() or "zh-hans").startswith("en")


def source(text: str) -> str:
    """`seeds/003_….txt §三(一)2` → 《中卫市中医药服务能力提升行动实施方案（2021-2025年）》三(一)2:
    the document's title (from the pack that cites that file) and the section."""
    if not text:
        return ""
    file, _sep, section = text.partition("§")
    file = file.strip().split(";")[0].strip()
    for pack in all_packs().values():
        if pack.source.split(";")[0].strip() == file:
            title = pack.title("en" if _english() else "zh")
            return (
                f"{title} {section.strip()}".strip()
                if _english()
                else (f"《{title}》{section.strip()}")
            )
    return section.strip() if file.startswith("seeds/") else text


def expression_of(pack: str, indicator: str) -> str:
    """An indicator's expression (to tell a hospital grade from another level), '' if unknown."""
    found = all_packs().get(pack)
    if found is None:
        return ""
    return next((i.value for i in found.indicators if i.id == indicator), "")
