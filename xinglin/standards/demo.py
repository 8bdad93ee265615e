"""The demo county is judged by its own rehabilitation plan (seeds/000, 盐池县), the national
demonstration-county standard it is building towards (seeds/001) and the key-population work
points (seeds/004)."""

from __future__ import annotations

from xinglin.network.models import OrgUnit
from xinglin.standards.adoption import adopt_pack

ADOPTED = (("demo-county-2022", 2022), ("rehab-2021-2025", 2021), ("work-points-2023", 2023))


def build(context) -> None:
    county = OrgUnit.objects.get(code=context.county_code)
    for code, since in ADOPTED:
        adopt_pack(county, code, since)
