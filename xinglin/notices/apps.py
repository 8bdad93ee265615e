from __future__ import annotations

from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "xinglin.notices"
    default_auto_field = "django.db.models.BigAutoField"
