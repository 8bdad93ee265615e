"""Code lists of HIS exports: technique names as institutions write them (catalogue, aliases,
the institution's own names) and the diagnosis code systems (ICD-10, GB/T 15657)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from django.db import transaction

from xinglin.care.actions import CareError
from xinglin.care.models import CodeSystem, DiagnosisCode
from xinglin.care.visit_files import read_table
from xinglin.care.visit_rules import DATA
from xinglin.standards.models import TechniqueItem

ICD10 = re.compile(r"^[A-Z]\d{2}(\.[0-9A-Z]{1,4})?[+*]?$")
GBT15657 = re.compile(r"^[AB]\d{2}(\.\d{2})*\.?$")


def plain_name(name: str) -> str:
    """A technique name without the bracketed part and spaces: 拔罐（火罐） -> 拔罐."""
    return re.sub(r"[（(].*?[)）]", "", name).replace(" ", "").strip().lower()


def technique_lookup(extra: dict[str, str] | None = None) -> dict[str, TechniqueItem]:
    """Name or code as written in an export -> catalogue item. Later sources win: catalogue
    codes and names, data/technique_aliases.yaml, then the institution's own names."""
    items = {item.code: item for item in TechniqueItem.objects.select_related("category")}
    lookup: dict[str, TechniqueItem] = {}
    for item in items.values():
        lookup[item.code.lower()] = item
        lookup[plain_name(item.name_zh)] = item
        lookup[item.name_zh.replace(" ", "").lower()] = item
    aliases = yaml.safe_load((DATA / "technique_aliases.yaml").read_text(encoding="utf-8"))
    for source in (aliases["aliases"], extra or {}):
        for name, code in source.items():
            if code in items:
                lookup[plain_name(name)] = items[code]
    return lookup


def known_codes(system: str) -> set[str]:
    return set(DiagnosisCode.objects.filter(system=system).values_list("code", flat=True))


CODE_HEADERS = {"code": "code", "编码": "code", "代码": "code", "疾病编码": "code",
                "name": "name", "名称": "name", "disease": "name", "疾病名称": "name",
                "中文名称": "name", "诊断名称": "name"}  # fmt: skip
DEFAULT_CODE_FILES = [
    ("icd10_cn_categories_chaseliu.tsv", CodeSystem.ICD10),
    ("gbt15657_disease_sample.csv", CodeSystem.TCM_DISEASE),
    ("gbt15657_syndrome_sample.csv", CodeSystem.TCM_SYNDROME),
]


def load_codes(path: Path, system: str, *, replace: bool = False) -> int:
    """Load a code list (CSV/TSV/xlsx with code,name columns) into `system`; rows with a code
    already there update its name. `replace` first removes the system's other codes.
    CareError names the row of a bad line; nothing is written then."""
    if system not in CodeSystem.values:
        raise CareError(f"unknown code system {system!r}: {', '.join(CodeSystem.values)}")
    pattern = ICD10 if system == CodeSystem.ICD10 else GBT15657
    rows = iter(read_table(path.name, path.read_bytes()))
    header = [CODE_HEADERS.get(h.strip().lower(), h.strip().lower()) for h in next(rows, [])]
    if "code" not in header or "name" not in header:
        raise CareError(f"{path.name}, row 1: the columns code and name are required")
    at_code, at_name = header.index("code"), header.index("name")
    codes: dict[str, str] = {}
    for number, row in enumerate(rows, start=2):
        code = row[at_code].strip().upper() if len(row) > at_code else ""
        name = row[at_name].strip() if len(row) > at_name else ""
        if not pattern.match(code) or not name:
            raise CareError(
                f"{path.name}, row {number}: {code!r} is not a {system} code with a name"
            )
        codes[code] = name[:200]
    with transaction.atomic():
        if replace:
            DiagnosisCode.objects.filter(system=system).exclude(code__in=codes).delete()
        existing = set(DiagnosisCode.objects.filter(system=system).values_list("code", flat=True))
        DiagnosisCode.objects.bulk_create(
            [DiagnosisCode(system=system, code=c, name=n, source=path.name)
             for c, n in codes.items() if c not in existing],
            batch_size=2000,
        )  # fmt: skip
        changed = [
            DiagnosisCode(system=system, code=c, name=n, source=path.name)
            for c, n in codes.items() if c in existing
        ]  # fmt: skip
        for code in changed:
            DiagnosisCode.objects.filter(system=system, code=code.code).update(
                name=code.name, source=code.source
            )
    return len(codes)


def load_default_codes() -> int:
    return sum(load_codes(DATA / "codes" / name, system) for name, system in DEFAULT_CODE_FILES)
