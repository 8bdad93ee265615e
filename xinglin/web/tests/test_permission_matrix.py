"""The permission matrix: every URL pattern × every persona × an object in 花马池镇 (HMC) and
one in 大水坑镇 (DSK). One request per combination; failures are collected and asserted once.

- No response ever shows a marker of an object the persona may not see (world.py puts a
  marker text in every object a page would show), whatever the status.
- No 500, ever.
- A POST the persona may not make (another scope, a viewer, an outsider, anonymous) leaves
  every table as it was.
"""

from __future__ import annotations

import hashlib
import traceback
from collections.abc import Iterator

import pytest
from django.apps import apps
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from xinglin.plans.indicators import evidence_items
from xinglin.web.tests import world

# Open to everyone, with the reason.
PUBLIC = {
    "login": "the login page itself",
    "logout": "logging out needs no rights; it only ends the caller's own session",
    "set_language": "Django's language switch (a cookie, no data)",
    "openapi-json": "the API's description: schemas and paths, no data",
    "openapi-view": "the API's documentation page (offline), no data",
    "api-root": "the API's index of links, no data",
    "get_metadata": "FHIR's CapabilityStatement: what the server offers, public by the standard",
    "get_structure_definitions": "the definitions of our FHIR extensions, no data",
    "get_structure_definition": "one definition of a FHIR extension, no data",
}
# POSTs any signed-in user may make about themselves: not a change to anyone else's data.
OWN_POSTS = {"api-tokens": "creates a token for the caller only",
             "password_change": "changes the caller's own password only", **PUBLIC}  # fmt: skip

PERSONAS = ["alice", "bob", "carol", "dave", "victor", "olga", None]
# Who may see each scope's markers (network access: view). API tokens: their owner only.
SEES = {
    "alice": {"HMC", "DSK"},
    "victor": {"HMC", "DSK"},
    "bob": {"HMC"},
    "carol": {"HMC"},
    "dave": {"DSK"},
    "olga": set(),
    None: set(),
}
# Who may change each scope (report/approve/manage somewhere in it).
WRITES = {"alice": {"HMC", "DSK"}, "bob": {"HMC"}, "carol": {"HMC"}, "dave": {"DSK"}}
TOKEN_OWNER = {"HMC": "bob", "DSK": "dave"}
TOKEN_ADMINS = {"alice"}
KINDS = ["CARE", "VALUE", "SURVEY", "DOC", "PLAN", "TOKEN", "REG"]
# Rows that a refused POST may legitimately touch: the request's own bookkeeping.
VOLATILE = {"auth.user": {"last_login"}, "api.apitoken": {"last_used_at"}}
# Tables holding facts and what people wrote; not the catalogue (loaded by commands), the
# engine's caches, sessions or the security log (a refused request is rightly logged there).
SNAPSHOT_APPS = {"network", "collection", "care", "plans", "surveys", "documents", "api", "web",
                 "registers"}  # fmt: skip
SKIPPED_MODELS = {"core.securityevent"}
# Generating documents is slow: in-scope personas are asked once (alice), others always.
EXPENSIVE = {"documents:download"}
SNAPSHOT_SQL: dict[str, str] = {}


def _patterns(resolver=None, prefix="", namespace="") -> Iterator[tuple[str, URLPattern, str]]:
    for item in (resolver or get_resolver()).url_patterns:
        if isinstance(item, URLResolver):
            ns = f"{namespace}{item.namespace}:" if item.namespace else namespace
            yield from _patterns(item, prefix + str(item.pattern), ns)
        elif isinstance(item, URLPattern):
            yield namespace + (item.name or ""), item, prefix + str(item.pattern)


def _argument(name: str, param: str, scope: world.Scope, pack: tuple[str, str]) -> str:
    """The value of path parameter `param` of URL `name` pointing into `scope`."""
    app = name.partition(":")[0]
    ids = scope.ids
    by_param = {
        "period": world.MONTH if app == "collection" else str(world.YEAR),
        "year": str(world.YEAR),
        "kind": "annual",
        "element": "total_visits",
        "step": "approve",
        "form_code": "township_health_center.monthly",
        "section": "verdicts",
        "name": "report.csv",
        "orgunit": scope.township.code,
        "pack": pack[0],
        "indicator": pack[1],
        "token_id": str(ids["token"]),
        "plan_id": str(ids["plan"]),
        "task_id": str(ids["task"]),
        "measure_id": "1",
        "resource": "dataValueSets",  # the DHIS2 face (api)
    }
    if param == "code":
        if app == "registers":
            return "complaints"
        if app == "surveys":
            return "resident_satisfaction"
        if name == "plans:department":
            return "health"
        if name in {"get_element", "get_pack"}:
            return "total_visits" if name == "get_element" else pack[0]
        keep_township = app in {"network", "documents"} or name == "get_orgunit"
        return scope.township.code if keep_township else scope.institution.code
    if param == "fmt":
        return "xlsx" if app == "documents" else "csv"
    if param == "pk":
        return str(ids[_pk_kind(name)])
    return by_param.get(param, "1")


