from __future__ import annotations

import json

from lxml import etree

from xinglin.api.actions import load_mappings
from xinglin.api.formats import adx
from xinglin.api.tests.conftest import VALUES, snapshot
from xinglin.collection.models import DataValue


def _stored() -> set[tuple[str, str, str, float]]:
    rows = DataValue.objects.values_list("element__code", "orgunit__code", "period", "value")
    return set(rows)


def _mapping() -> None:
    load_mappings([
        {"kind": "element", "code": "total_visits", "external": "fClA2Erf6IO"},
        {"kind": "element", "code": "tcm_visits", "external": "tcmVisitsA1"},
        {"kind": "orgunit", "code": "640323100001", "external": "DiszpKrYNg8"},
        {"kind": "orgunit", "code": "640323100", "external": "ImspTQPwCqd"},
    ])  # fmt: skip


def test_dhis2_round_trip_with_the_code_mapping(client, alice, stored, bearer):
    _mapping()
    headers = bearer(alice)
    before = _stored()
    exported = client.get("/api/v1/dataValueSets", {"idScheme": "uid"}, **headers)
    assert exported.status_code == 200
    document = exported.json()
    assert len(document["dataValues"]) == len(VALUES)
    first = document["dataValues"][1]
    assert {k: first[k] for k in ("dataElement", "period", "orgUnit", "value")} == {
        "dataElement": "has_tcm_hall",
        "period": "2024",
        "orgUnit": "DiszpKrYNg8",
        "value": "true",
    }
    assert {"dataElement": "fClA2Erf6IO", "orgUnit": "DiszpKrYNg8", "value": "1200"}.items() <= (
        next(v for v in document["dataValues"] if v["dataElement"] == "fClA2Erf6IO").items()
    )
    DataValue.objects.all().delete()
    response = client.post(
        "/api/v1/dataValueSets?idScheme=uid", exported.content, content_type="application/json",
        **headers,
    )  # fmt: skip
    assert response.status_code == 200, response.json()
    assert response.json()["added"] == len(VALUES)
    assert _stored() == before
    assert set(DataValue.objects.values_list("channel", flat=True)) == {"api"}


def test_dhis2_export_is_scoped(client, carol, stored, bearer):
    document = client.get("/api/v1/dataValueSets", **bearer(carol)).json()
    assert {v["orgUnit"] for v in document["dataValues"]} == {"640323100001"}
    assert len(document["dataValues"]) == 4


def test_dhis2_import_outside_scope_changes_nothing(client, carol, stored, bearer):
    before = snapshot()
    body = {"dataValues": [
        {"dataElement": "total_visits", "period": "202403", "orgUnit": "640323100001", "value": "5"},
        {"dataElement": "total_visits", "period": "202403", "orgUnit": "640323101001", "value": "5"},
    ]}  # fmt: skip
    response = client.post(
        "/api/v1/dataValueSets", json.dumps(body), content_type="application/json", **bearer(carol)
    )
    assert response.status_code == 422
    assert [d["loc"] for d in response.json()["detail"]] == [["body", "dataValues", 2, "value"]]
    assert snapshot() == before


def test_dhis2_import_names_missing_fields(client, carol, stored, bearer):
    before = snapshot()
    body = {"period": "202403", "dataValues": [{"dataElement": "total_visits", "value": "5"}]}
    response = client.post(
        "/api/v1/dataValueSets", json.dumps(body), content_type="application/json", **bearer(carol)
    )
    assert response.status_code == 422
    assert [d["loc"] for d in response.json()["detail"]] == [["body", "dataValues", 1, "orgUnit"]]
    assert snapshot() == before


def test_dhis2_import_of_broken_json_is_422(client, carol, stored, bearer):
    response = client.post(
        "/api/v1/dataValueSets", b"{not json", content_type="application/json", **bearer(carol)
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]


def test_adx_round_trip_validates_against_the_generated_schema(client, alice, stored, bearer):
    headers = bearer(alice)
    before = _stored()
    exported = client.get("/api/v1/adx", {"pack": "demo-county-2022"}, **headers)
    assert exported.status_code == 200
    assert exported["Content-Type"] == "application/adx+xml"
    xsd = client.get("/api/v1/adx/schema", {"pack": "demo-county-2022"}, **headers)
    schema = etree.XMLSchema(etree.fromstring(xsd.content))
    document = etree.fromstring(exported.content)
    schema.assertValid(document)
    groups = document.findall(f"{{{adx.NS}}}group")
    assert [(g.get("orgUnit"), g.get("period")) for g in groups][:3] == [
        ("640323100", "2024-01-01/P1Y"),
        ("640323100001", "2024-01-01/P1Y"),
        ("640323100001", "2024-01-01/P1M"),
    ]
    # dataSet names the form (报表) of each group, not the pack
    assert [g.get("dataSet") for g in groups][:3] == [
        "division.yearly",
        "township_health_center.yearly",
        "township_health_center.monthly",
    ]
    DataValue.objects.all().delete()
    response = client.post(
        "/api/v1/adx?pack=demo-county-2022", exported.content,
        content_type="application/adx+xml", **headers,
    )  # fmt: skip
    assert response.status_code == 200, response.json()
    assert _stored() == before


