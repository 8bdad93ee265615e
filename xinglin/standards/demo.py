"""Each place is judged by its own documents (issue 19): 盐池县 by its rehabilitation plan
(seeds/000), 回民区 by the national demonstration-county standard as its plan implements it
(seeds/001), 屯留区 by its health-service plan (seeds/002), 中卫市 and its three counties by
the city's capacity plan (seeds/003), 雁江区 by its 2023 work points (seeds/004). Another
place's pack adopted by an earlier demo is withdrawn, so a re-run brings the demo to this."""

from __future__ import annotations

from xinglin.demo import DemoContext
from xinglin.network.models import OrgUnit
from xinglin.standards.actions import adopt, withdraw
from xinglin.standards.models import PackAdoption


def build(context: DemoContext) -> None:
    for place in context.places:
        root = OrgUnit.objects.get(code=place.root)
        wanted = dict(place.packs)
        for stale in PackAdoption.objects.filter(orgunit=root).exclude(pack_code__in=wanted):
            withdraw(root, stale.pack_code)
        for code, since in place.packs:
            current = PackAdoption.objects.filter(orgunit=root, pack_code=code).first()
            if current is None or current.since != since:
                # the plan itself is loaded by the plans step, with its progress
                adopt(root, code, since, load_plan=False)
        context.log.append(f"{place.name}: judged by {', '.join(wanted)}")
