"""The interactive docs page, served from the vendored swagger-ui-dist (no CDN: the
machines this runs on are often offline)."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja.openapi.docs import Swagger


class LocalSwagger(Swagger):
    def render_page(self, request: HttpRequest, api: Any, **kwargs: Any) -> HttpResponse:
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        context = {"swagger_settings": json.dumps(self.settings, indent=1), "api": api}
        return render(request, "api/swagger.html", context)
