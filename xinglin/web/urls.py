from __future__ import annotations

from django.urls import path

from xinglin.web import auth, security_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("security/events/", security_views.events, name="security_events"),
    path("dashboard/<str:section>.csv", views.dashboard_csv, name="dashboard_csv"),
]
