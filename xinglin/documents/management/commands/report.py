from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from xinglin.documents.actions import render_document
from xinglin.documents.formats import FORMATS
from xinglin.documents.models import ReportKind
from xinglin.lib.periods import PeriodError, parse
from xinglin.network.models import OrgUnit


class Command(BaseCommand):
    help = (
        "Write a report: annual summary, mid-term or final evaluation of an org unit for a year, "
        "as .docx, .pdf or .xlsx (chosen by the output file's suffix). Exit 0 when written; "
        "exit 2 on an unknown org unit, period or format."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=ReportKind.values)
        parser.add_argument("--orgunit", required=True)
        parser.add_argument("--period", required=True, help="a year, e.g. 2025")
        parser.add_argument("--output", required=True, help="FILE.docx, FILE.pdf or FILE.xlsx")

    def handle(self, *args, kind, orgunit, period, output, **options):
        fmt = Path(output).suffix.lower().lstrip(".")
        if fmt not in FORMATS:
            raise CommandError(f"{output}: unknown format; use .docx, .pdf or .xlsx", returncode=2)
        unit = OrgUnit.objects.filter(code=orgunit).first()
        if unit is None:
            raise CommandError(f"{orgunit}: no such org unit", returncode=2)
        year = _year(period)
        content = render_document(kind, unit, year, fmt)
        Path(output).write_bytes(content)
        self.stdout.write(
            f"{output}: {kind} report of {unit.name} ({unit.code}) for {year} written"
        )


def _year(period: str) -> int:
    try:
        parsed = parse(period)
    except PeriodError as error:
        raise CommandError(f"{period}: not a period code", returncode=2) from error
    if parsed.type != "yearly":
        raise CommandError(f"{period}: reports are yearly; give a year such as 2025", returncode=2)
    return parsed.year
