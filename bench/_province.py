"""A generated province for the W1 benchmark (deterministic: numpy's generator, fixed seed).

100 counties in 10 cities, 15 townships each; per county 300 institutions (county TCM,
general, maternal-child hospitals and rehab centre; a community health centre with 10
stations; per township a health centre and 18 village clinics) = 30,000 institutions.
Five years (2021–2025) of every catalogue element each institution type reports (monthly
visits, yearly facts), populations and surveys for townships and counties, techniques
delivered, some derived values, 1 % of village clinics moved mid-2023 (history), a few
closed. Besides the catalogue, a province database holds other forms' data: FILLER monthly
elements (`bench_form_NN`) bring the total to ≈ 65 million values; the pack never reads them,
but every engine has to skip them.

Everything is written straight to Parquet in the layout of `xinglin warehouse export`
(xinglin/warehouse/export.py), with the ids the Django tables get in a fresh database after
`sync_catalogue()`, so that the same rows can be COPYed into PostgreSQL and SQLite.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "xinglin" / "standards" / "packs" / "core.yaml"
SEED = 20260101
YEARS = range(2021, 2026)
PROVINCE = "99"
CITIES, COUNTIES_PER_CITY, TOWNSHIPS, CLINICS = 10, 10, 15, 18
FILLER = 34  # monthly elements of other forms (see the docstring)
MOVED_ON = date(2023, 7, 1)


@dataclass
class Units:
    table: pa.Table  # network_orgunit
    history: pa.Table  # network_orgunithistory
    institutions: dict[str, np.ndarray]  # institution type -> ids
    divisions: dict[str, np.ndarray]  # level -> ids


def catalogue() -> tuple[list[dict], list[tuple[str, str]]]:
    """Elements in core.yaml order + the filler elements; technique (item, category) codes."""
    core = yaml.safe_load(CORE.read_text(encoding="utf-8"))
    elements = [
        {"code": e["code"], "period_type": e["period_type"], "aggregation": e["aggregation"],
         "level": e.get("level", "institution"), "types": e["institution_types"],
         "type": e["type"]}
        for e in core["data_elements"]
    ]  # fmt: skip
    every = sorted({t for e in elements for t in e["types"]})
    elements += [
        {"code": f"bench_form_{n:02d}", "period_type": "monthly", "aggregation": "sum",
         "level": "institution", "types": every, "type": "integer"}
        for n in range(1, FILLER + 1)
    ]  # fmt: skip
    items = [(i["code"], c["code"]) for c in core["techniques"] for i in c["items"]]
    return elements, items


def build_units(rng: np.random.Generator) -> Units:
    rows: list[tuple] = []  # id, code, name, kind, level, itype, parent, path, depth

    def add(code, name, kind, level, itype, parent_id, parent_path, depth):
        path = f"{parent_path}{code}/"
        rows.append((len(rows) + 1, code, name, kind, level, itype, parent_id, path, depth))
        return len(rows), path

    province, ppath = add(PROVINCE, "生成省", "division", "province", "", None, "/", 0)
    counties = []
    for c in range(1, CITIES + 1):
        city, cpath = add(f"{PROVINCE}{c:02d}", f"第{c}市", "division", "city", "", province,
                          ppath, 1)  # fmt: skip
        for k in range(1, COUNTIES_PER_CITY + 1):
            code = f"{PROVINCE}{c:02d}{k:02d}"
            counties.append(
                (code, *add(code, f"{code}县", "division", "county", "", city, cpath, 2))
            )
    for code, county, kpath in counties:
        towns = [(f"{code}{100 + t:03d}", *add(f"{code}{100 + t:03d}", f"{code}第{t}镇",
                  "division", "township", "", county, kpath, 3)) for t in range(TOWNSHIPS)]  # fmt: skip
        for n, itype in enumerate(("tcm_hospital", "general_hospital", "maternal_child_hospital",
                                   "disability_rehab_center"), start=1):  # fmt: skip
            add(f"{code}000{n:03d}", f"{code}{itype}", "institution", "", itype, county, kpath, 3)
        first, first_id, first_path = towns[0]
        add(f"{first}002", f"{first}社区中心", "institution", "", "community_health_center",
            first_id, first_path, 4)  # fmt: skip
        for s in range(1, 11):
            add(f"{first}2{s:02d}", f"{first}站{s}", "institution", "", "community_health_station",
                first_id, first_path, 4)  # fmt: skip
        for town, town_id, tpath in towns:
            add(f"{town}001", f"{town}卫生院", "institution", "", "township_health_center",
                town_id, tpath, 4)  # fmt: skip
            for v in range(1, CLINICS + 1):
                add(f"{town}1{v:02d}", f"{town}村{v}", "institution", "", "village_clinic",
                    town_id, tpath, 4)  # fmt: skip
    return _units(rows, rng)


def _units(rows: list[tuple], rng: np.random.Generator) -> Units:
    ids = np.array([r[0] for r in rows])
    kind = np.array([r[3] for r in rows])
    level = np.array([r[4] for r in rows])
    itype = np.array([r[5] for r in rows])
    parent = [r[6] for r in rows]
    path = [r[7] for r in rows]
    opened = [None] * len(rows)
    closed = [None] * len(rows)
    clinics = ids[itype == "village_clinic"]
    for pk in rng.choice(clinics, 60, replace=False):  # a few closed, a few opened late
        closed[pk - 1] = date(int(rng.integers(2022, 2026)), int(rng.integers(1, 13)), 1)
    for pk in rng.choice(clinics, 60, replace=False):
        if closed[pk - 1] is None:
            opened[pk - 1] = date(int(rng.integers(2022, 2026)), int(rng.integers(1, 13)), 1)
    history = []  # 1 % of the clinics move to the next township of their county in mid-2023
    by_path = {r[7]: r[0] for r in rows}
    for pk in sorted(rng.choice(clinics, len(clinics) // 100, replace=False)):
        old_path, code = path[pk - 1], rows[pk - 1][1]
        town_path = old_path[: old_path.rstrip("/").rfind("/") + 1]
        town = town_path.rstrip("/").rsplit("/", 1)[1]
        new_town = f"{town[:6]}{100 + (int(town[6:]) - 99) % TOWNSHIPS:03d}"
        new_town_path = f"{town_path[: -len(town) - 1]}{new_town}/"
        new_path = f"{new_town_path}{code}/"
        history.append((len(history) + 1, pk, parent[pk - 1], old_path, date(2000, 1, 1), MOVED_ON))
        parent[pk - 1], path[pk - 1] = by_path[new_town_path], new_path
        history.append((len(history) + 1, pk, parent[pk - 1], new_path, MOVED_ON, None))
    table = pa.table({
        "id": pa.array(ids, pa.int64()), "code": [r[1] for r in rows],
        "name": [r[2] for r in rows], "kind": kind.tolist(), "division_level": level.tolist(),
        "institution_type": itype.tolist(), "parent_id": pa.array(parent, pa.int64()),
        "path": path, "depth": pa.array([r[8] for r in rows], pa.int64()),
        "opened_on": pa.array(opened, pa.date32()), "closed_on": pa.array(closed, pa.date32()),
    })  # fmt: skip
    names = ["id", "orgunit_id", "parent_id", "path", "valid_from", "valid_to"]
    columns = list(zip(*history, strict=True))
    types = [pa.int64(), pa.int64(), pa.int64(), pa.string(), pa.date32(), pa.date32()]
    hist = pa.table({n: pa.array(c, t) for n, c, t in zip(names, columns, types, strict=True)})
    institutions = {t: ids[(kind == "institution") & (itype == t)] for t in set(itype) if t}
    divisions = {lv: ids[level == lv] for lv in ("province", "city", "county", "township")}
    return Units(table, hist, institutions, divisions)


def _figures(rng, element: dict, itype: str, n: int) -> np.ndarray:
    """n plausible figures of one element for one institution type (mostly meeting targets)."""
    code, kind = element["code"], element["type"]
    big = itype in ("tcm_hospital", "general_hospital", "maternal_child_hospital")
    centre = itype in ("township_health_center", "community_health_center")
    if kind == "boolean":
        return (rng.random(n) < 0.93).astype(float)
    if kind == "percent":
        return np.round(rng.uniform(0.08, 0.35, n), 4)
    if code in ("hospital_grade", "emr_level"):
        return rng.integers(2, 6, n).astype(float)
    if code == "total_visits":
        return rng.poisson(9000 if big else 1500 if centre else 160, n).astype(float)
    if code == "tcm_visits":  # about 42 % of the visits
        return rng.poisson(3800 if big else 630 if centre else 68, n).astype(float)
    if code == "physicians":
        return (
            rng.integers(80, 300, n).astype(float) if big else rng.integers(1, 30, n).astype(float)
        )
    if code == "alliance_population_covered":
        return rng.integers(150_000, 400_000, n).astype(float)
    scale = 40 if big or centre else 4
    return rng.poisson(scale, n).astype(float)


def values_for_year(rng, units: Units, elements: list[dict], year: int) -> pa.Table:
    months = [f"{year}{m:02d}" for m in range(1, 13)]
    parts_e, parts_u, parts_p, parts_v = [], [], [], []
    for element_id, element in enumerate(elements, start=1):
        periods = months if element["period_type"] == "monthly" else [str(year)]
        if element["level"] == "division":
            holders = [np.concatenate([units.divisions["township"], units.divisions["county"]])]
            kinds = ["division"]
        else:
            holders = [units.institutions[t] for t in element["types"] if t in units.institutions]
            kinds = [t for t in element["types"] if t in units.institutions]
        for ids, itype in zip(holders, kinds, strict=True):
            unit_ids = np.repeat(ids, len(periods))
            period_codes = np.tile(np.array(periods), len(ids))
            keep = rng.random(len(unit_ids)) < 0.97  # a few values missing
            unit_ids, period_codes = unit_ids[keep], period_codes[keep]
            figures = _division_figures(rng, element, len(unit_ids)) if itype == "division" else \
                _figures(rng, element, itype, len(unit_ids))  # fmt: skip
            parts_e.append(np.full(len(unit_ids), element_id))
            parts_u.append(unit_ids)
            parts_p.append(period_codes)
            parts_v.append(figures)
    table = pa.table({
        "element_id": pa.array(np.concatenate(parts_e), pa.int64()),
        "orgunit_id": pa.array(np.concatenate(parts_u), pa.int64()),
        "period": pa.array(np.concatenate(parts_p).astype(str), pa.string()),
        "value": pa.array(np.concatenate(parts_v), pa.float64()),
    })  # fmt: skip
    return table.sort_by([("element_id", "ascending"), ("orgunit_id", "ascending"),
                          ("period", "ascending")])  # fmt: skip


def _division_figures(rng, element: dict, n: int) -> np.ndarray:
    code = element["code"]
    if code.startswith(("residents", "children")):
        return rng.integers(20_000, 300_000, n).astype(float)
    if code.endswith("respondents"):
        return np.full(n, 400.0)
    return rng.integers(330, 400, n).astype(float)  # satisfied / aware


def techniques_for_year(rng, units: Units, items: list[tuple[str, str]], year: int) -> list:
    rows = []
    categories = sorted({c for _i, c in items})
    item_ids = {
        c: [n for n, (_i, cat) in enumerate(items, start=1) if cat == c] for c in categories
    }
    for itype, many in (("township_health_center", 14), ("community_health_center", 14),
                        ("community_health_station", 8), ("village_clinic", 7)):  # fmt: skip
        for pk in units.institutions[itype]:
            chosen = rng.choice(len(categories), size=min(len(categories), many // 2 + 1),
                                replace=False)  # fmt: skip
            picked = {item_ids[categories[c]][int(rng.integers(len(item_ids[categories[c]])))]
                      for c in chosen}  # fmt: skip
            while len(picked) < many:
                picked.add(int(rng.integers(1, len(items) + 1)))
            rows += [(int(pk), str(year), item) for item in sorted(picked)]
    return rows


def generate(root: Path) -> dict:
    """Write the province under `root` (a warehouse directory) unless it is there already;
    returns the manifest (counts)."""
    manifest_path = root / "province.json"
    if manifest_path.exists():
        _complete(root)
        return json.loads(manifest_path.read_text())
    rng = np.random.default_rng(SEED)
    elements, items = catalogue()
    units = build_units(rng)
    _write(root / "network_orgunit" / "all.parquet", units.table)
    _write(root / "network_orgunithistory" / "all.parquet", units.history)
    _write(root / "standards_dataelement" / "all.parquet", pa.table({
        "id": pa.array(range(1, len(elements) + 1), pa.int64()),
        "code": [e["code"] for e in elements], "period_type": [e["period_type"] for e in elements],
        "aggregation": [e["aggregation"] for e in elements],
        "level": [e["level"] for e in elements]}))  # fmt: skip
    category_ids = {c: n for n, c in enumerate(sorted({c for _i, c in items}, key=[c for _i, c
                    in items].index), start=1)}  # fmt: skip
    _write(root / "standards_techniqueitem" / "all.parquet", pa.table({
        "id": pa.array(range(1, len(items) + 1), pa.int64()), "code": [i for i, _c in items],
        "category_id": pa.array([category_ids[c] for _i, c in items], pa.int64())}))  # fmt: skip
    total, techniques = 0, []
    for year in YEARS:
        table = values_for_year(rng, units, elements, year)
        _write(root / "collection_datavalue" / f"{year}.parquet", table)
        total += table.num_rows
        techniques += techniques_for_year(rng, units, items, year)
    columns = list(zip(*techniques, strict=True))
    _write(root / "collection_deliveredtechnique" / "all.parquet", pa.table({
        "id": pa.array(range(1, len(techniques) + 1), pa.int64()),
        "orgunit_id": pa.array(columns[0], pa.int64()), "period": list(columns[1]),
        "item_id": pa.array(columns[2], pa.int64()),
        "source": ["reported"] * len(techniques)}))  # fmt: skip
    _write(root / "evaluation_derivedvalue" / "all.parquet", _derived(rng, units, elements))
    _complete(root)
    manifest = {"seed": SEED, "values": total, "techniques": len(techniques),
                "orgunits": units.table.num_rows,
                "institutions": int(sum(len(v) for v in units.institutions.values())),
                "elements": len(elements)}  # fmt: skip
    manifest_path.write_text(json.dumps(manifest, indent=1))
    (root / "evaluation_manifest.json").write_text(
        json.dumps({"exported_at": "generated", "files": {}}, indent=1)
    )
    return manifest


def _complete(root: Path) -> None:
    """What the export's layout gained since a province was cached: the org units' ownership
    and roles (every unit public, no role: empty, as the peers' load stores them), the dated
    changes of institutions and the forms' submissions (none). Added in place, without
    generating again."""
    units = root / "network_orgunit" / "all.parquet"
    table = pq.read_table(units)
    if "ownership" not in table.column_names:
        table = table.append_column("ownership", pa.array([""] * table.num_rows, pa.string()))
        table = table.append_column("roles", pa.array([""] * table.num_rows, pa.string()))
        _write(units, table)
    empty = {
        "network_orgunitchange": [("id", pa.int64()), ("orgunit_id", pa.int64()),
            ("field", pa.string()), ("old", pa.string()), ("valid_from", pa.date32())],
        "collection_submission": [("id", pa.int64()), ("orgunit_id", pa.int64()),
            ("period", pa.string()), ("status", pa.string()), ("submitted_at", pa.timestamp("us"))],
    }  # fmt: skip
    for table, columns in empty.items():
        path = root / table / "all.parquet"
        if not path.exists():
            _write(path, pa.schema(columns).empty_table())


def _derived(rng, units: Units, elements: list[dict]) -> pa.Table:
    """`elderly_tcm_managed` from constitution records for a tenth of the health centres."""
    element_id = next(
        n for n, e in enumerate(elements, start=1) if e["code"] == "elderly_tcm_managed"
    )
    centres = units.institutions["township_health_center"]
    chosen = np.sort(rng.choice(centres, len(centres) // 10, replace=False))
    rows = [(int(pk), str(year)) for year in YEARS for pk in chosen]
    return pa.table({
        "id": pa.array(range(1, len(rows) + 1), pa.int64()),
        "element_id": pa.array([element_id] * len(rows), pa.int64()),
        "orgunit_id": pa.array([r[0] for r in rows], pa.int64()),
        "period": [r[1] for r in rows],
        "value": pa.array(rng.poisson(900, len(rows)).astype(float), pa.float64()),
        "source": ["care.constitution"] * len(rows),
    })  # fmt: skip


def _write(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, row_group_size=262_144)


def ensure_engine_tables(root: Path) -> None:
    """Empty tables, of the export's schema, for what the engine reads and the generator does
    not write (dated roles and ownership: network_orgunitchange; collection_submission)."""
    from xinglin.warehouse.export import SCHEMAS, _write_empty

    for table, schema in SCHEMAS.items():
        if not (root / table).exists():
            _write_empty(root / table / "_schema.parquet", schema)
    # units generated before dated ownership and roles: every unit public, no roles
    path = root / "network_orgunit" / "all.parquet"
    units = pq.read_table(path)
    missing = [f for f in SCHEMAS["network_orgunit"] if f.name not in units.column_names]
    if missing:
        for column in missing:
            units = units.append_column(column, pa.nulls(units.num_rows, column.type))
        pq.write_table(units.select(SCHEMAS["network_orgunit"].names), path)
