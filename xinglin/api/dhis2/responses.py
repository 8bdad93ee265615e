"""DHIS2's answers: WebMessage errors and the ImportSummary of a dataValueSets import."""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.utils.translation import gettext as _

from xinglin.api.actions import WriteResult

HTTP_STATUS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
               405: "Method Not Allowed",
               409: "Conflict", 413: "Payload Too Large"}  # fmt: skip
# Our fields as DHIS2 names them in a conflict's `property`.
PROPERTIES = {"element": "dataElement", "orgunit": "orgUnit", "": "value",
              "category_option_combo": "categoryOptionCombo"}  # fmt: skip


def json_response(body: dict, status: int = 200) -> HttpResponse:
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return HttpResponse(content, status=status, content_type="application/json; charset=utf-8")


def web_message(status: int, message: str) -> HttpResponse:
    body = {
        "httpStatus": HTTP_STATUS.get(status, ""),
        "httpStatusCode": status,
        "status": "ERROR",
        "message": message,
    }
    response = json_response(body, status)
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="Xinglin", ApiToken, Bearer'
    return response


def import_summary(
    result: WriteResult,
    *,
    entries: dict[int, dict],
    ignored: int,
    options: dict,
    faults: dict[int, str] | None = None,
) -> HttpResponse:
    """The ImportSummary: SUCCESS, WARNING (stored, with the warnings as conflicts) or ERROR
    (HTTP 409, nothing stored). Its fields are given both at the top level (the ImportSummary
    of DHIS2 up to 2.37) and under `response` (the WebMessage of 2.38 on), so that clients of
    either generation read it where they look."""
    conflicts = [_conflict(p, entries, faults or {}) for p in result.problems]
    refused = not result.is_stored
    if refused:
        status, counts = "ERROR", _counts(ignored=len(entries) or len(conflicts))
        description = _("Import refused: nothing was written (all or nothing).")
    else:
        status = "WARNING" if conflicts else "SUCCESS"
        counts = _counts(result.added, result.changed, result.unchanged + ignored, result.deleted)
        description = (
            _("Dry run: everything was checked and nothing was written.")
            if result.dry_run
            else _("Import process completed successfully")
        )
    summary = {
        "responseType": "ImportSummary",
        "status": status,
        "importOptions": options,
        "description": description,
        "importCount": counts,
        "conflicts": conflicts,
        "dataSetComplete": "false",
    }
    code = 409 if refused else 200
    wrapper = {"httpStatus": HTTP_STATUS[code], "httpStatusCode": code, "message": description}
    return json_response({**wrapper, **summary, "response": summary}, code)


def _counts(imported: int = 0, updated: int = 0, ignored: int = 0, deleted: int = 0) -> dict:
    return {"imported": imported, "updated": updated, "ignored": ignored, "deleted": deleted}


def _conflict(problem, entries: dict[int, dict], faults: dict[int, str]) -> dict:
    """`object`: what the conflict is about as the request wrote it (the identifier or the
    value at fault); `value`: the message; `indexes`: 0-based positions in the request.
    `faults`: the field an error of a row is about, where the problem names only the value."""
    row, field = problem.location.row, problem.location.field
    prop = PROPERTIES.get(field, field)
    if prop == "value" and problem.is_error and row in faults:
        prop = faults[row]
    entry = entries.get(row, {})
    found = entry.get(prop)
    conflict = {
        "object": str(found) if found not in (None, "") else prop,
        "value": problem.message,
        "property": prop,
    }
    if row:
        conflict["indexes"] = [row - 1]
    return conflict
