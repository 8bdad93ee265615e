"""Data values (one figure of one element, org unit and period) and their audit trail."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Value, When
from django.db.models.functions import Concat
from django.utils.translation import gettext_lazy as _

from xinglin.standards.categories import combo_name


class Channel(models.TextChoices):
    WEB = "web", _("Web form")
    IMPORT = "import", _("Import")
    API = "api", _("API")
    SYSTEM = "system", _("System")


def operand_expression(prefix: str = "") -> models.Expression:
    """The operand of a value (or an audit entry) in SQL, as `DataValue.operand`: the
    element's code, with `.combo` after it when the combination is not the default."""

    code, combo = F(f"{prefix}element__code"), F(f"{prefix}combo")
    return Case(
        When(**{f"{prefix}combo": ""}, then=code),
        default=Concat(code, Value("."), combo),
        output_field=models.CharField(),
    )


def element_codes(keys) -> set[str]:
    """The element codes of (org unit, period, operand) keys, for a query's filter."""
    return {k[2].partition(".")[0] for k in keys}


def values_under(keys) -> models.QuerySet[DataValue]:
    """The stored values of (org unit, period, operand) keys: a superset (each code is
    filtered by itself), from which callers keep the keys they asked for."""
    return DataValue.objects.filter(
        orgunit__code__in={k[0] for k in keys},
        period__in={k[1] for k in keys},
        element__code__in=element_codes(keys),
    )


class DataValue(models.Model):
    # Indexes: every one is paid for by each value an import writes (W3: a million at once), so
    # only two. unique_data_value (org unit, element, period) serves the forms and the API (an
    # org unit's values) and deleting an org unit; (element, period) the engine and the
    # warehouse export (the values of some elements in some periods) and deleting an element.
    # No query selects by `stored_by` (deleting a user, which Xinglin never does, would scan).
    # The row also records the value's creation until its first change (decision 0004).
    # No database foreign-key constraints (decision 0005): _store_values writes only the ids it
    # has just looked up, org units, elements and users are never deleted (closed, retired,
    # deactivated), and Django still applies PROTECT and SET_NULL. PostgreSQL's per-row checks
    # at commit were half of a million-value import.
    element = models.ForeignKey(
        "standards.DataElement",
        on_delete=models.PROTECT,
        related_name="values",
        db_index=False,
        db_constraint=False,
    )
    orgunit = models.ForeignKey(
        "network.OrgUnit",
        on_delete=models.PROTECT,
        related_name="values",
        db_index=False,
        db_constraint=False,
    )
    period = models.CharField(max_length=8)
    # The category option combination (decision 0013): "" for an element without categories
    # (its total), else the combination's code (`standards.categories`, e.g. "F").
    combo = models.CharField(max_length=32, blank=True, default="")
    value = models.FloatField()
    comment = models.CharField(max_length=500, blank=True)
    stored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_index=False,
        db_constraint=False,
    )
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.WEB)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["orgunit", "element", "period", "combo"], name="unique_data_value"
            )
        ]
        indexes = [models.Index(fields=["element", "period"], name="collection_value_element")]

    def __str__(self) -> str:
        return f"{self.element_id}/{self.orgunit_id}/{self.period}{self.combo and '.'}{self.combo}={self.value}"

    @property
    def operand(self) -> str:
        """The element's code with the combination (`elderly_tcm_managed.F`; the code alone for
        the default), as the write path keys values."""
        return f"{self.element.code}.{self.combo}" if self.combo else self.element.code

    @property
    def combo_name(self) -> str:
        """The combination in words (女), "" for the default."""

        return combo_name(self.element.categories, self.combo) if self.combo else ""


