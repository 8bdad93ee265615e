"""The W1 peer: the computed indicators of a pack for every org unit, in pandas, over the same
Parquet files the engine reads. It interprets the pack's expressions with pandas operations
(no row loops) following the engine's rules (README of xinglin/evaluation): the tree at the
year's end, months rolled up by the element's aggregation, derived values replacing reported
ones, aggregates over institutions that reported every element read, shares with unknown = not
met (pandas compares NaN as False, which equals that rule for and/or/comparisons; `not` is
not supported here, and the demo pack does not use it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from xinglin.standards import expressions as ex
from xinglin.standards.loader import get_pack

OPS = {">=": "ge", "<=": "le", ">": "gt", "<": "lt", "=": "eq", "!=": "ne"}


def version() -> str:
    return pd.__version__


def _tree(root: Path, year: int) -> pd.DataFrame:
    end = pd.Timestamp(year, 12, 31)
    start = pd.Timestamp(year, 1, 1)
    units = pq.read_table(root / "network_orgunit" / "all.parquet").to_pandas()
    history = pq.read_table(root / "network_orgunithistory" / "all.parquet").to_pandas()
    for column in ("opened_on", "closed_on"):
        units[column] = pd.to_datetime(units[column])
    history["valid_from"] = pd.to_datetime(history["valid_from"])
    history["valid_to"] = pd.to_datetime(history["valid_to"])
    current = history[
        (history.valid_from <= end) & (history.valid_to.isna() | (history.valid_to > end))
    ]
    current = current.drop_duplicates("orgunit_id").set_index("orgunit_id")
    units = units.set_index("id")
    units["path"] = current["path"].reindex(units.index).fillna(units["path"])
    units["parent_id"] = current["parent_id"].reindex(units.index).fillna(units["parent_id"])
    units["is_open"] = (units.opened_on.isna() | (units.opened_on <= end)) & (
        units.closed_on.isna() | (units.closed_on > start)
    )
    return units


def _members(units: pd.DataFrame) -> pd.DataFrame:
    institutions = units[(units.kind == "institution") & units.is_open]
    parts = institutions["path"].str.strip("/").str.split("/")
    prefixes = parts.apply(lambda p: ["/" + "/".join(p[:k]) + "/" for k in range(1, len(p))])
    exploded = prefixes.explode().dropna().rename("prefix").reset_index()
    by_path = units[units.kind == "division"].reset_index().set_index("path")["id"]
    exploded["target"] = exploded["prefix"].map(by_path)
    members = exploded.dropna(subset=["target"])[["target", "id"]]
    own = pd.DataFrame({"target": institutions.index, "id": institutions.index})
    members = pd.concat([members.astype("int64"), own], ignore_index=True)
    members["itype"] = members["id"].map(units["institution_type"])
    return members.rename(columns={"id": "inst"})


def _values(root: Path, year: int, codes: list[str]) -> pd.DataFrame:
    elements = pq.read_table(root / "standards_dataelement" / "all.parquet").to_pandas()
    elements = elements[elements.code.isin(codes)].set_index("id")
    reported = pq.read_table(
        root / "collection_datavalue" / f"{year}.parquet",
        filters=[("element_id", "in", list(elements.index))],
    ).to_pandas()
    derived = pq.read_table(root / "evaluation_derivedvalue" / "all.parquet").to_pandas()
    derived = derived[
        derived.element_id.isin(elements.index) & derived.period.str.startswith(str(year))
    ]
    if len(derived):
        derived = derived.groupby(["element_id", "orgunit_id", "period"], as_index=False)[
            "value"
        ].sum()
        keys = ["element_id", "orgunit_id", "period"]
        merged = reported.merge(derived[keys], on=keys, how="left", indicator=True)
        reported = pd.concat([merged[merged._merge == "left_only"][[*keys, "value"]], derived])
    reported["code"] = reported["element_id"].map(elements["code"])
    reported["aggregation"] = reported["element_id"].map(elements["aggregation"])
    summed = reported[reported.aggregation == "sum"].groupby(["orgunit_id", "code"])["value"].sum()
    last = reported[reported.aggregation == "last"].sort_values("period")
    last = last.groupby(["orgunit_id", "code"])["value"].last()
    return pd.concat([summed, last]).unstack("code")


def _techniques(root: Path, year: int) -> pd.DataFrame:
    delivered = pq.read_table(root / "collection_deliveredtechnique" / "all.parquet").to_pandas()
    items = pq.read_table(root / "standards_techniqueitem" / "all.parquet").to_pandas()
    delivered = delivered[delivered.period.str.startswith(str(year))]
    delivered["category"] = delivered["item_id"].map(items.set_index("id")["category_id"])
    grouped = delivered.groupby("orgunit_id")
    return pd.DataFrame({"technique_categories": grouped["category"].nunique(),
                         "technique_items": grouped["item_id"].nunique()})  # fmt: skip


class _Indicator:
    def __init__(self, indicator, units, members, values, techniques):
        self.i, self.units = indicator, units
        self.values, self.techniques = values, techniques
        self.members = members[members.itype.isin(indicator.over)]
        self.covered = self.members.groupby("target").size()
        nodes = list(ex.walk(indicator.expression))
        agg = {n.element for n in nodes if isinstance(n, ex.Aggregate) and n.func != "own"
               and n.element in values.columns}  # fmt: skip
        self.agg = sorted(agg)

    def column(self, code: str) -> pd.Series:
        if code in ("technique_categories", "technique_items"):
            return self.members["inst"].map(self.techniques[code]).fillna(0)
        if code not in self.values.columns:
            return pd.Series(np.nan, index=self.members.index)
        return self.members["inst"].map(self.values[code])

    def top(self, node):
        if isinstance(node, ex.Number):
            return float(node.value)
        if isinstance(node, ex.Aggregate):
            if node.func == "own" or node.element not in self.agg:
                return self.own(node.element)
            complete = pd.Series(True, index=self.members.index)
            for code in self.agg:
                complete &= self.column(code).notna()
            figures = self.column(node.element).where(complete)
            return getattr(figures.groupby(self.members["target"]), node.func)()
        if isinstance(node, ex.Count):
            return self.covered.astype(float)
        if isinstance(node, ex.Share):
            ok = self.condition(node.condition).astype(float).groupby(self.members["target"]).sum()
            return ok / self.covered.replace(0, np.nan)
        if isinstance(node, ex.PerTenThousand):
            return self.top(node.numerator) * 10000.0 / _nonzero(self.top(node.denominator))
        a, b = self.top(node.left), self.top(node.right)
        return {"/": lambda: a / _nonzero(b), "+": lambda: a + b, "-": lambda: a - b,
                "*": lambda: a * b}[node.op]()  # fmt: skip

    def own(self, code: str) -> pd.Series:
        if code not in self.values.columns:
            return pd.Series(dtype=float)
        mine = self.values[code].reindex(self.units.index)
        divisions = self.units[self.units.kind == "division"]
        children = mine.reindex(divisions.index).groupby(divisions["parent_id"]).sum(min_count=1)
        return mine.fillna(children.reindex(self.units.index))

    def condition(self, node) -> pd.Series:
        if isinstance(node, ex.Logical):
            a, b = self.condition(node.left), self.condition(node.right)
            return (a & b) if node.op == "and" else (a | b)
        a, b = self.operand(node.left), self.operand(node.right)
        return getattr(a, OPS[node.op])(b) if isinstance(a, pd.Series) else getattr(b, OPS[
            {">=": "<=", "<=": ">=", ">": "<", "<": ">"}.get(node.op, node.op)])(a)  # fmt: skip

    def operand(self, node):
        if isinstance(node, ex.Number):
            return float(node.value)
        if isinstance(node, ex.Element):
            return self.column(node.code)
        if isinstance(node, ex.TechniqueCount):
            return self.column(node.what)
        return self.operand(node.left) * self.operand(node.right)

    def targets(self) -> pd.Index:
        units = self.units
        divisions = units[units.kind == "division"]
        if self.i.evaluate_at:
            divisions = divisions[divisions.division_level.isin(self.i.evaluate_at)]
        nodes = list(ex.walk(self.i.expression))
        own = any(isinstance(n, ex.Aggregate) and (n.func == "own" or n.element not in self.agg)
                  for n in nodes if isinstance(n, ex.Aggregate))  # fmt: skip
        if own or self.i.evaluate_at or not self.i.over:
            return divisions.index
        institutions = units[(units.kind == "institution") & units.is_open
                             & units.institution_type.isin(self.i.over)]  # fmt: skip
        return divisions.index.append(institutions.index)


def _nonzero(series):
    return series.replace(0, np.nan) if isinstance(series, pd.Series) else (series or np.nan)


def evaluate(root: Path, pack_code: str, unit: str, year: int) -> dict[tuple[str, str], float]:
    """(indicator, org-unit code) -> value (NaN when there is none), the whole province."""
    pack = get_pack(pack_code)
    computed = [i for i in pack.indicators if i.is_computed]
    codes = sorted({c for i in computed for c in ex.element_codes(i.expression)})
    units = _tree(root, year)
    members, values = _members(units), _values(root, year, codes)
    techniques = _techniques(root, year)
    figures = {}
    for indicator in computed:
        peer = _Indicator(indicator, units, members, values, techniques)
        value = peer.top(indicator.expression)
        targets = peer.targets()
        series = value.reindex(targets) if isinstance(value, pd.Series) else \
            pd.Series(value, index=targets)  # fmt: skip
        codes_ = units["code"].reindex(targets)
        figures.update(zip(((indicator.id, c) for c in codes_), series.to_numpy(), strict=True))
    return figures


def compare(figures: dict, results) -> tuple[int, int]:
    """How many of the engine's figures the peer reproduces (1e-6 relative), of how many."""
    same = compared = 0
    for result in results:
        if result.kind != "computed" or (result.indicator, result.orgunit) not in figures:
            continue
        mine = figures[(result.indicator, result.orgunit)]
        compared += 1
        if result.value is None or result.status == "not_applicable":
            same += bool(np.isnan(mine)) or result.status == "not_applicable"
        elif not np.isnan(mine) and abs(mine - result.value) <= 1e-6 * max(1, abs(mine)):
            same += 1
    return same, compared
