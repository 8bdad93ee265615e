"""Record-level key-population services: residents' health records, constitution assessments
of residents aged 65+, and TCM guidance visits for children aged 0-36 months.

Identifiers are stored only as a keyed hash and a masked form (see personal_id.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xinglin.care import constitution
from xinglin.care.constitution import CONSTITUTIONS, N_ITEMS

MISSING = "-"  # an unanswered item in ConstitutionAssessment.answers


class Sex(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class Channel(models.TextChoices):
    WEB = "web", _("Web form")
    IMPORT = "import", _("Import")
    DEMO = "demo", _("Demo")


class GuidanceArea(models.TextChoices):
    # The form's 中医药保健指导 row (reference §A2); texts in data/constitution_guidance.yaml.
    EMOTION = "emotion", _("Emotional regulation")
    DIET = "diet", _("Diet")
    DAILY_LIFE = "daily_life", _("Daily life")
    EXERCISE = "exercise", _("Exercise")
    ACUPOINTS = "acupoints", _("Acupoint self-care")
    OTHER = "other", _("Other")


class Resident(models.Model):
    """A resident's health record (健康档案): the person the services are given to."""

    id_hash = models.CharField(max_length=64, unique=True)
    id_masked = models.CharField(max_length=32)
    name = models.CharField(max_length=50, blank=True)
    sex = models.CharField(max_length=6, choices=Sex.choices, blank=True)
    birth_date = models.DateField(null=True, blank=True)
    institution = models.ForeignKey(
        "network.OrgUnit", on_delete=models.PROTECT, related_name="care_residents"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id_masked"]

    def __str__(self) -> str:
        return f"{self.name or '—'} {self.id_masked}"


class ConstitutionAssessment(models.Model):
    """One 老年人中医药健康管理服务记录表: 33 answers, the nine results, the guidance given."""

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="assessments")
    institution = models.ForeignKey(
        "network.OrgUnit", on_delete=models.PROTECT, related_name="care_assessments"
    )
    assessed_on = models.DateField()
    assessor = models.CharField(max_length=50, blank=True)  # 医生签名
    answers = models.CharField(max_length=N_ITEMS)  # "1"…"5" per item, "-" when unanswered
    height_cm = models.FloatField(null=True, blank=True)
    weight_kg = models.FloatField(null=True, blank=True)
    waist_cm = models.FloatField(null=True, blank=True)
    balanced_score = models.PositiveSmallIntegerField(null=True, blank=True)
    balanced_result = models.CharField(max_length=10, blank=True)
    qi_deficiency_score = models.PositiveSmallIntegerField(null=True, blank=True)
    qi_deficiency_result = models.CharField(max_length=10, blank=True)
    yang_deficiency_score = models.PositiveSmallIntegerField(null=True, blank=True)
    yang_deficiency_result = models.CharField(max_length=10, blank=True)
    yin_deficiency_score = models.PositiveSmallIntegerField(null=True, blank=True)
    yin_deficiency_result = models.CharField(max_length=10, blank=True)
    phlegm_dampness_score = models.PositiveSmallIntegerField(null=True, blank=True)
    phlegm_dampness_result = models.CharField(max_length=10, blank=True)
    damp_heat_score = models.PositiveSmallIntegerField(null=True, blank=True)
    damp_heat_result = models.CharField(max_length=10, blank=True)
    blood_stasis_score = models.PositiveSmallIntegerField(null=True, blank=True)
    blood_stasis_result = models.CharField(max_length=10, blank=True)
    qi_stagnation_score = models.PositiveSmallIntegerField(null=True, blank=True)
    qi_stagnation_result = models.CharField(max_length=10, blank=True)
    special_diathesis_score = models.PositiveSmallIntegerField(null=True, blank=True)
    special_diathesis_result = models.CharField(max_length=10, blank=True)
    main_types = models.JSONField(default=list, blank=True)
    flags = models.JSONField(default=list, blank=True)
    guidance = models.JSONField(default=list, blank=True)  # GuidanceArea codes ticked
    guidance_other = models.CharField(max_length=200, blank=True)
    is_complete = models.BooleanField(default=False)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.WEB)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-assessed_on", "-id"]
        indexes = [
            models.Index(fields=["institution", "assessed_on"]),
            models.Index(fields=["resident", "assessed_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.resident} {self.assessed_on}"

    @property
    def answer_list(self) -> list[int | None]:
        return [None if c == MISSING else int(c) for c in self.answers]

    def set_answers(self, answers: Sequence[int | None]) -> None:
        """Store the answers and, when all 33 are there, the scores, results, main types
        and flags (constitution.score); then recompute completeness."""
        self.answers = "".join(MISSING if a is None else str(int(a)) for a in answers)
        result = None
        if len(answers) == N_ITEMS and None not in answers:
            result = constitution.score(list(answers))
        for name in CONSTITUTIONS:
            setattr(self, f"{name}_score", result.scores[name] if result else None)
            setattr(self, f"{name}_result", result.results[name] if result else "")
        self.main_types = list(result.main_types) if result else []
        self.flags = list(result.flags) if result else []
        self.refresh_completeness()

    def refresh_completeness(self) -> None:
        # Issue 12 / reference §A1 注: a health record, all 33 answers, a result (体质辨识)
        # and at least one guidance area ticked (保健指导). Flags do not make it incomplete:
        # the form asks for re-checking, and a re-collected form is a new record.
        self.is_complete = bool(
            self.resident_id
            and len(self.answers) == N_ITEMS
            and MISSING not in self.answers
            and self.balanced_result
            and self.guidance
        )

    def results_table(self) -> list[dict]:
        return [
            {
                "code": name,
                "score": getattr(self, f"{name}_score"),
                "result": getattr(self, f"{name}_result"),
                "is_main": name in self.main_types,
            }
            for name in CONSTITUTIONS
        ]

    @property
    def positive_types(self) -> list[str]:
        positive = constitution.POSITIVE_RESULTS
        return [n for n in CONSTITUTIONS if getattr(self, f"{n}_result") in positive]


class Child(models.Model):
    """A child aged 0-36 months whose parents receive TCM guidance (儿童健康档案)."""

    id_hash = models.CharField(max_length=64, unique=True)
    id_masked = models.CharField(max_length=32)
    name = models.CharField(max_length=50, blank=True)
    sex = models.CharField(max_length=6, choices=Sex.choices, blank=True)
    birth_date = models.DateField()
    institution = models.ForeignKey(
        "network.OrgUnit", on_delete=models.PROTECT, related_name="care_children"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["birth_date", "id"]
        indexes = [models.Index(fields=["institution", "birth_date"])]

    def __str__(self) -> str:
        return f"{self.name or '—'} {self.id_masked}"


class ChildGuidance(models.Model):
    """One guidance visit at a scheduled age (6, 12, 18, 24, 30 or 36 months)."""

    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="visits")
    institution = models.ForeignKey(
        "network.OrgUnit", on_delete=models.PROTECT, related_name="care_child_visits"
    )
    visited_on = models.DateField()
    age_months = models.PositiveSmallIntegerField()
    visit_month = models.PositiveSmallIntegerField()  # the scheduled age this visit serves
    band = models.CharField(max_length=20)  # data/child_guidance.yaml bands[].code
    diet = models.BooleanField(default=False)  # 中医饮食调养指导
    daily_life = models.BooleanField(default=False)  # 中医起居调摄指导
    techniques = models.JSONField(default=list, blank=True)  # technique codes taught
    other = models.CharField(max_length=200, blank=True)
    staff = models.CharField(max_length=50, blank=True)
    is_complete = models.BooleanField(default=False)  # all guidance due for the age given
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.WEB)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-visited_on", "-id"]
        indexes = [
            models.Index(fields=["institution", "visited_on"]),
            models.Index(fields=["child", "visit_month"]),
        ]

    def __str__(self) -> str:
        return f"{self.child} {self.visit_month}m {self.visited_on}"


# ---------------------------------------------------------------------------
# Clinical records from hospital systems (issue 5): visits, rehabilitation, referrals.
# Patients are pseudonymous: a keyed hash for matching and a masked form for display.
# ---------------------------------------------------------------------------


class CodeSystem(models.TextChoices):
    ICD10 = "icd10", _("ICD-10")
    TCM_DISEASE = "gbt15657-disease", _("GB/T 15657 TCM disease")
    TCM_SYNDROME = "gbt15657-syndrome", _("GB/T 15657 TCM syndrome")


class DiagnosisCode(models.Model):
    """One code of a loadable code list (`xinglin codes load`)."""

    system = models.CharField(max_length=20, choices=CodeSystem.choices)
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=200)
    source = models.CharField(max_length=200, blank=True)  # the file it was loaded from

    class Meta:
        ordering = ["system", "code"]
        constraints = [
            models.UniqueConstraint(fields=["system", "code"], name="unique_diagnosis_code")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class VisitColumnMapping(models.Model):
    """How one institution's HIS export names the columns of the default layout
    (data/visit_layout.yaml), saved once by the bureau and used for every later import."""

    institution = models.OneToOneField(
        "network.OrgUnit", on_delete=models.CASCADE, related_name="visit_mapping"
    )
    columns = models.JSONField(default=dict)  # layout field -> the export's header
    techniques = models.JSONField(default=dict, blank=True)  # export's name -> catalogue code
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"mapping {self.institution_id}"


class VisitImport(models.Model):
    """One imported HIS export: its visits replace those of the institution-months it holds."""

    file_name = models.CharField(max_length=200)
    rows = models.PositiveIntegerField(default=0)
    months = models.JSONField(default=list)  # period codes 202501 …
    institutions = models.JSONField(default=list)  # org-unit codes
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-imported_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.rows})"


