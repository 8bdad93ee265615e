"""IHE ADX (Aggregate Data Exchange) XML. Periods are ISO 8601 start/duration
(`2024-01-01/P1Y`, `2024-04-01/P3M`, `2024-01-01/P1M`). Every document is checked against an
XSD generated from the data elements in play (a pack's, or the whole catalogue), so an unknown
element or a malformed period is refused by the schema before anything is read."""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _
from lxml import etree

from xinglin.api.formats import ExportValue, format_value
from xinglin.api.mapping import CodeMap
from xinglin.collection.batch import Candidate, Location, Problem
from xinglin.collection.importers import Parsed
from xinglin.lib import periods

NS = "urn:ihe:qrph:adx:2015"
XS = "http://www.w3.org/2001/XMLSchema"
MEDIA_TYPE = "application/adx+xml"
DURATIONS = {"yearly": "P1Y", "quarterly": "P3M", "monthly": "P1M"}
PERIOD_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}/P(1Y|3M|1M)"
# Reading never resolves entities nor fetches anything named in the document.
PARSER_OPTIONS = {"resolve_entities": False, "no_network": True, "load_dtd": False}


def to_adx_period(code: str) -> str:
    period = periods.parse(code)
    return f"{period.start.isoformat()}/{DURATIONS[period.type]}"


def from_adx_period(text: str) -> str:
    """`2024-04-01/P3M` → `2024Q2`; PeriodError when it is not a whole year, quarter or month."""
    start_text, _sep, duration = text.partition("/")
    try:
        start = date.fromisoformat(start_text)
    except ValueError:
        raise periods.PeriodError(text) from None
    kind = {v: k for k, v in DURATIONS.items()}.get(duration)
    if kind is None:
        raise periods.PeriodError(text)
    period = periods.for_date(start, kind)
    if period.start != start:
        raise periods.PeriodError(text)
    return period.code


@functools.lru_cache(maxsize=32)
def schema_document(element_codes: tuple[str, ...]) -> bytes:
    """The XSD for ADX documents about these (external) element codes."""
    E = _Builder()
    codes = E.simple("dataElementCode", "xs:token", [E.enum(c) for c in sorted(element_codes)])
    period = E.simple("periodType", "xs:token", [E.node("xs:pattern", value=PERIOD_PATTERN)])
    data_value = E.node(
        "xs:complexType",
        E.node(
            "xs:sequence", E.node("xs:element", name="annotation", type="xs:string", minOccurs="0")
        ),
        E.attribute("dataElement", "adx:dataElementCode"),
        E.attribute("value", "xs:decimal"),
        name="dataValueType",
    )
    group = E.node(
        "xs:complexType",
        E.node("xs:sequence", E.element("dataValue", "adx:dataValueType")),
        E.attribute("orgUnit", "xs:token"),
        E.attribute("period", "adx:periodType"),
        E.attribute("dataSet", "xs:token"),
        E.attribute("completeDate", "xs:date", required=False),
        name="groupType",
    )
    root = E.node(
        "xs:element",
        E.node(
            "xs:complexType",
            E.node("xs:sequence", E.element("group", "adx:groupType", least="0")),
            E.attribute("exported", "xs:dateTime"),
        ),
        name="adx",
    )
    schema = E.node(
        "xs:schema",
        codes,
        period,
        data_value,
        group,
        root,
        targetNamespace=NS,
        elementFormDefault="qualified",
    )
    return etree.tostring(schema, xml_declaration=True, encoding="UTF-8", pretty_print=True)


@functools.lru_cache(maxsize=32)
def _schema(element_codes: tuple[str, ...]) -> etree.XMLSchema:
    return etree.XMLSchema(etree.fromstring(schema_document(element_codes)))