def test_adx_schema_refuses_an_unknown_element(client, alice, stored, bearer):
    before = snapshot()
    body = f"""<?xml version="1.0"?>
<adx xmlns="{adx.NS}" exported="2025-01-01T00:00:00">
  <group orgUnit="640323100001" period="2024-01-01/P1M" dataSet="core">
    <dataValue dataElement="no_such_element" value="3"/>
  </group>
</adx>"""
    response = client.post(
        "/api/v1/adx", body.encode(), content_type="application/adx+xml", **bearer(alice)
    )
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "adx", 4, "dataElement"]
    assert snapshot() == before


def test_adx_refuses_a_period_that_is_not_a_whole_month(client, alice, stored, bearer):
    body = f"""<adx xmlns="{adx.NS}" exported="2025-01-01T00:00:00">
  <group orgUnit="640323100001" period="2024-01-15/P1M" dataSet="core">
    <dataValue dataElement="total_visits" value="3"/>
  </group>
</adx>"""
    response = client.post(
        "/api/v1/adx", body.encode(), content_type="application/adx+xml", **bearer(alice)
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "adx", 2, "period"]


def test_adx_never_resolves_entities(client, alice, stored, bearer):
    body = f"""<?xml version="1.0"?>
<!DOCTYPE adx [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<adx xmlns="{adx.NS}" exported="2025-01-01T00:00:00">
  <group orgUnit="640323100001" period="2024-01-01/P1M" dataSet="&x;">
    <dataValue dataElement="total_visits" value="3"/>
  </group>
</adx>"""
    before = snapshot()
    response = client.post(
        "/api/v1/adx", body.encode(), content_type="application/adx+xml", **bearer(alice)
    )
    assert response.status_code == 422
    assert (
        response.json()["detail"][0]["msg"]
        == "ADX，第 4 行：不允许使用实体（不读取文档以外的任何内容）"
    )
    assert snapshot() == before


def test_adx_periods_round_trip():
    for code in ("2024", "2024Q3", "202411"):
        assert adx.from_adx_period(adx.to_adx_period(code)) == code
    assert adx.to_adx_period("2024Q2") == "2024-04-01/P3M"


def test_the_mapping_command_loads_yaml(tmp_path, catalogue):
    from django.core.management import call_command

    from xinglin.api.mapping import CodeMap

    path = tmp_path / "mapping.yaml"
    path.write_text(
        'elements:\n  total_visits: fClA2Erf6IO\norgunits:\n  "640323100001": DiszpKrYNg8\n'
    )
    call_command("load_code_mapping", str(path))
    codes = CodeMap.load()
    assert codes.element_out("total_visits") == "fClA2Erf6IO"
    assert codes.orgunit_in("DiszpKrYNg8") == "640323100001"
    assert codes.element_out("tcm_visits") == "tcm_visits"


def test_an_export_over_the_limit_asks_for_narrower_filters(
    client, alice, stored, bearer, monkeypatch
):
    from xinglin.api.routes import interchange

    monkeypatch.setattr(interchange, "MAX_EXPORT", 3)
    response = client.get("/api/v1/dataValueSets", **bearer(alice))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query"]
    narrow = client.get("/api/v1/dataValueSets", {"orgunit": "640323101"}, **bearer(alice))
    assert len(narrow.json()["dataValues"]) == 2


def test_adx_export_is_scoped(client, carol, stored, bearer):
    document = etree.fromstring(client.get("/api/v1/adx", **bearer(carol)).content)
    groups = document.findall(f"{{{adx.NS}}}group")
    assert {g.get("orgUnit") for g in groups} == {"640323100001"}
    assert sum(len(g) for g in groups) == 4


def test_adx_import_outside_scope_changes_nothing(client, carol, stored, bearer):
    before = snapshot()
    body = f"""<adx xmlns="{adx.NS}" exported="2025-01-01T00:00:00">
  <group orgUnit="640323101001" period="2024-03-01/P1M" dataSet="core">
    <dataValue dataElement="total_visits" value="3"/>
  </group>
</adx>"""
    response = client.post(
        "/api/v1/adx", body.encode(), content_type="application/adx+xml", **bearer(carol)
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "adx", 3, "value"]
    assert snapshot() == before
