"""Forms (报表), generated from the data elements: one per institution type (or `division`)
and period type. An org unit has exactly one form per period type, so (org unit, period)
names its form."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from xinglin.lib import periods
from xinglin.network import opening
from xinglin.network.models import InstitutionType, Kind, OrgUnit
from xinglin.standards.models import DataElement

DIVISION = "division"
PERIOD_LABELS = {"monthly": "Monthly", "quarterly": "Quarterly", "yearly": "Yearly"}


@dataclass(frozen=True)
class Form:
    target: str  # an institution type, or "division"
    period_type: str

    @property
    def code(self) -> str:
        return f"{self.target}.{self.period_type}"

    @property
    def label(self) -> str:
        target = _("Division") if self.target == DIVISION else InstitutionType(self.target).label
        period = {"monthly": _("monthly"), "quarterly": _("quarterly"), "yearly": _("yearly")}
        return _("%(target)s, %(period)s form") % {
            "target": target,
            "period": period[self.period_type],
        }

    def elements(self, catalogue: list[DataElement] | None = None) -> list[DataElement]:
        """The form's elements; `catalogue` (the elements, in pk order: all, or at least those
        of the form's period type) saves the query."""
        # The catalogue's order (pk follows core.yaml on first sync) keeps sections together.
        if catalogue is None:
            catalogue = self.catalogue()
        found = [e for e in catalogue if e.period_type == self.period_type]
        if self.target == DIVISION:
            return [e for e in found if e.level == DIVISION]
        return [
            e for e in found if e.level != DIVISION and self.target in (e.institution_types or [])
        ]

    def catalogue(self) -> list[DataElement]:
        """The elements of the form's period type, in pk order (what `elements` filters)."""
        return list(DataElement.objects.filter(period_type=self.period_type).order_by("pk"))

    def sections(
        self, catalogue: list[DataElement] | None = None
    ) -> list[tuple[str, list[DataElement]]]:
        elements = self.elements(catalogue)
        order = {
            name: index for index, name in enumerate(dict.fromkeys(section_of(e) for e in elements))
        }
        elements.sort(key=lambda e: order[section_of(e)])
        return [(name, list(items)) for name, items in groupby(elements, key=section_of)]


def section_of(element: DataElement) -> str:
    if get_language() == "en" and element.section_en:
        return element.section_en
    return element.section_zh


def target_of(orgunit: OrgUnit) -> str:
    return DIVISION if orgunit.kind == Kind.DIVISION else orgunit.institution_type


def get_form(code: str) -> Form:
    """The form with `code` (`township_health_center.monthly`); raises KeyError."""
    target, _dot, period_type = code.partition(".")
    valid = {DIVISION, *InstitutionType.values}
    if target not in valid or period_type not in periods.PERIOD_TYPES:
        raise KeyError(code)
    return Form(target, period_type)


def form_for(
    orgunit: OrgUnit, period_code: str, catalogue: list[DataElement] | None = None
) -> Form | None:
    """The org unit's form for the period, or None when it reports nothing of that type
    (`catalogue`: as for `Form.elements`)."""
    form = Form(target_of(orgunit), periods.parse(period_code).type)
    return form if form.elements(catalogue) else None


def forms_for(orgunit: OrgUnit, catalogue: list[DataElement] | None = None) -> list[Form]:
    catalogue = list(DataElement.objects.order_by("pk")) if catalogue is None else catalogue
    forms = [Form(target_of(orgunit), kind) for kind in periods.PERIOD_TYPES]
    return [form for form in forms if form.elements(catalogue)]


def expected_orgunits(form: Form, period_code: str, within: OrgUnit | None = None):
    """The open org units that owe this form for the period (under `within` when given)."""
    period = periods.parse(period_code)
    units = OrgUnit.objects.select_related("parent")
    if form.target == DIVISION:
        units = units.filter(kind=Kind.DIVISION)
    else:
        units = units.filter(kind=Kind.INSTITUTION, institution_type=form.target)
    if within is not None:
        units = units.filter(path__startswith=within.path)
    return [u for u in units if is_open_during(u, period)]


def is_open_during(orgunit: OrgUnit, period: periods.Period) -> bool:
    return opening.is_open_during(orgunit, period.start, period.end)
