"""The NinjaAPI instance mounted at /api/v1/: routers, authentication, JSON errors."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from xinglin.api.auth import AUTH
from xinglin.api.docs import LocalSwagger
from xinglin.api.routes import (
    care,
    elements,
    evaluations,
    fhir,
    interchange,
    orgunits,
    packs,
    plans,
    registers,
    values,
)
from xinglin.api.routes.fhir import fhir_refusal

DESCRIPTION = """Xinglin's REST API. Every call acts as one user, with exactly the scope that
user has on the web: a personal token (`Authorization: Bearer xl_…`, created on /api/tokens/)
or the browser session. Lists are paginated (`limit`, `offset`) and filtered by `orgunit`
(the unit and everything beneath it), `period` and `element`. Errors are JSON: 401 without
credentials, 404 for what is outside your scope, 403 for what you may see but not change,
422 with `detail[].loc` naming each faulty field. Writes are all or nothing."""

api = NinjaAPI(
    title="Xinglin API",
    version="1",
    description=DESCRIPTION,
    auth=AUTH,
    docs=LocalSwagger(),
    docs_url="/docs",
    urls_namespace="api-v1",
)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": "not found"}, status=404)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": "not allowed"}, status=403)


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = fhir_refusal(request, 401, "login", "authentication required") or (
        api.create_response(request, {"detail": "authentication required"}, status=401)
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type", "")}
        for e in exc.errors
    ]
    return api.create_response(request, {"detail": errors}, status=422)


def _register() -> None:
    api.add_router("/orgunits", orgunits.router)
    api.add_router("/elements", elements.router)
    api.add_router("/packs", packs.router)
    api.add_router("/values", values.router)
    api.add_router("/", interchange.router)
    api.add_router("/", evaluations.router)
    api.add_router("/", fhir.router)
    api.add_router("/care/", care.router)
    api.add_router("/", plans.router)
    api.add_router("/registers", registers.router)


_register()
