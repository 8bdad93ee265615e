"""The one doorway from documents and the dashboard to the evaluation engine.

Everything the reports and the dashboard show as a figure comes through `evaluate()`, which
returns the engine's own JSON shape (`xinglin evaluate --format json`). Pack metadata (titles,
deadlines, kinds) is read from the pack files here as well, so that a change in how the engine
is called, or where metadata lives, is a change to this module only.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TypedDict

from django.utils.translation import get_language

from xinglin.evaluation import engine
from xinglin.standards.adoption import adopted_pack_codes
from xinglin.standards.expressions import TargetError
from xinglin.standards.expressions import parse_target as parse_pack_target
from xinglin.standards.loader import all_packs

STATUSES = ("met", "not_met", "no_data", "not_applicable", "awaiting_evidence", "data_error",
            "target_unset")  # fmt: skip


class Figure(TypedDict):
    """One indicator for one org unit and period, exactly as the engine reports it."""

    pack: str
    indicator: str
    item: int | None
    name: str
    orgunit: str
    period: str
    value: float | None
    numerator: float | None
    denominator: float | None
    target: str | None
    status: str
    unit: str  # percent | per_10000 | count | level | ratio
    due: bool  # False before the indicator's deadline year
    gap: float | None
    failing: list[str]
    sources: list[str]
    why: dict[str, str]  # failing institution (or the unit itself) -> the reason in words
    kind: str  # computed | evidence
    missing: int | None  # covered institutions without the figures the indicator needs


@dataclass(frozen=True)
class IndicatorInfo:
    id: str
    item: int | None
    section: str
    name_zh: str
    name_en: str
    kind: str
    unit: str
    target: str | None
    deadline: int | None
    veto: bool
    evidence_zh: str
    source: str

    @property
    def name(self) -> str:
        return self.name_en if get_language() == "en" and self.name_en else self.name_zh


@dataclass(frozen=True)
class PackInfo:
    code: str
    title_zh: str
    title_en: str
    source: str
    indicators: tuple[IndicatorInfo, ...] = field(default_factory=tuple)

    @property
    def title(self) -> str:
        return self.title_en if get_language() == "en" and self.title_en else self.title_zh

    def indicator(self, indicator_id: str) -> IndicatorInfo | None:
        return next((i for i in self.indicators if i.id == indicator_id), None)


@functools.cache
def packs() -> tuple[PackInfo, ...]:
    """Every indicator pack, in code order, as the standards loader reads them."""

    return tuple(_pack_info(p) for _code, p in sorted(all_packs().items()))


def _pack_info(loaded) -> PackInfo:
    return PackInfo(
        code=loaded.code,
        title_zh=loaded.title_zh,
        title_en=loaded.title_en,
        source=loaded.source,
        indicators=tuple(_indicator(i) for i in loaded.indicators),
    )


def _indicator(item) -> IndicatorInfo:
    return IndicatorInfo(
        id=item.id,
        item=item.item,
        section=item.section,
        name_zh=item.name_zh,
        name_en=item.name_en,
        kind=item.kind,
        unit=item.unit,
        target=item.target.text if item.target else None,
        deadline=item.deadline,
        veto=item.veto,
        evidence_zh=item.evidence_zh,
        source=item.source,
    )


def adopted_packs(orgunit) -> tuple[PackInfo, ...]:
    """The packs an org unit is judged against (standards.adoption; every pack where no
    adoption is recorded)."""

    codes = adopted_pack_codes(orgunit)
    return tuple(p for p in packs() if p.code in codes)


def pack(code: str) -> PackInfo:
    found = next((p for p in packs() if p.code == code), None)
    if found is None:
        raise KeyError(code)
    return found


@dataclass
class Evaluated:
    """One pack evaluated for one org unit and year: the figures of the org unit and of every
    unit beneath it, and the engine's verdict for the org unit itself."""

    figures: list[Figure]
    verdict: str  # met | not_met | awaiting_evidence
    counts: dict[str, int]
    vetoed: list[str]
    evaluation: object = None  # the engine's Evaluation, for the standing of units beneath

    def counts_of(self, code: str) -> dict[str, int]:
        """The engine's counts of statuses for any unit of the evaluation (a county in a
        city's): the same reckoning as `counts` (due indicators only)."""
        if code == self.evaluation.orgunit.code:
            return dict(self.counts)
        return dict(self.evaluation.standing(code).counts)


def evaluate(pack_code: str, orgunit_code: str, period: str) -> Evaluated:
    """Every indicator of the pack for the org unit and every org unit beneath it that the
    indicator covers, as the engine computes them."""
    language = "en" if (get_language() or "").startswith("en") else "zh"
    evaluation = engine.evaluate(pack_code, orgunit_code, period, language=language)
    verdict = evaluation.verdict
    return Evaluated(
        figures=[_normalise(vars(result)) for result in evaluation.results],
        verdict=verdict.status,
        counts=dict(verdict.counts),
        vetoed=list(verdict.vetoed),
        evaluation=evaluation,
    )


def _normalise(row: dict) -> Figure:
    # vars(), not Result.as_json(): asdict's deep copy cost seconds on a county's annex.
    return Figure(
        pack=row["pack"],
        indicator=row["indicator"],
        item=row.get("item"),
        name=row.get("name", ""),
        orgunit=str(row["orgunit"]),
        period=str(row["period"]),
        value=row.get("value"),
        numerator=row.get("numerator"),
        denominator=row.get("denominator"),
        target=row.get("target"),
        status=row.get("status", "no_data"),
        unit=row.get("unit", ""),
        due=bool(row.get("due", True)),
        gap=row.get("gap"),
        failing=list(row.get("failing") or []),
        sources=list(row.get("sources") or []),
        why=dict(row.get("why") or {}),
        kind=row.get("kind", "computed"),
        missing=row.get("missing"),
    )


def own_figures(figures: list[Figure], orgunit_code: str) -> list[Figure]:
    """The figures of the evaluated org unit itself (not of the units beneath it)."""
    return [f for f in figures if f["orgunit"] == orgunit_code]


def parse_target(target: str | None) -> tuple[str, float] | None:
    """(operator, threshold) of a target such as ">= 35%" (→ (">=", 0.35)); a range gives its
    lower bound; None when there is no numeric target."""
    if not target:
        return None

    try:
        parsed = parse_pack_target(str(target))
    except TargetError:
        return None
    return (">=", parsed.low) if parsed.op == "between" else (parsed.op, parsed.low)


@dataclass
class PackSummary:
    """The verdict of one pack for one org unit and period (the engine's)."""

    pack: PackInfo
    period: str
    verdict: str
    counts: dict[str, int]
    vetoed: list[str]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def summarise(info: PackInfo, evaluated: Evaluated, period: str) -> PackSummary:
    return PackSummary(info, period, evaluated.verdict, evaluated.counts, evaluated.vetoed)
