from __future__ import annotations

from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinglin.lib import uploads
from xinglin.plans.files import MAX_EVIDENCE_BYTES
from xinglin.plans.models import (
    STORED_STATUSES,
    Department,
    EvidenceKind,
    FinalStatus,
    TaskStatus,
    year_bounds,
)


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), choices=[(s.value, s.label) for s in STORED_STATUSES]
    )
    comment = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class CommentForm(forms.Form):
    text = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}))


class EvidenceForm(forms.Form):
    """An evidence upload. What it asks for the period follows what the item needs (`kind`):
    the year the records cover, or the date a standing document is valid from."""

    file = forms.FileField(label=_("File (PDF, PNG, JPEG, DOCX, XLSX; at most 20 MB)"))
    description = forms.CharField(label=_("Description"), required=False, max_length=300)
    # Left empty: this year's records, or a document valid from today (default_period).
    year = forms.IntegerField(
        label=_("Year the records cover"), min_value=1990, max_value=2100, required=False
    )
    valid_from = forms.DateField(
        label=_("Valid from (date of the document)"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        required=False,
    )

    def __init__(
        self, *args, kind: str = EvidenceKind.STANDING, year: int | None = None, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        today = timezone.localdate()
        if kind == EvidenceKind.ANNUAL:
            del self.fields["valid_from"]
            self.fields["year"].initial = year or today.year
        else:
            del self.fields["year"]
            self.fields["valid_from"].initial = today

    def period(self) -> tuple[date, date | None] | None:
        """The period covered as entered; None when left empty (the default applies)."""
        if self.kind == EvidenceKind.ANNUAL:
            year = self.cleaned_data.get("year")
            return year_bounds(year) if year else None
        start = self.cleaned_data.get("valid_from")
        return (start, None) if start else None

    def clean_file(self):
        upload = self.cleaned_data["file"]
        # Checked before reading, so an oversized upload is never loaded into memory.
        try:
            uploads.check_upload(upload, limit=MAX_EVIDENCE_BYTES)
        except uploads.TooLarge as error:
            raise forms.ValidationError(str(error)) from None
        return upload


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", _("Accept")), ("reject", _("Reject"))])
    comment = forms.CharField(label=_("Comment"), required=False, max_length=1000)
    # The reviewer may correct the period covered: the year of records, or the date a
    # standing document is valid from (left empty: unchanged).
    year = forms.IntegerField(required=False, min_value=1990, max_value=2100)
    valid_from = forms.DateField(required=False)

    def period(self, kind: str) -> tuple[date, date | None] | None:
        if kind == EvidenceKind.ANNUAL and self.cleaned_data.get("year"):
            return year_bounds(self.cleaned_data["year"])
        if kind != EvidenceKind.ANNUAL and self.cleaned_data.get("valid_from"):
            return self.cleaned_data["valid_from"], None
        return None


class WithdrawForm(forms.Form):
    """A standing document withdrawn: it covers no day after `on`."""

    on = forms.DateField(label=_("Withdrawn on"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), max_length=200)


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Task-assignment table (.xlsx)"))


class RectificationForm(forms.Form):
    orgunit = forms.CharField(label=_("Org unit code"), max_length=32)
    pack = forms.CharField(label=_("Indicator pack"), max_length=64)
    indicator = forms.CharField(label=_("Indicator id"), max_length=128)
    period = forms.CharField(label=_("Period"), max_length=16, required=False)
    value = forms.FloatField(label=_("Value when the task is created"), required=False)
    owner = forms.ModelChoiceField(label=_("Owner (department)"), queryset=Department.objects.all())
    measure = forms.CharField(label=_("Measure"), widget=forms.Textarea(attrs={"rows": 3}))
    deadline = forms.DateField(label=_("Deadline"), widget=forms.DateInput(attrs={"type": "date"}))


class CloseRectificationForm(forms.Form):
    value = forms.FloatField(label=_("Value at closure"), required=False)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class TaskFilterForm(forms.Form):
    department = forms.CharField(required=False)
    status = forms.ChoiceField(
        required=False,
        choices=[("", "")] + [(s.value, s.label) for s in [*TaskStatus, *FinalStatus]],
    )
    phase = forms.CharField(required=False)
    q = forms.CharField(required=False, max_length=100, strip=True)
