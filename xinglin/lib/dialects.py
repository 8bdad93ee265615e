"""SQLGlot's dialects, loaded once when Django starts, before any request thread runs.

SQLGlot loads a dialect on its first use and registers the dialect's class before it has
finished setting it up (its parser and generator classes come last). A thread that asks for a
dialect while another thread's first use is still loading it gets the half-built class, whose
generator is SQLGlot's generic one: the statements rendered with it are not the dialect's
(issue 25, W7: PostgreSQL was sent `DOUBLE` for `DOUBLE PRECISION` by one worker, and every
county scorecard of that worker failed). Loading them in `CoreConfig.ready` (one thread, at
start) closes the window.
"""

from __future__ import annotations

from sqlglot.dialects.dialect import Dialect
from sqlglot.generator import Generator
from sqlglot.parser import Parser

# the dialects Xinglin writes or reads: the operational databases, the warehouse, Spark
USED = ("sqlite", "postgres", "duckdb", "spark")


def get(name: str) -> Dialect:
    """The dialect `name`, whole; a ValueError if it came out half-built (its generic
    generator or parser)."""
    dialect = Dialect.get_or_raise(name)
    if dialect.generator_class is Generator or dialect.parser_class is Parser:
        raise ValueError(f"SQLGlot's {name} dialect is not set up (its generic classes)")
    return dialect


def load() -> None:
    """Load every dialect Xinglin uses (`get` refuses one that came out half-built)."""
    for name in USED:
        get(name)
