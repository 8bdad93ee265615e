"""Comments kept (issue 18.6): from the form, the CSV `comment` column, dataValueSets `comment`
and the ADX annotation; shown in the history, exported back by `xinglin export values`
(csv/json/xlsx) and the API, so an export re-imports with its comments. A comment change
alone is a change, audited."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from xinglin.collection import audit
from xinglin.collection.actions import write, write_rows
from xinglin.collection.batch import Candidate
from xinglin.collection.comments import COMMENT_NOTE
from xinglin.collection.models import AuditEntry, DataValue
from xinglin.collection.tests.conftest import CLINIC, HMC
from xinglin.network.models import OrgUnit
from xinglin.standards.models import DataElement

pytestmark = pytest.mark.usefixtures("county", "catalogue")


def _row(element: str, orgunit: str = HMC, period: str = "202401") -> DataValue | None:
    return DataValue.objects.filter(
        orgunit__code=orgunit, period=period, element__code=element
    ).first()


def _store(**values):
    unit = OrgUnit.objects.get(code=HMC)
    write_rows([(DataElement.objects.get(code=k), unit, "202401", v) for k, v in values.items()])


def _history(element: str):
    return audit.history(OrgUnit.objects.get(code=HMC), DataElement.objects.get(code=element),
                         "202401")  # fmt: skip


def test_a_comment_typed_on_the_form_is_kept_and_shown_in_the_history(client_for, carol):
    client = client_for(carol)
    client.cookies["django_language"] = "en"
    url = f"/collection/{HMC}/202401/value/total_visits/"
    page = client.post(url, {"total_visits": "1200", "comment_total_visits": "含义诊 30 人次"})
    assert "✓" in page.content.decode()
    assert (_row("total_visits").value, _row("total_visits").comment) == (1200, "含义诊 30 人次")
    form = client.get(f"/collection/{HMC}/202401/").content.decode()
    assert 'name="comment_total_visits" value="含义诊 30 人次"' in form
    history = client.get(f"/collection/{HMC}/202401/history/total_visits/").content.decode()
    assert "含义诊 30 人次" in history


def test_a_comment_change_alone_is_a_change_and_audited(carol):
    _store(total_visits=1200)
    before = _row("total_visits").updated_at
    result = write(
        [Candidate(HMC, "202401", "total_visits", "1200", comment="已核实")],
        user=carol,
        channel="web",
    )
    assert (result.changed, result.unchanged) == (1, 0)
    row = _row("total_visits")
    assert row.comment == "已核实" and row.updated_at > before and row.stored_by == carol
    newest, creation = _history("total_visits")
    assert (newest.note, newest.old_value, newest.new_value, newest.comment) == (
        COMMENT_NOTE, 1200, 1200, "已核实"
    )  # fmt: skip
    assert (creation.old_value, creation.new_value, creation.comment) == (None, 1200, "")
    again = write([Candidate(HMC, "202401", "total_visits", "1200", comment="已核实")],
                  user=carol, channel="web")  # fmt: skip
    assert (again.changed, again.unchanged) == (0, 1)
    assert AuditEntry.objects.count() == 2


def test_a_value_and_its_comment_changed_together_are_one_entry(carol):
    _store(total_visits=1200)
    write([Candidate(HMC, "202401", "total_visits", "1300", comment="补录")], user=carol,
          channel="web")  # fmt: skip
    newest, _creation = _history("total_visits")
    assert (newest.old_value, newest.new_value, newest.comment, newest.note) == (
        1200, 1300, "补录", ""
    )  # fmt: skip


def test_no_comment_given_leaves_the_stored_one(csv_file, run_import):
    write([Candidate(HMC, "202401", "total_visits", "1200", comment="保留")], user=None,
          channel="system")  # fmt: skip
    code, out, _err = run_import(csv_file([f"{HMC},202401,total_visits,1300"]))
    assert code == 0 and (_row("total_visits").value, _row("total_visits").comment) == (
        1300, "保留"
    )  # fmt: skip


def test_the_csv_comment_column_sets_and_clears_comments(tmp_path, run_import):
    _store(total_visits=1200, tcm_visits=400)
    DataValue.objects.filter(element__code="tcm_visits").update(comment="旧说明")
    path = tmp_path / "values.csv"
    path.write_text(
        "orgunit,period,element,value,comment\n"
        f"{HMC},202401,total_visits,1200,含外出义诊\n"
        f"{HMC},202401,tcm_visits,400,\n",
        encoding="utf-8",
    )
    code, out, _err = run_import(path)
    assert code == 0 and "2 changed" in out
    assert _row("total_visits").comment == "含外出义诊" and _row("tcm_visits").comment == ""


def test_a_comment_too_long_is_refused_naming_its_row(tmp_path, run_import):
    path = tmp_path / "values.csv"
    path.write_text(
        f"orgunit,period,element,value,comment\n{HMC},202401,total_visits,1200,{'长' * 501}\n",
        encoding="utf-8",
    )
    code, _out, err = run_import(path)
    assert code == 2 and "row 2" in err and "500" in err and _row("total_visits") is None


def test_datavaluesets_comment_is_read(tmp_path, run_import):
    path = tmp_path / "values.json"
    entry = {"orgUnit": HMC, "period": "202401", "dataElement": "total_visits", "value": 90}
    path.write_text(json.dumps({"dataValues": [entry | {"comment": "节假日"}]}))
    assert run_import(path)[0] == 0
    assert _row("total_visits").comment == "节假日"


def _export(*options) -> str:
    out = io.StringIO()
    call_command("export", "values", *options, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_export_then_import_round_trips_the_comments(tmp_path, run_import, fmt):
    write(
        [
            Candidate(HMC, "202401", "total_visits", "1200", comment="含义诊, 30 人次"),
            Candidate(HMC, "202401", "tcm_visits", "400"),
            Candidate(CLINIC, "202401", "total_visits", "80", comment="村医外出培训"),
        ],
        user=None,
        channel="system",
    )
    path = tmp_path / f"values.{fmt}"
    _export("--format", fmt, "--output", str(path))
    if fmt == "xlsx":
        rows = list(load_workbook(path).active.values)
        assert rows[0] == (
            "orgunit",
            "period",
            "element",
            "value",
            "comment",
            "category_option_combo",
        )
        assert (HMC, "202401", "total_visits", 1200, "含义诊, 30 人次", None) in rows
    else:
        assert "含义诊, 30 人次" in path.read_text(encoding="utf-8")
    code, out, _err = run_import(path)  # unchanged: nothing to do
    assert code == 0 and "0 changed, 3 unchanged" in out
    DataValue.objects.update(comment="")  # the comments lost …
    code, out, _err = run_import(path)  # … come back from the export
    assert code == 0 and "2 changed, 1 unchanged" in out
    assert _row("total_visits").comment == "含义诊, 30 人次"
    assert _row("total_visits", CLINIC).comment == "村医外出培训"
    assert _row("tcm_visits").comment == ""


def test_a_form_save_reads_the_comments_of_its_own_values_only(client_for, carol):
    """One field saved reads the stored comments of its org unit's values, not every comment
    of the period (a scan of the province's values per save at month-end, W7); clearing the
    field's comment still clears it, and another institution's comment is left alone."""
    unit, clinic = OrgUnit.objects.get(code=HMC), OrgUnit.objects.get(code=CLINIC)
    visits = DataElement.objects.get(code="total_visits")
    write_rows([(visits, unit, "202401", 1200), (visits, clinic, "202401", 90)])
    DataValue.objects.filter(period="202401").update(comment="旧备注")
    client = client_for(carol)
    url = f"/collection/{HMC}/202401/value/total_visits/"
    with CaptureQueriesContext(connection) as queries:
        page = client.post(url, {"total_visits": "1300", "comment_total_visits": ""})
    assert "✓" in page.content.decode()
    assert (_row("total_visits").value, _row("total_visits").comment) == (1300, "")
    assert _row("total_visits", orgunit=CLINIC).comment == "旧备注"
    # every read of stored comments names the saving institution (a form's values: read
    # with their versions, `guards.states`), none reads the period's comments
    reads = [q["sql"] for q in queries.captured_queries
             if q["sql"].startswith("SELECT") and '"collection_datavalue"."comment"' in q["sql"]]  # fmt: skip
    mine = (HMC, f'"collection_datavalue"."orgunit_id" = {unit.pk}')
    assert reads and all(any(m in sql for m in mine) for sql in reads)
