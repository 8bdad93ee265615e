"""Issue 23.2: DHIS2's own client libraries from PyPI (`dhis2-client` 0.3.2 and `dhis2.py`
2.3.0, pinned dev dependencies; nobody here wrote them) against a live test server: system
info, metadata, a dry run that writes nothing (compared by exporting before and after), an
import, a GET with filters, a refusal, a delete. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from dhis2 import Api
from dhis2.exceptions import RequestException
from dhis2_client import DHIS2Client
from dhis2_client.errors import DHIS2HTTPError

from conftest import PASSWORD
from xinglin.api.actions import create_token, load_mappings
from xinglin.api.tests.conftest import snapshot
from xinglin.collection.models import DataValue

HMC = "640323100001"  # carol's centre
DSK = "640323101001"  # dave's centre
UIDS = {"total_visits": "fbfJHSPpUQD", "tcm_visits": "cYeuwXTCPkU", HMC: "DiszpKrYNg8"}


@pytest.fixture
def mapped(stored):
    """A DHIS2 instance's UIDs for two elements and carol's centre."""
    load_mappings([
        {"kind": "orgunit" if code.isdigit() else "element", "code": code, "external": uid}
        for code, uid in UIDS.items()
    ])  # fmt: skip


def _values(period: str, visits: str, tcm: str) -> dict:
    """A dataValueSet as a DHIS2 client writes it: UIDs, set-level org unit and period."""
    return {
        "dataSet": "core",
        "orgUnit": UIDS[HMC],
        "period": period,
        "dataValues": [
            {"dataElement": UIDS["total_visits"], "categoryOptionCombo": "HllvX50cXC0",
             "value": visits},
            {"dataElement": UIDS["tcm_visits"], "categoryOptionCombo": "HllvX50cXC0",
             "value": tcm, "comment": "门诊日志"},
        ],
    }  # fmt: skip


def test_dhis2_client_with_basic_auth(live_server, carol, mapped):
    client = DHIS2Client(live_server.url, username="carol", password=PASSWORD, retries=0)
    try:
        info = client.get_system_info()
        assert info["version"].startswith("2.")
        assert client.get_current_user()["username"] == "carol"
        units = list(client.get_organisation_units(fields="id,code,name,level"))
        assert [(u["id"], u["code"]) for u in units] == [(UIDS[HMC], HMC)]
        elements = list(client.get_data_elements(fields="id,code,valueType", pageSize=7))
        codes = {e["code"]: e["id"] for e in elements}
        assert codes["total_visits"] == UIDS["total_visits"] and len(codes) > 7  # paged
        assert list(client.get_data_sets(fields="id,name"))

        query = {"orgUnit": UIDS[HMC], "startDate": "2024-02-01", "endDate": "2024-02-29"}
        before, exported = snapshot(), client.get_data_value_set(query)
        assert exported["dataValues"] == []
        dry = client.post("/api/dataValueSets", params={"dryRun": "true"},
                          json=_values("202402", "1250", "400"))  # fmt: skip
        assert dry["status"] == "SUCCESS" and dry["importCount"]["imported"] == 2
        assert snapshot() == before and client.get_data_value_set(query) == exported

        summary = client.post_data_value_set(_values("202402", "1250", "400"))
        assert summary["response"]["status"] == "SUCCESS"
        assert summary["response"]["importCount"] == {
            "imported": 2, "updated": 0, "ignored": 0, "deleted": 0}  # fmt: skip
        got = client.get_data_value_set(query | {"dataElement": UIDS["tcm_visits"]})
        assert [(v["dataElement"], v["orgUnit"], v["period"], v["value"])
                for v in got["dataValues"]] == [
            (UIDS["tcm_visits"], UIDS[HMC], "202402", "400")]  # fmt: skip
        assert DataValue.objects.get(orgunit__code=HMC, period="202402",
                                     element__code="tcm_visits").stored_by == carol  # fmt: skip
    finally:
        client.close()


def test_dhis2_client_refusal_and_delete_with_an_api_token(live_server, carol, mapped):
    _row, token = create_token(carol, "dhis2-client")
    client = DHIS2Client(live_server.url, token=token, retries=0)  # sent as "ApiToken …"
    try:
        before = snapshot()
        outside = {"dataValues": [{"dataElement": "total_visits", "orgUnit": DSK,
                                   "period": "202402", "value": "5"}]}  # fmt: skip
        with pytest.raises(DHIS2HTTPError) as refused:
            client.post("/api/dataValueSets", params={"idScheme": "code"}, json=outside)
        assert refused.value.status_code == 409
        conflict = refused.value.payload["response"]["conflicts"][0]
        assert conflict["object"] == DSK and conflict["value"]
        assert snapshot() == before

        deleted = client.post("/api/40/dataValueSets", params={"importStrategy": "DELETE"},
                              json=_values("202401", "", ""))  # fmt: skip
        assert deleted["importCount"]["deleted"] == 2
        assert not DataValue.objects.filter(orgunit__code=HMC, period="202401").exists()
        gone = client.get_data_value_set({"orgUnit": UIDS[HMC], "period": "202401",
                                          "includeDeleted": "true"})  # fmt: skip
        assert {(v["dataElement"], v["deleted"]) for v in gone["dataValues"]} == {
            (UIDS["total_visits"], True), (UIDS["tcm_visits"], True)}  # fmt: skip
    finally:
        client.close()


def test_dhis2_py_with_a_version_in_the_path(live_server, alice, mapped):
    api = Api(live_server.url, "alice", PASSWORD, api_version=40)
    assert api.version_int >= 38
    units = api.get_paged("organisationUnits", params={"fields": "id,code,level"},
                          page_size=3, merge=True)["organisationUnits"]  # fmt: skip
    assert {u["code"] for u in units} >= {HMC, DSK, "640323"}
    response = api.post("dataValueSets", json=_values("202403", "1100", "380"),
                        params={"dryRun": True})  # fmt: skip
    assert response.json()["importCount"]["imported"] == 2
    assert not DataValue.objects.filter(period="202403").exists()
    response = api.post("dataValueSets", json=_values("202403", "1100", "380"))
    assert response.json()["status"] == "SUCCESS"
    csv = api.get("dataValueSets", file_type="csv",
                  params={"orgUnit": "640323", "children": "true", "period": "202403"})  # fmt: skip
    lines = csv.text.splitlines()
    assert lines[0].startswith("dataelement,period,orgunit")
    assert len(lines) == 3 and all(UIDS[HMC] in line for line in lines[1:])
    with pytest.raises(RequestException) as refused:
        api.get("dataValueSets", params={"orgunit": HMC})  # a misspelt parameter
    assert refused.value.code == 409 and "orgunit" in refused.value.description
