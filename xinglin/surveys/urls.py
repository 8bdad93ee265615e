from __future__ import annotations

from django.urls import path

from xinglin.surveys import views

app_name = "surveys"
urlpatterns = [
    path("", views.home, name="home"),
    path("instruments/<slug:code>/", views.instrument_detail, name="instrument"),
    path("<slug:code>/respond/", views.respond, name="respond"),
    path("<slug:code>/responses/", views.responses, name="responses"),
    path("<slug:code>/import/", views.import_page, name="import"),
    path("<slug:code>/import/template.xlsx", views.import_template, name="import_template"),
    path("<slug:code>/plan/", views.plan, name="plan"),
    path("<slug:code>/plan/<str:orgunit>/", views.plan, name="plan_for"),
    path("<slug:code>/results/", views.results_default, name="results_default"),
    path(
        "<slug:code>/results/<str:period>/<str:orgunit>.<str:fmt>",
        views.results_export,
        name="results_export",
    ),
    path("<slug:code>/results/<str:period>/<str:orgunit>/", views.results, name="results"),
]
