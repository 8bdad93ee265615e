"""A report's content as a list of blocks (headings, paragraphs, tables, charts), built once
from the engine's figures and the officer's narratives; the docx, pdf and xlsx renderers only
lay these blocks out. Document text is Chinese: these are official documents for the bureau,
whatever language the web interface is shown in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from xinglin.documents import progress
from xinglin.documents.figures import Figure
from xinglin.documents.gather import ReportData, format_value, status_label
from xinglin.documents.models import Narrative, ReportKind, TypicalCase
from xinglin.documents.narrative import Section, sections
from xinglin.network.models import OrgUnit

NUMERALS = "一二三四五六七八九十"
PLACEHOLDER = "（待填写）"

# Editable paragraphs per report kind: (section key, heading). seeds/000 §五(三)1 lists the
# annual summary's contents; the evaluations (seeds/003 §四(三), seeds/000 §五(三)2) add the
# scorecard, evidence, rectification and 1–2 typical cases around the officer's text.
NARRATIVE_SECTIONS: dict[str, list[tuple[str, str]]] = {
    ReportKind.ANNUAL: [
        ("work_done", "工作开展情况"),
        ("achievements", "取得的成效"),
        ("problems", "存在的问题和困难"),
        ("next_steps", "下一步工作安排"),
        ("mechanisms", "长效机制建立情况"),
    ],
    ReportKind.MIDTERM: [
        ("overview", "基本情况"),
        ("problems", "存在的问题"),
        ("next_steps", "下一步工作"),
    ],
    ReportKind.FINAL: [
        ("overview", "基本情况"),
        ("problems", "存在的问题"),
        ("next_steps", "下一步工作"),
    ],
}
DOCUMENT_NUMBER = "document_number"
TITLES = {
    ReportKind.ANNUAL: "{name}{year}年度中医药工作总结",
    ReportKind.MIDTERM: "{name}中医药工作中期评估报告（{year}年）",
    ReportKind.FINAL: "{name}中医药工作总结评估报告（{year}年）",
}
SCORECARD_HEADER = ["序号", "指标", "目标值", "完成值", "分子", "分母", "状态"]


@dataclass
class Heading:
    text: str
    level: int = 1


@dataclass
class Paragraph:
    text: str
    editable: bool = False  # the officer's own text (shown as such on the web)


@dataclass
class Table:
    caption: str
    header: list[str]
    rows: list[list[str]]


@dataclass
class Chart:
    caption: str
    png: bytes


Block = Heading | Paragraph | Table | Chart


@dataclass
class Report:
    kind: str
    orgunit: OrgUnit
    year: int
    title: str
    document_number: str
    issued: date
    blocks: list[Block] = field(default_factory=list)

    def headings(self) -> list[str]:
        return [b.text for b in self.blocks if isinstance(b, Heading)]


def narratives_for(orgunit: OrgUnit, year: int, kind: str) -> dict[str, str]:
    rows = Narrative.objects.filter(orgunit=orgunit, year=year, kind=kind)
    return {row.section: row.text for row in rows}


def default_document_number(orgunit: OrgUnit, year: int) -> str:
    return f"{orgunit.name}卫健〔{year}〕 号"


def build_report(data: ReportData) -> Report:
    """The content of the `data.kind` report for `data.orgunit` and `data.year`."""
    texts = narratives_for(data.orgunit, data.year, data.kind)
    title = TITLES[data.kind].format(name=data.orgunit.name, year=data.year)
    report = Report(
        kind=data.kind,
        orgunit=data.orgunit,
        year=data.year,
        title=title,
        document_number=texts.get(DOCUMENT_NUMBER)
        or default_document_number(data.orgunit, data.year),
        issued=date.today(),
    )
    builder = _annual_blocks if data.kind == ReportKind.ANNUAL else _evaluation_blocks
    numbered = _numbered(builder(data, _Texts(texts, sections(data))))
    report.blocks = numbered
    return report


def _numbered(sections: list[tuple[str, list[Block]]]) -> list[Block]:
    blocks: list[Block] = []
    for index, (heading, body) in enumerate(sections):
        blocks.append(Heading(f"{NUMERALS[index]}、{heading}", 1))
        blocks.extend(body)
    return blocks


@dataclass
class _Texts:
    own: dict[str, str]  # the officer's own text per section (Narrative)
    drafted: dict[str, Section]  # the kept or live drafted paragraphs per section


def _narrative(texts: _Texts, key: str) -> list[Block]:
    """The officer's own text of the section, then its drafted paragraphs as kept (edited or
    not) — or, for a section never kept, as drafted from today's data."""
    lines = [line.strip() for line in texts.own.get(key, "").splitlines() if line.strip()]
    section = texts.drafted.get(key)
    lines += section.printed if section else []
    if not lines:
        return [Paragraph(PLACEHOLDER, editable=True)]
    return [Paragraph(line, editable=True) for line in lines]


def _annual_blocks(data: ReportData, texts: _Texts) -> list[tuple[str, list[Block]]]:
    headings = dict(NARRATIVE_SECTIONS[ReportKind.ANNUAL])
    return [
        (headings["work_done"], [*_overview(data), *_narrative(texts, "work_done"),
                                 *_task_blocks(data)]),
        (headings["achievements"], [*_narrative(texts, "achievements"), *_scorecards(data),
                                    *_charts(data)]),
        (headings["problems"], [*_narrative(texts, "problems"), *_failing(data),
                                *_rectification_blocks(data)]),
        (headings["next_steps"], _narrative(texts, "next_steps")),
        (headings["mechanisms"], _narrative(texts, "mechanisms")),
    ]  # fmt: skip


