"""Demo registers for the places whose documents ask for them: 回民区 (seeds/001: complaints,
training), 中卫市 (seeds/003: counterpart support, remote consultations), 雁江区 (seeds/004: 七进
outreach, herb cultivation, TCM clinic filings and practitioner registrations) and 盐池县
(seeds/000: 五进 outreach; the county hospital's support of 惠安堡镇 and 王乐井乡). Figures mostly
meet the documents, not entirely, so each indicator has something true to show. Re-runnable:
a place's records are replaced."""

from __future__ import annotations

import random
from datetime import date, timedelta

from xinglin.network.models import Kind, OrgUnit
from xinglin.registers.actions import add_records
from xinglin.registers.models import (
    ClinicFiling,
    Complaint,
    HerbCultivation,
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
    steps = {"huimin": _huimin, "zhongwei": _zhongwei, "yanjiang": _yanjiang, "yanchi": _yanchi}
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
    return {"complaints": add_records(REGISTERS["complaints"], complaints, channel=CHANNEL),
            "training": add_records(REGISTERS["training"], trainings, channel=CHANNEL)}  # fmt: skip


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
            "clinics": add_records(REGISTERS["clinics"], _filings(root, years), channel=CHANNEL)}  # fmt: skip


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
    return {"outreach": add_records(REGISTERS["outreach"], events, channel=CHANNEL),
            "support": add_records(REGISTERS["support"], pairs, channel=CHANNEL) if hospital else 0}  # fmt: skip