class Visit(models.Model):
    """One outpatient or emergency visit (诊疗人次) from an HIS export. Whether it is a TCM
    visit is decided when figures are derived, by the rules of data/tcm_visit_rules.yaml,
    from the stored features (department, TCM diagnosis, techniques, herbal prescription)."""

    # Bulk rows (a million per import): no database foreign-key constraints, whose checks
    # at commit would be half of PostgreSQL's import time. Django still enforces CASCADE and
    # PROTECT, and import_visits writes only institutions it looked up, into its new batch.
    batch = models.ForeignKey(
        VisitImport, on_delete=models.CASCADE, related_name="visits", db_constraint=False
    )
    # No index of its own: the (institution, month) index serves every lookup by institution.
    institution = models.ForeignKey(
        "network.OrgUnit",
        on_delete=models.PROTECT,
        related_name="care_visits",
        db_index=False,
        db_constraint=False,
    )
    visited_on = models.DateField()
    month = models.CharField(max_length=6)  # period code, e.g. 202501: what figures group by
    department = models.CharField(max_length=60, blank=True)
    patient_hash = models.CharField(max_length=64)
    patient_masked = models.CharField(max_length=32)
    diagnoses = models.CharField(max_length=200, blank=True)  # ICD-10 codes, ";"-separated
    tcm_diagnoses = models.CharField(max_length=200, blank=True)  # GB/T 15657 codes
    techniques = models.CharField(max_length=400, blank=True)  # catalogue item codes
    has_tcm_diagnosis = models.BooleanField(default=False)
    has_technique = models.BooleanField(default=False)
    has_herbal = models.BooleanField(default=False)  # 中药饮片 or 中成药 prescribed

    class Meta:
        ordering = ["-visited_on", "-id"]
        indexes = [models.Index(fields=["institution", "month"])]

    def __str__(self) -> str:
        return f"{self.institution_id} {self.visited_on} {self.patient_masked}"


