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


class DraftParagraph(models.Model):
    """One drafted paragraph of a narrative section, as kept for the document: `text` is what
    prints (the officer's edit, or the draft); `drafted_text` what the draft said when it was
    last drafted; `sources` its sentences with where each comes from (figure, task, evidence);
    `fingerprint` the state of those sources then — a different fingerprint now means the data
    changed since and the paragraph is stale. `edited` paragraphs are never redrafted without
    the officer asking. The officer's own free text stays in Narrative."""

    orgunit = models.ForeignKey(
        "network.OrgUnit", on_delete=models.CASCADE, related_name="draft_paragraphs"
    )
    year = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=8, choices=ReportKind.choices)
    section = models.CharField(max_length=32)
    key = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)
    text = models.TextField(blank=True)
    drafted_text = models.TextField(blank=True)
    sources = models.JSONField(default=list, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True)
    edited = models.BooleanField(default=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["orgunit", "year", "kind", "section", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["orgunit", "year", "kind", "section", "key"], name="unique_draft_paragraph"
            )
        ]

    def __str__(self) -> str:
        return f"{self.orgunit_id}/{self.year}/{self.kind}/{self.section}/{self.key}"


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Being prepared")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class JobStep(models.TextChoices):
    WAITING = "waiting", _("Waiting for a free generator")
    GATHER = "gather", _("Reading the figures")
    COMPOSE = "compose", _("Writing the text and charts")
    RENDER = "render", _("Laying out the file")
    DONE = "done", _("Ready to download")
    FAILED = "failed", _("Could not be prepared")


ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
VALUES = "values"  # the job kind of a large values export (collection's values.xlsx/.json)
JOB_KINDS = [*ReportKind.choices, (VALUES, _("Data values export"))]


class DocumentJob(models.Model):
    """One generation of a document (or large export) in the background, for one user: its
    progress, then the file it wrote. A user has at most one job queued or running (the
    constraint): a second request for the same file joins it, for another is told to wait."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    orgunit = models.ForeignKey(  # None: a values export of the user's whole scope
        "network.OrgUnit", on_delete=models.CASCADE, null=True, blank=True
    )
    year = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=8, choices=JOB_KINDS)
    period = models.CharField(max_length=16, blank=True)  # a values export's period, if any
    fmt = models.CharField(max_length=8)
    key = models.CharField(max_length=64)  # the cache key of the file it makes
    filename = models.CharField(max_length=200)  # what the person's browser saves it as
    status = models.CharField(max_length=8, choices=JobStatus.choices, default=JobStatus.QUEUED)
    step = models.CharField(max_length=8, choices=JobStep.choices, default=JobStep.WAITING)
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status__in=["queued", "running"]),
                name="one_active_document_job_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id}/{self.orgunit_id}/{self.year}/{self.kind}.{self.fmt}"
