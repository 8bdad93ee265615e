"""The demo's places (issue 19): each seed's own jurisdiction from the real division codes
(network/data/divisions) — 盐池县 640323 (吴忠市), 回民区 150103 (呼和浩特市), 屯留区 140405
(长治市), 中卫市 6405 with 沙坡头区, 中宁县 and 海原县, 雁江区 512002 (资阳市) — with the county
hospitals and their designations, a health centre per real township (community health centre for
a 街道, township health centre for a 镇 or 乡), community health stations, village clinics,
populations per township and the users of each place.

盐池县 keeps its named villages and the logins that tests and the user guides use. Elsewhere the
village clinics are numbered (the division data stop at townships), and populations are demo
figures of the right size, not official statistics."""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from datetime import date

from xinglin.collection.actions import write_rows
from xinglin.demo import REGION, YANCHI, DemoContext, Place
from xinglin.network.actions import (
    close_orgunit,
    create_institution,
    create_user,
    import_divisions,
    move_orgunit,
    update_institution,
)
from xinglin.network.models import BEGINNING, Kind, OrgUnit, Ownership, Role, join_roles
from xinglin.standards.catalogue import sync_catalogue
from xinglin.standards.models import DataElement

PASSWORD = "Xinglin-2026"
TCM, GENERAL, MCH = "county_tcm_hospital", "county_general_hospital", "county_mch_hospital"


@dataclass(frozen=True)
class Hospital:
    number: int  # county code + "000" + number
    name: str
    kind: str
    roles: tuple[str, ...] = ()
    ownership: str = Ownership.PUBLIC


@dataclass(frozen=True)
class County:
    code: str
    residents: int  # in the first demo year (demo figure of the right size)
    growth: float  # yearly change of the population
    hospitals: tuple[Hospital, ...]


# 盐池县: township code -> (residents in 2021, villages with a clinic)
TOWNSHIPS = {
    "640323001": (21000, []),
    "640323100": (
        58000,
        [
            "北塘新村",
            "柳杨堡村",
            "四墩子村",
            "盈德村",
            "高利乌苏村",
            "苏步井村",
            "皖记沟村",
            "李记沟村",
        ],
    ),
    "640323101": (26000, ["新泉井村", "东风村", "二道沟村", "红井子村", "宋堡子村", "摆宴井村"]),
    "640323102": (18500, ["杜记沟村", "惠安堡村", "萌城村", "隰宁堡村", "大坝村"]),
    "640323103": (12500, ["二步坑村", "大疙瘩村", "兴武营村", "施记圈村"]),
    "640323200": (12000, ["曾记畔村", "孙家楼村", "狼布掌村", "刘四渠村", "牛记圈村"]),
    "640323201": (8200, ["马儿庄村", "汪水塘村", "暴记春村", "雨强村"]),
    "640323202": (9100, ["古峰庄村", "营盘台村", "方山村", "郝记台村"]),
    "640323203": (7400, ["何新庄村", "黄羊岔村", "后洼村", "李塬畔村"]),
}
STATIONS = ["鸿丰社区卫生服务站", "振远社区卫生服务站", "团结社区卫生服务站"]
# A boundary change and a closure, so the dated tree has something to show.
MOVED_CLINIC = ("640323201104", "640323102", date(2023, 7, 1))
CLOSED_CLINIC = ("640323203104", date(2024, 12, 31))

