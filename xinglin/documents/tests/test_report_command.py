from __future__ import annotations

import subprocess

import openpyxl
import pdfplumber
import pytest
from docx import Document

from xinglin.cli import main
from xinglin.documents.actions import save_narratives, save_typical_case
from xinglin.documents.gather import format_value, status_label
from xinglin.evaluation.engine import evaluate
from xinglin.network.models import OrgUnit

ANNUAL_HEADINGS = [
    "一、工作开展情况", "二、取得的成效", "三、存在的问题和困难", "四、下一步工作安排",
    "五、长效机制建立情况",
]  # fmt: skip
EVALUATION_HEADINGS = [
    "一、基本情况", "二、指标完成情况", "三、佐证材料", "四、整改情况", "五、典型案例",
    "六、存在的问题", "七、下一步工作",
]  # fmt: skip


@pytest.fixture(autouse=True)
def _keep_the_test_connection(monkeypatch):
    # `xinglin` (Django's run_from_argv) closes every connection when a command ends; inside
    # a test's transaction on PostgreSQL that would leave the test a closed connection.
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)


def report(*args: str) -> int:
    try:
        main(["xinglin", "report", *args])
    except SystemExit as exit:
        return int(exit.code or 0)
    return 0


def engine_result(pack: str, indicator: str, code: str, year: str = "2025"):
    return evaluate(pack, "640323", year).result(indicator, code)


def docx_text(path) -> tuple[list[str], str]:
    document = Document(path)
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return headings, "\n".join([p.text for p in document.paragraphs] + cells)


def test_the_annual_summary_docx_has_the_headings_and_the_engines_figures(figures_county, tmp_path):
    out = tmp_path / "annual.docx"
    assert report("annual", "--orgunit", "640323", "--period", "2025", "--output", str(out)) == 0
    headings, text = docx_text(out)
    assert headings == ANNUAL_HEADINGS
    assert "盐池县2025年度中医药工作总结" in text
    share = engine_result("demo-county-2022", "grassroots.tcm_visit_share", "640323")
    assert share.value == pytest.approx(0.31)  # (480 + 264) / 2400
    assert format_value({"unit": "percent"}, share.value) == "31.0%"
    assert "31.0%" in text
    beds = engine_result("rehab-2021-2025", "rehab.tcm_hospital_rehab_beds", "640323")
    assert (beds.value, beds.status) == (42.0, "met")
    hall = engine_result("demo-county-2022", "system.health_centre_tcm_hall", "640323")
    assert hall.status == "not_met" and hall.failing == ["640323101001"]
    assert "大水坑镇卫生院" in text  # the institution holding the item back
    assert status_label("not_met") in text


def test_the_docx_follows_the_official_document_layout(figures_county, tmp_path):
    out = tmp_path / "annual.docx"
    report("annual", "--orgunit", "640323", "--period", "2025", "--output", str(out))
    document = Document(out)
    section = document.sections[0]
    margins = [section.top_margin.mm, section.bottom_margin.mm, section.left_margin.mm,
               section.right_margin.mm]  # fmt: skip
    assert [round(m) for m in margins] == [37, 35, 28, 26]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    body = next(p for p in document.paragraphs if p.text.startswith("盐池县纳入统计"))
    run = body.runs[0]
    assert run.font.size.pt == 16
    east_asia = run._element.rPr.rFonts.get(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia"
    )
    assert east_asia == "仿宋_GB2312"  # named as offices have it; the font table falls back
    heading = next(p for p in document.paragraphs if p.text == ANNUAL_HEADINGS[0])
    assert (
        heading.runs[0]._element.rPr.rFonts.get(
            "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia"
        )
        == "黑体"
    )
    assert document.paragraphs[0].text == "盐池县卫健〔2025〕 号"
    assert "PAGE" in section.footer.paragraphs[0]._p.xml


def test_narratives_are_kept_when_the_report_is_regenerated(figures_county, tmp_path):
    county = OrgUnit.objects.get(code="640323")
    save_narratives(county, 2025, "annual", {"work_done": "全县召开中医药工作推进会3次。",
                                            "document_number": "盐卫健发〔2025〕12号"})  # fmt: skip
    for name in ("first.docx", "second.docx"):
        report("annual", "--orgunit", "640323", "--period", "2025", "--output",
               str(tmp_path / name))  # fmt: skip
        _headings, text = docx_text(tmp_path / name)
        assert "全县召开中医药工作推进会3次。" in text
        assert "盐卫健发〔2025〕12号" in text


