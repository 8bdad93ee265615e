"""Survey instruments (loaded from instruments/*.yaml) and the responses interviewers collect."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Audience(models.TextChoices):
    RESIDENTS = "residents", _("Residents")
    STAFF = "staff", _("TCM staff")


class Instrument(models.Model):
    """One questionnaire. `definition` is the YAML file as loaded and checked; the target is
    copied from the indicator pack at load time (`xinglin surveys load` re-reads it)."""

    code = models.SlugField(max_length=50, unique=True)
    title_zh = models.CharField(max_length=200)
    title_en = models.CharField(max_length=200, blank=True)
    audience = models.CharField(max_length=12, choices=Audience.choices)
    version = models.CharField(max_length=20, blank=True)
    definition = models.JSONField()
    target = models.FloatField(null=True, blank=True, help_text="a proportion, 0.9 = 90%")
    target_source = models.CharField(max_length=300, blank=True)
    source_file = models.CharField(max_length=200, blank=True)
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    @property
    def title(self) -> str:
        return self.title_en if get_language() == "en" and self.title_en else self.title_zh

    @property
    def questions(self) -> list[dict]:
        return self.definition["questions"]


class SurveyChannel(models.TextChoices):
    WEB = "web", _("Web form")
    IMPORT = "import", _("Import")
    SYSTEM = "system", _("System")


class SurveyResponse(models.Model):
    """One completed questionnaire. `is_positive` is the instrument's scoring rule applied to
    `answers` (satisfied, or aware); it is stored so that rates are counted in SQL, and
    re-computed when the instrument changes."""

    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="responses")
    orgunit = models.ForeignKey(
        "network.OrgUnit", on_delete=models.PROTECT, related_name="survey_responses"
    )
    period = models.CharField(max_length=8)
    answers = models.JSONField()
    correct_share = models.FloatField(null=True, blank=True)
    is_positive = models.BooleanField()
    serial = models.CharField(max_length=40, blank=True, help_text="序号 of an imported row")
    submitted_at = models.DateTimeField(null=True, blank=True)
    interviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    channel = models.CharField(max_length=8, choices=SurveyChannel.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["instrument", "period"])]
        constraints = [
            # The same exported row imported twice is refused, not counted twice.
            models.UniqueConstraint(
                fields=["instrument", "period", "serial", "submitted_at"],
                condition=~Q(serial=""),
                name="unique_imported_survey_row",
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id}/{self.orgunit_id}/{self.period}"
