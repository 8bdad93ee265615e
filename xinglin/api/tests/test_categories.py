"""Decision 0013 through the API: values split by sex arrive as DHIS2 clients send them
(`categoryOptionCombo`, by UID through the code mapping or by our code), as ADX attributes
(sex="F") and on /api/v1/values, and are stored per combination; a combination on an element
without categories, an unknown option, or an attribute option combo is refused by name."""

from __future__ import annotations

import json

import pytest
from dhis2_client import DHIS2Client
from dhis2_client.errors import DHIS2HTTPError

from conftest import PASSWORD
from xinglin.api.actions import load_mappings
from xinglin.api.formats import adx
from xinglin.api.tests.conftest import snapshot
from xinglin.collection.models import DataValue

HMC = "640323100001"  # carol's centre
ELDERLY = "elderly_tcm_managed"
UIDS = {ELDERLY: "Q1dPkZy8QxR", "total_visits": "fbfJHSPpUQD", HMC: "DiszpKrYNg8"}
COMBOS = {"F": "sexFemaleUID", "M": "sexMaleUID"}  # a DHIS2 instance's option combo UIDs


@pytest.fixture
def mapped(stored):
    rows = [{"kind": "orgunit" if c.isdigit() else "element", "code": c, "external": u}
            for c, u in UIDS.items()]  # fmt: skip
    rows += [{"kind": "combo", "code": c, "external": u} for c, u in COMBOS.items()]
    load_mappings(rows)


def _split() -> dict[str, float]:
    rows = DataValue.objects.filter(orgunit__code=HMC, period="2024", element__code=ELDERLY)
    return dict(rows.values_list("combo", "value"))


def test_a_dhis2_client_sends_values_by_sex_and_reads_them_back(live_server, carol, mapped):
    client = DHIS2Client(live_server.url, username="carol", password=PASSWORD, retries=0)
    try:
        body = {"orgUnit": UIDS[HMC], "period": "2024", "dataValues": [
            {"dataElement": UIDS[ELDERLY], "categoryOptionCombo": COMBOS["F"], "value": "430"},
            {"dataElement": UIDS[ELDERLY], "categoryOptionCombo": COMBOS["M"], "value": "430"},
        ]}  # fmt: skip
        summary = client.post_data_value_set(body)
        assert summary["response"]["importCount"]["imported"] == 2
        assert _split() == {"F": 430.0, "M": 430.0}  # two values, never collapsed into one
        got = client.get_data_value_set({"orgUnit": UIDS[HMC], "period": "2024",
                                         "dataElement": UIDS[ELDERLY]})  # fmt: skip
        assert sorted((v["categoryOptionCombo"], v["value"]) for v in got["dataValues"]) == [
            (COMBOS["M"], "430"), (COMBOS["F"], "430")][::-1]  # fmt: skip
        before = snapshot()
        wrong = {"orgUnit": UIDS[HMC], "period": "202402", "dataValues": [
            {"dataElement": UIDS["total_visits"], "categoryOptionCombo": COMBOS["F"],
             "value": "5"}]}  # fmt: skip
        with pytest.raises(DHIS2HTTPError) as refused:
            client.post("/api/dataValueSets", json=wrong)
        conflict = refused.value.payload["response"]["conflicts"][0]
        assert conflict["property"] == "categoryOptionCombo"
        assert "total_visits 没有分类" in conflict["value"] and "“F”" in conflict["value"]
        assert snapshot() == before
    finally:
        client.close()


def _sets(client, headers, body):
    return client.post("/api/v1/dataValueSets", json.dumps(body),
                       content_type="application/json", **headers)  # fmt: skip


