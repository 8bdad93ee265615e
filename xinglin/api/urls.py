"""/api/v1/ (the REST API, its OpenAPI and docs) and /api/tokens/ (personal tokens)."""

from __future__ import annotations

from django.urls import path

from xinglin.api import views
from xinglin.api.api import api

# No app namespace: ninja reverses its own views as "api-v1:…" from the root.
urlpatterns = [
    path("v1/", api.urls),
    path("tokens/", views.tokens, name="api-tokens"),
    path("tokens/<int:token_id>/revoke/", views.revoke, name="api-token-revoke"),
]
