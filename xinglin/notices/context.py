from __future__ import annotations

from xinglin.notices.models import Notice


def unread(request) -> dict:
    """How many notices the signed-in user has not read (the header shows it)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    return {"unread_notices": Notice.objects.filter(user=user, read_at=None).count()}
