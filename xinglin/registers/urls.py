from __future__ import annotations

from django.urls import path

from xinglin.registers import views

app_name = "registers"
urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:code>/", views.record_list, name="list"),
    path("<slug:code>.csv", views.record_export, {"fmt": "csv"}, name="csv"),
    path("<slug:code>.json", views.record_export, {"fmt": "json"}, name="json"),
    path("<slug:code>/new/", views.record_form, name="new"),
    path("<slug:code>/import/", views.record_import, name="import"),
    path("<slug:code>/template.xlsx", views.import_template, name="template"),
    path("<slug:code>/<int:pk>/", views.record_detail, name="detail"),
    path("<slug:code>/<int:pk>/edit/", views.record_form, name="edit"),
]
