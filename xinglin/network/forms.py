from __future__ import annotations

from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from xinglin.network.models import InstitutionRole, InstitutionType, Ownership


class InstitutionForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    institution_type = forms.ChoiceField(label=_("Type"), choices=InstitutionType.choices)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    opened_on = forms.DateField(
        label=_("Opened on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    # Left out of a post: unchanged (a new institution is public).
    ownership = forms.ChoiceField(
        label=_("Ownership"), choices=Ownership.choices, initial=Ownership.PUBLIC, required=False
    )
    roles = forms.MultipleChoiceField(
        label=_("Designations"),
        choices=InstitutionRole.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The names policy documents use for it, e.g. the county TCM hospital."),
    )


class EditInstitutionForm(InstitutionForm):
    valid_from = forms.DateField(
        label=_("Changes hold from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_(
            "The day the changed ownership or designations take effect (empty: today). Past"
            " years are judged by what held then."
        ),
    )


class NewInstitutionForm(InstitutionForm):
    code = forms.RegexField(
        label=_("Code"),
        regex=r"^[0-9A-Za-z-]{3,32}$",
        max_length=32,
        help_text=_("Letters, digits and hyphens, e.g. 640323100001"),
    )
    field_order = [
        "code", "name", "institution_type", "ownership", "roles", "address", "phone", "opened_on"
    ]  # fmt: skip


class MoveForm(forms.Form):
    new_parent = forms.CharField(label=_("New parent (code)"), max_length=32)
    on = forms.DateField(
        label=_("From"), initial=date.today, widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class CloseForm(forms.Form):
    on = forms.DateField(
        label=_("Closed from"), initial=date.today, widget=forms.DateInput(attrs={"type": "date"})
    )


class ImportForm(forms.Form):
    file = forms.FileField(label=_("File (.xlsx or .csv)"))
