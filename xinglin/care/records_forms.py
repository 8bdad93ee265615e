"""Forms of the clinical-record pages (visits, rehabilitation, referrals)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from xinglin.care import rehab
from xinglin.care.models import RehabOutcome
from xinglin.care.visit_rules import layout


def _choices(units) -> list[tuple[str, str]]:
    return [(u.code, f"{u.name} ({u.code})") for u in units]


class VisitImportForm(forms.Form):
    file = forms.FileField(label=_("HIS export (.csv or .xlsx)"))
    mapping = forms.ChoiceField(label=_("Column layout"), required=False)

    def __init__(self, *args, mappings=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mapping"].choices = [("", _("Default layout"))] + [
            (m.institution.code, f"{m.institution.name} ({m.institution.code})") for m in mappings
        ]


class MappingForm(forms.Form):
    techniques = forms.CharField(
        label=_("Technique names in this export"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "One per line: the export's name = catalogue code, e.g. 普通针刺 = filiform_needling"
        ),
    )
    sample = forms.FileField(label=_("Sample export (to list its headers)"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, spec in layout().items():
            self.fields[f"col_{name}"] = forms.CharField(
                label=f"{spec['zh']} ({name})", required=False, max_length=100,
                help_text=spec["help"],
            )  # fmt: skip

    def column_fields(self):
        return [self[f"col_{name}"] for name in layout()]

    def columns(self) -> dict[str, str]:
        return {n: self.cleaned_data[f"col_{n}"].strip() for n in layout()}

    def technique_map(self) -> dict[str, str]:
        result = {}
        for number, line in enumerate(self.cleaned_data["techniques"].splitlines(), start=1):
            if not line.strip():
                continue
            name, sep, code = line.partition("=")
            if not sep or not name.strip() or not code.strip():
                raise forms.ValidationError(_("line %(n)s: write name = code") % {"n": number})
            result[name.strip()] = code.strip()
        return result


class RehabCaseForm(forms.Form):
    institution = forms.ChoiceField(label=_("Institution"))
    patient_id = forms.CharField(label=_("Patient identifier"), max_length=64)
    condition = forms.ChoiceField(label=_("Condition"))
    admitted_on = forms.DateField(
        label=_("Admitted on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    discharged_on = forms.DateField(
        label=_("Discharged on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    scale = forms.ChoiceField(label=_("Function scale"))
    score_admission = forms.FloatField(label=_("Score at admission"))
    score_discharge = forms.FloatField(label=_("Score at discharge"), required=False)
    tcm_techniques = forms.MultipleChoiceField(
        label=_("TCM techniques"), required=False, widget=forms.SelectMultiple(attrs={"size": 8})
    )
    modern = forms.MultipleChoiceField(
        label=_("Modern techniques"), required=False, widget=forms.CheckboxSelectMultiple
    )
    outcome = forms.ChoiceField(label=_("Outcome"), required=False)

    def __init__(self, *args, institutions=(), techniques=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institution"].choices = _choices(institutions)
        self.fields["condition"].choices = [(c, v["zh"]) for c, v in rehab.conditions().items()]
        self.fields["scale"].choices = [(c, v["name"]["zh"]) for c, v in rehab.scales().items()]
        self.fields["tcm_techniques"].choices = [(t.code, t.name_zh) for t in techniques]
        self.fields["modern"].choices = [(c, v["zh"]) for c, v in rehab.modern_techniques().items()]
        self.fields["outcome"].choices = [("", "—"), *RehabOutcome.choices]


class ReferralForm(forms.Form):
    source = forms.ChoiceField(label=_("From"))
    target = forms.ChoiceField(label=_("To"))
    patient_id = forms.CharField(label=_("Patient identifier"), max_length=64)
    referred_on = forms.DateField(
        label=_("Referred on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args, sources=(), targets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = _choices(sources)
        self.fields["target"].choices = _choices(targets)
