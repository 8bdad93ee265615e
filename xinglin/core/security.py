"""Login throttling and the security event log.

Per account: a name with LOCKOUT_FAILURES failed logins within LOCKOUT_WINDOW is locked until
the window has passed since the last failure. The name is counted as authentication sees it
(`normalise`: NFKC, as Django's login form normalises it, and case-folded), so a full-width
letter does not open a second counter (issue 20.4).

Per address: no lockout (a township office shares one public address): after ADDRESS_FREE
failures within the window, each further attempt from the address must wait a growing delay
(1, 2, 4 … ADDRESS_MAX_DELAY seconds) after the previous failure.

Race-safe: every attempt is first written as a failure and then counted, so of any number of
parallel guesses at most LOCKOUT_FAILURES reach the password check; a success removes its
row. Counting from the event log keeps one source of truth on SQLite and PostgreSQL."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest
from django.utils import timezone

from xinglin.core.models import EventKind, SecurityEvent

LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = timedelta(minutes=15)
ADDRESS_FREE = LOCKOUT_FAILURES * 4
ADDRESS_MAX_DELAY = 60


def client_ip(request: HttpRequest | None) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


def record_event(
    kind: str,
    *,
    request: HttpRequest | None = None,
    user: User | AnonymousUser | None = None,
    username: str = "",
    orgunit=None,
    detail: str = "",
) -> SecurityEvent:
    if user is None and request is not None:
        user = request.user
    real_user = user if user is not None and user.is_authenticated else None
    return SecurityEvent.objects.create(
        kind=kind,
        user=real_user,
        username=username or (real_user.username if real_user else ""),
        orgunit=orgunit,
        ip=client_ip(request),
        detail=detail[:500],
    )


def normalise(username: str) -> str:
    return unicodedata.normalize("NFKC", username or "").strip().casefold()


def _failures():
    since = timezone.now() - LOCKOUT_WINDOW
    return SecurityEvent.objects.filter(kind=EventKind.LOGIN_FAILED, at__gte=since)


def name_failures(username: str) -> int:
    """Failed logins of the (normalised) name within the window."""
    return _failures().filter(username=normalise(username)).count() if username else 0


def address_wait(ip: str | None) -> int:
    """Seconds the address must still wait before its next attempt (0: go ahead)."""
    if not ip:
        return 0
    failures = _failures().filter(ip=ip)
    count = failures.count()
    if count < ADDRESS_FREE:
        return 0
    delay = min(2 ** (count - ADDRESS_FREE), ADDRESS_MAX_DELAY)
    latest = failures.order_by("-at").values_list("at", flat=True).first()
    left = delay - (timezone.now() - latest).total_seconds()
    return max(0, int(left + 0.999))
