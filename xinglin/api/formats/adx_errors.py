"""ADX problems in the reader's language: "file, line N: what is wrong". libxml's schema
errors (English, with the whole enumeration of element codes) are translated by their type;
nothing of the schema itself reaches the user."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

_ATTRIBUTE = re.compile(r"attribute '([^']+)'")
_ELEMENT = re.compile(r"Element '(?:\{[^}]*\})?([^']+)'")
_VALUE = re.compile(r"(?:The value '([^']*)'|: '([^']*)' is not a valid value)")
_MISSING = re.compile(r"The attribute '([^']+)' is required")
_EXPECTED = re.compile(r"Expected is \( (?:\{[^}]*\})?(\w+)")


def where(name: str, line: int, what: str) -> str:
    return _("%(file)s, line %(line)s: %(what)s") % {"file": name, "line": line, "what": what}


def syntax(name: str, line: int, detail: str = "") -> str:
    if "entity" in detail.lower():
        # the parser neither resolves entities nor reads what they name
        return where(
            name, line, _("entities are not allowed (nothing outside the document is read)")
        )
    return where(name, line, _("this is not well-formed XML"))


def explain_all(error_log, name: str) -> list[tuple[int, str, str]]:
    """(line, field, message) per problem; libxml's second report of one failure (the type
    check after a failed facet) is left out."""
    seen: set[tuple[int, str]] = set()
    result = []
    for error in error_log:
        field, what = explain(error)
        if (error.line, field) in seen:
            continue
        seen.add((error.line, field))
        result.append((error.line, field, where(name, error.line, what)))
    return result


def explain(error) -> tuple[str, str]:
    """(the attribute or element concerned, what is wrong) of one libxml schema error."""
    message = error.message
    attribute = _match(_ATTRIBUTE, message)
    element = _match(_ELEMENT, message) or ""
    value = _value(message)
    kind = error.type_name
    if kind == "SCHEMAV_CVC_ELT_1":
        return "adx", _("this is not an ADX document (the root must be adx in %(ns)s)") % {
            "ns": "urn:ihe:qrph:adx:2015"
        }
    if kind == "SCHEMAV_CVC_COMPLEX_TYPE_4" and (missing := _match(_MISSING, message)):
        return missing, _("%(element)s has no %(attribute)s attribute") % {
            "element": element,
            "attribute": missing,
        }
    if kind == "SCHEMAV_ELEMENT_CONTENT":
        if expected := _match(_EXPECTED, message):
            return element, _("%(element)s is missing its %(expected)s") % {
                "element": element,
                "expected": expected,
            }
        return element, _("%(element)s is not expected here") % {"element": element}
    if attribute:
        return attribute, _attribute_problem(attribute, value)
    return element, _("%(element)s does not follow the ADX profile") % {"element": element}


def _attribute_problem(attribute: str, value: str) -> str:
    if attribute == "dataElement":
        return _("“%(code)s” is not a data element known here") % {"code": value}
    if attribute == "period":
        return _(
            "“%(period)s” is not a year, quarter or month written as start/duration "
            "(2024-01-01/P1Y, 2024-04-01/P3M, 2024-03-01/P1M)"
        ) % {"period": value}
    if attribute == "value":
        return _("“%(value)s” is not a number") % {"value": value}
    if attribute == "exported":
        return _("“%(value)s” is not a date and time (2025-01-31T08:00:00)") % {"value": value}
    if attribute == "completeDate":
        return _("“%(value)s” is not a date (2025-01-31)") % {"value": value}
    return _("“%(value)s” is not a valid %(attribute)s") % {"value": value, "attribute": attribute}


def group_dimension(name: str, line: int, attribute: str, value: str) -> str:
    what = _(
        "the group is marked %(attribute)s=“%(value)s”: Xinglin keeps no such attribute "
        "for its values, so it would be lost; send the values without it"
    ) % {"attribute": attribute, "value": value}
    return where(name, line, what)


def disaggregation(name: str, line: int, element: str, attribute: str, value: str) -> str:
    what = _(
        "the value of %(element)s is split by %(attribute)s=“%(value)s”, but this data "
        "element has no categories: send its total instead"
    ) % {"element": element, "attribute": attribute, "value": value}
    return where(name, line, what)


def not_a_category(name: str, line: int, element: str, attribute: str, value: str, known) -> str:
    what = _(
        "the value of %(element)s is split by %(attribute)s=“%(value)s”, but %(element)s is "
        "split by %(categories)s only"
    ) % {"element": element, "attribute": attribute, "value": value, "categories": ", ".join(known)}
    return where(name, line, what)


def unknown_option(name: str, line: int, element: str, attribute: str, value: str, options) -> str:
    what = _(
        "“%(value)s” is not an option of %(attribute)s (of %(element)s): one of %(options)s"
    ) % {"element": element, "attribute": attribute, "value": value, "options": ", ".join(options)}
    return where(name, line, what)


def missing_categories(name: str, line: int, element: str, missing) -> str:
    what = _(
        "the value of %(element)s names no %(missing)s: %(element)s is reported per option of"
        " each of its categories"
    ) % {"element": element, "missing": ", ".join(missing)}
    return where(name, line, what)


def _match(pattern: re.Pattern, text: str) -> str | None:
    found = pattern.search(text)
    return found.group(1) if found else None


def _value(message: str) -> str:
    found = _VALUE.search(message)
    return next((g for g in found.groups() if g is not None), "") if found else ""
