"""DHIS2 `dataValueSets` JSON. Reading reuses collection's importer (the same parser as
`xinglin import`), then translates external identifiers through the code mapping."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable
from pathlib import Path

from xinglin.api.formats import ExportValue, format_value
from xinglin.api.mapping import CodeMap, operand_in
from xinglin.collection.importers import Parsed, datavalueset

MEDIA_TYPE = "application/json"


def export(values: Iterable[ExportValue], codes: CodeMap, **options) -> bytes:
    return json.dumps(document(values, codes), ensure_ascii=False, separators=(",", ":")).encode()


def document(values: Iterable[ExportValue], codes: CodeMap) -> dict:
    entries = []
    for row in values:
        entry = {
            "dataElement": codes.element_out(row.element),
            "categoryOptionCombo": codes.combo_out(row.combo) if row.combo else DEFAULT_COMBO,
            "period": row.period,
            "orgUnit": codes.orgunit_out(row.orgunit),
            "value": format_value(row.value_type, row.value),
        }
        if row.updated_at is not None:
            entry["lastUpdated"] = row.updated_at.isoformat(timespec="seconds")
        if row.comment:
            entry["comment"] = row.comment
        entries.append(entry)
    return {"dataValues": entries}


DEFAULT_COMBO = "HllvX50cXC0"  # DHIS2's default category option combo: no disaggregation


def parse(body: bytes, codes: CodeMap, **options) -> Parsed:
    # collection's reader takes a file (it decodes UTF-8 or GBK and applies the size limits).
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "dataValueSets.json"
        path.write_bytes(body)
        parsed = datavalueset.read(path, delete=options.get("delete", False))
    for candidate in parsed.candidates:
        candidate.element = operand_in(codes, candidate.element)
        candidate.orgunit = codes.orgunit_in(candidate.orgunit)
    return parsed
