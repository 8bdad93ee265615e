"""What a person reads instead of the system's codes: the one place for the words of
statuses, targets, values, gaps, sources, groups and people.

Pages (through the `xinglin` template filters), dashboard sections and documents read these
functions, so a status or a target reads the same wherever it is shown. Codes and expressions
stay available to the curious in each page's "how it is computed" detail.
"""

from __future__ import annotations

import re

from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

# status -> (words, shape): the shape is what tells statuses apart without colour
STATUSES = {
    "met": (_("met"), "✓"),
    "not_met": (_("not met"), "✗"),
    "awaiting_evidence": (_("awaiting evidence review"), "◔"),
    "no_data": (_("no data"), "○"),
    "not_applicable": (_("not applicable"), "–"),
    # added to the engine for figures that cannot be right (e.g. a share above 100%)
    "data_error": (_("data error"), "⚠"),
    # a bureau-set target (local health plan) not entered for the unit and year
    "target_unset": (_("target not set"), "◇"),
}
# statuses an officer has to act on (the scorecard's default filter)
ATTENTION = ("not_met", "no_data", "awaiting_evidence", "data_error", "target_unset")

# the first part of an indicator id names its group (`system.county_tcm_hospital_grade`)
GROUPS = {
    "organisation": _("Organisation"),
    "development": _("Promoting development"),
    "system": _("Service system"),
    "workforce": _("Workforce"),
    "services": _("TCM services"),
    "grassroots": _("Grassroots services"),
    "supervision": _("Supervision and assessment"),
    "surveys": _("Satisfaction and awareness"),
    "capacity": _("Service capacity"),
    "health_services": _("Health services"),
    "rehab": _("Rehabilitation"),
    "work_points": _("Work points"),
}

PLAN_STATES = {
    "not_started": _("not started"),
    "in_progress": _("in progress"),
    "done": _("done"),
    "overdue": _("overdue"),
    "open": _("open"),
    "closed": _("closed"),
    "pending": _("pending review"),
    "accepted": _("accepted"),
    "rejected": _("rejected"),
}
SUBMISSION_STATES = {
    "open": _("being entered"),
    "submitted": _("submitted, awaiting approval"),
    "returned": _("returned for correction"),
    "approved": _("approved"),
}
EVENTS = {
    "submit": _("submitted"),
    "return": _("returned"),
    "approve": _("approved"),
    "unapprove": _("approval withdrawn"),
    "created": _("created"),
    "updated": _("changed"),
    "deleted": _("deleted"),
}
CHANNELS = {
    "web": _("web form"),
    "import": _("file import"),
    "api": _("API"),
    "system": _("computed by the system"),
}
SOURCES = {
    "reported": _("reported figures"),
    "care.constitution": _("constitution assessments"),
    "care.child_guidance": _("child guidance records"),
    "care.visits": _("HIS visit records"),
    "collection.timeliness": _("form submissions and their due dates"),
    "surveys": _("survey responses"),
}

_OPS = {">=": "≥", "<=": "≤", "=": "=", ">": ">", "<": "<"}
_TARGET = re.compile(r"^\s*(>=|<=|==|=|>|<)\s*(-?[\d.]+)\s*(%?)\s*$")
_BETWEEN = re.compile(r"^\s*between\s+(-?[\d.]+)\s*(%?)\s+and\s+(-?[\d.]+)\s*(%?)\s*$")
# hospital grade codes (core.yaml hospital_grade: level × 10 + class)
_GRADE_LEVELS = {1: _("level 1"), 2: _("level 2"), 3: _("level 3")}
_GRADE_CLASSES = {3: _("class A"), 2: _("class B"), 1: _("class C"), 0: _("unclassified")}


def _english() -> bool:
    return (get_language() or "zh-hans").startswith("en")


def status_label(status: str) -> str:
    return str(STATUSES[status][0]) if status in STATUSES else str(status).replace("_", " ")


def status_icon(status: str) -> str:
    return STATUSES.get(status, ("", "?"))[1]


def label(mapping: dict, code: str) -> str:
    """The words for a code from one of the tables above (the code itself, de-underscored,
    when the table does not know it)."""
    return str(mapping[code]) if code in mapping else str(code).replace("_", " ")


def group_label(indicator_id: str) -> str:
    return label(GROUPS, indicator_id.split(".")[0])


def grade_label(code: float) -> str:
    """二级甲等 for 23 (core.yaml: grade code = level × 10 + class; 0 = ungraded)."""
    number = int(round(code))
    level, klass = divmod(number, 10)
    if number == 0 or level not in _GRADE_LEVELS or klass not in _GRADE_CLASSES:
        return gettext("ungraded") if number == 0 else str(number)
    if _english():
        return f"{_GRADE_LEVELS[level]} {_GRADE_CLASSES[klass]}"
    return f"{_GRADE_LEVELS[level]}{_GRADE_CLASSES[klass]}"


def _is_grade(unit: str, expression: str) -> bool:
    return unit == "level" and "hospital_grade" in expression


def unit_suffix(unit: str) -> str:
    if unit == "per_10000":
        return gettext(" per 10,000 residents") if _english() else " 名/万人"
    if unit == "level" and not _english():
        return " 级"
    return ""


def number(value: float | None, unit: str, expression: str = "") -> str:
    """A figure in its unit with sensible precision: 68.9%, 0.72 名/万人, 二级甲等, 12."""
    if value is None:
        return "—"
    if unit == "percent":
        # one decimal always, as the documents print it (gather.format_value): 50.0%
        return f"{value * 100:.1f}%"
    if _is_grade(unit, expression):
        return grade_label(value)
    return _trim(value, 2) + unit_suffix(unit)


def _trim(value: float, digits: int) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.{digits}f}".rstrip("0").rstrip(".")


def target(text: str, unit: str, expression: str = "") -> str:
    """ ">= 35%" → "≥ 35%", "between 0.6 and 0.8" → "0.6–0.8 名/万人", ">= 23" (grade) →
    "二级甲等及以上"."""
    if not text:
        return ""
    if "bureau:" in text:  # a pack's bureau-set target, before the bureau's number is known
        op = text.split()[0]
        return f"{_OPS.get(op, op)} " + gettext("the local health plan's value (set by the bureau)")
    match = _TARGET.match(text)
    if match:
        op, figure, percent = _OPS[match.group(1).replace("==", "=")], match[2], match[3]
        if _is_grade(unit, expression) and op == "≥":
            grade = grade_label(float(figure))
            return gettext("%(grade)s or above") % {"grade": grade}
        return f"{op} {figure}{percent}" + ("" if percent else unit_suffix(unit))
    match = _BETWEEN.match(text)
    if match:
        return f"{match[1]}{match[2]}–{match[3]}{match[4]}" + (
            "" if match[4] else unit_suffix(unit)
        )
    return text.replace(">=", "≥").replace("<=", "≤")


def gap(value: float | None, unit: str, expression: str = "") -> str:
    """How far short, in the value's unit: 6.1 个百分点 for a percentage."""
    if value is None or value == 0:
        return ""
    if unit == "percent":
        points = _trim(abs(value) * 100, 1)
        return gettext("%(points)s points") % {"points": points}
    if _is_grade(unit, expression):
        return ""
    return _trim(abs(value), 2) + unit_suffix(unit)


def person(user) -> str:
    """A person by full name (family name first in Chinese); the username only when the
    account has no name."""
    if user is None:
        return "—"
    first, last = (user.first_name or "").strip(), (user.last_name or "").strip()
    if not first and not last:
        return user.username
    if _english():
        return " ".join(part for part in (first, last) if part)
    return f"{last}{first}"
