"""Issue 18.8 and 18.9 on the API: `dryRun=true` runs the full check and writes nothing
(compared by exporting before and after); a category option combo or an attribute option
combo is refused by name, never collapsed or dropped."""

from __future__ import annotations

import json

from xinglin.api.tests.conftest import snapshot
from xinglin.collection.models import DataValue

HMC = "640323100001"


def _values(client, headers, body, query=""):
    return client.post(
        f"/api/v1/values{query}", json.dumps(body), content_type="application/json", **headers
    )


def _sets(client, headers, body, query=""):
    return client.post(
        f"/api/v1/dataValueSets{query}", json.dumps(body), content_type="application/json",
        **headers,
    )  # fmt: skip


def _export(client, headers) -> bytes:
    return client.get("/api/v1/dataValueSets", **headers).content


def test_a_dry_run_on_values_writes_nothing(client, carol, stored, bearer):
    headers = bearer(carol)
    before, exported = snapshot(), _export(client, headers)
    body = {
        "values": [
            {"element": "total_visits", "orgunit": HMC, "period": "202401", "value": 1300},
            {"element": "total_visits", "orgunit": HMC, "period": "202402", "value": 1250},
        ],
        "dryRun": True,
    }
    response = _values(client, headers, body)
    assert response.status_code == 200, response.json()
    assert response.json() | {"warnings": []} == {
        "added": 1, "changed": 1, "unchanged": 0, "deleted": 0, "warnings": [], "dryRun": True,
    }  # fmt: skip
    assert snapshot() == before and _export(client, headers) == exported
    body["dryRun"] = False
    assert _values(client, headers, body).json()["dryRun"] is False
    assert DataValue.objects.get(orgunit__code=HMC, period="202402").value == 1250


def test_a_dry_run_still_finds_the_errors(client, carol, stored, bearer):
    body = {"values": [{"element": "total_visits", "orgunit": HMC, "period": "202401",
                        "value": -5}], "dryRun": True}  # fmt: skip
    response = _values(client, bearer(carol), body)
    assert response.status_code == 422


def test_a_dry_run_of_data_value_sets_and_adx_writes_nothing(client, alice, stored, bearer):
    headers = bearer(alice)
    before, exported = snapshot(), _export(client, headers)
    body = {"dataValues": [{"dataElement": "total_visits", "period": "202402",
                            "orgUnit": HMC, "value": "1250"}]}  # fmt: skip
    response = _sets(client, headers, body, "?dryRun=true")
    assert response.status_code == 200 and response.json()["added"] == 1
    adx = client.get("/api/v1/adx", **headers).content
    DataValue.objects.filter(orgunit__code=HMC).update(value=1)  # the ADX import would change
    changed = snapshot()
    response = client.post(
        "/api/v1/adx?dryRun=true", adx, content_type="application/adx+xml", **headers
    )
    assert response.status_code == 200, response.json()
    assert response.json()["changed"] > 0 and response.json()["dryRun"] is True
    assert snapshot() == changed
    DataValue.objects.filter(orgunit__code=HMC).delete()
    assert before != snapshot() and exported != _export(client, headers)  # the export sees


def test_a_category_option_combo_is_refused_by_name(client, alice, stored, bearer):
    """Two values of one element split by sex (430 + 430) were stored as one 430."""
    before = snapshot()
    body = {"dataValues": [
        {"dataElement": "total_visits", "period": "202402", "orgUnit": HMC, "value": "430",
         "categoryOptionCombo": "sexMale"},
        {"dataElement": "total_visits", "period": "202402", "orgUnit": HMC, "value": "430",
         "categoryOptionCombo": "sexFemale"},
    ]}  # fmt: skip
    response = _sets(client, bearer(alice), body)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [d["loc"][-1] for d in detail] == ["categoryOptionCombo", "categoryOptionCombo"]
    assert "sexMale" in detail[0]["msg"] and "total_visits" in detail[0]["msg"]
    assert snapshot() == before


def test_an_attribute_option_combo_is_refused_by_name(client, alice, stored, bearer):
    before = snapshot()
    body = {"attributeOptionCombo": "fundingDonor", "dataValues": [
        {"dataElement": "total_visits", "period": "202402", "orgUnit": HMC, "value": "430"},
    ]}  # fmt: skip
    response = _sets(client, bearer(alice), body)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail[0]["loc"][-1] == "attributeOptionCombo" and "fundingDonor" in detail[0]["msg"]
    assert snapshot() == before


def test_the_default_combo_means_no_disaggregation(client, alice, stored, bearer):
    body = {"dataValues": [
        {"dataElement": "total_visits", "period": "202402", "orgUnit": HMC, "value": "430",
         "categoryOptionCombo": "HllvX50cXC0", "attributeOptionCombo": "HllvX50cXC0"},
    ]}  # fmt: skip
    response = _sets(client, bearer(alice), body)
    assert response.status_code == 200, response.json()
    assert DataValue.objects.get(orgunit__code=HMC, period="202402").value == 430
