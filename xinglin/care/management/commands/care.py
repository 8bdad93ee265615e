from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from xinglin.care.retention import cutoff, purge_care_records
from xinglin.core.models import EventKind
from xinglin.core.security import record_event


class Command(BaseCommand):
    help = (
        "Care records. `purge [--dry-run]` deletes care records (assessments, child guidance, "
        "HIS visits, rehabilitation cases, referrals, and health records left without any) "
        "older than XINGLIN_CARE_RETENTION_YEARS years and prints the counts; --dry-run only "
        "counts."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        purge = sub.add_parser(
            "purge", help="delete care records older than XINGLIN_CARE_RETENTION_YEARS"
        )
        purge.add_argument(
            "--dry-run", action="store_true", help="count what would go, delete nothing"
        )

    def handle(self, *args, action, dry_run=False, **options):
        before = cutoff()
        counts = purge_care_records(before=before, dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        years = settings.CARE_RETENTION_YEARS
        self.stdout.write(f"Retention {years} years: records before {before} {verb}:")
        for name, count in counts.items():
            self.stdout.write(f"  {name}: {count}")
        if not dry_run:
            detail = "care purge before {}: {}".format(
                before, ", ".join(f"{k}={v}" for k, v in counts.items())
            )
            record_event(EventKind.PURGE, username="(command)", detail=detail)
