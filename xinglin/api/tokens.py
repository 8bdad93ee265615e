"""Personal tokens: `xl_<prefix>_<secret>`; the prefix finds the row, the digest proves it."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.contrib.auth.models import User
from django.utils import timezone

from xinglin.api.models import ApiToken

TOKEN_START = "xl_"
# Writing `last_used_at` on every request would turn each read into a write; once a minute
# is enough to tell a live token from a forgotten one.
TOUCH_EVERY_SECONDS = 60


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """(prefix, token)."""
    prefix = secrets.token_hex(4)
    return prefix, f"{TOKEN_START}{prefix}_{secrets.token_urlsafe(32)}"


def user_for_token(token: str) -> User | None:
    """The active user holding this unrevoked token; None otherwise."""
    parts = token.split("_")
    if not token.startswith(TOKEN_START) or len(parts) < 3:
        return None
    row = ApiToken.objects.select_related("user").filter(prefix=parts[1]).first()
    if row is None or not row.is_active or not row.user.is_active:
        return None
    if not hmac.compare_digest(row.digest, digest(token)):
        return None
    now = timezone.now()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > TOUCH_EVERY_SECONDS:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user
