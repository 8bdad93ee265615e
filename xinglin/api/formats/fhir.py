"""HL7 FHIR R4 `Measure` (an indicator of a pack) and `MeasureReport` (its result for one
org unit and year, a summary report), with the Bundle, OperationOutcome, CapabilityStatement
and StructureDefinitions around them. Values are the engine's: percentages as fractions.
Population criteria are derived from the pack's expression by the engine's own split into
numerator and denominator (`expressions.split`), never kept by hand. No empty array is ever
written (FHIR forbids them): an element without content is left out.

An indicator whose numerator is split by a category (`categories.of_indicator`, decision 0015:
the key-population management counts by sex) has a stratifier per category: the Measure names
it, and a report gives a stratum per option with the engine's figure of that stratum
(`evaluate(..., stratum=...)`), never a sum made here."""

from __future__ import annotations

import hashlib
import re

from django.conf import settings
from django.utils import timezone

from xinglin.lib import periods
from xinglin.standards import categories
from xinglin.standards import expressions as ex
from xinglin.standards.categories import Category, Option
from xinglin.standards.loader import Pack, PackIndicator

FHIR_JSON = "application/fhir+json"
FHIR_VERSION = "4.0.1"
# http://hl7.org/fhir/R4/valueset-measure-scoring.html
SCORING = "http://terminology.hl7.org/CodeSystem/measure-scoring"
# http://hl7.org/fhir/R4/valueset-measure-population.html
POPULATION = "http://terminology.hl7.org/CodeSystem/measure-population"
# http://hl7.org/fhir/R4/valueset-measure-improvement-notation.html
IMPROVEMENT = "http://terminology.hl7.org/CodeSystem/measure-improvement-notation"
DATA_ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
UCUM = "http://unitsofmeasure.org"
INDICATOR_SYSTEM = "urn:xinglin:indicator"
ORGUNIT_SYSTEM = "urn:xinglin:orgunit"
EXPRESSION_LANGUAGE = "text/x-xinglin-expression"
# a stratifier's criteria: the code of the category whose option each value is reported with
CATEGORY_LANGUAGE = "text/x-xinglin-category"
# http://hl7.org/fhir/R4/codesystem-administrative-gender.html: the coding HL7 consumers
# expect for sex, given beside our own option code
ADMINISTRATIVE_GENDER = "http://hl7.org/fhir/administrative-gender"
HL7_OPTIONS = {("sex", "F"): ("female", "Female"), ("sex", "M"): ("male", "Male")}
CATEGORIES_ID = "xinglin-categories"  # our CodeSystem of the categories (sex, age band)
# the engine's statuses → http://hl7.org/fhir/R4/valueset-measure-report-status.html
# data_error: the figure cannot be true (a share above 100%, …), so the report is in error
REPORT_STATUS = {"no_data": "pending", "data_error": "error", "target_unset": "pending"}
# why a report has no score → http://hl7.org/fhir/R4/valueset-data-absent-reason.html
ABSENT_REASON = {"no_data": "unknown", "data_error": "error", "not_applicable": "not-applicable"}
# the unit of each indicator unit's score (UCUM where it has one; a level has none)
SCORE_UNITS = {
    "percent": {"unit": "proportion (1 = 100%)", "system": UCUM, "code": "1"},
    "ratio": {"unit": "ratio", "system": UCUM, "code": "1"},
    "per_10000": {"unit": "per 10,000", "system": UCUM, "code": "/10*4"},
    "count": {"unit": "count", "system": UCUM, "code": "{count}"},
}
_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_ORGUNIT = re.compile(r"^[A-Za-z0-9\-]{1,32}$")


def base_url() -> str:
    """The canonical base of every URL we write: settings.XINGLIN_FHIR_BASE, never the
    request's Host header."""
    return settings.XINGLIN_FHIR_BASE.rstrip("/") + "/"


def resource_id(*parts: str) -> str:
    """A FHIR id (letters, digits, '-', '.', at most 64) readable when it fits, else hashed."""
    text = ".".join(parts).replace("_", "-")
    if _ID.match(text):
        return text
    digest = hashlib.sha1(text.encode()).hexdigest()[:10]
    return f"{re.sub(r'[^A-Za-z0-9.-]', '-', text)[:53]}.{digest}"


