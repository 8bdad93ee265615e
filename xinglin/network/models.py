"""The service network: one tree of divisions (行政区划) and institutions (医疗卫生机构)."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xinglin.network import opening

# The tree as it stood on a day is read from OrgUnitHistory; this date opens the
# first history row of a unit with no opening date.
BEGINNING = date(1900, 1, 1)


class Kind(models.TextChoices):
    DIVISION = "division", _("Division")
    INSTITUTION = "institution", _("Institution")


class DivisionLevel(models.TextChoices):
    PROVINCE = "province", _("Province")
    CITY = "city", _("City")
    COUNTY = "county", _("County")
    TOWNSHIP = "township", _("Township")


class InstitutionType(models.TextChoices):
    TCM_HOSPITAL = "tcm_hospital", _("TCM hospital")
    GENERAL_HOSPITAL = "general_hospital", _("General hospital")
    MATERNAL_CHILD_HOSPITAL = "maternal_child_hospital", _("Maternal and child health hospital")
    COMMUNITY_HEALTH_CENTER = "community_health_center", _("Community health centre")
    TOWNSHIP_HEALTH_CENTER = "township_health_center", _("Township health centre")
    COMMUNITY_HEALTH_STATION = "community_health_station", _("Community health station")
    VILLAGE_CLINIC = "village_clinic", _("Village clinic")
    TCM_CLINIC = "tcm_clinic", _("TCM clinic")
    DISABILITY_REHAB_CENTER = "disability_rehab_center", _("Disability rehabilitation centre")
    ELDERLY_CARE_HOME = "elderly_care_home", _("Elderly care home")
    # seeds/000 §(四), seeds/002: where TCM rehabilitation is to reach beyond health care
    CHILDREN_WELFARE_HOME = "children_welfare_home", _("Children's welfare home")
    SPECIAL_EDUCATION_SCHOOL = "special_education_school", _("Special education school")
    WORK_INJURY_REHAB_CENTER = "work_injury_rehab_center", _("Work-injury rehabilitation centre")
    CIVIL_AFFAIRS_REHAB_CENTER = (
        "civil_affairs_rehab_center",
        _("Civil-affairs rehabilitation centre"),
    )


class Ownership(models.TextChoices):
    """所有制: 公立/政府办 or private (民营). Indicators about public institutions respect it."""

    PUBLIC = "public", _("Public")
    PRIVATE = "private", _("Private")


class InstitutionRole(models.TextChoices):
    """机构定位: a designation a policy document names an institution by ("县中医医院")."""

    COUNTY_TCM_HOSPITAL = "county_tcm_hospital", _("County TCM hospital")
    COUNTY_GENERAL_HOSPITAL = "county_general_hospital", _("County general hospital")
    COUNTY_MCH_HOSPITAL = "county_mch_hospital", _("County maternal and child health hospital")
    CITY_TCM_HOSPITAL = "city_tcm_hospital", _("City TCM hospital")


# Roles are stored in one text column as ";"-separated codes, sorted ("" for none), so that
# every backend (SQLite, PostgreSQL, DuckDB over Parquet) tests a role with the same LIKE on
# ";" || roles || ";".
ROLE_SEPARATOR = ";"


def join_roles(roles) -> str:
    return ROLE_SEPARATOR.join(sorted({str(role) for role in roles if role}))


# Words a sheet may use for ownership and roles besides the codes: the Chinese labels and the
# names policy documents use (所有制: 公立/政府办 vs 民营/社会办; 县（区）中医医院 …).
OWNERSHIP_WORDS = {
    "公立": Ownership.PUBLIC,
    "公办": Ownership.PUBLIC,
    "政府办": Ownership.PUBLIC,
    "民营": Ownership.PRIVATE,
    "私立": Ownership.PRIVATE,
    "社会办": Ownership.PRIVATE,
}
ROLE_WORDS = {
    "县中医医院": InstitutionRole.COUNTY_TCM_HOSPITAL,
    "县级中医医院": InstitutionRole.COUNTY_TCM_HOSPITAL,
    "县（区）中医医院": InstitutionRole.COUNTY_TCM_HOSPITAL,
    "区级中医医院": InstitutionRole.COUNTY_TCM_HOSPITAL,
    "县综合医院": InstitutionRole.COUNTY_GENERAL_HOSPITAL,
    "县级综合医院": InstitutionRole.COUNTY_GENERAL_HOSPITAL,
    "县人民医院": InstitutionRole.COUNTY_GENERAL_HOSPITAL,
    "县妇幼保健院": InstitutionRole.COUNTY_MCH_HOSPITAL,
    "县级妇幼保健机构": InstitutionRole.COUNTY_MCH_HOSPITAL,
    "市中医医院": InstitutionRole.CITY_TCM_HOSPITAL,
    "市级中医医院": InstitutionRole.CITY_TCM_HOSPITAL,
}


GRASSROOTS_TYPES = (
    InstitutionType.COMMUNITY_HEALTH_CENTER,
    InstitutionType.TOWNSHIP_HEALTH_CENTER,
    InstitutionType.COMMUNITY_HEALTH_STATION,
    InstitutionType.VILLAGE_CLINIC,
)


class OrgUnit(models.Model):
    """A division or an institution. `path` is the materialised path of codes as of today,
    e.g. `/64/6403/640323/640323100/`; roll-ups are prefix queries on it."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    division_level = models.CharField(max_length=10, choices=DivisionLevel.choices, blank=True)
    institution_type = models.CharField(max_length=32, choices=InstitutionType.choices, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=400, db_index=True)
    depth = models.PositiveSmallIntegerField(default=0)
    opened_on = models.DateField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    ownership = models.CharField(
        max_length=8, choices=Ownership.choices, default=Ownership.PUBLIC, blank=True
    )
    roles = models.CharField(max_length=200, blank=True, help_text="';'-separated role codes")
    address = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["path"]
        indexes = [models.Index(fields=["kind", "institution_type"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_institution(self) -> bool:
        return self.kind == Kind.INSTITUTION

    @property
    def is_closed(self) -> bool:
        return self.closed_on is not None and self.closed_on <= date.today()

    def is_open_on(self, day: date) -> bool:
        return opening.is_open_during(self, day, day)

    @property
    def role_list(self) -> list[str]:
        return [role for role in self.roles.split(ROLE_SEPARATOR) if role]

    @property
    def role_labels(self) -> list[str]:
        """The unit's designations in words (县中医医院, …)."""
        return [
            str(InstitutionRole(r).label) if r in InstitutionRole.values else r
            for r in self.role_list
        ]

    @property
    def ownership_label(self) -> str:
        return str(Ownership(self.ownership or Ownership.PUBLIC).label)

    @property
    def type_label(self) -> str:
        if self.is_institution:
            return str(InstitutionType(self.institution_type).label)
        return str(DivisionLevel(self.division_level).label)


class OrgUnitHistory(models.Model):
    """Where a unit stood in the tree from `valid_from` (inclusive) to `valid_to`
    (exclusive; null = still). A move closes the rows of the whole subtree and opens new
    ones, so figures of a past year roll up by the tree of that year."""

    orgunit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="history")
    parent = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    path = models.CharField(max_length=400)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["orgunit", "valid_from"]
        indexes = [models.Index(fields=["valid_from", "valid_to"]), models.Index(fields=["path"])]

    def __str__(self) -> str:
        return f"{self.orgunit_id} {self.path} {self.valid_from}–{self.valid_to or ''}"


class OrgUnitChange(models.Model):
    """A change of an institution's attributes (name, type, ownership, roles, …), one row per
    field, shown with the unit's history; the tree position's history is OrgUnitHistory.
    `valid_from` is the day the new value holds from: the engine judges ownership and roles as
    they stood at the end of the year evaluated (the `old` of the first change after that day,
    else the current value), so re-designating a hospital in 2026 leaves 2024 as it was
    (decision 0001's pattern, for attributes)."""

    orgunit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="changes")
    field = models.CharField(max_length=32)
    old = models.CharField(max_length=200, blank=True)
    new = models.CharField(max_length=200, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    at = models.DateTimeField()
    valid_from = models.DateField(null=True, blank=True)  # null: as recorded (older rows)
    channel = models.CharField(max_length=12, blank=True)  # web, import, demo, …

    class Meta:
        ordering = ["orgunit", "at", "id"]

    def __str__(self) -> str:
        return f"{self.orgunit_id} {self.field}: {self.old} -> {self.new}"

    @property
    def field_label(self) -> str:
        return str(CHANGE_FIELD_LABELS.get(self.field, self.field))

    @property
    def old_label(self) -> str:
        return _value_label(self.field, self.old)

    @property
    def new_label(self) -> str:
        return _value_label(self.field, self.new)


CHANGE_FIELD_LABELS = {
    "name": _("Name"),
    "institution_type": _("Type"),
    "address": _("Address"),
    "phone": _("Phone"),
    "opened_on": _("Opened on"),
    "ownership": _("Ownership"),
    "roles": _("Designations"),
}


def _value_label(field: str, value: str) -> str:
    """A recorded value in words: codes of types, ownership and roles become their names."""
    choices = {"institution_type": InstitutionType, "ownership": Ownership}
    if field in choices and value in choices[field].values:
        return str(choices[field](value).label)
    if field == "roles":
        return "、".join(
            str(InstitutionRole(r).label) if r in InstitutionRole.values else r
            for r in value.split(ROLE_SEPARATOR)
            if r
        )
    return value


class Role(models.TextChoices):
    BUREAU_ADMIN = "bureau_admin", _("Bureau administrator")
    TOWNSHIP_SUPERVISOR = "township_supervisor", _("Township supervisor")
    INSTITUTION_CLERK = "institution_clerk", _("Institution clerk")
    DEPARTMENT_LIAISON = "department_liaison", _("Department liaison")
    VIEWER = "viewer", _("Viewer")


class Membership(models.Model):
    """A user's role over an org unit (and everything beneath it). A department liaison's
    org unit is the county whose plan they work on; their scope is their department's tasks."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=24, choices=Role.choices)
    orgunit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="memberships")
    department = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "orgunit", "department"], name="unique_membership"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role} {self.orgunit.code} {self.department}".strip()
