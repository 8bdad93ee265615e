"""GET and POST of /api/dataValueSets as DHIS2 clients use them.

Reading: the caller's view scope, filtered by DHIS2's parameters (dataSet = one of our packs,
dataElement, orgUnit with or without children, period, startDate/endDate, lastUpdated,
includeDeleted), written in the requested id schemes as JSON, DXF2 XML or CSV.
Writing: every value through `api.actions.write_values` (collection's one write): all or
nothing; warnings do not block (they are stored and answered as WARNING); `dryRun` checks
everything and writes nothing; `importStrategy` CREATE ignores values already stored, UPDATE
ignores values not yet stored, DELETE removes the values named."""

from __future__ import annotations

from datetime import date, datetime, time

from django.contrib.auth.models import User
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinglin.api.actions import WriteResult, write_values
from xinglin.api.dhis2 import bodies, responses, schemes
from xinglin.api.dhis2.params import ParamError, Params
from xinglin.api.dhis2.writers import FORMATS, write_document
from xinglin.api.formats import ExportValue, dhis2
from xinglin.api.mapping import CodeMap, operand_in
from xinglin.api.routes.interchange import MAX_BODY, MAX_EXPORT
from xinglin.api.routes.packs import pack_elements
from xinglin.collection.batch import Candidate, Location, Problem
from xinglin.collection.importers import UnreadableFile
from xinglin.collection.models import AuditEntry, DataValue, element_codes, operand_expression
from xinglin.lib import periods
from xinglin.network import access
from xinglin.standards import categories, loader
from xinglin.standards.models import DataElement

SCHEME_PARAMS = frozenset({"idScheme", "dataElementIdScheme", "orgUnitIdScheme"})
GET_PARAMS = SCHEME_PARAMS | {"dataSet", "dataElement", "orgUnit", "children", "period",
                              "startDate", "endDate", "lastUpdated", "includeDeleted"}  # fmt: skip
POST_PARAMS = SCHEME_PARAMS | {"dryRun", "importStrategy"}


# ------------------------------------------------------------------------------- reading
def get(request: HttpRequest, user: User, query, fmt: str) -> HttpResponse:
    params = Params(query, GET_PARAMS)
    ids = schemes.IdSchemes(*params.id_schemes())
    where = _where(params, user, ids)
    live = DataValue.objects.filter(where)
    since = params.moment("lastUpdated")
    if since is not None:
        live = live.filter(updated_at__gte=_aware(since))
    values = _values(live)
    document = dhis2.document(values, ids)
    for entry in document["dataValues"]:
        entry["attributeOptionCombo"] = DEFAULT_COMBO
    if params.boolean("includeDeleted"):
        document["dataValues"] += _deleted(where, since, ids)
    if len(document["dataValues"]) > MAX_EXPORT:
        raise ParamError(
            _("more than %(limit)d values: narrow the filters") % {"limit": MAX_EXPORT}
        )
    content, media = write_document(document, fmt)
    return HttpResponse(content, content_type=media)


DEFAULT_COMBO = dhis2.DEFAULT_COMBO  # DHIS2's default category option combo: no disaggregation


def _where(params: Params, user: User, ids: schemes.IdSchemes) -> Q:
    """The rows asked for, within the caller's view scope (a Q on element, orgunit and
    period, which DataValue and AuditEntry both have)."""
    where = access.scope_q(user, "view", "orgunit__path")
    elements = _elements(params, ids)
    if elements is not None:
        where &= Q(element__code__in=elements)
    units = params.many("orgUnit")
    if units:
        children = params.boolean("children")
        within = Q(pk__in=[])
        for unit in (_visible_unit(user, ids, text) for text in units):
            within |= Q(orgunit__path__startswith=unit.path) if children else Q(orgunit=unit)
        where &= within
    codes = _periods(params)
    if codes is not None:
        where &= Q(period__in=codes)
    return where


def _elements(params: Params, ids: schemes.IdSchemes) -> set[str] | None:
    sets, named = params.many("dataSet"), params.many("dataElement")
    if not sets and not named:
        return None
    codes = set()
    for code in sets:
        try:
            codes.update(pack_elements(loader.get_pack(code)))
        except KeyError:
            raise ParamError(_("unknown data set “%(code)s”") % {"code": code}) from None
    for text in named:
        codes.add(_translate(ids.element_in, text))
    return codes


