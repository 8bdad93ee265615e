"""Login throttling and the security event log.

A user name (or an address) with LOCKOUT_FAILURES failed logins within LOCKOUT_WINDOW is
locked out until the window has passed since the last failure. Counting failures from the
event log keeps one source of truth and works the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest
from django.utils import timezone

from xinglin.web.models import EventKind, SecurityEvent

LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = timedelta(minutes=15)


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


def is_locked_out(username: str, ip: str | None) -> bool:
    since = timezone.now() - LOCKOUT_WINDOW
    failures = SecurityEvent.objects.filter(kind=EventKind.LOGIN_FAILED, at__gte=since)
    by_name = failures.filter(username__iexact=username).count() if username else 0
    # An address gets more room: several clerks may share one office's public address.
    by_ip = failures.filter(ip=ip).count() if ip else 0
    return by_name >= LOCKOUT_FAILURES or by_ip >= LOCKOUT_FAILURES * 4
