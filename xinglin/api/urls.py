"""/api/v1/ (the REST API, its OpenAPI and docs), /api/tokens/ (personal tokens) and the
DHIS2-compatible face (/api/dataValueSets, /api/{version}/…, /api/system/info, …)."""

from __future__ import annotations

from django.urls import path, register_converter

from xinglin.api import views
from xinglin.api.api import api
from xinglin.api.dhis2 import views as dhis2_views

register_converter(dhis2_views.ResourceConverter, "dhis2")
register_converter(dhis2_views.VersionConverter, "dhis2version")

# No app namespace: ninja reverses its own views as "api-v1:…" from the root.
urlpatterns = [
    path("v1/", api.urls),
    path("tokens/", views.tokens, name="api-tokens"),
    path("tokens/<int:token_id>/revoke/", views.revoke, name="api-token-revoke"),
    # The DHIS2 face: /api/dataValueSets, /api/40/dataValueSets, /api/system/info, …
    path("<dhis2:resource>", dhis2_views.endpoint, name="dhis2"),
    path("<dhis2version:version>/<dhis2:resource>", dhis2_views.endpoint, name="dhis2-versioned"),
]
