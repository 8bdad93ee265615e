"""PDF output: the same blocks as the Word document, laid out by an HTML template and printed
by WeasyPrint. The stylesheet names the Noto CJK families explicitly: without an installed CJK
font WeasyPrint would print empty boxes, so `charts.cjk_font()` is checked first."""

from __future__ import annotations

import base64

from django.template.loader import render_to_string
from weasyprint import HTML

from xinglin.documents.charts import cjk_font
from xinglin.documents.content import Chart, Heading, Paragraph, Report, Table
from xinglin.documents.gather import ReportData


def render(report: Report, data: ReportData) -> bytes:
    cjk_font()  # fail loudly rather than print boxes
    html = render_to_string(
        "documents/report_pdf.html", {"report": report, "blocks": _blocks(report)}
    )
    return HTML(string=html).write_pdf()


def _blocks(report: Report) -> list[dict]:
    result = []
    for block in report.blocks:
        if isinstance(block, Heading):
            result.append({"type": "heading", "level": block.level, "text": block.text})
        elif isinstance(block, Paragraph):
            result.append({"type": "paragraph", "text": block.text})
        elif isinstance(block, Table):
            result.append({"type": "table", "caption": block.caption, "header": block.header,
                           "rows": block.rows})  # fmt: skip
        elif isinstance(block, Chart):
            image = base64.b64encode(block.png).decode("ascii")
            result.append({"type": "chart", "caption": block.caption,
                           "src": f"data:image/png;base64,{image}"})  # fmt: skip
    return result
