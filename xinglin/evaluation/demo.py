"""Demo figures for 盐池县, 2021–2025: every element its institutions report, monthly visits,
delivered techniques and the county surveys. Deterministic (seeded per institution and element)
with real progress and real gaps, so the scorecard shows something true:

- TCM visit share of the health centres rises from about 30% to about 38%;
- 麻黄山乡卫生院 (640323201001) stays short on appropriate techniques (5 categories, 8 items);
- 青山乡卫生院 (640323202001) gets its TCM hall only in 2025;
- three village clinics never provide TCM services;
- surveys, EMR level and rehabilitation beds reach their targets part-way through the plan.
"""

from __future__ import annotations

import random

from xinglin.collection.actions import write_rows
from xinglin.collection.models import DeliveredTechnique
from xinglin.network.models import OrgUnit
from xinglin.standards.models import DataElement, TechniqueCategory

SHORT_ON_TECHNIQUES = "640323201001"
LATE_TCM_HALL = "640323202001"
NO_TCM_SERVICES = {"640323203101", "640323201102", "640323103104"}
HEALTH_CENTRES = ("community_health_center", "township_health_center")
CLINICS = ("community_health_station", "village_clinic")
# monthly visits by institution type
VISITS = {
    "tcm_hospital": 9000, "general_hospital": 15000, "maternal_child_hospital": 3500,
    "community_health_center": 3200, "township_health_center": 2100,
    "community_health_station": 450, "village_clinic": 260,
}  # fmt: skip
# (value in 2021, value in 2025) for counts, by element; health centres / hospitals scale below
COUNTS = {
    "health_education_total": (12, 14), "bulletin_board_changes": (3, 6),
    "consultation_events": (4, 7), "printed_material_kinds": (5, 8), "av_material_kinds": (2, 4),
    "health_lectures": (5, 8), "supported_grassroots_institutions": (3, 5),
    "national_key_specialties": (0, 1), "provincial_key_specialties": (1, 3),
    "municipal_key_specialties": (1, 2), "partnership_key_specialties": (0, 2),
    "tcm_preparations": (3, 6), "famous_tcm_doctors": (1, 2), "rehab_research_directions": (4, 4),
    "dominant_disease_protocols": (8, 9), "dominant_disease_pathways": (6, 9),
    "rehab_academic_outputs": (1, 3), "bachelor_recruits_rehab": (4, 16),
}  # fmt: skip
SURVEYS = {  # element pair -> rate in 2021, 2025 (400 respondents a year)
    ("satisfaction_respondents", "satisfaction_satisfied"): (0.86, 0.93),
    ("tcm_knowledge_respondents", "tcm_knowledge_aware"): (0.84, 0.91),
    ("tcm_service_awareness_respondents", "tcm_service_aware"): (0.80, 0.88),
    ("staff_policy_respondents", "staff_policy_aware"): (0.82, 0.90),
}


def build(context) -> None:
    county = OrgUnit.objects.get(code=context.county_code)
    institutions = list(
        OrgUnit.objects.filter(path__startswith=county.path, kind="institution").order_by("code")
    )
    elements = {e.code: e for e in DataElement.objects.all()}
    values = []
    for offset, year in enumerate(context.years):
        for unit in institutions:
            if not _open_in(unit, year):
                continue
            values += _visits(unit, year, offset, elements)
            values += _yearly(unit, year, offset, elements)
        values += _county(county, year, offset, elements)
    result = write_rows(values)
    techniques = _techniques(institutions, context.years)
    context.log.append(
        f"evaluation: {result.added} values added, {result.changed} changed, "
        f"{techniques} techniques delivered"
    )


def _open_in(unit: OrgUnit, year: int) -> bool:
    opened = unit.opened_on is None or unit.opened_on.year <= year
    return opened and (unit.closed_on is None or unit.closed_on.year >= year)


def _rng(*parts) -> random.Random:
    return random.Random(":".join(str(p) for p in parts))


