"""Report formats: each module has `render(report, data) -> bytes`; FORMATS registers them by
file extension (the `--output` suffix and the download links use the same keys).

The modules are imported when a document is first rendered, not when the URLs load: WeasyPrint
and matplotlib take seconds to import, and most requests never write a document."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from xinglin.documents.content import Report
    from xinglin.documents.gather import ReportData

Renderer = Callable[["Report", "ReportData"], bytes]


def _lazy(module: str) -> Renderer:
    def render(report: Report, data: ReportData) -> bytes:
        return import_module(f"xinglin.documents.formats.{module}").render(report, data)

    return render


FORMATS: dict[str, tuple[Renderer, str]] = {
    "docx": (
        _lazy("docx"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "pdf": (_lazy("pdf"), "application/pdf"),
    "xlsx": (_lazy("xlsx"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
