from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

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

    def handle(self, *args, file, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        try:
            rows = read_institution_file(path.name, path.read_bytes())
            result = import_institutions(rows)
        except NetworkError as error:
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
