"""Comments through the API (issue 18.6): the values endpoint, DHIS2 dataValueSets `comment`
and the ADX annotation are stored, and given back on export."""

from __future__ import annotations

import json

import pytest
from lxml import etree

from xinglin.api.formats import adx
from xinglin.collection.models import DataValue

pytestmark = pytest.mark.usefixtures("county", "catalogue")
HMC = "640323100001"


def _row(element: str) -> DataValue | None:
    return DataValue.objects.filter(
        orgunit__code=HMC, period="202401", element__code=element
    ).first()


def test_the_api_takes_and_gives_comments(client, carol, bearer):
    headers = bearer(carol)
    body = {"values": [{"element": "total_visits", "orgunit": HMC, "period": "202401",
                        "value": 1200, "comment": "门诊系统导出"}]}  # fmt: skip
    response = client.post(
        "/api/v1/values", json.dumps(body), content_type="application/json", **headers
    )
    assert response.status_code == 200, response.content
    assert _row("total_visits").comment == "门诊系统导出"
    listed = client.get("/api/v1/values", {"orgunit": HMC}, **headers).json()["items"]
    assert [v["comment"] for v in listed] == ["门诊系统导出"]
    sets = client.get("/api/v1/dataValueSets", {"orgunit": HMC}, **headers).json()
    assert [v.get("comment") for v in sets["dataValues"]] == ["门诊系统导出"]


def test_dhis2_comment_and_adx_annotation_are_stored(client, carol, bearer):
    headers = bearer(carol)
    entry = {"dataElement": "total_visits", "orgUnit": HMC, "period": "202401", "value": "90"}
    response = client.post(
        "/api/v1/dataValueSets",
        json.dumps({"dataValues": [entry | {"comment": "DHIS2 备注"}]}),
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 200, response.content
    assert _row("total_visits").comment == "DHIS2 备注"
    body = f"""<?xml version="1.0"?>
<adx xmlns="{adx.NS}" exported="2025-01-01T00:00:00">
  <group orgUnit="{HMC}" period="2024-01-01/P1M" dataSet="core">
    <dataValue dataElement="tcm_visits" value="30"><annotation>ADX 注释</annotation></dataValue>
  </group>
</adx>"""
    response = client.post(
        "/api/v1/adx", body.encode(), content_type="application/adx+xml", **headers
    )
    assert response.status_code == 200, response.content
    assert _row("tcm_visits").comment == "ADX 注释"


def test_the_adx_export_carries_comments_as_annotations():
    from xinglin.api.formats import ExportValue
    from xinglin.api.mapping import CodeMap

    values = [ExportValue("total_visits", "number", HMC, "202401", 90.0, None, "备注")]
    document = etree.fromstring(adx.export(values, CodeMap(), element_codes=["total_visits"]))
    [note] = document.iter(f"{{{adx.NS}}}annotation")
    assert note.text == "备注"
