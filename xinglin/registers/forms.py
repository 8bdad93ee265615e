"""One form per register, built from its declaration: the web entry form and every imported
row are validated by the same form, so a rule has one definition."""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib.auth.models import AnonymousUser, User
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinglin.network import access
from xinglin.network.models import InstitutionType, OrgUnit
from xinglin.registers.models import filing_problems
from xinglin.registers.registry import Register

# The action a user needs on each org-unit column: the record's own unit is written (report);
# a supported institution may lie outside the writer's scope (a city hospital supports a
# county's health centre) but must exist.
ORG_ACTIONS = {"orgunit": "report"}


class OrgUnitField(forms.CharField):
    """An org unit by its code or exact name, among the units the user may act on."""

    def __init__(self, *, user, action: str | None, **kwargs):
        self.user, self.action = user, action
        super().__init__(max_length=100, **kwargs)

    def clean(self, value):
        text = (super().clean(value) or "").strip()
        units = OrgUnit.objects.all()
        if self.action is not None:
            units = access.orgunits_for_user(self.user, self.action)
        found = units.filter(code=text).first() or units.filter(name=text).order_by("path").first()
        if found is None:
            raise forms.ValidationError(
                _("%(text)s is not a unit you may record for.") % {"text": text}
            )
        return found


class RegisterForm(forms.ModelForm):
    register: Register

    def clean(self):
        data = super().clean()
        self._check_dates(data)
        self._check_unit(data)
        for part, whole in self.register.parts:
            if (
                data.get(part) is not None
                and data.get(whole) is not None
                and data[part] > data[whole]
            ):
                self.add_error(part, _("This is more than %(field)s.") % {
                    "field": self.register.field(whole).verbose_name})  # fmt: skip
        if data.get("kind") and data.get("status") and "decided_on" not in self.errors:
            for field, message in filing_problems(
                data["kind"], data["status"], data.get("decided_on")
            ).items():
                self.add_error(field, message)
        return data

    def _check_dates(self, data: dict) -> None:
        """Dates in order, none in the future, the start within the year given."""
        for start, end in (("received_on", "due_on"), ("started_on", "completed_on"),
                           ("received_on", "handled_on"), ("handled_on", "replied_on"),
                           ("filed_on", "decided_on")):  # fmt: skip
            if data.get(start) and data.get(end) and data[end] < data[start]:
                self.add_error(end, _("This date is before %(field)s.") % {
                    "field": self.register.field(start).verbose_name})  # fmt: skip
        for name in ("received_on", "held_on", "started_on", "completed_on", "handled_on",
                     "filed_on", "decided_on"):  # fmt: skip
            if data.get(name) and data[name] > date.today():
                self.add_error(name, _("This date is in the future."))
        if data.get("year") and data["year"] > date.today().year:
            self.add_error("year", _("This year is in the future."))
        if data.get("year") and data.get("started_on") and data["started_on"].year != data["year"]:
            self.add_error("started_on", _("This date is not in the year given."))

    def _check_unit(self, data: dict) -> None:
        """The unit is of a type the register records, and a hospital does not support itself."""
        if data.get("partner") and data.get("orgunit") and data["partner"] == data["orgunit"]:
            self.add_error("partner", _("A hospital does not support itself."))
        unit = data.get("orgunit")
        types = self.register.orgunit_types
        if types and unit is not None and unit.institution_type not in types:
            self.add_error("orgunit", _("This register records only %(types)s.") % {
                "types": "、".join(str(InstitutionType(t).label) for t in types)})  # fmt: skip


def form_class(register: Register, user: User | AnonymousUser) -> type[RegisterForm]:
    """The register's form for this user (org-unit columns limited to the user's scope)."""
    overrides = {
        name: OrgUnitField(
            user=user,
            action=ORG_ACTIONS.get(name),
            label=register.field(name).verbose_name,
            help_text=gettext_lazy("Code or exact name"),
        )
        for name in register.org_fields
    }
    widgets = {
        f: forms.DateInput(attrs={"type": "date"})
        for f in register.fields
        if register.field(f).get_internal_type() == "DateField"
    }
    attrs = {
        **overrides,
        "register": register,
        "Meta": type(
            "Meta", (), {"model": register.model, "fields": register.fields, "widgets": widgets}
        ),  # fmt: skip
    }
    return type(f"{register.model.__name__}Form", (RegisterForm,), attrs)
