from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from xinglin.notices.models import Notice


def unread(request) -> dict:
    """How many notices the signed-in user has not read (the header shows it). Counted only
    when a template reads it: a fragment (a form field saved by htmx) has no header."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notices": SimpleLazyObject(
            lambda: Notice.objects.filter(user=user, read_at=None).count()
        )
    }
