from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from xinglin.evaluation.tests.conftest import visits

FIELDS = ["pack", "indicator", "item", "name", "orgunit", "period", "value", "numerator",
          "denominator", "target", "status", "gap", "failing"]  # fmt: skip
ARGS = ["--pack", "demo-county-2022", "--orgunit", "640323", "--period", "2024"]


def _run(*args) -> str:
    out = io.StringIO()
    call_command("evaluate", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_json_lists_every_result_with_the_public_fields(write, capsys):
    write(*visits("640323100001", 2024, 100, 30), *visits("640323101001", 2024, 100, 40))
    call_command("evaluate", *ARGS, "--format", "json")
    rows = json.loads(capsys.readouterr().out)
    county = next(r for r in rows if r["indicator"] == "grassroots.tcm_visit_share"
                  and r["orgunit"] == "640323")  # fmt: skip
    assert list(county)[: len(FIELDS)] == FIELDS
    assert {k: county[k] for k in FIELDS} == {
        "pack": "demo-county-2022", "indicator": "grassroots.tcm_visit_share", "item": 27,
        "name": "中医诊疗人次占比", "orgunit": "640323", "period": "2024", "value": 0.35,
        "numerator": 840.0, "denominator": 2400.0, "target": ">= 35%", "status": "met",
        "gap": 0.0, "failing": ["640323100001"],
    } | {"name": county["name"]}  # fmt: skip
    assert county["sources"] == ["reported"]
    assert {r["orgunit"] for r in rows} >= {"640323", "640323100", "640323100001"}


def test_csv_and_xlsx_carry_the_same_figures(write, tmp_path, capsys):
    write(*visits("640323100001", 2024, 100, 30))
    call_command("evaluate", *ARGS, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    share = next(r for r in rows if r["indicator"] == "grassroots.tcm_visit_share"
                 and r["orgunit"] == "640323100001")  # fmt: skip
    assert (share["value"], share["status"], share["failing"]) == ("0.3", "not_met", "640323100001")
    target = tmp_path / "out.xlsx"
    call_command(
        "evaluate", *ARGS, "--format", "xlsx", "--output", str(target), stderr=io.StringIO()
    )
    sheet = load_workbook(target).active
    header = [c.value for c in sheet[1]]
    assert header[: len(FIELDS)] == FIELDS
    assert sheet.max_row == len(rows) + 1


def test_table_shows_the_verdict(write, tmp_path):
    target = tmp_path / "table.txt"
    call_command("evaluate", *ARGS, "--output", str(target))
    text = target.read_text(encoding="utf-8")
    assert "grassroots.tcm_visit_share" in text and "verdict: not_met" in text


@pytest.mark.parametrize(
    "args, message",
    [(["--pack", "nope", "--orgunit", "640323", "--period", "2024"], "unknown pack 'nope'"),
     (["--pack", "demo-county-2022", "--orgunit", "999", "--period", "2024"], "unknown org unit '999'"),
     (["--pack", "demo-county-2022", "--orgunit", "640323", "--period", "24"], "period '24'")],
)  # fmt: skip
def test_unknown_pack_orgunit_or_period_exit_2(county, args, message):
    with pytest.raises(CommandError) as caught:
        call_command("evaluate", *args)
    assert caught.value.returncode == 2
    assert message in str(caught.value)