def measure_id(pack: str, indicator: str) -> str:
    return resource_id(pack, indicator)


def _measure_digest(pack: str, indicator: str) -> str:
    return hashlib.sha1(f"{pack}/{indicator}".encode()).hexdigest()[:12]


def report_id(pack: str, indicator: str, orgunit: str, period: str) -> str:
    """`<measure digest>.<org unit>.<year>`: short enough for any pack and indicator, and read
    back by `parse_report_id`."""
    if _ORGUNIT.match(orgunit):
        return f"{_measure_digest(pack, indicator)}.{orgunit}.{period}"
    return resource_id("r", hashlib.sha1(f"{pack}/{indicator}/{orgunit}".encode()).hexdigest())


def parse_report_id(text: str, packs: dict[str, Pack]) -> tuple[Pack, PackIndicator, str, str]:
    """(pack, indicator, org unit code, year) of a report id; KeyError when it names none."""
    digest, _dot, rest = text.partition(".")
    orgunit, _dot, period = rest.rpartition(".")
    if not (orgunit and re.fullmatch(r"\d{4}", period)):
        raise KeyError(text)
    for pack in packs.values():
        for indicator in pack.indicators:
            if indicator.is_computed and _measure_digest(pack.code, indicator.id) == digest:
                return pack, indicator, orgunit, period
    raise KeyError(text)


def _coding(system: str, code: str, display: str = "") -> dict:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def _is_quotient(indicator: PackIndicator) -> bool:
    expression = indicator.expression
    return isinstance(expression, ex.Share) or ex.split(expression)[1] is not None


def scoring(indicator: PackIndicator) -> str:
    """proportion (a share in 0..1 of a numerator over a denominator), ratio (per 10 000, or a
    ratio of two figures), continuous-variable (a figure that is no quotient)."""
    if indicator.expression is None or not _is_quotient(indicator):
        return "continuous-variable"
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


def _criteria(expression: ex.Node | str, description: str) -> dict:
    text = expression if isinstance(expression, str) else ex.to_text(expression)
    return {"language": EXPRESSION_LANGUAGE, "expression": text, "description": description}


def _population(code: str, criteria: dict) -> dict:
    return {"code": _coding(POPULATION, code), "criteria": criteria}


def _covered(indicator: PackIndicator) -> dict:
    types = ", ".join(indicator.over)
    return _criteria("count()", f"the open institutions covered beneath the org unit ({types})")


def populations(indicator: PackIndicator) -> list[dict]:
    """The Measure's populations, from the indicator's expression: a share counts the covered
    institutions (denominator) meeting its condition (numerator); a quotient `a / b` or
    `per_10000(a, b)` has b as initial population and denominator and a as numerator; any
    other figure is a continuous variable observed on the org unit (or its institutions)."""
    expression = indicator.expression
    if isinstance(expression, ex.Share):
        covered = _covered(indicator)
        meeting = _criteria(expression.condition, "covered institutions meeting the condition")
        return [
            _population("initial-population", covered),
            _population("denominator", covered),
            _population("numerator", meeting),
        ]
    numerator, denominator, _scale = ex.split(expression)
    if denominator is not None and scoring(indicator) != "continuous-variable":
        base = _criteria(denominator, "the denominator's figure")
        return [
            _population("initial-population", base),
            _population("denominator", base),
            _population("numerator", _criteria(numerator, "the numerator's figure")),
        ]
    if indicator.over:
        population = _covered(indicator)
    else:
        population = _criteria(expression, "the org unit's own figure")
    observed = _criteria(expression, "the figure observed")
    return [
        _population("initial-population", population),
        _population("measure-population", population),
        _population("measure-observation", observed),
    ]


def category_system(base: str) -> str:
    """The canonical URL of our CodeSystem of categories."""
    return f"{base}CodeSystem/{CATEGORIES_ID}"


