"""User accounts managed by the bureau administrator within their scope (issue 20.4): create
a user with a role over a unit, change the role, deactivate, reset the password, list and
revoke API tokens. Every change is a security event; a password reset and a deactivation
revoke the user's API tokens. Passwords follow AUTH_PASSWORD_VALIDATORS everywhere."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from xinglin.api.actions import revoke_user_tokens
from xinglin.api.models import ApiToken
from xinglin.core.models import EventKind
from xinglin.core.security import record_event
from xinglin.network import access
from xinglin.network.actions import NetworkError, create_user
from xinglin.network.models import Membership, OrgUnit, Role

AnyUser = User | AnonymousUser


class AccountError(ValueError):
    """A change of an account that cannot be made; the message says why."""


# --- who may manage whom -----------------------------------------------------------------


def admin_paths(admin: AnyUser) -> list[str] | None:
    """The org-unit paths the user administers users in (None: all, for superusers)."""
    if not admin.is_authenticated or not admin.is_active:
        return []
    if admin.is_superuser:
        return None
    return sorted({path for role, path in access.memberships(admin) if role == Role.BUREAU_ADMIN})


def is_user_admin(admin: AnyUser) -> bool:
    return admin_paths(admin) != []


def _within(paths: list[str] | None, field: str) -> Q:
    if paths is None:
        return Q()
    query = Q(pk__in=[])
    for path in paths:
        query |= Q(**{f"{field}__startswith": path})
    return query


def units_for_admin(admin: AnyUser) -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(_within(admin_paths(admin), "path"))


def users_for_admin(admin: AnyUser) -> QuerySet[User]:
    """Users whose every membership lies in the administrator's scope (a user who also works
    elsewhere is managed by an administrator over both); never superusers or themselves."""
    paths = admin_paths(admin)
    if paths == []:
        return User.objects.none()
    outside = Membership.objects.filter(user=OuterRef("pk")).exclude(
        _within(paths, "orgunit__path")
    )
    return (
        User.objects.filter(memberships__isnull=False, is_superuser=False)
        .exclude(pk=admin.pk)
        .exclude(Exists(outside))
        .distinct()
        .order_by("username")
    )


def get_user_for_admin(admin: AnyUser, pk: int) -> User:
    """403 for anyone who administers no users; 404 for a user outside the scope."""
    if not is_user_admin(admin):
        raise PermissionDenied
    user = users_for_admin(admin).filter(pk=pk).first()
    if user is None:
        raise Http404(pk)
    return user


def tokens_for_admin(admin: AnyUser) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user__in=users_for_admin(admin)).select_related("user")


# --- changes -----------------------------------------------------------------------------


def check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise AccountError(" ".join(error.messages)) from error


def _check_unit(admin: AnyUser, unit: OrgUnit) -> None:
    if not units_for_admin(admin).filter(pk=unit.pk).exists():
        raise PermissionDenied(unit.code)


def _event(admin: AnyUser, user: User, detail: str, kind: str = EventKind.USER_CHANGE) -> None:
    record_event(kind, user=admin, detail=f"{user.username}: {detail}")


def create_account(
    admin: AnyUser,
    *,
    username: str,
    password: str,
    role: str,
    orgunit: OrgUnit,
    department: str = "",
    full_name: str = "",
) -> User:
    _check_unit(admin, orgunit)
    if User.objects.filter(username=username).exists():
        raise AccountError(f"the user name {username} is taken")
    check_password(password, User(username=username, first_name=full_name))
    try:
        with transaction.atomic():
            user = create_user(username, password, role=role, orgunit=orgunit,
                               department=department, full_name=full_name)  # fmt: skip
            _event(admin, user, f"created, {Role(role).label} of {orgunit.name}")
    except NetworkError as error:
        raise AccountError(str(error)) from error
    return user


def set_role(
    admin: AnyUser, user: User, *, role: str, orgunit: OrgUnit, department: str = ""
) -> None:
    _check_unit(admin, orgunit)
    if role == Role.INSTITUTION_CLERK and orgunit.kind != "institution":
        raise AccountError("an institution clerk's unit must be an institution")
    if role == Role.DEPARTMENT_LIAISON and not department:
        raise AccountError("a department liaison needs a department")
    with transaction.atomic():
        Membership.objects.filter(user=user).delete()
        Membership.objects.create(user=user, role=role, orgunit=orgunit, department=department)
        _event(admin, user, f"role: {Role(role).label} of {orgunit.name}")


def set_active(admin: AnyUser, user: User, active: bool) -> None:
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=active)
        user.is_active = active
        revoked = 0 if active else revoke_user_tokens(user)
        _event(admin, user, "reactivated" if active else f"deactivated, {revoked} tokens revoked")


def reset_password(admin: AnyUser, user: User, password: str) -> None:
    check_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        revoked = revoke_user_tokens(user)
        _event(admin, user, f"password reset, {revoked} tokens revoked", EventKind.PASSWORD_CHANGE)


def revoke_token_of(admin: AnyUser, token_id: int) -> bool:
    token = tokens_for_admin(admin).filter(pk=token_id, revoked_at__isnull=True).first()
    if token is None:
        return False
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
        _event(admin, token.user, f"API token {token.name} revoked")
    return True


def change_own_password(user: User, password: str) -> int:
    """After the form checked the old password and the rules: set, revoke the tokens."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        revoked = revoke_user_tokens(user)
        record_event(EventKind.PASSWORD_CHANGE, user=user, detail=f"{revoked} tokens revoked")
    return revoked
