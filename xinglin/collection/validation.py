"""Checks every value to be written, whatever its channel (a form field, a workbook cell, a
CSV row, a JSON entry): codes, period, type, range, open institution, scope, duplicates,
locks, comparison rules and the year-on-year jump. Bulk-minded: a few queries per batch."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from xinglin.collection import rules
from xinglin.collection.forms import DIVISION, is_open_during
from xinglin.collection.models import DataValue, Submission, SubmissionStatus
from xinglin.lib import periods
from xinglin.network import access
from xinglin.network.models import Kind, OrgUnit
from xinglin.standards.models import DataElement


@dataclass(frozen=True)
class Location:
    """Where a value came from: a row (1-based, as a spreadsheet shows it) and field; for a
    workbook also the sheet and the cell (`C5`)."""

    row: int = 0
    field: str = ""
    sheet: str = ""
    cell: str = ""


@dataclass
class Candidate:
    orgunit: str
    period: str
    element: str
    raw: object
    location: Location = Location()
    entry: bool = False  # typed where percentages show as 0–100


@dataclass(frozen=True)
class Problem:
    location: Location
    message: str
    severity: str = "error"
    rule: str = ""
    key: tuple[str, str, str] | None = None  # (orgunit, period, element) codes

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


@dataclass
class Checked:
    """The outcome of a check: the values ready for store_values, and the problems."""

    values: list[tuple[DataElement, OrgUnit, str, float]] = field(default_factory=list)
    unchanged: int = 0
    replacing: int = 0  # how many of `values` change a stored value (the rest are new)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]


class _Context:
    """Everything the batch refers to, fetched once."""

    def __init__(self, candidates: list[Candidate]):
        self.elements = {e.code: e for e in DataElement.objects.all()}
        codes = {c.orgunit for c in candidates}
        self.orgunits = {u.code: u for u in _chunked(OrgUnit.objects.all(), "code", sorted(codes))}
        self.periods: dict[str, periods.Period | None] = {}

    def period(self, code: str) -> periods.Period | None:
        if code not in self.periods:
            try:
                self.periods[code] = periods.parse(code)
            except periods.PeriodError:
                self.periods[code] = None
        return self.periods[code]


def _chunked(queryset, field_name: str, items: list, size: int = 900):
    # SQLite limits the number of parameters of one query.
    for start in range(0, len(items), size):
        yield from queryset.filter(**{f"{field_name}__in": items[start : start + size]})


def check(
    candidates: list[Candidate], *, user: User | None = None, confirmed: bool = False
) -> Checked:
    """Check a batch. `user` None means the system (no scope check); `confirmed` accepts
    warnings (they are still returned, for the record)."""
    context = _Context(candidates)
    result = Checked()
    resolved = _resolve(candidates, context, user, result)
    resolved = _drop_duplicates(resolved, result)
    stored = _stored_values(resolved, context)
    locked = _locked(resolved)
    fresh, replacing = [], set()
    for candidate, element, orgunit, value in resolved:
        old = stored.get((element.id, orgunit.id, candidate.period))
        if old == value:
            result.unchanged += 1
            continue
        if (orgunit.id, candidate.period) in locked:
            result.problems.append(_problem(candidate, _locked_message()))
            continue
        fresh.append((candidate, element, orgunit, value))
        if old is not None:
            replacing.add((candidate.orgunit, candidate.period, candidate.element))
    _check_rules(fresh, stored, context, result)
    _check_jumps(fresh, context, result)
    failed = {p.key for p in result.errors}
    if not confirmed:
        failed |= {p.key for p in result.warnings}
    result.values = [
        (element, orgunit, c.period, value)
        for c, element, orgunit, value in fresh
        if (c.orgunit, c.period, c.element) not in failed
    ]
    result.replacing = sum(1 for e, o, p, _v in result.values if (o.code, p, e.code) in replacing)
    return result


def _problem(candidate: Candidate, message: str, severity: str = "error", rule: str = ""):
    key = (candidate.orgunit, candidate.period, candidate.element)
    return Problem(candidate.location, message, severity, rule, key)


def _locked_message() -> str:
    return _("the form is approved and locked; ask for it to be un-approved first")


def _resolve(candidates, context: _Context, user, result: Checked):
    resolved = []
    report_paths = None if user is None else access.scope_paths(user, "report")
    for candidate in candidates:
        message, element, orgunit = _identify(candidate, context, report_paths)
        if message is None:
            try:
                value = rules.to_stored(element.value_type, candidate.raw, entry=candidate.entry)
            except rules.ValueProblem as problem:
                message = f"{element.code}: {problem}"
        if message is not None:
            result.problems.append(_problem(candidate, message))
            continue
        resolved.append((candidate, element, orgunit, value))
    return resolved


def _identify(candidate: Candidate, context: _Context, report_paths: list[str] | None):
    """(message, element, orgunit): message is None when the codes and period fit."""
    element = context.elements.get(candidate.element)
    orgunit = context.orgunits.get(candidate.orgunit)
    period = context.period(candidate.period)
    if element is None:
        return _("unknown data element “%(code)s”") % {"code": candidate.element}, None, None
    if orgunit is None:
        return _("unknown org unit “%(code)s”") % {"code": candidate.orgunit}, None, None
    if report_paths is not None and not any(orgunit.path.startswith(p) for p in report_paths):
        return _("%(code)s is outside your reporting scope") % {"code": orgunit.code}, None, None
    if period is None:
        return (
            _("period “%(code)s” is not a year (2024), a quarter (2024Q1) or a month (202401)")
            % {"code": candidate.period},
            None,
            None,
        )
    if period.type != element.period_type:
        return (
            _("%(element)s is reported %(kind)s; “%(period)s” is not a %(kind)s period")
            % {
                "element": element.code,
                "kind": _period_word(element.period_type),
                "period": period.code,
            },
            None,
            None,
        )
    message = _fit(element, orgunit, period)
    return message, element, orgunit


def _period_word(kind: str) -> str:
    return {"monthly": _("monthly"), "quarterly": _("quarterly"), "yearly": _("yearly")}[kind]


def _fit(element: DataElement, orgunit: OrgUnit, period: periods.Period) -> str | None:
    if element.level == DIVISION and orgunit.kind != Kind.DIVISION:
        return _("%(element)s is reported by divisions, not by %(code)s") % {
            "element": element.code,
            "code": orgunit.code,
        }
    if element.level != DIVISION and orgunit.kind == Kind.DIVISION:
        return _("%(element)s is reported by institutions, not by the division %(code)s") % {
            "element": element.code,
            "code": orgunit.code,
        }
    types = element.institution_types or []
    if orgunit.kind != Kind.DIVISION and types and orgunit.institution_type not in types:
        return _("%(element)s is not reported by %(code)s (%(type)s)") % {
            "element": element.code,
            "code": orgunit.code,
            "type": orgunit.type_label,
        }
    if not is_open_during(orgunit, period):
        return _("%(code)s was not open in %(period)s (closed or not yet opened)") % {
            "code": orgunit.code,
            "period": period.code,
        }
    return None


def _drop_duplicates(resolved, result: Checked):
    seen: dict[tuple[str, str, str], tuple[Candidate, float]] = {}
    kept, clashes = [], set()
    for item in resolved:
        candidate, _element, _orgunit, value = item
        key = (candidate.orgunit, candidate.period, candidate.element)
        if key not in seen:
            seen[key] = (candidate, value)
            kept.append(item)
            continue
        first, first_value = seen[key]
        if first_value != value:
            clashes.add(key)
            message = _("duplicate of row %(row)s with a different value (%(a)s ≠ %(b)s)") % {
                "row": first.location.row,
                "a": first.raw,
                "b": candidate.raw,
            }
            result.problems.append(_problem(candidate, message))
    for key in clashes:
        first = seen[key][0]
        result.problems.append(_problem(first, _("this value is repeated with another value")))
    return [
        item for item in kept if (item[0].orgunit, item[0].period, item[0].element) not in clashes
    ]


def _stored_values(resolved, context: _Context) -> dict[tuple[int, int, str], float]:
    if not resolved:
        return {}
    rule_codes = {name for rule in rules.load().rules for name in rule.check.names}
    element_ids = {e.id for _c, e, _o, _v in resolved} | {
        context.elements[code].pk for code in rule_codes if code in context.elements
    }
    orgunit_ids = sorted({o.id for _c, _e, o, _v in resolved})
    period_codes = {c.period for c, _e, _o, _v in resolved}
    rows = DataValue.objects.filter(period__in=period_codes, element_id__in=element_ids)
    stored = {}
    for start in range(0, len(orgunit_ids), 900):
        chunk = rows.filter(orgunit_id__in=orgunit_ids[start : start + 900])
        for element_id, orgunit_id, period, value in chunk.values_list(
            "element_id", "orgunit_id", "period", "value"
        ):
            stored[(element_id, orgunit_id, period)] = value
    return stored


def _locked(resolved) -> set[tuple[int, str]]:
    if not resolved:
        return set()
    period_codes = {c.period for c, _e, _o, _v in resolved}
    approved = Submission.objects.filter(status=SubmissionStatus.APPROVED, period__in=period_codes)
    orgunit_ids = {o.id for _c, _e, o, _v in resolved}
    return {
        (orgunit_id, period)
        for orgunit_id, period in approved.values_list("orgunit_id", "period")
        if orgunit_id in orgunit_ids
    }


def _check_rules(fresh, stored, context: _Context, result: Checked) -> None:
    codes_by_id = {e.id: code for code, e in context.elements.items()}
    new: dict[tuple[int, str], dict[str, float]] = defaultdict(dict)
    where: dict[tuple[int, str, str], Candidate] = {}
    for candidate, element, orgunit, value in fresh:
        new[(orgunit.id, candidate.period)][element.code] = value
        where[(orgunit.id, candidate.period, element.code)] = candidate
    old: dict[tuple[int, str], dict[str, float]] = defaultdict(dict)
    for (element_id, orgunit_id, period), value in stored.items():
        if (orgunit_id, period) in new:
            old[(orgunit_id, period)][codes_by_id[element_id]] = value
    for (orgunit_id, period), values in new.items():
        for finding in rules.check_group(values, old[(orgunit_id, period)]):
            candidate = where[(orgunit_id, period, finding.element)]
            message = f"{finding.element}: {finding.message}"
            result.problems.append(_problem(candidate, message, finding.severity, finding.rule))


def _check_jumps(fresh, context: _Context, result: Checked) -> None:
    jump_types = rules.load().jump_types
    candidates = [item for item in fresh if item[1].value_type in jump_types]
    if not candidates:
        return
    last_periods = {
        code: context.period(code).previous_year().code
        for code in {c.period for c, *_ in candidates}
    }
    element_ids = {e.id for _c, e, _o, _v in candidates}
    orgunit_ids = sorted({o.id for _c, _e, o, _v in candidates})
    last_year = {}
    rows = DataValue.objects.filter(
        period__in=set(last_periods.values()), element_id__in=element_ids
    )
    for start in range(0, len(orgunit_ids), 900):
        chunk = rows.filter(orgunit_id__in=orgunit_ids[start : start + 900])
        for element_id, orgunit_id, period, value in chunk.values_list(
            "element_id", "orgunit_id", "period", "value"
        ):
            last_year[(element_id, orgunit_id, period)] = value
    for candidate, element, orgunit, value in candidates:
        before = last_year.get((element.id, orgunit.id, last_periods[candidate.period]))
        finding = rules.jump_warning(element.value_type, value, before)
        if finding is not None:
            message = f"{element.code}: {finding.message}"
            result.problems.append(_problem(candidate, message, "warning", "jump"))
