"""Personal API tokens and the code mapping used by the interchange formats."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """A personal token: the holder acts as its user, with exactly the user's scope. Only a
    SHA-256 of the token is kept; the token itself is shown once, when it is created."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} {self.name} ({self.prefix})"

    @property
    def expires_at(self):
        """XINGLIN_API_TOKEN_DAYS (default 90) after it was made (issue 20.4)."""
        return self.created_at + timedelta(days=settings.API_TOKEN_DAYS)

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired


class MappingKind(models.TextChoices):
    ELEMENT = "element", _("Data element")
    ORGUNIT = "orgunit", _("Org unit")
    COMBO = "combo", _("Category option combination")


class CodeMapping(models.Model):
    """Our code ↔ the identifier another system uses (a DHIS2 UID, a platform code). Codes
    without a mapping are exchanged as they are."""

    scheme = models.CharField(max_length=20, default="dhis2")
    kind = models.CharField(max_length=8, choices=MappingKind.choices)
    code = models.CharField(max_length=64)
    external = models.CharField(max_length=64)
    name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["scheme", "kind", "code"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "kind", "code"], name="unique_mapping_code"),
            models.UniqueConstraint(
                fields=["scheme", "kind", "external"], name="unique_mapping_external"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scheme}:{self.kind}:{self.code}={self.external}"
