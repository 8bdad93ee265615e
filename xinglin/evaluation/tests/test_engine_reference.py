"""The engine against an independent plain-Python computation over generated data: missing
values, zero denominators, derived values, closed and moved institutions, units without an
institution of a type."""

from __future__ import annotations

import random
from datetime import date

import pytest

from xinglin.collection.models import DataValue, DeliveredTechnique
from xinglin.collection.testing import store_facts
from xinglin.evaluation.actions import replace_derived_values
from xinglin.evaluation.engine import evaluate
from xinglin.evaluation.models import DerivedValue
from xinglin.network.actions import close_orgunit, create_institution, move_orgunit
from xinglin.network.models import OrgUnit
from xinglin.standards import expressions as ex
from xinglin.standards.catalogue import sync_catalogue
from xinglin.standards.loader import Pack, PackIndicator, read_elements
from xinglin.standards.models import DataElement, TechniqueItem

HC, VC, TH = "township_health_center", "village_clinic", "tcm_hospital"
DEFINITIONS = [
    ("visits", [HC, VC], "sum(tcm_visits) / sum(total_visits)", ">= 35%", "percent"),
    ("hall", [HC], "share(has_tcm_hall = 1)", "= 100%", "percent"),
    ("tech", [VC], "share(technique_categories >= 2 and technique_items >= 3)", "= 100%",
     "percent"),
    ("physicians", [HC, VC], "share(tcm_physicians >= 0.25 * physicians or not has_tcm_hall = 1)",
     ">= 50%", "percent"),
    ("gps", [HC, TH], "per_10000(sum(tcm_general_practitioners), own(residents))", ">= 0.6",
     "per_10000"),
    ("elderly", [HC], "sum(elderly_tcm_managed) / own(residents_65_plus)", ">= 75%", "percent"),
    ("emr", [TH], "max(emr_level)", ">= 4", "level"),
    ("mixed", [HC, VC], "min(physicians) + count() - 1", "between 2 and 6", "count"),
    ("clinics", [VC], "count()", ">= 2", "count"),
    ("survey", [HC], "own(satisfaction_satisfied) / own(satisfaction_respondents)", ">= 90%",
     "percent"),
]  # fmt: skip
# (issue 17.3/17.4) where each is judged, and the roles / ownership it covers
JUDGED = [
    ("county_emr", [TH], "max(emr_level)", ">= 4", "level",
     {"judged_at": ("institution", "county"), "roles": ("county_tcm_hospital",)}),
    ("public_hall", [HC, TH], "share(has_tcm_hall = 1)", "= 100%", "percent",
     {"judged_at": ("institution", "township", "county"), "ownership": "public"}),
    ("hall_total", [HC], "sum(has_tcm_hall)", ">= 2", "count", {"judged_at": ("county",)}),
    ("own_rate", [HC], "sum(elderly_tcm_managed) / own(residents_65_plus)", ">= 75%", "percent",
     {"judged_at": ("township",)}),
]  # fmt: skip
PRIVATE = [("640323000002", "民营中医医院", TH, "640323"),
           ("640323100002", "民营卫生院", HC, "640323100")]  # fmt: skip
INSTITUTION_ELEMENTS = ["has_tcm_hall", "tcm_physicians", "physicians", "tcm_general_practitioners",
                        "elderly_tcm_managed", "emr_level"]  # fmt: skip
YEARS = (2022, 2024)
MOVED = ("640323100102", "640323101", date(2023, 7, 1))  # clinic moves to 大水坑镇 mid-2023
CLOSED = ("640323101102", date(2023, 3, 1))


def _pack() -> Pack:
    levels = read_elements()
    indicators = tuple(
        PackIndicator(
            id=code,
            item=n,
            section="",
            name_zh=code,
            name_en=code,
            source="test",
            text="",
            kind="computed",
            over=tuple(over),
            value=value,
            expression=ex.parse(value, levels),
            target=ex.parse_target(target),
            unit=unit,
            **extra,
        )  # fmt: skip
        for n, (code, over, value, target, unit, extra) in enumerate(
            [(*d, {}) for d in DEFINITIONS] + JUDGED, start=1
        )
    )
    return Pack("reference", "t", "t", "test", "", "", "reference.yaml", indicators)


