"""Registers: records people enter or import for what the documents ask and no form holds
(issue 24). Each model is one register; `registry.REGISTERS` declares how each is listed,
entered, imported, exported and fed to the engine. Every record belongs to an org unit
(`orgunit`), through which access is decided; every change is a `RecordChange`."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from xinglin.network.models import OrgUnit


class ComplaintKind(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    SUGGESTION = "suggestion", _("Suggestion")


class ComplaintChannel(models.TextChoices):
    PHONE = "phone", _("Telephone")
    HOTLINE = "hotline", _("12345 hotline")
    WEBSITE = "website", _("Website or mini-program")
    LETTER = "letter", _("Letter")
    VISIT = "visit", _("In person")
    OTHER = "other", _("Other")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    UNSATISFIED = "unsatisfied", _("Not satisfied")


class Complaint(models.Model):
    """A complaint or suggestion about TCM services (seeds/001 三(一)5)."""

    orgunit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("Unit concerned")
    )
    kind = models.CharField(_("Kind"), max_length=12, choices=ComplaintKind.choices)
    channel = models.CharField(
        _("Complaint channel"), max_length=12, choices=ComplaintChannel.choices
    )
    received_on = models.DateField(_("Received on"))
    summary = models.CharField(_("Summary"), max_length=500)
    complainant_name = models.CharField(_("Complainant"), max_length=50, blank=True)
    complainant_phone = models.CharField(_("Complainant's telephone"), max_length=20, blank=True)
    due_on = models.DateField(_("Reply due on"))
    verified_on = models.DateField(_("Verified on"), null=True, blank=True)
    handled_on = models.DateField(_("Handled on"), null=True, blank=True)
    replied_on = models.DateField(_("Replied on"), null=True, blank=True)
    satisfaction = models.CharField(
        _("Satisfaction with handling"), max_length=12, choices=Satisfaction.choices, blank=True
    )

    class Meta:
        ordering = ["-received_on", "-pk"]
        indexes = [models.Index(fields=["received_on"])]

    def __str__(self) -> str:
        return f"{self.received_on} {self.summary[:30]}"

    def is_overdue(self, today: date | None = None) -> bool:
        """Not handled by its due date (handled late, or still open past it)."""
        if self.handled_on is not None:
            return self.handled_on > self.due_on
        return (today or date.today()) > self.due_on


class TrainingKind(models.TextChoices):
    WESTERN_DOCTORS_TCM = "western_doctors_tcm", _("TCM course for Western-medicine doctors")
    APPRENTICESHIP = "apprenticeship", _("Apprenticeship (master and disciple)")
    GP_CONVERSION = "gp_conversion", _("General-practice conversion training")
    TCM_KNOWLEDGE = "tcm_knowledge", _("TCM knowledge training")
    TECHNIQUE_PROMOTION = "technique_promotion", _("Appropriate-technique training")
    CONTINUING = "continuing", _("Continuing education")


class Training(models.Model):
    """One trainee in one training (seeds/001 items 24–25, seeds/003, seeds/004 三(九))."""

    orgunit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("Trainee's institution")
    )
    kind = models.CharField(_("Kind of training"), max_length=24, choices=TrainingKind.choices)
    course = models.CharField(_("Course"), max_length=200)
    trainee = models.CharField(_("Trainee"), max_length=50)
    mentor = models.CharField(_("Mentor"), max_length=50, blank=True)
    started_on = models.DateField(_("Started on"))
    hours = models.DecimalField(_("Hours"), max_digits=6, decimal_places=1, null=True, blank=True)
    completed_on = models.DateField(_("Course completed on"), null=True, blank=True)

    class Meta:
        ordering = ["-started_on", "-pk"]
        indexes = [models.Index(fields=["started_on"])]

    def __str__(self) -> str:
        return f"{self.trainee} {self.course}"


class OutreachSetting(models.TextChoices):
    """Where an activity goes: the documents' 五进 (seeds/000) and 七进 (seeds/004)."""

    COMMUNITY = "community", _("Into communities")
    VILLAGE = "village", _("Into villages")
    FAMILY = "family", _("Into families")
    GOVERNMENT = "government", _("Into government offices")
    SCHOOL = "school", _("Into schools")
    ENTERPRISE = "enterprise", _("Into enterprises")
    ELDERLY_CARE = "elderly_care", _("Into elderly care homes")
    MILITARY = "military", _("Into barracks")
    OTHER = "other", _("Elsewhere")


