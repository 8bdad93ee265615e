"""Word output laid out as a Chinese official document (GB/T 9704-2012 conventions): A4,
margins top 37 mm / bottom 35 mm / left 28 mm / right 26 mm, the document number line, the title
in 2号 小标宋, headings in 3号 黑体, body in 3号 仿宋 with a 2-character indent, page numbers
"— 1 —" in 4号 宋体 at the foot. This is the red-free internal version (no red masthead line).

Word picks Chinese glyphs by the East Asian font name (w:eastAsia), not by the Latin name, so
every run sets both."""

from __future__ import annotations

import io

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from xinglin.documents.content import Chart, Heading, Paragraph, Report, Table
from xinglin.documents.gather import ReportData

TITLE_FONT = "方正小标宋简体"
HEADING_FONT = "黑体"
SUBHEADING_FONT = "楷体"
BODY_FONT = "仿宋"
FOOTER_FONT = "宋体"
SIZE_2 = Pt(22)  # 2号
SIZE_3 = Pt(16)  # 3号
SIZE_4 = Pt(14)  # 4号
SIZE_TABLE = Pt(10.5)  # 5号, for tables that must fit the type area
LINE_SPACING = Pt(28)  # 22 lines of 28 characters on the type area


def render(report: Report, data: ReportData) -> bytes:
    document = Document()
    _page_setup(document)
    _base_style(document)
    _front(document, report)
    for block in report.blocks:
        _BLOCKS[type(block)](document, block)
    _signature(document, report)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _page_setup(document) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(footer, "— ", FOOTER_FONT, SIZE_4)
    _page_field(_run(footer, "", FOOTER_FONT, SIZE_4))
    _run(footer, " —", FOOTER_FONT, SIZE_4)


def _base_style(document) -> None:
    style = document.styles["Normal"]
    style.font.name = BODY_FONT
    style.font.size = SIZE_3
    style.element.rPr.rFonts.set(qn("w:eastAsia"), BODY_FONT)
    style.paragraph_format.line_spacing = LINE_SPACING
    for name in ("Heading 1", "Heading 2"):
        heading = document.styles[name]
        fonts = heading.element.get_or_add_rPr().get_or_add_rFonts()
        # The template's theme fonts would win over the run's explicit names: drop them.
        for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            fonts.attrib.pop(qn(attribute), None)
        fonts.set(qn("w:eastAsia"), HEADING_FONT)
        heading.font.color.rgb = None


def _set_font(run, family: str, size, bold: bool = False) -> None:
    run.font.name = family
    run.font.size = size
    run.font.bold = bold
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), family)


def _run(paragraph, text: str, family: str, size, bold: bool = False):
    run = paragraph.add_run(text)
    _set_font(run, family, size, bold)
    return run


def _page_field(run) -> None:
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._element.append(element)


def _front(document, report: Report) -> None:
    number = document.add_paragraph()
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(number, report.document_number, BODY_FONT, SIZE_3)
    _rule(number)
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_before = Pt(28)
    title.paragraph_format.space_after = Pt(28)
    title.paragraph_format.line_spacing = Pt(35)
    _run(title, report.title, TITLE_FONT, SIZE_2)


def _rule(paragraph) -> None:
    # The separator line under the document number (black in the red-free version).
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (
        ("w:val", "single"),
        ("w:sz", "12"),
        ("w:space", "4"),
        ("w:color", "000000"),
    ):
        bottom.set(qn(key), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def _heading(document, block: Heading) -> None:
    paragraph = document.add_paragraph(style="Heading 1" if block.level == 1 else "Heading 2")
    paragraph.paragraph_format.first_line_indent = Pt(32)
    paragraph.paragraph_format.line_spacing = LINE_SPACING
    family = HEADING_FONT if block.level == 1 else SUBHEADING_FONT
    run = _run(paragraph, block.text, family, SIZE_3)
    run.font.bold = False


def _paragraph(document, block: Paragraph) -> None:
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.first_line_indent = Pt(32)  # two 3号 characters
    paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    _run(paragraph, block.text, BODY_FONT, SIZE_3)


def _table(document, block: Table) -> None:
    caption = document.add_paragraph()
    caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(caption, block.caption, HEADING_FONT, SIZE_4)
    table = document.add_table(rows=1, cols=len(block.header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, block.header, strict=True):
        _cell(cell, text, HEADING_FONT)
    for row in block.rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            _cell(cell, text, BODY_FONT)


def _cell(cell, text: str, family: str) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.paragraph_format.line_spacing = 1.0
    paragraph.paragraph_format.first_line_indent = Pt(0)
    _run(paragraph, text, family, SIZE_TABLE)


def _chart(document, block: Chart) -> None:
    document.add_picture(io.BytesIO(block.png), width=Mm(150))
    document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    caption = document.add_paragraph()
    caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(caption, f"图：{block.caption}", BODY_FONT, SIZE_4)


def _signature(document, report: Report) -> None:
    for text in (
        report.orgunit.name,
        f"{report.issued.year}年{report.issued.month}月{report.issued.day}日",
    ):
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _run(paragraph, text, BODY_FONT, SIZE_3)


_BLOCKS = {Heading: _heading, Paragraph: _paragraph, Table: _table, Chart: _chart}
