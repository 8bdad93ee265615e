"""Schemathesis against the generated OpenAPI, as a clinic clerk: no answer is a 500, nothing
outside the clerk's institution is ever shown, and nothing outside it ever changes."""

from __future__ import annotations

import json
import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from lxml import etree

from xinglin.collection.models import DataValue

# Examples per operation: few in the suite (about a minute for all), more on demand:
# XINGLIN_FUZZ_EXAMPLES=500 pytest xinglin/api/tests/test_fuzz.py
EXAMPLES = int(os.environ.get("XINGLIN_FUZZ_EXAMPLES", "12"))
CLERK_UNIT = "640323100001"
# Codes a clerk of 640323100001 may see: the institution itself (and the DHIS2-mapped form).
ALLOWED = {CLERK_UNIT}


@pytest.fixture(autouse=True)
def _keep_connection():
    """Schemathesis calls the WSGI handler directly, whose request_finished would close the
    test's connection inside its transaction (PostgreSQL); Django's test client avoids this
    the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def clerk_headers(carol, bearer) -> dict[str, str]:
    return {"Authorization": bearer(carol)["HTTP_AUTHORIZATION"]}


# Loading the schema touches no database, so it happens once, at collection.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


def _others() -> list[tuple]:
    rows = DataValue.objects.exclude(orgunit__code=CLERK_UNIT)
    return sorted(rows.values_list("element__code", "orgunit__code", "period", "value"))


def _header(response, name: str) -> str:
    for key, value in response.headers.items():
        if key.lower() == name:
            return value[0] if isinstance(value, list) else value
    return ""


def _orgunits_shown(response, keys: tuple[str, ...]) -> set[str]:
    content_type = _header(response, "content-type")
    if "xml" in content_type and response.status_code == 200:
        root = etree.fromstring(response.content)
        return {g.get("orgUnit") for g in root.iter("{*}group")}
    if "json" not in content_type:
        return set()
    shown: set[str] = set()
    _collect(json.loads(response.content or b"null"), keys, shown)
    return shown


def _collect(node, keys: tuple[str, ...], shown: set[str]) -> None:
    if isinstance(node, dict):
        for key in keys:
            if isinstance(node.get(key), str):
                shown.add(node[key])
        identifier = node.get("identifier")
        if isinstance(identifier, dict) and identifier.get("system") == "urn:xinglin:orgunit":
            shown.add(identifier["value"])
        for value in node.values():
            _collect(value, keys, shown)
    elif isinstance(node, list):
        for value in node:
            _collect(value, keys, shown)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_nothing_outside_scope(case, stored, clerk_headers):
    before = _others()
    response = case.call(headers=clerk_headers)
    assert response.status_code < 500, response.text[:2000]
    if response.status_code == 200:
        keys = ("code",) if case.path.startswith("/api/v1/orgunits") else ("orgunit", "orgUnit")
        assert _orgunits_shown(response, keys) <= ALLOWED, case.as_curl_command()
    assert _others() == before
