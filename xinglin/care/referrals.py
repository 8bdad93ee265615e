"""Two-way referrals (双向转诊, seeds/000 §(二)4) between the county hospitals and the health
centres: sending, receiving, completing, and monthly counts per institution.

Who sees what (through xinglin.network.access): a referral is visible to users who may view
either end; it is created by a user who may report for the sending institution, and received
and completed by a user who may report for the receiving institution.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

import yaml
from django.contrib.auth.models import User
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import ExtractMonth, ExtractYear

from xinglin.care import personal_id
from xinglin.care.actions import CareError
from xinglin.care.models import Referral, ReferralDirection, ReferralStatus
from xinglin.network import access
from xinglin.network.models import Kind, OrgUnit

DATA = Path(__file__).parent / "data"


@cache
def levels() -> dict[str, int]:
    return yaml.safe_load((DATA / "referrals.yaml").read_text(encoding="utf-8"))["levels"]


def direction_between(source: OrgUnit, target: OrgUnit) -> str:
    """Upward when the receiving institution's level is higher (data/referrals.yaml)."""
    up = levels().get(target.institution_type, 1) > levels().get(source.institution_type, 1)
    return ReferralDirection.UP if up else ReferralDirection.DOWN


def visible(user) -> Q:
    """Referrals the user may see: either end within the view scope."""
    return access.scope_q(user, "view", "from_institution__path") | access.scope_q(
        user, "view", "to_institution__path"
    )


def referrals_for_user(user) -> QuerySet[Referral]:
    return Referral.objects.filter(visible(user)).select_related(
        "from_institution", "to_institution"
    )


def send_referral(
    *,
    source: OrgUnit,
    target: OrgUnit,
    patient_id: str,
    referred_on: date,
    reason: str,
    direction: str = "",
    user: User | None = None,
) -> Referral:
    """Record a referral sent from `source` to `target`. Scope is the caller's check."""
    for unit in (source, target):
        if unit.kind != Kind.INSTITUTION:
            raise CareError(f"{unit.code} is not an institution")
    if source.pk == target.pk:
        raise CareError("an institution cannot refer to itself")
    if direction and direction not in ReferralDirection.values:
        raise CareError(f"unknown direction {direction!r}")
    number = personal_id.normalize(patient_id)
    if not 1 <= len(number) <= 64:
        raise CareError("the patient identifier is missing or too long")
    if not reason.strip():
        raise CareError("the reason is required")
    return Referral.objects.create(
        from_institution=source,
        to_institution=target,
        direction=direction or direction_between(source, target),
        referred_on=referred_on,
        reason=reason.strip()[:200],
        patient_hash=personal_id.hash_id(number),
        patient_masked=personal_id.mask(number)[:32],
        created_by=user,
    )


def advance_referral(referral: Referral, status: str, on: date) -> Referral:
    """Mark a referral received or completed (completing implies receiving) on `on`."""
    order = [ReferralStatus.SENT, ReferralStatus.RECEIVED, ReferralStatus.COMPLETED]
    if status not in (ReferralStatus.RECEIVED, ReferralStatus.COMPLETED):
        raise CareError(f"a referral can be marked received or completed, not {status!r}")
    if order.index(status) <= order.index(referral.status):
        raise CareError(f"the referral is already {referral.status}")
    if on < referral.referred_on:
        raise CareError("the date is before the referral was sent")
    referral.received_on = referral.received_on or on
    if status == ReferralStatus.COMPLETED:
        referral.completed_on = on
    referral.status = status
    referral.save(update_fields=["status", "received_on", "completed_on"])
    return referral


def monthly_counts(referrals: QuerySet[Referral], year: int) -> list[dict]:
    """Per institution (either end) and month of `year`: sent up, sent down, received,
    completed, mean days to completion. Two GROUP BYs (sending side, receiving side)."""
    in_year = referrals.filter(referred_on__year=year).annotate(
        month=ExtractMonth("referred_on"), year=ExtractYear("referred_on")
    )
    days = ExpressionWrapper(F("completed_on") - F("referred_on"), output_field=DurationField())
    sent = in_year.values("from_institution__code", "from_institution__name", "month").annotate(
        up=Count("id", filter=Q(direction=ReferralDirection.UP)),
        down=Count("id", filter=Q(direction=ReferralDirection.DOWN)),
    )
    received = in_year.values("to_institution__code", "to_institution__name", "month").annotate(
        received=Count("id"),
        completed=Count("id", filter=Q(status=ReferralStatus.COMPLETED)),
        days=Avg(days, filter=Q(status=ReferralStatus.COMPLETED)),
    )
    table: dict[tuple[str, int], dict] = {}

    def cell(code: str, name: str, month: int) -> dict:
        return table.setdefault((code, month), {"code": code, "name": name, "month": month,
                                                "up": 0, "down": 0, "received": 0,
                                                "completed": 0, "days": None})  # fmt: skip

    for s in sent:
        row = cell(s["from_institution__code"], s["from_institution__name"], s["month"])
        row.update(up=s["up"], down=s["down"])
    for r in received:
        row = cell(r["to_institution__code"], r["to_institution__name"], r["month"])
        row.update(received=r["received"], completed=r["completed"], days=_days(r["days"]))
    return [table[key] for key in sorted(table)]


def _days(value) -> float | None:
    if value is None:
        return None
    if hasattr(value, "total_seconds"):
        return round(value.total_seconds() / 86400, 1)
    return round(float(value) / 86_400_000_000, 1)
