"""An evaluation's results: the `Result` of one indicator at one org unit, the verdict, and
the columns they are kept in until asked for.

The engine (engine.py) hands each computed indicator's rows over as a `_Block` of numpy
columns with every row's status decided; `LazyResults` builds `Result` objects from them for
one unit (`at`: what a page shows) or for all on first iteration. A province has 220,000
results: deciding them takes a fraction of a second, building them all seconds.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, overload

import numpy as np
import pyarrow.compute as pc

from xinglin.evaluation.sql import CompiledIndicator
from xinglin.standards.expressions import Target
from xinglin.standards.loader import Pack, PackIndicator, read_element_names

MET, NOT_MET, NO_DATA = "met", "not_met", "no_data"
NOT_APPLICABLE, AWAITING_EVIDENCE = "not_applicable", "awaiting_evidence"
DATA_ERROR = "data_error"  # an impossible figure (a share above 100%, …): never met
# a target the bureau sets (pack `target: {from: bureau, …}`) that it has not set for the unit
# and year: 目标未设定 — neither met nor not met, and never a pass (the verdict is not met)
TARGET_UNSET = "target_unset"
# appended last: a status's code is its index (kept in the engine's numpy columns)
STATUSES = (MET, NOT_MET, NO_DATA, NOT_APPLICABLE, AWAITING_EVIDENCE, DATA_ERROR, TARGET_UNSET)
FALLING_SHORT = (NOT_MET, NO_DATA, DATA_ERROR)
DIGITS = 9  # results are rounded so that SQLite and PostgreSQL agree to the last digit


@dataclass
class Result:
    pack: str
    indicator: str
    item: int | None
    name: str
    orgunit: str
    orgunit_name: str
    level: str  # institution type or division level
    period: str
    value: float | None
    numerator: float | None
    denominator: float | None
    target: str
    unit: str
    status: str
    gap: float | None
    failing: list[str] = field(default_factory=list)
    why: dict[str, str] = field(default_factory=dict)
    included: int | None = None
    missing: int | None = None
    due: bool = True
    veto: bool = False
    points: float = 0.0
    sources: list[str] = field(default_factory=list)
    kind: str = "computed"

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Verdict:
    """The evaluated org unit's overall standing: `met` only when every due indicator is met
    (a due veto item not met fails the unit whatever the score), `awaiting_evidence` when only
    evidence is outstanding."""

    status: str
    counts: dict[str, int]
    vetoed: list[str]
    score: float | None
    max_score: float | None
    not_due: int


@dataclass
class _Units:
    """The prepared tree as columns in id order: `ids`, and `columns` (code, name, kind, type
    or level, path, is_open: a list or an Arrow array each). The lookups Result objects need
    (`rows`, `by_code`) are built when first asked for: an evaluation kept as columns reads a
    province's 31,000 units without a Python object per unit."""

    ids: np.ndarray
    columns: tuple[Any, ...]
    # (division id, institution id) for every in-scope division above every open
    # institution (xl_member without the institutions' own rows), sorted by division
    ancestors: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    # element code -> the id xl_value keys its figures by (prepare._prepare_values)
    elements: dict[str, int] = field(default_factory=dict)

    @functools.cached_property
    def rows(self) -> dict[int, tuple[Any, ...]]:
        """id -> (code, name, kind, type or level, path, is_open)."""
        columns = [self.codes, *(_listed(column) for column in self.columns[1:])]
        return dict(zip(self.ids.tolist(), zip(*columns, strict=True), strict=True))

    @functools.cached_property
    def codes(self) -> list[str]:
        """The units' codes, in id order."""
        return _listed(self.columns[0])

    @functools.cached_property
    def by_code(self) -> dict[str, int]:
        return dict(zip(self.codes, self.ids.tolist(), strict=True))

    @functools.cached_property
    def is_institution(self) -> np.ndarray:
        kinds = self.columns[2]
        if isinstance(kinds, list):
            return np.array([kind == "institution" for kind in kinds], dtype=bool)
        found: np.ndarray = pc.equal(kinds, "institution").to_numpy(zero_copy_only=False)
        return found.astype(bool)

    def positions(self, unit_ids: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.ids, unit_ids)


