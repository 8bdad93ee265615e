"""`xinglin surveys load|plan|results|feed`: instruments, sampling plans, rates, and the
hand-over of yearly counts to the evaluation engine."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from xinglin.network.models import OrgUnit
from xinglin.surveys.actions import feed_engine, load_instruments
from xinglin.surveys.instruments import InstrumentError
from xinglin.surveys.models import Instrument
from xinglin.surveys.results import derived_rows, sampling_plan, survey_results


class Command(BaseCommand):
    help = "Survey instruments, sampling plans, results, and feeding the engine."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        sub.add_parser("load", help="load and check xinglin/surveys/instruments/*.yaml")
        plan = sub.add_parser("plan", help="sample size and allocation across divisions")
        plan.add_argument("instrument", help="instrument code, e.g. resident_satisfaction")
        plan.add_argument("year", help="survey year, e.g. 2025")
        plan.add_argument("orgunit", help="the division to sample, e.g. 640323")
        plan.add_argument("--margin", type=float, help="e.g. 0.05 for ±5 points")
        plan.add_argument("--expected", type=float, help="expected proportion, e.g. 0.5")
        results = sub.add_parser("results", help="rates with 95%% Wilson intervals")
        results.add_argument("instrument", help="instrument code, e.g. resident_satisfaction")
        results.add_argument("year", help="survey year, e.g. 2025")
        results.add_argument("orgunit", help="county or township code, e.g. 640323")
        feed = sub.add_parser("feed", help="hand the yearly counts to the evaluation engine")
        feed.add_argument("years", nargs="+", help="years whose counts go to the engine")
        feed.add_argument("--dry-run", action="store_true", help="print the rows only")

    def handle(self, *args, **options):
        getattr(self, f"_{options['what']}")(options)

    def _load(self, options):
        try:
            result = load_instruments()
        except InstrumentError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"created {len(result.created)}, changed {len(result.changed)}, "
            f"unchanged {len(result.unchanged)}; {result.rescored} responses re-scored"
        )

    def _lookup(self, options) -> tuple[Instrument, OrgUnit]:
        instrument = Instrument.objects.filter(code=options["instrument"]).first()
        unit = OrgUnit.objects.filter(code=options["orgunit"]).first()
        if instrument is None or unit is None:
            raise CommandError("unknown instrument or org unit")
        return instrument, unit

    def _plan(self, options):
        instrument, unit = self._lookup(options)
        plan = sampling_plan(
            instrument, options["year"], unit, options["margin"], options["expected"]
        )
        self.stdout.write(
            f"{unit.name} {plan.period}: population {plan.population:.0f} "
            f"({plan.population_element.code}, {plan.population_period}), "
            f"n = {plan.sample} for ±{plan.margin:.3f} at 95%"
        )
        for a in plan.assignments:
            self.stdout.write(
                f"{a.orgunit.code}\t{a.orgunit.name}\t{a.population:.0f}\t{a.sample}"
                f"\t{a.first:04d}-{a.last:04d}"
            )

    def _results(self, options):
        instrument, unit = self._lookup(options)
        result = survey_results(instrument, options["year"], unit)
        for row in [result.total, *result.parts]:
            i = row.interval
            figures = f"{i.estimate:.3f} [{i.lower:.3f}, {i.upper:.3f}]" if i else "-"
            self.stdout.write(
                f"{row.orgunit.code}\t{row.orgunit.name}\t{row.positive}/"
                f"{row.respondents}\t{figures}\t{row.status}"
            )

    def _feed(self, options):
        if options["dry_run"]:
            for row in derived_rows(options["years"]):
                self.stdout.write("\t".join(map(str, row)))
            return
        count = feed_engine(options["years"])
        if count is None:
            raise CommandError("the evaluation engine (replace_derived_values) is not there yet")
        self.stdout.write(f"{count} values handed to the engine")
