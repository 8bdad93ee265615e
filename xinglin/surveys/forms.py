from __future__ import annotations

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from xinglin.surveys.instruments import is_multiple
from xinglin.surveys.models import Instrument

YEAR = forms.RegexField(regex=r"^\d{4}$", label=_("Year"), max_length=4)


def question_label(number: int, question: dict) -> str:
    text = question["text"]
    return f"{number}. " + (
        text.get("en") if get_language() == "en" and text.get("en") else text["zh"]
    )


class ResponseForm(forms.Form):
    """One questionnaire: the org unit and year, then a field per question (radio buttons or
    check boxes, large enough to tap on a phone)."""

    def __init__(self, instrument: Instrument, orgunits, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        self.fields["orgunit"] = forms.ChoiceField(
            label=_("Where the interview took place"),
            choices=[(u.code, f"{u.name}（{u.code}）") for u in orgunits],
        )
        self.fields["period"] = forms.RegexField(regex=r"^\d{4}$", label=_("Survey year"))
        for number, question in enumerate(instrument.questions, start=1):
            choices = [(o, o) for o in question["options"]]
            required = question.get("required", True)
            label = question_label(number, question)
            if is_multiple(question):
                field = forms.MultipleChoiceField(
                    label=label,
                    choices=choices,
                    required=required,
                    widget=forms.CheckboxSelectMultiple,
                )
            else:
                field = forms.ChoiceField(
                    label=label, choices=choices, required=required, widget=forms.RadioSelect
                )
            self.fields[f"q_{question['id']}"] = field

    def answers(self) -> dict:
        return {q["id"]: self.cleaned_data.get(f"q_{q['id']}") for q in self.instrument.questions}

    def question_fields(self):
        return [self[f"q_{q['id']}"] for q in self.instrument.questions]


class ImportForm(forms.Form):
    period = forms.RegexField(regex=r"^\d{4}$", label=_("Survey year"))
    file = forms.FileField(label=_("Excel workbook (.xlsx)"))


class PlanForm(forms.Form):
    year = forms.RegexField(regex=r"^\d{4}$", label=_("Survey year"))
    margin = forms.FloatField(
        label=_("Margin of error (percentage points)"), min_value=0.5, max_value=20
    )
    expected = forms.FloatField(label=_("Expected rate (%)"), min_value=1, max_value=99)
