from __future__ import annotations

from django.urls import path

from xinglin.care import views

app_name = "care"

urlpatterns = [
    path("", views.home, name="home"),
    path("assessments/", views.assessment_list, name="assessments"),
    path("assessments.csv", views.assessment_list, {"fmt": "csv"}, name="assessments_csv"),
    path("assessments/new/", views.assessment_new, name="assessment_new"),
    path("assessments/import/", views.assessment_import, name="assessment_import"),
    path("assessments/<int:pk>/", views.assessment_detail, name="assessment"),
    path("form/", views.blank_form, name="blank_form"),
    path("residents/", views.resident_list, name="residents"),
    path("children/due/", views.child_due, name="child_due"),
    path("children/new/", views.child_new, name="child_new"),
    path("children/<int:pk>/visit/", views.child_visit, name="child_visit"),
    path("distribution/", views.distribution, name="distribution"),
    path("distribution.csv", views.distribution, {"fmt": "csv"}, name="distribution_csv"),
]
