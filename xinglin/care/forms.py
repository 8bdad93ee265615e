from __future__ import annotations

from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from xinglin.care import children, personal_id
from xinglin.care.actions import BMI_ITEM, WAIST_ITEM
from xinglin.care.constitution import N_ITEMS, answer_labels
from xinglin.care.models import GuidanceArea, Sex


def _institution_choices(institutions) -> list[tuple[str, str]]:
    return [(o.code, o.name) for o in institutions]  # people pick by name (issue 21.1)


class PersonIdField(forms.CharField):
    def __init__(self, *, id_card_only: bool = True, **kwargs):
        self.id_card_only = id_card_only
        super().__init__(max_length=40, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        try:
            return personal_id.check(value, id_card_only=self.id_card_only)
        except personal_id.PersonalIdError as error:
            raise forms.ValidationError(str(error)) from error


class AssessmentForm(forms.Form):
    institution = forms.ChoiceField(label=_("Institution"))
    id_number = PersonIdField(label=_("ID-card number"))
    name = forms.CharField(label=_("Name (optional)"), max_length=50, required=False)
    assessed_on = forms.DateField(label=_("Date"), initial=date.today)
    assessor = forms.CharField(label=_("Physician"), max_length=50, required=False)
    height_cm = forms.FloatField(
        label=_("Height (cm)"), min_value=50, max_value=250, required=False
    )
    weight_kg = forms.FloatField(
        label=_("Weight (kg)"), min_value=20, max_value=300, required=False
    )
    waist_cm = forms.FloatField(label=_("Waist (cm)"), min_value=30, max_value=250, required=False)
    guidance = forms.MultipleChoiceField(
        label=_("Guidance given"),
        choices=GuidanceArea.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    guidance_other = forms.CharField(label=_("Other guidance"), max_length=200, required=False)

    def __init__(self, *args, institutions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institution"].choices = _institution_choices(institutions)
        for item in range(1, N_ITEMS + 1):
            choices = [(str(i), label) for i, label in enumerate(answer_labels(item), start=1)]
            self.fields[f"q{item}"] = forms.TypedChoiceField(
                choices=choices,
                coerce=int,
                widget=forms.RadioSelect,
                # items 9 and 28 may come from the measurements instead (checked in clean)
                required=item not in (BMI_ITEM, WAIST_ITEM),
                error_messages={"required": _("Every item must be answered.")},
            )

    def clean(self):
        data = super().clean()
        measured = {
            BMI_ITEM: data.get("height_cm") and data.get("weight_kg"),
            WAIST_ITEM: data.get("waist_cm"),
        }
        for item, has_measure in measured.items():
            if data.get(f"q{item}") in (None, "") and not has_measure:
                self.add_error(f"q{item}", _("Answer the item or enter the measurements."))
        return data

    def answers(self) -> list[int | None]:
        return [self.cleaned_data.get(f"q{i}") or None for i in range(1, N_ITEMS + 1)]

    def answer_fields(self):
        return [self[f"q{i}"] for i in range(1, N_ITEMS + 1)]


class ChildForm(forms.Form):
    institution = forms.ChoiceField(label=_("Institution"))
    id_number = PersonIdField(
        id_card_only=False,
        label=_("Child identifier"),
        help_text=_("ID-card, birth-certificate or health-record number"),
    )
    name = forms.CharField(label=_("Name (optional)"), max_length=50, required=False)
    sex = forms.ChoiceField(label=_("Sex"), choices=[("", "—"), *Sex.choices], required=False)
    birth_date = forms.DateField(label=_("Birth date"))

    def __init__(self, *args, institutions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institution"].choices = _institution_choices(institutions)


class VisitForm(forms.Form):
    visited_on = forms.DateField(label=_("Date"), initial=date.today)
    diet = forms.BooleanField(label=_("Diet guidance (中医饮食调养指导)"), required=False)
    daily_life = forms.BooleanField(
        label=_("Daily-life guidance (中医起居调摄指导)"), required=False
    )
    techniques = forms.MultipleChoiceField(
        label=_("Techniques taught"), widget=forms.CheckboxSelectMultiple, required=False
    )
    other = forms.CharField(label=_("Other"), max_length=200, required=False)
    staff = forms.CharField(label=_("Staff"), max_length=50, required=False)

    def __init__(self, *args, child, **kwargs):
        super().__init__(*args, **kwargs)
        self.child = child
        self.fields["techniques"].choices = [
            (code, t["zh"]) for code, t in children.all_techniques().items()
        ]

    def clean_visited_on(self):
        day = self.cleaned_data["visited_on"]
        age = children.age_in_months(self.child.birth_date, day)
        if children.scheduled_month(age) is None:
            raise forms.ValidationError(
                _("At %(age)s months there is no scheduled guidance visit.") % {"age": age}
            )
        return day


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV or Excel file"))
