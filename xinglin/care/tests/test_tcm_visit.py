"""The TCM visit by its definition, written once (issue 17.5): the cases the issue lists,
counted by every backend's form of the one definition (Python, the Django ORM on SQLite or
PostgreSQL, SQLGlot's SQL on the same database, DuckDB over the Parquet warehouse)."""

from __future__ import annotations

import copy

import pytest
from django.db import connection

from xinglin.care.models import Visit
from xinglin.care.tcm_visit import RulesError, TcmVisitDefinition, normalise
from xinglin.care.tests.test_visits import HMC, csv_bytes
from xinglin.care.visit_figures import visit_figures
from xinglin.care.visit_rules import is_tcm_visit, tcm_rules
from xinglin.care.visits import import_visits
from xinglin.standards.catalogue import sync_catalogue

# One visit a month: (department, TCM diagnosis, technique, herbal prescription), and whether
# it is a TCM visit by default / with the department rule on / with the diagnosis rule on,
# decided by hand from the definition (reference/public-health-tcm.md §C).
CASES = [
    ("中医科", "", "", "0", (False, True, False)),  # TCM department, no TCM content
    ("全科", "A07.01.01", "", "0", (False, False, True)),  # only a TCM diagnosis
    ("中西医结合外科", "", "", "0", (False, True, False)),  # begins with 中西医结合
    ("TCM CLINIC", "", "", "0", (False, True, False)),  # case: the rule says "tcm clinic"
    ("ＴＣＭ　Ｃｌｉｎｉｃ", "", "", "0", (False, True, False)),  # full-width, ideographic space
    ("５０.01", "", "", "0", (False, True, False)),  # 诊疗科目 code 50, full-width digits
    ("外科", "", "艾灸", "0", (True, True, True)),  # a non-drug therapy
    ("内科", "", "", "1", (True, True, True)),  # 中药饮片 / 中成药 prescription
    ("内科", "", "", "0", (False, False, False)),
    ("西医内科", "", "", "0", (False, False, False)),  # 中医 is not in it
    ("tcm clinic annex", "", "", "0", (False, False, False)),  # not the exact name
]
MONTHS = [f"2025{m:02d}" for m in range(1, len(CASES) + 1)]


def _variants() -> list[dict]:
    base = tcm_rules()
    department = copy.deepcopy(base)
    department["rules"]["department"]["enabled"] = True
    department["rules"]["department"]["names"] = ["tcm clinic"]
    diagnosis = copy.deepcopy(base)
    diagnosis["rules"]["tcm_diagnosis"] = {"enabled": True}
    return [base, department, diagnosis]


@pytest.fixture
def visits(county):
    sync_catalogue()
    rows = [
        [f"{m[:4]}-{m[4:]}-10", HMC, dept, f"P{i}", "", dx, tech, herbal]
        for i, (m, (dept, dx, tech, herbal, _expected)) in enumerate(
            zip(MONTHS, CASES, strict=True), 1
        )
    ]
    result = import_visits("his.csv", csv_bytes(rows))
    assert result.errors == [] and result.rows == len(CASES)


def _expected(variant: int) -> list[int]:
    return [int(case[4][variant]) for case in CASES]


def _orm(rules) -> list[int]:
    by_month = {month: tcm for _code, month, _total, tcm in visit_figures(MONTHS, rules=rules)}
    return [by_month[m] for m in MONTHS]


def _sqlglot_on_the_database(rules) -> list[int]:
    definition = TcmVisitDefinition.from_rules(rules)
    names = Visit.objects.values_list("department", flat=True).distinct()
    dialect = {"sqlite": "sqlite", "postgresql": "postgres"}[connection.vendor]
    condition = definition.sql(dialect, "department", definition.departments_counted(names))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT month, SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"
            f" FROM {Visit._meta.db_table} GROUP BY month"
        )
        by_month = dict(cursor.fetchall())
    return [int(by_month[m]) for m in MONTHS]


def _warehouse(rules, root) -> list[int]:
    from xinglin.care import visit_warehouse as stored
    from xinglin.warehouse import Warehouse

    warehouse = Warehouse(root)
    stored.export_visits(warehouse)
    by_month = {m: tcm for _c, m, _t, tcm in stored.visit_figures(warehouse, MONTHS, rules)}
    return [by_month[m] for m in MONTHS]


