"""Benchmark: one evaluation of demo-county-2022 for a county of ≈300 institutions × 5 years.

Builds the county in a throw-away SQLite file (9 real townships of 盐池县, each with a health
centre and about 32 village clinics, plus the county hospitals), fills five years of figures
with the demo generator (monthly visits, every yearly element, techniques, surveys), then times
`evaluate("demo-county-2022", "640323", "2022")` for the county and everything beneath it.
Target: < 0.2 s on SQLite. Run: python bench/bench_engine.py [--clinics N] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 0.2


def setup(database: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ["XINGLIN_DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinglin.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build(clinics: int) -> int:
    from xinglin.demo import DemoContext, places
    from xinglin.evaluation import demo as evaluation_demo
    from xinglin.network import demo as network_demo
    from xinglin.network.actions import create_institution
    from xinglin.network.models import OrgUnit

    context = DemoContext(places=places("yanchi"))  # the one county this benchmark measures
    network_demo.build(context)
    for township in network_demo.TOWNSHIPS:
        parent = OrgUnit.objects.get(code=township)
        for number in range(1, clinics + 1):
            code = f"{township}1{number:02d}"
            if not OrgUnit.objects.filter(code=code).exists():
                create_institution(code=code, name=f"村卫生室{number}", institution_type="village_clinic",
                                   parent=parent)  # fmt: skip
    evaluation_demo.build(context)
    return OrgUnit.objects.filter(kind="institution").count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clinics", type=int, default=32, help="village clinics per township")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        setup(Path(directory) / "bench.sqlite3")
        started = time.perf_counter()
        institutions = build(args.clinics)
        print(
            f"county built: {institutions} institutions, 5 years ({time.perf_counter() - started:.1f} s)"
        )
        from xinglin.evaluation.engine import evaluate

        first = evaluate("demo-county-2022", "640323", "2022")
        times = [evaluate("demo-county-2022", "640323", "2022").seconds for _ in range(args.repeat)]
        best, median = min(times), statistics.median(times)
        print(f"results per evaluation: {len(first.results)}")
        print(f"first evaluation (compiling SQL): {first.seconds:.3f} s")
        print(
            f"evaluation of demo-county-2022, 640323, 2022: best {best:.3f} s, median {median:.3f} s "
            f"(target < {TARGET_SECONDS} s) {'OK' if median < TARGET_SECONDS else 'SLOW'}"
        )


if __name__ == "__main__":
    main()
