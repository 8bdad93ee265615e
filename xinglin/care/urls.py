from __future__ import annotations

from django.urls import path

from xinglin.care import records_views, views

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
    # clinical records (issue 5)
    path("visits/", records_views.visits, name="visits"),
    path("visits.csv", records_views.visits, {"fmt": "csv"}, name="visits_csv"),
    path("visits/import/", records_views.visit_import, name="visit_import"),
    path("visits/mappings/", records_views.visit_mappings, name="visit_mappings"),
    path("visits/mappings/<str:code>/", records_views.visit_mapping, name="visit_mapping"),
    path("visits/compare/<str:code>/", records_views.visit_comparison, name="visit_comparison"),
    path("visits/compare/<str:code>.<str:fmt>", records_views.visit_comparison,
         name="visit_comparison_export"),
    path("rehab/", records_views.rehab_summary, name="rehab"),
    path("rehab.csv", records_views.rehab_summary, {"fmt": "csv"}, name="rehab_csv"),
    path("rehab/new/", records_views.rehab_new, name="rehab_new"),
    path("referrals/", records_views.referrals, name="referrals"),
    path("referrals.csv", records_views.referrals, {"fmt": "csv"}, name="referrals_csv"),
    path("referrals/new/", records_views.referral_new, name="referral_new"),
    path("referrals/<int:pk>/advance/", records_views.referral_advance, name="referral_advance"),
]  # fmt: skip
