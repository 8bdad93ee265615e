"""The request a login-required view receives: its user is a signed-in User (django-stubs'
pattern for typing views behind `login_required`)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest


class AuthenticatedHttpRequest(HttpRequest):
    user: User
