"""The `xinglin` command: Django's management commands under one name.

`xinglin import-divisions 640323` runs the management command `import_divisions`;
hyphens and underscores are the same. `xinglin --help` lists the commands.
"""

from __future__ import annotations

import os
import sys

from django.conf import settings
from django.core.management import execute_from_command_line
from django.db import DatabaseError, InterfaceError


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinglin.settings")
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    argv[0] = "xinglin"

    try:
        execute_from_command_line(argv)
    except (DatabaseError, InterfaceError) as error:
        # A database that is missing, unreachable or refuses us is an operating condition,
        # not a bug: say which database and why, without a traceback (issue 11).
        sys.stderr.write(f"xinglin: database error ({_database()}): {_first_line(error)}\n")
        sys.exit(3)


def _database() -> str:
    """The database in use, without its password."""

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"SQLite {db['NAME']}"
    return f"PostgreSQL {db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db['NAME']}"


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


if __name__ == "__main__":
    main()
