"""Writes of the standards app: adopting a pack for a unit (and announcing it with the
`pack_adopted` signal, on which plans loads the document's plan for the unit) and withdrawing it. Each change is one transaction with an
AdoptionEvent saying who, when, and whether another place's document was chosen on purpose."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from xinglin.network.models import OrgUnit
from xinglin.standards.adoption import AdoptionError, adopt_pack, document_place
from xinglin.standards.models import AdoptionChange, AdoptionEvent, PackAdoption
from xinglin.standards.signals import pack_adopted


class OtherPlaceError(AdoptionError):
    """The document belongs to another place and the adoption was not confirmed."""


def is_other_place(orgunit: OrgUnit, pack_code: str) -> bool:
    """True when the pack's document names a place that is neither the unit, above it nor
    beneath it (a county adopting its city's plan, or a city its county's, is its own line)."""
    place = document_place(pack_code)
    if place is None:
        return False
    line = [code for code in orgunit.path.strip("/").split("/") if code]
    return place.code not in line and not place.code.startswith(orgunit.code)


@transaction.atomic
def adopt(
    orgunit: OrgUnit,
    pack_code: str,
    since: int | None = None,
    *,
    user: User | None = None,
    confirm_other_place: bool = False,
    load_plan: bool = True,
) -> PackAdoption:
    """Judge `orgunit` (and everything beneath it) by the pack from `since`; when a plan pack
    of the same code exists, its plan is loaded for the unit too (tasks, deadlines)."""
    other = is_other_place(orgunit, pack_code)
    if other and not confirm_other_place:
        place = document_place(pack_code)
        raise OtherPlaceError(
            _("%(pack)s is the document of %(place)s, not of %(unit)s; confirm to adopt it.")
            % {"pack": pack_code, "place": place.name, "unit": orgunit.name}
        )
    adoption = adopt_pack(orgunit, pack_code, since)
    if load_plan:
        pack_adopted.send(sender=PackAdoption, orgunit=orgunit, pack_code=pack_code)
    AdoptionEvent.objects.create(
        orgunit=orgunit, pack_code=pack_code, change=AdoptionChange.ADOPTED, since=since,
        other_place=other, user=user,
    )  # fmt: skip
    return adoption


@transaction.atomic
def withdraw(orgunit: OrgUnit, pack_code: str, *, user: User | None = None) -> bool:
    """Stop judging the unit by the pack. A loaded plan stays (its tasks and evidence are
    facts); returns whether an adoption was removed."""
    deleted, _rows = PackAdoption.objects.filter(orgunit=orgunit, pack_code=pack_code).delete()
    if deleted:
        AdoptionEvent.objects.create(
            orgunit=orgunit, pack_code=pack_code, change=AdoptionChange.WITHDRAWN, user=user
        )
    return bool(deleted)
