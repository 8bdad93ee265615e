"""The FHIR R4 face, read-only: `metadata` (CapabilityStatement), `Measure` and
`MeasureReport` (read by id, search), `StructureDefinition` (our extensions), `CodeSystem`
(our categories and their options). Answers are
`application/fhir+json`; every error is an OperationOutcome; every URL written starts with
settings.XINGLIN_FHIR_BASE. Reports are the engine's results (`evaluation.engine.evaluate`),
in the caller's scope; the strata of an indicator with categories are the engine's results
within each option (`evaluate(..., stratum=...)`), evaluated only for such indicators."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Router

from xinglin.api.auth import caller
from xinglin.api.formats import fhir
from xinglin.api.formats.fhir_conformance import (
    EXTENSIONS,
    REPORT_SEARCH,
    capability_statement,
    code_systems,
    structure_definition,
)
from xinglin.api.routes import document, orgunit_in_scope, responses
from xinglin.api.routes.evaluations import _language
from xinglin.api.routes.packs import pack_or_404
from xinglin.evaluation import exports
from xinglin.evaluation.engine import Evaluation, EvaluationError, evaluate
from xinglin.network import access
from xinglin.standards import categories
from xinglin.standards.loader import Pack, PackIndicator, all_packs

router = Router(tags=["fhir"])
FHIR_DOCUMENT = document(fhir.FHIR_JSON, {"type": "object"})
MAX_YEARS = 10
REPORT_STATUSES = {"complete", "pending", "error"}
PREFIXES = ("eq", "ge", "le", "gt", "lt")


class FhirError(Exception):
    """A request answered with an OperationOutcome: (HTTP status, issue type, text)."""

    def __init__(self, status: int, code: str, text: str) -> None:
        super().__init__(text)
        self.status, self.code, self.text = status, code, text


def _answer(resource: dict, status: int = 200) -> HttpResponse:
    body = json.dumps(resource, ensure_ascii=False)
    return HttpResponse(body, status=status, content_type=fhir.FHIR_JSON)


def fhir_refusal(request: HttpRequest, status: int, code: str, text: str) -> HttpResponse | None:
    """An OperationOutcome for a refusal made before a FHIR view runs (no credentials), or
    None outside the FHIR face (the API's JSON errors then apply)."""
    if "/fhir/" not in request.path:
        return None
    return _answer(fhir.outcome(code, text), status)


def fhir_errors(view):
    """Answer every refusal of `view` as an OperationOutcome with its HTTP status."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except FhirError as error:
            return _answer(fhir.outcome(error.code, error.text), error.status)
        except Http404 as error:
            return _answer(fhir.outcome("not-found", str(error) or "not found"), 404)
        except PermissionDenied:
            return _answer(fhir.outcome("forbidden", "not allowed"), 403)

    return wrapper


@router.get(
    "fhir/metadata", auth=None, response=responses(None), openapi_extra=FHIR_DOCUMENT,
    summary="FHIR CapabilityStatement",
)  # fmt: skip
@fhir_errors
def get_metadata(request: HttpRequest) -> HttpResponse:
    return _answer(capability_statement(fhir.base_url()))


@router.get(
    "fhir/StructureDefinition", auth=None, response=responses(None), openapi_extra=FHIR_DOCUMENT,
    summary="The StructureDefinitions of Xinglin's extensions (Bundle)",
)  # fmt: skip
@fhir_errors
def get_structure_definitions(request: HttpRequest) -> HttpResponse:
    base = fhir.base_url()
    resources = [structure_definition(sid, base) for sid in EXTENSIONS]
    return _answer(fhir.searchset(resources, base, f"{base}StructureDefinition"))


@router.get(
    "fhir/StructureDefinition/{sid}", auth=None, response=responses(None),
    openapi_extra=FHIR_DOCUMENT, summary="One StructureDefinition of Xinglin's extensions",
)  # fmt: skip
@fhir_errors
def get_structure_definition(request: HttpRequest, sid: str) -> HttpResponse:
    if sid not in EXTENSIONS:
        raise FhirError(404, "not-found", f"no StructureDefinition {sid}")
    return _answer(structure_definition(sid, fhir.base_url()))


@router.get(
    "fhir/CodeSystem", auth=None, response=responses(None), openapi_extra=FHIR_DOCUMENT,
    summary="Search the CodeSystems of Xinglin's categories and their options (_id, url)",
)  # fmt: skip
@fhir_errors
def get_code_systems(request: HttpRequest) -> HttpResponse:
    _known_parameters(request, {"_id", "url", "_format"})
    base = fhir.base_url()
    resources = list(code_systems(base).values())
    if wanted := request.GET.get("_id"):
        resources = [r for r in resources if r["id"] == wanted]
    if url := request.GET.get("url"):
        resources = [r for r in resources if r["url"] == url]
    return _answer(fhir.searchset(resources, base, f"{base}CodeSystem"))


@router.get(
    "fhir/CodeSystem/{cid}", auth=None, response=responses(None), openapi_extra=FHIR_DOCUMENT,
    summary="One CodeSystem of Xinglin's categories",
)  # fmt: skip
@fhir_errors
def get_code_system(request: HttpRequest, cid: str) -> HttpResponse:
    found = code_systems(fhir.base_url()).get(cid)
    if found is None:
        raise FhirError(404, "not-found", f"no CodeSystem {cid}")
    return _answer(found)


def _computed(pack: Pack) -> list[PackIndicator]:
    return [i for i in pack.indicators if i.is_computed]


def _measure_by_id(mid: str) -> tuple[Pack, PackIndicator] | None:
    for pack in all_packs().values():
        for indicator in _computed(pack):
            if fhir.measure_id(pack.code, indicator.id) == mid:
                return pack, indicator
    return None


@router.get(
    "fhir/Measure", response=responses(None), openapi_extra=FHIR_DOCUMENT,
    summary="Search FHIR Measures (pack, _id, url): a searchset Bundle",
)  # fmt: skip
@fhir_errors
def get_measures(request: HttpRequest) -> HttpResponse:
    _known_parameters(request, {"pack", "_id", "url", "_format"})
    base = fhir.base_url()
    code = request.GET.get("pack")
    packs = [pack_or_404(code)] if code else list(all_packs().values())
    measures = [fhir.measure(p, i, base) for p in packs for i in _computed(p)]
    if wanted := request.GET.get("_id"):
        measures = [m for m in measures if m["id"] == wanted]
    if url := request.GET.get("url"):
        measures = [m for m in measures if m["url"] == url]
    return _answer(fhir.searchset(measures, base, _self_link(request, base, "Measure")))


@router.get(
    "fhir/Measure/{measure_id}", response=responses(None), openapi_extra=FHIR_DOCUMENT,
    summary="Read one FHIR Measure",
)  # fmt: skip
@fhir_errors
def get_measure(request: HttpRequest, measure_id: str) -> HttpResponse:
    found = _measure_by_id(measure_id)
    if found is None:
        raise FhirError(404, "not-found", f"no Measure {measure_id}")
    return _answer(fhir.measure(*found, fhir.base_url()))


@router.get(
    "fhir/MeasureReport/{report_id}", response=responses(None),
    openapi_extra=FHIR_DOCUMENT, summary="Read one FHIR MeasureReport",
)  # fmt: skip
@fhir_errors
def get_measure_report(request: HttpRequest, report_id: str) -> HttpResponse:
    try:
        pack, indicator, code, year = fhir.parse_report_id(report_id, all_packs())
    except KeyError:
        raise FhirError(404, "not-found", f"no MeasureReport {report_id}") from None
    unit = orgunit_in_scope(request, code)
    rows = _rows(pack, unit, year, tree=False)
    row = next((r for r in rows if r["indicator"] == indicator.id), None)
    if row is None:
        raise FhirError(404, "not-found", f"no MeasureReport {report_id}")
    strata = StrataReader().of(pack, unit, year, False, indicator, row)
    return _answer(fhir.measure_report(row, pack, indicator, fhir.base_url(), strata))


@dataclass
class ReportSearch:
    """A MeasureReport search, read from the query string (FhirError when it cannot be)."""

    measures: list[tuple[Pack, PackIndicator]] = field(default_factory=list)
    units: list = field(default_factory=list)
    tree: bool = False
    years: list[str] = field(default_factory=list)
    statuses: set[str] = field(default_factory=set)
    at: str | None = None


@router.get(
    "fhir/MeasureReport", response=responses(None),
    openapi_extra=FHIR_DOCUMENT,
    summary="Search FHIR MeasureReports (measure, subject, period, status): a searchset Bundle",
)  # fmt: skip
@fhir_errors
def get_measure_reports(request: HttpRequest) -> HttpResponse:
    search = _report_search(request)
    base = fhir.base_url()
    reports = []
    strata = StrataReader()
    for pack, indicators in _by_pack(search.measures):
        for unit in search.units:
            for year in search.years:
                for row in _rows(pack, unit, year, tree=search.tree):
                    indicator = indicators.get(row["indicator"])
                    if indicator is None or (search.at and row["orgunit"] != search.at):
                        continue
                    if search.statuses and fhir.report_status(row) not in search.statuses:
                        continue
                    found = strata.of(pack, unit, year, search.tree, indicator, row)
                    reports.append(fhir.measure_report(row, pack, indicator, base, found))
    return _answer(fhir.searchset(reports, base, _self_link(request, base, "MeasureReport")))


def _by_pack(measures) -> list[tuple[Pack, dict[str, PackIndicator]]]:
    packs: dict[str, Pack] = {}
    result: dict[str, dict[str, PackIndicator]] = {}
    for pack, indicator in measures:
        packs[pack.code] = pack
        result.setdefault(pack.code, {})[indicator.id] = indicator
    return [(packs[code], indicators) for code, indicators in result.items()]


def _rows(pack: Pack, unit, year: str, *, tree: bool) -> list[dict]:
    try:
        evaluation = evaluate(pack, unit, year, tree=tree, language=_language())
    except EvaluationError as error:
        raise FhirError(404, "not-found", str(error)) from None
    return exports.as_rows(evaluation.results)


class StrataReader:
    """The engine's rows of an indicator within each option of its categories, for one
    request: one evaluation per (pack, scope, year, option), kept for the request's other
    reports (and by the engine's cache across requests); none for an indicator without
    categories."""

    def __init__(self) -> None:
        self.kept: dict[tuple, Evaluation] = {}

    def of(
        self, pack: Pack, unit, year: str, tree: bool, indicator: PackIndicator, row: dict
    ) -> fhir.Strata:
        """The strata of the report of `row`; none evaluated when it has no figure to split."""
        found: fhir.Strata = {}
        if fhir.stratified_figure(row) is None:
            return found
        code = row["orgunit"]
        for category in categories.categories_of(categories.of_indicator(indicator.expression)):
            for option in category.options:
                evaluation = self._evaluation(pack, unit, year, tree, {category.code: option.code})
                result = next((r for r in evaluation.at(code) if r.indicator == indicator.id), None)
                if result is not None:
                    found.setdefault(category.code, {})[option.code] = exports.as_rows([result])[0]
        return found

    def _evaluation(self, pack: Pack, unit, year: str, tree: bool, stratum: dict) -> Evaluation:
        key = (pack.code, getattr(unit, "code", unit), year, tree, *stratum.items())
        if key not in self.kept:
            try:
                self.kept[key] = evaluate(
                    pack, unit, year, tree=tree, language=_language(), stratum=stratum
                )
            except EvaluationError as error:
                raise FhirError(404, "not-found", str(error)) from None
        return self.kept[key]


def _report_search(request: HttpRequest) -> ReportSearch:
    _known_parameters(request, {*REPORT_SEARCH, "subject:identifier", "_format"})
    query = request.GET
    search = ReportSearch(at=query.get("at"))
    search.measures = _measures(query)
    if query.get("orgunit"):
        # Xinglin's own form: the org unit and everything beneath it
        search.units, search.tree = [orgunit_in_scope(request, query["orgunit"])], True
    else:
        search.units = _subjects(request)
    search.years = _years(query.getlist("period"))
    search.statuses = _statuses(query.getlist("status"))
    return search


def _measures(query) -> list[tuple[Pack, PackIndicator]]:
    if references := query.getlist("measure"):
        found = [_measure_by_id(ref.rstrip("/").rsplit("/", 1)[-1]) for ref in references]
        return [m for m in found if m is not None]
    if not query.get("pack"):
        raise FhirError(400, "required", "give measure (a Measure's URL or id) or pack")
    pack = pack_or_404(query["pack"])
    wanted = query.get("indicator")
    return [(pack, i) for i in _computed(pack) if wanted in (None, i.id)]


def _subjects(request: HttpRequest) -> list:
    query = request.GET
    references = query.getlist("subject") + [
        value.rpartition("|")[2] for value in query.getlist("subject:identifier")
    ]
    if not references:
        return access.scope_roots(caller(request))
    return [orgunit_in_scope(request, ref.rsplit("/", 1)[-1]) for ref in references]


def _statuses(values: list[str]) -> set[str]:
    statuses = {s for value in values for s in value.split(",") if s}
    if unknown := statuses - REPORT_STATUSES:
        raise FhirError(400, "value", f"unknown status {', '.join(sorted(unknown))}")
    return statuses


def _years(values: list[str]) -> list[str]:
    """The years whose reports the `period` parameters select (FHIR date search: each value
    a year, month or day with an optional prefix; all of them must hold)."""
    if not values:
        raise FhirError(400, "required", "give period (a year or date, e.g. 2024 or ge2023)")
    current = timezone.localdate().year
    low, high = current - 100, current
    for value in values:
        prefix, start, end = _date_range(value)
        if prefix == "eq":
            low, high = max(low, start.year), min(high, end.year)
        elif prefix == "ge":
            low = max(low, start.year)
        elif prefix == "gt":
            low = max(low, end.year + (1 if end.month == 12 and end.day == 31 else 0))
        elif prefix == "le":
            high = min(high, end.year)
        else:  # lt
            high = min(high, start.year - (1 if (start.month, start.day) == (1, 1) else 0))
    if high - low + 1 > MAX_YEARS:
        raise FhirError(400, "too-costly", f"at most {MAX_YEARS} years at a time: narrow period")
    return [str(year) for year in range(low, high + 1)]


def _date_range(value: str) -> tuple[str, date, date]:
    prefix = value[:2] if value[:2] in PREFIXES else "eq"
    text = value[2:] if value[:2] in PREFIXES else value
    text = text.split("T", 1)[0]
    try:
        parts = [int(p) for p in text.split("-")]
        if len(parts) == 1:
            return prefix, date(parts[0], 1, 1), date(parts[0], 12, 31)
        if len(parts) == 2:
            start = date(parts[0], parts[1], 1)
            following = date(parts[0] + parts[1] // 12, parts[1] % 12 + 1, 1)
            return prefix, start, date.fromordinal(following.toordinal() - 1)
        day = date(*parts)
        return prefix, day, day
    except (TypeError, ValueError):
        text = f"period {value!r} is not a date (2024, 2024-03, 2024-03-31)"
        raise FhirError(400, "value", text) from None


def _known_parameters(request: HttpRequest, known: set[str]) -> None:
    if unknown := sorted(set(request.GET) - known):
        raise FhirError(400, "not-supported", f"unknown search parameter {', '.join(unknown)}")


def _self_link(request: HttpRequest, base: str, kind: str) -> str:
    query = request.GET.urlencode()
    return f"{base}{kind}?{query}" if query else f"{base}{kind}"
