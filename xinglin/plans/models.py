"""Programme plans (实施方案 / 规划): phases, tasks with lead and supporting departments,
milestones, progress updates, evidence (佐证材料) and rectification tasks (整改)."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from xinglin.network.models import OrgUnit

# A task or milestone is "due soon" this many days before its deadline.
DUE_SOON_DAYS = 30


def _bilingual(zh: str, en: str) -> str:
    return en if (get_language() or "").startswith("en") and en else zh


class EvidenceStorage(FileSystemStorage):
    """Evidence lives under MEDIA_ROOT/evidence, outside the web root, and has no URL: files
    are only ever served by the view that checks the user's scope (plans:evidence_download)."""

    def url(self, name):
        raise ValueError("evidence files have no URL; use plans:evidence_download")


def evidence_storage() -> EvidenceStorage:
    return EvidenceStorage()


class Department(models.Model):
    code = models.CharField(max_length=64, unique=True)
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=150, blank=True)
    aliases = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return _bilingual(self.name_zh, self.name_en)


class Plan(models.Model):
    """One plan pack loaded for one county (org unit)."""

    orgunit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="plans")
    pack = models.CharField(max_length=64)
    title_zh = models.CharField(max_length=200)
    title_en = models.CharField(max_length=250, blank=True)
    source = models.CharField(max_length=200)
    start = models.DateField()
    end = models.DateField()
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["orgunit__path", "start", "pack"]
        constraints = [
            models.UniqueConstraint(fields=["orgunit", "pack"], name="unique_plan_per_orgunit")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return _bilingual(self.title_zh, self.title_en)

    def has_ended(self, today: date | None = None) -> bool:
        return self.end < (today or date.today())


class Phase(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="phases")
    code = models.CharField(max_length=32)
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True)
    start = models.DateField()
    end = models.DateField()
    source = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["plan", "start", "end"]
        constraints = [models.UniqueConstraint(fields=["plan", "code"], name="unique_phase")]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return _bilingual(self.name_zh, self.name_en)


class TaskStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    # Never stored: computed from the deadline (see Task.get_status).
    OVERDUE = "overdue", _("Overdue")


STORED_STATUSES = [TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS, TaskStatus.DONE]


class FinalStatus(models.TextChoices):
    """A task's final state once its plan's period has ended (never stored; issue 19): done,
    done after its deadline, or not done. An ended plan shows these instead of "overdue"."""

    DONE_LATE = "done_late", _("Done late")
    NOT_DONE = "not_done", _("Not done")


def status_label(status: str) -> str:
    """The label of a shown task status (stored, overdue or final)."""
    if status in FinalStatus.values:
        return str(FinalStatus(status).label)
    return str(TaskStatus(status).label)


