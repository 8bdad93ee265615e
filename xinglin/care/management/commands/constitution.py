from __future__ import annotations

import sys
from pathlib import Path

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from xinglin.care.actions import CareError, import_assessments, read_assessment_file
from xinglin.care.constitution import ConstitutionInputError, score_csv
from xinglin.lib import uploads
from xinglin.network import access


class Command(BaseCommand):
    help = (
        "Constitution assessments (老年人中医药健康管理). `score IN.csv --output OUT.csv` scores "
        "a file with the columns id,q1..q33 (answers 1-5) and writes id and, per constitution, "
        "<name>_score and <name>_result; a bad or missing answer exits 2 naming the row and "
        "column, and writes no output. `import FILE` records assessments from a .csv or .xlsx "
        "sheet; all or nothing: any row error changes nothing and exits 2."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        score = sub.add_parser("score", help="score a questionnaire CSV")
        score.add_argument("input")
        score.add_argument("--output", "-o", required=True)
        load = sub.add_parser("import", help="import assessments from .csv or .xlsx")
        load.add_argument("file")
        load.add_argument(
            "--as",
            dest="username",
            help="record as this user, limited to the institutions they may report for",
        )

    def handle(self, *args, action, **options):
        if action == "score":
            return self._score(options["input"], options["output"])
        return self._import(options["file"], options.get("username"))

    def _score(self, input_path: str, output: str) -> None:
        if not Path(input_path).is_file():
            raise CommandError(f"{input_path}: no such file", returncode=2)
        try:
            uploads.check_file(Path(input_path))
            count = score_csv(input_path, output)
        except (ConstitutionInputError, uploads.TooLarge) as error:
            raise CommandError(str(error), returncode=2) from error
        self.stdout.write(f"{count} questionnaires scored: {output}")

    def _import(self, file: str, username: str | None) -> None:
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file", returncode=2)
        user, allowed = None, None
        if username:
            user = User.objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"no user {username!r}", returncode=2)
            allowed = lambda unit: access.can(user, "report", unit)  # noqa: E731
        try:
            result = import_assessments(
                read_assessment_file(path.name, uploads.read_file(path)), user=user, allowed=allowed
            )
        except (CareError, uploads.TooLarge) as error:
            raise CommandError(str(error), returncode=2) from error
        if result.errors:
            for error in result.errors:
                self.stderr.write(f"{file}: {error}")
            self.stderr.write(f"{file}: rejected, nothing was written")
            sys.exit(2)
        self.stdout.write(
            f"{result.created} assessments added, {result.replaced} replaced, "
            f"{result.incomplete} incomplete (not counted toward the rate)"
        )
