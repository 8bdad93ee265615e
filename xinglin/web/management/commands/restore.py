from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from xinglin.core.models import EventKind
from xinglin.core.security import record_event
from xinglin.web.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "Replace the database and the uploaded files with those of a backup FILE written by "
        "`xinglin backup` on the same kind of database. Stop the server first."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **options):
        try:
            manifest = restore(Path(file))
        except (BackupError, OSError) as error:
            raise CommandError(str(error)) from error
        record_event(EventKind.RESTORE, username="(command)", detail=file)
        self.stdout.write(f"{file}: restored ({manifest['engine']}, {manifest['created_at']})")
