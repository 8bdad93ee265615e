from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from xinglin.collection.exports import FORMATS, render, value_rows
from xinglin.lib import periods
from xinglin.network.models import OrgUnit


class Command(BaseCommand):
    help = (
        "xinglin export values [--orgunit CODE] [--period P] [--format csv|json|xlsx] "
        "[--output FILE]: data values in the long layout orgunit,period,element,value,comment (the "
        "layout `xinglin import` reads). Runs as the system (every org unit)."
    )

    def add_arguments(self, parser):
        parser.add_argument("what", choices=["values"])
        parser.add_argument("--orgunit", help="this org unit and everything beneath it")
        parser.add_argument("--period", help="one period code: 2024, 2024Q1 or 202401")
        parser.add_argument("--format", choices=FORMATS, default="csv")
        parser.add_argument("--output", help="file to write (default: standard output)")

    def handle(self, *args, what, orgunit, period, format, output, **options):
        unit = None
        if orgunit:
            unit = OrgUnit.objects.filter(code=orgunit).first()
            if unit is None:
                raise CommandError(f"unknown org unit {orgunit}", returncode=2)
        if period:
            try:
                periods.parse(period)
            except periods.PeriodError as error:
                raise CommandError(str(error), returncode=2) from error
        if format == "xlsx" and not output:
            raise CommandError("--format xlsx needs --output FILE", returncode=2)
        data = render(value_rows(orgunit=unit, period=period), format)
        if output:
            Path(output).write_bytes(data)
        else:
            self.stdout.write(data.decode("utf-8"), ending="")
