"""Figures the engine reads besides reported data values."""

from __future__ import annotations

from django.db import models


class DerivedValue(models.Model):
    """A figure derived from records by another app (e.g. `care.constitution` counts the 65+
    residents with TCM health management). Where one exists for an element, org unit and
    period, the engine uses it instead of the reported DataValue; several sources of the same
    figure are added (each source counts its own records)."""

    element = models.ForeignKey("standards.DataElement", on_delete=models.PROTECT, related_name="+")
    orgunit = models.ForeignKey("network.OrgUnit", on_delete=models.PROTECT, related_name="+")
    period = models.CharField(max_length=8)
    value = models.FloatField()
    source = models.CharField(max_length=40)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["element", "orgunit", "period", "source"], name="unique_derived_value"
            )
        ]
        indexes = [models.Index(fields=["period", "element"])]

    def __str__(self) -> str:
        return f"{self.source}:{self.element_id}/{self.orgunit_id}/{self.period}={self.value}"
