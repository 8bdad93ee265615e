"""`xinglin demo` runs these steps in order; each app adds its own step (a function taking a
`DemoContext`) to DEMO_STEPS. Every step is re-runnable: it brings the demo to its state.

The demo serves the five places whose documents are in seeds/ (issue 19), each judged by its
own documents: a `Place` names its root org unit (the county, or 中卫市 for the city plan),
the counties built beneath it, its plan packs, its indicator packs and the years of data."""

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
    "xinglin.registers.demo.build",
]
# Each app's line above, e.g. "xinglin.collection.demo.build".

YANCHI = "640323"


@dataclass(frozen=True)
class Place:
    key: str
    name: str  # as people say it: 盐池县, 中卫市 …
    root: str  # the org unit its plan belongs to (a county, or the city for seeds/003)
    counties: tuple[str, ...]  # counties built beneath the root
    plans: tuple[str, ...]  # plan packs loaded for the root (plans/packs)
    packs: tuple[tuple[str, int], ...]  # indicator packs adopted at the root, from a year
    years: tuple[int, ...]  # years of data: those its document covers, to the last full year
    seed: str  # the policy document (seeds/)


PLACES: tuple[Place, ...] = (
    Place("yanchi", "盐池县", YANCHI, (YANCHI,), ("rehab-2021-2025",),
          (("rehab-2021-2025", 2021),), (2021, 2022, 2023, 2024, 2025), "seeds/000"),
    Place("huimin", "回民区", "150103", ("150103",), ("demo-county-2022",),
          (("demo-county-2022", 2023),), (2022, 2023, 2024, 2025), "seeds/001"),
    Place("tunliu", "屯留区", "140405", ("140405",), ("health-services-2021-2025",),
          (("health-services-2021-2025", 2021),), (2021, 2022, 2023, 2024, 2025), "seeds/002"),
    Place("zhongwei", "中卫市", "6405", ("640502", "640521", "640522"), ("capacity-2021-2025",),
          (("capacity-2021-2025", 2021),), (2021, 2022, 2023, 2024, 2025), "seeds/003"),
    Place("yanjiang", "雁江区", "512002", ("512002",), ("work-points-2023",),
          (("work-points-2023", 2023),), (2022, 2023, 2024, 2025), "seeds/004"),
)  # fmt: skip
REGION = ("64", "宁夏回族自治区")  # the regional viewer sees both 宁夏 cities (吴忠, 中卫)


def places(*keys: str) -> tuple[Place, ...]:
    """The places with these keys (all when none are given), in PLACES order."""
    return tuple(p for p in PLACES if not keys or p.key in keys)


@dataclass
class DemoContext:
    places: tuple[Place, ...] = PLACES
    # Clinics per township outside 盐池县 (whose villages are listed by name); tests build
    # fewer to stay fast.
    clinics_per_township: int = 4
    county_code: str = YANCHI  # 盐池县: the care-record and survey steps run there only
    years: tuple[int, ...] = (2021, 2022, 2023, 2024, 2025)  # 盐池县's years
    logins: list[tuple[str, str, str, str]] = field(default_factory=list)  # place, user, pw, role
    log: list[str] = field(default_factory=list)

    def login(self, place: str, username: str, password: str, role: str) -> None:
        if not any(entry[1] == username for entry in self.logins):
            self.logins.append((place, username, password, role))

    def has(self, key: str) -> bool:
        return any(p.key == key for p in self.places)
