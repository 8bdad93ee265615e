"""What the FHIR face says about itself: the CapabilityStatement (`/fhir/metadata`) and the
StructureDefinitions of our two MeasureReport extensions."""

from __future__ import annotations

from django.utils import timezone

from xinglin.api.formats.fhir import FHIR_JSON, FHIR_VERSION, pruned

# id → (value type, title, definition). The statuses are the engine's (evaluation.results).
EXTENSIONS = {
    "evaluation-status": (
        "code",
        "Xinglin evaluation status",
        (
            "The engine's verdict on the indicator for this org unit and year: met, not_met, "
            "no_data (nothing reported), not_applicable, awaiting_evidence or data_error (the "
            "figure cannot be true, e.g. a share above 100%)."
        ),
    ),
    "target": (
        "string",
        "Xinglin indicator target",
        (
            "The target the pack sets for the indicator, as the pack writes it (e.g. '>= 35%', "
            "'between 0.6 and 0.8'); percentages compare with the score as fractions."
        ),
    ),
}

# name → (type, documentation) of the search parameters of MeasureReport
REPORT_SEARCH = {
    "measure": ("reference", "The Measure: its canonical URL or its id"),
    "subject": (
        "reference",
        (
            "The org unit: Location/<code>, <code>, or (with :identifier) urn:xinglin:orgunit|<code>;"
            " default: the caller's top org units"
        ),
    ),
    "period": ("date", "The year(s) reported: a date or year, with prefixes eq, ge, le, gt, lt"),
    "status": ("token", "complete | pending | error (comma-separated: any of them)"),
    "pack": ("token", "Xinglin: every Measure of a pack (instead of measure)"),
    "orgunit": ("token", "Xinglin: the org unit and every org unit beneath it"),
    "indicator": ("token", "Xinglin: one indicator of the pack"),
    "at": ("token", "Xinglin: with orgunit, only the reports of this org unit"),
}
MEASURE_SEARCH = {
    "pack": ("token", "Xinglin: the Measures of a pack"),
    "_id": ("token", "The Measure's id"),
    "url": ("uri", "The Measure's canonical URL"),
}


def _params(table: dict) -> list[dict]:
    return [
        {"name": name, "type": kind, "documentation": text} for name, (kind, text) in table.items()
    ]


def capability_statement(base: str) -> dict:
    read_search = [{"code": "read"}, {"code": "search-type"}]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": timezone.now().replace(microsecond=0).isoformat(),
        "publisher": "Xinglin",
        "kind": "instance",
        "software": {"name": "Xinglin"},
        "implementation": {"description": "Xinglin indicators as FHIR Measures", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": [FHIR_JSON, "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Read-only. Every call acts as one user, scoped as on the web.",
                "security": {
                    "description": "Authorization: Bearer xl_… (a personal token, created on "
                    "/api/tokens/); metadata and StructureDefinitions need none."
                },
                "resource": [
                    {
                        "type": "Measure",
                        "interaction": read_search,
                        "searchParam": _params(MEASURE_SEARCH),
                    },
                    {
                        "type": "MeasureReport",
                        "interaction": read_search,
                        "searchParam": _params(REPORT_SEARCH),
                    },
                    {"type": "StructureDefinition", "interaction": read_search},
                ],
            }
        ],
    }


def structure_definition(sid: str, base: str) -> dict:
    """The StructureDefinition of one of our extensions (KeyError for another id)."""
    value_type, title, definition = EXTENSIONS[sid]
    url = f"{base}StructureDefinition/{sid}"
    return pruned(
        {
            "resourceType": "StructureDefinition",
            "id": sid,
            "url": url,
            "name": "".join(part.capitalize() for part in sid.split("-")),
            "title": title,
            "status": "active",
            "publisher": "Xinglin",
            "description": definition,
            "fhirVersion": FHIR_VERSION,
            "kind": "complex-type",
            "abstract": False,
            "context": [{"type": "element", "expression": "MeasureReport"}],
            "type": "Extension",
            "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
            "derivation": "constraint",
            "differential": {
                "element": [
                    {
                        "id": "Extension",
                        "path": "Extension",
                        "short": title,
                        "definition": definition,
                        "min": 0,
                        "max": "1",
                    },
                    {"id": "Extension.extension", "path": "Extension.extension", "max": "0"},
                    {"id": "Extension.url", "path": "Extension.url", "fixedUri": url},
                    {
                        "id": "Extension.value[x]",
                        "path": "Extension.value[x]",
                        "min": 1,
                        "type": [{"code": value_type}],
                    },
                ]
            },
        }
    )
