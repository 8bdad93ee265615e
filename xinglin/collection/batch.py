"""What checking values takes and gives: candidate values (one by one, or as the columns of a
`Batch` that a reader of a large file produces), where each came from, the problems found,
and the outcome (`Checked`, whose `ValueColumns` _store_values writes). The readers of files
and the API build these; `validation.check` checks them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from xinglin.network.models import OrgUnit
from xinglin.standards.models import DataElement


@dataclass(frozen=True)
class Location:
    """Where a value came from: a row (1-based, as a spreadsheet shows it) and field; for a
    workbook also the sheet and the cell (`C5`)."""

    row: int = 0
    field: str = ""
    sheet: str = ""
    cell: str = ""


@dataclass
class Candidate:
    orgunit: str
    period: str
    element: str
    raw: object
    location: Location = Location()
    entry: bool = False  # typed where percentages show as 0–100
    delete: bool = False  # remove the stored value (its `raw` is ignored)
    comment: str | None = None  # the value's comment; None leaves the stored one as it is
    # The version of the stored value the writer saw (`version_of`: its time of storing, ""
    # when there was none); None: no check. A value stored since is refused (no lost update).
    expected: str | None = None


@dataclass(frozen=True)
class Problem:
    location: Location
    message: str
    severity: str = "error"
    rule: str = ""
    key: tuple[str, str, str] | None = None  # (orgunit, period, element) codes
    # A value someone else stored since the writer saw it (a `DataValue`, or None when it was
    # removed): the form shows both values and lets the writer choose.
    conflict: object = field(default=None, compare=False)
    is_conflict: bool = False

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def column_letter(number: int) -> str:
    """1 → A, 27 → AA (as openpyxl's get_column_letter, without the import)."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@dataclass
class Batch:
    """Candidate values as columns: what a reader of a large file produces. `raw` is a text
    column (CSV) or a list of cell values; locations are rebuilt only for values with a
    problem (`rows`, plus `columns`/`sheets` for a workbook, or explicit `locations`)."""

    orgunit: pa.Array
    period: pa.Array
    element: pa.Array
    raw: pa.Array | list
    rows: np.ndarray
    field: str = "value"
    entry: bool = False
    columns: np.ndarray | None = None  # 1-based column of each value (workbooks)
    sheets: np.ndarray | None = None  # index into sheet_names (workbooks)
    sheet_names: Sequence[str] = ()
    locations: list[Location] | None = None
    entries: list[bool] | None = None
    # Each value's comment (None: none given, the stored comment stays); None: no comment column.
    comments: pa.Array | list | None = None

    def __len__(self) -> int:
        return len(self.rows)

    @classmethod
    def from_candidates(cls, candidates: Sequence[Candidate]) -> Batch:
        return cls(
            orgunit=pa.array([str(c.orgunit) for c in candidates], pa.string()),
            period=pa.array([str(c.period) for c in candidates], pa.string()),
            element=pa.array([str(c.element) for c in candidates], pa.string()),
            raw=[c.raw for c in candidates],
            rows=np.array([c.location.row for c in candidates], dtype=np.int64),
            locations=[c.location for c in candidates],
            entries=[c.entry for c in candidates],
            comments=(
                [c.comment for c in candidates]
                if any(c.comment is not None for c in candidates)
                else None
            ),
        )

    def location(self, i: int) -> Location:
        if self.locations is not None:
            return self.locations[i]
        row = int(self.rows[i])
        if self.columns is None:
            return Location(row, self.field)
        letter = column_letter(int(self.columns[i]))
        sheet = self.sheet_names[int(self.sheets[i])] if self.sheets is not None else ""
        return Location(row, letter, sheet, f"{letter}{row}")

    def raw_at(self, i: int) -> object:
        return self.raw[i] if isinstance(self.raw, list) else self.raw[i].as_py()

    def entry_at(self, i: int) -> bool:
        return self.entries[i] if self.entries is not None else self.entry

    def candidate(self, i: int) -> Candidate:
        return Candidate(
            self.orgunit[i].as_py(),
            self.period[i].as_py(),
            self.element[i].as_py(),
            self.raw_at(i),
            self.location(i),
            self.entry_at(i),
            comment=self.comment_at(i),
        )

    def comment_at(self, i: int) -> str | None:
        if self.comments is None:
            return None
        return self.comments[i] if isinstance(self.comments, list) else self.comments[i].as_py()

    def keys(self) -> pa.Array:
        """Each value's key as one text, `orgunit|period|element` (`key_text`)."""
        columns = [
            pc.cast(c, pa.string()) if pa.types.is_dictionary(c.type) else c
            for c in (self.orgunit, self.period, self.element)
        ]
        joined = pc.binary_join_element_wise(*columns, KEY_SEPARATOR)
        return joined.combine_chunks() if isinstance(joined, pa.ChunkedArray) else joined

    def find(self, keys: set[tuple[str, str, str]]) -> list[int]:
        """The positions of the values whose (orgunit, period, element) key is in `keys`."""
        if not keys or not len(self):
            return []
        wanted = pa.array([key_text(k) for k in keys], pa.string())
        return np.flatnonzero(pc.is_in(self.keys(), value_set=wanted).to_numpy(False)).tolist()


KEY_SEPARATOR = "\x1f"


def key_text(key: tuple[str, str, str]) -> str:
    return KEY_SEPARATOR.join(key)


@dataclass
class ValueColumns:
    """Checked values ready for _store_values, as columns; iterating gives the
    (element, orgunit, period, value) tuples that _store_values also accepts."""

    elements: list[DataElement]
    orgunits: list[OrgUnit]
    periods: list[str]
    element_index: np.ndarray
    orgunit_index: np.ndarray
    period_index: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.values)

    def __iter__(self) -> Iterator[tuple[DataElement, OrgUnit, str, float]]:
        elements, orgunits, period_codes = self.elements, self.orgunits, self.periods
        for e, o, p, v in zip(
            self.element_index.tolist(),
            self.orgunit_index.tolist(),
            self.period_index.tolist(),
            self.values.tolist(),
            strict=True,
        ):
            yield elements[e], orgunits[o], period_codes[p], v

    def ids(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(element ids, org unit ids, period codes) per value."""
        element_ids = np.array([e.pk for e in self.elements], dtype=np.int64)
        orgunit_ids = np.array([o.pk for o in self.orgunits], dtype=np.int64)
        codes = np.array(self.periods, dtype=object)
        return (
            element_ids[self.element_index],
            orgunit_ids[self.orgunit_index],
            codes[self.period_index].tolist(),
        )


class Checked:
    """The outcome of a check: the values ready for _store_values, and the problems."""

    def __init__(self) -> None:
        self.columns: ValueColumns | None = None
        self._values: list | None = None
        self.unchanged = 0
        self.replacing = 0  # how many of `values` change a stored value (the rest are new)
        self.problems: list[Problem] = []

    @property
    def values(self) -> list[tuple[DataElement, OrgUnit, str, float]]:
        if self._values is None:
            self._values = list(self.columns) if self.columns is not None else []
        return self._values

    @values.setter
    def values(self, values: list) -> None:
        self._values, self.columns = list(values), None

    def for_storing(self) -> ValueColumns | list:
        """The values in the form _store_values writes fastest."""
        return self.columns if self.columns is not None and self._values is None else self.values

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]
