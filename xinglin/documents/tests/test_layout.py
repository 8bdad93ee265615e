"""Issue 21.6: the annual summary in GB/T 9704 layout. The docx is opened with python-docx
(header rows, row splitting, column widths, picture paragraphs, fonts, page numbers, 署名), the
pdf is rendered to PNG with pdftoppm (where the page numbers stand), the xlsx annex with
openpyxl (print set-up)."""

from __future__ import annotations

import subprocess

import openpyxl
import pdfplumber
import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from PIL import Image

from xinglin.documents.formats.docx import column_widths
from xinglin.documents.tests.test_report_command import report


@pytest.fixture
def annual(figures_county, tmp_path):
    def write(suffix: str):
        out = tmp_path / f"annual.{suffix}"
        assert (
            report("annual", "--orgunit", "640323", "--period", "2025", "--output", str(out)) == 0
        )
        return out

    return write


def test_docx_tables_repeat_their_header_keep_rows_whole_and_size_columns(annual):
    document = Document(annual("docx"))
    assert document.tables
    for table in document.tables:
        header = table.rows[0]._tr.trPr
        assert header is not None and header.find(qn("w:tblHeader")) is not None
        for row in table.rows:
            assert row._tr.trPr.find(qn("w:cantSplit")) is not None
        widths = [int(c.get(qn("w:w"))) for c in table._tbl.tblGrid.findall(qn("w:gridCol"))]
        # the type area is 156 mm = 8844 twentieths of a point
        assert abs(sum(widths) - 8844) <= len(widths)
        if len(widths) > 2:
            assert len(set(widths)) > 1  # sized to content, not equal
    scorecard = next(t for t in document.tables if t.rows[0].cells[0].text == "序号")
    widths = [int(c.get(qn("w:w"))) for c in scorecard._tbl.tblGrid.findall(qn("w:gridCol"))]
    header = [c.text for c in scorecard.rows[0].cells]
    assert widths[header.index("指标")] == max(widths)  # the names take the room
    # 状态 is wide enough for 待审核佐证 (5 characters of 10.5 pt = 52.5 pt = 1050 twips)
    assert widths[header.index("状态")] >= 1050


def test_docx_pictures_are_not_clipped_and_targets_read_as_people_write_them(annual):
    document = Document(annual("docx"))
    pictures = [p for p in document.paragraphs if p._p.xpath(".//w:drawing")]
    assert pictures
    for paragraph in pictures:
        assert paragraph.paragraph_format.line_spacing_rule != WD_LINE_SPACING.EXACTLY
    text = "\n".join(
        [p.text for p in document.paragraphs]
        + [c.text for t in document.tables for r in t.rows for c in r.cells]
    )
    assert ">=" not in text and "<=" not in text
    assert "≥" in text


def test_docx_fonts_page_numbers_and_signature(annual):
    document = Document(annual("docx"))
    fonts = next(p for p in document.part.package.parts if p.partname == "/word/fontTable.xml")
    table = fonts.blob.decode("utf-8")
    assert 'w:name="仿宋_GB2312"' in table and 'w:val="仿宋"' in table  # the fallback
    assert document.settings.odd_and_even_pages_header_footer
    section = document.sections[0]
    odd, even = section.footer.paragraphs[0], section.even_page_footer.paragraphs[0]
    assert (odd.alignment, even.alignment) == (WD_ALIGN_PARAGRAPH.RIGHT, WD_ALIGN_PARAGRAPH.LEFT)
    assert odd.text.startswith("— ") and "PAGE" in odd._p.xml and "PAGE" in even._p.xml
    last = [p.text for p in document.paragraphs if p.text][-2:]
    assert last[0] == "盐池县卫生健康局"  # the issuing organ, not the county
    assert last[1].endswith("日") and "年" in last[1]


def _footer_centre(png) -> float:
    """The horizontal centre (0–1) of the ink in the bottom margin of a rendered page."""
    image = Image.open(png).convert("L")
    width, height = image.size
    band = image.crop((0, int(height * 0.886), width, height))  # below the 35 mm margin line
    xs = [x for x in range(width) for y in range(band.height) if band.getpixel((x, y)) < 128]
    assert xs, "no page number in the foot"
    return sum(xs) / len(xs) / width


def test_pdf_page_numbers_stand_at_the_outer_edge(annual, tmp_path):
    out = annual("pdf")
    prefix = tmp_path / "page"
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "2", str(out), str(prefix)],
                   check=True)  # fmt: skip
    first, second = sorted(tmp_path.glob("page*.png"))
    assert _footer_centre(first) > 0.7  # odd page: right
    assert _footer_centre(second) < 0.3  # even page: left
    with pdfplumber.open(out) as pdf:
        pages = [page.extract_text() or "" for page in pdf.pages]
    compact = "".join(pages).replace(" ", "").replace("\n", "")
    assert ">=" not in compact and "盐池县卫生健康局" in compact
    assert "— 1 —" in pages[0].replace("—1—", "— 1 —")


def test_the_xlsx_prints_fitted_to_width_with_a_frozen_repeated_filtered_header(annual):
    workbook = openpyxl.load_workbook(annual("xlsx"))
    for sheet, header_row in ((workbook["指标完成情况"], 2), (workbook["数据附件"], 1)):
        assert sheet.freeze_panes == f"A{header_row + 1}"
        assert sheet.print_title_rows == f"${header_row}:${header_row}"
        assert sheet.auto_filter.ref.startswith(f"A{header_row}:")
        assert sheet.auto_filter.ref.endswith(str(sheet.max_row))
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
        assert sheet.page_setup.orientation == "landscape"


def test_short_columns_get_their_text_width_and_the_long_one_the_rest():
    rows = [
        ["序号", "指标", "逾期"],
        ["1", "社区卫生服务中心、乡镇卫生院开展6类10项以上中医药适宜技术", "16"],
    ]
    widths = column_widths(rows, 4200, capacity=42.0)  # 100 units per character
    assert sum(widths) == 4200
    assert widths[2] >= 200 + 100  # 逾期: two characters and the padding, never one per line
    assert widths[1] == max(widths)
