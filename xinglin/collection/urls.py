from __future__ import annotations

from django.urls import path

from xinglin.collection import views

app_name = "collection"
urlpatterns = [
    path("", views.forms, name="forms"),
    path("import/", views.import_page, name="import"),
    path("import/report/<str:name>", views.import_report, name="import_report"),
    path("export/values.<str:fmt>", views.export_values, name="export"),
    path("completeness/", views.completeness_page, name="completeness"),
    path(
        "completeness.<str:fmt>",
        views.completeness_page,
        name="completeness_twin",
    ),
    path("<str:code>/<str:period>/", views.entry, name="entry"),
    path("<str:code>/<str:period>/value/<str:element>/", views.save_value, name="save_value"),
    path("<str:code>/<str:period>/history/<str:element>/", views.history, name="history"),
    path("<str:code>/<str:period>/techniques/", views.techniques, name="techniques"),
    path("<str:code>/<str:period>/template/<str:form_code>.xlsx", views.template, name="template"),
    path("<str:code>/<str:period>/<str:step>/", views.workflow, name="workflow"),
]