def test_data_value_sets_by_our_codes_and_refusals_by_name(client, alice, stored, bearer):
    headers = bearer(alice)
    before = snapshot()
    unknown = {"dataValues": [
        {"dataElement": ELDERLY, "categoryOptionCombo": "X", "period": "2024", "orgUnit": HMC,
         "value": "1"},
        {"dataElement": ELDERLY, "period": "2024", "orgUnit": HMC, "value": "2"},
    ]}  # fmt: skip
    detail = _sets(client, headers, unknown).json()["detail"]
    assert [d["loc"][-1] for d in detail] == ["categoryOptionCombo", "categoryOptionCombo"]
    assert "“X”不是 elderly_tcm_managed 的分类选项组合" in detail[0]["msg"]
    assert "按性别分列上报" in detail[1]["msg"]  # a total is refused, not stored as one
    attribute = {"attributeOptionCombo": "fundingDonor", "dataValues": [
        {"dataElement": ELDERLY, "categoryOptionCombo": "F", "period": "2024", "orgUnit": HMC,
         "value": "1"}]}  # fmt: skip
    detail = _sets(client, headers, attribute).json()["detail"]
    assert detail[0]["loc"][-1] == "attributeOptionCombo" and "fundingDonor" in detail[0]["msg"]
    assert snapshot() == before
    good = {"dataValues": [
        {"dataElement": ELDERLY, "categoryOptionCombo": c, "period": "2024", "orgUnit": HMC,
         "value": v} for c, v in (("F", "12"), ("M", "13"))]}  # fmt: skip
    assert _sets(client, headers, good).status_code == 200
    assert _split() == {"F": 12.0, "M": 13.0}


ADX = """<?xml version="1.0"?>
<adx xmlns="urn:ihe:qrph:adx:2015" exported="2025-01-01T00:00:00">
  <group orgUnit="640323100001" period="2024-01-01/P1Y">
    {values}
  </group>
</adx>"""


def _adx(client, headers, values: str):
    body = ADX.format(values=values).encode()
    return client.post("/api/v1/adx", body, content_type=adx.MEDIA_TYPE, **headers)


def test_adx_sex_attributes_map_to_the_combinations(client, alice, stored, bearer):
    headers = bearer(alice)
    values = (f'<dataValue dataElement="{ELDERLY}" sex="F" value="40"/>'
              f'<dataValue dataElement="{ELDERLY}" sex="M" value="35"/>')  # fmt: skip
    response = _adx(client, headers, values)
    assert response.status_code == 200, response.json()
    assert _split() == {"F": 40.0, "M": 35.0}
    exported = client.get(f"/api/v1/adx?orgunit={HMC}&period=2024", **headers).content.decode()
    assert f'dataElement="{ELDERLY}" value="40" sex="F"' in exported
    again = client.post("/api/v1/adx", exported.encode(), content_type=adx.MEDIA_TYPE, **headers)
    assert again.json()["changed"] == 0 and again.json()["unchanged"] >= 2  # its own import


@pytest.mark.parametrize(
    ("values", "field", "said"),
    [
        (f'<dataValue dataElement="{ELDERLY}" sex="X" value="1"/>', "sex", "“X”不是 sex"),
        (f'<dataValue dataElement="{ELDERLY}" ageGroup="Y0-6" sex="F" value="1"/>', "ageGroup",
         "只按 sex 分列"),
        ('<dataValue dataElement="total_visits" sex="F" value="1"/>', "sex", "该数据元没有分类"),
        (f'<dataValue dataElement="{ELDERLY}" value="1"/>', "dataElement", "没有给出 sex"),
    ],
)  # fmt: skip
def test_adx_refuses_what_does_not_fit_by_name(client, alice, stored, bearer, values, field, said):
    before = snapshot()
    response = _adx(client, bearer(alice), values)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [d["loc"][-1] for d in detail] == [field]
    assert said in detail[0]["msg"]
    assert snapshot() == before


def test_api_values_take_the_combination(client, alice, stored, bearer):
    headers = bearer(alice)
    body = {"values": [
        {"element": ELDERLY, "category_option_combo": "F", "orgunit": HMC, "period": "2024",
         "value": 3},
        {"element": ELDERLY, "category_option_combo": "M", "orgunit": HMC, "period": "2024",
         "value": 4},
    ]}  # fmt: skip
    response = client.post("/api/v1/values", json.dumps(body), content_type="application/json",
                           **headers)  # fmt: skip
    assert response.status_code == 200, response.json()
    listed = client.get(f"/api/v1/values?orgunit={HMC}&element={ELDERLY}", **headers).json()
    assert sorted((i["category_option_combo"], i["value"]) for i in listed["items"]) == [
        ("F", 3.0), ("M", 4.0)]  # fmt: skip
