"""Word output laid out as a Chinese official document (GB/T 9704-2012 conventions): A4,
margins top 37 mm / bottom 35 mm / left 28 mm / right 26 mm, the document number line, the title
in 2号 小标宋, first-level headings in 3号 黑体, second-level in 3号 楷体, body in 3号 仿宋 with a
2-character indent, page numbers "— 1 —" in 4号 宋体 at the outer edge of the foot (odd pages
right, even pages left, one character in from the edge: GB/T 9704 §7.5), the issuing organ and
the date as 署名 (右空四字). This is the red-free internal version (no red masthead line).

Word picks Chinese glyphs by the East Asian font name (w:eastAsia), not by the Latin name, so
every run sets both. The fonts are named as offices have them (仿宋_GB2312, 楷体_GB2312,
方正小标宋简体); the font table gives each the face Word uses where it is missing (仿宋, 楷体,
宋体: GB/T 9704 names the families, not the files).

Tables repeat their header row on every page, never split a row across pages, and size their
columns to their content; pictures sit in paragraphs with single line spacing (an exact 28 pt
line would clip them to a strip)."""

from __future__ import annotations

import io

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from lxml import etree

from xinglin.documents.content import Chart, Heading, Paragraph, Report, Table
from xinglin.documents.gather import ReportData

TITLE_FONT = "方正小标宋简体"
HEADING_FONT = "黑体"
SUBHEADING_FONT = "楷体_GB2312"
BODY_FONT = "仿宋_GB2312"
FOOTER_FONT = "宋体"
# what Word uses where an office font is not installed (w:altName in the font table)
FALLBACKS = {"仿宋_GB2312": "仿宋", "楷体_GB2312": "楷体", "方正小标宋简体": "宋体"}
TYPE_AREA = Mm(156)  # 210 mm - 28 mm - 26 mm
CHARACTER = Pt(16)  # one 3号 character: the unit of GB/T 9704's indents
SIZE_2 = Pt(22)  # 2号
SIZE_3 = Pt(16)  # 3号
SIZE_4 = Pt(14)  # 4号
SIZE_TABLE = Pt(10.5)  # 5号, for tables that must fit the type area
LINE_SPACING = Pt(28)  # 22 lines of 28 characters on the type area


def render(report: Report, data: ReportData) -> bytes:
    document = Document()
    _page_setup(document)
    _base_style(document)
    _font_fallbacks(document)
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
    # page numbers at the outer edge: odd pages right, even pages left (GB/T 9704 §7.5)
    document.settings.odd_and_even_pages_header_footer = True
    _page_number(section.footer.paragraphs[0], WD_ALIGN_PARAGRAPH.RIGHT)
    _page_number(section.even_page_footer.paragraphs[0], WD_ALIGN_PARAGRAPH.LEFT)


def _page_number(footer, alignment) -> None:
    footer.alignment = alignment
    if alignment == WD_ALIGN_PARAGRAPH.RIGHT:
        footer.paragraph_format.right_indent = Pt(14)  # 一字 of the 4号 number
    else:
        footer.paragraph_format.left_indent = Pt(14)
    _run(footer, "— ", FOOTER_FONT, SIZE_4)
    _page_field(_run(footer, "", FOOTER_FONT, SIZE_4))
    _run(footer, " —", FOOTER_FONT, SIZE_4)


def _font_fallbacks(document) -> None:
    """Declare the office fonts in the font table with the face to use where one is missing."""

    part = next(p for p in document.part.package.parts if p.partname == "/word/fontTable.xml")
    root = etree.fromstring(part.blob)
    for name, alternative in FALLBACKS.items():
        font = etree.SubElement(root, qn("w:font"))
        font.set(qn("w:name"), name)
        alt = etree.SubElement(font, qn("w:altName"))
        alt.set(qn("w:val"), alternative)
        charset = etree.SubElement(font, qn("w:charset"))
        charset.set(qn("w:val"), "86")  # GB2312
        family = etree.SubElement(font, qn("w:family"))
        family.set(qn("w:val"), "modern" if name != "方正小标宋简体" else "script")
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


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
    _run(paragraph, _signs(block.text), BODY_FONT, SIZE_3)


