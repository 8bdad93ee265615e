"""Demo figures for every place (issue 19), for the years its document covers: every element
its institutions report, monthly visits, delivered techniques and the county surveys.
Deterministic (seeded per institution and element) with real progress and real gaps, so that
each place's scorecard tells its own story:

- 盐池县: TCM visit share of the health centres rises from about 30% to about 38%;
  麻黄山乡卫生院 (640323201001) stays short on appropriate techniques (5 categories, 8 items);
  青山乡卫生院 (640323202001) gets its TCM hall only in 2025; three village clinics never
  provide TCM services; surveys, EMR level and rehabilitation beds reach their targets
  part-way through the plan.
- 中宁县 is the strongest of 中卫's counties, 海原县 the weakest (a lower TCM share, clinics
  without TCM services, health centres short on techniques, its TCM hospital graded 二级甲等
  only from 2024); the city's TCM hospital becomes 三级甲等 in 2024.
- 回民区 and 雁江区 mostly meet their targets with one or two gaps; 屯留区 sits in between.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from xinglin.collection.actions import write_rows
from xinglin.collection.models import DeliveredTechnique
from xinglin.demo import YANCHI, DemoContext
from xinglin.network import opening
from xinglin.network.models import OrgUnit
from xinglin.standards import operands
from xinglin.standards.models import DataElement, TechniqueCategory

HEALTH_CENTRES = ("community_health_center", "township_health_center")
CLINICS = ("community_health_station", "village_clinic")
FIRST_YEAR = 2021  # offsets count from here, whatever year a place's data begin


@dataclass(frozen=True)
class Story:
    shift: float  # added to TCM shares and to the chance of having a facility
    no_services: int  # clinics that never provide TCM services
    short: int  # health centres short on appropriate techniques
    late_hall: int  # health centres that get a TCM hall only in 2025
    grade_from: int = 2021  # the year the county TCM hospital is 二级甲等 (23)
    hall_year: int = 2025  # the year the late health centres get their TCM hall
    counts: dict = field(default_factory=dict)  # element -> (2021, 2025) replacing COUNTS


STORIES = {
    # the rehabilitation plan's talent gap: far fewer bachelor recruits than its 10
    YANCHI: Story(0.0, 3, 1, 1, counts={"bachelor_recruits_rehab": (2, 7)}),
    "150103": Story(0.05, 1, 0, 0),
    "140405": Story(-0.03, 2, 1, 1, hall_year=2026),
    "512002": Story(0.05, 0, 1, 0),
    "640502": Story(0.02, 5, 1, 0),
    "640521": Story(0.06, 0, 0, 0),
    "640522": Story(-0.06, 10, 2, 2, grade_from=2024, hall_year=2026),
}
CITY_STORY = Story(0.03, 0, 0, 0)
# 盐池县's named gaps (the user guides and tests point at them)
YANCHI_SPECIAL = {
    "short": {"640323201001"},  # 麻黄山乡卫生院
    "late_hall": {"640323202001"},  # 青山乡卫生院
    "no_services": {"640323203101", "640323201102", "640323103104"},
}
# monthly visits by institution type
VISITS = {
    "tcm_hospital": 9000, "general_hospital": 15000, "maternal_child_hospital": 3500,
    "community_health_center": 3200, "township_health_center": 2100,
    "community_health_station": 450, "village_clinic": 260, "tcm_clinic": 600,
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


@dataclass
class Specials:
    """The institutions of a county that carry its gaps."""

    short: set[str] = field(default_factory=set)
    late_hall: set[str] = field(default_factory=set)
    no_services: set[str] = field(default_factory=set)


def build(context: DemoContext) -> None:
    elements = {e.code: e for e in DataElement.objects.all()}
    added = changed = techniques = 0
    for place in context.places:
        root = OrgUnit.objects.get(code=place.root)
        institutions = list(
            OrgUnit.objects.filter(path__startswith=root.path, kind="institution").order_by("code")
        )
        specials = {county: _specials(county, institutions) for county in place.counties}
        values = []
        for year in place.years:
            offset = year - FIRST_YEAR
            for unit in institutions:
                if not _open_in(unit, year):
                    continue
                story, special = _story(unit), specials.get(unit.code[:6], Specials())
                values += _visits(unit, year, offset, elements, story, special)
                values += _yearly(unit, year, offset, elements, story, special)
            for county in place.counties:
                values += _county(OrgUnit.objects.get(code=county), year, offset, elements)
        result = write_rows(values)
        added, changed = added + result.added, changed + result.changed
        techniques += _techniques(institutions, place.years, specials)
    context.log.append(
        f"evaluation: {added} values added, {changed} changed, {techniques} techniques delivered"
    )


def _story(unit: OrgUnit) -> Story:
    return STORIES.get(unit.code[:6], CITY_STORY)


def _specials(county: str, institutions: list[OrgUnit]) -> Specials:
    if county == YANCHI:
        return Specials(**{k: set(v) for k, v in YANCHI_SPECIAL.items()})
    story = STORIES[county]
    rng = _rng(county, "specials")
    centres = [u.code for u in institutions if u.code.startswith(county)
               and u.institution_type in HEALTH_CENTRES]  # fmt: skip
    clinics = [u.code for u in institutions if u.code.startswith(county)
               and u.institution_type in CLINICS]  # fmt: skip
    gaps = rng.sample(centres, min(story.short + story.late_hall, len(centres)))
    return Specials(
        short=set(gaps[: story.short]),
        late_hall=set(gaps[story.short :]),
        no_services=set(rng.sample(clinics, min(story.no_services, len(clinics)))),
    )


def _open_in(unit: OrgUnit, year: int) -> bool:
    return opening.is_open_during(unit, date(year, 1, 1), date(year, 12, 31))


def _rng(*parts) -> random.Random:
    return random.Random(":".join(str(p) for p in parts))


def _visits(unit: OrgUnit, year: int, offset: int, elements, story: Story, special) -> list:
    base = VISITS.get(unit.institution_type)
    if base is None:
        return []
    share = {"tcm_hospital": 0.68, "general_hospital": 0.07, "maternal_child_hospital": 0.1,
             "tcm_clinic": 0.95}.get(unit.institution_type, 0.30 + 0.02 * offset + story.shift)  # fmt: skip
    share += _rng(unit.code, "share").uniform(-0.035, 0.035)
    if unit.code in special.short:
        share -= 0.06
    if unit.code in special.no_services:
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


def _yearly(unit: OrgUnit, year: int, offset: int, elements, story: Story, special) -> list:
    rows = []
    for code, element in elements.items():
        if element.level != "institution" or element.period_type != "yearly":
            continue
        if unit.institution_type not in element.institution_types:
            continue
        value = _value(code, element.value_type, unit, offset, story, special)
        if value is not None:
            # exact at the element's precision: counts are whole numbers
            value = float(round(value)) if element.value_type == "integer" else float(value)
            if element.categories:  # reported by sex (decision 0013): the total split
                rows += _by_sex(element, unit, str(year), value)
                continue
            rows.append((element, unit, str(year), value))
    return rows


# The women's share of a key population's total, for the demo's split by sex: more women
# than men among residents 65+, slightly fewer girls than boys among young children.
WOMEN_SHARE = {"elderly_tcm_managed": 0.53, "children_tcm_managed": 0.48}


def _by_sex(element, unit: OrgUnit, period: str, total: float) -> list:
    women = float(round(total * WOMEN_SHARE.get(element.code, 0.5)))
    return [
        (operands.Operand(element, "F"), unit, period, women),
        (operands.Operand(element, "M"), unit, period, total - women),
    ]


def _value(code: str, value_type: str, unit: OrgUnit, offset: int, story, special) -> float | None:
    kind, rng = unit.institution_type, _rng(unit.code, code, offset)
    found = _special(code, unit, kind, offset, rng, story, special)
    if found is not None:
        return found
    if value_type == "boolean":
        # each institution has its own year of getting there, so progress is monotone
        chance = 0.72 + 0.07 * offset + story.shift
        return 1.0 if _rng(unit.code, code).random() < chance else 0.0
    if value_type == "percent":
        return round(0.12 + 0.01 * offset + story.shift / 2 + rng.uniform(-0.02, 0.02), 3)
    low, high = story.counts.get(code) or COUNTS.get(code, (0, 3))
    return max(0, round(low + (high - low) * offset / 4 + rng.uniform(-1, 1)))


def _special(code, unit: OrgUnit, kind: str, offset: int, rng, story, special) -> float | None:
    if code == "provides_tcm_services":
        return 0.0 if unit.code in special.no_services else 1.0
    if code == "has_tcm_hall":
        return (
            float(FIRST_YEAR + offset >= story.hall_year) if unit.code in special.late_hall else 1.0
        )
    if code == "has_tcm_corner":
        return 1.0 if _rng(unit.code, code).random() < 0.05 * offset + story.shift else 0.0
    if code == "hospital_grade":
        return _grade(unit, kind, offset, story)
    if code == "emr_level":
        return 4.0 if kind == "tcm_hospital" and offset >= 2 else 3.0
    if code == "rehab_beds":
        return {"tcm_hospital": 30 + 4 * offset, "disability_rehab_center": 20}.get(kind, 6)
    if code == "has_standard_rehab_department":
        return float(offset >= (1 if kind == "tcm_hospital" else 4))
    if code in ("physicians", "tcm_physicians", "tcm_staff", "tcm_general_practitioners",
                "registered_nurses"):  # fmt: skip
        return _staff(code, unit, kind, offset, special)
    if code == "beds":  # seeds/001 item 22: beds per 1,000 residents
        beds = {"tcm_hospital": 180, "general_hospital": 360, "maternal_child_hospital": 60,
                "community_health_center": 30, "township_health_center": 20,
                "disability_rehab_center": 40}.get(kind, 0)  # fmt: skip
        return float(beds + (10 * offset if kind in ("tcm_hospital", "general_hospital") else 0))
    if code == "public_health_staff":
        return {"tcm_hospital": 6.0, "general_hospital": 10.0, "maternal_child_hospital": 8.0,
                "community_health_center": 6.0, "township_health_center": 4.0}.get(kind)  # fmt: skip
    if code in ("elderly_tcm_managed", "children_tcm_managed", "alliance_population_covered"):
        return _managed(code, unit, kind, offset, story)
    if code == "health_education_tcm":
        return round(12 * (0.44 + 0.03 * offset + rng.uniform(-0.05, 0.05)))
    if code == "health_education_attendees":
        return 600.0 if kind in HEALTH_CENTRES else 120.0
    if code == "health_education_tcm_attendees":
        total = 600.0 if kind in HEALTH_CENTRES else 120.0
        return round(total * (0.46 + 0.03 * offset + rng.uniform(-0.03, 0.03)))
    return None


def _grade(unit: OrgUnit, kind: str, offset: int, story: Story) -> float:
    """Hospital grade codes (三级甲等 = 33, 二级甲等 = 23, 二级乙等 = 22)."""
    if "city_tcm_hospital" in unit.roles:
        return 33.0 if offset >= 3 else 32.0  # the city's TCM hospital: 三级甲等 from 2024
    if unit.ownership == "private":
        return 21.0
    if kind == "tcm_hospital":
        return 23.0 if FIRST_YEAR + offset >= story.grade_from else 22.0
    return 23.0 if kind == "general_hospital" else 22.0


def _staff(code: str, unit: OrgUnit, kind: str, offset: int, special: Specials) -> float:
    physicians = {"tcm_hospital": 86, "general_hospital": 140, "maternal_child_hospital": 30,
                  "community_health_center": 22, "township_health_center": 14,
                  "tcm_clinic": 3}.get(kind, 1)  # fmt: skip
    tcm_share = {"tcm_hospital": 0.7, "general_hospital": 0.08, "tcm_clinic": 1.0}.get(
        kind, 0.21 + 0.015 * offset
    )
    if code == "physicians":
        return float(physicians)
    if code == "registered_nurses":  # 医护比 rising towards 1:1.2 in the hospitals
        ratio = 1.0 + 0.04 * offset if kind in ("tcm_hospital", "general_hospital") else 0.8
        return float(round(physicians * ratio)) if kind not in CLINICS else 0.0
    if code == "tcm_physicians":
        if kind in CLINICS:
            return 0.0 if unit.code in special.no_services else 1.0
        return float(round(physicians * tcm_share + _rng(unit.code, code).uniform(-0.6, 0.6)))
    if code == "tcm_staff":
        return 0.0 if unit.code in special.no_services else float(max(1, round(physicians * 0.3)))
    # qualified TCM general practitioners: one per health centre as training completes
    if kind in HEALTH_CENTRES:
        return float(_rng(unit.code, code).random() < 0.55 + 0.12 * offset)
    return {"tcm_hospital": 2 + offset // 2, "general_hospital": 1}.get(kind, 0.0)


def _managed(code: str, unit: OrgUnit, kind: str, offset: int, story: Story) -> float | None:
    from xinglin.network.demo import COUNTIES, base_residents

    if code == "alliance_population_covered":
        county = COUNTIES.get(unit.code[:6])
        if kind != "tcm_hospital" or county is None or unit.ownership == "private":
            return None
        return float(round(county.residents * (0.22 + 0.04 * offset)))
    residents = base_residents(unit.parent.code) if unit.parent else None
    if kind not in HEALTH_CENTRES or residents is None:
        return None
    # populations come from the network step: roughly 13% aged 65+, 3% children 0–36 months
    people = residents * (0.13 if "elderly" in code else 0.029)
    rate = (0.66 + 0.03 * offset) if "elderly" in code else (0.79 + 0.025 * offset)
    rate += story.shift / 2
    return float(round(people * (rate + _rng(unit.code, code).uniform(-0.03, 0.03))))


def _county(county: OrgUnit, year: int, offset: int, elements) -> list:
    rows = []
    shift = STORIES.get(county.code, CITY_STORY).shift / 2
    for (respondents, positive), (first, last) in SURVEYS.items():
        rate = first + (last - first) * offset / 4 + shift
        key = (positive, year) if county.code == YANCHI else (positive, county.code, year)
        rate += _rng(*key).uniform(-0.01, 0.01)
        rows += [
            (elements[respondents], county, str(year), 400.0),
            (elements[positive], county, str(year), float(round(400 * min(rate, 0.99)))),
        ]
    return rows


def _techniques(institutions: list[OrgUnit], years, specials: dict[str, Specials]) -> int:
    categories = [list(c.items.order_by("code")) for c in TechniqueCategory.objects.all()]
    rows = []
    for year in years:
        offset = year - FIRST_YEAR
        for unit in institutions:
            special = specials.get(unit.code[:6], Specials())
            if not _open_in(unit, year) or unit.code in special.no_services:
                continue
            wanted = _technique_counts(unit, offset, special)
            if wanted is None:
                continue
            for item in _pick(categories, *wanted, _rng(unit.code, "techniques")):
                rows.append(DeliveredTechnique(orgunit=unit, period=str(year), item=item))
    DeliveredTechnique.objects.bulk_create(rows, ignore_conflicts=True, batch_size=5000)
    return len(rows)


def _technique_counts(unit: OrgUnit, offset: int, special: Specials) -> tuple[int, int] | None:
    if unit.code in special.short:
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