class OutreachEvent(models.Model):
    """A health-education or TCM-culture activity (seeds/000 五进, seeds/004 七进)."""

    orgunit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("Organiser")
    )
    setting = models.CharField(_("Setting"), max_length=16, choices=OutreachSetting.choices)
    topic = models.CharField(_("Topic"), max_length=200)
    held_on = models.DateField(_("Held on"))
    place = models.CharField(_("Place"), max_length=100)
    attendance = models.PositiveIntegerField(_("Attendance"))

    class Meta:
        ordering = ["-held_on", "-pk"]
        indexes = [models.Index(fields=["held_on"])]

    def __str__(self) -> str:
        return f"{self.held_on} {self.topic}"


class SupportPair(models.Model):
    """A hospital's counterpart support of an institution in a year (seeds/003 三(五)19)."""

    orgunit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("Supporting hospital")
    )
    partner = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("Supported institution")
    )
    year = models.PositiveSmallIntegerField(_("Year"))
    started_on = models.DateField(_("Started on"))
    activities = models.CharField(_("Activities"), max_length=500)

    class Meta:
        ordering = ["-year", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["orgunit", "partner", "year"], name="unique_support_pair"
            )
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.orgunit_id}→{self.partner_id}"


class HerbCultivation(models.Model):
    """A year's cultivation of one herb in a county or township (seeds/004 八(十九),
    seeds/001 三(二)12): area and output value, from the agriculture department."""

    orgunit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("Area")
    )
    year = models.PositiveSmallIntegerField(_("Year"))
    herb = models.CharField(_("Herb"), max_length=50)
    area_mu = models.DecimalField(_("Area planted (mu)"), max_digits=10, decimal_places=1)
    output_value = models.DecimalField(
        _("Output value (10,000 yuan)"), max_digits=12, decimal_places=1
    )

    class Meta:
        ordering = ["-year", "herb"]
        constraints = [
            models.UniqueConstraint(fields=["orgunit", "year", "herb"], name="unique_herb_year")
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.herb}"


class RemoteKind(models.TextChoices):
    CONSULTATION = "consultation", _("Remote consultation")
    ECG = "ecg", _("Remote ECG reading")
    IMAGING = "imaging", _("Remote imaging reading")


class RemoteConsultation(models.Model):
    """A remote service a hospital gave an institution (seeds/003 三(四)17)."""

    orgunit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("Consulting hospital")
    )
    partner = models.ForeignKey(
        OrgUnit,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("Requesting institution"),
    )
    kind = models.CharField(_("Kind of service"), max_length=16, choices=RemoteKind.choices)
    held_on = models.DateField(_("Date of service"))

    class Meta:
        ordering = ["-held_on", "-pk"]
        indexes = [models.Index(fields=["held_on"])]

    def __str__(self) -> str:
        return f"{self.held_on} {self.get_kind_display()}"


class FilingKind(models.TextChoices):
    CLINIC = "clinic", _("TCM clinic filing")
    PRACTITIONER = "practitioner", _("TCM (specialty) practitioner registration")


class FilingStatus(models.TextChoices):
    PENDING = "pending", _("Under review")
    FILED = "filed", _("Filed")
    REGISTERED = "registered", _("Registered")
    REFUSED = "refused", _("Not accepted")


# the statuses each kind may reach once decided: a clinic is filed (备案), a practitioner
# registered (注册); either may be refused
DECIDED: dict[str, set[str]] = {
    FilingKind.CLINIC: {FilingStatus.FILED, FilingStatus.REFUSED},
    FilingKind.PRACTITIONER: {FilingStatus.REGISTERED, FilingStatus.REFUSED},
}


class ClinicFiling(models.Model):
    """A TCM clinic's filing (中医诊所备案) or a TCM (specialty) practitioner's registration
    (中医（专长）医师注册), tracked from receipt to decision (seeds/004 六(十八))."""

    orgunit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("Where")
    )
    kind = models.CharField(_("Kind of filing"), max_length=16, choices=FilingKind.choices)
    name = models.CharField(_("Clinic or practitioner"), max_length=100)
    filed_on = models.DateField(_("Filed on"))
    status = models.CharField(_("Filing status"), max_length=12, choices=FilingStatus.choices)
    decided_on = models.DateField(_("Decided on"), null=True, blank=True)

    class Meta:
        ordering = ["-filed_on", "-pk"]
        indexes = [models.Index(fields=["filed_on"])]

    def __str__(self) -> str:
        return f"{self.filed_on} {self.get_kind_display()}"


