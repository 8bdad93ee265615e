"""Indicator packs: read and validate packs/*.yaml into `Pack` / `PackIndicator` objects.

Every problem is a `PackError` naming the file, the indicator and (for expressions) the
position, e.g. `demo-county-2022.yaml: indicator grassroots.tcm_visit_share: value, position
5: unknown data element 'tcm_visit'`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from xinglin.standards import expressions
from xinglin.standards.expressions import Aggregate, ExpressionError, Node, Target, TargetError
from xinglin.standards.paths import CORE_FILE, PACKS_DIR

KINDS = ("computed", "evidence")
UNITS = ("percent", "per_10000", "count", "level", "ratio")
INSTITUTION_TYPES = (
    "tcm_hospital",
    "general_hospital",
    "maternal_child_hospital",
    "community_health_center",
    "township_health_center",
    "community_health_station",
    "village_clinic",
    "tcm_clinic",
    "disability_rehab_center",
    "elderly_care_home",
    "children_welfare_home",
    "special_education_school",
    "work_injury_rehab_center",
    "civil_affairs_rehab_center",
)
# What an evidence item needs (`evidence_kind`): this period's records (annual) or a standing
# document, valid from its date until replaced or withdrawn. Without the key, an item whose
# name, text or evidence says 本年度/年度/每年 asks for the year's records.
EVIDENCE_KINDS = ("annual", "standing")
ANNUAL_WORDS = ("本年度", "年度", "每年")
# where an indicator is judged (`judged_at`): at institutions and/or at division levels
JUDGING_LEVELS = ("institution", "township", "county", "city", "province")
# network.InstitutionRole / Ownership values (kept here: packs are read before Django apps)
ROLES = ("county_tcm_hospital", "county_general_hospital", "county_mch_hospital",
         "city_tcm_hospital")  # fmt: skip
OWNERSHIPS = ("public", "private")
# pack wording -> network.DivisionLevel
DIVISION_LEVELS = {"province": "province", "prefecture": "city", "city": "city",
                   "county": "county", "township": "township"}  # fmt: skip


# libyaml's loader when PyYAML was built with it: the packs are large and read at start-up
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(source: Any) -> Any:
    """A pack file's text or stream parsed as safe_load does, by libyaml when present (≈ 10×
    faster than the pure-Python parser: the packs are read by the first evaluation and the
    first document of every process)."""
    return yaml.load(source, Loader=_LOADER)  # noqa: S506 — a safe loader


# A pack entry as PyYAML parsed it: its values are whatever the YAML holds.
Entry = dict[str, Any]


class PackError(ValueError):
    def __init__(self, file: str, message: str, indicator: str = "", position: int = 0) -> None:
        self.file, self.indicator, self.position, self.message = file, indicator, position, message
        where = [file]
        if indicator:
            where.append(f"indicator {indicator}")
        super().__init__(": ".join([*where, message]))


@dataclass(frozen=True)
class PackIndicator:
    id: str
    item: int | None
    section: str
    name_zh: str
    name_en: str
    source: str
    text: str
    kind: str
    over: tuple[str, ...] = ()
    value: str = ""
    expression: Node | None = None
    target: Target | None = None
    unit: str = ""
    deadline: int | None = None
    veto: bool = False
    points: float = 0.0
    evaluate_at: tuple[str, ...] = ()  # network.DivisionLevel values; empty = every level
    # where the indicator is judged: `institution` and/or division levels (JUDGING_LEVELS)
    judged_at: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()  # covered institutions must hold one of these roles
    ownership: str = ""  # covered institutions must have this ownership (public|private)
    evidence_zh: str = ""
    evidence_en: str = ""
    evidence_kind: str = ""  # EVIDENCE_KINDS for evidence items, "" for computed ones

    @property
    def is_computed(self) -> bool:
        return self.kind == "computed"

    def name(self, language: str = "zh") -> str:
        return self.name_en if language == "en" and self.name_en else self.name_zh

    def due_in(self, year: int) -> bool:
        """Whether the indicator counts in `year`: it has no deadline, or its deadline year
        has come."""
        return self.deadline is None or year >= self.deadline


@dataclass(frozen=True)
class Pack:
    code: str
    title_zh: str
    title_en: str
    source: str
    pass_rule_zh: str
    pass_rule_en: str
    file: str
    indicators: tuple[PackIndicator, ...]

    def indicator(self, code: str) -> PackIndicator:
        return next(i for i in self.indicators if i.id == code)

    def title(self, language: str = "zh") -> str:
        return self.title_en if language == "en" and self.title_en else self.title_zh


def _text(value: object, language: str) -> str:
    if isinstance(value, dict):
        return str(value.get(language, "") or "")
    return str(value or "")


def evidence_kind(entry: Entry) -> str:
    """What an evidence item of a pack entry needs: its `evidence_kind`, or "annual" when its
    wording asks for the year's records (ANNUAL_WORDS), else "standing". ValueError for an
    unknown `evidence_kind`."""
    declared = entry.get("evidence_kind")
    if declared is not None:
        if declared not in EVIDENCE_KINDS:
            raise ValueError(
                f"evidence_kind {declared!r} is not one of {', '.join(EVIDENCE_KINDS)}"
            )
        return str(declared)
    wording = " ".join(_text(entry.get(key), "zh") for key in ("name", "text", "evidence"))
    return "annual" if any(word in wording for word in ANNUAL_WORDS) else "standing"


def read_elements(path: Path = CORE_FILE) -> dict[str, str]:
    """Element code -> level, from core.yaml."""
    with open(path, encoding="utf-8") as handle:
        core = yaml.load(handle, Loader=_LOADER)
    return {e["code"]: e.get("level", "institution") for e in core["data_elements"]}


def read_element_names(
    language: str = "zh", path: Path = CORE_FILE
) -> tuple[dict[str, str], frozenset[str]]:
    """Element code -> name in `language`, and the codes of yes/no (boolean) elements."""
    with open(path, encoding="utf-8") as handle:
        core = yaml.load(handle, Loader=_LOADER)
    names = {e["code"]: _text(e.get("name"), language) for e in core["data_elements"]}
    booleans = frozenset(e["code"] for e in core["data_elements"] if e.get("type") == "boolean")
    return names, booleans


def load_pack(path: Path, elements: dict[str, str]) -> Pack:
    name = path.name
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=_LOADER)
    except yaml.YAMLError as error:
        raise PackError(name, f"not valid YAML: {error}") from error
    if not isinstance(data, dict) or not data.get("pack"):
        raise PackError(name, "a pack file needs `pack:` (its code) and `indicators:`")
    if data["pack"] != path.stem:
        raise PackError(name, f"pack code {data['pack']!r} differs from the file name")
    raw = data.get("indicators") or []
    if not isinstance(raw, list) or not raw:
        raise PackError(name, "`indicators:` must be a non-empty list")
    indicators, seen = [], set()
    for number, entry in enumerate(raw, start=1):
        indicator = _indicator(name, number, entry, elements)
        if indicator.id in seen:
            raise PackError(name, "the id is used twice", indicator.id)
        seen.add(indicator.id)
        indicators.append(indicator)
    return Pack(
        code=data["pack"],
        title_zh=_text(data.get("title"), "zh"),
        title_en=_text(data.get("title"), "en"),
        source=str(data.get("source", "")),
        pass_rule_zh=_text(data.get("pass_rule"), "zh"),
        pass_rule_en=_text(data.get("pass_rule"), "en"),
        file=name,
        indicators=tuple(indicators),
    )


class _Fail(Protocol):
    """The PackError naming the file and indicator being read."""

    def __call__(self, message: str, position: int = 0) -> PackError: ...


def _indicator(file: str, number: int, entry: Entry, elements: dict[str, str]) -> PackIndicator:
    if not isinstance(entry, dict) or not entry.get("id"):
        raise PackError(file, f"indicator number {number} has no id")
    code = str(entry["id"])

    def fail(message: str, position: int = 0) -> PackError:
        return PackError(file, message, code, position)

    for key in ("name", "source", "kind"):
        if not entry.get(key):
            raise fail(f"`{key}` is missing")
    kind = entry["kind"]
    if kind not in KINDS:
        raise fail(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    over, roles, ownership = _over(entry.get("over"), fail)
    judged_at = _judged_at(entry.get("judged_at"), fail)
    evaluate_at = _evaluate_at(entry.get("evaluate_at"), fail)
    deadline = entry.get("deadline")
    if deadline is not None and not (isinstance(deadline, int) and 1900 < deadline < 2200):
        raise fail(f"deadline {deadline!r} is not a year")
    expression, target, unit = None, None, str(entry.get("unit", ""))
    needs = ""
    if kind == "evidence":
        try:
            needs = evidence_kind(entry)
        except ValueError as error:
            raise fail(str(error)) from error
        if "institution" in judged_at:
            raise fail("an evidence item is judged for an area, not at institutions")
    else:
        expression, target = _computed(entry, elements, fail)
        _check_computed(expression, target, unit, over, judged_at, fail)
    return PackIndicator(
        id=code,
        item=entry.get("item"),
        section=str(entry.get("section", "")),
        name_zh=_text(entry["name"], "zh"),
        name_en=_text(entry["name"], "en"),
        source=str(entry["source"]),
        text=str(entry.get("text", "")),
        kind=kind,
        over=over,
        value=str(entry.get("value", "")),
        expression=expression,
        target=target,
        unit=unit,
        deadline=deadline,
        veto=bool(entry.get("veto", False)),
        points=float(entry.get("points", 0) or 0),
        evaluate_at=tuple(evaluate_at),
        judged_at=judged_at,
        roles=roles,
        ownership=ownership,
        evidence_zh=_text(entry.get("evidence"), "zh"),
        evidence_en=_text(entry.get("evidence"), "en"),
        evidence_kind=needs,
    )


def _evaluate_at(raw: Any, fail: _Fail) -> list[str]:
    levels = []
    for level in raw or ():
        if level not in DIVISION_LEVELS:
            raise fail(f"unknown division level {level!r} in `evaluate_at`")
        levels.append(DIVISION_LEVELS[level])
    return levels


def _check_computed(
    expression: Node, target: Target, unit: str, over: tuple[str, ...],
    judged_at: tuple[str, ...], fail: _Fail,
) -> None:  # fmt: skip
    if unit not in UNITS:
        raise fail(f"unit {unit!r} is not one of {', '.join(UNITS)}")
    if target.text.endswith("%") and unit != "percent":
        raise fail(f"target {target.text!r} is a percentage but the unit is {unit!r}")
    if _needs_over(expression) and not over:
        raise fail("`over` (the institution types covered) is missing")
    if "institution" in judged_at and not _needs_over(expression):
        raise fail("judged at institutions, but the value reads no institution's figures")


def _over(raw: Any, fail: _Fail) -> tuple[tuple[str, ...], tuple[str, ...], str]:
    """`over`: a list of institution types, or {types, roles, ownership} — the institutions
    holding one of `roles` (机构定位, e.g. the county TCM hospital) and/or of `ownership`
    (public|private); without `types`, every type (the role decides)."""
    if isinstance(raw, dict):
        unknown = set(raw) - {"types", "roles", "ownership"}
        if unknown:
            raise fail(f"`over` takes types, roles and ownership, not {', '.join(sorted(unknown))}")
        types = tuple(raw.get("types") or INSTITUTION_TYPES)
        roles = tuple(raw.get("roles") or ())
        ownership = str(raw.get("ownership") or "")
    else:
        types, roles, ownership = tuple(raw or ()), (), ""
    for institution_type in types:
        if institution_type not in INSTITUTION_TYPES:
            raise fail(f"unknown institution type {institution_type!r} in `over`")
    for role in roles:
        if role not in ROLES:
            raise fail(f"unknown role {role!r} in `over`: one of {', '.join(ROLES)}")
    if ownership and ownership not in OWNERSHIPS:
        raise fail(f"ownership {ownership!r} in `over` is not one of {', '.join(OWNERSHIPS)}")
    return types, roles, ownership


def _judged_at(raw: object, fail: _Fail) -> tuple[str, ...]:
    """Where the indicator is judged (issue 17.3): required, so that an area total ("全区21个")
    is not judged at every township and institution by default."""
    if not raw:
        raise fail(f"`judged_at` (where it is judged: {', '.join(JUDGING_LEVELS)}) is missing")
    levels = []
    for written in raw if isinstance(raw, list) else [raw]:
        level = DIVISION_LEVELS.get(written, written)
        if level not in JUDGING_LEVELS:
            raise fail(f"unknown judging level {level!r}: one of {', '.join(JUDGING_LEVELS)}")
        levels.append(level)
    return tuple(dict.fromkeys(levels))


def _computed(entry: Entry, elements: dict[str, str], fail: _Fail) -> tuple[Node, Target]:
    if not entry.get("value"):
        raise fail("a computed indicator needs `value`")
    if not entry.get("target"):
        raise fail("a computed indicator needs `target`")
    try:
        expression = expressions.parse(str(entry["value"]), elements)
    except ExpressionError as error:
        raise fail(f"value, position {error.position}: {error.message}", error.position) from error
    try:
        raw = entry["target"]
        if isinstance(raw, dict):
            target = expressions.bureau_target(raw, percent=entry.get("unit") == "percent")
        else:
            target = expressions.parse_target(str(raw))
    except TargetError as error:
        raise fail(str(error)) from error
    return expression, target


def _needs_over(node: Node) -> bool:
    return any(
        isinstance(n, expressions.Share | expressions.Count)
        or (isinstance(n, expressions.Aggregate) and n.func != "own")
        for n in expressions.walk(node)
    )


def pack_files(directory: Path = PACKS_DIR) -> list[Path]:
    return sorted(p for p in directory.glob("*.yaml") if p.name != CORE_FILE.name)


def check_packs(directory: Path = PACKS_DIR) -> tuple[list[Pack], list[PackError]]:
    """Load every pack; returns the packs that load and the errors of those that do not."""
    elements = read_elements(directory / CORE_FILE.name)
    packs, errors = [], []
    for path in pack_files(directory):
        try:
            packs.append(load_pack(path, elements))
        except PackError as error:
            errors.append(error)
    return packs, errors


@functools.cache
def _boolean_elements() -> frozenset[str]:
    return read_element_names()[1]


def is_yes_no(indicator: PackIndicator) -> bool:
    """A yes/no indicator: the count, maximum or minimum of a yes/no element against a target
    of at most 1 ("设有标准化康复医学科"): its figure is 0 or 1, so no trend line projects it
    (issue 17.7); it was met from some year on, or not yet."""

    node = indicator.expression
    return (isinstance(node, Aggregate) and node.func != "own"
            and node.element in _boolean_elements()
            and indicator.target is not None and indicator.target.low <= 1)  # fmt: skip


PLAN_PACKS_DIR = Path(__file__).resolve().parents[1] / "plans" / "packs"


def plan_milestones(directory: Path = PLAN_PACKS_DIR) -> dict[str, list[tuple[str, int, int]]]:
    """ "pack/indicator" -> [(plan file, year due, year the plan ends)] of every dated plan
    milestone linked to an indicator (`indicator:` beside a `due:` date)."""
    found: dict[str, list[tuple[str, int, int]]] = {}

    def walk(node: object, file: str, end: int) -> None:
        if isinstance(node, dict):
            due = node.get("due")
            if node.get("indicator") and due is not None and hasattr(due, "year"):
                found.setdefault(str(node["indicator"]), []).append((file, due.year, end))
            for value in node.values():
                walk(value, file, end)
        elif isinstance(node, list):
            for value in node:
                walk(value, file, end)

    for path in sorted(directory.glob("*.yaml")):
        with open(path, encoding="utf-8") as handle:
            plan = yaml.load(handle, Loader=_LOADER)
        end = getattr((plan.get("period") or {}).get("end"), "year", 9999)
        walk(plan, path.name, end)
    return found


def check_deadlines(packs: list[Pack], directory: Path = PLAN_PACKS_DIR) -> list[PackError]:
    """An indicator's deadline must not contradict its plan milestone (issue 17.8: the
    rehabilitation beds had none while the plan says 2023): a deadline other than the
    milestone's year is refused, and so is no deadline beside a milestone due before the
    plan ends (a milestone at the plan's end is its general completion: without a deadline
    the indicator is judged throughout the plan, which does not contradict it)."""
    milestones = plan_milestones(directory)
    errors = []
    for pack in packs:
        for indicator in pack.indicators:
            due = milestones.get(f"{pack.code}/{indicator.id}")
            if not due:
                continue
            file, year, end = max(due, key=lambda d: d[1])
            if (
                indicator.deadline is None
                and year < end
                or (indicator.deadline is not None and indicator.deadline != year)
            ):
                errors.append(PackError(pack.file, f"deadline {indicator.deadline} contradicts"
                                        f" the plan milestone due {year} ({file})", indicator.id))  # fmt: skip
    return errors


@functools.cache
def _cached_packs() -> dict[str, Pack]:
    packs, errors = check_packs()
    if errors:
        raise errors[0]
    return {pack.code: pack for pack in packs}


def all_packs() -> dict[str, Pack]:
    """Every pack shipped with Xinglin, by code (read once per process)."""
    return _cached_packs()


def get_pack(code: str) -> Pack:
    """The pack with this code; KeyError naming the known packs otherwise."""
    packs = all_packs()
    if code not in packs:
        raise KeyError(f"unknown pack {code!r}; known packs: {', '.join(sorted(packs))}")
    return packs[code]