COUNTIES = {
    YANCHI: County(YANCHI, 173000, 1.0, (
        Hospital(1, "盐池县中医医院", "tcm_hospital", (TCM,)),
        Hospital(2, "盐池县人民医院", "general_hospital", (GENERAL,)),
        Hospital(3, "盐池县妇幼保健计划生育服务中心", "maternal_child_hospital", (MCH,)),
        Hospital(4, "盐池县残疾人康复中心", "disability_rehab_center"),
    )),
    "150103": County("150103", 410000, 1.006, (
        Hospital(1, "呼和浩特市回民区中蒙医医院", "tcm_hospital", (TCM,)),
        Hospital(2, "呼和浩特市回民区人民医院", "general_hospital", (GENERAL,)),
        Hospital(3, "回民区妇幼保健计划生育服务中心", "maternal_child_hospital", (MCH,)),
        Hospital(4, "回民区仁和中医诊所", "tcm_clinic", (), Ownership.PRIVATE),
    )),
    "140405": County("140405", 242000, 0.995, (
        Hospital(1, "长治市屯留区中医医院", "tcm_hospital", (TCM,)),
        Hospital(2, "长治市屯留区人民医院", "general_hospital", (GENERAL,)),
        Hospital(3, "屯留区妇幼保健计划生育服务中心", "maternal_child_hospital", (MCH,)),
    )),
    "512002": County("512002", 830000, 0.997, (
        Hospital(1, "资阳市雁江区中医医院", "tcm_hospital", (TCM,)),
        Hospital(2, "资阳市雁江区人民医院", "general_hospital", (GENERAL,)),
        Hospital(3, "资阳市雁江区妇幼保健院", "maternal_child_hospital", (MCH,)),
        Hospital(4, "雁江区康济医院", "general_hospital", (), Ownership.PRIVATE),
    )),
    "640502": County("640502", 410000, 1.004, (
        Hospital(1, "中卫市沙坡头区中医医院", "tcm_hospital", (TCM,)),
        Hospital(2, "中卫市沙坡头区人民医院", "general_hospital", (GENERAL,)),
        Hospital(3, "沙坡头区妇幼保健计划生育服务中心", "maternal_child_hospital", (MCH,)),
    )),
    "640521": County("640521", 335000, 1.002, (
        Hospital(1, "中宁县中医医院", "tcm_hospital", (TCM,)),
        Hospital(2, "中宁县人民医院", "general_hospital", (GENERAL,)),
        Hospital(3, "中宁县妇幼保健计划生育服务中心", "maternal_child_hospital", (MCH,)),
        Hospital(4, "中宁县枸杞康复医院", "general_hospital", (), Ownership.PRIVATE),
    )),
    "640522": County("640522", 396000, 0.99, (
        Hospital(1, "海原县中医医院", "tcm_hospital", (TCM,)),
        Hospital(2, "海原县人民医院", "general_hospital", (GENERAL,)),
        Hospital(3, "海原县妇幼保健计划生育服务中心", "maternal_child_hospital", (MCH,)),
    )),
}  # fmt: skip
# The city's own hospital, judged at the city level by seeds/003 (三级甲等 中医医院).
CITY_HOSPITALS = {"6405": (Hospital(1, "中卫市中医医院", "tcm_hospital", ("city_tcm_hospital",)),)}

# (username, role, org unit, department, full name) per place; 盐池县's are those of the
# user guides and tests.
USERS = {
    "yanchi": [
        ("bureau", Role.BUREAU_ADMIN, YANCHI, "", "马卫东（县卫健局中医股）"),
        ("huamachi", Role.TOWNSHIP_SUPERVISOR, "640323100", "", "李静（花马池镇）"),
        ("dashuikeng", Role.TOWNSHIP_SUPERVISOR, "640323101", "", "王芳（大水坑镇）"),
        ("hmc-clerk", Role.INSTITUTION_CLERK, "640323100001", "", "张丽（花马池镇卫生院）"),
        ("village-clerk", Role.INSTITUTION_CLERK, "640323100101", "", "刘强（北塘新村卫生室）"),
        ("wuzhong", Role.VIEWER, "6403", "", "吴忠市卫健委"),
        ("education", Role.DEPARTMENT_LIAISON, YANCHI, "education_sports", "县教体局联络员"),
    ],
    "huimin": [
        ("huimin-bureau", Role.BUREAU_ADMIN, "150103", "", "哈斯（回民区卫健委中医科）"),
        ("huimin-supervisor", Role.TOWNSHIP_SUPERVISOR, "150103100", "", "白玉（攸攸板镇）"),
        ("huimin-clerk", Role.INSTITUTION_CLERK, "150103100001", "", "乌兰（攸攸板镇卫生院）"),
        ("huimin-yibao", Role.DEPARTMENT_LIAISON, "150103", "medical_insurance", "区医保局联络员"),
        ("hohhot", Role.VIEWER, "1501", "", "呼和浩特市卫健委"),
    ],
    "tunliu": [
        ("tunliu-bureau", Role.BUREAU_ADMIN, "140405", "", "郭建军（屯留区卫体局）"),
        ("tunliu-supervisor", Role.TOWNSHIP_SUPERVISOR, "140405102", "", "申红（渔泽镇）"),
        ("tunliu-clerk", Role.INSTITUTION_CLERK, "140405102001", "", "常丽（渔泽镇卫生院）"),
        ("tunliu-office", Role.DEPARTMENT_LIAISON, "140405", "government_office", "区政府办联络员"),
        ("changzhi", Role.VIEWER, "1404", "", "长治市卫健委"),
    ],
    "zhongwei": [
        ("zhongwei-bureau", Role.BUREAU_ADMIN, "6405", "", "杨帆（中卫市卫健委中医科）"),
        ("zhongwei", Role.VIEWER, "6405", "", "中卫市卫健委（查看）"),
        ("shapotou-bureau", Role.BUREAU_ADMIN, "640502", "", "沙坡头区卫健局"),
        ("zhongning-bureau", Role.BUREAU_ADMIN, "640521", "", "中宁县卫健局"),
        ("haiyuan-bureau", Role.BUREAU_ADMIN, "640522", "", "海原县卫健局"),
        ("haiyuan-supervisor", Role.TOWNSHIP_SUPERVISOR, "640522101", "", "马军（李旺镇）"),
        ("haiyuan-clerk", Role.INSTITUTION_CLERK, "640522101001", "", "田梅（李旺镇卫生院）"),
        ("zhongwei-fagai", Role.DEPARTMENT_LIAISON, "6405", "development_reform", "市发改委联络员"),
        ("ningxia", Role.VIEWER, REGION[0], "", "宁夏回族自治区卫健委"),
    ],
    "yanjiang": [
        ("yanjiang-bureau", Role.BUREAU_ADMIN, "512002", "", "陈思（雁江区卫健局）"),
        ("yanjiang-supervisor", Role.TOWNSHIP_SUPERVISOR, "512002110", "", "李勇（伍隍镇）"),
        ("yanjiang-clerk", Role.INSTITUTION_CLERK, "512002110001", "", "王芳（伍隍镇卫生院）"),
        ("yanjiang-office", Role.DEPARTMENT_LIAISON, "512002", "demo_county_leading_group",
         "区创建示范县领导小组办公室联络员"),
        ("ziyang", Role.VIEWER, "5120", "", "资阳市卫健委"),
    ],
}  # fmt: skip


