from __future__ import annotations

from django.urls import path

from xinglin.documents import views

app_name = "documents"
urlpatterns = [
    path("", views.home, name="home"),
    path("<str:code>/<int:year>/<str:kind>/", views.report, name="report"),
    path("<str:code>/<int:year>/<str:kind>.<str:fmt>", views.download, name="download"),
    path("<str:code>/<int:year>/cases/add/", views.add_case, name="add_case"),
    path("cases/<int:pk>/delete/", views.delete_case, name="delete_case"),
    path("export/values.<str:fmt>", views.values_export, name="values_export"),
    path("jobs/<int:pk>/", views.job, name="job"),
    path("jobs/<int:pk>.json", views.job_status, name="job_status"),
    path("jobs/<int:pk>/file", views.job_file, name="job_file"),
]
