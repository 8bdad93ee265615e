"""Builders shared by the care tests."""

from __future__ import annotations

from datetime import date

from xinglin.care.actions import record_assessment, register_resident
from xinglin.care.personal_id import make_id_card
from xinglin.network.models import OrgUnit

# Balanced: item 1 high, everything else low -> balanced yes, no biased type.
BALANCED = [5] + [1] * 32
GUIDANCE = ["diet", "exercise"]


def id_card(born: date = date(1950, 3, 4), serial: int = 123) -> str:
    return make_id_card("640323", born, serial)


def assess(code: str, number: str, on: date, *, answers=None, guidance=GUIDANCE, **kwargs):
    institution = OrgUnit.objects.get(code=code)
    resident = register_resident(number, institution=institution)
    return record_assessment(
        resident,
        institution=institution,
        assessed_on=on,
        answers=BALANCED if answers is None else answers,
        guidance=guidance,
        **kwargs,
    )