def build(context: DemoContext) -> None:
    sync_catalogue()
    for place in context.places:
        import_divisions(place.root)  # the county, or the city with all its counties
        for code in place.counties:
            _institutions(COUNTIES[code], context.clinics_per_township)
        for number, hospital in enumerate(CITY_HOSPITALS.get(place.root, ()), start=1):
            _hospital(OrgUnit.objects.get(code=place.root), place.root + "00", hospital, number)
        if place.key == "yanchi":
            _history()
        _populations(place, context.clinics_per_township)
        _users(context, place)
        root = OrgUnit.objects.get(code=place.root)
        count = OrgUnit.objects.filter(path__startswith=root.path, kind=Kind.INSTITUTION).count()
        counties = "1 county" if len(place.counties) == 1 else f"{len(place.counties)} counties"
        context.log.append(f"{place.name}: {count} institutions in {counties}")


def townships(county: str) -> list[OrgUnit]:
    """The county's real townships that have a health centre (街道, 镇, 乡; not farms,
    development zones or service centres, whose codes are 4xx)."""
    found = OrgUnit.objects.filter(parent__code=county, kind=Kind.DIVISION).order_by("code")
    return [t for t in found if t.code[6] in "012"]


def _add(code: str, name: str, kind: str, parent: OrgUnit, opened: date | None = None) -> None:
    if not OrgUnit.objects.filter(code=code).exists():
        create_institution(
            code=code, name=name, institution_type=kind, parent=parent, opened_on=opened
        )


def _hospital(parent: OrgUnit, prefix: str, hospital: Hospital, number: int) -> None:
    code = f"{prefix}{'0' * (9 - len(prefix))}{number:03d}"
    _add(code, hospital.name, hospital.kind, parent)
    unit = OrgUnit.objects.get(code=code)
    roles = join_roles(hospital.roles)
    if (unit.roles, unit.ownership) != (roles, hospital.ownership):
        # the demo's designations hold for every year it evaluates
        update_institution(
            unit,
            roles=list(hospital.roles),
            ownership=hospital.ownership,
            channel="demo",
            valid_from=BEGINNING,
        )


def _institutions(county: County, clinics: int) -> None:
    parent = OrgUnit.objects.get(code=county.code)
    for hospital in county.hospitals:
        _hospital(parent, county.code + "000", hospital, hospital.number)
    for township in townships(county.code):
        if county.code == YANCHI:
            _yanchi_township(township)
            continue
        short = township.name
        if short.endswith("街道"):
            _add(
                f"{township.code}001",
                f"{short}社区卫生服务中心",
                "community_health_center",
                township,
            )
            for number in range(1, min(clinics, 2) + 1):
                name = f"{short}第{number}社区卫生服务站"
                _add(f"{township.code}2{number:02d}", name, "community_health_station", township)
            continue
        _add(f"{township.code}001", f"{short}卫生院", "township_health_center", township)
        for number in range(1, clinics + 1):
            name = f"{short}第{number}村卫生室"
            _add(f"{township.code}1{number:02d}", name, "village_clinic", township)