def options_id(category: Category) -> str:
    """The id of our CodeSystem of one category's options (`xinglin-category-age-band`)."""
    return resource_id("xinglin-category", category.code).replace(".", "-")


def options_system(category: Category, base: str) -> str:
    return f"{base}CodeSystem/{options_id(category)}"


def category_concept(category: Category, base: str) -> dict:
    """The category as a CodeableConcept (our CodeSystem; its name in the request's
    language)."""
    return {**_coding(category_system(base), category.code, category.name), "text": category.name}


def option_concept(category: Category, option: Option, base: str) -> dict:
    """An option as a CodeableConcept: HL7's AdministrativeGender coding first where it has
    one (sex), then ours; the option's name in the request's language as its text."""
    codings = []
    if hl7 := HL7_OPTIONS.get((category.code, option.code)):
        codings.append({"system": ADMINISTRATIVE_GENDER, "code": hl7[0], "display": hl7[1]})
    codings.append(
        {"system": options_system(category, base), "code": option.code, "display": option.name}
    )
    return {"coding": codings, "text": option.name}


def _split_elements(expression: ex.Node) -> str:
    numerator, _denominator, _scale = ex.split(expression)
    return ", ".join(ex.element_codes(numerator))


def measure_stratifiers(indicator: PackIndicator, base: str) -> list[dict]:
    """One stratifier per category of the indicator (`categories.of_indicator`): its code, and
    as criteria the category whose option each value of the numerator's elements carries."""
    expression = indicator.expression
    if expression is None:
        return []
    found = []
    for category in categories.categories_of(categories.of_indicator(expression)):
        elements = _split_elements(expression)
        if categories.scored_within(expression, category.code):
            scope = "each stratum has its own score"
        else:
            scope = "the denominator is not reported by it: strata give the numerator, no score"
        found.append(
            {
                "code": category_concept(category, base),
                "description": f"the numerator by {category.name_en or category.code}; {scope}",
                "criteria": {
                    "language": CATEGORY_LANGUAGE,
                    "expression": category.code,
                    "description": f"the option of {category.code} each value of {elements} "
                    "is reported with",
                },
            }
        )
    return found


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
                "population": populations(indicator),
                "stratifier": measure_stratifiers(indicator, base),
            }
        ],
    }
    if notation := improvement(indicator):
        resource["improvementNotation"] = _coding(IMPROVEMENT, notation)
    return pruned(resource)


def report_status(row: dict) -> str:
    return REPORT_STATUS.get(row["status"], "complete")


def score(indicator: PackIndicator, row: dict) -> dict:
    """The measureScore: the engine's value in its unit, or, without a value, the reason
    (a data-absent-reason extension), so that every report says one or the other."""
    if row["value"] is None:
        reason = ABSENT_REASON.get(row["status"], "unknown")
        return {"extension": [{"url": DATA_ABSENT, "valueCode": reason}]}
    return {"value": row["value"], **SCORE_UNITS.get(indicator.unit, {})}


# strata: category code -> option code -> the engine's row of the same indicator and org unit
# evaluated within that option (`evaluate(..., stratum={category: option})`)
Strata = dict[str, dict[str, dict]]


