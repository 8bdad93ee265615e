"""Who is calling the DHIS2 face: `Authorization: Basic` (username and password, through the
web login's throttle: the same lockout per name and delay per address), `ApiToken <token>`
or `Bearer <token>` (a personal token from /api/tokens/), or, for reading only, the browser
session. Every one is the same account with the same scope as on the web."""

from __future__ import annotations

import base64
import binascii

from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils.translation import gettext as _

from xinglin.api.tokens import user_for_token
from xinglin.core.login import ThrottledAuthenticationForm

TOKEN_SCHEMES = frozenset({"bearer", "apitoken"})
READ_METHODS = frozenset({"GET", "HEAD"})


class Unauthorized(Exception):
    """No valid credentials (401); the message says why when the login throttle refused."""


def authenticate(request: HttpRequest) -> User:
    header = request.META.get("HTTP_AUTHORIZATION", "").strip()
    scheme, _space, credential = header.partition(" ")
    if scheme.lower() in TOKEN_SCHEMES:
        user = user_for_token(credential.strip())
    elif scheme.lower() == "basic":
        user = _basic(request, credential.strip())
    elif not header and request.method in READ_METHODS and request.user.is_authenticated:
        user = request.user
    else:
        user = None
    if user is None:
        raise Unauthorized(_("authentication required"))
    request.user = user  # scope helpers and collection's write read the user from the request
    return user


def _basic(request: HttpRequest, credential: str) -> User | None:
    try:
        username, _colon, password = base64.b64decode(credential).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    form = ThrottledAuthenticationForm(request, data={"username": username, "password": password})
    if form.is_valid():
        return form.get_user()
    throttled = [
        e for e in form.non_field_errors().as_data() if e.code in ("locked_out", "too_fast")
    ]
    if throttled:
        raise Unauthorized(" ".join(throttled[0].messages))
    return None
