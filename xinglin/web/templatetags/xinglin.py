"""Template filters shared by every app's pages."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

STATUS_LABELS = {
    "met": _("met"),
    "not_met": _("not met"),
    "no_data": _("no data"),
    "not_applicable": _("not applicable"),
    "awaiting_evidence": _("awaiting evidence"),
    "data_error": _("data error"),
}


@register.filter
def status_label(status: str) -> str:
    """The reader's words for an engine status (`not_met` → 未达标)."""
    return str(STATUS_LABELS.get(status, status))