def _listed(column: Any) -> list[Any]:
    """A column as a Python list (an Arrow array's values as Python's)."""
    return column if isinstance(column, list) else column.to_pylist()


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), DIGITS)


_STATUS_CODES = {status: k for k, status in enumerate(STATUSES)}


@dataclass
class _Block:
    """One computed indicator's rows as columns (NaN where SQL gave NULL), with the statuses
    decided for every row at once. Result objects are built from it when asked for."""

    pack: Pack
    indicator: PackIndicator
    compiled: CompiledIndicator
    name: str
    period: str
    due: bool
    unit_ids: np.ndarray
    covered: np.ndarray
    included: np.ndarray
    numerator: np.ndarray
    denominator: np.ndarray
    raw: list[np.ndarray]
    value: np.ndarray  # rounded to DIGITS
    status: np.ndarray  # index into STATUSES
    falls_short: np.ndarray  # per unit position (units.ids): an institution falling short
    # per row, why a figure is impossible (DATA_ERRORS: 0 none); see engine._impossible
    error: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    language: str = "zh"
    # per row, a bureau-set target's number (NaN: not set); None for a pack's fixed target
    targets: np.ndarray | None = None
    _order: np.ndarray | None = None  # rows in unit-id order, for row_of

    def __len__(self) -> int:
        return len(self.unit_ids)

    def row_of(self, unit_id: int) -> int | None:
        if self._order is None:
            self._order = np.argsort(self.unit_ids, kind="stable")
        at = int(np.searchsorted(self.unit_ids, unit_id, sorter=self._order))
        if at < len(self._order) and self.unit_ids[self._order[at]] == unit_id:
            return int(self._order[at])
        return None


@dataclass
class _Evidence:
    """One evidence item's rows: where it is judged (code, name, level) and the status the
    reviewers' evidence gives it there. A Result is built for a row when asked for, as for a
    computed block (a city evaluation holds thousands of them)."""

    pack: Pack
    indicator: PackIndicator
    name: str
    period: str
    due: bool
    units: list[tuple[str, str, str]]
    statuses: list[str]
    _rows: dict[str, int] = field(init=False, repr=False, compare=False)  # code -> row

    def __post_init__(self) -> None:
        self._rows = {unit[0]: k for k, unit in enumerate(self.units)}

    def __len__(self) -> int:
        return len(self.units)

    def row_of(self, code: str) -> int | None:
        return self._rows.get(code)

    def result(self, k: int) -> Result:
        code, name, level = self.units[k]
        indicator = self.indicator
        return Result(pack=self.pack.code, indicator=indicator.id, item=indicator.item,
                      name=self.name, orgunit=code, orgunit_name=name, level=level,
                      period=self.period, value=None, numerator=None, denominator=None,
                      target="", unit="", status=self.statuses[k], gap=None, due=self.due,
                      veto=indicator.veto, points=indicator.points, kind="evidence")  # fmt: skip


def _float(value: Any) -> float | None:
    """A Python float from a column's cell (numpy's float64 prints as np.float64(…)), None
    for NaN."""
    return None if value != value else float(value)


