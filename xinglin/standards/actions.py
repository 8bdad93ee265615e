"""Writes of the standards app: adopting a pack for a unit (and announcing it with the
`pack_adopted` signal, on which plans loads the document's plan for the unit) and withdrawing it. Each change is one transaction with an
AdoptionEvent saying who, when, and whether another place's document was chosen on purpose."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinglin.network.models import Kind, OrgUnit
from xinglin.standards.access import ADOPTING_LEVELS
from xinglin.standards.adoption import AdoptionError, adopt_pack, document_place
from xinglin.standards.loader import PackIndicator, all_packs
from xinglin.standards.models import (
    AdoptionChange,
    AdoptionEvent,
    BureauTarget,
    BureauTargetChange,
    PackAdoption,
)
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
            % {"pack": pack_code, "place": place.name if place else "", "unit": orgunit.name}
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


# ---- bureau-set targets (seeds/001 item 22: the local health plan's values) -----------------


class BureauTargetError(ValueError):
    """An unknown key, a unit that is not a county or above, or a value that is no number."""


def bureau_target_keys() -> dict[str, list[PackIndicator]]:
    """key -> the pack indicators judged against it (every pack), so that the page names each
    key by the indicators a person knows."""

    found: dict[str, list[PackIndicator]] = {}
    for pack in all_packs().values():
        for indicator in pack.indicators:
            if indicator.target is not None and indicator.target.key:
                found.setdefault(indicator.target.key, []).append(indicator)
    return found


@transaction.atomic
def set_bureau_target(
    orgunit: OrgUnit,
    year: int,
    key: str,
    value: float | None,
    *,
    user: User | None = None,
    source: str = "",
) -> BureauTarget | None:
    """Set (or, with None, clear) the bureau's target `key` for its place and year; each change
    is a BureauTargetChange. Pages check the user (standards.access.may_adopt) first."""

    if key not in bureau_target_keys():
        raise BureauTargetError(
            _("No indicator is judged against the target %(key)s.") % {"key": key}
        )
    if orgunit.kind != Kind.DIVISION or orgunit.division_level not in ADOPTING_LEVELS:
        raise BureauTargetError(_("A bureau sets targets for a county, city or province."))
    if value is not None and (value != value or value < 0):
        raise BureauTargetError(_("A target is a number of zero or more."))
    current = (
        BureauTarget.objects.select_for_update().filter(orgunit=orgunit, year=year, key=key).first()
    )
    old = current.value if current else None
    now = timezone.now()
    if old == value and (current is None or current.source == source):
        return current
    BureauTargetChange.objects.create(orgunit=orgunit, year=year, key=key, old=old, new=value,
                                      source=source, changed_by=user, at=now)  # fmt: skip
    if value is None:
        if current:
            current.delete()
        return None
    target, _created = BureauTarget.objects.update_or_create(
        orgunit=orgunit, year=year, key=key,
        defaults={"value": float(value), "source": source, "set_by": user, "set_at": now},
    )  # fmt: skip
    return target
