from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from xinglin.lib.progress import progress_bar
from xinglin.network.actions import NetworkError, import_divisions


class Command(BaseCommand):
    help = (
        "Load the statistical divisions (统计用区划代码) shipped with Xinglin: all of them, or "
        "those under a province, city or county code, with their ancestors. Re-runnable."
    )

    def add_arguments(self, parser):
        parser.add_argument("code", nargs="?", help="province (64), city (6403) or county (640323)")

    def handle(self, *args, code=None, **options):
        started = time.perf_counter()
        try:
            with progress_bar("divisions") as update:
                result = import_divisions(code, progress=update)
        except NetworkError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"{result.created} divisions added, {result.unchanged} already there "
            f"({time.perf_counter() - started:.1f} s)"
        )
