"""`xinglin migrate`: Django's migrate, then the canonical data elements and the technique
taxonomy of packs/core.yaml (issue 19: a fresh database takes `import-divisions`,
`import-institutions` and `import` at once, with no `packs load`).

A step of the command rather than a data migration: the catalogue is written with today's
models, which a migration must not use, and rather than a post_migrate signal (STYLE.md: no
signals). It runs only after a full migration of the default database."""

from __future__ import annotations

from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import DEFAULT_DB_ALIAS, connections

from xinglin.standards.catalogue import sync_catalogue

CATALOGUE_TABLES = {
    "standards_dataelement",
    "standards_techniquecategory",
    "standards_techniqueitem",
}


class Command(DjangoMigrate):
    help = DjangoMigrate.help + (
        " Then creates or updates the canonical data elements and techniques (packs/core.yaml)."
    )

    def handle(self, *args, **options):
        super().handle(*args, **options)
        if not _full_migration(options):
            return
        sync_catalogue()
        if options["verbosity"] >= 1:
            self.stdout.write("Canonical data elements and techniques loaded (packs/core.yaml).")


def _full_migration(options: dict) -> bool:
    """True when every app was migrated forward on the default database (no app or target
    named, no plan or check only) and the catalogue's tables exist."""
    if options["database"] != DEFAULT_DB_ALIAS or options.get("app_label"):
        return False
    if options.get("plan") or options.get("check_unapplied") or options.get("prune"):
        return False
    tables = set(connections[DEFAULT_DB_ALIAS].introspection.table_names())
    return tables >= CATALOGUE_TABLES
