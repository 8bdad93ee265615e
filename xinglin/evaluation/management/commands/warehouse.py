from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from xinglin.lib.progress import progress_bar


class Command(BaseCommand):
    help = (
        "The analytic warehouse (DuckDB over Parquet). `export` brings the Parquet copy of what "
        "the evaluation engine reads (data values per year, derived values, techniques, the "
        "org-unit tree and its history) and of the visit records up to date, rewriting only "
        "what changed since the last export. `status` says when the copy was last read. `maintain` "
        "keeps the copy fresh: every few seconds it brings the writes committed since into it "
        "(`xinglin serve` starts it; docs/decisions/0014-fresh-warehouse.md). "
        "`export --layout national --to DIR` writes each province's partition of a national "
        "warehouse instead (codes, not ids; docs/national-deployment.md)."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser(
            "export", help="write changed tables to Parquet under var/warehouse"
        )
        export.add_argument(
            "--layout",
            choices=("standard", "national"),
            default="standard",
            help="standard (this database's warehouse, incremental) or national "
            "(collection_datavalue/province=<code>/<year>.parquet …, by code)",
        )
        export.add_argument("--to", help="the folder to write (default: the warehouse folder)")
        export.add_argument(
            "--province",
            action="append",
            help="national layout: only this province's partition (a code; repeatable)",
        )
        status = sub.add_parser("status", help="show what the export holds and when it was written")
        status.add_argument("--to", help="the folder to read (default: the warehouse folder)")
        maintain = sub.add_parser("maintain", help="keep the copy fresh (started by serve)")
        maintain.add_argument("--parent", type=int, default=None, help="the server's process id")
        maintain.add_argument("--interval", type=float, default=None,
                              help="seconds between rounds (WAREHOUSE_FRESH_SECONDS)")  # fmt: skip

    def handle(self, *args, **options):
        from pathlib import Path

        from xinglin.warehouse.engine import Warehouse, default_root
        from xinglin.warehouse.export import export_tables, export_time

        root = Path(options["to"]) if options.get("to") else default_root()
        if options["action"] == "status":
            from xinglin.warehouse.fresh import delta_files

            self.stdout.write(f"{root}: last export {export_time(root) or 'never'}, "
                              f"{len(delta_files(root))} delta files")  # fmt: skip
            return
        if options["action"] == "maintain":
            from xinglin.warehouse.fresh import run_forever

            run_forever(root, interval=options["interval"], parent=options["parent"])
            return
        if options["layout"] == "national":
            self._national(root, options["province"])
            return
        with progress_bar("export tables") as update:
            result = export_tables(root, progress=update)
        self.stdout.write(
            f"tables: {len(result.written)} files written ({result.rows} rows), "
            f"{result.unchanged} unchanged, {len(result.removed)} removed"
        )
        from xinglin.care.visit_warehouse import export_visits

        with progress_bar("export visits") as update:
            visits = export_visits(Warehouse(root), progress=update)
        self.stdout.write(
            f"visits: {visits.written} batches written ({visits.rows} rows), "
            f"{visits.unchanged} unchanged, {visits.removed} removed"
        )

    def _national(self, root, provinces) -> None:
        from xinglin.warehouse.national import export_national

        try:
            with progress_bar("export provinces") as update:
                result = export_national(root, provinces, progress=update)
        except ValueError as error:
            raise CommandError(str(error), returncode=2) from error
        self.stdout.write(
            f"national layout under {root}: {len(result.written)} files written"
            f" ({result.rows} rows), {len(result.removed)} removed"
        )
