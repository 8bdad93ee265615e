from __future__ import annotations

from django.urls import path

from xinglin.network import views

app_name = "network"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("import/", views.import_page, name="import"),
    path("import/template.xlsx", views.import_template, name="import_template"),
    path("<str:code>/", views.orgunit, name="orgunit"),
    path("<str:code>/children.<str:fmt>", views.children_export, name="children_export"),
    path("<str:code>/institutions.csv", views.institutions_export, name="institutions_export"),
    path("<str:code>/edit/", views.edit, name="edit"),
    path("<str:code>/add/", views.add, name="add"),
    path("<str:code>/move/", views.move, name="move"),
    path("<str:code>/close/", views.close, name="close"),
    path("<str:code>/reopen/", views.reopen, name="reopen"),
]
