"""The error report of the text formats (CSV, JSON): a CSV of row, field, severity, message."""

from __future__ import annotations

from pathlib import Path

from xinglin.collection.batch import Problem
from xinglin.lib import cells


def write(problems: list[Problem], report: Path) -> None:
    with open(report, "w", encoding="utf-8-sig", newline="") as handle:
        writer = cells.writer(handle)
        writer.writerow(["row", "field", "severity", "message"])
        for problem in problems:
            location = problem.location
            writer.writerow([location.row, location.field, problem.severity, problem.message])