@pytest.mark.parametrize(("kind", "title"), [
    ("midterm", "盐池县中医药工作中期评估报告（2025年）"),
    ("final", "盐池县中医药工作总结评估报告（2025年）"),
])  # fmt: skip
def test_evaluation_reports_carry_the_scorecard_evidence_and_typical_case(
    figures_county, tmp_path, kind, title
):
    county = OrgUnit.objects.get(code="640323")
    save_typical_case(county, 2025, "中医馆建设全覆盖", "花马池镇卫生院建成中医馆。")
    out = tmp_path / f"{kind}.docx"
    assert report(kind, "--orgunit", "640323", "--period", "2025", "--output", str(out)) == 0
    headings, text = docx_text(out)
    assert [h for h in headings if h[0] in "一二三四五六七"] == EVALUATION_HEADINGS
    assert "（一）中医馆建设全覆盖" in headings
    assert title in text
    assert "花马池镇卫生院建成中医馆。" in text
    assert "中医药发展规划" in text or "佐证材料清单" in text


def test_the_pdf_embeds_cjk_fonts_and_its_text_has_the_headings(figures_county, tmp_path):
    out = tmp_path / "annual.pdf"
    assert report("annual", "--orgunit", "640323", "--period", "2025", "--output", str(out)) == 0
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True)
    names = [line.split()[0] for line in fonts.stdout.splitlines()[2:]]
    # Noto CJK, or AR PL UKai for the 楷体 headings (fonts-arphic-ukai)
    assert names and all("CJK" in name or "UKai" in name for name in names), names
    with pdfplumber.open(out) as pdf:
        text = "".join(page.extract_text() or "" for page in pdf.pages)
    compact = text.replace(" ", "").replace("\n", "")
    for heading in ANNUAL_HEADINGS:
        assert heading in compact
    assert "盐池县2025年度中医药工作总结" in compact
    assert "31.0%" in compact
    png = tmp_path / "page"
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(out), str(png)],
                   check=True)  # fmt: skip
    [page] = tmp_path.glob("page*.png")
    assert page.stat().st_size > 5000


def test_the_annex_workbook_has_every_value_with_numerator_and_denominator(
    figures_county, tmp_path
):
    out = tmp_path / "annex.xlsx"
    assert report("annual", "--orgunit", "640323", "--period", "2025", "--output", str(out)) == 0
    workbook = openpyxl.load_workbook(out)
    assert workbook.sheetnames == ["指标完成情况", "数据附件"]
    rows = list(workbook["数据附件"].iter_rows(min_row=2, values_only=True))
    by_key = {(r[0], r[3], r[5]): r for r in rows}
    for year in (2023, 2024, 2025):
        for code in ("640323", "640323101", "640323101001"):
            expected = engine_result("demo-county-2022", "grassroots.tcm_visit_share", code,
                                     str(year))  # fmt: skip
            row = by_key[(year, "grassroots.tcm_visit_share", code)]
            assert (row[7], row[8], row[9]) == (
                expected.value,
                expected.numerator,
                expected.denominator,
            )
    engine_rows = sum(len(evaluate(p, "640323", "2025").results) for p in (
        "capacity-2021-2025", "demo-county-2022", "health-services-2021-2025",
        "rehab-2021-2025", "work-points-2023"))  # fmt: skip
    assert len([r for r in rows if r[0] == 2025]) == engine_rows


@pytest.mark.parametrize("args", [
    ("annual", "--orgunit", "999999", "--period", "2025", "--output", "x.docx"),
    ("annual", "--orgunit", "640323", "--period", "2025Q1", "--output", "x.docx"),
    ("annual", "--orgunit", "640323", "--period", "last-year", "--output", "x.docx"),
    ("annual", "--orgunit", "640323", "--period", "2025", "--output", "x.odt"),
    ("weekly", "--orgunit", "640323", "--period", "2025", "--output", "x.docx"),
])  # fmt: skip
def test_unknown_org_unit_period_or_format_exits_2_and_writes_nothing(
    figures_county, tmp_path, monkeypatch, args
):
    monkeypatch.chdir(tmp_path)
    assert report(*args) == 2
    assert list(tmp_path.iterdir()) == []


def test_an_institution_report_rolls_up_its_own_figures(figures_county, tmp_path):
    out = tmp_path / "hospital.docx"
    assert report("annual", "--orgunit", "640323000001", "--period", "2025", "--output",
                  str(out)) == 0  # fmt: skip
    _headings, text = docx_text(out)
    assert "盐池县中医医院2025年度中医药工作总结" in text
    beds = evaluate("rehab-2021-2025", "640323000001", "2025").result(
        "rehab.tcm_hospital_rehab_beds", "640323000001"
    )
    assert beds.value == 42.0
    assert "县中医医院康复病床数" in text