def _visible_unit(user: User, ids: schemes.IdSchemes, text: str):
    code = _translate(ids.orgunit_in, text)
    unit = access.orgunits_for_user(user).filter(code=code).first()
    if unit is None:  # unknown and out of scope read the same: existence is not revealed
        raise ParamError(_("org unit “%(code)s” is unknown or outside your scope") % {"code": text})
    return unit


def _translate(function, text: str) -> str:
    try:
        return function(text)
    except schemes.Ambiguous as error:
        raise ParamError(str(error)) from None


def _periods(params: Params) -> list[str] | None:
    """Exact period codes, and/or the periods lying within startDate..endDate."""
    codes = params.many("period")
    for code in codes:
        try:
            periods.parse(code)
        except periods.PeriodError:
            raise ParamError(
                _("period “%(code)s” is not a year (2024), a quarter (2024Q1) or a month "
                  "(202401)") % {"code": code}
            ) from None  # fmt: skip
    start, end = params.day("startDate"), params.day("endDate")
    if (start is None) != (end is None):
        raise ParamError(_("startDate and endDate go together"))
    if start is None:
        return codes or None
    return codes + [p.code for p in _within(start, end)]


def _within(start: date, end: date) -> list[periods.Period]:
    found = []
    for year in range(max(start.year, 1900), min(end.year, 2200) + 1):
        candidates = [str(year)] + [f"{year}Q{q}" for q in range(1, 5)]
        candidates += [f"{year}{m:02d}" for m in range(1, 13)]
        found += [p for p in map(periods.parse, candidates) if start <= p.start and p.end <= end]
    return found


def _aware(moment: datetime | date) -> datetime:
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time.min)
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _values(rows) -> list[ExportValue]:
    rows = rows.order_by("orgunit__path", "period", "element__code").values_list(
        "element__code", "element__value_type", "orgunit__code", "period", "value",
        "updated_at", "comment", "combo",
    )  # fmt: skip
    values = [ExportValue(*row) for row in rows[: MAX_EXPORT + 1]]
    if len(values) > MAX_EXPORT:
        raise ParamError(
            _("more than %(limit)d values: narrow the filters") % {"limit": MAX_EXPORT}
        )
    return values


def _deleted(where: Q, since, ids) -> list[dict]:
    """Values removed and not stored again: their last audit entry is the deletion."""
    audit = AuditEntry.objects.filter(where)
    if since is not None:
        audit = audit.filter(at__gte=_aware(since))
    latest = audit.values("orgunit_id", "element_id", "period", "combo").annotate(last=Max("id"))
    ids_of_last = [row["last"] for row in latest[: MAX_EXPORT + 1]]
    entries = AuditEntry.objects.filter(id__in=ids_of_last, new_value__isnull=True).values_list(
        "element__code",
        "element__value_type",
        "orgunit__code",
        "period",
        "old_value",
        "at",
        "combo",
    )
    values = [ExportValue(e, t, o, p, v or 0.0, at, combo=c) for e, t, o, p, v, at, c in entries]
    document = dhis2.document(sorted(values, key=lambda v: (v.orgunit, v.period, v.element)), ids)
    for entry in document["dataValues"]:
        entry["deleted"] = True
        entry["attributeOptionCombo"] = DEFAULT_COMBO
    return document["dataValues"]


# ------------------------------------------------------------------------------- writing
def post(request: HttpRequest, user: User, query) -> HttpResponse:
    params = Params(query, POST_PARAMS)
    strategy, dry_run = params.strategy(), params.boolean("dryRun")
    element_scheme, orgunit_scheme = params.id_schemes()
    options = {"dryRun": dry_run, "importStrategy": strategy,
               "idSchemes": {"dataElementIdScheme": element_scheme,
                             "orgUnitIdScheme": orgunit_scheme}}  # fmt: skip
    if len(request.body) > MAX_BODY:
        return responses.web_message(413, _("the request body is larger than 16 MB: split it"))
    try:
        body = _read(request, strategy, element_scheme, orgunit_scheme)
    except UnreadableFile as error:
        return responses.web_message(409, str(error))
    if body.parsed.problems:
        refused = WriteResult(problems=body.parsed.problems, is_stored=False)
        return responses.import_summary(refused, entries=body.entries, ignored=0, options=options)
    candidates, ignored = _by_strategy(body.parsed.candidates, strategy, user)
    result = write_values(candidates, user, confirmed=True, dry_run=dry_run)
    return responses.import_summary(
        result, entries=body.entries, ignored=ignored, options=options,
        faults=_faults(candidates, user) if result.problems else {},
    )  # fmt: skip


