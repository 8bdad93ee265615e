"""Refusals that tell the user why (the plain 403 says only that their role does not allow it)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import render


class Refusal(PermissionDenied):
    """A 403 whose message is meant for the user (already translated)."""


def forbidden(request, exception=None):
    reason = str(exception) if isinstance(exception, Refusal) else ""
    return render(request, "403.html", {"reason": reason}, status=403)