class _Builder:
    def node(self, tag: str, *children, **attributes) -> etree._Element:
        prefix, _sep, name = tag.partition(":")
        element = etree.Element(f"{{{XS}}}{name}", nsmap={"xs": XS, "adx": NS})
        for key, value in attributes.items():
            element.set(key, value)
        element.extend(children)
        return element

    def enum(self, value: str) -> etree._Element:
        return self.node("xs:enumeration", value=value)

    def simple(self, name: str, base: str, facets: list) -> etree._Element:
        return self.node(
            "xs:simpleType", self.node("xs:restriction", *facets, base=base), name=name
        )

    def attribute(self, name: str, type_: str, required: bool = True) -> etree._Element:
        return self.node(
            "xs:attribute", name=name, type=type_, use="required" if required else "optional"
        )

    def element(self, name: str, type_: str, least: str = "1") -> etree._Element:
        return self.node(
            "xs:element", name=name, type=type_, minOccurs=least, maxOccurs="unbounded"
        )


def export(
    values: Iterable[ExportValue],
    codes: CodeMap,
    *,
    data_set: str = "core",
    element_codes: Iterable[str] = (),
    **options,
) -> bytes:
    """An ADX document, checked against its own schema before it leaves."""
    groups: dict[tuple[str, str], list[ExportValue]] = defaultdict(list)
    for row in values:
        groups[(row.orgunit, row.period)].append(row)
    exported = timezone.now().replace(microsecond=0).isoformat()
    root = etree.Element(f"{{{NS}}}adx", nsmap={None: NS}, exported=exported)
    for (orgunit, period), rows in sorted(groups.items()):
        group = etree.SubElement(
            root,
            f"{{{NS}}}group",
            orgUnit=codes.orgunit_out(orgunit),
            period=to_adx_period(period),
            dataSet=data_set,
        )
        for row in sorted(rows, key=lambda r: r.element):
            # ADX values are decimals: booleans travel as 1/0.
            value = format_value("number", row.value)
            entry = etree.SubElement(
                group, f"{{{NS}}}dataValue", dataElement=codes.element_out(row.element), value=value
            )
            if row.comment:  # ADX carries a value's comment as its annotation
                etree.SubElement(entry, f"{{{NS}}}annotation").text = row.comment
    _schema(_external(element_codes, codes)).assertValid(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _external(element_codes: Iterable[str], codes: CodeMap) -> tuple[str, ...]:
    return tuple(sorted({codes.element_out(code) for code in element_codes}))


def parse(body: bytes, codes: CodeMap, *, element_codes: Iterable[str] = (), **options) -> Parsed:
    parsed = Parsed("adx", encoding="utf-8")
    try:
        root = etree.fromstring(body, etree.XMLParser(**PARSER_OPTIONS))
    except etree.XMLSyntaxError as error:
        parsed.problems.append(Problem(Location(error.lineno or 0, "xml"), str(error.msg)))
        return parsed
    schema = _schema(_external(element_codes, codes))
    if not schema.validate(root):
        for error in schema.error_log:
            parsed.problems.append(Problem(Location(error.line, _field(error)), error.message))
        return parsed
    for group in root.iterfind(f"{{{NS}}}group"):
        _read_group(group, codes, parsed)
    return parsed


def _field(error) -> str:
    """The attribute a schema error is about, else the element (the last step of its path)."""
    if match := re.search(r"attribute '(\w+)'", error.message):
        return match.group(1)
    step = (error.path or "").rsplit("/", 1)[-1]
    return step.split(":")[-1].split("[")[0]


def _read_group(group: etree._Element, codes: CodeMap, parsed: Parsed) -> None:
    line = group.sourceline or 0
    try:
        period = from_adx_period(group.get("period"))
    except periods.PeriodError:
        message = _("“%(period)s” is not a whole year, quarter or month") % {
            "period": group.get("period")
        }
        parsed.problems.append(Problem(Location(line, "period"), message))
        return
    orgunit = codes.orgunit_in(group.get("orgUnit"))
    for value in group.iterfind(f"{{{NS}}}dataValue"):
        parsed.candidates.append(
            Candidate(
                orgunit,
                period,
                codes.element_in(value.get("dataElement")),
                value.get("value"),
                Location(value.sourceline or 0, "value"),
                comment=_annotation(value),
            )
        )


def _annotation(value: etree._Element) -> str | None:
    """A dataValue's annotation (its comment); None without one (the stored one stays)."""
    note = value.find(f"{{{NS}}}annotation")
    return None if note is None else (note.text or "").strip()
