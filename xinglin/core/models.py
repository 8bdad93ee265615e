"""The floor's facts: security events (logins, lockouts, exports of personal data, approvals,
evidence decisions; failed logins for throttling) and the data generation's change rows."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    LOGIN = "login", _("Login")
    LOGIN_FAILED = "login_failed", _("Failed login")
    LOCKED_OUT = "locked_out", _("Locked out")
    LOGOUT = "logout", _("Logout")
    PERSONAL_EXPORT = "personal_export", _("Export of personal data")
    PERSONAL_VIEW = "personal_view", _("View or search of personal records")
    APPROVAL = "approval", _("Approval")
    EVIDENCE_DECISION = "evidence_decision", _("Evidence decision")
    BACKUP = "backup", _("Backup")
    RESTORE = "restore", _("Restore")
    PURGE = "purge", _("Purge of expired personal data")
    ORGUNIT_CHANGE = "orgunit_change", _("Change of an institution")
    USER_CHANGE = "user_change", _("Change of a user account")
    PASSWORD_CHANGE = "password_change", _("Password change")


class SecurityEvent(models.Model):
    """One security-relevant event; the bureau administrator reads them on /security/events/.
    `detail` never holds personal identifiers (PIPL): codes and counts only."""

    kind = models.CharField(max_length=20, choices=EventKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    username = models.CharField(max_length=150, blank=True)
    orgunit = models.ForeignKey("network.OrgUnit", null=True, blank=True, on_delete=models.SET_NULL)
    ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "web_securityevent"  # the table keeps the name it was created with
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["kind", "username", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.username}"


class DataChange(models.Model):
    """The data generation: database triggers (installed by evaluation's migrations, see
    xinglin/core/generation.py) record every write to the tables evaluations read, so a
    cached evaluation is reused only while nothing it depends on has changed.

    A write to a per-year, per-unit table (values, techniques, submissions, derived values)
    is recorded with its year (0: every year) and its branch of the tree — on PostgreSQL the
    `scope`: the unit's path cut after the county; on SQLite the `unit` (its id), whose paths
    are read when a scope is — so that it changes only the scopes it can change; any other
    write is recorded for everything (year 0, unit 0, scope ''). On SQLite one row per key
    holds a random token that every write replaces (with a new id). On PostgreSQL each writing
    transaction adds one row per key (`txid`, so concurrent writers never wait on each other)
    whose weight every further statement raises; a scope's generation is (sum of weights, max
    id) of its rows, and old rows are folded into the newest of their key without changing
    either (decisions 0003 and 0019)."""

    txid = models.BigIntegerField(default=0)
    year = models.IntegerField(default=0)
    unit = models.BigIntegerField(default=0)
    scope = models.CharField(max_length=400, default="", blank=True)
    weight = models.BigIntegerField(default=1)
    token = models.CharField(max_length=32, default="")

    class Meta:
        db_table = "evaluation_datachange"  # the table keeps the name it was created with
        constraints = [
            models.UniqueConstraint(
                fields=["txid", "year", "unit", "scope"], name="unique_data_change"
            )
        ]

    def __str__(self) -> str:
        return f"{self.pk}:{self.txid or self.token} {self.year} {self.unit or self.scope}"


class WarehouseChange(models.Model):
    """A data value written since the warehouse copy last caught up: the key of the row
    (recorded by database triggers, xinglin/warehouse/fresh.py), whose current value the
    maintainer copies into a delta file. A row without an element asks for a full export
    (a TRUNCATE on PostgreSQL)."""

    element_id = models.BigIntegerField(null=True)
    orgunit_id = models.BigIntegerField(null=True)
    period = models.CharField(max_length=8, null=True)  # noqa: DJ001 (none: a TRUNCATE)

    class Meta:
        db_table = "warehouse_change"

    def __str__(self) -> str:
        return f"{self.element_id}/{self.orgunit_id}/{self.period}"
