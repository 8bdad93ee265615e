from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The ground floor: what every app needs (the security event log, refusals meant for the
    user, the data generation). It imports no other app of Xinglin (docs/architecture.md)."""

    name = "xinglin.core"
    label = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from xinglin.lib import dialects  # noqa: PLC0415 - at start, in one thread

        dialects.load()
