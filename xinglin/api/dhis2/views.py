"""One view for the DHIS2 face: authenticate, pick the resource, answer DHIS2's shapes.
Paths: `/api/<resource>`, `/api/<resource>.json` and `/api/<version>/<resource>` (e.g. 40);
dataValueSets also `.xml` and `.csv`."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from xinglin.api.dhis2 import datavalues, metadata
from xinglin.api.dhis2.auth import Unauthorized, authenticate
from xinglin.api.dhis2.params import ParamError
from xinglin.api.dhis2.responses import json_response, web_message

RESOURCES = ("dataValueSets", "system/info", "me", "dataElements", "organisationUnits",
             "dataSets", "periodTypes")  # fmt: skip


class ResourceConverter:
    """`dataValueSets`, `dataValueSets.json`, `system/info`, …: a resource and its extension."""

    regex = "(?:" + "|".join(RESOURCES) + r")(?:\.(?:json|xml|csv))?"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class VersionConverter:
    """DHIS2's API version in the path (`/api/40/…`); any number is answered the same."""

    regex = "[0-9]{1,3}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


# Credentials travel in a header, never in a cookie, for writes: no CSRF to forge.
@csrf_exempt
def endpoint(request: HttpRequest, resource: str, version: int | None = None) -> HttpResponse:
    resource, _dot, ext = resource.partition(".")
    ext = ext or None
    try:
        user = authenticate(request)
    except Unauthorized as error:
        return web_message(401, str(error))
    try:
        if resource == "dataValueSets":
            return _data_value_sets(request, user, ext)
        if request.method not in ("GET", "HEAD"):
            return web_message(405, _("this resource is read-only here"))
        if ext not in (None, "json"):
            return web_message(404, _("this resource is answered in JSON only"))
        return json_response(_metadata(request, user, resource))
    except ParamError as error:
        return web_message(409, str(error))


def _data_value_sets(request: HttpRequest, user, ext: str | None) -> HttpResponse:
    if request.method == "POST":
        return datavalues.post(request, user, request.GET)
    if request.method not in ("GET", "HEAD"):
        return web_message(405, _("dataValueSets takes GET and POST"))
    return datavalues.get(request, user, request.GET, ext or _accepted(request))


def _accepted(request: HttpRequest) -> str:
    accept = request.META.get("HTTP_ACCEPT", "")
    if "json" in accept or not accept:
        return "json"
    if "xml" in accept:
        return "xml"
    return "csv" if "csv" in accept else "json"


def _metadata(request: HttpRequest, user, resource: str) -> dict:
    if resource == "system/info":
        return metadata.system_info()
    if resource == "me":
        return metadata.me(user, request.GET)
    if resource == "dataElements":
        return metadata.data_elements(request.GET)
    if resource == "organisationUnits":
        return metadata.organisation_units(user, request.GET)
    if resource == "dataSets":
        return metadata.data_sets(request.GET)
    return metadata.period_types(request.GET)
