from __future__ import annotations

import time
from importlib import import_module

from django.core.management.base import BaseCommand

from xinglin.demo import DEMO_STEPS, DemoContext


class Command(BaseCommand):
    help = "Build or refresh the demo county (盐池县, 640323) and print the demo logins."

    def handle(self, *args, **options):
        context = DemoContext()
        for dotted in DEMO_STEPS:
            module, name = dotted.rsplit(".", 1)
            started = time.perf_counter()
            getattr(import_module(module), name)(context)
            self.stdout.write(f"  {module}: {time.perf_counter() - started:.1f} s")
        for line in context.log:
            self.stdout.write(line)
        self.stdout.write("\nDemo logins (user / password / role):")
        for username, password, role in context.logins:
            self.stdout.write(f"  {username:<14} {password:<14} {role}")
