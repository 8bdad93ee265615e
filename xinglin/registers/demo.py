"""Demo registers for the places whose documents ask for them: 回民区 (seeds/001: complaints,
training — with the health centres' staff trained each year —, key populations' TCM health
management, family-doctor contracts), 中卫市 (seeds/003: counterpart support, remote
consultations), 雁江区 (seeds/004: 七进 outreach, herb cultivation, TCM clinic filings and
practitioner registrations, key populations, family-doctor contracts), 盐池县 (seeds/000: 五进
outreach; the county hospital's support of 惠安堡镇 and 王乐井乡; TCM rehabilitation in its
elderly care home and children's welfare home) and 屯留区 (seeds/002: TCM rehabilitation in its
special education school and civil-affairs rehabilitation centre). The care homes and schools
are added here when missing: the health-care network's demo has none. Figures mostly meet the
documents, not entirely, so each indicator has something true to show. Re-runnable: a place's
records are replaced."""

from __future__ import annotations

import random
from datetime import date, timedelta

from xinglin.network.actions import create_institution
from xinglin.network.models import Kind, OrgUnit
from xinglin.registers.actions import add_records
from xinglin.registers.models import (
    CareSettingRehab,
    ClinicFiling,
    Complaint,
    FamilyDoctorContracts,
    HerbCultivation,
    KeyPopulationCount,
    OutreachEvent,
    RecordChange,
    RemoteConsultation,
    SupportPair,
    Training,
)
from xinglin.registers.registry import REGISTERS

CHANNEL = "demo"
SUMMARIES = ("候诊时间长", "针灸治疗收费疑问", "希望增加中医馆开放时间", "中药代煎等候久",
             "建议开展冬病夏治", "医生解释病情不够耐心")  # fmt: skip
TRAINEES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
SETTINGS_SEVEN = ("community", "village", "family", "government", "school", "enterprise",
                  "elderly_care")  # fmt: skip
SETTINGS_FIVE = ("community", "village", "family", "government", "school")


def build(context) -> None:
    steps = {"huimin": _huimin, "zhongwei": _zhongwei, "yanjiang": _yanjiang, "yanchi": _yanchi,
             "tunliu": _tunliu}  # fmt: skip
    for place in context.places:
        if place.key in steps:
            root = OrgUnit.objects.get(code=place.root)
            _clear(root)
            counts = steps[place.key](root, [y for y in place.years if y < date.today().year + 1])
            context.log.append(f"registers {place.name}: {counts}")


def _clear(root: OrgUnit) -> None:
    for register in REGISTERS.values():
        records = register.model.objects.filter(orgunit__path__startswith=root.path)
        ids = list(records.values_list("pk", flat=True))
        RecordChange.objects.filter(register=register.code, record_id__in=ids).delete()
        records.delete()


def _centres(root: OrgUnit) -> list[OrgUnit]:
    return list(
        OrgUnit.objects.filter(path__startswith=root.path, kind=Kind.INSTITUTION,
                               institution_type__in=["township_health_center",
                                                     "community_health_center"])
        .order_by("code")
    )  # fmt: skip


def _hospital(county: OrgUnit, role: str = "county_tcm_hospital") -> OrgUnit | None:
    return (
        OrgUnit.objects.filter(path__startswith=county.path, roles__contains=role)
        .order_by("code")
        .first()
    )