def _faults(candidates: list[Candidate], user: User) -> dict[int, str]:
    """Which field each refused value is refused for (collection's problems name the value
    only): the conflicts' `object` and `property` are then the identifier at fault."""
    kinds = dict(
        DataElement.objects.filter(code__in=element_codes(_key(c) for c in candidates)).values_list(
            "code", "period_type"
        )
    )
    units = {c.orgunit for c in candidates}
    reportable = set(
        access.orgunits_for_user(user, "report")
        .filter(code__in=units)
        .values_list("code", flat=True)
    )
    faults = {}
    for candidate in candidates:
        row, (element, combo) = candidate.location.row, categories.split(candidate.element)
        if element not in kinds:
            faults[row] = "dataElement"
        elif combo and not _combo_fits(element, combo):
            faults[row] = "categoryOptionCombo"
        elif candidate.orgunit not in reportable:
            faults[row] = "orgUnit"
        elif not _period_fits(candidate.period, kinds[element]):
            faults[row] = "period"
    return faults


def _key(candidate: Candidate) -> tuple[str, str, str]:
    return (candidate.orgunit, candidate.period, candidate.element)


def _combo_fits(element: str, combo: str) -> bool:
    found = DataElement.objects.filter(code=element).first()
    return found is not None and any(c.code == combo for c in found.combos())


def _period_fits(code: str, kind: str) -> bool:
    try:
        return periods.parse(code).type == kind
    except periods.PeriodError:
        return False


def _read(request: HttpRequest, strategy: str, element_scheme: str, orgunit_scheme: str):
    kind = bodies.kind_of(request.content_type, request.body)
    deleting = strategy == "DELETE"
    if kind == "adx":
        if "NAME" in (element_scheme, orgunit_scheme):
            raise UnreadableFile(_("ADX bodies name elements and org units by code or UID"))
        uid = "UID" in (element_scheme, orgunit_scheme)
        codes = CodeMap.load("dhis2") if uid else CodeMap()
        elements = sorted(DataElement.objects.values_list("code", flat=True))
        body = bodies.read(request.body, kind, delete=deleting, adx_elements=elements, codes=codes)
        for candidate in body.parsed.candidates:
            candidate.delete = candidate.delete or deleting
        return body
    body = bodies.read(request.body, kind, delete=deleting, adx_elements=[])
    body.parsed.problems += _translate_all(
        body.parsed.candidates, schemes.IdSchemes(element_scheme, orgunit_scheme)
    )
    return body


def _translate_all(candidates: list[Candidate], ids: schemes.IdSchemes) -> list[Problem]:
    problems = []

    def element_in(text: str) -> str:  # the operand element.combo
        return operand_in(ids, text)

    for candidate in candidates:
        for name, function, field in (("element", element_in, "element"),
                                      ("orgunit", ids.orgunit_in, "orgunit")):  # fmt: skip
            try:
                setattr(candidate, name, function(getattr(candidate, name)))
            except schemes.Ambiguous as error:
                problems.append(Problem(Location(candidate.location.row, field), str(error)))
    return problems


def _by_strategy(
    candidates: list[Candidate], strategy: str, user: User
) -> tuple[list[Candidate], int]:
    """(the values to write, how many the strategy ignores). CREATE ignores values already
    stored, UPDATE values not stored yet; only within the caller's view scope (a value
    outside it goes on to the write, which refuses it), so the answer never tells what is
    stored where the caller cannot see."""
    if strategy not in ("CREATE", "UPDATE"):
        return candidates, 0
    units = {c.orgunit for c in candidates}
    visible = set(
        access.orgunits_for_user(user).filter(code__in=units).values_list("code", flat=True)
    )
    stored = set(
        DataValue.objects.filter(
            orgunit__code__in=visible,
            element__code__in=element_codes(_key(c) for c in candidates),
            period__in={c.period for c in candidates},
        )
        .annotate(operand=operand_expression())
        .values_list("orgunit__code", "period", "operand")
    )
    kept, ignored = [], 0
    for candidate in candidates:
        key = (candidate.orgunit, candidate.period, candidate.element)
        if candidate.delete or candidate.orgunit not in visible:
            kept.append(candidate)
        elif (key in stored) == (strategy == "CREATE"):
            ignored += 1
        else:
            kept.append(candidate)
    return kept, ignored


__all__ = ["FORMATS", "get", "post"]
