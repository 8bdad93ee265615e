"""Per-institution column mappings of HIS exports: where each field of the layout is in a
file's header, and saving an institution's mapping."""

from __future__ import annotations

from dataclasses import dataclass

from xinglin.care.actions import CareError
from xinglin.care.models import VisitColumnMapping
from xinglin.care.visit_rules import layout
from xinglin.network.models import OrgUnit
from xinglin.standards.models import TechniqueItem


@dataclass
class _Columns:
    """Where each layout field is in the file (None = absent), and the constant institution of
    a mapping without an institution column."""

    at: dict[str, int | None]
    institution: OrgUnit | None = None


def columns_for(header: list[str], mapping: VisitColumnMapping | None) -> _Columns:
    """Locate the layout's fields in a header row. With a mapping, its headers; without one,
    the layout's English or Chinese headers. CareError when a required column is missing."""
    names = [h.strip() for h in header]
    at: dict[str, int | None] = {}
    missing = []
    for name, spec in layout().items():
        wanted = [mapping.columns.get(name, "")] if mapping else [spec["header"], spec["zh"]]
        found = next((names.index(w) for w in wanted if w and w in names), None)
        at[name] = found
        if found is None and spec["required"]:
            if name == "institution" and mapping is not None:
                continue
            missing.append(wanted[0] or name)
    if missing:
        raise CareError(f"row 1: missing columns {', '.join(missing)}")
    institution = mapping.institution if mapping and at["institution"] is None else None
    return _Columns(at, institution)


def save_mapping(
    institution: OrgUnit, columns: dict[str, str], techniques: dict[str, str], user=None
) -> VisitColumnMapping:
    """Save the institution's column mapping. CareError when a technique name maps to a code
    that is not in the catalogue or a required column is left unnamed."""
    known = set(TechniqueItem.objects.values_list("code", flat=True))
    wrong = sorted(code for code in techniques.values() if code not in known)
    if wrong:
        raise CareError(f"not catalogue technique codes: {', '.join(wrong)}")
    missing = [n for n, s in layout().items()
               if s["required"] and n != "institution" and not columns.get(n)]  # fmt: skip
    if missing:
        raise CareError(f"name the export's column for: {', '.join(missing)}")
    mapping, _created = VisitColumnMapping.objects.update_or_create(
        institution=institution,
        defaults={"columns": {k: v for k, v in columns.items() if v},
                  "techniques": techniques, "updated_by": user},
    )  # fmt: skip
    return mapping
