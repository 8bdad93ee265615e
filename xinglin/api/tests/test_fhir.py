"""The FHIR face against HL7's rules: every resource validates with fhir.resources (R4B
models) and each HL7 invariant the issue names is asserted — criteria derived from the pack,
no empty arrays, units on scores, a score or a data-absent reason on every report, canonical
URLs from settings, metadata, read by id, searchset bundles with fullUrl, the standard
search parameters, OperationOutcome errors, published StructureDefinitions. HL7's own
examples (tests/data/hl7, see SOURCE.md) are read with the same models and compared."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.test import override_settings
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.measure import Measure
from fhir.resources.R4B.measurereport import MeasureReport
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.structuredefinition import StructureDefinition

from xinglin.api.formats import fhir
from xinglin.collection.testing import store_facts
from xinglin.evaluation import exports
from xinglin.evaluation.engine import evaluate
from xinglin.network.models import OrgUnit
from xinglin.standards import expressions as ex
from xinglin.standards.loader import all_packs
from xinglin.standards.models import DataElement

HL7 = Path(__file__).parent / "data" / "hl7"
BASE = "https://fhir.county.example/xl/fhir/"
PACK = "demo-county-2022"
QUERY = {"pack": PACK, "orgunit": "640323100", "period": "2024"}
SHARE = "grassroots.tcm_visit_share"
# HL7 value sets (fhir.resources does not check required bindings)
MEASURE_REPORT_STATUS = {"complete", "pending", "error"}
MEASURE_POPULATION = {
    "initial-population", "numerator", "numerator-exclusion", "denominator",
    "denominator-exclusion", "denominator-exception", "measure-population",
    "measure-population-exclusion", "measure-observation",
}  # fmt: skip
ISSUE_TYPE = {"invalid", "structure", "required", "value", "invariant", "security", "login",
              "unknown", "expired", "forbidden", "suppressed", "processing", "not-supported",
              "duplicate", "multiple-matches", "not-found", "deleted", "too-long",
              "code-invalid", "extension", "too-costly", "business-rule", "conflict",
              "transient", "lock-error", "no-store", "exception", "timeout", "incomplete",
              "throttled", "informational"}  # fmt: skip
DATA_ABSENT_REASON = {"unknown", "asked-unknown", "temp-unknown", "not-asked", "asked-declined",
                      "masked", "not-applicable", "unsupported", "as-text", "error",
                      "not-a-number", "negative-infinity", "positive-infinity", "not-performed",
                      "not-permitted"}  # fmt: skip


def _hl7(name: str) -> dict:
    return json.loads((HL7 / name).read_text())


def _empty_arrays(value, path="") -> list[str]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _empty_arrays(v, f"{path}.{k}")]
    if isinstance(value, list):
        if not value:
            return [path]
        return [p for i, v in enumerate(value) for p in _empty_arrays(v, f"{path}[{i}]")]
    return []


@pytest.fixture
def fhir_base(settings):
    settings.XINGLIN_FHIR_BASE = BASE.rstrip("/")  # the trailing slash is added
    return BASE


def _get(client, path, query=None, **headers):
    return client.get(f"/api/v1/fhir/{path}", query or {}, **headers)


def _reports(client, headers, query=QUERY) -> tuple[dict, list[MeasureReport]]:
    response = _get(client, "MeasureReport", query, **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/fhir+json"
    document = response.json()
    Bundle.model_validate(document)
    entries = document.get("entry", [])  # an empty searchset has no entry (no empty arrays)
    return document, [MeasureReport.model_validate(e["resource"]) for e in entries]


def test_reports_are_a_searchset_with_full_urls_and_valid_reports(
    client, bob, stored, bearer, fhir_base
):
    document, reports = _reports(client, bearer(bob))
    assert document["type"] == "searchset"
    assert document["total"] == len(reports) > 0
    for entry, report in zip(document["entry"], reports, strict=True):
        assert entry["fullUrl"] == f"{BASE}MeasureReport/{report.id}"
        assert entry["search"]["mode"] == "match"
        assert report.status in MEASURE_REPORT_STATUS
        assert report.measure.startswith(f"{BASE}Measure/")
    assert _empty_arrays(document) == []


def test_every_report_has_a_score_or_the_reason_it_has_none(client, bob, stored, bearer):
    document, reports = _reports(client, bearer(bob))
    rows = {
        (r["indicator"], r["orgunit"]): r
        for r in exports.as_rows(evaluate(PACK, "640323100", "2024").results)
    }
    for report in reports:
        [group] = report.group
        row = rows[(group.code.coding[0].code, report.subject.identifier.value)]
        score = group.measureScore
        assert score is not None, report.id
        if row["value"] is None:
            [absent] = score.extension
            assert absent.url == fhir.DATA_ABSENT
            assert absent.valueCode in DATA_ABSENT_REASON
        else:
            assert float(score.value) == row["value"]
            assert score.extension is None
    reasons = {r.group[0].measureScore.extension[0].valueCode for r in reports
               if r.group[0].measureScore.extension}  # fmt: skip
    assert reasons  # the fixture has indicators without data: their reports say why


def test_populations_follow_the_engine_and_the_measure(client, bob, stored, bearer):
    query = {**QUERY, "indicator": SHARE, "at": "640323100001"}
    _document, [report] = _reports(client, bearer(bob), query)
    assert report.status == "complete"
    [group] = report.group
    assert float(group.measureScore.value) == 0.375
    assert (group.measureScore.system, group.measureScore.code) == (
        "http://unitsofmeasure.org",
        "1",
    )
    assert [(p.code.coding[0].code, p.count) for p in group.population] == [
        ("initial-population", 1200),
        ("denominator", 1200),
        ("numerator", 450),
    ]
    read = _get(client, f"Measure/{report.measure.rsplit('/', 1)[1]}", **bearer(bob))
    measure = Measure.model_validate(read.json())
    assert measure.url == report.measure
    measure_codes = [p.code.coding[0].code for p in measure.group[0].population]
    assert measure_codes == [p.code.coding[0].code for p in group.population]


def test_a_per_10000_score_carries_its_unit(client, alice, stored, bearer):
    elements = {e.code: e for e in DataElement.objects.filter(code="tcm_general_practitioners")}
    unit = OrgUnit.objects.get(code="640323100001")
    store_facts([(elements["tcm_general_practitioners"], unit, "2024", 14.0)])
    query = {"pack": PACK, "orgunit": "640323100", "period": "2024",
             "indicator": "workforce.tcm_gp_density", "at": "640323100"}  # fmt: skip
    _document, [report] = _reports(client, bearer(alice), query)
    score = report.group[0].measureScore
    assert (score.unit, score.system, score.code) == (
        "per 10,000",
        "http://unitsofmeasure.org",
        "/10*4",
    )
    assert float(score.value) == pytest.approx(14 * 10000 / 45210, abs=1e-4)


def test_measure_criteria_are_derived_from_the_pack_expressions(client, alice, catalogue, bearer):
    document = _get(client, "Measure", **bearer(alice)).json()
    Bundle.model_validate(document)
    indicators = {
        fhir.measure_id(p.code, i.id): i
        for p in all_packs().values()
        for i in p.indicators
        if i.is_computed
    }
    assert document["total"] == len(indicators)
    assert _empty_arrays(document) == []
    for entry in document["entry"]:
        measure = Measure.model_validate(entry["resource"])
        assert entry["fullUrl"] == measure.url
        indicator = indicators[measure.id]
        assert re.fullmatch(r"[A-Z]([A-Za-z0-9_]){0,254}", measure.name)  # HL7 invariant mea-0
        criteria = {p.code.coding[0].code: p.criteria for p in measure.group[0].population}
        assert set(criteria) <= MEASURE_POPULATION
        assert "initial-population" in criteria
        scoring = measure.scoring.coding[0].code
        if scoring in ("proportion", "ratio"):
            assert criteria["numerator"].expression != criteria["denominator"].expression
            if isinstance(indicator.expression, ex.Share):
                condition = indicator.expression.condition
                assert ex.parse(f"share({criteria['numerator'].expression})").condition == (
                    condition
                )
            else:
                numerator, denominator, _scale = ex.split(indicator.expression)
                assert ex.parse(criteria["numerator"].expression) == numerator
                assert ex.parse(criteria["denominator"].expression) == denominator
        else:
            assert scoring == "continuous-variable"
            observed = criteria["measure-observation"].expression
            assert ex.parse(observed) == indicator.expression


def test_urls_come_from_settings_never_the_host_header(client, bob, stored, bearer):
    # behind a proxy the request names an internal host: the URLs must not
    internal = {"XINGLIN_FHIR_BASE": "https://hub.example.cn/fhir/", "ALLOWED_HOSTS": ["app.lan"]}
    with override_settings(**internal):
        response = _get(client, "MeasureReport", QUERY, HTTP_HOST="app.lan", **bearer(bob))
    text = response.content.decode()
    assert response.status_code == 200
    assert "app.lan" not in text
    assert "https://hub.example.cn/fhir/Measure/" in text
    assert "https://hub.example.cn/fhir/MeasureReport/" in text


def test_metadata_is_a_capability_statement(client, db, fhir_base):
    response = _get(client, "metadata")  # no credentials needed
    assert response.status_code == 200
    statement = CapabilityStatement.model_validate(response.json())
    assert statement.fhirVersion == "4.0.1"
    assert statement.implementation.url == BASE
    resources = {r.type: r for r in statement.rest[0].resource}
    assert {"Measure", "MeasureReport", "StructureDefinition"} <= set(resources)
    params = {p.name: p.type for p in resources["MeasureReport"].searchParam}
    assert {k: params[k] for k in ("measure", "subject", "period", "status")} == {
        "measure": "reference", "subject": "reference", "period": "date", "status": "token",
    }  # fmt: skip
    assert _empty_arrays(response.json()) == []


def test_read_by_id_answers_the_report_of_the_search(client, bob, stored, bearer):
    headers = bearer(bob)
    document, _reports_found = _reports(client, headers)
    for entry in document["entry"][:6]:
        read = _get(client, f"MeasureReport/{entry['resource']['id']}", **headers)
        assert read.status_code == 200
        resource = read.json()
        MeasureReport.model_validate(resource)
        drop = {"date"}
        assert {k: v for k, v in resource.items() if k not in drop} == {
            k: v for k, v in entry["resource"].items() if k not in drop
        }
        measure = _get(client, f"Measure/{resource['measure'].rsplit('/', 1)[1]}", **headers)
        assert measure.status_code == 200
        assert measure.json()["url"] == resource["measure"]


@pytest.mark.parametrize(
    "period, years",
    [(["2024"], [2024]), (["2024-03-15"], [2024]), (["ge2023", "le2024"], [2023, 2024]),
     (["gt2023-12-31", "lt2025"], [2024]), (["gt2022", "lt2024-06-01"], [2023, 2024]),
     (["le2022", "ge2021-07"], [2021, 2022]), (["eq2024-02"], [2024])],
)  # fmt: skip
def test_search_by_measure_subject_and_period(client, bob, stored, bearer, period, years):
    measure = f"http://localhost:8000/api/v1/fhir/Measure/{fhir.measure_id(PACK, SHARE)}"
    query = {"measure": measure, "subject": "Location/640323100001", "period": period}
    document, reports = _reports(client, bearer(bob), query)
    assert document["total"] == len(years)
    assert [r.period.start.year for r in reports] == years
    for report in reports:
        assert report.subject.identifier.value == "640323100001"
        assert report.measure == measure
    report_2024 = next((r for r in reports if r.period.start.year == 2024), None)
    if report_2024:
        assert float(report_2024.group[0].measureScore.value) == 0.375


def test_search_by_subject_identifier_and_status(client, bob, stored, bearer):
    measure = fhir.measure_id(PACK, SHARE)
    base = {"measure": measure, "subject:identifier": "urn:xinglin:orgunit|640323100001",
            "period": "2024"}  # fmt: skip
    _doc, complete = _reports(client, bearer(bob), {**base, "status": "complete"})
    _doc, pending = _reports(client, bearer(bob), {**base, "status": "pending,error"})
    assert [r.status for r in complete] == ["complete"]
    assert pending == []


@pytest.mark.parametrize(
    "query, status, code",
    [({"pack": PACK, "subject": "640323100001"}, 400, "required"),
     ({"pack": PACK, "period": "March"}, 400, "value"),
     ({"pack": PACK, "period": "2024", "colour": "red"}, 400, "not-supported"),
     ({"pack": PACK, "period": "2024", "status": "done"}, 400, "value"),
     ({"period": "2024"}, 400, "required"),
     ({"pack": PACK, "period": "ge2000"}, 400, "too-costly"),
     ({"pack": PACK, "period": "2024", "subject": "640323101001"}, 404, "not-found"),
     ({"pack": "no-such-pack", "period": "2024"}, 404, "not-found")],
)  # fmt: skip
def test_errors_are_operation_outcomes(client, bob, stored, bearer, query, status, code):
    response = _get(client, "MeasureReport", query, **bearer(bob))
    assert response.status_code == status
    assert response["Content-Type"] == "application/fhir+json"
    outcome = OperationOutcome.model_validate(response.json())
    [issue] = outcome.issue
    assert (issue.severity, issue.code) == ("error", code)
    assert issue.code in ISSUE_TYPE and issue.details.text


def test_a_call_without_credentials_is_a_401_outcome(client, stored):
    response = _get(client, "MeasureReport", {"pack": PACK, "period": "2024"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert OperationOutcome.model_validate(response.json()).issue[0].code == "login"
    # the rest of the API keeps its JSON errors
    assert client.get("/api/v1/values").json() == {"detail": "authentication required"}


@pytest.mark.parametrize("path", ["MeasureReport/nope.640323100001.2024", "Measure/nope",
                                  "StructureDefinition/nope"])  # fmt: skip
def test_reading_what_does_not_exist_is_a_404_outcome(client, bob, stored, bearer, path):
    response = _get(client, path, **bearer(bob))
    assert response.status_code == 404
    assert OperationOutcome.model_validate(response.json()).issue[0].code == "not-found"


def test_a_report_outside_scope_is_not_found(client, carol, dave, stored, bearer):
    report_id = fhir.report_id(PACK, SHARE, "640323100001", "2024")
    assert _get(client, f"MeasureReport/{report_id}", **bearer(carol)).status_code == 200
    assert _get(client, f"MeasureReport/{report_id}", **bearer(dave)).status_code == 404


def test_extensions_are_published_as_structure_definitions(client, bob, stored, bearer, fhir_base):
    _document, reports = _reports(client, bearer(bob))
    urls = {e.url for r in reports for e in r.extension}
    assert urls == {
        f"{BASE}StructureDefinition/evaluation-status",
        f"{BASE}StructureDefinition/target",
    }
    for url in urls:
        response = _get(client, url[len(BASE) :])
        assert response.status_code == 200
        definition = StructureDefinition.model_validate(response.json())
        assert definition.url == url
        assert (definition.type, definition.derivation) == ("Extension", "constraint")
        assert definition.context[0].expression == "MeasureReport"
    listing = Bundle.model_validate(_get(client, "StructureDefinition").json())
    assert {e.fullUrl for e in listing.entry} == urls


# ---- against HL7's own examples ----------------------------------------------------------


@pytest.mark.parametrize(
    "name, model",
    [("MeasureReport-measurereport-cms146-cat3-example.json", MeasureReport),
     ("MeasureReport-hiv-indicators.json", MeasureReport),
     ("Measure-measure-cms146-example.json", Measure),
     ("Measure-hiv-indicators.json", Measure),
     ("OperationOutcome-101.json", OperationOutcome),
     ("CapabilityStatement-measure-processor.json", CapabilityStatement)],
)  # fmt: skip
def test_the_hl7_examples_validate_with_the_models_we_test_with(name, model):
    model.model_validate(_hl7(name))


def test_our_summary_report_has_the_shape_of_hl7s(client, bob, stored, bearer):
    example = _hl7("MeasureReport-measurereport-cms146-cat3-example.json")
    query = {**QUERY, "indicator": SHARE, "at": "640323100001"}
    document, _reports_found = _reports(client, bearer(bob), query)
    ours = document["entry"][0]["resource"]
    for key in ("status", "type", "period", "group"):
        assert key in ours and key in example
    assert ours["type"] == example["type"] == "summary"
    # the proportion's populations are HL7's (without the exclusion we do not have)
    theirs = [p["code"]["coding"][0]["code"] for p in example["group"][0]["population"]]
    mine = [p["code"]["coding"][0]["code"] for p in ours["group"][0]["population"]]
    assert set(mine) == set(theirs) - {"denominator-exclusion"}
    assert all(isinstance(p["count"], int) for p in ours["group"][0]["population"])
    # HL7's proportion Measure has the same population codes as ours
    measure = _hl7("Measure-measure-cms146-example.json")
    codes = {p["code"]["coding"][0]["code"] for p in measure["group"][0]["population"]}
    assert set(mine) <= codes


def test_our_outcome_has_the_shape_of_hl7s(client, bob, stored, bearer):
    example = _hl7("OperationOutcome-101.json")
    ours = _get(client, "MeasureReport", {"pack": PACK}, **bearer(bob)).json()
    assert ours["resourceType"] == example["resourceType"]
    for key in ("severity", "code", "details"):
        assert key in ours["issue"][0] and key in example["issue"][0]
    assert ours["issue"][0]["details"]["text"]
