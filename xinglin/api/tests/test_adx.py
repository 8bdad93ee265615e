"""ADX as IHE describes it: IHE's own samples (tests/data/ihe, see SOURCE.md) validate against
our generated schema and IHE's loose schema; group extensions are read, disaggregation and
attribute dimensions are refused by name; errors read "file, line: what is wrong" in the
user's language, never libxml's schema dump."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import translation
from lxml import etree

from xinglin.api.formats import adx
from xinglin.api.mapping import CodeMap
from xinglin.api.tests.conftest import snapshot

DATA = Path(__file__).parent / "data" / "ihe"
SAMPLES = ["adx_data_sample1.xml", "adx_data_sample1_2017.xml"]
MALARIA = ("MAL01", "MAL02", "MAL03", "MAL04")


def _loose() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(DATA / "adx_loose.xsd")))


@pytest.mark.parametrize("name", SAMPLES)
def test_ihe_samples_validate_against_the_generated_schema(name):
    schema = etree.XMLSchema(etree.fromstring(adx.schema_document(MALARIA)))
    document = etree.parse(str(DATA / name))
    assert schema.validate(document), schema.error_log
    # and IHE's own loose schema agrees that the sample is ADX
    assert _loose().validate(document)


def test_the_generated_schema_is_open_where_the_profile_is():
    schema = etree.fromstring(adx.schema_document(MALARIA))
    xs = {"xs": "http://www.w3.org/2001/XMLSchema"}
    open_types = {
        (node.getparent().get("name") or node.getparent().getparent().get("name"))
        for node in schema.iterfind(".//xs:anyAttribute", xs)
    }
    assert open_types == {"dataValueType", "groupType", "adx"}


def test_our_export_validates_against_ihe_loose_schema(client, alice, stored, bearer):
    exported = client.get("/api/v1/adx", **bearer(alice))
    assert exported.status_code == 200
    _loose().assertValid(etree.fromstring(exported.content))


@pytest.mark.parametrize("name", SAMPLES)
def test_ihe_sample_disaggregation_and_mechanism_are_refused_by_name(name):
    parsed = adx.parse((DATA / name).read_bytes(), CodeMap(), element_codes=MALARIA)
    fields = {p.location.field for p in parsed.problems}
    # sex and ageGroup split MAL04, which has no categories; mechanism is an attribute
    # dimension Xinglin does not keep: each named, none dropped silently
    assert fields == {"sex", "ageGroup", "mechanism"}
    sex = next(p for p in parsed.problems if p.location.field == "sex")
    assert "MAL04" in sex.message and "sex" in sex.message and "“M”" in sex.message
    assert sex.location.row == 10  # the first MAL04 of the first group
    assert len([p for p in parsed.problems if p.location.field == "sex"]) == 8  # none dropped
    # dataSetComplete, comment, dataSet, xsi:schemaLocation and annotation are accepted
    assert not fields & {"dataSetComplete", "comment", "dataSet", "schemaLocation"}


def _group(extra: str = "", value_extra: str = "", element: str = "total_visits") -> bytes:
    return f"""<?xml version="1.0"?>
<adx xmlns="{adx.NS}" xmlns:v="urn:example:vendor" exported="2025-01-01T00:00:00" v:batch="7">
  <group orgUnit="640323100001" period="2024-03-01/P1M" {extra}>
    <dataValue dataElement="{element}" value="5" {value_extra}/>
  </group>
</adx>""".encode()


def test_group_extensions_are_accepted_and_values_stored(client, alice, stored, bearer):
    body = _group('dataSet="township_health_center.monthly" dataSetComplete="true" '
                  'comment="from the facility system" v:source="his"')  # fmt: skip
    response = client.post("/api/v1/adx", body, content_type="application/adx+xml", **bearer(alice))
    assert response.status_code == 200, response.json()
    assert response.json()["added"] == 1


def test_a_disaggregated_value_is_refused_naming_the_attribute(client, alice, stored, bearer):
    before = snapshot()
    response = client.post(
        "/api/v1/adx", _group(value_extra='SEX="F"'), content_type="application/adx+xml",
        **bearer(alice),
    )  # fmt: skip
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "adx", 4, "SEX"]
    assert "total_visits" in problem["msg"] and "SEX" in problem["msg"]
    assert snapshot() == before


def test_schema_errors_are_translated_without_the_enumeration(client, alice, stored, bearer):
    body = _group(element="no_such_element").replace(b'value="5"', b'value="five"')
    with translation.override("zh-hans"):
        parsed = adx.parse(body, CodeMap(), element_codes=("total_visits", "tcm_visits"))
    messages = [p.message for p in parsed.problems]
    assert [(p.location.row, p.location.field) for p in parsed.problems] == [
        (4, "dataElement"),
        (4, "value"),
    ]
    assert messages[0] == "ADX，第 4 行：“no_such_element”不是本系统已知的数据元"
    assert messages[1] == "ADX，第 4 行：“five”不是数字"
    assert not any("tcm_visits" in m or "facet" in m or "{" in m for m in messages)


def test_schema_errors_in_english_name_file_line_and_problem():
    body = b"""<adx xmlns="urn:ihe:qrph:adx:2015" exported="yesterday">
  <group period="2024-01/P1M"><dataValue dataElement="total_visits" value="1"/></group>
</adx>"""
    with translation.override("en"):
        parsed = adx.parse(body, CodeMap(), element_codes=("total_visits",), source="feed.xml")
    messages = {p.location.field: p.message for p in parsed.problems}
    assert messages == {
        "exported": "feed.xml, line 1: “yesterday” is not a date and time (2025-01-31T08:00:00)",
        "orgUnit": "feed.xml, line 2: group has no orgUnit attribute",
        "period": "feed.xml, line 2: “2024-01/P1M” is not a year, quarter or month written as "
        "start/duration (2024-01-01/P1Y, 2024-04-01/P3M, 2024-03-01/P1M)",
    }


def test_a_document_that_is_not_adx_or_not_xml_is_named_as_such():
    with translation.override("en"):
        other = adx.parse(b"<dataValueSet/>", CodeMap(), element_codes=("total_visits",))
        broken = adx.parse(b"<adx>\n<group>", CodeMap(), element_codes=("total_visits",))
    assert [p.message for p in other.problems] == [
        "ADX, line 1: this is not an ADX document (the root must be adx in urn:ihe:qrph:adx:2015)"
    ]
    assert [p.message for p in broken.problems] == ["ADX, line 2: this is not well-formed XML"]