class VisitTechnique(models.Model):
    """A technique delivered at a visit, denormalised (institution, month) so that the
    techniques each institution delivered per month are one GROUP BY."""

    # As Visit: no database constraints (Django enforces CASCADE and PROTECT). Indexes:
    # (institution, month) serves lookups by institution; catalogue items are hardly ever
    # deleted, so the PROTECT check may scan rather than every import keep an index.
    batch = models.ForeignKey(
        VisitImport, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    institution = models.ForeignKey(
        "network.OrgUnit",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    month = models.CharField(max_length=6)
    item = models.ForeignKey(
        "standards.TechniqueItem",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        indexes = [models.Index(fields=["institution", "month"])]

    def __str__(self) -> str:
        return f"{self.institution_id}/{self.month}/{self.item_id}"


class RehabOutcome(models.TextChoices):
    IMPROVED = "improved", _("Improved")
    UNCHANGED = "unchanged", _("Unchanged")
    WORSE = "worse", _("Worse")
    TRANSFERRED = "transferred", _("Transferred")
    DIED = "died", _("Died")


class RehabCase(models.Model):
    """One rehabilitation episode (康复病例) with its function scale at admission and
    discharge (scales in data/rehab_scales.yaml; conditions in data/rehab.yaml)."""

    institution = models.ForeignKey(
        "network.OrgUnit", on_delete=models.PROTECT, related_name="care_rehab_cases"
    )
    patient_hash = models.CharField(max_length=64)
    patient_masked = models.CharField(max_length=32)
    condition = models.CharField(max_length=30)
    admitted_on = models.DateField()
    discharged_on = models.DateField(null=True, blank=True)
    tcm_techniques = models.JSONField(default=list, blank=True)  # catalogue item codes
    modern_techniques = models.JSONField(default=list, blank=True)  # data/rehab.yaml codes
    scale = models.CharField(max_length=20, default="barthel")
    score_admission = models.FloatField()
    score_discharge = models.FloatField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=RehabOutcome.choices, blank=True)
    has_tcm = models.BooleanField(default=False)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-admitted_on", "-id"]
        indexes = [models.Index(fields=["institution", "admitted_on"])]

    def __str__(self) -> str:
        return f"{self.condition} {self.patient_masked} {self.admitted_on}"


class ReferralDirection(models.TextChoices):
    UP = "up", _("Upward")
    DOWN = "down", _("Downward")


class ReferralStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    RECEIVED = "received", _("Received")
    COMPLETED = "completed", _("Completed")


class Referral(models.Model):
    """A two-way referral (双向转诊) between institutions of the medical alliance."""

    from_institution = models.ForeignKey(
        "network.OrgUnit", on_delete=models.PROTECT, related_name="care_referrals_out"
    )
    to_institution = models.ForeignKey(
        "network.OrgUnit", on_delete=models.PROTECT, related_name="care_referrals_in"
    )
    direction = models.CharField(max_length=4, choices=ReferralDirection.choices)
    referred_on = models.DateField()
    reason = models.CharField(max_length=200)
    patient_hash = models.CharField(max_length=64)
    patient_masked = models.CharField(max_length=32)
    status = models.CharField(
        max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.SENT
    )
    received_on = models.DateField(null=True, blank=True)
    completed_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-referred_on", "-id"]
        indexes = [
            models.Index(fields=["from_institution", "referred_on"]),
            models.Index(fields=["to_institution", "referred_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.from_institution_id}→{self.to_institution_id} {self.referred_on}"

    @property
    def days_to_completion(self) -> int | None:
        if self.completed_on is None:
            return None
        return (self.completed_on - self.referred_on).days
