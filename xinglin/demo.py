"""`xinglin demo` runs these steps in order; each app adds its own step (a function taking a
`DemoContext`) to DEMO_STEPS. Every step is re-runnable: it brings the demo to its state."""

from __future__ import annotations

from dataclasses import dataclass, field

DEMO_STEPS: list[str] = [
    "xinglin.network.demo.build",
    "xinglin.standards.demo.build",
    "xinglin.evaluation.demo.build",
    "xinglin.care.demo.build",
    "xinglin.care.visits_demo.build",
    "xinglin.surveys.demo.build",
    "xinglin.collection.demo.build",
    "xinglin.plans.demo.build",
    "xinglin.documents.demo.build",
]
# Each app's line above, e.g. "xinglin.collection.demo.build".


@dataclass
class DemoContext:
    county_code: str = "640323"
    years: tuple[int, ...] = (2021, 2022, 2023, 2024, 2025)
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (username, password, role)
    log: list[str] = field(default_factory=list)