def _pk_kind(name: str) -> str:
    kinds = {
        "care:assessment": "assessment",
        "care:child_visit": "child",
        "plans:evidence_download": "evidence",
        "plans:evidence_review": "evidence",
        "plans:milestone_done": "milestone",
        "documents:delete_case": "case",
        "account_user": "user",  # the scope's token owner (bob, dave)
        "account_token_revoke": "user",
        "registers:detail": "complaint",
        "registers:edit": "complaint",
    }
    if name in kinds:
        return kinds[name]
    if name.startswith("plans:task"):
        return "task"
    if name.startswith("plans:"):
        return "plan"
    return "response"  # no such object of that kind: a plain missing id


def _query(scope: world.Scope) -> dict[str, str]:
    # Filters pages accept: pointing them at a scope must not open it.
    code = scope.township.code
    return {"orgunit": code, "unit": code, "under": code, "institution": scope.institution.code,
            "year": str(world.YEAR), "period": str(world.YEAR)}  # fmt: skip


def _payload(scope: world.Scope) -> dict[str, str]:
    code = scope.institution.code
    return {
        **_query(scope), "code": code, "source": code, "target": scope.township.code,
        "value": "12", "comment": "x", "text": "x", "title": "x", "body": "x", "name": "x",
        "status": "done", "accept": "1", "decision": "accept", "reason": "x",
        "f_total_visits": "12", "q_overall": "满意", "measure": "x", "deadline": "2030-01-01",
    }  # fmt: skip


def _snapshot_queries() -> dict[str, str]:
    queries = {}
    for model in apps.get_models():
        label = model._meta.label_lower
        wanted = model._meta.app_label in SNAPSHOT_APPS or label == "auth.user"
        if not wanted or label in SKIPPED_MODELS:
            continue
        skip = VOLATILE.get(label, set())
        columns = [f.column for f in model._meta.concrete_fields if f.attname not in skip]
        quote = connection.ops.quote_name
        queries[label] = (
            f"SELECT {', '.join(map(quote, columns))} FROM {quote(model._meta.db_table)} "
            f"ORDER BY {quote(model._meta.pk.column)}"
        )
    return queries


def _snapshot() -> dict[str, str]:
    """Every row of every table in SNAPSHOT_APPS, hashed per table (raw SQL: it runs ~1000
    times)."""
    digests = {}
    with connection.cursor() as cursor:
        for label, sql in SNAPSHOT_SQL.items():
            cursor.execute(sql)
            digests[label] = hashlib.sha256(repr(cursor.fetchall()).encode()).hexdigest()
    return digests


def _short(name: str) -> str:
    return name.rpartition(":")[2]


def _forbidden(persona: str | None) -> list[str]:
    """Texts the persona must never receive."""
    texts = []
    for scope in ("HMC", "DSK"):
        for kind in KINDS:
            # API tokens: their owner, and the bureau administrator who manages the owner
            # (the user-management pages list and revoke them; issue 20.4).
            owner = TOKEN_OWNER[scope] == persona or persona in TOKEN_ADMINS
            allowed = owner if kind == "TOKEN" else scope in SEES[persona]
            if allowed:
                continue
            if kind == "VALUE":
                number = world.VALUES[scope]
                texts += [str(number), f"{number:,}"]
            else:
                texts.append(world.marker(scope, kind))
    return texts


def _body(response) -> str:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    return content.decode("utf-8", "replace")


