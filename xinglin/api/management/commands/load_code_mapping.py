from __future__ import annotations

import argparse
from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError

from xinglin.api.actions import load_mappings
from xinglin.api.models import MappingKind
from xinglin.lib import uploads

EXAMPLE = """scheme: dhis2
elements:
  total_visits: fClA2Erf6IO        # our code: the other system's identifier
orgunits:
  "640323100001": DiszpKrYNg8
"""


class Command(BaseCommand):
    help = (
        "Replace the code mapping of a scheme (DHIS2 by default) from a YAML file with "
        "`elements:` and `orgunits:` maps of our code to the external identifier. Used by "
        "/api/v1/dataValueSets and /api/v1/adx with idScheme=uid. Example:\n" + EXAMPLE
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        # Keep the YAML example's lines as written.
        kwargs["formatter_class"] = argparse.RawDescriptionHelpFormatter
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, **options):
        try:
            text = uploads.read_file(options["file"]).decode("utf-8")
            document = yaml.safe_load(text) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError, uploads.TooLarge) as error:
            raise CommandError(str(error), returncode=2) from error
        rows = _rows(document)
        count = load_mappings(rows, scheme=str(document.get("scheme", "dhis2")))
        self.stdout.write(f"{count} mappings loaded")


def _rows(document: dict) -> list[dict]:
    rows = []
    for key, kind in (("elements", MappingKind.ELEMENT), ("orgunits", MappingKind.ORGUNIT)):
        entries = document.get(key) or {}
        if not isinstance(entries, dict):
            raise CommandError(f"{key}: expected a map of code: identifier", returncode=2)
        externals = [str(v) for v in entries.values()]
        if len(set(externals)) != len(externals):
            raise CommandError(f"{key}: an identifier is used twice", returncode=2)
        rows += [{"kind": kind, "code": str(c), "external": str(e)} for c, e in entries.items()]
    return rows
