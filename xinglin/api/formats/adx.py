"""IHE ADX (Aggregate Data Exchange) XML. Periods are ISO 8601 start/duration
(`2024-01-01/P1Y`, `2024-04-01/P3M`, `2024-01-01/P1M`). Every document is checked against an
XSD generated from the data elements in play (a pack's, or the whole catalogue), so an unknown
element or a malformed period is refused by the schema before anything is read."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _
from lxml import etree

from xinglin.api.formats import ExportValue, adx_errors, format_value
from xinglin.api.mapping import CodeMap
from xinglin.collection.batch import Candidate, Location, Problem
from xinglin.collection.forms import Form, target_of
from xinglin.collection.importers import Parsed
from xinglin.lib import periods
from xinglin.network.models import OrgUnit
from xinglin.standards import categories

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
    """The XSD for ADX documents about these (external) element codes. Open where the IHE
    profile is: `anyAttribute` on adx, group and dataValue (group extensions such as
    `comment` or `dataSetComplete`, disaggregation attributes such as `sex`), which the
    parser then reads by name; closed on what we must understand (element codes, periods,
    decimal values)."""
    E = _Builder()
    codes = E.simple("dataElementCode", "xs:token", [E.enum(c) for c in sorted(element_codes)])
    period = E.simple("periodType", "xs:token", [E.node("xs:pattern", value=PERIOD_PATTERN)])
    annotation = E.node("xs:element", name="annotation", type="xs:string", minOccurs="0")
    data_value = E.node(
        "xs:complexType",
        E.node("xs:sequence", annotation),
        E.attribute("dataElement", "adx:dataElementCode"),
        E.attribute("value", "xs:decimal"),
        E.open(),
        name="dataValueType",
    )
    group = E.node(
        "xs:complexType",
        E.node("xs:sequence", E.element("dataValue", "adx:dataValueType")),
        E.attribute("orgUnit", "xs:token"),
        E.attribute("period", "adx:periodType"),
        E.attribute("dataSet", "xs:token", required=False),
        E.attribute("completeDate", "xs:date", required=False),
        E.open(),
        name="groupType",
    )
    root = E.node(
        "xs:element",
        E.node(
            "xs:complexType",
            E.node("xs:sequence", E.element("group", "adx:groupType", least="0")),
            E.attribute("exported", "xs:dateTime"),
            E.open(),
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

    def open(self) -> etree._Element:
        """Any further attribute, in any namespace or none (read by the parser by name)."""
        return self.node("xs:anyAttribute", processContents="skip")

    def element(self, name: str, type_: str, least: str = "1") -> etree._Element:
        return self.node(
            "xs:element", name=name, type=type_, minOccurs=least, maxOccurs="unbounded"
        )


def export(
    values: Iterable[ExportValue], codes: CodeMap, *, element_codes: Iterable[str] = (), **options
) -> bytes:
    """An ADX document, checked against its own schema before it leaves. Each group (an org
    unit and period) names its form as `dataSet`; a stored comment travels as `annotation`."""
    groups: dict[tuple[str, str], list[ExportValue]] = defaultdict(list)
    for row in values:
        groups[(row.orgunit, row.period)].append(row)
    exported = timezone.now().replace(microsecond=0).isoformat()
    root = etree.Element(f"{{{NS}}}adx", nsmap={None: NS}, exported=exported)
    forms = _form_codes(groups)
    split_by = categories.split_elements()
    for (orgunit, period), rows in sorted(groups.items()):
        group = etree.SubElement(
            root, f"{{{NS}}}group", orgUnit=codes.orgunit_out(orgunit), period=to_adx_period(period)
        )
        if form := forms.get((orgunit, period)):
            group.set("dataSet", form)
        for row in sorted(rows, key=lambda r: (r.element, r.combo)):
            # ADX values are decimals: booleans travel as 1/0.
            value = format_value("number", row.value)
            item = etree.SubElement(
                group, f"{{{NS}}}dataValue", dataElement=codes.element_out(row.element), value=value
            )
            if row.combo:  # a disaggregation: one attribute per category (sex="F")
                for category, option in categories.options_of(
                    split_by[row.element], row.combo
                ).items():
                    item.set(category, option)
            if row.comment:
                etree.SubElement(item, f"{{{NS}}}annotation").text = row.comment
    _schema(_external(element_codes, codes)).assertValid(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _form_codes(groups: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(org unit, period) → the code of the form (报表) those values belong to."""

    keys = list(groups)
    units = {u.code: u for u in OrgUnit.objects.filter(code__in={o for o, _p in keys})}
    return {
        (orgunit, period): Form(target_of(units[orgunit]), periods.parse(period).type).code
        for orgunit, period in keys
        if orgunit in units
    }


def _external(element_codes: Iterable[str], codes: CodeMap) -> tuple[str, ...]:
    return tuple(sorted({codes.element_out(code) for code in element_codes}))