@pytest.fixture
def world(county):
    sync_catalogue()
    township = {c: OrgUnit.objects.get(code=c) for c in ("640323100", "640323101", "640323102")}
    create_institution(code="640323101102", name="c", institution_type=VC,
                       parent=township["640323101"])  # fmt: skip
    create_institution(code="640323102101", name="d", institution_type=VC,
                       parent=township["640323102"], opened_on=date(2024, 5, 1))  # fmt: skip
    for code, name, kind, parent in PRIVATE:  # private hospitals cover no public/role figure
        create_institution(code=code, name=name, institution_type=kind,
                           parent=OrgUnit.objects.get(code=parent))  # fmt: skip
        OrgUnit.objects.filter(code=code).update(ownership="private")
    close_orgunit(OrgUnit.objects.get(code=CLOSED[0]), CLOSED[1])
    move_orgunit(OrgUnit.objects.get(code=MOVED[0]), township[MOVED[1]], MOVED[2])
    return county


class Reference:
    """Plain Python over the generated facts; shares nothing with the engine but the parser."""

    def __init__(self, facts, derived, techniques, categories):
        self.facts, self.derived, self.techniques, self.categories = (
            facts, derived, techniques, categories)  # fmt: skip
        self.units = {u.code: u for u in OrgUnit.objects.all()}

    def parent(self, code: str, year: int) -> str | None:
        if code == MOVED[0] and year < MOVED[2].year:
            return "640323100"
        unit = self.units[code]
        return unit.parent.code if unit.parent else None

    def ancestors(self, code: str, year: int) -> list[str]:
        chain, current = [], code
        while current:
            chain.append(current)
            current = self.parent(current, year)
        return chain

    def is_open(self, code: str, year: int) -> bool:
        unit = self.units[code]
        opened = unit.opened_on is None or unit.opened_on <= date(year, 12, 31)
        return opened and (unit.closed_on is None or unit.closed_on > date(year, 1, 1))

    def value(self, element: str, code: str, year: int) -> float | None:
        periods = [f"{year}{m:02d}" for m in range(1, 13)] if "visits" in element else [str(year)]
        found = []
        for period in periods:
            key = (element, code, period)
            if key in self.derived:
                found.append(self.derived[key])
            elif key in self.facts:
                found.append(self.facts[key])
        return sum(found) if found else None

    def own(self, element: str, code: str, year: int) -> float | None:
        mine = self.value(element, code, year)
        if mine is not None:
            return mine
        children = [c for c, u in self.units.items()
                    if u.kind == "division" and self.parent(c, year) == code]  # fmt: skip
        figures = [v for c in children if (v := self.value(element, c, year)) is not None]
        return sum(figures) if figures else None

    def covered(self, indicator, code: str, year: int) -> list[str]:
        unit = self.units[code]
        return sorted(
            c for c, u in self.units.items()
            if u.kind == "institution" and self.holds(indicator, u)
            and self.is_open(c, year) and code in self.ancestors(c, year)
            and (unit.kind == "division" or c == code)
        )  # fmt: skip

    @staticmethod
    def holds(indicator, unit) -> bool:
        """The institution is of a covered type, holds one of the roles, has the ownership."""
        roles = set(unit.roles.split(";")) if unit.roles else set()
        return (unit.institution_type in indicator.over
                and (not indicator.roles or bool(roles & set(indicator.roles)))
                and (not indicator.ownership or unit.ownership == indicator.ownership))  # fmt: skip

    def tech(self, code: str, year: int, what: str) -> int:
        items = {item for (c, period, item) in self.techniques if c == code and period == str(year)}
        if what == "technique_items":
            return len(items)
        return len({self.categories[i] for i in items})

    def condition(self, node, code, year):
        """Kleene logic: None is unknown."""
        if isinstance(node, ex.Logical):
            a, b = self.condition(node.left, code, year), self.condition(node.right, code, year)
            if node.op == "and":
                return False if False in (a, b) else (None if None in (a, b) else True)
            return True if True in (a, b) else (None if None in (a, b) else False)
        if isinstance(node, ex.Not):
            inner = self.condition(node.operand, code, year)
            return None if inner is None else not inner
        a, b = self.operand(node.left, code, year), self.operand(node.right, code, year)
        if a is None or b is None:
            return None
        return {">=": a >= b, "<=": a <= b, ">": a > b, "<": a < b, "=": a == b,
                "!=": a != b}[node.op]  # fmt: skip

    def operand(self, node, code, year):
        if isinstance(node, ex.Number):
            return node.value
        if isinstance(node, ex.Element):
            return self.value(node.code, code, year)
        if isinstance(node, ex.TechniqueCount):
            return self.tech(code, year, node.what)
        a, b = self.operand(node.left, code, year), self.operand(node.right, code, year)
        return None if a is None or b is None else a * b

    def compute(self, indicator, code: str, year: int) -> dict:  # noqa: C901 — the oracle, plainly
        covered = self.covered(indicator, code, year)
        nodes = list(ex.walk(indicator.expression))
        agg = {n.element for n in nodes if isinstance(n, ex.Aggregate) and n.func != "own"}
        cond = {n.code for n in nodes if isinstance(n, ex.Element)}
        needed = agg or cond
        complete = [c for c in covered
                    if all(self.value(e, c, year) is not None for e in needed)]  # fmt: skip
        complete_agg = [c for c in covered if all(self.value(e, c, year) is not None for e in agg)]

        def top(node):
            if isinstance(node, ex.Number):
                return node.value
            if isinstance(node, ex.Aggregate):
                if node.func == "own":
                    return self.own(node.element, code, year)
                figures = [self.value(node.element, c, year) for c in complete_agg]
                return {"sum": sum, "max": max, "min": min}[node.func](figures) if figures else None
            if isinstance(node, ex.Count):
                return float(len(covered))
            if isinstance(node, ex.Share):
                ok = sum(1 for c in covered if self.condition(node.condition, c, year) is True)
                return ok / len(covered) if covered else None
            if isinstance(node, ex.PerTenThousand):
                a, b = top(node.numerator), top(node.denominator)
                return None if a is None or not b else a * 10000 / b
            a, b = top(node.left), top(node.right)
            if a is None or b is None:
                return None
            if node.op == "/":
                return None if b == 0 else a / b
            return {"+": a + b, "-": a - b, "*": a * b}[node.op]

        value = top(indicator.expression)
        impossible = value is not None and indicator.unit == "percent" and value > 1
        expression = indicator.expression
        if isinstance(expression, ex.PerTenThousand) or (
            isinstance(expression, ex.Binary) and expression.op == "/"
        ):  # a numerator without its denominator (missing, or zero under a positive one)
            left = expression.numerator if isinstance(expression, ex.PerTenThousand) else (
                expression.left)  # fmt: skip
            right = expression.denominator if isinstance(expression, ex.PerTenThousand) else (
                expression.right)  # fmt: skip
            numerator, denominator = top(left), top(right)
            impossible |= bool(numerator) and not denominator
        institutional = any(isinstance(n, ex.Aggregate | ex.Share | ex.Count) and
                            getattr(n, "func", "") != "own" for n in nodes)  # fmt: skip
        kind = self.units[code].kind
        if indicator.over and not covered:
            status = "not_applicable"
        elif impossible:
            status = "data_error"
        elif value is None:
            status = "no_data"
        elif indicator.target.is_met(value):
            status = "met"
        elif kind == "institution" and len(complete) < len(covered):
            status = "no_data"
        else:
            status = "not_met"
        return {"value": value, "status": status,
                "included": len(complete) if institutional else None,
                "missing": len(covered) - len(complete) if institutional else None}  # fmt: skip


