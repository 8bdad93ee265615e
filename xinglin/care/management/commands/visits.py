from __future__ import annotations

from pathlib import Path

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from xinglin.care.actions import CareError
from xinglin.care.models import VisitColumnMapping
from xinglin.care.visit_figures import derive_visit_figures
from xinglin.care.visits import import_visits
from xinglin.lib import uploads
from xinglin.lib.progress import progress_bar
from xinglin.network import access


class Command(BaseCommand):
    help = (
        "Visit records from HIS exports. `import FILE [--mapping CODE] [--as USER]` imports a "
        ".csv/.xlsx export in the default layout (data/visit_layout.yaml) or with the saved "
        "column mapping of institution CODE; all or nothing: any row error exits 2, names the "
        "rows and changes nothing. `derive YEAR [--warehouse]` hands total_visits, tcm_visits "
        "and the techniques delivered per institution and month to the engine (from the "
        "operational database, or from the Parquet warehouse after `export`). `export` brings "
        "the warehouse's Parquet copy of the visits up to date (incremental)."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser(
            "import", help="import an HIS visit export (.csv/.xlsx); all or nothing"
        )
        load.add_argument("file", help="the export file")
        load.add_argument("--mapping", help="institution code whose saved column mapping to use")
        load.add_argument("--as", dest="username", help="limit to this user's report scope")
        derive = sub.add_parser(
            "derive", help="derive total_visits, tcm_visits and techniques for a year"
        )
        derive.add_argument("year", type=int, help="e.g. 2025")
        derive.add_argument(
            "--warehouse",
            action="store_true",
            help="compute on DuckDB over the Parquet export (large volumes)",
        )
        sub.add_parser("export", help="export new visits to the Parquet warehouse (incremental)")

    def handle(self, *args, action, **options):
        if action == "import":
            return self._import(options["file"], options["mapping"], options["username"])
        if action == "derive":
            return self._derive(options["year"], options["warehouse"])
        return self._export()

    def _import(self, file: str, code: str | None, username: str | None) -> None:
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file", returncode=2)
        mapping = None
        if code:
            mapping = VisitColumnMapping.objects.filter(institution__code=code).first()
            if mapping is None:
                raise CommandError(f"no saved column mapping for {code}", returncode=2)
        allowed = None
        if username:
            user = User.objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"no user {username!r}", returncode=2)
            allowed = lambda unit: access.can(user, "report", unit)  # noqa: E731
        with progress_bar(f"import {path.name}") as update:
            try:
                result = import_visits(
                    path.name,
                    uploads.read_file(path),
                    mapping=mapping,
                    allowed=allowed,
                    progress=update,
                )
            except (CareError, uploads.TooLarge) as error:
                raise CommandError(f"{path.name}: {error}", returncode=2) from error
        if result.errors:
            for error in result.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{result.error_count} errors; nothing was imported", returncode=2)
        self.stdout.write(
            f"{result.rows} visits imported ({result.tcm_visits} TCM visits) for "
            f"{len(result.institutions)} institutions, months {result.months[0]}–"
            f"{result.months[-1]}; {result.replaced} earlier visits replaced; "
            f"{result.unknown_codes} codes not on the loaded lists"
        )

    def _derive(self, year: int, use_warehouse: bool) -> None:
        warehouse = None
        if use_warehouse:
            from xinglin.warehouse import Warehouse
            from xinglin.warehouse.engine import default_root

            warehouse = Warehouse(default_root())
        derived = derive_visit_figures(year, warehouse=warehouse)
        self.stdout.write(
            f"{derived.figures} figures and {derived.techniques} techniques delivered for {year} "
            f"handed to the engine (from the {derived.engine})"
        )

    def _export(self) -> None:
        from xinglin.care.visit_warehouse import export_visits
        from xinglin.warehouse import Warehouse
        from xinglin.warehouse.engine import default_root

        with progress_bar("export visits") as update:
            result = export_visits(Warehouse(default_root()), progress=update)
        self.stdout.write(
            f"{result.written} batches written ({result.rows} visits), {result.removed} removed, "
            f"{result.unchanged} unchanged"
        )
