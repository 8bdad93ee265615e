"""Results as JSON, CSV, Excel and a terminal table (the same figures everywhere)."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence

from openpyxl import Workbook
from rich.console import Console
from rich.table import Table

from xinglin.evaluation.engine import Evaluation
from xinglin.evaluation.results import Result
from xinglin.lib import cells

# The public JSON fields (issue 3), first and in this order; the rest follow.
FIELDS = [
    "pack", "indicator", "item", "name", "orgunit", "period", "value", "numerator",
    "denominator", "target", "status", "gap", "failing",
]  # fmt: skip
EXTRA = ["orgunit_name", "level", "unit", "included", "missing", "due", "veto", "points",
         "sources", "kind", "why"]  # fmt: skip
COLUMNS = FIELDS + EXTRA


def as_rows(results: Sequence[Result]) -> list[dict[str, object]]:
    return [{key: getattr(r, key) for key in COLUMNS} for r in results]


def render(results: Sequence[Result], fmt: str) -> str | bytes:
    if fmt == "json":
        return json.dumps(as_rows(results), ensure_ascii=False, indent=1) + "\n"
    if fmt == "csv":
        return to_csv(results)
    if fmt == "xlsx":
        return to_xlsx(results)
    raise ValueError(f"unknown format {fmt!r}")


def _flat(value: object) -> object:
    if isinstance(value, list):
        return " ".join(value)
    if isinstance(value, dict):
        return "; ".join(f"{k} {v}" for k, v in value.items())
    return value


def to_csv(results: Sequence[Result]) -> str:
    buffer = io.StringIO()
    writer = cells.writer(buffer)
    writer.writerow(COLUMNS)
    for row in as_rows(results):
        writer.writerow(["" if row[k] is None else _flat(row[k]) for k in COLUMNS])
    return buffer.getvalue()


def to_xlsx(results: Sequence[Result]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "results"
    sheet.append(COLUMNS)
    for row in as_rows(results):
        sheet.append([_flat(row[k]) for k in COLUMNS])
    sheet.freeze_panes = "A2"
    cells.text_typed(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _figure(result: Result) -> str:
    if result.value is None:
        return "—"
    if result.unit == "percent":
        return f"{result.value * 100:.1f}%"
    return f"{result.value:g}"


def print_table(evaluation: Evaluation, output: str | None = None) -> None:
    """The evaluated unit's indicators, one row each, and its verdict (rich)."""

    colours = {"met": "green", "not_met": "red", "no_data": "yellow",
               "not_applicable": "dim", "awaiting_evidence": "cyan",
               "data_error": "magenta", "target_unset": "blue"}  # fmt: skip
    table = Table(title=f"{evaluation.pack.code} · {evaluation.orgunit} · {evaluation.period}")
    for column in ("item", "indicator", "value", "target", "status", "gap", "failing"):
        table.add_column(column)
    for r in evaluation.at(evaluation.orgunit.code):
        status = f"[{colours[r.status]}]{r.status}[/]" + ("" if r.due else " (not due)")
        gap = "" if r.gap is None else f"{r.gap:g}"
        table.add_row(str(r.item or ""), r.indicator, _figure(r), r.target, status, gap,
                      str(len(r.failing) or ""))  # fmt: skip
    file = open(output, "w", encoding="utf-8") if output else None  # noqa: SIM115
    console = Console(file=file, width=140)
    console.print(table)
    verdict = evaluation.verdict
    console.print(f"verdict: {verdict.status} {verdict.counts} ({evaluation.seconds:.2f} s"
                  f" on the {evaluation.backend})")  # fmt: skip
    if file:
        file.close()