class Task(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="tasks")
    number = models.CharField(max_length=64)
    position = models.PositiveIntegerField(default=0)
    title_zh = models.CharField(max_length=200)
    title_en = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True)
    category = models.CharField(max_length=16, default="task")
    lead = models.ManyToManyField(Department, related_name="led_tasks")
    support = models.ManyToManyField(Department, related_name="supported_tasks", blank=True)
    phase = models.ForeignKey(
        Phase, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    deadline = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=TaskStatus.choices, default=TaskStatus.NOT_STARTED
    )
    completed_on = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["plan", "position"]
        constraints = [models.UniqueConstraint(fields=["plan", "number"], name="unique_task")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def title(self) -> str:
        return _bilingual(self.title_zh, self.title_en)

    def is_overdue(self, today: date | None = None) -> bool:
        today = today or date.today()
        return (
            self.status != TaskStatus.DONE
            and self.deadline is not None
            and self.deadline < today
            and not self.plan.has_ended(today)
        )

    def is_due_soon(self, today: date | None = None) -> bool:
        today = today or date.today()
        if self.status == TaskStatus.DONE or self.deadline is None:
            return False
        return today <= self.deadline <= today + timedelta(days=DUE_SOON_DAYS)

    def get_status(self, today: date | None = None) -> str:
        """The status shown: the stored one, overdue while the plan runs, or the final state
        (done, done late, not done) once the plan has ended. queries.status_q is its filter."""
        today = today or date.today()
        if self.plan.has_ended(today):
            if self.status != TaskStatus.DONE:
                return FinalStatus.NOT_DONE
            late = self.deadline and self.completed_on and self.completed_on > self.deadline
            return FinalStatus.DONE_LATE if late else TaskStatus.DONE
        return TaskStatus.OVERDUE if self.is_overdue(today) else self.status

    def get_status_label(self, today: date | None = None) -> str:
        return status_label(self.get_status(today))


class IndicatorLink(models.Model):
    """A task measured by an indicator of a pack: `ref` is `<pack>/<indicator id>`."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="indicator_links")
    pack = models.CharField(max_length=64)
    indicator = models.CharField(max_length=128)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "pack", "indicator"], name="unique_link")
        ]
        indexes = [models.Index(fields=["pack", "indicator"])]

    def __str__(self) -> str:
        return self.ref

    @property
    def ref(self) -> str:
        return f"{self.pack}/{self.indicator}"


class MilestoneKind(models.TextChoices):
    TASK = "task", _("Task milestone")
    REPORTING = "reporting", _("Reporting deadline")


class Milestone(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="milestones")
    task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.CASCADE, related_name="milestones"
    )
    key = models.CharField(max_length=120)
    kind = models.CharField(max_length=12, choices=MilestoneKind.choices)
    title_zh = models.CharField(max_length=300)
    title_en = models.CharField(max_length=400, blank=True)
    due = models.DateField()
    indicator = models.CharField(max_length=200, blank=True)
    departments = models.ManyToManyField(Department, blank=True, related_name="milestones")
    done_on = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["plan", "due", "id"]
        constraints = [models.UniqueConstraint(fields=["plan", "key"], name="unique_milestone")]

    def __str__(self) -> str:
        return f"{self.due} {self.title}"

    @property
    def title(self) -> str:
        return _bilingual(self.title_zh, self.title_en)

    def is_overdue(self, today: date | None = None) -> bool:
        return self.done_on is None and self.due < (today or date.today())

    def is_due_soon(self, today: date | None = None) -> bool:
        today = today or date.today()
        return self.done_on is None and today <= self.due <= today + timedelta(days=DUE_SOON_DAYS)


class UpdateKind(models.TextChoices):
    STATUS = "status", _("Status change")
    COMMENT = "comment", _("Comment")
    EVIDENCE = "evidence", _("Evidence")
    REVIEW = "review", _("Review")


class TaskUpdate(models.Model):
    """The task's journal: status changes, comments, evidence uploaded and reviewed."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="updates")
    kind = models.CharField(max_length=12, choices=UpdateKind.choices)
    old_status = models.CharField(max_length=16, blank=True)
    new_status = models.CharField(max_length=16, blank=True)
    text = models.TextField(blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["task", "at", "id"]

    def __str__(self) -> str:
        return f"{self.task_id} {self.kind} {self.at:%Y-%m-%d}"


class EvidenceStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting review")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class EvidenceKind(models.TextChoices):
    """What an evidence item needs (the pack's `evidence_kind`, see standards.loader)."""

    ANNUAL = "annual", _("This year's records")
    STANDING = "standing", _("A standing document")


class Evidence(models.Model):
    """A file supporting a task or directly an indicator's evidence item (`pack`/`indicator`).
    `orgunit` is the county whose plan or scorecard it belongs to.

    The period it covers runs from `period_start` to `period_end` (inclusive): a year's records
    cover 1 January to 31 December of that year (or several whole years); a standing document
    is valid from its date, open-ended (`period_end` null) until it is replaced or withdrawn.
    An item is met in a year only by accepted evidence covering that year (`covers`)."""

    orgunit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="evidence")
    task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.CASCADE, related_name="evidence"
    )
    pack = models.CharField(max_length=64, blank=True)
    indicator = models.CharField(max_length=128, blank=True)
    file = models.FileField(storage=evidence_storage, upload_to="evidence/%Y/%m", max_length=300)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    description = models.CharField(max_length=300, blank=True)
    period_start = models.DateField(_("covers from"))
    period_end = models.DateField(_("covers until"), null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField()
    status = models.CharField(
        max_length=12, choices=EvidenceStatus.choices, default=EvidenceStatus.PENDING
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        indexes = [models.Index(fields=["orgunit", "pack", "indicator"])]

    def __str__(self) -> str:
        return self.name

    def covers(self, year: int, kind: str = EvidenceKind.STANDING) -> bool:
        return period_covers(self.period_start, self.period_end, year, kind)

    @property
    def is_whole_years(self) -> bool:
        return (
            self.period_end is not None
            and (self.period_start.month, self.period_start.day) == (1, 1)
            and (self.period_end.month, self.period_end.day) == (12, 31)
        )

    @property
    def period_label(self) -> str:
        """The period covered in words: 2024年度, 2023–2024年度, 自2024-08-19起有效, …"""
        start, end = self.period_start, self.period_end
        if end is None:
            return _("valid from %(day)s") % {"day": start.isoformat()}
        if self.is_whole_years:
            if start.year == end.year:
                return _("year %(year)s") % {"year": start.year}
            return _("years %(first)s–%(last)s") % {"first": start.year, "last": end.year}
        return _("%(start)s to %(end)s") % {"start": start.isoformat(), "end": end.isoformat()}


def period_includes_q(year: int) -> Q:
    """Evidence whose period covered includes some day of `year`: the query form of
    period_covers for a standing document (the evidence list's year filter). Whether it
    also counts for an item needing that year's records is period_covers' to say."""
    return Q(period_start__lte=date(year, 12, 31)) & (
        Q(period_end__isnull=True) | Q(period_end__gte=date(year, 1, 1))
    )


def period_covers(start: date, end: date | None, year: int, kind: str) -> bool:
    """Whether evidence covering `start`..`end` (inclusive; None = open-ended) covers `year`
    for an item of `kind`. For an item needing the year's records (annual), open-ended
    evidence counts only for the year it starts in: a standing document is not next year's
    record."""
    if kind == EvidenceKind.ANNUAL and end is None:
        return start.year == year
    return start <= date(year, 12, 31) and (end is None or end >= date(year, 1, 1))


def year_bounds(first: int, last: int | None = None) -> tuple[date, date]:
    """The period covering the whole years `first`..`last`."""
    return date(first, 1, 1), date(last or first, 12, 31)


class RectificationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    CLOSED = "closed", _("Closed")


class RectificationTask(models.Model):
    """整改: a measure against a failing indicator of an org unit, tracked to closure. The
    indicator's value is kept as it was when the task was opened and when it was closed."""

    orgunit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="rectifications")
    pack = models.CharField(max_length=64)
    indicator = models.CharField(max_length=128)
    indicator_name = models.CharField(max_length=300, blank=True)
    target = models.CharField(max_length=40, blank=True)
    period = models.CharField(max_length=16, blank=True)
    owner = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="rectifications")
    measure = models.TextField()
    deadline = models.DateField()
    status = models.CharField(
        max_length=12, choices=RectificationStatus.choices, default=RectificationStatus.OPEN
    )
    value_at_creation = models.FloatField(null=True, blank=True)
    value_at_closure = models.FloatField(null=True, blank=True)
    closure_note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["status", "deadline", "id"]

    def __str__(self) -> str:
        return f"{self.pack}/{self.indicator} {self.orgunit_id}"

    @property
    def ref(self) -> str:
        return f"{self.pack}/{self.indicator}"

    def is_overdue(self, today: date | None = None) -> bool:
        return self.status != RectificationStatus.CLOSED and self.deadline < (today or date.today())
