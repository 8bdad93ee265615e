from __future__ import annotations

from django.apps import AppConfig


class RegistersConfig(AppConfig):
    name = "xinglin.registers"
    default_auto_field = "django.db.models.BigAutoField"
