"""Demo: each place's own text for the annual summary of the last complete year and, for its
plan that has ended, the final evaluation (issue 19), plus 盐池县's typical case. Each text
speaks of the place's own programme only. Re-runnable: texts are set, the case is matched by
its title."""

from __future__ import annotations

from django.utils import timezone

from xinglin.demo import DemoContext
from xinglin.documents.actions import save_narratives, save_typical_case
from xinglin.documents.models import ReportKind, TypicalCase
from xinglin.network.models import OrgUnit

# place key -> (document number, work done, achievements, problems, next steps, mechanisms)
ANNUAL = {
    "yanchi": (
        "盐卫健发〔{year}〕36号",
        (
            "{year}年，县卫健局会同教体局、医保局、残联，按照《盐池县中医药康复服务能力提升工程实施方案"
            "（2021-2025年）》，召开中医药工作联席会议2次，开展基层中医药适宜技术培训6期。"
        ),
        "县中医医院康复医学科完成标准化建设，乡镇卫生院中医馆基本实现全覆盖。",
        "部分村卫生室中医药服务能力仍然薄弱，中医类别全科医生数量不足。",
        "针对未达标指标逐项制定整改措施，明确责任单位和完成时限；加强村医中医药适宜技术培训。",
        "建立中医药工作联席会议制度和年度考核制度，将中医药工作纳入乡镇卫生院绩效考核。",
    ),
    "huimin": (
        "回卫健发〔{year}〕12号",
        (
            "{year}年，区卫生健康委按照《回民区创建全国基层中医药工作示范县（区）推进方案》，"
            "对照建设标准逐项整改，巩固创建成果。"
        ),
        "社区卫生服务中心中医馆全部建成，中医药服务覆盖全部街道。",
        "个别社区卫生服务站中医药服务尚未开展，部分佐证材料仍在审核。",
        "完成剩余佐证材料补充，推动社区卫生服务站中医阁建设。",
        "区创建工作领导小组定期调度，各成员单位按职责分工推进。",
    ),
    "tunliu": (
        "屯卫体发〔{year}〕8号",
        (
            "{year}年，区卫体局按照《长治市屯留区中医药健康服务发展规划（2021-2025年）》，"
            "推进中医药健康服务体系建设。"
        ),
        "区中医医院服务能力稳步提升，乡镇卫生院中医药服务持续扩面。",
        "部分乡镇卫生院适宜技术开展不足，个别村卫生室未提供中医药服务。",
        "对照规划目标开展终期评估，谋划下一周期中医药健康服务发展。",
        "建立规划实施监测评估机制，年度通报各乡镇进展。",
    ),
    "zhongwei": (
        "卫卫发〔{year}〕21号",
        (
            "{year}年，市卫健委会同发改、教育、科技、人社、市场监管、医保等部门，按照《中卫市中医药"
            "服务能力提升行动实施方案（2021-2025年）》，督促沙坡头区、中宁县、海原县落实年度目标。"
        ),
        "市中医医院创建三级甲等中医医院，中宁县各项指标走在全市前列。",
        "海原县基层中医药服务能力仍然薄弱，县中医医院等级评审进展滞后。",
        "对海原县开展专项帮扶，组织市中医医院专家下沉坐诊。",
        "建立市县两级中医药工作考核制度，年度通报各县（区）进展。",
    ),
    "yanjiang": (
        "雁卫健发〔{year}〕15号",
        (
            "{year}年，区创建全国基层中医药工作示范县工作领导小组办公室按照《资阳市雁江区2023年"
            "中医药工作要点》，持续巩固基层中医药服务。"
        ),
        "镇卫生院中医馆全覆盖，中医药健康管理率稳步提高。",
        "个别镇卫生院适宜技术种类不足。",
        "继续推广中医药适宜技术，完善县域中医药服务网络。",
        "领导小组办公室按季度调度工作要点落实情况。",
    ),
}
SECTIONS = ("document_number", "work_done", "achievements", "problems", "next_steps", "mechanisms")
FINAL = {
    "yanchi": ("2021年以来，全县按照实施方案确定的目标任务，持续推进中医药康复服务能力提升工程。",
               "中医康复专业人才缺口较大，基层康复设备配置不均衡。",
               "巩固提升工程成果，完善县域中医康复服务网络。"),
    "tunliu": ("2021年以来，全区按照发展规划推进中医药健康服务，各专栏项目总体完成。",
               "部分乡镇中医药服务能力仍不均衡。",
               "编制下一周期中医药发展规划，补齐乡村短板。"),
    "zhongwei": ("2021年以来，全市按照行动方案推进中医药服务能力提升，三县（区）总体达到目标。",
                 "县域之间发展不平衡，海原县差距明显。",
                 "建立市级统筹、县级落实的长效机制，持续帮扶薄弱县。"),
}  # fmt: skip
CASE_TITLE = "花马池镇卫生院中医馆带动村级中医药服务"
CASE_BODY = (
    "花马池镇卫生院建成标准化中医馆，开展针刺、艾灸、拔罐等适宜技术12项，"
    "每周派中医师到村卫生室坐诊，带教村医掌握4类6项适宜技术。\n"
    "2025年全镇中医诊疗人次占比较2021年明显提高，群众在家门口即可享受中医药服务。"
)


# The year a place's summary speaks of: the last complete year, or the last year of its
# document when that ended earlier (回民区's plan ends in 2024, 雁江区's work points are 2023's).
DOCUMENT_LAST_YEAR = {"huimin": 2024, "yanjiang": 2023}


def last_complete_year() -> int:
    return timezone.localdate().year - 1


def build(context: DemoContext) -> None:
    for place in context.places:
        root = OrgUnit.objects.get(code=place.root)
        year = min(last_complete_year(), DOCUMENT_LAST_YEAR.get(place.key, max(place.years)))
        texts = [t.format(year=year) for t in ANNUAL[place.key]]
        save_narratives(root, year, ReportKind.ANNUAL, dict(zip(SECTIONS, texts, strict=True)))
        if place.key in FINAL:
            final = dict(zip(("overview", "problems", "next_steps"), FINAL[place.key], strict=True))
            save_narratives(root, year, ReportKind.FINAL, final)
        if place.key == "yanchi":
            case = TypicalCase.objects.filter(orgunit=root, year=year, title=CASE_TITLE).first()
            save_typical_case(root, year, CASE_TITLE, CASE_BODY, case=case)
        context.log.append(f"documents: {place.name} {year} narratives")
