from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from xinglin.standards.catalogue import PACKS_DIR, sync_catalogue
from xinglin.standards.loader import check_deadlines, check_packs


class Command(BaseCommand):
    help = (
        "Indicator packs: `check` validates every packs/*.yaml (exit 2 naming the file, the "
        "indicator and the position of the first problem); `load` checks them the same way "
        "and syncs the data-element catalogue and the technique taxonomy they declare into "
        "the database (the packs themselves are read from their files, never copied); `adopt PACK "
        "--orgunit CODE` judges an org unit (and everything beneath it) by a pack."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        check = actions.add_parser("check", help="validate every pack")
        check.add_argument("--dir", default=str(PACKS_DIR), help="directory of the pack files")
        actions.add_parser(
            "load", help="check the packs and sync their catalogue into the database"
        )
        adopt = actions.add_parser("adopt", help="judge an org unit (and beneath) by a pack")
        adopt.add_argument("pack")
        adopt.add_argument("--orgunit", required=True)
        adopt.add_argument("--since", type=int, help="first year the pack applies")

    def handle(self, *args, action: str, **options):
        if action == "adopt":
            self._adopt(options["pack"], options["orgunit"], options["since"])
            return
        packs, errors = check_packs(Path(options.get("dir") or PACKS_DIR))
        errors += check_deadlines(packs)
        if errors:
            raise CommandError("\n".join(str(e) for e in errors), returncode=2)
        total = sum(len(p.indicators) for p in packs)
        if action == "load":
            sync_catalogue()
            self.stdout.write(f"{total} indicators in {len(packs)} packs checked; catalogue loaded")
            return
        for pack in packs:
            self.stdout.write(f"{pack.file}: {len(pack.indicators)} indicators")
        self.stdout.write(f"ok: {len(packs)} packs, {total} indicators")

    def _adopt(self, pack: str, code: str, since: int | None) -> None:
        from xinglin.network.models import OrgUnit
        from xinglin.standards.actions import adopt, is_other_place
        from xinglin.standards.adoption import AdoptionError, document_place

        orgunit = OrgUnit.objects.filter(code=code).first()
        if orgunit is None:
            raise CommandError(f"no org unit has the code {code}", returncode=2)
        try:
            # the operator names the unit and the pack: deliberate, and audited like the page
            adopt(orgunit, pack, since, confirm_other_place=True, load_plan=False)
        except AdoptionError as error:
            raise CommandError(str(error), returncode=2) from error
        self.stdout.write(f"{orgunit.name} ({code}) is judged by {pack}")
        if is_other_place(orgunit, pack):
            self.stdout.write(f"note: {pack} is the document of {document_place(pack).name}")
