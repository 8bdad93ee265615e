from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("xinglin.web.urls")),
    path("network/", include("xinglin.network.urls")),
    path("evaluation/", include("xinglin.evaluation.urls")),
    path("api/", include("xinglin.api.urls")),
    path("surveys/", include("xinglin.surveys.urls")),
    path("collection/", include("xinglin.collection.urls")),
    path("care/", include("xinglin.care.urls")),
    path("plans/", include("xinglin.plans.urls")),
    path("documents/", include("xinglin.documents.urls")),
    path("standards/", include("xinglin.plans.adoption_urls")),
    path("notices/", include("xinglin.notices.urls")),
    path("registers/", include("xinglin.registers.urls")),
]
# Each app adds its own `path(...)` line here, one line per app.

handler403 = "xinglin.core.errors.forbidden"
