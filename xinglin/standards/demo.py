"""Each place is judged by its own documents (issue 19): 盐池县 by its rehabilitation plan
(seeds/000), 回民区 by the national demonstration-county standard as its plan implements it
(seeds/001), 屯留区 by its health-service plan (seeds/002), 中卫市 and its three counties by
the city's capacity plan (seeds/003), 雁江区 by its 2023 work points (seeds/004). Another
place's pack adopted by an earlier demo is withdrawn, so a re-run brings the demo to this."""

from __future__ import annotations

from xinglin.demo import DemoContext, Place
from xinglin.network.models import OrgUnit
from xinglin.standards.actions import adopt, set_bureau_target, withdraw
from xinglin.standards.models import BureauTarget, PackAdoption

# The local health plan's values a bureau enters for item 22 of seeds/001 (standards.BureauTarget,
# /standards/targets/). Demo values standing in for a county's 卫生健康规划, not from the
# policy documents: 千人口床位数, 执业（助理）医师, 注册护士, 公共卫生人员 per 1,000 residents, and
# 医护比 as nurses per physician (1:1.1). Set for 盐池县 (issue 24.6) and 回民区, whose pack
# (demo-county-2022) judges against them.
TARGET_PLACES = ("yanchi", "huimin")
TARGET_SOURCE = "县（区）卫生健康规划（演示数据）"
TARGETS = {
    "beds_per_1000": 4.5,
    "physicians_per_1000": 2.6,
    "nurses_per_1000": 2.6,
    "public_health_staff_per_1000": 0.4,
    "nurses_per_physician": 1.1,
}

# The bureau's own annual targets where seeds/001 gives none (items 24, 29, 30: "加强…培训",
# "注重发挥中医药特色优势", "达到国家要求" with no figure in any seed): demo values for 回民区, as
# fractions (the page shows them as percentages), not from the policy documents.
OWN_TARGET_PLACES = ("huimin",)
OWN_TARGET_SOURCE = "区卫健委年度工作目标（演示数据）"
OWN_TARGETS = {
    "grassroots_staff_trained_share": 0.35,
    "family_doctor_tcm_package_share": 0.25,
    "maternal_tcm_management_rate": 0.5,
    "hypertension_tcm_management_rate": 0.45,
    "diabetes_tcm_management_rate": 0.45,
    "coronary_tcm_management_rate": 0.4,
    "stroke_tcm_management_rate": 0.45,
    "copd_tcm_management_rate": 0.4,
}


def build(context: DemoContext) -> None:
    for place in context.places:
        root = OrgUnit.objects.get(code=place.root)
        wanted = dict(place.packs)
        for stale in PackAdoption.objects.filter(orgunit=root).exclude(pack_code__in=wanted):
            withdraw(root, stale.pack_code)
        for code, since in place.packs:
            current = PackAdoption.objects.filter(orgunit=root, pack_code=code).first()
            if current is None or current.since != since:
                # the plan itself is loaded by the plans step, with its progress
                adopt(root, code, since, load_plan=False)
        context.log.append(f"{place.name}: judged by {', '.join(wanted)}")
        if place.key in TARGET_PLACES:
            _targets(place)
        if place.key in OWN_TARGET_PLACES:
            _targets(place, OWN_TARGETS, OWN_TARGET_SOURCE)


def _targets(
    place: Place, targets: dict[str, float] = TARGETS, source: str = TARGET_SOURCE
) -> None:
    for county in place.counties:
        unit = OrgUnit.objects.get(code=county)
        for year in place.years:
            for key, value in targets.items():
                if not BureauTarget.objects.filter(orgunit=unit, year=year, key=key).exists():
                    set_bureau_target(unit, year, key, value, source=source)