def _close(response) -> None:
    """Close a response (a FileResponse holds an open file) without the request_finished
    handler that would close the test's database connection (as the test client does)."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


class Matrix:
    def __init__(self, users: dict, scopes: dict[str, world.Scope], pack: tuple[str, str]):
        self.scopes, self.pack, self.failures = scopes, pack, []
        self.clients = {}
        for persona in PERSONAS:
            client = Client()
            if persona is not None:
                client.force_login(users[persona])
            self.clients[persona] = client

    def url(self, name: str, pattern: URLPattern, route: str, scope: world.Scope) -> str:
        params = pattern.pattern.converters.keys()
        kwargs = {p: _argument(name, p, scope, self.pack) for p in params}
        path = route
        for value in kwargs.values():
            start = path.index("<")
            path = path[:start] + value + path[path.index(">", start) + 1 :]
        return "/" + path.lstrip("^").rstrip("$")

    def request(self, method: str, persona, url: str, data: dict):
        client = self.clients[persona]
        try:
            if method == "GET":
                return client.get(url, data)
            return client.post(url, data)
        except Exception as error:  # noqa: BLE001 - the failure is what we report
            frame = traceback.extract_tb(error.__traceback__)[-1]
            self.fail(persona, method, url, f"{type(error).__name__}: {error} at {frame.filename}:"
                      f"{frame.lineno}")  # fmt: skip
            return None

    def fail(self, persona, method, url, message):
        self.failures.append(f"{persona or 'anonymous'} {method} {url}: {message}")

    def check_get(self, persona, name: str, url: str, scope: world.Scope) -> None:
        response = self.request("GET", persona, url, _query(scope))
        if response is None:
            return
        if response.status_code >= 500:
            self.fail(persona, "GET", url, f"status {response.status_code}")
            return
        if persona is None and _short(name) not in PUBLIC and response.status_code == 200:
            self.fail(persona, "GET", url, "200 for an anonymous visitor")
        body = _body(response) if response.status_code == 200 else ""
        _close(response)
        leaked = [text for text in _forbidden(persona) if text in body]
        if leaked:
            self.fail(persona, "GET", url, f"shows {', '.join(leaked)}")

    def check_post(self, persona, name: str, url: str, scope: world.Scope) -> None:
        """A refused POST; the snapshot taken before it is self.state (see test below)."""
        if _short(name) in OWN_POSTS or scope.name in WRITES.get(persona, set()):
            return
        response = self.request("POST", persona, url, _payload(scope))
        if response is not None:
            _close(response)
        if response is not None and response.status_code >= 500:
            self.fail(persona, "POST", url, f"status {response.status_code}")
        # 405 comes from the method decorator before the view runs: nothing can have changed.
        if response is not None and response.status_code == 405:
            return
        after = _snapshot()
        changed = sorted(label for label in after if self.state[label] != after[label])
        if changed:
            self.fail(persona, "POST", url, f"changed {', '.join(changed)}")
        self.state = after

    def check_url(self, name: str, pattern: URLPattern, route: str) -> None:
        for scope in self.scopes.values():
            url = self.url(name, pattern, route, scope)
            for persona in PERSONAS:
                if name in EXPENSIVE and scope.name in SEES[persona] and persona != "alice":
                    continue
                self.check_get(persona, name, url, scope)
            self.state = _snapshot()
            for persona in PERSONAS:
                self.check_post(persona, name, url, scope)


@pytest.fixture
def matrix(county, alice, bob, carol, dave, victor, olga, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    SNAPSHOT_SQL.update(_snapshot_queries())
    scopes = world.build({"HMC": bob, "DSK": dave})
    pack = "demo-county-2022"
    indicator = evidence_items(pack)[0].id
    users = {"alice": alice, "bob": bob, "carol": carol, "dave": dave, "victor": victor,
             "olga": olga}  # fmt: skip
    return Matrix(users, scopes, (pack, indicator))


def _report(failures: list[str]) -> str:
    return f"{len(failures)} problems:\n" + "\n".join(sorted(set(failures)))


def test_every_url_for_every_persona_and_scope(matrix):
    patterns = list(_patterns())
    assert len(patterns) > 100  # the walk found the apps' URLs
    for name, pattern, route in patterns:
        matrix.check_url(name, pattern, route)
    assert not matrix.failures, _report(matrix.failures)


def test_markers_show_where_they_may(matrix):
    """The matrix can fail: in-scope users do see the markers on the pages that list them."""
    pages = {
        "/care/residents/": "CARE",
        f"/surveys/resident_satisfaction/responses/?year={world.YEAR}": "SURVEY",
        f"/plans/tasks/{matrix.scopes['HMC'].ids['task']}/": "PLAN",
        "/api/tokens/": "TOKEN",
        f"/documents/640323100/{world.YEAR}/annual/": "DOC",
    }
    for url, kind in pages.items():
        body = _body(matrix.clients["bob"].get(url))
        assert world.marker("HMC", kind) in body, url
    entry = matrix.clients["carol"].get(f"/collection/640323100001/{world.MONTH}/")
    assert str(world.VALUES["HMC"]) in _body(entry) or f"{world.VALUES['HMC']:,}" in _body(entry)


def test_the_matrix_catches_a_leak_and_a_change(matrix, monkeypatch):
    """Break care's scope filter and make a refused POST write: both are reported."""
    from xinglin.care import views as care_views
    from xinglin.documents import views as documents_views

    monkeypatch.setattr(care_views, "_scoped", lambda queryset, user, action="view": queryset)
    # A name is guarded twice (the scope filter, then privacy.shown): break both.
    monkeypatch.setattr(care_views.privacy, "shown",
                        lambda user, p: care_views.privacy.Shown(p.id_masked, p.name, "", None, None))  # fmt: skip
    monkeypatch.setattr(documents_views.access, "get_orgunit_for_user",
                        lambda user, code, action="view": _unit(code))  # fmt: skip
    by_name = {name: (pattern, route) for name, pattern, route in _patterns()}
    matrix.check_url("care:residents", *by_name["care:residents"])
    matrix.check_url("documents:add_case", *by_name["documents:add_case"])
    failures = "\n".join(matrix.failures)
    assert "bob GET /care/residents/: shows QXDSKCARE" in failures
    assert (
        "dave POST /documents/640323100/2025/cases/add/: changed documents.typicalcase" in failures
    )


def _unit(code: str):
    from xinglin.network.models import OrgUnit

    return OrgUnit.objects.get(code=code)