def _build(block: _Block, k: int, units: _Units, sources: _Sources) -> Result:
    """The Result of row k of a block (what _computed built eagerly before results were
    kept as columns)."""
    indicator, compiled = block.indicator, block.compiled
    unit_id = int(block.unit_ids[k])
    code, name, kind, itype, dlevel, path, _open = units.rows[unit_id]
    status = STATUSES[block.status[k]]
    value = _float(block.value[k])
    covered, included = _float(block.covered[k]), _float(block.included[k])
    target = indicator.target
    if block.targets is not None:  # the bureau's own number for this unit and year
        own = _float(block.targets[k])
        target = target.at(own) if own is not None and target is not None else None
    result = Result(
        pack=block.pack.code,
        indicator=indicator.id,
        item=indicator.item,
        name=block.name,
        orgunit=code,
        orgunit_name=name,
        level=itype or dlevel,
        period=block.period,
        value=value,
        numerator=_round(_float(block.numerator[k])),
        denominator=_round(_float(block.denominator[k])),
        target=target.text if target is not None else "",
        unit=indicator.unit,
        status=status,
        gap=_gap(target, status, value),
        included=int(included or 0) if compiled.institutional else None,
        missing=int((covered or 0.0) - (included or 0)) if compiled.institutional else None,
        due=block.due,
        veto=indicator.veto,
        points=indicator.points,
    )
    if kind == "institution":
        if block.falls_short[units.positions(np.array([unit_id]))[0]]:
            result.failing, result.why = [code], {code: _why_at(block, k)}
    elif kind == "division":
        _add_failing(result, block, unit_id, units)
        if status == DATA_ERROR and not result.failing:  # the division's own figures
            result.why[code] = _why_at(block, k)
    if status != NOT_APPLICABLE:
        result.sources = sources.of(result)
    return result


def _gap(target: Target | None, status: str, value: float | None) -> float | None:
    if status == MET:
        return 0.0
    if status != NOT_MET or value is None or target is None:
        return None
    return _round(target.gap(value))


# Why a figure is impossible (issue 17.6), by code: 1 a proportion above 100% (which is also a
# share of a population larger than the population), 2 a numerator without its denominator.
ABOVE_100, WITHOUT_DENOMINATOR = 1, 2
STATUS_WORDS = {
    "zh": {MET: "达标", NOT_MET: "未达标", NO_DATA: "缺数据", NOT_APPLICABLE: "不适用",
           AWAITING_EVIDENCE: "待审核佐证", DATA_ERROR: "数据有误", TARGET_UNSET: "目标未设定"},
    "en": {MET: "met", NOT_MET: "not met", NO_DATA: "no data", NOT_APPLICABLE: "not applicable",
           AWAITING_EVIDENCE: "awaiting evidence", DATA_ERROR: "data error",
           TARGET_UNSET: "target not set"},
}  # fmt: skip
_WORDS = {
    "zh": {"no_value": "无数据", "yes": "是", "no": "否", "sep": "，", "colon": "：",
           ABOVE_100: "比例超过100%（{n:g} / {d:g}）",
           WITHOUT_DENOMINATOR: "有分子（{n:g}）而分母缺失或为零",
           "technique_categories": "开展技术类别数", "technique_items": "开展技术项目数"},
    "en": {"no_value": "no value", "yes": "yes", "no": "no", "sep": ", ", "colon": ": ",
           ABOVE_100: "proportion above 100% ({n:g} / {d:g})",
           WITHOUT_DENOMINATOR: "a numerator ({n:g}) without its denominator (missing or zero)",
           "technique_categories": "technique categories delivered",
           "technique_items": "technique items delivered"},
}  # fmt: skip


def _why(
    status: str,
    columns: Sequence[str],
    raw: Sequence[float | None],
    language: str = "zh",
    reason: str = "",
) -> str:
    """The reason in words: the status, then each figure by its element's name (缺数据：设有
    标准化中医馆 无数据), or what makes the figure impossible."""
    words = _WORDS.get(language, _WORDS["zh"])
    names, booleans = _element_words(language)
    parts = [reason] if reason else []
    for column, figure in zip(columns, raw, strict=True):
        name = names.get(column) or words.get(column, column)
        if figure is None:
            parts.append(f"{name} {words['no_value']}")
        elif column in booleans and figure in (0, 1):
            parts.append(f"{name} {words['yes'] if figure else words['no']}")
        else:
            parts.append(f"{name} {float(figure):g}")
    label = STATUS_WORDS.get(language, STATUS_WORDS["zh"])[status]
    return label + words["colon"] + words["sep"].join(parts) if parts else label


