"""Who may see and change which org units. Every page, export and API call that touches
org units or their data goes through these helpers; no view filters by scope itself.

Actions:
- `view`: read the unit and its data (every role over its scope, except liaisons);
- `report`: enter, import and submit data (bureau administrator, township supervisor,
  institution clerk);
- `approve`: approve or return submissions (bureau administrator, township supervisor);
- `manage`: add, edit, move and close institutions (bureau administrator, township supervisor);
- `export`: take residents' record-level personal data out of the system (PIPL: only the roles
  that need it, the bureau administrator and the institution's own clerk; issue 11).
"""

from __future__ import annotations

from typing import Literal

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from xinglin.network.models import Membership, OrgUnit, Role

Action = Literal["view", "report", "approve", "manage", "export"]

ROLE_ACTIONS: dict[str, frozenset[str]] = {
    Role.BUREAU_ADMIN: frozenset({"view", "report", "approve", "manage", "export"}),
    Role.TOWNSHIP_SUPERVISOR: frozenset({"view", "report", "approve", "manage"}),
    Role.INSTITUTION_CLERK: frozenset({"view", "report", "export"}),
    Role.VIEWER: frozenset({"view"}),
    Role.DEPARTMENT_LIAISON: frozenset(),
}


def scope_paths(user: User | AnonymousUser, action: Action = "view") -> list[str] | None:
    """The path prefixes the user may act on; None means everything (superusers)."""
    if not user.is_authenticated or not user.is_active:
        return []
    if user.is_superuser:
        return None
    # Pages ask several times per request, for several actions; the user object lives for one
    # request, so its memberships are read once per request.
    cache = user.__dict__.setdefault("_xinglin_scope_paths", {})
    if action not in cache:
        cache[action] = sorted(
            {path for role, path in memberships(user) if action in ROLE_ACTIONS.get(role, ())}
        )
    return list(cache[action])


def memberships(user: User) -> list[tuple[str, str]]:
    """(role, org-unit path) of each of the user's memberships, read once per request (the
    user object lives for one request)."""
    if "_xinglin_memberships" not in user.__dict__:
        user.__dict__["_xinglin_memberships"] = list(
            Membership.objects.filter(user=user).values_list("role", "orgunit__path")
        )
    found: list[tuple[str, str]] = user.__dict__["_xinglin_memberships"]
    return found


def scope_q(user: User | AnonymousUser, action: Action = "view", field: str = "path") -> Q:
    """A filter on `field` (an org-unit path, e.g. `orgunit__path`) limiting rows to the scope."""
    paths = scope_paths(user, action)
    if paths is None:
        return Q()
    if not paths:
        return Q(pk__in=[])
    query = Q()
    for path in paths:
        query |= Q(**{f"{field}__startswith": path})
    return query


def orgunits_for_user(user: User | AnonymousUser, action: Action = "view") -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(scope_q(user, action))


def can(user: User | AnonymousUser, action: Action, orgunit: OrgUnit) -> bool:
    paths = scope_paths(user, action)
    return paths is None or any(orgunit.path.startswith(p) for p in paths)


def get_orgunit_for_user(
    user: User | AnonymousUser, code: str, action: Action = "view", *, parent: bool = True
) -> OrgUnit:
    """The org unit with `code` if the user may `action` it. A unit outside the user's view
    scope is a 404 (its existence is not revealed); one they may see but not change is a 403.
    `parent` False: its parent is not read with it (a request that never shows it)."""
    found = OrgUnit.objects.filter(code=code)
    orgunit = (found.select_related("parent") if parent else found).first()
    if orgunit is None or not can(user, "view", orgunit):
        raise Http404(code)
    if action != "view" and not can(user, action, orgunit):
        raise PermissionDenied(code)
    return orgunit


def find_orgunit_for_user(user: User | AnonymousUser, text: str) -> OrgUnit:
    """The org unit a person typed: its code, its exact name (花马池镇) or, failing those,
    the highest unit whose name contains the text; only among the units the user may see
    (404 otherwise, as for a code)."""
    text = (text or "").strip()
    if not text:
        raise Http404(text)
    visible = orgunits_for_user(user).select_related("parent")
    found = (
        visible.filter(code=text).first()
        or visible.filter(name=text).order_by("path").first()
        or visible.filter(name__contains=text).order_by("path").first()
    )
    if found is None:
        raise Http404(text)
    return found


def scope_roots(user: User | AnonymousUser) -> list[OrgUnit]:
    """The top units of the user's view scope (where tree browsing starts)."""
    paths = scope_paths(user, "view")
    if paths is None:
        return list(OrgUnit.objects.filter(parent__isnull=True))
    tops = [p for p in paths if not any(p != q and p.startswith(q) for q in paths)]
    return list(OrgUnit.objects.filter(path__in=tops))
