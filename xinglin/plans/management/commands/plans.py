from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from xinglin.network.models import OrgUnit
from xinglin.plans.actions import load_departments, load_plan
from xinglin.plans.digest import send_digests
from xinglin.plans.indicators import INDICATOR_PACKS_DIR
from xinglin.plans.packs import PACKS_DIR, check_packs, read_packs


class Command(BaseCommand):
    help = (
        "Plan packs. `plans check` validates every plan pack (unknown departments, duplicate "
        "task numbers, bad dates, unknown phases and indicator links) and exits 2 naming file "
        "and task. `plans load [--orgunit CODE] [--pack PACK]` loads the departments and the "
        "plans for a county (default: each pack's own division, when it exists). `plans digest` "
        "e-mails each department's weekly digest when XINGLIN_SMTP_HOST is set."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        check = sub.add_parser(
            "check", help="validate every plan pack; exit 2 naming file and task"
        )
        check.add_argument("--dir", default=str(PACKS_DIR), help="plan pack directory")
        check.add_argument(
            "--indicators",
            default=str(INDICATOR_PACKS_DIR),
            help="directory of the indicator packs the links point to",
        )
        load = sub.add_parser("load", help="load departments and plans for a county")
        load.add_argument("--orgunit", help="county (org unit) code, e.g. 640323")
        load.add_argument("--pack", action="append", help="only this pack (repeatable)")
        digest = sub.add_parser("digest", help="e-mail each department its weekly digest")
        digest.add_argument(
            "--orgunit", default=None, help="county code (default: every county with plans)"
        )
        digest.add_argument(
            "--today", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)"
        )

    def handle(self, *args, subcommand, **options):
        getattr(self, f"_{subcommand}")(**options)

    def _check(self, dir, indicators, **options):
        errors = check_packs(Path(dir), Path(indicators))
        for error in errors:
            self.stderr.write(error)
        if errors:
            self.stderr.write(f"{len(errors)} problems")
            sys.exit(2)
        count = len(read_packs(Path(dir), Path(indicators)))
        self.stdout.write(f"{count} plan packs OK")

    def _load(self, orgunit, pack, **options):
        errors = check_packs()
        if errors:
            for error in errors:
                self.stderr.write(error)
            sys.exit(2)
        self.stdout.write(f"{load_departments()} departments")
        unit = self._orgunit(orgunit) if orgunit else None
        for plan_pack in read_packs():
            if pack and plan_pack.code not in pack:
                continue
            target = unit or self._own_division(plan_pack)
            if target is None:
                continue
            result = load_plan(plan_pack, target)
            self.stdout.write(
                f"{plan_pack.code} → {target.code}: {result.tasks_created} tasks added, "
                f"{result.tasks_updated} updated, {result.milestones} milestones"
            )
            for note in result.notes:
                self.stdout.write(f"  {note}")

    def _orgunit(self, code: str) -> OrgUnit:
        unit = OrgUnit.objects.filter(code=code).first()
        if unit is None:
            raise CommandError(f"unknown org unit {code}", returncode=2)
        return unit

    def _own_division(self, plan_pack) -> OrgUnit | None:
        code = str((plan_pack.data.get("division") or {}).get("code", ""))
        unit = OrgUnit.objects.filter(code=code).first() if code else None
        if unit is None:
            self.stdout.write(
                f"{plan_pack.code}: division {code or '—'} not in the network; "
                "skipped (use --orgunit)"
            )
        return unit

    def _digest(self, orgunit, today, **options):
        sent = send_digests(orgunit_code=orgunit, today=today or date.today())
        self.stdout.write(sent)
