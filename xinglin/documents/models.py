"""What the officer writes into the documents: narrative paragraphs and typical cases.
Figures are never stored here; they come from the engine each time a document is generated."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportKind(models.TextChoices):
    ANNUAL = "annual", _("Annual summary")
    MIDTERM = "midterm", _("Mid-term evaluation")
    FINAL = "final", _("Final evaluation")


class Narrative(models.Model):
    """One editable paragraph (a section's text) of one report of one org unit and year.
    Kept across regenerations: the document is rebuilt around it."""

    orgunit = models.ForeignKey(
        "network.OrgUnit", on_delete=models.CASCADE, related_name="narratives"
    )
    year = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=8, choices=ReportKind.choices)
    section = models.CharField(max_length=32)
    text = models.TextField(blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["orgunit", "year", "kind", "section"], name="unique_narrative"
            )
        ]

    def __str__(self) -> str:
        return f"{self.orgunit_id}/{self.year}/{self.kind}/{self.section}"


class TypicalCase(models.Model):
    """A typical case (典型案例) the officer writes for a mid-term or final evaluation."""

    orgunit = models.ForeignKey(
        "network.OrgUnit", on_delete=models.CASCADE, related_name="typical_cases"
    )
    year = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField()
    position = models.PositiveSmallIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["orgunit", "year", "position", "id"]

    def __str__(self) -> str:
        return f"{self.orgunit_id}/{self.year}: {self.title}"
