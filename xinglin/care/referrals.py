"""Two-way referrals (双向转诊, seeds/000 §(二)4) between the county hospitals and the health
centres: sending, receiving, completing, and monthly counts per institution.

Who sees what (through xinglin.network.access): a referral is visible to users who may view
either end; it is created by a user who may report for the sending institution, and received
and completed by a user who may report for the receiving institution.

The rules and figures; the writes (`send_referral`, `advance_referral`) are in actions.py.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import ExtractMonth, ExtractYear

from xinglin.care.models import Referral, ReferralDirection, ReferralStatus
from xinglin.network import access
from xinglin.network.models import OrgUnit

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
