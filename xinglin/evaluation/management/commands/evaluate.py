from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from xinglin.evaluation import exports
from xinglin.evaluation.engine import BACKENDS, EvaluationError, evaluate
from xinglin.warehouse import Warehouse, WarehouseError

FORMATS = ("table", "json", "csv", "xlsx")


class Command(BaseCommand):
    help = (
        "Evaluate an indicator pack for an org unit (and every unit beneath it) and a year. "
        "Percentages are fractions (0.35). Exit 2 on an unknown pack, org unit or period."
    )

    def add_arguments(self, parser):
        parser.add_argument("--pack", required=True, help="pack code, e.g. demo-county-2022")
        parser.add_argument("--orgunit", required=True, help="org-unit code, e.g. 640323")
        parser.add_argument("--period", required=True, help="year, e.g. 2024")
        parser.add_argument("--format", choices=FORMATS, default="table")
        parser.add_argument("--output", help="write to this file instead of standard output")
        parser.add_argument(
            "--backend",
            choices=BACKENDS,
            default="auto",
            help="database, warehouse (DuckDB over `xinglin warehouse export`), spark (Spark SQL"
            " over the same export; XINGLIN_SPARK_MASTER, default local[2]) or auto (default:"
            " for large scopes when an export exists, XINGLIN_LARGE_SCOPE_BACKEND: warehouse or"
            " spark)",
        )
        parser.add_argument(
            "--warehouse",
            help="the Parquet warehouse to read (default: var/warehouse, `xinglin warehouse"
            " export`; a national one: `export --layout national --to DIR`)",
        )

    def handle(self, *args, **options):
        warehouse = Warehouse(Path(options["warehouse"])) if options["warehouse"] else None
        if warehouse is not None and not Path(options["warehouse"]).is_dir():
            raise CommandError(f"no warehouse folder {options['warehouse']}", returncode=2)
        try:
            evaluation = evaluate(options["pack"], options["orgunit"], options["period"],
                                  backend=options["backend"], warehouse=warehouse)  # fmt: skip
        except (EvaluationError, WarehouseError) as error:
            raise CommandError(str(error), returncode=2) from error
        fmt, output = options["format"], options["output"]
        if fmt == "xlsx" and not output:
            raise CommandError("--format xlsx needs --output FILE", returncode=2)
        if fmt == "table":
            exports.print_table(evaluation, output)
            return
        content = exports.render(evaluation.results, fmt)
        if output:
            mode = "wb" if isinstance(content, bytes) else "w"
            with open(output, mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as handle:
                handle.write(content)
            self.stderr.write(f"{len(evaluation.results)} results written to {output}")
        else:
            sys.stdout.write(content)
