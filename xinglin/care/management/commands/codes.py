from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from xinglin.care.actions import CareError
from xinglin.care.models import CodeSystem
from xinglin.care.visit_codes import load_codes, load_default_codes
from xinglin.lib import uploads


class Command(BaseCommand):
    help = (
        "Diagnosis code lists. `load FILE --system icd10|gbt15657-disease|gbt15657-syndrome` "
        "loads a CSV, TSV or xlsx file with code,name columns (编码/名称 accepted), such as the "
        "official lists a bureau holds; `load --defaults` loads the partial lists shipped in "
        "xinglin/care/data/codes/ (see SOURCE.md there). A bad row exits 2 and loads nothing."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="load a code list")
        load.add_argument("file", nargs="?")
        load.add_argument("--system", choices=CodeSystem.values)
        load.add_argument("--defaults", action="store_true", help="load the shipped lists")
        load.add_argument(
            "--replace", action="store_true", help="remove the system's codes not in the file"
        )

    def handle(self, *args, action, file=None, system=None, defaults=False, replace=False, **o):
        if defaults:
            self.stdout.write(f"{load_default_codes()} codes loaded")
            return
        if not file or not system:
            raise CommandError("give FILE and --system, or --defaults", returncode=2)
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file", returncode=2)
        try:
            uploads.check_file(path)
            count = load_codes(path, system, replace=replace)
        except (CareError, uploads.TooLarge) as error:
            raise CommandError(str(error), returncode=2) from error
        self.stdout.write(f"{count} {system} codes loaded from {path.name}")