@functools.cache
def _element_words(language: str) -> tuple[dict[str, str], frozenset[str]]:
    """Element code -> its name in `language`, and the yes/no elements (from core.yaml)."""

    return read_element_names(language)


def _reason(block: _Block, k: int) -> str:
    code = int(block.error[k]) if len(block.error) else 0
    if not code:
        return ""
    words = _WORDS.get(block.language, _WORDS["zh"])
    numerator, denominator = _float(block.numerator[k]), _float(block.denominator[k])
    return words[code].format(n=numerator or 0.0, d=denominator or 0.0)


def _why_at(block: _Block, k: int) -> str:
    raw = [_float(column[k]) for column in block.raw]
    status = STATUSES[block.status[k]]
    return _why(status, block.compiled.raw_columns, raw, block.language, _reason(block, k))


def _add_failing(result: Result, block: _Block, division_id: int, units: _Units) -> None:
    """The institutions beneath a division whose own result in this block falls short,
    in code order, each with why."""
    divisions, institutions = units.ancestors
    low, high = np.searchsorted(divisions, [division_id, division_id + 1])
    beneath = institutions[low:high]
    short = beneath[block.falls_short[units.positions(beneath)]]
    for unit_id in sorted(short.tolist(), key=lambda i: units.rows[i][0]):
        code = units.rows[unit_id][0]
        row = block.row_of(unit_id)
        if row is None:  # every institution beneath has a row in a block that covers it
            raise LookupError(f"no row of {code} in {block.indicator.id}")
        result.failing.append(code)
        result.why[code] = _why_at(block, row)


@dataclass
class _Standing:
    indicator: str
    status: str
    due: bool
    veto: bool
    points: float


class LazyResults(Sequence[Result]):
    """An evaluation's results, kept as the computed blocks' columns: the figures and
    statuses of every row are decided (the verdict and the failing lists rest on them), but
    a Result object is built only when asked for — one unit's (`at`), or all of them on
    first iteration. A province has 220,000 results; a page shows one unit's."""

    def __init__(self, parts: list[_Block | _Evidence], units: _Units, sources: _Sources) -> None:
        self.parts, self.units, self.sources = parts, units, sources
        self._all: list[Result] | None = None
        self._at: dict[str, list[Result]] = {}
        self._length = sum(len(p) for p in parts)

    @property
    def built(self) -> bool:
        return self._all is not None

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> Result: ...

    @overload
    def __getitem__(self, index: slice) -> list[Result]: ...

    def __getitem__(self, index: int | slice) -> Result | list[Result]:
        return self._results()[index]

    def __iter__(self) -> Iterator[Result]:
        return iter(self._results())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Iterable):
            return NotImplemented
        return list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]  # equal by content, like a list: not hashable

    def _results(self) -> list[Result]:
        if self._all is None:
            # assigned whole: a concurrent reader never sees half a list
            self._all = [self._build(part, k) for part in self.parts for k in range(len(part))]
        return self._all

    def _build(self, part: _Block | _Evidence, k: int) -> Result:
        if isinstance(part, _Evidence):
            return part.result(k)
        return _build(part, k, self.units, self.sources)

    def standing(self, code: str) -> list[_Standing]:
        """What the verdict reads of one unit's results, without building them (a
        province's own results list every failing institution beneath it)."""
        found = []
        for part, k in self._rows_of(code):
            indicator = part.indicator
            status = part.statuses[k] if isinstance(part, _Evidence) else STATUSES[part.status[k]]
            found.append(_Standing(indicator.id, status, part.due, indicator.veto,
                                   indicator.points))  # fmt: skip
        return found

    def at(self, code: str) -> list[Result]:
        """One unit's results (built once, then kept: pages ask for the same units again)."""
        kept = self._at.get(code)
        if kept is None:
            kept = self._at[code] = [self._build(part, k) for part, k in self._rows_of(code)]
        return list(kept)

    def _rows_of(self, code: str) -> Iterator[tuple[_Block | _Evidence, int]]:
        """(block, row) for each result of the unit, in the pack's order."""
        unit_id = self.units.by_code.get(code)
        for part in self.parts:
            k = part.row_of(code) if isinstance(part, _Evidence) else (
                part.row_of(unit_id) if unit_id is not None else None)  # fmt: skip
            if k is not None:
                yield part, k


