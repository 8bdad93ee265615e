from __future__ import annotations

from django.urls import path

from xinglin.web import account_views, auth, security_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("security/events/", security_views.events, name="security_events"),
    path("account/password/", account_views.password_change, name="password_change"),
    path("accounts/users/", account_views.users, name="account_users"),
    path("accounts/users/<int:pk>/", account_views.user, name="account_user"),
    path(
        "accounts/users/<int:pk>/tokens/<int:token_id>/revoke/",
        account_views.token_revoke,
        name="account_token_revoke",
    ),
    path("accounts/tokens/", account_views.tokens, name="account_tokens"),
    path("dashboard/<str:section>.csv", views.dashboard_csv, name="dashboard_csv"),
]
