"""DHIS2 query parameters: each endpoint names the ones it honours and refuses any other by
name (DHIS2 itself ignores them silently, which hides typos such as `orgunit`); booleans as
DHIS2 writes them (`true`/`false`/`t`/`f`, any case); id schemes case-insensitive."""

from __future__ import annotations

from datetime import date, datetime

from django.http import QueryDict
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

TRUE = frozenset({"true", "t"})
FALSE = frozenset({"false", "f"})
ID_SCHEMES = ("UID", "CODE", "NAME")
# DHIS2's older names of the import strategies (2.2x) are still sent by some scripts.
STRATEGIES = {
    "CREATE_AND_UPDATE": "CREATE_AND_UPDATE",
    "CREATE": "CREATE",
    "UPDATE": "UPDATE",
    "DELETE": "DELETE",
    "NEW_AND_UPDATES": "CREATE_AND_UPDATE",
    "NEW": "CREATE",
    "UPDATES": "UPDATE",
}


class ParamError(ValueError):
    """A parameter that is unknown or has a value this server cannot honour (HTTP 409 with
    the message, as DHIS2 answers an illegal query)."""


class Params:
    """The query of one request, checked against the names the endpoint honours."""

    def __init__(self, query: QueryDict, allowed: frozenset[str]) -> None:
        unknown = sorted(set(query) - allowed)
        if unknown:
            raise ParamError(
                _("unknown parameter “%(names)s”; this endpoint takes: %(allowed)s")
                % {"names": "”, “".join(unknown), "allowed": ", ".join(sorted(allowed))}
            )
        self.query = query

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.query.get(name)
        return default if value in (None, "") else value.strip()

    def many(self, name: str) -> list[str]:
        """A repeatable parameter; DHIS2 also takes comma-separated values."""
        values = []
        for item in self.query.getlist(name):
            values += [part.strip() for part in item.split(",") if part.strip()]
        return values

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.text(name)
        if value is None:
            return default
        if value.lower() in TRUE:
            return True
        if value.lower() in FALSE:
            return False
        raise ParamError(
            _("%(name)s must be true or false (t/f), not “%(value)s”")
            % {"name": name, "value": value}
        )

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            number = low - 1
        if not low <= number <= high:
            raise ParamError(
                _("%(name)s must be a whole number from %(low)d to %(high)d, not “%(value)s”")
                % {"name": name, "low": low, "high": high, "value": value}
            )
        return number

    def choice(self, name: str, choices, default: str) -> str:
        """One of `choices` (upper case; matched in any case)."""
        value = self.text(name)
        if value is None:
            return default
        if value.upper() not in choices:
            raise ParamError(
                _("%(name)s “%(value)s” is not supported; use one of: %(choices)s")
                % {"name": name, "value": value, "choices": ", ".join(choices)}
            )
        return value.upper()

    def strategy(self) -> str:
        return STRATEGIES[self.choice("importStrategy", tuple(STRATEGIES), "CREATE_AND_UPDATE")]

    def id_schemes(self) -> tuple[str, str]:
        """(data element scheme, org unit scheme): idScheme, overridden per kind; UID is
        DHIS2's default."""
        common = self.choice("idScheme", ID_SCHEMES, "UID")
        return (
            self.choice("dataElementIdScheme", ID_SCHEMES, common),
            self.choice("orgUnitIdScheme", ID_SCHEMES, common),
        )

    def day(self, name: str) -> date | None:
        value = self.text(name)
        if value is None:
            return None
        parsed = parse_date(value[:10]) if len(value) >= 10 else None
        if parsed is None:
            raise ParamError(
                _("%(name)s must be a date (2024-01-31), not “%(value)s”")
                % {"name": name, "value": value}
            )
        return parsed

    def moment(self, name: str) -> datetime | date | None:
        """A date or a date and time (lastUpdated)."""
        value = self.text(name)
        if value is None:
            return None
        try:
            parsed = parse_datetime(value) if "T" in value else parse_date(value)
        except ValueError:
            parsed = None
        if parsed is None:
            raise ParamError(
                _("%(name)s must be a date (2024-01-31) or a date and time, not “%(value)s”")
                % {"name": name, "value": value}
            )
        return parsed