@dataclass
class _Sources:
    """Where each figure came from: `reported` data values and/or derived sources."""

    derived: set[str]  # elements with derived values this year
    elements: dict[str, list[str]]  # indicator -> its elements
    techniques: set[str]  # indicators reading the techniques delivered
    # (unit id, element, source) of the derived elements' figures, as three columns (lists,
    # Arrow or numpy arrays), made by `spread` when a Result first asks (an evaluation kept as
    # columns never spreads a province's 90,000 figures to the divisions above them), then
    # read into Python per unit, when that unit's first Result is built
    spread: Callable[[], Sequence[Any]] = lambda: ((), (), ())  # noqa: E731
    by_code: dict[str, int] = field(default_factory=dict)  # unit code -> id
    _by_unit: dict[str, dict[str, set[str]]] = field(default_factory=dict, repr=False)

    @functools.cached_property
    def found(self) -> Sequence[Any]:
        return self.spread()

    @functools.cached_property
    def _sorted(self) -> tuple[np.ndarray, np.ndarray]:
        """The rows in unit-id order: (their unit ids, their positions in `found`)."""
        ids = np.asarray(self.found[0], dtype=np.int64)
        order = np.argsort(ids, kind="stable")
        return ids[order], order

    def detail(self, code: str) -> dict[str, set[str]]:
        """A unit's derived elements -> their sources."""
        if code not in self._by_unit:
            ids, order = self._sorted
            unit_id = self.by_code.get(code, -1)
            rows = order[np.searchsorted(ids, unit_id) : np.searchsorted(ids, unit_id, "right")]
            detail: dict[str, set[str]] = {}
            for k in rows.tolist():
                detail.setdefault(_cell(self.found[1], k), set()).add(_cell(self.found[2], k))
            self._by_unit[code] = detail
        return self._by_unit[code]

    def of(self, result: Result) -> list[str]:
        found: set[str] = set()
        for element in self.elements[result.indicator]:
            if element in self.derived:
                found |= self.detail(result.orgunit).get(element, set())
            elif {result.value, result.numerator, result.denominator} != {None}:
                found.add("reported")
        if result.indicator in self.techniques:
            found.add("collection.techniques")
        return sorted(found)


def _cell(column: Sequence[Any], k: int) -> Any:
    """Row k of a column (a list, or an Arrow array: its value as Python's)."""
    cell = column[k]
    as_py = getattr(cell, "as_py", None)
    return as_py() if as_py is not None else cell


def _verdict(results: list[Result] | list[_Standing]) -> Verdict:
    counts = dict.fromkeys(STATUSES, 0)
    due = [r for r in results if r.due]
    for result in due:
        counts[result.status] += 1
    vetoed = [r.indicator for r in due if r.veto and r.status in FALLING_SHORT]
    scored = [r for r in due if r.points]
    score = sum(r.points for r in scored if r.status == MET) if scored else None
    if vetoed or counts[NOT_MET] or counts[NO_DATA] or counts[DATA_ERROR] or counts[TARGET_UNSET]:
        status = NOT_MET
    elif counts[AWAITING_EVIDENCE]:
        status = AWAITING_EVIDENCE
    else:
        status = MET
    return Verdict(
        status=status,
        counts=counts,
        vetoed=vetoed,
        score=score,
        max_score=sum(r.points for r in scored) if scored else None,
        not_due=len(results) - len(due),
    )
