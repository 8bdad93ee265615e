"""The demo county: 盐池县 (640323, 吴忠市, 宁夏) with its real townships, its hospitals, one
health centre per township, community health stations, village clinics and populations."""

from __future__ import annotations

import random
from datetime import date

from xinglin.collection.actions import write_rows
from xinglin.network.actions import (
    close_orgunit,
    create_institution,
    create_user,
    import_divisions,
    move_orgunit,
    update_institution,
)
from xinglin.network.models import OrgUnit, Role
from xinglin.standards.catalogue import sync_catalogue
from xinglin.standards.models import DataElement

COUNTY = "640323"
PASSWORD = "Xinglin-2026"
# (code, name, type): county-level institutions, coded county + "000" + sequence.
COUNTY_INSTITUTIONS = [
    ("640323000001", "盐池县中医医院", "tcm_hospital"),
    ("640323000002", "盐池县人民医院", "general_hospital"),
    ("640323000003", "盐池县妇幼保健计划生育服务中心", "maternal_child_hospital"),
    ("640323000004", "盐池县残疾人康复中心", "disability_rehab_center"),
]
# The county's designated hospitals (机构定位): what "县中医医院" etc. in the packs mean.
DESIGNATIONS = {
    "640323000001": "county_tcm_hospital",
    "640323000002": "county_general_hospital",
    "640323000003": "county_mch_hospital",
}
# township code -> (residents in 2021, villages with a clinic)
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


def build(context) -> None:
    import_divisions(COUNTY)
    county = OrgUnit.objects.get(code=COUNTY)
    _institutions(county)
    _history()
    sync_catalogue()
    _populations(context.years)
    _users(context)
    count = OrgUnit.objects.filter(path__startswith=county.path, kind="institution").count()
    context.log.append(f"盐池县: {count} institutions in 9 townships")


def _add(code: str, name: str, kind: str, parent: OrgUnit, opened: date | None = None) -> None:
    if not OrgUnit.objects.filter(code=code).exists():
        create_institution(
            code=code, name=name, institution_type=kind, parent=parent, opened_on=opened
        )


def _institutions(county: OrgUnit) -> None:
    for code, name, kind in COUNTY_INSTITUTIONS:
        _add(code, name, kind, county)
        unit = OrgUnit.objects.get(code=code)
        if code in DESIGNATIONS and not unit.has_role(DESIGNATIONS[code]):
            update_institution(unit, roles=[*unit.role_list, DESIGNATIONS[code]], channel="demo")
    for township_code, (_residents, villages) in TOWNSHIPS.items():
        township = OrgUnit.objects.get(code=township_code)
        short = township.name
        if township_code == "640323001":
            _add(
                f"{township_code}001",
                f"{short}社区卫生服务中心",
                "community_health_center",
                township,
            )
            for number, station in enumerate(STATIONS, start=1):
                _add(f"{township_code}2{number:02d}", station, "community_health_station", township)
            continue
        _add(f"{township_code}001", f"盐池县{short}卫生院", "township_health_center", township)
        for number, village in enumerate(villages, start=1):
            _add(
                f"{township_code}1{number:02d}",
                f"{short}{village}卫生室",
                "village_clinic",
                township,
            )


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


def _populations(years: tuple[int, ...]) -> None:
    """residents, residents_65_plus, children_0_36_months per township and county, yearly."""
    elements = {
        e.code: e
        for e in DataElement.objects.filter(
            code__in=["residents", "residents_65_plus", "children_0_36_months"]
        )
    }
    rng = random.Random(640323)
    values = []
    county = OrgUnit.objects.get(code=COUNTY)
    totals: dict[tuple[str, int], int] = {}
    for township_code, (residents, _villages) in TOWNSHIPS.items():
        township = OrgUnit.objects.get(code=township_code)
        for offset, year in enumerate(years):
            # Rural townships shrink slowly, ageing; the county seat grows.
            trend = 1.012 if township_code in ("640323001", "640323100") else 0.992
            people = round(residents * trend**offset * rng.uniform(0.995, 1.005))
            figures = {
                "residents": people,
                "residents_65_plus": round(people * (0.128 + 0.004 * offset)),
                "children_0_36_months": round(people * (0.031 - 0.001 * offset)),
            }
            for code, figure in figures.items():
                values.append((elements[code], township, str(year), float(figure)))
                totals[(code, year)] = totals.get((code, year), 0) + figure
    for (code, year), figure in totals.items():
        values.append((elements[code], county, str(year), float(figure)))
    write_rows(values)


def _users(context) -> None:
    people = [
        ("bureau", Role.BUREAU_ADMIN, COUNTY, "", "马卫东（县卫健局中医股）"),
        ("huamachi", Role.TOWNSHIP_SUPERVISOR, "640323100", "", "李静（花马池镇）"),
        ("dashuikeng", Role.TOWNSHIP_SUPERVISOR, "640323101", "", "王芳（大水坑镇）"),
        ("hmc-clerk", Role.INSTITUTION_CLERK, "640323100001", "", "张丽（花马池镇卫生院）"),
        ("village-clerk", Role.INSTITUTION_CLERK, "640323100101", "", "刘强（北塘新村卫生室）"),
        ("wuzhong", Role.VIEWER, "6403", "", "吴忠市卫健委"),
        ("education", Role.DEPARTMENT_LIAISON, COUNTY, "education_sports", "县教体局联络员"),
    ]
    for username, role, code, department, name in people:
        create_user(
            username,
            PASSWORD,
            role=role,
            orgunit=OrgUnit.objects.get(code=code),
            department=department,
            full_name=name,
        )
        context.logins.append((username, PASSWORD, str(role.label)))
