"""Issue 23.1: the DHIS2-compatible face, with Django's test client: paths, authentication
(Basic through the login throttle, ApiToken, Bearer), ImportSummary answers, parameters
(DHIS2 booleans, id schemes in any case, unknown names refused), bodies by content type and
the GET filters; the old /api/v1/ paths keep answering as before."""

from __future__ import annotations

import base64
import json

import pytest

from conftest import PASSWORD
from xinglin.api.actions import load_mappings
from xinglin.api.tests.conftest import snapshot
from xinglin.collection.models import DataValue

HMC = "640323100001"  # carol's centre (花马池镇卫生院)
DSK = "640323101001"  # dave's centre (大水坑镇卫生院)


def basic(user, password=PASSWORD) -> dict:
    token = base64.b64encode(f"{user.username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def api_token(bearer, user) -> dict:
    return {"HTTP_AUTHORIZATION": bearer(user)["HTTP_AUTHORIZATION"].replace("Bearer", "ApiToken")}


def post(client, headers, body, query="", content_type="application/json", path="dataValueSets"):
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    return client.post(f"/api/{path}{query}", body, content_type=content_type, **headers)


def one(element="total_visits", orgunit=HMC, period="202402", value="1250", **more) -> dict:
    return {"dataValues": [{"dataElement": element, "orgUnit": orgunit, "period": period,
                            "value": value, **more}]}  # fmt: skip


@pytest.mark.parametrize(
    "path", ["system/info", "40/system/info", "system/info.json", "me", "dataElements",
             "organisationUnits", "dataSets", "periodTypes", "dataValueSets",
             "dataValueSets.json", "41/dataValueSets", "40/organisationUnits.json"],
)  # fmt: skip
def test_the_dhis2_paths_answer_json(client, carol, stored, bearer, path):
    response = client.get(f"/api/{path}", **bearer(carol))
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/json")
    assert isinstance(response.json(), dict)


def test_the_old_v1_paths_keep_their_shapes(client, carol, stored, bearer):
    headers = bearer(carol)
    assert set(client.get("/api/v1/values", **headers).json()) == {"count", "limit", "offset", "items"}  # fmt: skip
    response = post(client, headers, one(), path="v1/dataValueSets")
    assert response.status_code == 200
    assert set(response.json()) == {"added", "changed", "unchanged", "deleted", "warnings", "dryRun"}  # fmt: skip


def test_basic_apitoken_and_bearer_are_the_same_account(client, carol, stored, bearer):
    for headers in (basic(carol), api_token(bearer, carol), bearer(carol)):
        me = client.get("/api/me", **headers).json()
        assert me["username"] == "carol"
        assert [u["code"] for u in me["organisationUnits"]] == [HMC]


def test_without_or_with_wrong_credentials_it_is_401(client, carol, stored):
    for headers in ({}, basic(carol, "wrong"), {"HTTP_AUTHORIZATION": "ApiToken xl_nope_nope"}):
        response = client.get("/api/dataValueSets", **headers)
        assert response.status_code == 401
        assert response.json()["httpStatusCode"] == 401
        assert "Basic" in response["WWW-Authenticate"]


def test_basic_auth_goes_through_the_login_throttle(client, carol, stored):
    from xinglin.core.security import LOCKOUT_FAILURES

    for _attempt in range(LOCKOUT_FAILURES):
        assert client.get("/api/me", **basic(carol, "wrong")).status_code == 401
    # locked: even the right password is refused now, and the answer says why
    response = client.get("/api/me", **basic(carol))
    assert response.status_code == 401
    assert response.json()["message"] != "authentication required"


def test_an_import_answers_an_import_summary(client, carol, stored, bearer):
    body = {"dataValues": [
        {"dataElement": "total_visits", "orgUnit": HMC, "period": "202402", "value": "1250"},
        {"dataElement": "total_visits", "orgUnit": HMC, "period": "202401", "value": "1300"},
        {"dataElement": "tcm_visits", "orgUnit": HMC, "period": "202401", "value": "450"},
    ]}  # fmt: skip
    response = post(client, bearer(carol), body)
    assert response.status_code == 200, response.json()
    summary = response.json()
    assert summary["status"] == "SUCCESS" and summary["responseType"] == "ImportSummary"
    assert summary["importCount"] == {"imported": 1, "updated": 1, "ignored": 1, "deleted": 0}
    assert summary["conflicts"] == [] and summary["description"]
    assert summary["response"]["importCount"] == summary["importCount"]  # DHIS2 2.38+ shape
    assert DataValue.objects.get(orgunit__code=HMC, element__code="total_visits",
                                 period="202402").value == 1250  # fmt: skip


def test_a_refusal_is_409_with_conflicts_and_writes_nothing(client, carol, stored, bearer):
    before = snapshot()
    body = {"dataValues": [
        {"dataElement": "total_visits", "orgUnit": HMC, "period": "202402", "value": "1250"},
        {"dataElement": "total_visits", "orgUnit": DSK, "period": "202402", "value": "7"},
        {"dataElement": "no_such_element", "orgUnit": HMC, "period": "202402", "value": "7"},
    ]}  # fmt: skip
    response = post(client, bearer(carol), body)
    assert response.status_code == 409
    summary = response.json()
    assert summary["status"] == "ERROR" and summary["importCount"]["imported"] == 0
    objects = {(c["object"], c["property"], tuple(c["indexes"])) for c in summary["conflicts"]}
    assert (DSK, "orgUnit", (1,)) in objects
    assert ("no_such_element", "dataElement", (2,)) in objects
    assert all(c["value"] for c in summary["conflicts"])
    assert snapshot() == before


def test_a_warning_does_not_block_and_answers_warning(client, carol, stored, bearer):
    # 5x last year's January (1200 in 202401 is stored; this is 202501): the jump warning
    response = post(client, bearer(carol), one(period="202501", value="9000"))
    assert response.status_code == 200, response.json()
    summary = response.json()
    assert summary["status"] == "WARNING" and summary["importCount"]["imported"] == 1
    assert summary["conflicts"] and summary["conflicts"][0]["property"] == "value"
    assert DataValue.objects.filter(orgunit__code=HMC, period="202501").exists()


def test_a_dry_run_writes_nothing(client, carol, stored, bearer):
    headers = bearer(carol)
    before, exported = snapshot(), client.get("/api/dataValueSets", **headers).content
    for flag in ("true", "t", "TRUE"):
        response = post(client, headers, one(), f"?dryRun={flag}")
        assert response.status_code == 200 and response.json()["importCount"]["imported"] == 1
        assert response.json()["importOptions"]["dryRun"] is True
    assert snapshot() == before
    assert client.get("/api/dataValueSets", **headers).content == exported
    post(client, headers, one(), "?dryRun=f")
    assert snapshot() != before


def test_a_bad_boolean_or_unknown_parameter_is_refused_by_name(client, carol, stored, bearer):
    headers = bearer(carol)
    response = post(client, headers, one(), "?dryRun=yes")
    assert response.status_code == 409 and "dryRun" in response.json()["message"]
    response = post(client, headers, one(), "?dryrun=true")  # a typo is not ignored
    assert response.status_code == 409 and "dryrun" in response.json()["message"]
    response = client.get("/api/dataValueSets?orgunit=" + HMC, **headers)
    assert response.status_code == 409 and "orgunit" in response.json()["message"]
    assert not DataValue.objects.filter(period="202402").exists()


@pytest.mark.parametrize("strategy,imported,updated,ignored", [
    ("CREATE", 1, 0, 1), ("UPDATE", 0, 1, 1), ("create_and_update", 1, 1, 0),
    ("NEW_AND_UPDATES", 1, 1, 0),
])  # fmt: skip
def test_import_strategies(client, carol, stored, bearer, strategy, imported, updated, ignored):
    body = {"dataValues": [
        {"dataElement": "total_visits", "orgUnit": HMC, "period": "202402", "value": "1250"},
        {"dataElement": "total_visits", "orgUnit": HMC, "period": "202401", "value": "1300"},
    ]}  # fmt: skip
    response = post(client, bearer(carol), body, f"?importStrategy={strategy}")
    assert response.status_code == 200, response.json()
    counts = response.json()["importCount"]
    assert (counts["imported"], counts["updated"], counts["ignored"]) == (
        imported,
        updated,
        ignored,
    )
    january = DataValue.objects.get(
        orgunit__code=HMC, element__code="total_visits", period="202401"
    )
    assert january.value == (1200 if strategy == "CREATE" else 1300)
    assert DataValue.objects.filter(period="202402").exists() == (strategy != "UPDATE")


def test_update_outside_the_scope_is_refused_not_ignored(client, carol, stored, bearer):
    response = post(client, bearer(carol), one(orgunit=DSK), "?importStrategy=UPDATE")
    assert response.status_code == 409


def test_delete_by_strategy_and_by_flag(client, carol, stored, bearer):
    headers = bearer(carol)
    body = one(period="202401", value="")
    response = post(client, headers, body, "?importStrategy=DELETE")
    assert response.status_code == 200, response.json()
    assert response.json()["importCount"]["deleted"] == 1
    assert not DataValue.objects.filter(orgunit__code=HMC, element__code="total_visits",
                                        period="202401").exists()  # fmt: skip
    response = post(client, headers, one("tcm_visits", period="202401", deleted="t"))
    assert response.json()["importCount"]["deleted"] == 1
    exported = client.get(f"/api/dataValueSets?orgUnit={HMC}&period=202401&includeDeleted=true",
                          **headers).json()["dataValues"]  # fmt: skip
    assert {(e["dataElement"], e.get("deleted")) for e in exported} == {
        ("total_visits", True), ("tcm_visits", True)}  # fmt: skip


def test_id_schemes_uid_code_and_name(client, alice, stored, bearer):
    load_mappings([
        {"kind": "element", "code": "total_visits", "external": "fbfJHSPpUQD"},
        {"kind": "orgunit", "code": HMC, "external": "DiszpKrYNg8"},
    ])  # fmt: skip
    headers = bearer(alice)
    assert post(client, headers, one("fbfJHSPpUQD", "DiszpKrYNg8")).status_code == 200
    assert post(client, headers, one(value="1251"), "?idScheme=code").status_code == 200
    by_name = one("总诊疗人次", "花马池镇卫生院", value="1252")
    response = post(client, headers, by_name, "?dataElementIdScheme=name&orgUnitIdScheme=NAME")
    assert response.status_code == 200, response.json()
    stored_value = DataValue.objects.get(orgunit__code=HMC, element__code="total_visits",
                                         period="202402")  # fmt: skip
    assert stored_value.value == 1252
    exported = client.get("/api/dataValueSets?orgUnit=DiszpKrYNg8&period=202402", **headers)
    assert exported.json()["dataValues"][0]["dataElement"] == "fbfJHSPpUQD"
    exported = client.get(
        f"/api/dataValueSets?orgUnit={HMC}&period=202402&idScheme=CODE", **headers
    )
    assert exported.json()["dataValues"][0]["dataElement"] == "total_visits"
    response = post(client, headers, one(), "?idScheme=attribute:abc")
    assert response.status_code == 409 and "idScheme" in response.json()["message"]


def test_get_filters(client, alice, stored, bearer):
    headers = bearer(alice)

    def keys(query):
        response = client.get(f"/api/dataValueSets?{query}", **headers)
        assert response.status_code == 200, response.content
        return {
            (e["orgUnit"], e["period"], e["dataElement"]) for e in response.json()["dataValues"]
        }

    # without children: the township's own values only
    assert keys("orgUnit=640323100") == {("640323100", "2024", "residents")}
    township = keys("orgUnit=640323100&children=true")
    assert (HMC, "202401", "total_visits") in township and ("640323100101", "202401", "total_visits") in township  # fmt: skip
    assert all(o.startswith("640323100") for o, _p, _e in township)
    assert keys(f"orgUnit={HMC}&period=2024") == {(HMC, "2024", "has_tcm_hall"),
                                                   (HMC, "2024", "performance_score_tcm_share")}  # fmt: skip
    months = keys("orgUnit=640323&children=true&startDate=2024-01-01&endDate=2024-01-31")
    assert months and {p for _o, p, _e in months} == {"202401"}
    assert keys("orgUnit=640323&children=t&dataElement=tcm_visits") == {
        (HMC, "202401", "tcm_visits"), (DSK, "202401", "tcm_visits")}  # fmt: skip
    assert keys("orgUnit=640323&children=true&lastUpdated=2999-01-01") == set()
    assert client.get("/api/dataValueSets?startDate=2024-01-01", **headers).status_code == 409


def test_get_is_scoped(client, carol, stored, bearer):
    headers = bearer(carol)
    everything = client.get("/api/dataValueSets", **headers).json()["dataValues"]
    assert everything and {e["orgUnit"] for e in everything} == {HMC}
    for unit in (DSK, "640323", "nowhere"):  # outside and unknown answer alike
        response = client.get(f"/api/dataValueSets?orgUnit={unit}&children=true", **headers)
        assert response.status_code == 409 and unit in response.json()["message"]


def test_values_are_strings_and_round_trip(client, alice, stored, bearer):
    headers = bearer(alice)
    exported = client.get(f"/api/dataValueSets?orgUnit={HMC}", **headers)
    entries = exported.json()["dataValues"]
    assert all(isinstance(e["value"], str) for e in entries)
    assert {e["value"] for e in entries if e["dataElement"] == "performance_score_tcm_share"} == {"0.175"}  # fmt: skip
    response = post(client, headers, exported.content)
    assert response.json()["importCount"] == {"imported": 0, "updated": 0, "ignored": len(entries), "deleted": 0}  # fmt: skip


def test_xml_and_csv_bodies_and_exports(client, alice, stored, bearer):
    headers = bearer(alice)
    xml = client.get(f"/api/dataValueSets.xml?orgUnit={HMC}&period=202401", **headers)
    assert xml["Content-Type"].startswith("application/xml")
    assert b"http://dhis2.org/schema/dxf/2.0" in xml.content
    changed = xml.content.replace(b'value="1200"', b'value="1210"')
    response = post(client, headers, changed, content_type="application/xml")
    assert response.status_code == 200, response.json()
    assert response.json()["importCount"]["updated"] == 1
    csv_text = client.get(f"/api/dataValueSets.csv?orgUnit={HMC}&period=202401", **headers)
    assert csv_text.content.decode().splitlines()[0].startswith("dataelement,period,orgunit,")
    changed = csv_text.content.replace(b",1210,", b",1220,")
    response = post(client, headers, changed, content_type="application/csv")
    assert response.status_code == 200, response.json()
    assert response.json()["importCount"]["updated"] == 1
    headerless = f"tcm_visits,202402,{HMC},,,77\n".encode()
    response = post(client, headers, headerless, content_type="text/csv")
    assert response.json()["importCount"]["imported"] == 1
    assert DataValue.objects.get(orgunit__code=HMC, period="202402").value == 77


def test_an_adx_body_is_read_by_the_adx_parser(client, alice, stored, bearer):
    headers = bearer(alice)
    adx = client.get("/api/v1/adx", **headers).content
    response = post(client, headers, adx, "?dryRun=true", content_type="application/adx+xml")
    assert response.status_code == 200, response.json()
    assert response.json()["importCount"]["ignored"] == len(DataValue.objects.all())


def test_an_unreadable_body_is_a_409_naming_the_problem(client, alice, stored, bearer):
    headers = bearer(alice)
    for body, content_type in ((b"{nope", "application/json"), (b"<x", "application/xml"),
                               (b"a", "application/pdf")):  # fmt: skip
        response = post(client, headers, body, content_type=content_type)
        assert response.status_code == 409 and response.json()["message"]


def test_metadata_maps_codes_to_uids(client, carol, stored, bearer):
    load_mappings([{"kind": "element", "code": "total_visits", "external": "fbfJHSPpUQD"},
                   {"kind": "orgunit", "code": HMC, "external": "DiszpKrYNg8"}])  # fmt: skip
    headers = bearer(carol)
    elements = client.get("/api/dataElements?fields=id,code,valueType&paging=false", **headers)
    found = {e["code"]: e for e in elements.json()["dataElements"]}
    assert found["total_visits"] == {"id": "fbfJHSPpUQD", "code": "total_visits", "valueType": "INTEGER"}  # fmt: skip
    page = client.get("/api/dataElements?pageSize=5&page=2", **headers).json()
    assert page["pager"]["page"] == 2 and page["pager"]["pageSize"] == 5
    assert page["pager"]["total"] == len(found) and len(page["dataElements"]) == 5
    units = client.get("/api/organisationUnits?fields=id,code,level,parent", **headers).json()
    assert units["organisationUnits"] == [
        {"id": "DiszpKrYNg8", "code": HMC, "level": 5, "parent": {"id": "640323100"}}]  # fmt: skip
    filtered = client.get("/api/dataElements?filter=code:eq:tcm_visits&fields=code", **headers)
    assert filtered.json()["dataElements"] == [{"code": "tcm_visits"}]
    sets = client.get("/api/dataSets?fields=id,dataSetElements&paging=false", **headers).json()
    assert sets["dataSets"] and all(s["dataSetElements"] for s in sets["dataSets"])
    types = client.get("/api/periodTypes", **headers).json()["periodTypes"]
    assert [t["name"] for t in types] == ["Monthly", "Quarterly", "Yearly"]
    assert client.get("/api/dataElements?filter=code:zz:x", **headers).status_code == 409
    assert client.post("/api/dataElements", "{}", content_type="application/json", **headers).status_code == 405  # fmt: skip


def test_system_info_says_which_api_it_speaks(client, carol, stored, bearer):
    info = client.get("/api/system/info", **bearer(carol)).json()
    assert info["version"].startswith("2.") and int(info["version"].split(".")[1]) >= 38
    assert info["calendar"] == "iso8601"
