"""What the FHIR face says about itself: the CapabilityStatement (`/fhir/metadata`), the
StructureDefinitions of our two MeasureReport extensions and the CodeSystems of the categories
the stratifiers name (core.yaml `categories:`)."""

from __future__ import annotations

from django.utils import timezone

from xinglin.api.formats import fhir
from xinglin.api.formats.fhir import FHIR_JSON, FHIR_VERSION, pruned
from xinglin.standards import categories

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
CODE_SYSTEM_SEARCH = {
    "_id": ("token", "The CodeSystem's id"),
    "url": ("uri", "The CodeSystem's canonical URL (a stratifier's or stratum's system)"),
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
                    {
                        "type": "CodeSystem",
                        "interaction": read_search,
                        "searchParam": _params(CODE_SYSTEM_SEARCH),
                    },
                ],
            }
        ],
    }


def _computable_name(resource_id: str) -> str:
    """A conformance resource's computable `name` from its id (xinglin-categories ->
    XinglinCategories)."""
    return "".join(part.capitalize() for part in resource_id.split("-"))


def structure_definition(sid: str, base: str) -> dict:
    """The StructureDefinition of one of our extensions (KeyError for another id)."""
    value_type, title, definition = EXTENSIONS[sid]
    url = f"{base}StructureDefinition/{sid}"
    return pruned(
        {
            "resourceType": "StructureDefinition",
            "id": sid,
            "url": url,
            "name": _computable_name(sid),
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


def _concept(code: str, name_zh: str, name_en: str) -> dict:
    """A concept displayed in Chinese (the product's language) with its English name as a
    designation."""
    english = [{"language": "en", "value": name_en}] if name_en else None
    return {"code": code, "display": name_zh, "designation": english}


def _code_system(cid: str, url: str, title: str, description: str, concepts: list) -> dict:
    return pruned(
        {
            "resourceType": "CodeSystem",
            "id": cid,
            "url": url,
            "name": _computable_name(cid),
            "title": title,
            "status": "active",
            "publisher": "Xinglin",
            "description": description,
            "caseSensitive": True,
            "content": "complete",
            "count": len(concepts),
            "concept": concepts,
        }
    )


def code_systems(base: str) -> dict[str, dict]:
    """id → CodeSystem: the categories (sex, age band), and each category's options, from
    the catalogue (core.yaml `categories:`)."""
    catalogue = categories.catalogue()
    found = {
        fhir.CATEGORIES_ID: _code_system(
            fhir.CATEGORIES_ID,
            fhir.category_system(base),
            "Xinglin categories",
            "The categories a data element may be reported by (its values' disaggregation); "
            "the codes of MeasureReport stratifiers.",
            [_concept(c.code, c.name_zh, c.name_en) for c in catalogue.values()],
        )
    }
    for category in catalogue.values():
        cid = fhir.options_id(category)
        found[cid] = _code_system(
            cid,
            fhir.options_system(category, base),
            f"Xinglin options of {category.name_en or category.code}",
            f"The options of the category {category.code} ({category.name_zh}): the values "
            "of the strata of its stratifiers.",
            [_concept(o.code, o.name_zh, o.name_en) for o in category.options],
        )
    return found
