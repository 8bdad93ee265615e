from __future__ import annotations

from django.urls import path

from xinglin.notices import views

app_name = "notices"

urlpatterns = [
    path("", views.notices, name="list"),
    path("remind/", views.remind, name="remind"),
]
