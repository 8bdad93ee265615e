"""PDF output: the same blocks as the Word document, laid out by an HTML template and printed
by WeasyPrint, to the same GB/T 9704 layout (see docx.py): page numbers at the outer edge,
the issuing organ and date as 署名, header rows repeated, rows never split, columns sized to
their content, ≥ / ≤ for targets.

Fonts: each face is a list, the office font first (仿宋_GB2312, 楷体_GB2312, 方正小标宋简体,
黑体 where installed), then the closest free face: body and title in Noto Serif CJK SC (a Song
face: no free 仿宋 covers simplified Chinese in Debian), second-level headings in AR PL UKai
(楷体, Debian fonts-arphic-ukai), first-level headings in Noto Sans CJK SC (a 黑体). Without an
installed CJK font WeasyPrint would print empty boxes, so `charts.cjk_font()` is checked first."""

from __future__ import annotations

import base64

from django.template.loader import render_to_string
from weasyprint import HTML

from xinglin.documents.charts import cjk_font
from xinglin.documents.content import Chart, Heading, Paragraph, Report, Table
from xinglin.documents.formats.docx import _signs, column_widths, issued_text, issuer
from xinglin.documents.gather import ReportData


def render(report: Report, data: ReportData) -> bytes:
    cjk_font()  # fail loudly rather than print boxes

    context = {"report": report, "blocks": _blocks(report), "issuer": issuer(report),
               "issued": issued_text(report)}  # fmt: skip
    html = render_to_string("documents/report_pdf.html", context)
    return HTML(string=html).write_pdf()


def _blocks(report: Report) -> list[dict]:
    result = []
    for block in report.blocks:
        if isinstance(block, Heading):
            result.append({"type": "heading", "level": block.level, "text": block.text})
        elif isinstance(block, Paragraph):
            result.append({"type": "paragraph", "text": _signs(block.text)})
        elif isinstance(block, Table):
            rows = [[_signs(str(c)) for c in row] for row in block.rows]
            widths = column_widths([block.header, *rows], 10000)
            result.append({"type": "table", "caption": block.caption, "header": block.header,
                           "rows": rows, "widths": [w / 100 for w in widths]})  # fmt: skip
        elif isinstance(block, Chart):
            image = base64.b64encode(block.png).decode("ascii")
            result.append({"type": "chart", "caption": block.caption,
                           "src": f"data:image/png;base64,{image}"})  # fmt: skip
    return result
