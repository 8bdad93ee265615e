"""A dataValueSets document written as DHIS2 does: JSON, DXF2 XML or CSV (its column order,
with a header row; text cells neutralised against spreadsheet formulas)."""

from __future__ import annotations

import io
import json

from lxml import etree

from xinglin.api.dhis2.bodies import CSV_COLUMNS, DXF2, JSON_FIELDS
from xinglin.lib import cells

FORMATS = {
    "json": "application/json; charset=utf-8",
    "xml": "application/xml; charset=utf-8",
    "csv": "application/csv; charset=utf-8",
}


def write_document(document: dict, fmt: str) -> tuple[bytes, str]:
    if fmt == "xml":
        return _xml(document), FORMATS[fmt]
    if fmt == "csv":
        return _csv(document), FORMATS[fmt]
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode(), FORMATS["json"]


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _xml(document: dict) -> bytes:
    root = etree.Element(f"{{{DXF2}}}dataValueSet", nsmap={None: DXF2})
    for entry in document["dataValues"]:
        node = etree.SubElement(root, f"{{{DXF2}}}dataValue")
        for name in JSON_FIELDS:
            if name in entry:
                node.set(name, _text(entry[name]))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _csv(document: dict) -> bytes:
    buffer = io.StringIO()
    writer = cells.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for entry in document["dataValues"]:
        writer.writerow([_text(entry[name]) if name in entry else "" for name in JSON_FIELDS])
    return buffer.getvalue().encode("utf-8")
