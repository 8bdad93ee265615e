"""The bodies a DHIS2 client posts to /dataValueSets, chosen by content type: JSON, DXF2 XML
(`<dataValueSet xmlns="http://dhis2.org/schema/dxf/2.0">`), CSV in DHIS2's column order, and
IHE ADX (read by the ADX format's own parser). JSON, XML and CSV become one dataValueSets
document, read by collection's importer (the same reader as `xinglin import`)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from lxml import etree

from xinglin.api.formats import adx, dhis2
from xinglin.api.formats.adx import PARSER_OPTIONS
from xinglin.api.mapping import CodeMap
from xinglin.collection.importers import Parsed, UnreadableFile
from xinglin.collection.importers.csv_long import decode

DXF2 = "http://dhis2.org/schema/dxf/2.0"
# DHIS2's dataValueSets CSV, in its order (the header row is optional).
CSV_COLUMNS = ("dataelement", "period", "orgunit", "categoryoptioncombo",
               "attributeoptioncombo", "value", "storedby", "lastupdated", "comment",
               "followup", "deleted")  # fmt: skip
# The same, as the JSON entries name them.
JSON_FIELDS = ("dataElement", "period", "orgUnit", "categoryOptionCombo",
               "attributeOptionCombo", "value", "storedBy", "lastUpdated", "comment",
               "followup", "deleted")  # fmt: skip
MEDIA = {
    "application/json": "json",
    "application/xml": "xml",
    "text/xml": "xml",
    "application/csv": "csv",
    "text/csv": "csv",
    "application/adx+xml": "adx",
}


@dataclass
class Body:
    parsed: Parsed
    # 1-based position -> the entry as the request wrote it (for the conflicts' `object`).
    entries: dict[int, dict] = field(default_factory=dict)
    kind: str = "json"


def kind_of(content_type: str, body: bytes) -> str:
    """The body's format by its content type; XML whose root is ADX's is ADX."""
    media = (content_type or "application/json").split(";")[0].strip().lower()
    kind = MEDIA.get(media)
    if kind is None:
        raise UnreadableFile(
            _("content type “%(type)s” is not read here; send JSON, XML, CSV or ADX")
            % {"type": media}
        )
    if kind == "xml" and b"urn:ihe:qrph:adx:2015" in body[:2000]:
        return "adx"
    return kind


def read(
    body: bytes, kind: str, *, delete: bool, adx_elements: list[str], codes: CodeMap | None = None
) -> Body:
    """`codes`: the ADX parser's code mapping (it checks element identifiers against its
    schema, so it translates them itself); the other formats are translated by the caller."""
    if kind == "adx":
        parsed = adx.parse(body, codes or CodeMap(), element_codes=adx_elements)
        entries = {
            c.location.row: {"dataElement": c.element, "orgUnit": c.orgunit,
                             "period": c.period, "value": c.raw}
            for c in parsed.candidates
        }  # fmt: skip
        return Body(parsed, entries, kind)
    if kind == "json":
        try:
            document = json.loads(decode(body)[0])
        except ValueError:  # the reader's own message names line and column
            return Body(dhis2.parse(body, CodeMap(), delete=delete), {}, kind)
        entries = document.get("dataValues") if isinstance(document, dict) else None
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, dict):
                _typed(entry)
    else:
        document = _from_xml(body) if kind == "xml" else _from_csv(body)
    text = json.dumps(document, ensure_ascii=False).encode()
    return Body(dhis2.parse(text, CodeMap(), delete=delete), _entries(document), kind)


def _entries(document: object) -> dict[int, dict]:
    if not isinstance(document, dict) or not isinstance(document.get("dataValues"), list):
        return {}
    defaults = {k: document[k] for k in ("orgUnit", "period") if k in document}
    return {
        number: {**defaults, **entry}
        for number, entry in enumerate(document["dataValues"], start=1)
        if isinstance(entry, dict)
    }


def _from_xml(body: bytes) -> dict:
    try:
        root = etree.fromstring(body, etree.XMLParser(**PARSER_OPTIONS))
    except etree.XMLSyntaxError as error:
        raise UnreadableFile(
            _("not valid XML: %(msg)s (line %(line)s)") % {"msg": error.msg, "line": error.lineno}
        ) from None
    if root.tag not in (f"{{{DXF2}}}dataValueSet", "dataValueSet"):
        raise UnreadableFile(_("expected a DHIS2 <dataValueSet> document"))
    document = {k: v for k, v in root.attrib.items() if k in ("orgUnit", "period", "dataSet",
                                                             "attributeOptionCombo")}  # fmt: skip
    document["dataValues"] = [
        _typed(dict(node.attrib))
        for node in root
        if isinstance(node.tag, str) and etree.QName(node).localname == "dataValue"
    ]
    return document


def _from_csv(body: bytes) -> dict:
    text, _encoding = decode(body)
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if rows and rows[0] and rows[0][0].strip().lower() == CSV_COLUMNS[0]:
        rows = rows[1:]
    entries = []
    for row in rows:
        entry = {name: cell for name, cell in zip(JSON_FIELDS, row, strict=False) if cell != ""}
        entries.append(_typed(entry))
    return {"dataValues": entries}


def _typed(entry: dict) -> dict:
    """`deleted` as a JSON boolean: XML and CSV carry text, and DHIS2 writes `t`/`f` too."""
    if isinstance(entry.get("deleted"), str):
        entry["deleted"] = entry["deleted"].strip().lower() in ("true", "t")
    return entry