def _visits(unit: OrgUnit, year: int, offset: int, elements) -> list:
    base = VISITS.get(unit.institution_type)
    if base is None:
        return []
    share = {"tcm_hospital": 0.68, "general_hospital": 0.07, "maternal_child_hospital": 0.1}.get(
        unit.institution_type, 0.30 + 0.02 * offset
    )
    share += _rng(unit.code, "share").uniform(-0.035, 0.035)
    if unit.code == SHORT_ON_TECHNIQUES:
        share -= 0.06
    if unit.code in NO_TCM_SERVICES:
        share = 0.0
    rows = []
    for month in range(1, 13):
        rng = _rng(unit.code, year, month)
        total = round(base * (1 + 0.03 * offset) * rng.uniform(0.85, 1.15))
        tcm = round(total * max(share + rng.uniform(-0.01, 0.01), 0))
        period = f"{year}{month:02d}"
        rows += [
            (elements["total_visits"], unit, period, float(total)),
            (elements["tcm_visits"], unit, period, float(tcm)),
        ]
    return rows


def _yearly(unit: OrgUnit, year: int, offset: int, elements) -> list:
    rows = []
    for code, element in elements.items():
        if element.level != "institution" or element.period_type != "yearly":
            continue
        if unit.institution_type not in element.institution_types:
            continue
        value = _value(code, element.value_type, unit, offset)
        if value is not None:
            rows.append((element, unit, str(year), float(value)))
    return rows


def _value(code: str, value_type: str, unit: OrgUnit, offset: int) -> float | None:
    kind, rng = unit.institution_type, _rng(unit.code, code, offset)
    special = _special(code, unit, kind, offset, rng)
    if special is not None:
        return special
    if value_type == "boolean":
        # each institution has its own year of getting there, so progress is monotone
        return 1.0 if _rng(unit.code, code).random() < 0.72 + 0.07 * offset else 0.0
    if value_type == "percent":
        return round(0.12 + 0.01 * offset + rng.uniform(-0.02, 0.02), 3)
    low, high = COUNTS.get(code, (0, 3))
    return max(0, round(low + (high - low) * offset / 4 + rng.uniform(-1, 1)))


def _special(code: str, unit: OrgUnit, kind: str, offset: int, rng) -> float | None:
    if code == "provides_tcm_services":
        return 0.0 if unit.code in NO_TCM_SERVICES else 1.0
    if code == "has_tcm_hall":
        return float(offset == 4) if unit.code == LATE_TCM_HALL else 1.0
    if code == "has_tcm_corner":
        return 1.0 if _rng(unit.code, code).random() < 0.05 * offset else 0.0
    if code == "hospital_grade":
        return {"tcm_hospital": 23.0, "general_hospital": 23.0}.get(kind, 22.0)
    if code == "emr_level":
        return 4.0 if kind == "tcm_hospital" and offset >= 2 else 3.0
    if code == "rehab_beds":
        return {"tcm_hospital": 30 + 4 * offset, "disability_rehab_center": 20}.get(kind, 6)
    if code == "has_standard_rehab_department":
        return float(offset >= (1 if kind == "tcm_hospital" else 4))
    if code in ("physicians", "tcm_physicians", "tcm_staff", "tcm_general_practitioners"):
        return _staff(code, unit, kind, offset)
    if code in ("elderly_tcm_managed", "children_tcm_managed", "alliance_population_covered"):
        return _managed(code, unit, kind, offset)
    if code == "health_education_tcm":
        return round(12 * (0.44 + 0.03 * offset + rng.uniform(-0.05, 0.05)))
    if code == "health_education_attendees":
        return 600.0 if kind in HEALTH_CENTRES else 120.0
    if code == "health_education_tcm_attendees":
        total = 600.0 if kind in HEALTH_CENTRES else 120.0
        return round(total * (0.46 + 0.03 * offset + rng.uniform(-0.03, 0.03)))
    return None