def _huimin(root: OrgUnit, years: list[int]) -> dict[str, int]:
    """Complaints handled on time except one a year before 2025; training each year."""
    rng = random.Random(1501)
    centres = _centres(root)
    complaints, trainings = [], []
    for year in years:
        for n in range(8):
            received = date(year, 1 + n, 3 + n)
            handled = received + timedelta(days=10 if (n or year >= 2025) else 20)
            complaints.append(Complaint(
                orgunit=centres[n % len(centres)], kind="complaint" if n % 3 else "suggestion",
                channel=("phone", "hotline", "website")[n % 3], received_on=received,
                summary=SUMMARIES[n % len(SUMMARIES)], complainant_name=rng.choice(TRAINEES) + "先生",
                complainant_phone=f"139{rng.randrange(10**8):08d}", due_on=received + timedelta(days=15),
                verified_on=received + timedelta(days=2), handled_on=handled,
                replied_on=handled + timedelta(days=1),
                satisfaction="satisfied" if n != 5 else "unsatisfied"))  # fmt: skip
        for n, centre in enumerate(centres[:6]):
            kind = "western_doctors_tcm" if n % 2 == 0 else "tcm_knowledge"
            trainings.append(Training(
                orgunit=centre, kind=kind, course=f"{year}年{'西学中培训班' if n % 2 == 0 else '中医药知识培训'}",
                trainee=TRAINEES[(n + year) % len(TRAINEES)] + "医生", started_on=date(year, 3, 1),
                hours=120 if n % 2 == 0 else 16, completed_on=date(year, 9, 30)))  # fmt: skip
    hospital = _hospital(root)
    if hospital is not None:
        trainings.append(Training(orgunit=hospital, kind="apprenticeship", course="基层名老中医师承项目",
                                  trainee="郭医生", mentor="何主任医师", started_on=date(years[0], 1, 5)))  # fmt: skip
    trainings += _staff_training(centres, years)
    return {"complaints": add_records(REGISTERS["complaints"], complaints, channel=CHANNEL),
            "training": add_records(REGISTERS["training"], trainings, channel=CHANNEL),
            "keypop": add_records(REGISTERS["keypop"], _key_populations(root, years, ALL_POPULATIONS),
                                  channel=CHANNEL),
            "family_doctors": add_records(REGISTERS["family_doctors"], _family_doctors(root, years),
                                          channel=CHANNEL)}  # fmt: skip


def _zhongwei(root: OrgUnit, years: list[int]) -> dict[str, int]:
    """Each TCM hospital supports four centres a year; 海原县's only two in 2024."""
    pairs = []
    hospitals = [h for c in OrgUnit.objects.filter(parent=root, kind=Kind.DIVISION).order_by("code")
                 if (h := _hospital(c)) is not None]  # fmt: skip
    remote = []
    for hospital in hospitals:
        county = hospital.parent
        centres = _centres(county)
        for year in years:
            count = 2 if (county.code == "640522" and year == 2024) else 4
            for centre in centres[:count]:
                pairs.append(SupportPair(orgunit=hospital, partner=centre, year=year,
                                         started_on=date(year, 3, 1), activities="坐诊带教、适宜技术培训"))  # fmt: skip
        for year in years:  # remote consultations: 海原县's hospital gives none before 2024
            if county.code == "640522" and year < 2024:
                continue
            remote += [RemoteConsultation(orgunit=hospital, partner=centres[m % len(centres)],
                                          kind=("consultation", "ecg", "imaging")[m % 3],
                                          held_on=date(year, m + 1, 12)) for m in range(6)]  # fmt: skip
    return {"support": add_records(REGISTERS["support"], pairs, channel=CHANNEL),
            "remote": add_records(REGISTERS["remote"], remote, channel=CHANNEL)}  # fmt: skip


def _outreach(root: OrgUnit, years: list[int], settings_for) -> list[OutreachEvent]:
    centres = _centres(root)
    events = []
    for year in years:
        for n, setting in enumerate(settings_for(year)):
            centre = centres[n % len(centres)]
            events.append(OutreachEvent(orgunit=centre, setting=setting, topic="中医药文化知识宣传",
                                        held_on=date(year, 3 + n, 10), place=centre.parent.name,
                                        attendance=60 + 5 * n))  # fmt: skip
    return events


