"""DHIS2 id schemes for data elements and org units: UID (the code mapping; codes without a
mapping pass through, as in `CodeMap`), CODE (our codes) and NAME (where a name names one
thing only; an ambiguous name is refused by name, never guessed)."""

from __future__ import annotations

from collections import defaultdict

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from xinglin.api.mapping import CodeMap
from xinglin.network.models import OrgUnit
from xinglin.standards.models import DataElement


class Ambiguous(ValueError):
    """A NAME that names more than one element or org unit."""


def element_name(element: DataElement) -> str:
    """The element's name in the request's language (Chinese first)."""
    return element_name_of(element.code, element.name_zh, element.name_en)


class _Names:
    """name -> codes, and code -> the name written out."""

    def __init__(self, rows) -> None:
        self.codes: dict[str, set[str]] = defaultdict(set)
        self.names: dict[str, str] = {}
        for code, shown, *other in rows:
            self.names[code] = shown
            for name in (shown, *other):
                if name:
                    self.codes[name.strip()].add(code)

    def code(self, name: str, what: str) -> str:
        found = self.codes.get(name.strip(), set())
        if len(found) > 1:
            raise Ambiguous(
                _("the name “%(name)s” names %(count)d %(what)s: use codes or UIDs")
                % {"name": name, "count": len(found), "what": what}
            )
        return next(iter(found)) if found else name


class IdSchemes:
    """The translation of one request: our codes <-> the identifiers it uses. The same four
    functions as `CodeMap`, so the dataValueSets writer and reader take either."""

    def __init__(self, element_scheme: str = "UID", orgunit_scheme: str = "UID") -> None:
        self.element_scheme, self.orgunit_scheme = element_scheme, orgunit_scheme
        needs_map = "UID" in (element_scheme, orgunit_scheme)
        self._map = CodeMap.load("dhis2") if needs_map else CodeMap()
        self._elements = self._orgunits = None
        if element_scheme == "NAME":
            rows = DataElement.objects.values_list("code", "name_zh", "name_en")
            self._elements = _Names((c, element_name_of(c, zh, en), zh, en) for c, zh, en in rows)
        if orgunit_scheme == "NAME":
            self._orgunits = _Names(OrgUnit.objects.values_list("code", "name"))

    def element_in(self, external: str) -> str:
        if self.element_scheme == "UID":
            return self._map.element_in(external)
        if self.element_scheme == "NAME":
            return self._elements.code(external, _("data elements"))
        return external

    def orgunit_in(self, external: str) -> str:
        if self.orgunit_scheme == "UID":
            return self._map.orgunit_in(external)
        if self.orgunit_scheme == "NAME":
            return self._orgunits.code(external, _("org units"))
        return external

    def element_out(self, code: str) -> str:
        if self.element_scheme == "UID":
            return self._map.element_out(code)
        if self.element_scheme == "NAME":
            return self._elements.names.get(code, code)
        return code

    def combo_in(self, external: str) -> str:
        return self._map.combo_in(external)  # a mapped UID, else our code

    def combo_out(self, code: str) -> str:
        return self._map.combo_out(code) if self.element_scheme == "UID" else code

    def orgunit_out(self, code: str) -> str:
        if self.orgunit_scheme == "UID":
            return self._map.orgunit_out(code)
        if self.orgunit_scheme == "NAME":
            return self._orgunits.names.get(code, code)
        return code


def element_name_of(code: str, name_zh: str, name_en: str) -> str:
    if (get_language() or "").startswith("en") and name_en:
        return name_en
    return name_zh


def uids() -> CodeMap:
    """The UID scheme alone (metadata answers: `id` is the UID, `code` our code)."""
    return CodeMap.load("dhis2")
