"""Issue 18.3: values stored exactly (whole types as whole numbers, others at their decimals,
rounded at the door), and every export a valid import of itself that changes nothing."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from xinglin.collection import rules
from xinglin.collection.actions import write_rows
from xinglin.collection.forms import expected_orgunits, get_form
from xinglin.collection.importers.workbook import build_template
from xinglin.collection.models import AuditEntry, DataValue
from xinglin.collection.tests.conftest import CLINIC, HMC
from xinglin.network.models import OrgUnit
from xinglin.standards.models import DataElement

pytestmark = pytest.mark.usefixtures("county", "catalogue")


def _stored() -> list[tuple]:
    return sorted(
        DataValue.objects.values_list("orgunit__code", "period", "element__code", "value")
    )


def _facts() -> None:
    """Values of every type, with the floating-point noise arithmetic leaves behind."""
    units = {u.code: u for u in OrgUnit.objects.filter(code__in=[HMC, CLINIC])}
    element = {e.code: e for e in DataElement.objects.all()}
    write_rows([
        (element["total_visits"], units[HMC], "202401", 58819.99999999999),
        (element["tcm_visits"], units[HMC], "202401", 1234.0),
        (element["total_visits"], units[CLINIC], "202401", 80.0),
        (element["performance_score_tcm_share"], units[HMC], "2024", 17.6 / 100),
        (element["has_tcm_hall"], units[HMC], "2024", 1.0),
    ])  # fmt: skip


def test_noise_is_rounded_at_the_door():
    _facts()
    values = {(o, p, e): v for o, p, e, v in _stored()}
    assert values[(HMC, "202401", "total_visits")] == 58820  # an integer element
    assert repr(values[(HMC, "2024", "performance_score_tcm_share")]) == "0.176"


def test_a_fraction_of_a_whole_type_is_still_refused():
    with pytest.raises(rules.ValueProblem):
        rules.to_stored("integer", "12.5")
    assert rules.to_stored("integer", 58819.99999999999) == 58820


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_an_export_imports_back_changing_nothing(fmt, tmp_path, run_import):
    from django.core.management import call_command

    _facts()
    before, audit = _stored(), AuditEntry.objects.count()
    path = tmp_path / f"values.{fmt}"
    call_command("export", "values", "--format", fmt, "--output", str(path))
    code, out, err = run_import(path)
    assert code == 0, err
    assert "0 values were added, 0 changed, 5 unchanged" in out, out
    assert _stored() == before and AuditEntry.objects.count() == audit


def test_a_re_uploaded_unchanged_template_changes_nothing(tmp_path, run_import):
    _facts()
    unit, form = OrgUnit.objects.get(code="640323100"), get_form("township_health_center.yearly")
    values = {(v.orgunit_id, v.element_id): v.value for v in DataValue.objects.all()}
    rows = expected_orgunits(form, "2024", within=unit)
    path = tmp_path / "template.xlsx"
    build_template(form, unit, "2024", rows, values).save(path)
    sheet = load_workbook(path).active
    share = [c for c in sheet[5] if c.value == 0.176]  # shown as 17.6% (a percent format)
    assert len(share) == 1 and "%" in share[0].number_format
    before, audit = _stored(), AuditEntry.objects.count()
    code, out, err = run_import(path)
    assert code == 0, err
    assert _stored() == before and AuditEntry.objects.count() == audit


@pytest.mark.parametrize("strategy", ["create_and_update", "delete"])
def test_a_dry_run_import_writes_nothing(strategy, tmp_path, run_import, csv_file):
    """Issue 18.8: `--dry-run` runs the whole check and writes nothing (exports compared)."""
    from django.core.management import call_command

    _facts()
    before = tmp_path / "before.csv"
    call_command("export", "values", "--output", str(before))
    path = csv_file([f"{HMC},202401,total_visits,61000", f"{HMC},202402,total_visits,500"])
    code, out, err = run_import(path, "--dry-run", "--strategy", strategy)
    assert code == 0, err
    assert "dry run: nothing written" in out
    if strategy == "delete":
        assert "1 unchanged, 1 deleted" in out  # 202402 holds nothing to delete
    else:
        assert "1 values would be added, 1 changed" in out
    after = tmp_path / "after.csv"
    call_command("export", "values", "--output", str(after))
    assert after.read_bytes() == before.read_bytes()
