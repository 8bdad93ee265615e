"""lib.sheets gives exactly the rows openpyxl's read-only mode gives: every kind of cell."""

from __future__ import annotations

import zipfile
from datetime import date, datetime, time

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.worksheet.formula import ArrayFormula

from xinglin.lib import sheets


def _typed(rows):
    def plain(value):
        if isinstance(value, ArrayFormula):  # compared by identity otherwise
            return ("ArrayFormula", value.ref, value.text)
        if isinstance(value, sheets.Percent):  # a float that says it was shown as a percent
            return ("float", value)
        return (type(value).__name__, value)

    # lib.sheets ignores the declared dimension (issue 18.10): rows end at their last cell and
    # the sheet at its last row, so openpyxl's padding is trimmed before comparing.
    trimmed = [list(row) for row in rows]
    for row in trimmed:
        while row and row[-1] is None:
            row.pop()
    while trimmed and not trimmed[-1]:
        trimmed.pop()
    return [[plain(v) for v in row] for row in trimmed]


def _same(path, data_only=False):
    """Both readers give the same sheets, sizes and rows (and openpyxl's rows = rows())."""
    book = load_workbook(path, read_only=True, data_only=data_only)
    fast = sheets.load(path) if not data_only else book
    try:
        assert [s.title for s in fast.worksheets] == [s.title for s in book.worksheets]
        for sheet, other in zip(book.worksheets, fast.worksheets, strict=True):
            size = ("min_column", "min_row", "max_column", "max_row", "sheet_state")
            assert [getattr(other, a) for a in size] == [getattr(sheet, a) for a in size]
            expected = list(sheet.iter_rows(values_only=True))
            for got in (sheets.rows(sheet), sheets.rows(other)):
                assert _typed(got) == _typed(expected), sheet.title
                assert all(type(r) is tuple for r in got)
    finally:
        book.close()
        fast.close()


def test_every_kind_of_cell_reads_as_openpyxl_reads_it(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.title = "报表"
    sheet.append(["title · 标题"])
    sheet.append([1, 2.5, -3, 1e20, 0, 1.0, "  spaced  ", "", None, "x"])
    sheet.append([True, False, "=A2+1", "=SUM(A2:B2)", "#N/A", '="a"&"b"'])
    sheet.append([datetime(2024, 1, 2, 3, 4), date(2024, 5, 6), time(7, 8)])
    sheet["E4"] = 12.5
    sheet["E4"].number_format = "0.00%"
    sheet["F4"] = 45000
    sheet["F4"].number_format = "yyyy-mm-dd"
    sheet["A6"] = CellRichText(["plain ", TextBlock(InlineFont(b=True), "bold")])
    sheet["B6"] = ArrayFormula("B6:B7", "=A2:A3")
    sheet["AB9"] = "far column"
    sheet["C12"] = 7  # rows 10 and 11 are missing from the file
    book.create_sheet("empty")
    only = book.create_sheet("title only")
    only["A1"] = "x"
    only.sheet_state = "hidden"
    book.save(tmp_path / "kinds.xlsx")
    _same(tmp_path / "kinds.xlsx")
    _same(tmp_path / "kinds.xlsx", data_only=True)


def test_write_only_workbooks_with_inline_strings(tmp_path):
    book = Workbook(write_only=True)
    for name in ("202401", "202402"):
        sheet = book.create_sheet(name)
        sheet.append(["村卫生室 月报"])
        sheet.append(["orgunit", "name", "total_visits"])
        sheet.append([])
        for number in range(50):
            sheet.append(
                [f"640323100{number:03d}", f"卫生室{number}", number * 10, 1.5, None, "&<>"]
            )
    book.save(tmp_path / "inline.xlsx")
    _same(tmp_path / "inline.xlsx")


SHARED = (
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3"'
    ' uniqueCount="3"><si><t>共享</t></si><si><r><t>rich</t></r><r><t xml:space="preserve">'
    " text</t></r></si><si><t/></si></sst>"
)
SHARED_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def _rewrite(path, target, sheet_xml: bytes) -> None:
    """The workbook at `path` with sheet1's XML replaced and a shared-string table added
    (Excel writes text there; openpyxl writes it inline)."""
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w") as out:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = sheet_xml
            elif item.filename == "[Content_Types].xml":
                override = (
                    f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SHARED_TYPE}"/>'
                )
                data = data.replace(b"</Types>", override.encode() + b"</Types>")
            out.writestr(item, data)
        out.writestr("xl/sharedStrings.xml", SHARED)


NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


@pytest.mark.parametrize(
    "sheet_data",
    [
        # no cell or row references (some generators leave them out)
        '<row><c t="inlineStr"><is><t>a</t></is></c><c><v>1</v></c></row><row><c><v>2</v></c></row>',
        # rows out of order and repeated, a row beyond the dimension, an empty row
        (
            '<row r="3"><c r="B3"><v>3</v></c></row><row r="2"><c r="A2"><v>2</v></c></row>'
            '<row r="5"/><row r="9"><c r="A9"><v>9</v></c></row>'
        ),
        # shared strings, errors, booleans, strings from formulas, a bare formula, empty values
        (
            '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="e"><v>#DIV/0!</v></c>'
            '<c r="H1" t="s"><v>1</v></c><c r="I1" t="s"><v>2</v></c>'
            '<c r="C1" t="b"><v>1</v></c><c r="D1" t="str"><f>A1</f><v>x</v></c>'
            '<c r="E1"><f>1+1</f></c><c r="F1"><v></v></c><c r="G1" t="s"/></row>'
        ),
        # shared formulas, inline rich text, whitespace kept, a date style, an ISO date
        (
            '<row r="1"><c r="A1"><f t="shared" ref="A1:A2" si="0">B1+1</f><v>1</v></c>'
            '<c r="B1" t="inlineStr"><is><r><t>x</t></r><r><t xml:space="preserve"> y</t></r></is></c>'
            '<c r="C1" t="inlineStr"><is><t xml:space="preserve">  z  </t></is></c>'
            '<c r="D1" t="inlineStr"><is><t/></is></c><c r="E1" s="1"><v>45000</v></c>'
            '<c r="F1" t="d"><v>2024-01-02T03:04:05</v></c></row>'
            '<row r="2"><c r="A2"><f t="shared" si="0"/><v>2</v></c></row>'
        ),
    ],
)
def test_hand_written_sheets_read_as_openpyxl_reads_them(tmp_path, sheet_data):
    book = Workbook()
    book.active["A1"] = "shared"
    book.active["B1"] = datetime(2024, 1, 1)  # a date style, s="1"
    book.save(tmp_path / "base.xlsx")
    dimension = '<dimension ref="A1:J6"/>' if "r=" in sheet_data else ""
    xml = f"<worksheet {NS}>{dimension}<sheetData>{sheet_data}</sheetData></worksheet>"
    _rewrite(tmp_path / "base.xlsx", tmp_path / "hand.xlsx", xml.encode())
    # The declared dimension is ignored (issue 18.10): openpyxl's rows, trimmed, then any row
    # the file holds beyond the dimension (row 9 of the second case).
    ours, theirs = (
        sheets.load(tmp_path / "hand.xlsx"),
        load_workbook(tmp_path / "hand.xlsx", read_only=True),
    )
    try:
        for mine, other in zip(ours.worksheets, theirs.worksheets, strict=True):
            got = _typed(sheets.rows(mine))
            expected = _typed(list(other.iter_rows(values_only=True)))
            assert got[: len(expected)] == expected
            beyond = got[len(expected) :]
            if 'r="9"' in sheet_data:  # rows 4-8 empty, row 9 holds 9
                assert beyond[-1] == [("int", 9)] and not any(beyond[:-1])
            else:
                assert beyond == []
    finally:
        ours.close()
        theirs.close()


def test_a_percent_formatted_number_reads_as_a_percent(tmp_path):
    """Issue 18.4: Excel keeps a typed 35% as 0.35 with a percent format; the reader says so
    (any format showing a % outside quotes), and only for those cells."""
    book = Workbook()
    sheet = book.active
    sheet.append([0.35, 0.35, 0.35, 0.35])
    sheet["A1"].number_format = "0%"
    sheet["B1"].number_format = "0.0#%"
    sheet["C1"].number_format = '0.0" %"'  # a quoted %: not a percent
    path = tmp_path / "percent.xlsx"
    book.save(path)
    loaded = sheets.load(path)
    (row,) = sheets.rows(loaded.worksheets[0])
    loaded.close()
    assert row == (0.35, 0.35, 0.35, 0.35)
    assert [isinstance(v, sheets.Percent) for v in row] == [True, True, False, False]
