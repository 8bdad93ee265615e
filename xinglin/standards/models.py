"""Data elements (数据元) and the packs that declare them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from xinglin.standards import categories as category_catalogue


class ValueType(models.TextChoices):
    INTEGER = "integer", _("Integer")
    NUMBER = "number", _("Number")
    BOOLEAN = "boolean", _("Yes/no")
    PERCENT = "percent", _("Percentage")


class DataElement(models.Model):
    """One figure an org unit reports (or the engine derives), declared in packs/core.yaml."""

    code = models.CharField(max_length=64, unique=True)
    name_zh = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200, blank=True)
    value_type = models.CharField(max_length=10, choices=ValueType.choices)
    unit_zh = models.CharField(max_length=40, blank=True)
    unit_en = models.CharField(max_length=40, blank=True)
    period_type = models.CharField(max_length=10)
    level = models.CharField(max_length=12, default="institution")
    institution_types = models.JSONField(default=list, blank=True)
    aggregation = models.CharField(max_length=10, default="sum")
    section_zh = models.CharField(max_length=100, blank=True)
    section_en = models.CharField(max_length=100, blank=True)
    help_zh = models.TextField(blank=True)
    help_en = models.TextField(blank=True)
    # Category codes (core.yaml `categories:`): the element is reported per option combination
    # of these (standards.categories; decision 0013); [] for a plain element.
    categories = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    @property
    def name(self) -> str:
        return self.name_en if get_language() == "en" and self.name_en else self.name_zh

    @property
    def unit(self) -> str:
        return self.unit_en if get_language() == "en" and self.unit_en else self.unit_zh

    def combos(self) -> list[category_catalogue.Combo]:
        """The element's option combinations (`standards.categories.Combo`); [] when it has no
        categories (its values have the default combination)."""

        return category_catalogue.combos(self.categories)


class TechniqueCategory(models.Model):
    """A category of TCM appropriate techniques (适宜技术类别), from packs/core.yaml."""

    code = models.CharField(max_length=40, unique=True)
    name_zh = models.CharField(max_length=40)
    name_en = models.CharField(max_length=80, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.name_zh


class TechniqueItem(models.Model):
    """One technique (适宜技术项目) within a category."""

    code = models.CharField(max_length=60, unique=True)
    category = models.ForeignKey(TechniqueCategory, on_delete=models.PROTECT, related_name="items")
    name_zh = models.CharField(max_length=60)
    name_en = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["category__position", "code"]

    def __str__(self) -> str:
        return self.name_zh


class PackAdoption(models.Model):
    """An org unit (a county, or a city for its own plan) is judged against a pack from a year.
    A pack adopted by a unit applies to the units beneath it too."""

    orgunit = models.ForeignKey(
        "network.OrgUnit", on_delete=models.CASCADE, related_name="pack_adoptions"
    )
    pack_code = models.CharField(max_length=64)
    since = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["orgunit", "pack_code"], name="unique_pack_adoption")
        ]

    def __str__(self) -> str:
        return f"{self.orgunit_id} {self.pack_code}"


class AdoptionChange(models.TextChoices):
    ADOPTED = "adopted", _("Adopted")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class AdoptionEvent(models.Model):
    """Who adopted or withdrew which pack for which unit, when (the audit of PackAdoption).
    `other_place` records a deliberate adoption of another place's document."""

    orgunit = models.ForeignKey(
        "network.OrgUnit", on_delete=models.PROTECT, related_name="adoption_events"
    )
    pack_code = models.CharField(max_length=64)
    change = models.CharField(max_length=10, choices=AdoptionChange.choices)
    since = models.PositiveSmallIntegerField(null=True, blank=True)
    other_place = models.BooleanField(default=False)
    user = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.change} {self.pack_code} {self.orgunit_id}"


class BureauTarget(models.Model):
    """A bureau's own target for its place and year (seeds/001 item 22: the local health plan's
    千人口床位数, 医护比, …), which a pack's `target: {from: bureau, key: …}` judges against.
    Entered on /standards/targets/ by a bureau administrator over the division (county or
    above); each change is a BureauTargetChange. No row: 目标未设定 (status target_unset)."""

    orgunit = models.ForeignKey("network.OrgUnit", on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField()
    key = models.CharField(max_length=64)
    value = models.FloatField()
    source = models.CharField(max_length=200, blank=True)  # e.g. 《盐池县"十四五"卫生健康规划》
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    set_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["orgunit", "year", "key"], name="unique_bureau_target")
        ]
        ordering = ["orgunit", "year", "key"]

    def __str__(self) -> str:
        return f"{self.orgunit_id} {self.year} {self.key} = {self.value:g}"


class BureauTargetChange(models.Model):
    """One change of a bureau target (set, changed or cleared): who, when, old and new."""

    orgunit = models.ForeignKey("network.OrgUnit", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    key = models.CharField(max_length=64)
    old = models.FloatField(null=True, blank=True)
    new = models.FloatField(null=True, blank=True)
    source = models.CharField(max_length=200, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.orgunit_id} {self.year} {self.key}: {self.old} -> {self.new}"
