"""The registers, each declared once. Pages, the import template, exports, the API and the
engine's figures are all derived from these declarations (`Register`); a new register is a
model, an entry here and, if it feeds the engine, a function in `figures.py`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from xinglin.registers import figures
from xinglin.registers.models import (
    CARE_SETTING_TYPES,
    CareSettingRehab,
    ClinicFiling,
    Complaint,
    FamilyDoctorContracts,
    HerbCultivation,
    KeyPopulationCount,
    OutreachEvent,
    RemoteConsultation,
    SupportPair,
    Training,
)

# (element code, org-unit code, period, value): what a register hands the engine
Row = tuple[str, str, str, float]


@dataclass(frozen=True)
class Register:
    code: str  # in URLs and the API: /registers/<code>/, /api/v1/registers/<code>
    model: type[models.Model]
    label: str | Promise
    fields: tuple[str, ...]  # entry, import and export columns, in order
    listed: tuple[str, ...]  # columns of the list page
    search: tuple[str, ...]  # text fields the list's search looks in
    date_field: str  # the date (or year) that places a record in a year
    source: str  # the documents that ask for it
    personal: tuple[str, ...] = ()  # shown and exported only with the `export` right
    org_fields: tuple[str, ...] = ("orgunit",)  # org-unit columns (code or exact name)
    figures: Callable[[list[int]], list[Row]] | None = None
    elements: tuple[str, ...] = ()  # the data elements `figures` writes
    help: str | Promise = ""
    # a year's records change the next year's figures too (a trend against the year before)
    feeds_next_year: bool = False
    # the institution types a record's `orgunit` may be (empty: any unit the user reports for)
    orgunit_types: tuple[str, ...] = ()
    # (part, whole): counts where the part cannot exceed the whole
    parts: tuple[tuple[str, str], ...] = ()

    @property
    def source_name(self) -> str:
        """The engine's name for this register's derived values."""
        return f"registers.{self.code}"

    def field(self, name: str) -> models.Field:
        return self.model._meta.get_field(name)

    @property
    def is_yearly(self) -> bool:
        return self.date_field == "year"


REGISTERS: dict[str, Register] = {
    r.code: r
    for r in (
        Register(
            code="complaints",
            model=Complaint,
            label=_("Complaints and suggestions"),
            fields=(
                "orgunit",
                "kind",
                "channel",
                "received_on",
                "summary",
                "complainant_name",
                "complainant_phone",
                "due_on",
                "verified_on",
                "handled_on",
                "replied_on",
                "satisfaction",
            ),  # fmt: skip
            listed=("received_on", "orgunit", "kind", "channel", "summary", "due_on", "handled_on"),
            search=("summary", "complainant_name"),
            date_field="received_on",
            source="seeds/001_5783bd425c328937.txt §三(一)5",
            personal=("complainant_name", "complainant_phone"),
            figures=figures.complaint_rows,
            elements=figures.COMPLAINT_ELEMENTS,
            help=_(
                "Received, verified, handled and replied; overdue when not handled by the due date."
            ),
        ),
        Register(
            code="training",
            model=Training,
            label=_("Training"),
            fields=(
                "orgunit",
                "kind",
                "course",
                "trainee",
                "mentor",
                "started_on",
                "hours",
                "completed_on",
            ),  # fmt: skip
            listed=("started_on", "orgunit", "kind", "course", "trainee", "completed_on"),
            search=("course", "trainee", "mentor"),
            date_field="started_on",
            source="seeds/001_5783bd425c328937.txt §三(四)24-25; seeds/003_a644dae6923c40b6.txt",
            figures=figures.training_rows,
            elements=figures.TRAINING_ELEMENTS,
            help=_("One row per trainee and course; apprenticeships name the mentor."),
        ),
        Register(
            code="outreach",
            model=OutreachEvent,
            label=_("Outreach activities"),
            fields=("orgunit", "setting", "topic", "held_on", "place", "attendance"),
            listed=("held_on", "orgunit", "setting", "topic", "place", "attendance"),
            search=("topic", "place"),
            date_field="held_on",
            source="seeds/000_25c0595823e810f6.txt §三(三)1; seeds/004_f1d7e5e3f747375b.txt §六(十五)",
            figures=figures.outreach_rows,
            elements=figures.OUTREACH_ELEMENTS,
            help=_("Health-education and TCM-culture activities, by where they went."),
        ),
        Register(
            code="support",
            model=SupportPair,
            label=_("Counterpart support"),
            fields=("orgunit", "partner", "year", "started_on", "activities"),
            listed=("year", "orgunit", "partner", "activities"),
            search=("activities",),
            date_field="year",
            source="seeds/003_a644dae6923c40b6.txt §三(五)19",
            org_fields=("orgunit", "partner"),
            figures=figures.support_rows,
            elements=figures.SUPPORT_ELEMENTS,
            help=_("Which hospital supports which institution in which year."),
        ),
        Register(
            code="remote",
            model=RemoteConsultation,
            label=_("Remote consultations"),
            fields=("orgunit", "partner", "kind", "held_on"),
            listed=("held_on", "orgunit", "partner", "kind"),
            search=("partner__name",),
            date_field="held_on",
            source="seeds/003_a644dae6923c40b6.txt §三(四)17",
            org_fields=("orgunit", "partner"),
            figures=figures.remote_rows,
            elements=figures.REMOTE_ELEMENTS,
            help=_(
                "Remote consultations, ECG and imaging readings a hospital gave an institution."
            ),
        ),
        Register(
            code="herbs",
            model=HerbCultivation,
            label=_("Herb cultivation"),
            fields=("orgunit", "year", "herb", "area_mu", "output_value"),
            listed=("year", "orgunit", "herb", "area_mu", "output_value"),
            search=("herb",),
            date_field="year",
            source="seeds/004_f1d7e5e3f747375b.txt §八(十九); seeds/001_5783bd425c328937.txt §三(二)12",
            figures=figures.herb_rows,
            elements=figures.HERB_ELEMENTS,
            feeds_next_year=True,
            help=_("Area and output value of each herb a county or township grows, by year."),
        ),
        Register(
            code="clinics",
            model=ClinicFiling,
            label=_("TCM clinics and practitioners"),
            fields=("orgunit", "kind", "name", "filed_on", "status", "decided_on"),
            listed=("filed_on", "orgunit", "kind", "name", "status", "decided_on"),
            search=("name",),
            date_field="filed_on",
            source="seeds/004_f1d7e5e3f747375b.txt §六(十八)",
            personal=("name",),
            figures=figures.clinic_rows,
            elements=figures.CLINIC_ELEMENTS,
            help=_(
                "TCM clinic filings and TCM (specialty) practitioner registrations, from receipt "
                "to decision."
            ),
        ),
        Register(
            code="keypop",
            model=KeyPopulationCount,
            label=_("Key populations' TCM health management"),
            fields=("orgunit", "year", "population", "managed", "tcm_managed"),
            listed=("year", "orgunit", "population", "managed", "tcm_managed"),
            search=("orgunit__name",),
            date_field="year",
            source="seeds/001_5783bd425c328937.txt §三(五)30; seeds/004_f1d7e5e3f747375b.txt §二(六)",
            figures=figures.keypop_rows,
            elements=figures.KEYPOP_ELEMENTS,
            parts=(("tcm_managed", "managed"),),
            help=_(
                "Yearly counts per institution and key population (pregnant and postpartum "
                "women, hypertension, type 2 diabetes, coronary heart disease, stroke, COPD): "
                "people under management and, of them, those receiving TCM health management."
            ),
        ),
        Register(
            code="family_doctors",
            model=FamilyDoctorContracts,
            label=_("Family-doctor contracts with TCM"),
            fields=("orgunit", "year", "signed", "tcm_signed", "teams", "tcm_teams"),
            listed=("year", "orgunit", "signed", "tcm_signed", "teams", "tcm_teams"),
            search=("orgunit__name",),
            date_field="year",
            source="seeds/001_5783bd425c328937.txt §三(五)29; seeds/004_f1d7e5e3f747375b.txt §五(十三)",
            figures=figures.family_doctor_rows,
            elements=figures.FAMILY_DOCTOR_ELEMENTS,
            parts=(("tcm_signed", "signed"), ("tcm_teams", "teams")),
            help=_(
                "Yearly counts per institution: residents signed, those signed to a package "
                "with TCM services, teams, and teams with a TCM doctor."
            ),
        ),
        Register(
            code="care_rehab",
            model=CareSettingRehab,
            label=_("TCM rehabilitation in care homes and schools"),
            fields=("orgunit", "year", "provider", "services", "people_served"),
            listed=("year", "orgunit", "provider", "services", "people_served"),
            search=("orgunit__name", "provider", "services"),
            date_field="year",
            source="seeds/000_25c0595823e810f6.txt §三(二)1; seeds/002_101cc4ddb3dd226f.txt §三(三)",
            figures=figures.care_rehab_rows,
            elements=figures.CARE_REHAB_ELEMENTS,
            orgunit_types=CARE_SETTING_TYPES,
            help=_(
                "Elderly care homes, children's welfare homes, special education schools and "
                "rehabilitation centres that provided TCM rehabilitation services in a year: "
                "one record per institution and year."
            ),
        ),
    )
}


def get_register(code: str) -> Register:
    """The register named `code`; KeyError otherwise."""
    return REGISTERS[code]


__all__ = ["REGISTERS", "Register", "Row", "get_register"]
