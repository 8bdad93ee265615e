"""`xinglin export values` and the demo step."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from xinglin.collection import demo
from xinglin.collection.actions import write_rows
from xinglin.collection.models import Submission, SubmissionEvent
from xinglin.collection.tests.conftest import CLINIC, HMC
from xinglin.demo import DemoContext
from xinglin.network.models import OrgUnit
from xinglin.standards.models import DataElement

pytestmark = pytest.mark.usefixtures("county", "catalogue")


def _store():
    hmc, clinic = OrgUnit.objects.get(code=HMC), OrgUnit.objects.get(code=CLINIC)
    share = DataElement.objects.get(code="performance_score_tcm_share")
    visits = DataElement.objects.get(code="total_visits")
    write_rows(
        [(share, hmc, "2024", 0.15), (visits, hmc, "202401", 900), (visits, clinic, "202401", 80)]
    )


def _export(*options) -> str:
    out = io.StringIO()
    call_command("export", "values", *options, stdout=out)
    return out.getvalue()


def test_export_writes_the_long_layout():
    _store()
    assert _export() == (
        "orgunit,period,element,value,comment,category_option_combo\n"
        f"{HMC},2024,performance_score_tcm_share,0.15,,\n"
        f"{HMC},202401,total_visits,900,,\n"
        f"{CLINIC},202401,total_visits,80,,\n"
    )


def test_export_filters_by_orgunit_and_period():
    _store()
    assert _export("--orgunit", CLINIC) == (
        "orgunit,period,element,value,comment,category_option_combo\n"
        f"{CLINIC},202401,total_visits,80,,\n"
    )
    assert _export("--period", "2024", "--format", "json") == json.dumps(
        {
            "dataValues": [
                {
                    "orgUnit": HMC,
                    "period": "2024",
                    "dataElement": "performance_score_tcm_share",
                    "value": "0.15",  # DHIS2's dialect: values are strings (issue 23)
                }
            ]
        },
        ensure_ascii=False,
        indent=1,
    )


def test_an_exported_file_imports_back_unchanged(tmp_path, capsys):
    _store()
    path = tmp_path / "values.xlsx"
    _export("--format", "xlsx", "--output", str(path))
    assert list(load_workbook(path).active.values)[1] == (
        HMC,
        "2024",
        "performance_score_tcm_share",
        0.15,
        None,
        None,
    )
    csv_path = tmp_path / "values.csv"
    _export("--output", str(csv_path))
    call_command("import", str(csv_path))
    assert "0 values were added, 0 changed, 3 unchanged" in capsys.readouterr().out


def test_export_refuses_unknown_codes():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="unknown org unit 999"):
        _export("--orgunit", "999")
    with pytest.raises(CommandError, match="period '24' is not a year"):
        _export("--period", "24")


def test_the_demo_step_submits_approves_and_returns_one_form_and_reruns(alice, bob):
    elements = {e.code: e for e in DataElement.objects.filter(code__in=["physicians"])}
    units = list(OrgUnit.objects.filter(kind="institution"))
    write_rows(
        [(elements["physicians"], unit, str(year), 5) for unit in units for year in (2024, 2025)]
    )
    context = DemoContext(years=(2024, 2025))
    demo.build(context)
    returned = Submission.objects.get(status="returned")
    assert (returned.orgunit.code, returned.period) == (HMC, "2025")
    assert returned.events.last().action == "return"
    count, events = Submission.objects.count(), SubmissionEvent.objects.count()
    assert count >= len(units) + 1
    assert Submission.objects.filter(orgunit__code=HMC, period="2024").get().decided_by == bob
    demo.build(context)
    assert (Submission.objects.count(), SubmissionEvent.objects.count()) == (count, events)


def test_the_demo_step_runs_without_values():
    demo.build(DemoContext())
    assert Submission.objects.count() == 0
