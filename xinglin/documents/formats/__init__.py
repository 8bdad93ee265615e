"""Report formats: each module has `render(report, data) -> bytes`; FORMATS registers them by
file extension (the `--output` suffix and the download links use the same keys)."""

from __future__ import annotations

from collections.abc import Callable

from xinglin.documents.content import Report
from xinglin.documents.formats import docx, pdf, xlsx
from xinglin.documents.gather import ReportData

Renderer = Callable[[Report, ReportData], bytes]

FORMATS: dict[str, tuple[Renderer, str]] = {
    "docx": (
        docx.render,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "pdf": (pdf.render, "application/pdf"),
    "xlsx": (xlsx.render, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
