"""Issue 18.7: a value can be deleted — by clearing its form field, `--strategy delete` on
import, `deleted: true` or `importStrategy=DELETE` in dataValueSets — audited like any change
and refused on a locked form."""

from __future__ import annotations

import json

import pytest

from xinglin.collection import audit
from xinglin.collection.actions import (
    approve_submission,
    get_submission,
    submit_form,
    write_rows,
)
from xinglin.collection.models import AuditEntry, DataValue
from xinglin.collection.tests.conftest import HMC
from xinglin.network.models import OrgUnit
from xinglin.standards.models import DataElement

pytestmark = pytest.mark.usefixtures("county", "catalogue")
MONTH = "202401"


def _store(carol) -> None:
    unit = OrgUnit.objects.get(code=HMC)
    elements = {
        e.code: e for e in DataElement.objects.filter(code__in=["total_visits", "tcm_visits"])
    }
    write_rows(
        [
            (elements["total_visits"], unit, MONTH, 900.0),
            (elements["tcm_visits"], unit, MONTH, 300.0),
        ],
        user=carol,
    )


def _visits() -> dict[str, float]:
    rows = DataValue.objects.filter(orgunit__code=HMC, period=MONTH)
    return dict(rows.values_list("element__code", "value"))


def _history(code: str) -> list[tuple]:
    unit, element = OrgUnit.objects.get(code=HMC), DataElement.objects.get(code=code)
    return [(e.old_value, e.new_value, e.channel) for e in audit.history(unit, element, MONTH)]


def test_clearing_a_form_field_deletes_the_value_and_audits_it(client_for, carol):
    _store(carol)
    page = client_for(carol).post(
        f"/collection/{HMC}/{MONTH}/value/tcm_visits/", {"tcm_visits": ""}
    )
    assert page.status_code == 200
    assert _visits() == {"total_visits": 900.0}
    assert _history("tcm_visits") == [(300.0, None, "web"), (None, 300.0, "system")]
    entry = AuditEntry.objects.get(new_value=None)
    assert (entry.user, entry.note) == (carol, "deleted")


def test_a_value_stored_again_after_deletion_keeps_its_whole_history(client_for, carol):
    _store(carol)
    clerk = client_for(carol)
    clerk.post(f"/collection/{HMC}/{MONTH}/value/tcm_visits/", {"tcm_visits": ""})
    clerk.post(f"/collection/{HMC}/{MONTH}/value/tcm_visits/", {"tcm_visits": "310"})
    assert _history("tcm_visits") == [
        (None, 310.0, "web"), (300.0, None, "web"), (None, 300.0, "system"),
    ]  # fmt: skip


def test_import_strategy_delete_removes_the_named_values(csv_file, run_import, carol):
    _store(carol)
    # The values are ignored: a file as exported names the values to remove.
    path = csv_file([f"{HMC},{MONTH},tcm_visits,300", f"{HMC},2024,physicians,5"])
    code, out, err = run_import(path, "--strategy", "delete", "--dry-run")
    assert code == 0, err
    assert "1 deleted" in out and _visits() == {"total_visits": 900.0, "tcm_visits": 300.0}
    code, out, err = run_import(path, "--strategy", "delete")
    assert code == 0, err
    assert "1 unchanged, 1 deleted" in out
    assert _visits() == {"total_visits": 900.0}
    assert _history("tcm_visits")[0] == (300.0, None, "import")


def test_deleted_true_in_data_value_sets(tmp_path, run_import, carol):
    _store(carol)
    path = tmp_path / "values.json"
    document = {"dataValues": [
        {"dataElement": "tcm_visits", "period": MONTH, "orgUnit": HMC, "deleted": True},
        {"dataElement": "total_visits", "period": MONTH, "orgUnit": HMC, "value": "950"},
    ]}  # fmt: skip
    path.write_text(json.dumps(document))
    code, _out, err = run_import(path)
    assert code == 0, err
    assert _visits() == {"total_visits": 950.0}


def test_import_strategy_delete_on_the_api(client, carol):
    from xinglin.api.actions import create_token

    _store(carol)
    _row, token = create_token(carol, "test")
    body = {"dataValues": [{"dataElement": "tcm_visits", "period": MONTH, "orgUnit": HMC}]}
    response = client.post(
        "/api/v1/dataValueSets?importStrategy=DELETE", json.dumps(body),
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}",
    )  # fmt: skip
    assert response.status_code == 200, response.json()
    assert response.json()["deleted"] == 1
    assert _visits() == {"total_visits": 900.0}


def test_a_deletion_in_a_locked_form_is_refused(csv_file, run_import, carol, bob, client_for):
    _store(carol)
    unit = OrgUnit.objects.get(code=HMC)
    submit_form(unit, MONTH, user=carol)
    approve_submission(get_submission(unit, MONTH), user=bob)
    path = csv_file([f"{HMC},{MONTH},tcm_visits,300"])
    code, _out, err = run_import(path, "--strategy", "delete")
    assert code == 2 and "rejected, nothing was written" in err
    client_for(carol).post(f"/collection/{HMC}/{MONTH}/value/tcm_visits/", {"tcm_visits": ""})
    assert _visits() == {"total_visits": 900.0, "tcm_visits": 300.0}
    assert not AuditEntry.objects.filter(new_value=None).exists()