def _table(document, block: Table) -> None:
    caption = document.add_paragraph()
    caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
    caption.paragraph_format.keep_with_next = True
    _run(caption, _signs(block.caption), HEADING_FONT, SIZE_4)
    table = document.add_table(rows=1, cols=len(block.header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for cell, text in zip(table.rows[0].cells, block.header, strict=True):
        _cell(cell, text, HEADING_FONT)
    _repeat_header(table.rows[0])
    for row in block.rows:
        added = table.add_row()
        _keep_whole(added)
        for cell, text in zip(added.cells, row, strict=True):
            _cell(cell, text, BODY_FONT)
    _size_columns(table, column_widths([block.header, *block.rows], TYPE_AREA))


def column_widths(rows: list[list[str]], total: int, capacity: float = 42.0) -> list[int]:
    """Column widths that add up to `total`. `capacity` is how many 5号 characters fit across
    the type area (156 mm / 10.5 pt ≈ 42). Short columns (序号, 目标值, 状态, 逾期) get the
    width of their widest text, so they never wrap character by character; the long columns
    (names, indicators) share what is left in proportion to their text."""
    count = len(rows[0])
    need = [2.0] * count
    for row in rows:
        for k, text in enumerate(row[:count]):
            need[k] = max(need[k], _text_width(str(text)) + 1.2)  # + the cell padding
    short = [n <= SHORT_COLUMN for n in need]
    fixed = sum(n for n, s in zip(need, short, strict=True) if s)
    flexible = [min(n, 30.0) for n, s in zip(need, short, strict=True) if not s]
    room = capacity - fixed
    if flexible and room >= 8.0 * len(flexible):
        scale = room / sum(flexible)
        chars = [n if s else min(n, 30.0) * scale for n, s in zip(need, short, strict=True)]
    else:
        chars = need  # everything in proportion when even that does not fit
    widths = [int(total * c / sum(chars)) for c in chars]
    widths[-1] += total - sum(widths)
    return widths


SHORT_COLUMN = 8.0  # characters: a column this narrow is sized to its text


def _text_width(text: str) -> float:
    return sum(1.0 if ord(ch) > 0x2E80 else 0.62 for ch in text)


def _size_columns(table, widths: list[int]) -> None:
    grid = table._tbl.tblGrid
    for column, width in zip(grid.findall(qn("w:gridCol")), widths, strict=True):
        column.set(qn("w:w"), str(int(width / 635)))  # EMU -> twentieths of a point
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width


def _repeat_header(row) -> None:
    properties = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)
    _keep_whole(row)


def _keep_whole(row) -> None:
    cant_split = OxmlElement("w:cantSplit")
    cant_split.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(cant_split)


def _cell(cell, text: str, family: str) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.paragraph_format.line_spacing = 1.0
    paragraph.paragraph_format.first_line_indent = Pt(0)
    _run(paragraph, _signs(str(text)), family, SIZE_TABLE)


def _signs(text: str) -> str:
    """Targets as people write them: ≥ and ≤, never >= and <=."""
    return text.replace(">=", "≥").replace("<=", "≤")


def _chart(document, block: Chart) -> None:
    document.add_picture(io.BytesIO(block.png), width=Mm(150))
    picture = document.paragraphs[-1]
    picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
    # single spacing, not the body's exact 28 pt: an exact line height clips the picture
    picture.paragraph_format.line_spacing = 1.0
    picture.paragraph_format.first_line_indent = Pt(0)
    picture.paragraph_format.keep_with_next = True
    caption = document.add_paragraph()
    caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(caption, f"图：{block.caption}", BODY_FONT, SIZE_4)


def issuer(report: Report) -> str:
    """The issuing organ signing the document: the report's own when it names one, else the
    health bureau of the org unit (the document number is the bureau's: 卫健〔year〕)."""
    named = getattr(report, "issuer", "")
    return named or f"{report.orgunit.name}卫生健康局"


def issued_text(report: Report) -> str:
    return f"{report.issued.year}年{report.issued.month}月{report.issued.day}日"


def _signature(document, report: Report) -> None:
    """署名 and 成文日期 (GB/T 9704 §7.3.5.2): the date 右空四字, the organ centred above it."""
    date_text, organ = issued_text(report), issuer(report)
    spacer = document.add_paragraph()
    spacer.paragraph_format.space_before = Pt(28)
    shift = max(0.0, (len(date_text) - len(organ)) / 2)
    for text, indent in ((organ, 4 + shift), (date_text, 4)):
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        paragraph.paragraph_format.first_line_indent = Pt(0)
        paragraph.paragraph_format.right_indent = int(CHARACTER * indent)
        _run(paragraph, text, BODY_FONT, SIZE_3)


_BLOCKS = {Heading: _heading, Paragraph: _paragraph, Table: _table, Chart: _chart}
