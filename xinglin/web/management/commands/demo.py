from __future__ import annotations

import time
from importlib import import_module

from django.core.management.base import BaseCommand

from xinglin.demo import DEMO_STEPS, DemoContext


class Command(BaseCommand):
    help = (
        "Build or refresh the demo: the five places of the policy documents (盐池县, 回民区, "
        "屯留区, 中卫市 with 沙坡头区, 中宁县 and 海原县, 雁江区), each judged by its own "
        "documents, and print the demo logins grouped by place."
    )

    def handle(self, *args, **options):
        context = DemoContext()
        started_all = time.perf_counter()
        for dotted in DEMO_STEPS:
            module, name = dotted.rsplit(".", 1)
            started = time.perf_counter()
            getattr(import_module(module), name)(context)
            self.stdout.write(f"  {module}: {time.perf_counter() - started:.1f} s")
        self.stdout.write(f"  total: {time.perf_counter() - started_all:.1f} s")
        for line in context.log:
            self.stdout.write(line)
        self.stdout.write("\nDemo logins (password / role), by place:")
        for place, entries in _grouped(context.logins):
            self.stdout.write(f"  {place}")
            for username, password, role in entries:
                self.stdout.write(f"    {username:<20} {password:<14} {role}")


def _grouped(logins) -> list[tuple[str, list[tuple[str, str, str]]]]:
    groups: dict[str, list[tuple[str, str, str]]] = {}
    for place, username, password, role in logins:
        groups.setdefault(place, []).append((username, password, role))
    return list(groups.items())
