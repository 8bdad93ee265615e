"""Demo: the county's own text for the 2025 annual summary and final evaluation, and one
typical case (re-runnable: texts are set, the case is matched by its title)."""

from __future__ import annotations

from xinglin.documents.actions import save_narratives, save_typical_case
from xinglin.documents.models import ReportKind, TypicalCase
from xinglin.network.models import OrgUnit

YEAR = 2025
ANNUAL = {
    "document_number": "盐卫健发〔2025〕36号",
    "work_done": "2025年，县卫健局会同教体局、医保局、残联，按照《盐池县中医药康复服务能力提升工程实施方案（2021-2025年）》"
    "和全国基层中医药工作示范县建设标准，召开中医药工作联席会议2次，开展基层中医药适宜技术培训6期。",
    "achievements": "县中医医院康复医学科完成标准化建设，乡镇卫生院中医馆实现全覆盖，中医药服务可及性进一步提高。",
    "problems": "部分村卫生室中医药服务能力仍然薄弱，中医类别全科医生数量不足，个别机构数据上报不及时。",
    "next_steps": "针对未达标指标逐项制定整改措施，明确责任单位和完成时限；加强村医中医药适宜技术培训。",
    "mechanisms": "建立中医药工作联席会议制度和年度考核制度，将中医药工作纳入乡镇卫生院绩效考核。",
}
FINAL = {
    "overview": "2021年以来，全县按照实施方案确定的目标任务，持续推进中医药康复服务能力提升工程。",
    "problems": "中医康复专业人才缺口较大，基层康复设备配置不均衡。",
    "next_steps": "巩固提升工程成果，完善县域中医康复服务网络。",
}
CASE_TITLE = "花马池镇卫生院中医馆带动村级中医药服务"
CASE_BODY = (
    "花马池镇卫生院建成标准化中医馆，开展针刺、艾灸、拔罐等适宜技术12项，"
    "每周派中医师到村卫生室坐诊，带教村医掌握4类6项适宜技术。\n"
    "2025年全镇中医诊疗人次占比较2021年明显提高，群众在家门口即可享受中医药服务。"
)


def build(context) -> None:
    county = OrgUnit.objects.get(code=context.county_code)
    save_narratives(county, YEAR, ReportKind.ANNUAL, ANNUAL)
    save_narratives(county, YEAR, ReportKind.FINAL, FINAL)
    save_narratives(county, YEAR, ReportKind.MIDTERM, FINAL)
    case = TypicalCase.objects.filter(orgunit=county, year=YEAR, title=CASE_TITLE).first()
    save_typical_case(county, YEAR, CASE_TITLE, CASE_BODY, case=case)
    context.log.append(f"documents: narratives and a typical case for {county.name} {YEAR}")