def _generate(seed: int):  # noqa: C901 — one random world, written out
    rng = random.Random(seed)
    codes = list(OrgUnit.objects.filter(kind="institution").values_list("code", flat=True))
    facts, derived, techniques = {}, {}, set()
    for year in YEARS:
        for code in codes:
            for element in INSTITUTION_ELEMENTS:
                if rng.random() < 0.8:
                    high = 1 if element == "has_tcm_hall" else rng.choice([0, 3, 12])
                    facts[(element, code, str(year))] = float(rng.randint(0, high))
            for month in range(1, 13):
                if rng.random() < 0.9:
                    total = rng.choice([0, rng.randint(10, 100)])
                    facts[("total_visits", code, f"{year}{month:02d}")] = float(total)
                    if rng.random() < 0.95:
                        tcm = rng.randint(0, total) if total else 0
                        facts[("tcm_visits", code, f"{year}{month:02d}")] = float(tcm)
            if rng.random() < 0.3:
                derived[("elderly_tcm_managed", code, str(year))] = float(rng.randint(0, 50))
            for _ in range(rng.randint(0, 6)):
                techniques.add((code, str(year), rng.choice(ITEMS)))
        for code in ("640323", "640323100", "640323101", "640323102"):
            for element in ("residents", "residents_65_plus", "satisfaction_satisfied",
                            "satisfaction_respondents"):  # fmt: skip
                if rng.random() < 0.6:
                    high = 100 if "satisfaction" in element else 60000
                    facts[(element, code, str(year))] = float(rng.randint(0, high))
    return facts, derived, techniques