def measure_report(
    row: dict, pack: Pack, indicator: PackIndicator, base: str, strata: Strata | None = None
) -> dict:
    """The summary MeasureReport of one engine result (a row of `xinglin evaluate --format
    json`), with a stratifier per category of the indicator given in `strata`."""
    year = periods.parse(row["period"])
    group = {
        "code": _coding(INDICATOR_SYSTEM, indicator.id),
        "population": _report_populations(row, indicator),
        "measureScore": score(indicator, row),
        "stratifier": report_stratifiers(row, indicator, strata or {}, base),
    }
    extensions = [
        {"url": f"{base}StructureDefinition/evaluation-status", "valueCode": row["status"]},
        {"url": f"{base}StructureDefinition/target", "valueString": row["target"]},
    ]
    resource = {
        "resourceType": "MeasureReport",
        "id": report_id(pack.code, indicator.id, row["orgunit"], row["period"]),
        "extension": extensions,
        "status": report_status(row),
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
    return pruned(resource)


def _report_populations(row: dict, indicator: PackIndicator) -> list[dict]:
    """Counts of the populations when they are whole numbers (FHIR's count is an integer; a
    sum of fractional figures has no population count). The initial population is the
    denominator's (see `populations`)."""
    if scoring(indicator) == "continuous-variable":
        return []
    figures = {
        "initial-population": row.get("denominator"),
        "denominator": row.get("denominator"),
        "numerator": row.get("numerator"),
    }
    return [
        {"code": _coding(POPULATION, code), "count": int(figure)}
        for code, figure in figures.items()
        if figure is not None and float(figure).is_integer()
    ]


def stratified_figure(row: dict) -> float | None:
    """What the strata split: the numerator, or the figure of one that is no quotient."""
    return row["numerator"] if row.get("numerator") is not None else row.get("value")


def adds_up(row: dict, rows: list[dict]) -> bool:
    """Whether the strata's figures add up to the group's (no stratum's figure counts as
    none reported). They do not when a split element's figure came as a total — a value
    derived from care records is not split by sex, and the engine counts it whole in every
    stratum — and then the report has no stratifier rather than strata that overcount."""
    total = stratified_figure(row)
    if total is None:
        return False
    found = sum(stratified_figure(r) or 0.0 for r in rows)
    return abs(found - total) <= 1e-6 * max(1.0, abs(total))


def report_stratifiers(
    row: dict, indicator: PackIndicator, strata: Strata, base: str
) -> list[dict]:
    """A stratifier per category of the indicator: a stratum per option with the stratum's
    numerator count (and, where the denominator is split too, its denominator and score).
    Left out when the group has no figure (then `strata` may be empty: none was evaluated)
    or its strata do not add up to it (`adds_up`)."""
    expression = indicator.expression
    if expression is None:
        return []
    found = []
    for category in categories.categories_of(categories.of_indicator(expression)):
        by_option = strata.get(category.code, {})
        rows = [by_option[o.code] for o in category.options if o.code in by_option]
        if len(rows) != len(category.options) or not adds_up(row, rows):
            continue
        scored = categories.scored_within(expression, category.code)
        found.append(
            {
                "code": [category_concept(category, base)],
                "stratum": [
                    _stratum(category, option, by_option[option.code], indicator, scored, base)
                    for option in category.options
                ],
            }
        )
    return found


def _stratum(
    category: Category, option: Option, row: dict, indicator: PackIndicator, scored: bool,
    base: str,
) -> dict:  # fmt: skip
    if scored:
        populations = _report_populations(row, indicator)
        measure_score = score(indicator, row) if row["value"] is not None else None
    else:  # the denominator is the whole group's: the stratum has its numerator only
        populations = [p for p in _report_populations(row, indicator)
                       if p["code"]["coding"][0]["code"] == "numerator"]  # fmt: skip
        measure_score = None
    return {
        "value": option_concept(category, option, base),
        "population": populations,
        "measureScore": measure_score,
    }


def searchset(resources: list[dict], base: str, link: str) -> dict:
    """A searchset Bundle (http://hl7.org/fhir/R4/bundle.html): every entry with its fullUrl."""
    return pruned(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "timestamp": timezone.now().replace(microsecond=0).isoformat(),
            "total": len(resources),
            "link": [{"relation": "self", "url": link}],
            "entry": [
                {
                    "fullUrl": f"{base}{r['resourceType']}/{r['id']}",
                    "resource": r,
                    "search": {"mode": "match"},
                }
                for r in resources
            ],
        }
    )


def outcome(code: str, text: str) -> dict:
    """An OperationOutcome with one error (code from
    http://hl7.org/fhir/R4/valueset-issue-type.html)."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "details": {"text": text}}],
    }


def pruned(value):
    """The resource without None values and without empty lists or objects."""
    if isinstance(value, dict):
        items = ((k, pruned(v)) for k, v in value.items() if v is not None)
        return {k: v for k, v in items if v not in ([], {})}
    if isinstance(value, list):
        return [v for v in (pruned(v) for v in value) if v not in ([], {})]
    return value