def filing_problems(kind: str, status: str, decided_on: date | None) -> dict[str, Promise]:
    """What is wrong with a filing's status and date of decision (field: message): a decided
    status must suit the kind and carry its date; a filing under review has no date yet."""
    if status == FilingStatus.PENDING:
        if decided_on is not None:
            return {"decided_on": _("A filing under review has no date of decision yet.")}
        return {}
    if status not in DECIDED.get(kind, set()):
        return {"status": _("This status does not apply to this kind of filing.")}
    if decided_on is None:
        return {"decided_on": _("A decided filing needs the date of decision.")}
    return {}


class KeyPopulation(models.TextChoices):
    """The key populations beyond the elderly and children whom seeds/001 三(五)30 and seeds/004
    二(六) name for TCM health management (the elderly and children have their own elements)."""

    MATERNAL = "maternal", _("Pregnant and postpartum women")
    HYPERTENSION = "hypertension", _("Patients with hypertension")
    DIABETES = "diabetes", _("Patients with type 2 diabetes")
    CORONARY = "coronary", _("Patients with coronary heart disease")
    STROKE = "stroke", _("Stroke patients")
    COPD = "copd", _("Patients with chronic obstructive pulmonary disease")


class KeyPopulationCount(models.Model):
    """One institution's year for one key population: the people under its management (the
    basic public health service's register of them) and, of those, the people who received TCM
    health management (seeds/001 三(五)30). Counts, not people: no record names anyone."""

    orgunit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("Institution")
    )
    year = models.PositiveSmallIntegerField(_("Year"))
    population = models.CharField(_("Key population"), max_length=16, choices=KeyPopulation.choices)
    managed = models.PositiveIntegerField(_("People under management"))
    tcm_managed = models.PositiveIntegerField(_("Of them, receiving TCM health management"))

    class Meta:
        ordering = ["-year", "orgunit__code", "population"]
        constraints = [
            models.UniqueConstraint(
                fields=["orgunit", "year", "population"], name="unique_key_population_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.get_population_display()}"


class FamilyDoctorContracts(models.Model):
    """One institution's family-doctor contract services in a year (seeds/001 三(五)29, seeds/004
    五(十三)): residents signed, those signed to a package with TCM services, teams, and teams
    with a TCM doctor. Counts, not people."""

    orgunit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("Institution")
    )
    year = models.PositiveSmallIntegerField(_("Year"))
    signed = models.PositiveIntegerField(_("Residents signed"))
    tcm_signed = models.PositiveIntegerField(_("Of them, signed to a package with TCM services"))
    teams = models.PositiveIntegerField(_("Family-doctor teams"))
    tcm_teams = models.PositiveIntegerField(_("Of them, teams with a TCM doctor"))

    class Meta:
        ordering = ["-year", "orgunit__code"]
        constraints = [
            models.UniqueConstraint(fields=["orgunit", "year"], name="unique_family_doctor_year")
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.orgunit_id}"


# seeds/000 三(二)1 (养老机构、儿童福利院) and seeds/002 三(三) (残疾人康复中心、工伤康复中心、民政康复机构、
# 特殊教育学校): where TCM rehabilitation is to reach beyond health care
CARE_SETTING_TYPES = (
    "elderly_care_home",
    "children_welfare_home",
    "disability_rehab_center",
    "special_education_school",
    "work_injury_rehab_center",
    "civil_affairs_rehab_center",
)


class CareSettingRehab(models.Model):
    """A care home, welfare home, school or rehabilitation centre that provided TCM
    rehabilitation services in a year (seeds/000 三(二)1 "在养老机构和儿童福利院提供中医药特色康复
    服务"; seeds/002 三(三)): one record per institution and year; no record, not provided."""

    orgunit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("Institution")
    )
    year = models.PositiveSmallIntegerField(_("Year"))
    provider = models.CharField(_("Provided by"), max_length=100)
    services = models.CharField(_("Services provided"), max_length=300)
    people_served = models.PositiveIntegerField(_("People served"))

    class Meta:
        ordering = ["-year", "orgunit__code"]
        constraints = [
            models.UniqueConstraint(fields=["orgunit", "year"], name="unique_care_setting_rehab")
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.orgunit_id}"


class ChangeAction(models.TextChoices):
    CREATED = "created", _("Record created")
    CHANGED = "changed", _("Record changed")


class RecordChange(models.Model):
    """One change of one register record: the fields changed, old and new (the history shown on
    the record's page). Personal fields keep no value here, only that they changed."""

    register = models.CharField(max_length=24)
    record_id = models.BigIntegerField()
    action = models.CharField(max_length=8, choices=ChangeAction.choices)
    changes = models.JSONField(default=dict)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=12)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["register", "record_id"])]

    def __str__(self) -> str:
        return f"{self.register} {self.record_id} {self.action}"
