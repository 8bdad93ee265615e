"""HIS visit imports, mappings, TCM-visit rules, derived figures, hashing and the warehouse."""

from __future__ import annotations

import csv
import io
import random
from collections import Counter

import pytest
from openpyxl import Workbook

from xinglin.care import personal_id
from xinglin.care.models import DiagnosisCode, Visit, VisitColumnMapping, VisitTechnique
from xinglin.care.visit_codes import load_default_codes
from xinglin.care.visit_figures import derive_visit_figures, visit_figures
from xinglin.care.visit_mappings import save_mapping
from xinglin.care.visit_rules import is_tcm_visit, tcm_rules
from xinglin.care.visits import import_visits
from xinglin.collection.models import DeliveredTechnique
from xinglin.evaluation.models import DerivedValue
from xinglin.network.models import OrgUnit
from xinglin.standards.catalogue import sync_catalogue

HEADER = ["visit_date", "institution", "department", "patient_id", "diagnoses", "tcm_diagnoses",
          "techniques", "herbal"]  # fmt: skip
HMC = "640323100001"
DSK = "640323101001"


@pytest.fixture
def catalogue(db):
    sync_catalogue()


def csv_bytes(rows, header=HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def sample_rows():
    return [
        ["2025-01-03", HMC, "内科", "P0001", "J06.9", "", "", "0"],  # not TCM
        ["2025-01-04", HMC, "中医科", "P0002", "", "", "", "0"],  # TCM department, no content
        ["2025/01/05", HMC, "全科", "P0003", "I10", "A07.01.01", "", ""],  # TCM diagnosis only
        ["20250206", HMC, "全科", "P0001", "", "", "艾灸;拔罐", "否"],  # techniques
        ["2025-02-07 09:30:00", HMC, "全科", "P0004", "", "", "", "2"],  # herbal count
        ["2025-02-08", DSK, "50.01", "P0005", "", "", "filiform_needling", "0"],  # dept code
    ]


def test_it_imports_the_default_layout_and_counts_tcm_visits(county, catalogue):
    result = import_visits("his.csv", csv_bytes(sample_rows()))
    assert result.errors == []
    # by content: the technique, the herbal prescription and the needling visit; the TCM
    # department without content and the TCM diagnosis alone do not count by default
    assert (result.rows, result.tcm_visits) == (6, 3)
    assert result.months == ["202501", "202502"]
    assert visit_figures(["202501", "202502"]) == [
        (HMC, "202501", 3, 0), (HMC, "202502", 2, 2), (DSK, "202502", 1, 1)
    ]  # fmt: skip
    techniques = VisitTechnique.objects.values_list("item__code", flat=True)
    assert sorted(techniques) == ["filiform_needling", "fire_cupping", "moxibustion_suspended"]


def test_patient_ids_are_stored_only_as_keyed_hash_and_mask(county, catalogue):
    import_visits("his.csv", csv_bytes(sample_rows()))
    visit = Visit.objects.get(visited_on="2025-01-04")
    assert visit.patient_hash == personal_id.hash_id("P0002")
    assert visit.patient_masked == "P***2"
    stored = " ".join(str(v) for v in Visit.objects.values_list())
    assert "P0002" not in stored


def test_a_bad_row_names_row_and_column_and_writes_nothing(county, catalogue):
    rows = sample_rows()
    rows[1][0] = "2025-13-40"
    rows[3][6] = "神奇疗法"
    rows[4][1] = "999999999999"
    rows[5][5] = "not-a-code"
    result = import_visits("his.csv", csv_bytes(rows))
    found = [(e.row, e.column) for e in result.errors]
    assert found == [(3, "visit_date"), (5, "techniques"), (6, "institution"), (7, "tcm_diagnoses")]
    assert "神奇疗法" in result.errors[1].message
    assert Visit.objects.count() == 0 and VisitTechnique.objects.count() == 0


def test_errors_name_the_line_of_the_file_even_after_blank_lines(county, catalogue):
    rows = sample_rows()
    rows[2][0] = "not-a-date"
    lines = csv_bytes(rows).decode().splitlines()
    lines.insert(2, "")  # a blank line after the first visit
    lines.insert(3, ",,,,,,,")  # and a row of empty cells
    result = import_visits("his.csv", "\n".join(lines).encode())
    assert [(e.row, e.column) for e in result.errors] == [(6, "visit_date")]
    assert lines[5].startswith("not-a-date")  # line 6 of the file, as an editor counts
    assert Visit.objects.count() == 0


def test_many_rows_with_few_distinct_cells_keep_each_rows_values(county, catalogue):
    """Each distinct cell is checked once: the rows must still get their own values."""
    rows = _random_rows(3000, seed=7)
    import_visits("his.csv", csv_bytes(rows))
    stored = Counter(Visit.objects.values_list("institution__code", "month", "department"))
    expected = Counter((r[1], r[0].replace("-", "")[:6], r[2]) for r in rows)
    assert stored == expected
    techniques = Counter(VisitTechnique.objects.values_list("institution__code", "item__code"))
    names = {"艾灸": "moxibustion_suspended", "拔罐": "fire_cupping", "推拿": "tuina_massage"}
    expected_items = Counter(
        (r[1], names[t]) for r in rows for t in dict.fromkeys(r[6].split(";")) if t
    )
    assert techniques == expected_items


def test_progress_runs_from_checking_to_writing_and_ends_complete(county, catalogue):
    calls = []
    import_visits(
        "his.csv", csv_bytes(_random_rows(500)), progress=lambda d, t: calls.append((d, t))
    )
    done = [d for d, _t in calls]
    assert done == sorted(done) and len(calls) > 2
    assert calls[-1] == (1000, 1000)  # checking 500 rows, then writing them
    assert {t for _d, t in calls} == {1000}


def test_a_missing_required_column_is_refused(county, catalogue):
    from xinglin.care.actions import CareError

    with pytest.raises(CareError, match="row 1: missing columns patient_id"):
        import_visits("his.csv", csv_bytes([["2025-01-01", HMC]], ["visit_date", "institution"]))


def test_reimporting_replaces_the_same_institution_months(county, catalogue):
    import_visits("his.csv", csv_bytes(sample_rows()))
    again = import_visits("his.csv", csv_bytes(sample_rows()[:2]))
    assert again.replaced == 3
    assert Visit.objects.count() == 5  # January replaced by 2 rows; February kept


def test_xlsx_with_chinese_headers(county, catalogue):
    book = Workbook()
    sheet = book.active
    sheet.append(["就诊日期", "机构编码", "就诊科室", "患者标识", "中医技术"])
    sheet.append(["2025-03-01", HMC, "推拿科", "X1", "推拿"])
    sheet.append(["2025-03-02", HMC, "推拿科", "X2", ""])  # the department alone: not TCM
    sheet.append(["2025-03-02", HMC, "内科", "X3", ""])
    out = io.BytesIO()
    book.save(out)
    result = import_visits("his.xlsx", out.getvalue())
    assert (result.rows, result.tcm_visits) == (3, 1)


def test_a_saved_mapping_reads_another_layout(county, catalogue):
    unit = OrgUnit.objects.get(code=HMC)
    save_mapping(
        unit,
        {"visit_date": "就诊时间", "patient_id": "病人ID", "department": "科室名称",
         "techniques": "治疗项目", "institution": ""},
        {"雷火神针": "thunder_fire_moxibustion"},
    )  # fmt: skip
    content = csv_bytes(
        [["2025-04-01 08:00", "P9", "康复科", "雷火神针"], ["2025-04-02", "P8", "外科", ""]],
        ["就诊时间", "病人ID", "科室名称", "治疗项目"],
    )
    mapping = VisitColumnMapping.objects.get(institution=unit)
    result = import_visits("his.csv", content, mapping=mapping)
    assert result.errors == []
    assert (result.rows, result.tcm_visits, result.institutions) == (2, 1, [HMC])
    assert VisitTechnique.objects.get().item.code == "thunder_fire_moxibustion"


def test_a_mapping_to_an_unknown_technique_code_is_refused(county, catalogue):
    from xinglin.care.actions import CareError

    unit = OrgUnit.objects.get(code=HMC)
    with pytest.raises(CareError, match="not catalogue technique codes: bogus"):
        save_mapping(unit, {"visit_date": "d", "patient_id": "p"}, {"x": "bogus"})
    assert not VisitColumnMapping.objects.exists()


@pytest.mark.parametrize(
    ("department", "diagnosis", "technique", "herbal", "expected"),
    [
        ("内科", False, False, False, False),
        ("中医科", False, False, False, False),  # a TCM department without TCM content
        ("中医妇科", False, False, False, False),
        ("52", False, False, False, False),  # 中西医结合科 code
        ("外科", True, False, False, False),  # a TCM diagnosis alone
        ("外科", False, True, False, True),  # a non-drug therapy
        ("外科", False, False, True, True),  # 中药饮片 / 中成药 prescription
    ],
)
def test_the_default_tcm_visit_rules(department, diagnosis, technique, herbal, expected):
    assert bool(is_tcm_visit(department, diagnosis, technique, herbal)) is expected


def test_rules_are_configurable_per_bureau(county, catalogue, tmp_path, monkeypatch):
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  department: {enabled: true, names: [中医科]}\ncomparison: {tolerance: 0.1}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("XINGLIN_TCM_VISIT_RULES", str(rules))
    assert tcm_rules()["comparison"]["tolerance"] == 0.1
    import_visits("his.csv", csv_bytes(sample_rows()))
    # the content visits, and now the 中医科 visit; still not the TCM diagnosis alone
    assert [f[3] for f in visit_figures(["202501", "202502"])] == [1, 2, 1]


def test_unknown_codes_are_accepted_and_counted_by_default(county, catalogue):
    load_default_codes()
    assert DiagnosisCode.objects.filter(system="icd10", code="I10").exists()
    rows = sample_rows()
    rows[2][5] = "A99.99"
    result = import_visits("his.csv", csv_bytes(rows))
    assert result.errors == [] and result.unknown_codes == 1


def _random_rows(n: int, seed: int = 7):
    rng = random.Random(seed)
    departments = ["内科", "中医科", "外科", "针灸科", "儿科", "50.02"]
    rows = []
    for _ in range(n):
        rows.append([
            f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            rng.choice([HMC, DSK, "640323000001"]),
            rng.choice(departments),
            f"P{rng.randint(1, 300)}",
            "",
            rng.choice(["", "", "B03.01.03"]),
            rng.choice(["", "", "", "艾灸", "推拿;拔罐"]),
            rng.choice(["0", "0", "1"]),
        ])  # fmt: skip
    return rows


def test_derived_figures_equal_an_independent_count(county, catalogue):
    rows = _random_rows(2000)
    import_visits("his.csv", csv_bytes(rows))
    total, tcm = Counter(), Counter()
    for date, unit, dept, _p, _d, tcm_dx, tech, herbal in rows:
        key = (unit, date[:4] + date[5:7])
        total[key] += 1
        tcm[key] += bool(is_tcm_visit(dept, bool(tcm_dx), bool(tech), herbal == "1"))
    derived = derive_visit_figures(2025)
    assert derived.figures == 2 * len(total)
    values = {
        (d.element.code, d.orgunit.code, d.period): d.value
        for d in DerivedValue.objects.filter(source="care.visits").select_related(
            "element", "orgunit"
        )
    }
    for (unit, month), n in total.items():
        assert values[("total_visits", unit, month)] == n
        assert values[("tcm_visits", unit, month)] == tcm[(unit, month)]
    delivered = DeliveredTechnique.objects.filter(source="records")
    assert delivered.count() == derived.techniques
    assert set(delivered.values_list("item__code", flat=True)) == {
        "moxibustion_suspended", "tuina_massage", "fire_cupping"
    }  # fmt: skip


def test_the_warehouse_gives_the_operational_databases_figures(county, catalogue, tmp_path):
    from xinglin.care import visit_warehouse as stored
    from xinglin.care.visit_warehouse import export_visits
    from xinglin.warehouse import Warehouse

    import_visits("a.csv", csv_bytes(_random_rows(1500, seed=1)))
    warehouse = Warehouse(tmp_path)
    first = export_visits(warehouse)
    assert (first.written, first.rows) == (1, 1500)
    # a second file replaces some institution-months: the first batch shrinks and is rewritten
    import_visits("b.csv", csv_bytes([r for r in _random_rows(300, seed=2) if r[1] == HMC]))
    second = export_visits(warehouse)
    assert second.written == 2 and second.unchanged == 0
    assert export_visits(warehouse).unchanged == 2
    months = [f"2025{m:02d}" for m in range(1, 13)]
    from xinglin.care.visit_figures import delivered_techniques

    assert stored.visit_figures(warehouse, months) == visit_figures(months)
    assert stored.delivered_techniques(warehouse, months) == delivered_techniques(months)
    assert warehouse.recent[-1].rows > 0 and warehouse.recent[-1].seconds >= 0
    derive_visit_figures(2025, warehouse=warehouse)
    from_warehouse = sorted(DerivedValue.objects.values_list("orgunit_id", "period", "value"))
    derive_visit_figures(2025)
    assert (
        sorted(DerivedValue.objects.values_list("orgunit_id", "period", "value")) == from_warehouse
    )


def test_the_warehouse_applies_each_rule_as_the_database_does(county, catalogue, tmp_path):
    """The warehouse decides the department part per name: every rule variant must still
    count what the database counts, without a new export."""
    import copy

    from xinglin.care import visit_warehouse as stored
    from xinglin.care.visit_warehouse import export_visits
    from xinglin.warehouse import Warehouse

    rows = _random_rows(800, seed=3)
    rows[0][2] = ""  # a visit without a department
    import_visits("a.csv", csv_bytes(rows))
    warehouse = Warehouse(tmp_path)
    export_visits(warehouse)
    months = [f"2025{m:02d}" for m in range(1, 13)]
    base = tcm_rules()
    variants = []
    for enabled in ([], ["department"], ["tcm_diagnosis"], ["department", "tcm_diagnosis"]):
        rules = copy.deepcopy(base)
        for name in ("department", "tcm_diagnosis"):
            rules["rules"][name]["enabled"] = name in enabled
        variants.append(rules)
    contains = copy.deepcopy(variants[1])
    contains["rules"]["department"].update(
        names=[], prefixes=[], contains=["针"], code_prefixes=["50"]
    )
    variants.append(contains)
    counts = []
    for rules in variants:
        mine = stored.visit_figures(warehouse, months, rules)
        assert mine == visit_figures(months, rules=rules)
        counts.append(sum(f[3] for f in mine))
    assert len(set(counts)) == len(variants)  # the variants really differ
    # content only: an independent count of the rows with a technique or a prescription
    assert counts[0] == sum(1 for r in rows if r[6] or r[7] == "1")


def test_a_warehouse_of_the_older_layout_is_rewritten(county, catalogue, tmp_path):
    import json

    from xinglin.care import visit_warehouse as stored
    from xinglin.care.visit_warehouse import export_visits
    from xinglin.warehouse import Warehouse

    import_visits("a.csv", csv_bytes(_random_rows(200, seed=4)))
    (tmp_path / "visits").mkdir()
    (tmp_path / "visits" / "batch-99.parquet").write_bytes(b"old")
    (tmp_path / "visits_manifest.json").write_text(json.dumps({"1": 200}))  # layout 1
    result = export_visits(Warehouse(tmp_path))
    assert result.written == 1 and not (tmp_path / "visits" / "batch-99.parquet").exists()
    months = [f"2025{m:02d}" for m in range(1, 13)]
    assert stored.visit_figures(Warehouse(tmp_path), months) == visit_figures(months)


def test_warehouse_queries_are_capped_and_select_only(tmp_path):
    from xinglin.warehouse import Warehouse, WarehouseError

    warehouse = Warehouse(tmp_path)
    result = warehouse.query("SELECT * FROM range(10) t(i) WHERE i >= ?", [3], max_rows=4)
    assert result.rows == [(3,), (4,), (5,), (6,)] and result.truncated
    with pytest.raises(WarehouseError, match="SELECT queries only"):
        warehouse.query("DROP TABLE x")
    with pytest.raises(WarehouseError, match="timed out"):
        warehouse.query("SELECT count(*) FROM range(10000000000) a", timeout=0.2)