def _python(rules) -> list[int]:
    return [
        int(bool(is_tcm_visit(dept, bool(dx), bool(tech), herbal == "1", rules)))
        for dept, dx, tech, herbal, _e in CASES
    ]


def _numpy(rules) -> list[int]:
    definition = TcmVisitDefinition.from_rules(rules)
    departments = [case[0] for case in CASES]
    columns = {
        "has_tcm_diagnosis": [bool(case[1]) for case in CASES],
        "has_technique": [bool(case[2]) for case in CASES],
        "has_herbal": [case[3] == "1" for case in CASES],
    }
    counted = definition.departments_counted(departments)
    return [int(v) for v in definition.array(columns, departments, counted)]


@pytest.mark.parametrize("variant", [0, 1, 2], ids=["default", "department", "diagnosis"])
def test_every_backend_counts_the_cases_as_the_definition_says(visits, tmp_path, variant):
    rules = _variants()[variant]
    expected = _expected(variant)
    assert _python(rules) == expected
    assert _numpy(rules) == expected
    assert _orm(rules) == expected
    assert _sqlglot_on_the_database(rules) == expected
    assert _warehouse(rules, tmp_path) == expected


def test_the_default_rules_count_by_content_only():
    rules = tcm_rules()["rules"]
    assert (rules["department"]["enabled"], rules["tcm_diagnosis"]["enabled"]) == (False, False)
    assert TcmVisitDefinition.from_rules(tcm_rules()).flags == ("has_herbal", "has_technique")


def test_a_rules_file_cannot_switch_the_content_off(tmp_path, monkeypatch):
    from xinglin.care import visit_rules as visits

    path = tmp_path / "bureau.yaml"
    path.write_text("rules:\n  technique: {enabled: false}\n", encoding="utf-8")
    monkeypatch.setenv("XINGLIN_TCM_VISIT_RULES", str(path))
    with pytest.raises(RulesError, match=r"bureau.yaml: rules.technique"):
        visits.tcm_rules()


def test_department_and_diagnosis_count_only_when_said_explicitly(tmp_path, monkeypatch):
    """A bureau file that leaves the department or diagnosis part out does not count them."""
    from xinglin.care import visit_rules as visits

    path = tmp_path / "bureau.yaml"
    path.write_text("rules:\n  department: {names: [中医科]}\n", encoding="utf-8")
    monkeypatch.setenv("XINGLIN_TCM_VISIT_RULES", str(path))
    assert not visits.is_tcm_visit("中医科", True, False, False)
    assert visits.is_tcm_visit("中医科", False, True, False)


def test_names_are_compared_after_nfkc_case_folding_and_without_spaces():
    assert normalise(" ＴＣＭ　Ｃｌｉｎｉｃ ") == normalise("tcm clinic") == "tcmclinic"
    assert normalise("中西医结合 外科") == "中西医结合外科"


def test_the_sql_forms_are_derived_for_each_dialect():
    definition = TcmVisitDefinition.from_rules(_variants()[1])
    counted = definition.departments_counted(["中西医结合外科", "内科", "中医科 O'Brien"])
    assert counted == ["中医科 O'Brien", "中西医结合外科"]
    for dialect in ("sqlite", "postgres", "duckdb"):
        sql = definition.sql(dialect, "department", counted)
        assert sql.startswith("has_herbal OR has_technique OR department IN (")
        assert "'中医科 O''Brien'" in sql  # quoted by SQLGlot, not by hand


def test_the_visits_page_states_the_rule_in_force(county, alice, client_for, tmp_path, monkeypatch):
    page = client_for(alice).get("/care/visits/").text
    assert "开具中药饮片或中成药处方" in page and "仅在中医类科室就诊" not in page
    path = tmp_path / "bureau.yaml"
    path.write_text("rules:\n  department: {enabled: true, names: [中医科]}\n", encoding="utf-8")
    monkeypatch.setenv("XINGLIN_TCM_VISIT_RULES", str(path))
    assert "仅在中医类科室就诊（本县规则）" in client_for(alice).get("/care/visits/").text
