"""Who is calling: a personal token (`Authorization: Bearer xl_…`) or the browser session."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest
from ninja.security import HttpBearer, django_auth

from xinglin.api.tokens import user_for_token


class TokenAuth(HttpBearer):
    openapi_description = "A personal token from the tokens page (/api/tokens/)."

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = user_for_token(token)
        if user is not None:
            # Scope helpers and collection's actions read the user from the request.
            request.user = user
        return user


AUTH = [TokenAuth(), django_auth]


def caller(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]
