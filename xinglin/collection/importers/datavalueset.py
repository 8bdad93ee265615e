"""DHIS2-style `dataValueSets` JSON: {"dataSet", "period", "orgUnit", "dataValues": [{
"dataElement", "categoryOptionCombo", "period", "orgUnit", "value", "comment"}]}; the set's
period and orgUnit are defaults for its entries. `categoryOptionCombo` names the value's
category option combination (our code, e.g. "F", or a mapped DHIS2 uid; the default combo's
uid or name, or none, for an element without categories; decision 0013). Values are stored values (percent as a fraction). Rows in errors are
1-based positions in `dataValues`."""

from __future__ import annotations

import json
from pathlib import Path

from django.utils.translation import gettext as _

from xinglin.collection.batch import Candidate, Location, Problem
from xinglin.collection.importers import Parsed, UnreadableFile, _textreport
from xinglin.collection.importers.csv_long import decode


def read(path: Path, *, delete: bool = False, name: str | None = None) -> Parsed:
    """`delete`: every entry names a value to remove (DHIS2 importStrategy=DELETE), as
    `deleted: true` on an entry does; such entries need no value."""
    text, encoding = decode(path.read_bytes())
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise UnreadableFile(
            _("not valid JSON: %(msg)s at line %(line)d column %(col)d")
            % {"msg": error.msg, "line": error.lineno, "col": error.colno}
        ) from None
    parsed = Parsed("json", encoding=encoding)
    entries = document.get("dataValues") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        message = _("expected an object with a “dataValues” list")
        parsed.problems.append(Problem(Location(0, "dataValues"), message))
        return parsed
    defaults = {key: document.get(key) for key in ("period", "orgUnit", "attributeOptionCombo")}
    for number, entry in enumerate(entries, start=1):
        candidate = _candidate(number, entry, defaults, parsed, delete)
        if candidate is not None:
            parsed.candidates.append(candidate)
    return parsed


def _candidate(
    number: int, entry: object, defaults: dict, parsed: Parsed, delete: bool = False
) -> Candidate | None:
    if not isinstance(entry, dict):
        parsed.problems.append(Problem(Location(number, ""), _("each data value is an object")))
        return None
    deleted = delete or entry.get("deleted") in (True, "true")  # DHIS2: remove this value
    fields = {
        "dataElement": entry.get("dataElement"),
        "period": entry.get("period", defaults["period"]),
        "orgUnit": entry.get("orgUnit", defaults["orgUnit"]),
        "value": entry.get("value"),
    }
    if deleted:  # no value needed
        del fields["value"]
    missing = [name for name, value in fields.items() if value in (None, "")]
    for name in missing:
        parsed.problems.append(Problem(Location(number, name), _("missing")))
    combos = _combo_problems(number, entry, defaults)
    parsed.problems += combos
    if missing or combos:
        return None
    element = str(fields["dataElement"]).strip()
    combo = entry.get("categoryOptionCombo")
    if combo not in (None, "") and str(combo).strip() not in DEFAULT_COMBOS:
        element = f"{element}.{str(combo).strip()}"  # the operand: checked by `write`
    return Candidate(
        str(fields["orgUnit"]).strip(),
        str(fields["period"]).strip(),
        element,
        fields.get("value", ""),
        Location(number, "value"),
        delete=deleted,
        comment=_comment(entry),
    )


def _comment(entry: dict) -> str | None:
    """The entry's `comment` (DHIS2): replaces the stored one; absent leaves it."""
    comment = entry.get("comment")
    return None if comment is None else str(comment).strip()


# DHIS2's names of "no disaggregation": the default category option combo (its uid and name).
DEFAULT_COMBOS = frozenset({"HllvX50cXC0", "default"})


def _combo_problems(number: int, entry: dict, defaults: dict) -> list[Problem]:
    """A non-default attribute option combo is refused by name: values carry no attribute,
    so taking the value would drop it (issue 18.9). (A category option combo goes with the
    element as its operand; `write` refuses one the element does not have, by name.)"""
    combo = entry.get("attributeOptionCombo", defaults["attributeOptionCombo"])
    if combo in (None, "") or str(combo) in DEFAULT_COMBOS:
        return []
    message = _(
        "attribute option combo “%(combo)s” refused: values carry no attribute option combo"
    ) % {"combo": combo}
    return [Problem(Location(number, "attributeOptionCombo"), message)]


def write_report(path: Path, parsed: Parsed, problems: list[Problem], report: Path) -> None:
    _textreport.write(problems, report)
