from __future__ import annotations

import sys
from pathlib import Path

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from xinglin.lib import uploads
from xinglin.network import access
from xinglin.network.actions import NetworkError, import_institutions, read_institution_file


class Command(BaseCommand):
    help = (
        "Create or update institutions from a .csv (UTF-8 or GBK) or .xlsx sheet with the "
        "columns code,name,type,parent (or 机构编码,机构名称,机构类型,上级编码) and optionally "
        "ownership (所有制: public/private, 公立/民营) and roles (机构定位: ';'-separated, e.g. "
        "county_tcm_hospital or 县中医医院). All or nothing: a file with any error changes "
        "nothing and exits 2, printing each error's row and field."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--user",
            help="act as this user: every row is checked against their scope (the unit it adds "
            "under and the unit it changes) and the changes are recorded under their name; "
            "without it the server operator changes anything",
        )

    def handle(self, *args, file, user=None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        actor = None
        if user:
            actor = User.objects.filter(username=user, is_active=True).first()
            if actor is None:
                raise CommandError(f"no active user {user}", returncode=2)
        try:
            rows = read_institution_file(path.name, uploads.read_file(path))
            result = import_institutions(
                rows,
                user=actor,
                allowed_parent=(lambda unit: access.can(actor, "manage", unit)) if actor else None,
            )
        except (NetworkError, uploads.TooLarge) as error:
            raise CommandError(str(error), returncode=2) from error
        if result.errors:
            for error in result.errors:
                self.stderr.write(f"{file}: {error}")
            self.stderr.write(f"{file}: rejected, nothing was written")
            sys.exit(2)
        self.stdout.write(
            f"{result.created} institutions added, {result.updated} changed, "
            f"{result.unchanged} unchanged"
        )
