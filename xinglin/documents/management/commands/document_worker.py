from __future__ import annotations

from django.core.management.base import BaseCommand

from xinglin.documents import pool


class Command(BaseCommand):
    help = (
        "Run the background document generators (settings DOCUMENT_WORKERS, default 2). "
        "`xinglin serve` starts it; with --parent it stops when that process is gone."
    )

    def add_arguments(self, parser):
        parser.add_argument("--parent", type=int, default=None, help="the server's process id")

    def handle(self, *args, parent, **options):
        pool.run_forever(parent)
