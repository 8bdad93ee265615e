from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from xinglin.core.models import EventKind
from xinglin.core.security import record_event
from xinglin.web.backup import BackupError, backup


class Command(BaseCommand):
    help = "Write the database and the uploaded files to FILE (.tar.gz)."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **options):
        try:
            manifest = backup(Path(file))
        except (BackupError, OSError) as error:
            raise CommandError(str(error)) from error
        record_event(EventKind.BACKUP, username="(command)", detail=file)
        self.stdout.write(f"{file}: {manifest['engine']} backup written")
