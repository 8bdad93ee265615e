from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from xinglin.collection.actions import STRATEGIES, import_file
from xinglin.lib.progress import progress_bar


class Command(BaseCommand):
    help = (
        "Import data values from a workbook (.xlsx, the form template), a long CSV "
        "orgunit,period,element,value (UTF-8 or GBK, BOM or not) or a DHIS2 dataValueSets "
        "JSON file. All or nothing: exit 0 when imported (prints added/changed/unchanged), exit "
        "2 when rejected (prints each error with its row and the path of the error report; "
        "nothing is written). Runs as the system: no reporting scope applies, but approved "
        "(locked) forms are still refused."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="check only; write nothing")
        parser.add_argument(
            "--strategy",
            choices=STRATEGIES,
            default=STRATEGIES[0],
            help="delete: remove the stored values the file names (their values are ignored)",
        )
        parser.add_argument(
            "--confirm-warnings",
            action="store_true",
            help="accept warnings (e.g. a 5x jump on last year); they are recorded",
        )
        parser.add_argument(
            "--id-scheme",
            choices=("code", "uid"),
            default="code",
            help="uid: the file names elements and org units by DHIS2 UIDs, translated through "
            "the code mapping (xinglin load-code-mapping); codes without a mapping pass through",
        )
        parser.add_argument("--report", help="where to write the error report")
        parser.add_argument(
            "--if-unchanged-since",
            type=_moment,
            metavar="ISO_DATETIME",
            help="refuse (all or nothing) every row whose stored value was changed after this "
            "time (e.g. 2026-12-01T08:00:00+08:00; without an offset, local time): the error "
            "names the row, the newer value's time and its author",
        )

    def handle(
        self, *args, file, dry_run, confirm_warnings, report, strategy, id_scheme, **options
    ):
        since = options.get("if_unchanged_since")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file", returncode=2)
        with progress_bar(f"import {path.name}") as update:
            result = import_file(
                path,
                dry_run=dry_run,
                confirm_warnings=confirm_warnings,
                report=Path(report) if report else None,
                progress=update,
                strategy=strategy,
                codes=_codes(id_scheme),
                if_unchanged_since=since,
            )
        if result.errors or (result.warnings and not confirm_warnings):
            self._reject(file, result)
        for warning in result.warnings:
            self.stdout.write(f"{file}: {_where(warning)}warning: {warning.message} (confirmed)")
        verb = "would be" if dry_run else "were"
        self.stdout.write(
            f"{result.added} values {verb} added, {result.changed} changed, "
            f"{result.unchanged} unchanged"
            + (f", {result.deleted} deleted" if strategy == "delete" else "")
            + (" (dry run: nothing written)" if dry_run else "")
        )

    def _reject(self, file, result) -> None:
        for problem in result.problems:
            kind = "error" if problem.is_error else "warning"
            self.stderr.write(f"{file}: {_where(problem)}{kind}: {problem.message}")
        if not result.errors:
            self.stderr.write(f"{file}: warnings need --confirm-warnings")
        if result.report:
            self.stderr.write(f"error report: {result.report}")
        self.stderr.write(f"{file}: rejected, nothing was written")
        sys.exit(2)


def _codes(id_scheme: str):
    if id_scheme != "uid":
        return None
    from xinglin.api.mapping import CodeMap

    return CodeMap.load("dhis2")


def _moment(text: str) -> datetime:
    """An ISO 8601 date and time (a date alone is its midnight); local time without an
    offset."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO date and time (e.g. 2026-12-01T08:00:00+08:00)"
        ) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _where(problem) -> str:
    location = problem.location
    parts = []
    if location.sheet:
        parts.append(f"sheet {location.sheet}")
    if location.row:
        parts.append(f"row {location.row}")
    if location.field:
        parts.append(f"field {location.field}")
    return (", ".join(parts) + ": ") if parts else ""