# Attributes of a group that Xinglin reads or may safely pass over (IHE's own extensions:
# the completeness flag and a comment on the whole group).
GROUP_ATTRIBUTES = {"orgUnit", "period", "dataSet", "completeDate", "dataSetComplete", "comment"}
VALUE_ATTRIBUTES = {"dataElement", "value"}


def parse(
    body: bytes, codes: CodeMap, *, element_codes: Iterable[str] = (), source: str = "", **options
) -> Parsed:
    """Read an ADX document: schema problems and unknown dimensions refuse it, each named by
    line and attribute, in the user's language. `source` names the file in messages."""
    parsed = Parsed("adx", encoding="utf-8")
    name = source or "ADX"
    try:
        root = etree.fromstring(body, etree.XMLParser(**PARSER_OPTIONS))
    except etree.XMLSyntaxError as error:
        line = error.lineno or 0
        parsed.problems.append(
            Problem(Location(line, "xml"), adx_errors.syntax(name, line, str(error.msg)))
        )
        return parsed
    schema = _schema(_external(element_codes, codes))
    if not schema.validate(root):
        for line, field, message in adx_errors.explain_all(schema.error_log, name):
            parsed.problems.append(Problem(Location(line, field), message))
        return parsed
    split_by = categories.split_elements()
    for group in root.iterfind(f"{{{NS}}}group"):
        _read_group(group, codes, parsed, name, split_by)
    return parsed


def _dimensions(node: etree._Element, known: set[str]) -> list[str]:
    """Attributes in no namespace beyond `known`: ADX dimensions (a group's attribute option
    such as `mechanism`, a value's disaggregation such as `sex`). Attributes in another
    namespace (xsi:schemaLocation, a vendor's) are extensions and passed over."""
    return [a for a in node.attrib if not a.startswith("{") and a not in known]


def _read_group(
    group: etree._Element, codes: CodeMap, parsed: Parsed, name: str, split_by: dict
) -> None:
    line = group.sourceline or 0
    try:
        period = from_adx_period(group.get("period"))
    except periods.PeriodError:
        message = _("“%(period)s” is not a whole year, quarter or month") % {
            "period": group.get("period")
        }
        parsed.problems.append(Problem(Location(line, "period"), message))
        return
    for attribute in _dimensions(group, GROUP_ATTRIBUTES):
        message = adx_errors.group_dimension(name, line, attribute, group.get(attribute))
        parsed.problems.append(Problem(Location(line, attribute), message))
    orgunit = codes.orgunit_in(group.get("orgUnit"))
    for value in group.iterfind(f"{{{NS}}}dataValue"):
        value_line = value.sourceline or 0
        element = codes.element_in(value.get("dataElement"))
        split = _dimensions(value, VALUE_ATTRIBUTES)
        if split or element in split_by:
            problems, combo = _combo(value, element, split, split_by.get(element), name)
            parsed.problems += problems
            if problems:
                continue
            element = categories.operand(element, combo)
        parsed.candidates.append(
            Candidate(
                orgunit,
                period,
                element,
                value.get("value"),
                Location(value_line, "value"),
                comment=_annotation(value),
            )
        )


def _combo(value, element: str, split: list[str], known: list[str] | None, name: str):
    """(problems, combination code) of a dataValue's disaggregation attributes (sex="F"),
    each attribute mapped to the element's category of that code (decision 0013). Refused by
    name: an attribute on an element without categories, or not one of its categories, an
    unknown option, or a category of the element left out."""
    line, shown = value.sourceline or 0, value.get("dataElement")
    if not known:
        return [
            Problem(
                Location(line, a), adx_errors.disaggregation(name, line, shown, a, value.get(a))
            )
            for a in split
        ], ""
    problems = []
    for attribute in split:
        option = value.get(attribute)
        if attribute not in known:
            message = adx_errors.not_a_category(name, line, shown, attribute, option, known)
            problems.append(Problem(Location(line, attribute), message))
            continue
        category = categories.catalogue()[attribute]
        if category.option(option) is None:
            options = [o.code for o in category.options]
            message = adx_errors.unknown_option(name, line, shown, attribute, option, options)
            problems.append(Problem(Location(line, attribute), message))
    missing = [c for c in known if c not in split]
    if missing and not problems:
        message = adx_errors.missing_categories(name, line, shown, missing)
        problems.append(Problem(Location(line, "dataElement"), message))
    if problems:
        return problems, ""
    return [], categories.combo_from_options(known, {a: value.get(a) for a in split}) or ""


def _annotation(value: etree._Element) -> str | None:
    """A dataValue's annotation (its comment); None without one (the stored one stays)."""
    note = value.find(f"{{{NS}}}annotation")
    return None if note is None else (note.text or "").strip()
