"""Demo step: submissions and approvals for the forms whose values exist in every place (the
evaluation step writes each place's years), approved by the nearest supervisor or bureau.
Most are submitted on time and approved; some are late; the last periods
leave a few forms missing; one yearly form is returned with a comment. Re-runnable: only
(org unit, period) pairs without a submission get one."""

from __future__ import annotations

import random
import zlib
from datetime import datetime, time, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from xinglin.collection import rules
from xinglin.collection.forms import Form, target_of
from xinglin.collection.models import DataValue, Submission, SubmissionEvent, SubmissionStatus
from xinglin.lib import periods
from xinglin.network.models import Membership, OrgUnit, Role

RETURNED = ("640323100001", "2025", "中医类别医师数较上年变化较大，请核实后重新上报。")
# Shares of the forms of the last year left unsubmitted, and of all forms submitted late.
MISSING_SHARE = 0.08
LATE_SHARE = 0.12


def build(context) -> None:
    created = kept = 0
    for place in getattr(context, "places", ()):
        root = OrgUnit.objects.filter(code=place.root).first()
        if root is None:
            continue
        pairs = _pairs_with_values(root)
        existing = set(
            Submission.objects.filter(orgunit__path__startswith=root.path).values_list(
                "orgunit_id", "period"
            )
        )
        todo = [(unit, period) for unit, period in pairs if (unit.pk, period) not in existing]
        created += _create(todo, root, str(max(place.years)))
        kept += len(existing)
    _return_one()
    context.log.append(f"collection: {created} submissions added ({kept} kept)")


def _pairs_with_values(county: OrgUnit) -> list[tuple[OrgUnit, str]]:
    units = {u.pk: u for u in OrgUnit.objects.filter(path__startswith=county.path)}
    found = (
        DataValue.objects.filter(orgunit_id__in=units)
        .values_list("orgunit_id", "period")
        .distinct()
        .order_by("orgunit_id", "period")
    )
    return [(units[orgunit_id], period) for orgunit_id, period in found]


def _approvers(root: OrgUnit) -> list[tuple[str, User]]:
    """(path, user) of the supervisors and bureau administrators over the root's units,
    deepest first: a form is approved by the nearest of them."""
    found = Membership.objects.filter(
        role__in=[Role.TOWNSHIP_SUPERVISOR, Role.BUREAU_ADMIN],
        orgunit__path__startswith=root.path,
    ).select_related("orgunit", "user")
    return sorted(((m.orgunit.path, m.user) for m in found), key=lambda p: (-len(p[0]), p[1].pk))


def _approver_of(unit: OrgUnit, approvers) -> User | None:
    for path, user in approvers:
        if unit.path.startswith(path):
            return user
    return None


@transaction.atomic
def _create(todo: list[tuple[OrgUnit, str]], root: OrgUnit, last_year: str) -> int:
    approvers = _approvers(root)
    today = timezone.localdate()
    submissions, plans = [], []
    for unit, period in todo:
        # Seeded by the form itself, so a re-run makes the same choices.
        chance = random.Random(zlib.crc32(f"{unit.code}/{period}".encode()))
        due = rules.deadline(period)
        if due >= today or (period.startswith(last_year) and chance.random() < MISSING_SHARE):
            continue  # not yet due, or one of the missing forms
        late = chance.random() < LATE_SHARE
        day = (
            due + timedelta(days=chance.randint(3, 20))
            if late
            else due - timedelta(days=chance.randint(0, 4))
        )
        submitted = timezone.make_aware(datetime.combine(day, time(10, chance.randint(0, 59))))
        approver = _approver_of(unit, approvers)
        form = Form(target_of(unit), periods.parse(period).type).code
        submissions.append(
            Submission(
                form=form,
                orgunit=unit,
                period=period,
                status=SubmissionStatus.APPROVED,
                submitted_at=submitted,
                decided_at=submitted + timedelta(days=2),
                decided_by=approver,
            )
        )
        plans.append((submitted, approver))
    Submission.objects.bulk_create(submissions, batch_size=2000)
    _add_events(submissions, plans)
    return len(submissions)


def _add_events(submissions: list[Submission], plans) -> None:
    fresh = Submission.objects.filter(events__isnull=True)
    approvers = {
        (s.orgunit_id, s.period): approver
        for s, (_submitted, approver) in zip(submissions, plans, strict=True)
    }
    events = []
    for pk, orgunit_id, period in fresh.values_list("pk", "orgunit_id", "period"):
        if (orgunit_id, period) in approvers:
            events.append(SubmissionEvent(submission_id=pk, action="submit"))
            approver = approvers[(orgunit_id, period)]
            events.append(SubmissionEvent(submission_id=pk, action="approve", user=approver))
    created = SubmissionEvent.objects.bulk_create(events, batch_size=5000)
    # `at` is auto_now_add: date the new events as the story goes, in two statements.
    if not created:
        return
    ids = [e.pk for e in created]
    new = SubmissionEvent.objects.filter(pk__gte=min(ids), pk__lte=max(ids))
    own = Submission.objects.filter(pk=OuterRef("submission_id"))
    new.filter(action="submit").update(at=Subquery(own.values("submitted_at")[:1]))
    new.filter(action="approve").update(at=Subquery(own.values("decided_at")[:1]))


def _return_one() -> None:
    code, period, comment = RETURNED
    submission = Submission.objects.filter(orgunit__code=code, period=period).first()
    if submission is None or submission.status == SubmissionStatus.RETURNED:
        return
    submission.status, submission.comment = SubmissionStatus.RETURNED, comment
    submission.decided_at = (submission.submitted_at or timezone.now()) + timedelta(days=1)
    submission.save()
    submission.events.filter(action="approve").delete()
    SubmissionEvent.objects.create(
        submission=submission, action="return", user=submission.decided_by, comment=comment
    )
