"""HL7 FHIR R4 `Measure` (an indicator of a pack) and `MeasureReport` (its result for one
org unit and year, a summary report). Values are the engine's: percentages as fractions.
Codes come from the HL7 value sets named beside each constant."""

from __future__ import annotations

import hashlib
import re

from django.utils import timezone

from xinglin.lib import periods
from xinglin.standards.loader import Pack, PackIndicator

FHIR_JSON = "application/fhir+json"
# http://hl7.org/fhir/R4/valueset-measure-scoring.html
SCORING = "http://terminology.hl7.org/CodeSystem/measure-scoring"
# http://hl7.org/fhir/R4/valueset-measure-population.html
POPULATION = "http://terminology.hl7.org/CodeSystem/measure-population"
# http://hl7.org/fhir/R4/valueset-measure-improvement-notation.html
IMPROVEMENT = "http://terminology.hl7.org/CodeSystem/measure-improvement-notation"
INDICATOR_SYSTEM = "urn:xinglin:indicator"
ORGUNIT_SYSTEM = "urn:xinglin:orgunit"
EXPRESSION_LANGUAGE = "text/x-xinglin-expression"
# the engine's statuses → http://hl7.org/fhir/R4/valueset-measure-report-status.html
# data_error: the figure cannot be true (a share above 100%, …), so the report is in error
REPORT_STATUS = {"no_data": "pending", "data_error": "error", "target_unset": "pending"}
_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def resource_id(*parts: str) -> str:
    """A FHIR id (letters, digits, '-', '.', at most 64) readable when it fits, else hashed."""
    text = ".".join(parts).replace("_", "-")
    if _ID.match(text):
        return text
    digest = hashlib.sha1(text.encode()).hexdigest()[:10]
    return f"{re.sub(r'[^A-Za-z0-9.-]', '-', text)[:53]}.{digest}"


def measure_id(pack: str, indicator: str) -> str:
    return resource_id(pack, indicator)


def _coding(system: str, code: str, display: str = "") -> dict:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def scoring(indicator: PackIndicator) -> str:
    """proportion (a share in 0..1), ratio (per 10 000, or a ratio), continuous-variable."""
    if indicator.unit == "percent":
        return "proportion"
    if indicator.unit in ("per_10000", "ratio"):
        return "ratio"
    return "continuous-variable"


def improvement(indicator: PackIndicator) -> str | None:
    target = indicator.target
    if target is None or target.op in ("=", "between"):
        return None
    return "increase" if target.op in (">=", ">") else "decrease"


def _populations(indicator: PackIndicator) -> list[dict]:
    criteria = {"language": EXPRESSION_LANGUAGE, "expression": indicator.value}
    if scoring(indicator) == "continuous-variable":
        codes = ["measure-population", "measure-observation"]
    else:
        codes = ["numerator", "denominator"]
    return [{"code": _coding(POPULATION, code), "criteria": criteria} for code in codes]


def measure(pack: Pack, indicator: PackIndicator, base: str) -> dict:
    """The Measure of one computed indicator; `base` is the FHIR base URL (ends with '/')."""
    mid = measure_id(pack.code, indicator.id)
    resource = {
        "resourceType": "Measure",
        "id": mid,
        "url": f"{base}Measure/{mid}",
        "identifier": [{"system": INDICATOR_SYSTEM, "value": f"{pack.code}/{indicator.id}"}],
        "version": pack.code,
        "name": re.sub(r"[^A-Za-z0-9]", "_", indicator.id).upper(),
        "title": indicator.name_zh,
        "subtitle": indicator.name_en or None,
        # http://hl7.org/fhir/R4/valueset-publication-status.html
        "status": "active",
        "publisher": "Xinglin",
        "description": indicator.text or indicator.name_zh,
        "scoring": _coding(SCORING, scoring(indicator)),
        "group": [
            {
                "code": _coding(INDICATOR_SYSTEM, indicator.id),
                "description": f"target {indicator.target.text}" if indicator.target else None,
                "population": _populations(indicator),
            }
        ],
    }
    if notation := improvement(indicator):
        resource["improvementNotation"] = _coding(IMPROVEMENT, notation)
    return _pruned(resource)


def measure_report(row: dict, pack: Pack, indicator: PackIndicator, base: str) -> dict:
    """The summary MeasureReport of one engine result (a row of `xinglin evaluate --format
    json`)."""
    year = periods.parse(row["period"])
    group = {
        "code": _coding(INDICATOR_SYSTEM, indicator.id),
        "population": _report_populations(row, indicator),
    }
    if row["value"] is not None:
        group["measureScore"] = {"value": row["value"]}
    resource = {
        "resourceType": "MeasureReport",
        "id": resource_id(pack.code, indicator.id, row["orgunit"], row["period"]),
        "extension": [
            {"url": f"{base}StructureDefinition/evaluation-status", "valueCode": row["status"]},
            {"url": f"{base}StructureDefinition/target", "valueString": row["target"]},
        ],
        "status": REPORT_STATUS.get(row["status"], "complete"),
        # http://hl7.org/fhir/R4/valueset-measure-report-type.html
        "type": "summary",
        "measure": f"{base}Measure/{measure_id(pack.code, indicator.id)}",
        "subject": {
            "type": "Location",
            "identifier": {"system": ORGUNIT_SYSTEM, "value": row["orgunit"]},
            "display": row.get("orgunit_name") or row["orgunit"],
        },
        "date": timezone.now().replace(microsecond=0).isoformat(),
        "reporter": {"display": "Xinglin"},
        "period": {"start": year.start.isoformat(), "end": year.end.isoformat()},
        "group": [group],
    }
    if notation := improvement(indicator):
        resource["improvementNotation"] = _coding(IMPROVEMENT, notation)
    return resource


def _report_populations(row: dict, indicator: PackIndicator) -> list[dict]:
    """Counts of the numerator and denominator when they are whole numbers (FHIR's count is
    an integer; a sum of fractional figures has no population count)."""
    if scoring(indicator) == "continuous-variable":
        return []
    result = []
    for code in ("numerator", "denominator"):
        figure = row.get(code)
        if figure is not None and float(figure).is_integer():
            result.append({"code": _coding(POPULATION, code), "count": int(figure)})
    return result


def bundle(resources: list[dict]) -> dict:
    # http://hl7.org/fhir/R4/valueset-bundle-type.html
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": timezone.now().replace(microsecond=0).isoformat(),
        "entry": [{"resource": r} for r in resources],
    }


def _pruned(value):
    if isinstance(value, dict):
        return {k: _pruned(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value