def _staff(code: str, unit: OrgUnit, kind: str, offset: int) -> float:
    physicians = {"tcm_hospital": 86, "general_hospital": 140, "maternal_child_hospital": 30,
                  "community_health_center": 22, "township_health_center": 14}.get(kind, 1)  # fmt: skip
    tcm_share = {"tcm_hospital": 0.7, "general_hospital": 0.08}.get(kind, 0.21 + 0.015 * offset)
    if code == "physicians":
        return float(physicians)
    if code == "tcm_physicians":
        if kind in CLINICS:
            return 0.0 if unit.code in NO_TCM_SERVICES else 1.0
        return float(round(physicians * tcm_share + _rng(unit.code, code).uniform(-0.6, 0.6)))
    if code == "tcm_staff":
        return 0.0 if unit.code in NO_TCM_SERVICES else float(max(1, round(physicians * 0.3)))
    # qualified TCM general practitioners: one per health centre as training completes
    if kind in HEALTH_CENTRES:
        return float(_rng(unit.code, code).random() < 0.55 + 0.12 * offset)
    return {"tcm_hospital": 2 + offset // 2, "general_hospital": 1}.get(kind, 0.0)


def _managed(code: str, unit: OrgUnit, kind: str, offset: int) -> float | None:
    residents = _township_figure(unit, "residents_65_plus" if "elderly" in code else "children")
    if code == "alliance_population_covered":
        return 173000 * (0.22 + 0.04 * offset) if kind == "tcm_hospital" else None
    if kind not in HEALTH_CENTRES or residents is None:
        return None
    rate = (0.66 + 0.03 * offset) if "elderly" in code else (0.79 + 0.025 * offset)
    return float(round(residents * (rate + _rng(unit.code, code).uniform(-0.03, 0.03))))


def _township_figure(unit: OrgUnit, what: str) -> float | None:
    # populations come from the network step: roughly 13% aged 65+, 3% children 0–36 months
    from xinglin.network.demo import TOWNSHIPS

    township = TOWNSHIPS.get(unit.parent.code if unit.parent else "")
    if township is None:
        return None
    return township[0] * (0.13 if what == "residents_65_plus" else 0.029)


def _county(county: OrgUnit, year: int, offset: int, elements) -> list:
    rows = []
    for (respondents, positive), (first, last) in SURVEYS.items():
        rate = first + (last - first) * offset / 4 + _rng(positive, year).uniform(-0.01, 0.01)
        rows += [
            (elements[respondents], county, str(year), 400.0),
            (elements[positive], county, str(year), float(round(400 * rate))),
        ]
    return rows


def _techniques(institutions: list[OrgUnit], years: tuple[int, ...]) -> int:
    categories = [list(c.items.order_by("code")) for c in TechniqueCategory.objects.all()]
    rows = []
    for offset, year in enumerate(years):
        for unit in institutions:
            if not _open_in(unit, year) or unit.code in NO_TCM_SERVICES:
                continue
            wanted = _technique_counts(unit, offset)
            if wanted is None:
                continue
            for item in _pick(categories, *wanted, _rng(unit.code, "techniques")):
                rows.append(DeliveredTechnique(orgunit=unit, period=str(year), item=item))
    DeliveredTechnique.objects.bulk_create(rows, ignore_conflicts=True, batch_size=5000)
    return len(rows)


def _technique_counts(unit: OrgUnit, offset: int) -> tuple[int, int] | None:
    if unit.code == SHORT_ON_TECHNIQUES:
        return 5, 8
    if unit.institution_type in HEALTH_CENTRES:
        return min(5 + offset, 9), 9 + 2 * offset
    if unit.institution_type in CLINICS:
        lag = int(_rng(unit.code, "lag").random() < 0.15)  # a few clinics lag a year behind
        return min(3 + max(offset - lag, 0) // 2 + 1, 6), 5 + max(offset - lag, 0)
    if unit.institution_type == "tcm_hospital":
        return 11, 40
    return None


def _pick(categories, n_categories: int, n_items: int, rng: random.Random) -> list:
    """n_items techniques spread over the first n_categories categories (stable per unit)."""
    chosen = categories[:n_categories]
    picked = [c[0] for c in chosen]
    pool = [item for c in chosen for item in c[1:]]
    rng.shuffle(pool)
    return picked + pool[: max(n_items - len(picked), 0)]
