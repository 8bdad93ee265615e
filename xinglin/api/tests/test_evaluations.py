from __future__ import annotations

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.measure import Measure
from fhir.resources.R4B.measurereport import MeasureReport

from xinglin.evaluation import exports
from xinglin.evaluation.engine import evaluate

# The HL7 value sets of the codes we write (fhir.resources does not check required bindings).
MEASURE_REPORT_STATUS = {"complete", "pending", "error"}  # valueset-measure-report-status
MEASURE_REPORT_TYPE = {"individual", "subject-list", "summary", "data-collection"}
MEASURE_SCORING = {"proportion", "ratio", "continuous-variable", "cohort"}
MEASURE_POPULATION = {
    "initial-population", "numerator", "numerator-exclusion", "denominator",
    "denominator-exclusion", "denominator-exception", "measure-population",
    "measure-population-exclusion", "measure-observation",
}  # fmt: skip
IMPROVEMENT_NOTATION = {"increase", "decrease"}
PUBLICATION_STATUS = {"draft", "active", "retired", "unknown"}
BUNDLE_TYPE = {"document", "message", "transaction", "transaction-response", "batch",
               "batch-response", "history", "searchset", "collection"}  # fmt: skip

QUERY = {"pack": "demo-county-2022", "orgunit": "640323100", "period": "2024"}


def test_evaluations_are_the_engine_json(client, bob, stored, bearer):
    response = client.get("/api/v1/evaluations", {**QUERY, "limit": 1000}, **bearer(bob))
    assert response.status_code == 200
    body = response.json()
    expected = exports.as_rows(evaluate("demo-county-2022", "640323100", "2024").results)
    assert body["count"] == len(expected)
    assert body["items"] == expected
    share = next(
        r for r in body["items"]
        if r["indicator"] == "grassroots.tcm_visit_share" and r["orgunit"] == "640323100001"
    )  # fmt: skip
    assert (share["value"], share["numerator"], share["denominator"]) == (0.375, 450.0, 1200.0)


def test_evaluations_outside_scope_are_404(client, carol, dave, stored, bearer):
    response = client.get("/api/v1/evaluations", QUERY, **bearer(dave))
    assert response.status_code == 404


@pytest.mark.parametrize("field, value", [("pack", "no-such-pack"), ("period", "2024Q1")])
def test_evaluation_of_unknown_pack_or_period_is_404(client, bob, stored, bearer, field, value):
    response = client.get("/api/v1/evaluations", {**QUERY, field: value}, **bearer(bob))
    assert response.status_code == 404


def test_measure_reports_are_valid_fhir(client, bob, stored, bearer):
    response = client.get("/api/v1/fhir/MeasureReport", QUERY, **bearer(bob))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    document = response.json()
    bundle = Bundle.model_validate(document)
    assert bundle.type in BUNDLE_TYPE
    rows = [r for r in exports.as_rows(evaluate("demo-county-2022", "640323100", "2024").results)
            if r["kind"] == "computed"]  # fmt: skip
    reports = [MeasureReport.model_validate(e["resource"]) for e in document["entry"]]
    assert len(reports) == len(rows)
    assert len({r.id for r in reports}) == len(reports)
    for report, row in zip(reports, rows, strict=True):
        assert report.status in MEASURE_REPORT_STATUS
        assert report.type in MEASURE_REPORT_TYPE
        assert report.subject.identifier.value == row["orgunit"]
        assert (str(report.period.start), str(report.period.end)) == ("2024-01-01", "2024-12-31")
        [group] = report.group
        assert group.code.coding[0].code == row["indicator"]
        score = group.measureScore.value if group.measureScore else None
        assert (float(score) if score is not None else None) == row["value"]
        for population in group.population or []:
            assert population.code.coding[0].code in MEASURE_POPULATION
            assert population.count == row[population.code.coding[0].code]
        if report.improvementNotation:
            assert report.improvementNotation.coding[0].code in IMPROVEMENT_NOTATION


def test_each_report_refers_to_a_valid_measure(client, bob, stored, bearer):
    headers = bearer(bob)
    query = {**QUERY, "indicator": "grassroots.tcm_visit_share", "at": "640323100001"}
    document = client.get("/api/v1/fhir/MeasureReport", query, **headers).json()
    [entry] = document["entry"]
    report = MeasureReport.model_validate(entry["resource"])
    assert report.status == "complete"
    assert float(report.group[0].measureScore.value) == 0.375
    assert [(p.code.coding[0].code, p.count) for p in report.group[0].population] == [
        ("numerator", 450),
        ("denominator", 1200),
    ]
    path = report.measure.split("/api/v1/", 1)[1]
    measure = Measure.model_validate(client.get(f"/api/v1/{path}", **headers).json())
    assert measure.url == report.measure
    assert measure.status in PUBLICATION_STATUS
    assert measure.scoring.coding[0].code == "proportion"
    assert measure.improvementNotation.coding[0].code == "increase"
    for population in measure.group[0].population:
        assert population.code.coding[0].code in MEASURE_POPULATION


def test_every_measure_of_every_pack_is_valid(client, alice, catalogue, bearer):
    from xinglin.standards.loader import all_packs

    headers = bearer(alice)
    for code in all_packs():
        document = client.get("/api/v1/fhir/Measure", {"pack": code}, **headers).json()
        for entry in Bundle.model_validate(document).entry:
            measure = Measure.model_validate(entry.resource.model_dump())
            assert measure.scoring.coding[0].code in MEASURE_SCORING
            assert len(measure.id) <= 64
