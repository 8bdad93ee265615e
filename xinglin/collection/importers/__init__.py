"""File formats for `xinglin import` and the upload page. Each member has the same shape:
`read(path) -> Parsed` and `write_report(path, parsed, problems, report) -> None`; they are
listed by `formats()`, imported when first used (`module`), and chosen by `detect` (extension
first, then the file's first bytes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from types import ModuleType

from django.utils.translation import gettext as _

from xinglin.collection.batch import Batch, Candidate, Location, Problem
from xinglin.lib import uploads

# Bytes, rows and columns are bounded by the upload limits (lib/uploads.py); values too:
MAX_VALUES = 1_000_000


class UnreadableFile(ValueError):
    """A file that is not one of the formats at all (the message says what it looks like)."""


@dataclass
class Parsed:
    format: str
    candidates: list[Candidate] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    encoding: str = ""
    batch: Batch | None = None  # large files: the values as columns (then no candidates)

    @property
    def count(self) -> int:
        return len(self.batch) if self.batch is not None else len(self.candidates)

    def values(self) -> Batch | list[Candidate]:
        """What validation.check takes."""
        return self.batch if self.batch is not None else self.candidates


def detect(path: Path) -> str:
    suffix = path.suffix.lower()
    head = b""
    if path.is_file():
        with path.open("rb") as handle:
            head = handle.read(8)
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix == ".json":
        return "json"
    if suffix in (".csv", ".txt"):
        return "csv"
    if head.startswith(b"PK"):
        return "xlsx"
    if head.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"{"):
        return "json"
    return "csv"


_MODULES = {"csv": "csv_long", "json": "datavalueset", "xlsx": "workbook"}


def formats() -> dict[str, ModuleType]:
    return {name: module(name) for name in _MODULES}


def module(name: str) -> ModuleType:
    """The module of one format, imported when first needed (the workbook's brings in
    openpyxl, which a CSV import has no use for)."""
    return import_module(f"{__name__}.{_MODULES[name]}")


def read(path: Path, *, name: str | None = None) -> Parsed:
    """Parse a file into candidate values (and the problems found while parsing). `name`:
    the file's name as its sender knows it (an upload's), for messages. A file past the
    upload limits (lib/uploads.py: bytes, rows, columns) is an UnreadableFile that names the
    file and the limit."""
    name = name or path.name
    try:
        uploads.check_file(path, name=name)
        if path.stat().st_size == 0:
            raise UnreadableFile(_("the file is empty"))
        fmt = detect(path)
        parsed = module(fmt).read(path, name=name)
        if fmt == "json":  # one value an entry: the entries are the rows
            uploads.Bounds(name).add(parsed.count)
    except uploads.TooLarge as error:
        raise UnreadableFile(str(error)) from None
    if parsed.count > MAX_VALUES:
        raise UnreadableFile(
            _("the file holds %(n)d values; the limit is %(limit)d: split it")
            % {"n": parsed.count, "limit": MAX_VALUES}
        )
    if not parsed.count and not parsed.problems:
        parsed.problems.append(Problem(Location(row=0), _("the file holds no values")))
    return parsed


def write_report(path: Path, parsed: Parsed, problems: list[Problem], report: Path) -> None:
    module(parsed.format).write_report(path, parsed, problems, report)


def report_path(path: Path, fmt: str) -> Path:
    """`data.csv` → `data.errors.csv` beside it (`.xlsx` for workbooks)."""
    suffix = ".xlsx" if fmt == "xlsx" else ".csv"
    return path.with_name(f"{path.stem}.errors{suffix}")
