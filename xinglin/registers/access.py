"""Which register records a user may see and change: through the record's org unit, with
`xinglin.network.access`; registers holding personal data follow care's privacy rules."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.http import Http404

from xinglin.care import privacy
from xinglin.network import access
from xinglin.registers.registry import Register


def records_for_user(
    register: Register, user: User | AnonymousUser, action: access.Action = "view"
) -> QuerySet:
    """The register's records in the user's scope. A register with personal fields is
    record-level personal data: only the roles that enter records see it (403 for viewers)."""
    if register.personal:
        privacy.require_records(user)
        action = privacy.RECORDS_ACTION if action == "view" else action
    related = ["orgunit", *(f for f in register.org_fields if f != "orgunit")]
    return register.model.objects.filter(
        access.scope_q(user, action, "orgunit__path")
    ).select_related(*related)


def get_record_for_user(register: Register, user, pk: int, action: access.Action = "view"):
    """The record (404 outside the user's scope, so its existence is not revealed)."""
    record = records_for_user(register, user).filter(pk=pk).first()
    if record is None:
        raise Http404(str(pk))
    if action != "view" and not access.can(user, action, record.orgunit):
        raise Http404(str(pk))
    return record


def mask(value: str) -> str:
    """张三 -> 张*; 13912345678 -> 139****5678: enough to tell records apart, not to reach a person."""
    if not value:
        return ""
    if value.isdigit() and len(value) >= 7:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    return value[0] + "*" * max(len(value) - 1, 1)


def shown(register: Register, user, record) -> dict[str, str]:
    """The personal fields of a record as this user may read them: in full with the `export`
    right over its unit (the bureau administrator, the unit's own clerk), masked otherwise."""
    full = access.can(user, "export", record.orgunit)
    return {f: getattr(record, f) if full else mask(getattr(record, f)) for f in register.personal}
