from __future__ import annotations

from django.core.management.base import BaseCommand

from xinglin.lib.progress import progress_bar


class Command(BaseCommand):
    help = (
        "The analytic warehouse (DuckDB over Parquet). `export` brings the Parquet copy of what "
        "the evaluation engine reads (data values per year, derived values, techniques, the "
        "org-unit tree and its history) and of the visit records up to date, rewriting only "
        "what changed since the last export. `status` says when the copy was last read. `maintain` "
        "keeps the copy fresh: every few seconds it brings the writes committed since into it "
        "(`xinglin serve` starts it; docs/decisions/0014-fresh-warehouse.md)."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("export", help="write changed tables to Parquet under var/warehouse")
        sub.add_parser("status", help="show what the export holds and when it was written")
        maintain = sub.add_parser("maintain", help="keep the copy fresh (started by serve)")
        maintain.add_argument("--parent", type=int, default=None, help="the server's process id")
        maintain.add_argument("--interval", type=float, default=None,
                              help="seconds between rounds (WAREHOUSE_FRESH_SECONDS)")  # fmt: skip

    def handle(self, *args, **options):
        from xinglin.warehouse.engine import Warehouse, default_root
        from xinglin.warehouse.export import export_tables, export_time

        root = default_root()
        if options["action"] == "status":
            from xinglin.warehouse.fresh import delta_files

            self.stdout.write(f"{root}: last export {export_time(root) or 'never'}, "
                              f"{len(delta_files(root))} delta files")  # fmt: skip
            return
        if options["action"] == "maintain":
            from xinglin.warehouse.fresh import run_forever

            run_forever(root, interval=options["interval"], parent=options["parent"])
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