ITEMS: list[str] = []


def _store(facts, derived, techniques) -> None:
    DataValue.objects.all().delete()
    DeliveredTechnique.objects.all().delete()
    DerivedValue.objects.all().delete()
    elements = {e.code: e for e in DataElement.objects.all()}
    units = {u.code: u for u in OrgUnit.objects.all()}
    store_facts([(elements[e], units[c], p, v) for (e, c, p), v in facts.items()])
    rows = [(e, c, p, v) for (e, c, p), v in derived.items()]
    replace_derived_values("test.records", rows, [str(y) for y in YEARS])
    items = {i.code: i for i in TechniqueItem.objects.all()}
    DeliveredTechnique.objects.bulk_create(
        DeliveredTechnique(orgunit=units[c], period=p, item=items[i]) for c, p, i in techniques
    )


@pytest.mark.parametrize("seed", range(12))
def test_engine_matches_plain_python(world, seed):
    ITEMS[:] = sorted(TechniqueItem.objects.values_list("code", flat=True))[:12]
    categories = dict(TechniqueItem.objects.values_list("code", "category__code"))
    facts, derived, techniques = _generate(seed)
    _store(facts, derived, techniques)
    reference = Reference(facts, derived, techniques, categories)
    pack = _pack()
    compared = 0
    for year in YEARS:
        evaluation = evaluate(pack, "640323", str(year))
        by_key = {(r.indicator, r.orgunit): r for r in evaluation.results}
        for indicator in pack.indicators:
            expected_units = _expected_units(reference, indicator, year)
            got_units = {code for (ind, code) in by_key if ind == indicator.id}
            assert got_units == expected_units, (indicator.id, year)
            statuses = {}
            for code in sorted(expected_units):
                want, got = reference.compute(indicator, code, year), by_key[(indicator.id, code)]
                statuses[code] = want["status"]
                assert got.status == want["status"], (indicator.id, code, year, got, want)
                assert got.included == want["included"] and got.missing == want["missing"]
                if want["value"] is None:
                    assert got.value is None
                else:
                    assert got.value == pytest.approx(want["value"], abs=1e-8)
                compared += 1
            _check_failing(reference, indicator, year, by_key, statuses)
    assert compared > 100


def _expected_units(reference: Reference, indicator, year: int) -> set[str]:
    divisions = {c for c, u in reference.units.items()
                 if u.kind == "division" and "640323" in reference.ancestors(c, year)}  # fmt: skip
    if indicator.judged_at:  # only at the levels where it is judged
        divisions = {c for c in divisions
                     if reference.units[c].division_level in indicator.judged_at}  # fmt: skip
    if any(isinstance(n, ex.Aggregate) and n.func == "own" for n in ex.walk(indicator.expression)):
        return divisions
    if indicator.judged_at and "institution" not in indicator.judged_at:
        return divisions
    institutions = {c for c, u in reference.units.items()
                    if u.kind == "institution" and reference.holds(indicator, u)
                    and reference.is_open(c, year)}  # fmt: skip
    return divisions | institutions


def _check_failing(reference, indicator, year, by_key, statuses) -> None:
    for code, status in statuses.items():
        if reference.units[code].kind != "division" or status == "not_applicable":
            continue
        beneath = reference.covered(indicator, code, year)
        short = sorted(c for c in beneath
                       if statuses.get(c) in ("not_met", "no_data", "data_error"))  # fmt: skip
        assert sorted(by_key[(indicator.id, code)].failing) == short