def _yanjiang(root: OrgUnit, years: list[int]) -> dict[str, int]:
    """七进: all seven settings, except 2023 without enterprises."""

    def settings(year):
        return [s for s in SETTINGS_SEVEN if not (year == 2023 and s == "enterprise")]

    # herbs: area and output grow every year but 2024's output (a hail year, say)
    herbs = [HerbCultivation(orgunit=root, year=y, herb=herb, area_mu=base + 100 * (y - 2021),
                             output_value=round((base // 4 + 20 * (y - 2021)) * (0.8 if y == 2024 else 1), 1))
             for y in years for herb, base in (("川芎", 1200), ("白芷", 800))]  # fmt: skip
    return {"outreach": add_records(REGISTERS["outreach"], _outreach(root, years, settings),
                                    channel=CHANNEL),
            "herbs": add_records(REGISTERS["herbs"], herbs, channel=CHANNEL),
            "clinics": add_records(REGISTERS["clinics"], _filings(root, years), channel=CHANNEL),
            "keypop": add_records(REGISTERS["keypop"], _key_populations(root, years, SEEDS_004_POPULATIONS),
                                  channel=CHANNEL),
            "family_doctors": add_records(REGISTERS["family_doctors"], _family_doctors(root, years),
                                          channel=CHANNEL)}  # fmt: skip


def _filings(root: OrgUnit, years: list[int]) -> list[ClinicFiling]:
    """Each year three clinic filings and two practitioner registrations (seeds/004 六(十八)):
    most decided within a month, one clinic refused, the year's last one still under review."""
    towns = list(OrgUnit.objects.filter(parent=root, kind=Kind.DIVISION).order_by("code")[:5])
    filings = []
    for year in years:
        for n, town in enumerate(towns):
            filed = date(year, 2 + 2 * n, 6)
            clinic = n < 3
            status = "refused" if n == 1 else ("filed" if clinic else "registered")
            last = n == len(towns) - 1 and year == years[-1]
            filings.append(ClinicFiling(
                orgunit=town, kind="clinic" if clinic else "practitioner",
                name=f"{town.name}{'杏林中医诊所' if clinic else TRAINEES[(n + year) % len(TRAINEES)] + '某'}",
                filed_on=filed, status="pending" if last else status,
                decided_on=None if last else filed + timedelta(days=25)))  # fmt: skip
    return filings


def _yanchi(root: OrgUnit, years: list[int]) -> dict[str, int]:
    """五进 each year from 2022; the county TCM hospital supports 惠安堡镇 and 王乐井乡 (seeds/000
    三(一)3) and two more centres."""
    events = _outreach(root, [y for y in years if y >= 2022], lambda year: SETTINGS_FIVE)
    hospital = _hospital(root)
    named = list(OrgUnit.objects.filter(parent__name__in=["惠安堡镇", "王乐井乡"], kind=Kind.INSTITUTION,
                                        institution_type="township_health_center"))  # fmt: skip
    others = [c for c in _centres(root) if c not in named][:2]
    pairs = [SupportPair(orgunit=hospital, partner=c, year=y, started_on=date(y, 4, 1),
                         activities="中医康复特色科室建设帮扶") for y in years for c in named + others]  # fmt: skip
    homes = _care_homes(root, (("005", "盐池县老年养护院", "elderly_care_home"),
                               ("006", "盐池县儿童福利院", "children_welfare_home")))  # fmt: skip
    # the care home from 2022, the children's welfare home only from 2024
    rehab = [CareSettingRehab(orgunit=home, year=y, provider=hospital.name if hospital else "县中医医院",
                              services="针灸、推拿、艾灸" if home.institution_type == "elderly_care_home"
                              else "小儿推拿、穴位贴敷", people_served=40 + 10 * (y - 2022))
             for home in homes for y in years
             if y >= (2022 if home.institution_type == "elderly_care_home" else 2024)]  # fmt: skip
    return {"outreach": add_records(REGISTERS["outreach"], events, channel=CHANNEL),
            "support": add_records(REGISTERS["support"], pairs, channel=CHANNEL) if hospital else 0,
            "care_rehab": add_records(REGISTERS["care_rehab"], rehab, channel=CHANNEL)}  # fmt: skip


def _tunliu(root: OrgUnit, years: list[int]) -> dict[str, int]:
    """seeds/002 三(三): the district TCM hospital guides TCM rehabilitation in the special
    education school from 2022 and in the civil-affairs rehabilitation centre from 2024."""
    hospital = _hospital(root)
    homes = _care_homes(root, (("004", "屯留区特殊教育学校", "special_education_school"),
                               ("005", "屯留区民政康复中心", "civil_affairs_rehab_center")))  # fmt: skip
    first = {"special_education_school": 2022, "civil_affairs_rehab_center": 2024}
    rehab = [CareSettingRehab(orgunit=home, year=y, provider=hospital.name if hospital else "区中医医院",
                              services="推拿、康复训练指导", people_served=25 + 5 * (y - 2022))
             for home in homes for y in years if y >= first[home.institution_type]]  # fmt: skip
    return {"care_rehab": add_records(REGISTERS["care_rehab"], rehab, channel=CHANNEL)}


def _care_homes(county: OrgUnit, homes) -> list[OrgUnit]:
    """The county's care homes and schools the documents name (added when missing), numbered
    after its hospitals (county code + "000" + number)."""
    found = []
    for number, name, kind in homes:
        code = f"{county.code}000{number}"
        unit = OrgUnit.objects.filter(code=code).first()
        if unit is None:
            unit = create_institution(code=code, name=name, institution_type=kind, parent=county)
        found.append(unit)
    return found


# the key populations each document names: seeds/001 三(五)30 all six; seeds/004 二(六) 孕产妇,
# 高血压, 糖尿病, 脑卒中 (its 肿瘤 is no population of the register)
ALL_POPULATIONS = ("maternal", "hypertension", "diabetes", "coronary", "stroke", "copd")
SEEDS_004_POPULATIONS = ("maternal", "hypertension", "diabetes", "stroke")
# per population: people under management per resident, and the share receiving TCM health
# management in the first year (rising five points a year) — demo figures of the right size
POPULATION_SIZES = {"maternal": (0.009, 0.42), "hypertension": (0.075, 0.36),
                    "diabetes": (0.028, 0.33), "coronary": (0.012, 0.3), "stroke": (0.008, 0.38),
                    "copd": (0.007, 0.28)}  # fmt: skip


def _residents(centre: OrgUnit) -> int:
    from xinglin.network.demo import base_residents

    return (base_residents(centre.parent.code) if centre.parent else None) or 20000


def _key_populations(root: OrgUnit, years: list[int], populations) -> list[KeyPopulationCount]:
    rng = random.Random(f"keypop{root.code}")
    records = []
    for centre in _centres(root):
        residents = _residents(centre)
        for offset, year in enumerate(years):
            for population in populations:
                size, share = POPULATION_SIZES[population]
                managed = round(residents * size * rng.uniform(0.9, 1.1))
                tcm = round(managed * min(0.95, share + 0.05 * offset + rng.uniform(-0.03, 0.03)))
                records.append(KeyPopulationCount(orgunit=centre, year=year, population=population,
                                                  managed=managed, tcm_managed=tcm))  # fmt: skip
    return records


def _family_doctors(root: OrgUnit, years: list[int]) -> list[FamilyDoctorContracts]:
    """The health centres' teams, a third of their residents signed and a rising share of them
    to a TCM package; the county TCM hospital's experts in teams of their own."""
    records = []
    hospital = _hospital(root)
    for offset, year in enumerate(years):
        for n, centre in enumerate(_centres(root)):
            signed = round(_residents(centre) * (0.3 + 0.02 * offset))
            teams = max(2, signed // 2000)
            records.append(FamilyDoctorContracts(
                orgunit=centre, year=year, signed=signed,
                tcm_signed=round(signed * (0.18 + 0.05 * offset)), teams=teams,
                tcm_teams=0 if (n % 3 == 2 and offset == 0) else max(1, teams // 2)))  # fmt: skip
        if hospital is not None:
            records.append(FamilyDoctorContracts(orgunit=hospital, year=year, signed=1500 + 200 * offset,
                                                 tcm_signed=1500 + 200 * offset, teams=2, tcm_teams=2))  # fmt: skip
    return records


# staff of a health centre (licensed physicians and registered nurses, as the figures step has
# them) and the share of them who complete a TCM training each year, from the first year
STAFF = {"community_health_center": 40, "township_health_center": 25}
TRAINED_SHARE = (0.2, 0.3, 0.4, 0.45)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华慧建"


def _staff_training(centres: list[OrgUnit], years: list[int]) -> list[Training]:
    """seeds/001 三(四)24: each health centre's staff in 中医药知识 and 适宜技术 courses, a larger
    share each year — one record per trainee, each a different person within a centre."""
    records = []
    for offset, year in enumerate(years):
        share = TRAINED_SHARE[min(offset, len(TRAINED_SHARE) - 1)]
        for centre in centres:
            for k in range(round(STAFF.get(centre.institution_type, 1) * share)):
                name = TRAINEES[k % len(TRAINEES)] + GIVEN[(k // len(TRAINEES) + year) % len(GIVEN)]
                knowledge = k % 2 == 0
                records.append(Training(
                    orgunit=centre, kind="tcm_knowledge" if knowledge else "technique_promotion",
                    course=f"{year}年{'基层中医药知识培训' if knowledge else '中医适宜技术推广培训'}",
                    trainee=name, started_on=date(year, 4, 8), hours=16,
                    completed_on=date(year, 4, 10)))  # fmt: skip
    return records