def _yanchi_township(township: OrgUnit) -> None:
    short = township.name
    if township.code == "640323001":
        _add(f"{township.code}001", f"{short}社区卫生服务中心", "community_health_center", township)
        for number, station in enumerate(STATIONS, start=1):
            _add(f"{township.code}2{number:02d}", station, "community_health_station", township)
        return
    _add(f"{township.code}001", f"盐池县{short}卫生院", "township_health_center", township)
    for number, village in enumerate(TOWNSHIPS[township.code][1], start=1):
        _add(f"{township.code}1{number:02d}", f"{short}{village}卫生室", "village_clinic", township)


def _history() -> None:
    code, new_parent, on = MOVED_CLINIC
    clinic = OrgUnit.objects.get(code=code)
    if clinic.parent.code != new_parent:
        move_orgunit(
            clinic, OrgUnit.objects.get(code=new_parent), on, reason="行政区划调整（演示）"
        )
    code, on = CLOSED_CLINIC
    clinic = OrgUnit.objects.get(code=code)
    if clinic.closed_on is None:
        close_orgunit(clinic, on)


def base_residents(township_code: str) -> int | None:
    """A township's residents in 2021 (盐池县's as listed; elsewhere the county's figure spread
    over its townships, a 街道 weighing more than a 镇 and a 镇 more than a 乡)."""
    if township_code in TOWNSHIPS:
        return TOWNSHIPS[township_code][0]
    county = COUNTIES.get(township_code[:6])
    if county is None or township_code[6] not in "012":
        return None
    weights = _weights(county.code)
    return round(county.residents * weights[township_code] / sum(weights.values()))


@functools.lru_cache(maxsize=32)
def _weights(county: str) -> dict[str, float]:
    weights = {}
    for township in townships(county):
        name = township.name
        base = 1.6 if name.endswith("街道") else 1.0 if name.endswith("镇") else 0.55
        weights[township.code] = base * random.Random(f"residents:{township.code}").uniform(
            0.7, 1.3
        )
    return weights


def _populations(place: Place, clinics: int) -> None:
    """residents, residents_65_plus, children_0_36_months per township and county, yearly."""
    elements = {
        e.code: e
        for e in DataElement.objects.filter(
            code__in=["residents", "residents_65_plus", "children_0_36_months"]
        )
    }
    values = []
    for county_code in place.counties:
        county = OrgUnit.objects.get(code=county_code)
        totals: dict[tuple[str, int], int] = {}
        for township in townships(county_code):
            for year in place.years:
                for code, figure in population(township.code, year).items():
                    values.append((elements[code], township, str(year), float(figure)))
                    totals[(code, year)] = totals.get((code, year), 0) + figure
        for (code, year), figure in totals.items():
            values.append((elements[code], county, str(year), float(figure)))
    write_rows(values)


def population(township_code: str, year: int) -> dict[str, int]:
    """The township's populations in `year` (deterministic: the same on every run)."""
    offset = year - 2021
    rng = random.Random(f"population:{township_code}:{year}")
    residents = base_residents(township_code) or 0
    if township_code[:6] == YANCHI:
        # Rural townships shrink slowly, ageing; the county seat grows.
        trend = 1.012 if township_code in ("640323001", "640323100") else 0.992
    else:
        trend = COUNTIES[township_code[:6]].growth
    people = round(residents * trend**offset * rng.uniform(0.995, 1.005))
    return {
        "residents": people,
        "residents_65_plus": round(people * (0.128 + 0.004 * offset)),
        "children_0_36_months": round(people * (0.031 - 0.001 * offset)),
    }


def _users(context: DemoContext, place: Place) -> None:
    for username, role, code, department, name in USERS[place.key]:
        unit = OrgUnit.objects.filter(code=code).first()
        if unit is None:  # a reduced build (tests) may lack the unit
            continue
        create_user(
            username, PASSWORD, role=role, orgunit=unit, department=department, full_name=name
        )
        group = REGION[1] if code == REGION[0] else place.name
        context.login(group, username, PASSWORD, str(role.label))