class AuditEntry(models.Model):
    """One change of one data value: who, when, old, new, through which channel.

    Written only by _store_values: one row per change of a stored value, preceded, at a value's
    first change, by the row of its creation (old value none) copied from the value's own
    row, which holds it until then (decision 0004; `xinglin.collection.audit` reads both).
    With that value's element, org unit and user: keys the data value's own foreign keys have just been checked
    against. So the database does not check them a second time (db_constraint=False: on
    PostgreSQL those per-row checks at commit were a third of a million-value import); Django
    still applies on_delete (PROTECT, SET_NULL). Read only by (org unit, element, period),
    the one index kept (deleting a user or an element, which Xinglin never does, would scan)."""

    element = models.ForeignKey(
        "standards.DataElement", on_delete=models.PROTECT, db_constraint=False, db_index=False
    )
    orgunit = models.ForeignKey(
        "network.OrgUnit", on_delete=models.PROTECT, db_constraint=False, db_index=False
    )
    period = models.CharField(max_length=8)
    combo = models.CharField(max_length=32, blank=True, default="")  # as DataValue.combo
    old_value = models.FloatField(null=True, blank=True)
    new_value = models.FloatField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        db_index=False,
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=500, blank=True)
    # The value's comment after this change; None: not recorded (entries written before
    # comments were kept, and the bulk store's, whose comments are written after it).
    comment = models.CharField(max_length=500, null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["orgunit", "element", "period"])]

    def __str__(self) -> str:
        return (
            f"{self.element_id}/{self.orgunit_id}/{self.period}{self.combo and '.'}{self.combo}:"
            f" {self.old_value}→{self.new_value}"
        )

    @property
    def operand(self) -> str:
        return f"{self.element.code}.{self.combo}" if self.combo else self.element.code


class TechniqueSource(models.TextChoices):
    REPORTED = "reported", _("Reported")
    RECORDS = "records", _("From records")


class DeliveredTechnique(models.Model):
    """An appropriate technique an institution delivered in a period (yearly, or monthly when
    derived from visit records). The engine counts distinct categories and items from these
    rows for the "n categories / m items" rules."""

    orgunit = models.ForeignKey(
        "network.OrgUnit", on_delete=models.PROTECT, related_name="techniques"
    )
    period = models.CharField(max_length=8)
    item = models.ForeignKey("standards.TechniqueItem", on_delete=models.PROTECT)
    source = models.CharField(
        max_length=8, choices=TechniqueSource.choices, default=TechniqueSource.REPORTED
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["orgunit", "period", "item", "source"], name="unique_delivered_technique"
            )
        ]
        indexes = [models.Index(fields=["period", "orgunit"])]

    def __str__(self) -> str:
        return f"{self.orgunit_id}/{self.period}/{self.item_id}"


class SubmissionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned")
    APPROVED = "approved", _("Approved")


class Submission(models.Model):
    """One form (报表) of one org unit for one period. An org unit has exactly one form per
    period type, so (org unit, period) names the form; `form` keeps its code for display.
    While `approved`, every value of the form is locked against edits and imports."""

    form = models.CharField(max_length=64)
    orgunit = models.ForeignKey(
        "network.OrgUnit", on_delete=models.PROTECT, related_name="submissions"
    )
    period = models.CharField(max_length=8)
    status = models.CharField(
        max_length=10, choices=SubmissionStatus.choices, default=SubmissionStatus.OPEN
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    comment = models.CharField(max_length=500, blank=True)
    # Bumped by every change of the form's values: an approval names the version the
    # supervisor looked at and is refused when the data changed since (optimistic check).
    data_version = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["orgunit", "period"], name="unique_submission")
        ]
        indexes = [models.Index(fields=["period", "status"])]

    def __str__(self) -> str:
        return f"{self.form}/{self.orgunit_id}/{self.period}: {self.status}"

    @property
    def is_locked(self) -> bool:
        return self.status == SubmissionStatus.APPROVED


class SubmissionEvent(models.Model):
    """One step of the approval workflow: submit, approve, return (comment), unapprove
    (reason)."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=10)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    at = models.DateTimeField(auto_now_add=True)
    comment = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.submission_id} {self.action}"


class ConfirmedWarning(models.Model):
    """A validation warning (e.g. a 5× jump on last year) that a user saw and confirmed."""

    element = models.ForeignKey("standards.DataElement", on_delete=models.PROTECT)
    orgunit = models.ForeignKey("network.OrgUnit", on_delete=models.PROTECT)
    period = models.CharField(max_length=8)
    combo = models.CharField(max_length=32, blank=True, default="")  # as DataValue.combo
    value = models.FloatField()
    rule = models.CharField(max_length=64)
    message = models.CharField(max_length=500)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.element_id}/{self.orgunit_id}/{self.period} {self.rule}"
