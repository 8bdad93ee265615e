from __future__ import annotations

from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "xinglin.plans"
    label = "plans"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at the top: models may be imported only once the registry is ready.
        from xinglin.plans.actions import load_adopted_plan  # noqa: PLC0415 — models load only once the apps are ready
        from xinglin.standards.signals import pack_adopted  # noqa: PLC0415 — models load only once the apps are ready

        pack_adopted.connect(load_adopted_plan, dispatch_uid="plans.load_adopted_plan")
