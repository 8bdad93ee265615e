"""Writes of the notices app: reminders to clerks who have not reported (催报)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinglin.collection import completeness
from xinglin.network.models import Membership, Role
from xinglin.notices.models import Notice


@transaction.atomic
def remind_missing_reporters(report: completeness.Report, *, sender: User) -> int:
    """Notify the clerks of every institution in the sender's approval scope that has not
    reported (or was returned and has not resubmitted) the report's form: in the app, and by
    e-mail where an SMTP host is configured and the clerk has an address. Returns how many
    clerks were notified."""
    rows = completeness.reminders(report, sender)
    units = {row.orgunit.pk: row.orgunit for row in rows}
    clerks = Membership.objects.filter(
        orgunit_id__in=units, role=Role.INSTITUTION_CLERK
    ).select_related("user")
    notified = 0
    for membership in clerks:
        unit = units[membership.orgunit_id]
        text = _("Please report %(form)s for %(period)s of %(unit)s (due %(due)s).") % {
            "form": report.form.label, "period": report.period, "unit": unit.name,
            "due": report.deadline.isoformat(),
        }  # fmt: skip
        link = reverse("collection:entry", args=[unit.code, report.period])
        Notice.objects.create(user=membership.user, text=text, link=link, sender=sender)
        if settings.EMAIL_HOST and membership.user.email:
            _mail(membership.user, text)
        notified += 1
    return notified


def _mail(user: User, text: str) -> None:
    # best effort: the in-app notice is the record; a mail server that is down must not
    # undo it
    subject = _("Xinglin: reminder to report")
    send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, [user.email], fail_silently=True)


def mark_read(user: User) -> int:
    return Notice.objects.filter(user=user, read_at=None).update(read_at=timezone.now())
