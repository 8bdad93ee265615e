"""Who may choose the documents a unit is judged by: a bureau administrator, for the county
or city divisions in their scope (not townships or institutions: a document judges a whole
jurisdiction). Seeing which documents apply needs only the view scope."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from xinglin.network.access import get_orgunit_for_user, scope_q, scope_roots
from xinglin.network.models import DivisionLevel, Kind, Membership, OrgUnit, Role

ADOPTING_LEVELS = (DivisionLevel.PROVINCE, DivisionLevel.CITY, DivisionLevel.COUNTY)


def adoption_units_for_user(user: User | AnonymousUser) -> QuerySet[OrgUnit]:
    """The divisions (county and above) the user may adopt packs for."""
    units = OrgUnit.objects.filter(kind=Kind.DIVISION, division_level__in=ADOPTING_LEVELS)
    if not user.is_authenticated or not user.is_active:
        return units.none()
    if user.is_superuser:
        return units.order_by("path")
    paths = Membership.objects.filter(user=user, role=Role.BUREAU_ADMIN).values_list(
        "orgunit__path", flat=True
    )
    if not paths:
        return units.none()
    return (
        units.filter(scope_q(user, "view"))
        .filter(path__regex=r"^(" + "|".join(_escape(p) for p in paths) + ")")
        .order_by("path")
    )


def may_adopt(user: User | AnonymousUser, orgunit: OrgUnit) -> bool:
    return adoption_units_for_user(user).filter(pk=orgunit.pk).exists()


def get_adoption_unit_for_user(
    user: User | AnonymousUser, code: str, *, change: bool = False
) -> OrgUnit:
    """The division `code` if the user may see it (else 404); with `change`, a 403 unless
    the user is a bureau administrator over it and it is a county or above."""
    orgunit = get_orgunit_for_user(user, code, "view")
    if change and not may_adopt(user, orgunit):
        raise PermissionDenied(code)
    return orgunit


def _escape(path: str) -> str:
    return "".join(c if c.isalnum() or c == "/" else "\\" + c for c in path)


def first_unit_code(user: User | AnonymousUser, units: Sequence[OrgUnit]) -> str | None:
    """The unit a page opens on: the first of `units`, else the user's first scope root."""
    if units:
        return units[0].code
    roots = scope_roots(user)
    return str(roots[0].code) if roots else None
