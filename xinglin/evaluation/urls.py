from __future__ import annotations

from django.urls import path

from xinglin.evaluation import views

app_name = "evaluation"
urlpatterns = [
    path("", views.scorecard, name="scorecard"),
    path("scorecard.<str:fmt>", views.scorecard_export, name="scorecard_export"),
    path("data/", views.data, name="data"),
]