def _evaluation_blocks(data: ReportData, texts: _Texts) -> list[tuple[str, list[Block]]]:
    headings = dict(NARRATIVE_SECTIONS[data.kind])
    return [
        (headings["overview"], [*_overview(data), *_narrative(texts, "overview"),
                                *_task_blocks(data)]),
        ("指标完成情况", [*_scorecards(data), *_charts(data), *_failing(data)]),
        ("佐证材料", _evidence(data)),
        ("整改情况", _rectification_blocks(data)),
        ("典型案例", _typical_cases(data)),
        (headings["problems"], _narrative(texts, "problems")),
        (headings["next_steps"], _narrative(texts, "next_steps")),
    ]  # fmt: skip


def _overview(data: ReportData) -> list[Block]:
    # Each pack's met / unmet counts are said by the drafted text (drafting/*.yaml), once.
    if data.institution_count is None:
        return []
    return [Paragraph(f"{data.orgunit.name}纳入统计的医疗卫生机构共{data.institution_count}家。")]


def scorecard_rows(figures: list[Figure]) -> list[list[str]]:
    rows = []
    for index, f in enumerate(figures, start=1):
        if f["status"] == "not_applicable":
            continue
        rows.append([
            str(f["item"] if f["item"] is not None else index), f["name"], f["target"] or "—",
            format_value(f, f["value"]), _number(f["numerator"]), _number(f["denominator"]),
            status_label(f["status"]),
        ])  # fmt: skip
    return rows


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _scorecards(data: ReportData) -> list[Block]:
    blocks: list[Block] = []
    for pack in data.packs:
        rows = scorecard_rows(pack.own)
        if rows:
            caption = f"《{pack.info.title_zh}》{data.year}年指标完成情况"
            blocks.append(Table(caption, SCORECARD_HEADER, rows))
    if not blocks:
        blocks.append(Paragraph("本年度暂无指标数据。"))
    return blocks


def _charts(data: ReportData) -> list[Block]:
    blocks: list[Block] = []
    series = data.key_series()
    if series:
        from xinglin.documents import charts  # matplotlib loads only when a document is drawn  # noqa: PLC0415 — matplotlib loads only when a document is drawn

        blocks.append(Chart("主要指标趋势", charts.trend_chart(series)))
    groups = data.met_by_group()
    if groups:
        label = "乡镇（街道）" if data.orgunit.division_level == "county" else "下级单位"
        from xinglin.documents import charts  # noqa: PLC0415 — matplotlib loads only when a document is drawn

        blocks.append(Chart(f"各{label}指标达标情况", charts.met_chart(groups)))
        rows = [[name, str(met), str(not_met)] for name, met, not_met in groups]
        blocks.append(Table(f"各{label}指标达标情况", [label, "达标", "未达标"], rows))
    return blocks


def _failing(data: ReportData) -> list[Block]:
    rows = []
    for pack in data.packs:
        for f in pack.own:
            if f["status"] != "not_met":
                continue
            names = "、".join(data.name_of(code) for code in f["failing"][:10])
            more = f"等{len(f['failing'])}家" if len(f["failing"]) > 10 else ""
            rows.append([f["name"], f["target"] or "—", format_value(f, f["value"]),
                         (names + more) or "—"])  # fmt: skip
    if not rows:
        return [Paragraph("本年度各项计算指标均已达标或待数据补充。")]
    return [Table("未达标指标及相关机构", ["指标", "目标值", "完成值", "未达标机构"], rows)]


def _task_blocks(data: ReportData) -> list[Block]:
    tasks = progress.task_progress(data.orgunit, data.year)
    if tasks is None:
        return [Paragraph("任务进展：暂无数据。")]
    header = ["方案", "任务数", "已完成", "进行中", "逾期"]
    return [Table("重点任务推进情况", header, tasks)]


def _rectification_blocks(data: ReportData) -> list[Block]:
    rows = progress.rectification(data.orgunit, data.year)
    if rows is None:
        return [Paragraph("整改情况：暂无数据。")]
    if not rows:
        return [Paragraph("本年度无整改任务。")]
    return [Table("整改任务情况", ["整改事项", "责任单位", "期限", "状态"], rows)]


def _evidence(data: ReportData) -> list[Block]:
    attached = progress.evidence(data.orgunit, data.year)
    rows = []
    for pack in data.packs:
        for meta in pack.info.indicators:
            if meta.kind != "evidence":
                continue
            files = "—" if attached is None else "；".join(attached.get(meta.id, [])) or "未提交"
            status = pack.status_of(meta.id)
            rows.append([str(meta.item or ""), meta.name_zh, meta.evidence_zh or "—", files,
                         status_label(status) if status else "—"])  # fmt: skip
    if not rows:
        return [Paragraph("佐证材料：暂无数据。")]
    header = ["序号", "指标", "佐证材料要求", "已提交材料", "状态"]
    return [Table("佐证材料清单", header, rows)]


def _typical_cases(data: ReportData) -> list[Block]:
    cases = TypicalCase.objects.filter(orgunit=data.orgunit, year=data.year)
    blocks: list[Block] = []
    for index, case in enumerate(cases, start=1):
        blocks.append(Heading(f"（{NUMERALS[index - 1]}）{case.title}", 2))
        blocks.extend(Paragraph(p.strip(), editable=True) for p in case.body.splitlines()
                      if p.strip())  # fmt: skip
    return blocks or [Paragraph(PLACEHOLDER, editable=True)]
