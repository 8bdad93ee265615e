"""Writes of care records: health records, constitution assessments, child guidance visits,
rehabilitation cases, two-way referrals, bulk imports, and handing the derived yearly figures
to the engine."""

from __future__ import annotations

import csv
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from xml.etree.ElementTree import ParseError
from zipfile import BadZipFile

from django.contrib.auth.models import User
from django.db import transaction

from xinglin.care import children, personal_id, rates, referrals, rehab
from xinglin.care.constitution import N_ITEMS, answer_from_bmi, answer_from_waist
from xinglin.care.models import (
    Channel,
    Child,
    ChildGuidance,
    ConstitutionAssessment,
    GuidanceArea,
    Referral,
    ReferralDirection,
    ReferralStatus,
    RehabCase,
    RehabOutcome,
    Resident,
    Sex,
)
from xinglin.evaluation.actions import replace_derived_values
from xinglin.lib import sheets, uploads
from xinglin.lib.text import decode_text
from xinglin.network.models import Kind, OrgUnit
from xinglin.standards.models import TechniqueItem

BMI_ITEM, WAIST_ITEM = 9, 28
ANSWER_COLUMNS = [f"q{i}" for i in range(1, N_ITEMS + 1)]
IMPORT_COLUMNS = ["id_number", "institution", "assessed_on", *ANSWER_COLUMNS, "guidance"]
HEADERS_ZH = {
    "身份证号": "id_number",
    "姓名": "name",
    "性别": "sex",
    "出生日期": "birth_date",
    "机构编码": "institution",
    "填表日期": "assessed_on",
    "医生签名": "assessor",
    "身高": "height_cm",
    "体重": "weight_kg",
    "腰围": "waist_cm",
    "中医药保健指导": "guidance",
    "其他指导": "guidance_other",
}
SEX_WORDS = {"male": Sex.MALE, "男": Sex.MALE, "1": Sex.MALE, "female": Sex.FEMALE,
             "女": Sex.FEMALE, "2": Sex.FEMALE}  # fmt: skip
GUIDANCE_WORDS = {
    **{area.value: area.value for area in GuidanceArea},
    "情志调摄": "emotion", "饮食调养": "diet", "起居调摄": "daily_life",
    "运动保健": "exercise", "穴位保健": "acupoints", "其他": "other",
}  # fmt: skip


class CareError(ValueError):
    """A record the care app cannot take; the message says why."""


@dataclass
class RowError:
    row: int  # the header is row 1
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"


@dataclass
class ImportResult:
    created: int = 0
    replaced: int = 0
    incomplete: int = 0
    errors: list[RowError] = field(default_factory=list)


# ---------------------------------------------------------------------------
# Health records and assessments
# ---------------------------------------------------------------------------


def _check_institution(institution: OrgUnit) -> None:
    if institution.kind != Kind.INSTITUTION:
        raise CareError(f"{institution.code} is not an institution")


def register_resident(
    id_number: str,
    *,
    institution: OrgUnit,
    name: str = "",
    sex: str = "",
    birth_date: date | None = None,
) -> Resident:
    """The resident's health record, found by the keyed hash or created. The ID-card number
    gives the birth date and sex when they are not given. An existing record keeps its
    institution and only gains fields it lacked, from its own institution: a service elsewhere
    neither moves nor changes it (issue 20.1)."""
    _check_institution(institution)
    number = personal_id.check(id_number)
    resident, created = Resident.objects.get_or_create(
        id_hash=personal_id.hash_id(number),
        defaults={
            "id_masked": personal_id.mask(number),
            "institution": institution,
            "name": name,
            "sex": sex or personal_id.sex(number),
            "birth_date": birth_date or personal_id.birth_date(number),
        },
    )
    # Only the record's own institution completes it: a clerk elsewhere who types the number
    # must not write into (or, by the result, learn about) another institution's record.
    if not created and resident.institution_id == institution.pk:
        missing = {
            f: v for f, v in (("name", name), ("sex", sex)) if v and not getattr(resident, f)
        }
        if missing:
            Resident.objects.filter(pk=resident.pk).update(**missing)
            for key, value in missing.items():
                setattr(resident, key, value)
    return resident


def measured_answers(
    answers: Sequence[int | None],
    height_cm: float | None = None,
    weight_kg: float | None = None,
    waist_cm: float | None = None,
) -> list[int | None]:
    """Answers with item 9 computed from height and weight and item 28 from the waist, when
    measured: the form says the measurement decides these two items (reference §A2)."""
    answers = list(answers)
    if height_cm and weight_kg:
        answers[BMI_ITEM - 1] = answer_from_bmi(height_cm, weight_kg)
    if waist_cm:
        answers[WAIST_ITEM - 1] = answer_from_waist(waist_cm)
    return answers


def _checked_answers(answers: Sequence[int | None]) -> list[int | None]:
    if len(answers) != N_ITEMS:
        raise CareError(f"expected {N_ITEMS} answers, got {len(answers)}")
    for item, value in enumerate(answers, start=1):
        if value is not None and value not in (1, 2, 3, 4, 5):
            raise CareError(f"q{item}: answer {value!r} is outside 1–5")
    return list(answers)


def _checked_guidance(guidance: Iterable[str]) -> list[str]:
    codes = list(dict.fromkeys(guidance))
    unknown = [c for c in codes if c not in GuidanceArea.values]
    if unknown:
        raise CareError(f"unknown guidance areas: {', '.join(unknown)}")
    return [a for a in GuidanceArea.values if a in codes]  # the form's order


def record_assessment(
    resident: Resident,
    *,
    institution: OrgUnit,
    assessed_on: date,
    answers: Sequence[int | None],
    guidance: Iterable[str] = (),
    guidance_other: str = "",
    assessor: str = "",
    height_cm: float | None = None,
    weight_kg: float | None = None,
    waist_cm: float | None = None,
    user: User | None = None,
    channel: str = Channel.WEB,
    save: bool = True,
) -> ConstitutionAssessment:
    """Score and store one form. Missing answers (None) are kept as such: the record is then
    incomplete and does not count toward the rate. Scope is the caller's check."""
    _check_institution(institution)
    assessment = ConstitutionAssessment(
        resident=resident,
        institution=institution,
        assessed_on=assessed_on,
        assessor=assessor,
        height_cm=height_cm,
        weight_kg=weight_kg,
        waist_cm=waist_cm,
        guidance=_checked_guidance(guidance),
        guidance_other=guidance_other,
        entered_by=user,
        channel=channel,
    )
    answers = measured_answers(_checked_answers(answers), height_cm, weight_kg, waist_cm)
    assessment.set_answers(answers)
    if save:
        assessment.save()
    return assessment


# ---------------------------------------------------------------------------
# Bulk import (CSV / xlsx), all or nothing
# ---------------------------------------------------------------------------


def read_assessment_file(name: str, content: bytes) -> list[dict[str, str]]:
    """Rows of an assessment sheet (.csv in UTF-8/GBK, or .xlsx), English or Chinese headers.
    Raises CareError naming the file when it cannot be read or lacks a column."""
    table = (
        _read_xlsx(name, content) if name.lower().endswith(".xlsx") else _read_csv(name, content)
    )
    if not table:
        raise CareError(f"{name} is empty")
    header = [HEADERS_ZH.get(h.strip(), h.strip().lower()) for h in table[0]]
    missing = [c for c in IMPORT_COLUMNS if c not in header]
    if missing:
        raise CareError(f"{name}, row 1: missing columns {', '.join(missing)}")
    return [dict(zip(header, (c.strip() for c in row), strict=False)) for row in table[1:]]


def _read_csv(name: str, content: bytes) -> list[list[str]]:
    text = decode_text(content)
    if text is None:
        raise CareError(f"{name} is neither UTF-8 nor GBK text")
    text = text.replace("\x00", "")  # never meaningful; PostgreSQL refuses it (fuzzing)
    try:
        reader = uploads.text_rows(text, name)
        return [row for row in reader if any(c.strip() for c in row)]
    except csv.Error as error:  # e.g. a stray carriage return inside a field (fuzzing)
        raise CareError(f"{name} is not a readable CSV file ({error})") from error
    except uploads.TooLarge as error:
        raise CareError(str(error)) from None


def _read_xlsx(name: str, content: bytes) -> list[list[str]]:
    try:
        table = [[_cell(c) for c in row] for row in sheets.workbook_rows(content, name)]
    except uploads.TooLarge as error:
        raise CareError(str(error)) from None
    except (BadZipFile, KeyError, OSError, ValueError, EOFError, zlib.error, ParseError) as error:
        # zlib.error, EOFError: a damaged zip, at load or while rows are read (fuzzing).
        raise CareError(f"{name} is not an Excel workbook ({error})") from error
    return [row for row in table if any(row)]


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@dataclass
class _Planned:
    number: int
    id_number: str
    institution: OrgUnit
    fields: dict


def import_assessments(
    rows: Iterable[dict[str, str]],
    *,
    user: User | None = None,
    allowed: Callable[[OrgUnit], bool] | None = None,
    channel: str = Channel.IMPORT,
) -> ImportResult:
    """Create assessments (and health records) from rows; all or nothing. A row for a person
    and date already recorded replaces that record, so a file can be imported again. Empty
    answer cells are kept as unanswered (the record is then incomplete); any other bad cell
    is a row error. `allowed(institution)` limits where the user may record."""
    rows = list(rows)
    result = ImportResult()
    known = {
        o.code: o for o in OrgUnit.objects.filter(code__in={r.get("institution", "") for r in rows})
    }
    plan, seen = [], {}
    for number, row in enumerate(rows, start=2):
        errors, item = _check_row(number, row, known, allowed)
        key = (personal_id.normalize(row.get("id_number", "")), row.get("assessed_on", ""))
        if not errors and key in seen:
            errors = [RowError(number, "id_number", f"same person and date as row {seen[key]}")]
        seen.setdefault(key, number)
        result.errors.extend(errors)
        if item:
            plan.append(item)
    if result.errors:
        return result
    with transaction.atomic():
        for item in plan:
            _store_planned(item, user, channel, result)
    return result


def _store_planned(item: _Planned, user: User | None, channel: str, result: ImportResult) -> None:
    person = item.fields.pop("person")
    resident = register_resident(item.id_number, institution=item.institution, **person)
    old = ConstitutionAssessment.objects.filter(
        resident=resident, assessed_on=item.fields["assessed_on"]
    )
    replaced = old.exists()
    old.delete()
    assessment = record_assessment(
        resident, institution=item.institution, user=user, channel=channel, **item.fields
    )
    result.replaced += replaced
    result.created += not replaced
    result.incomplete += not assessment.is_complete


def _check_row(number, row, known, allowed) -> tuple[list[RowError], _Planned | None]:
    errors: list[RowError] = []

    def fail(column: str, message: str) -> None:
        errors.append(RowError(number, column, message))

    id_number = row.get("id_number", "")
    try:
        personal_id.check(id_number)
    except personal_id.PersonalIdError as error:
        fail("id_number", str(error))
    institution = known.get(row.get("institution", ""))
    if institution is None or institution.kind != Kind.INSTITUTION:
        fail("institution", f"{row.get('institution', '')!r} is not a known institution")
    elif allowed is not None and not allowed(institution):
        fail("institution", f"{institution.code} is outside your scope")
    assessed_on = _date(row.get("assessed_on", ""), "assessed_on", fail, required=True)
    birth = _date(row.get("birth_date", ""), "birth_date", fail, required=False)
    answers = [_answer(row.get(c, ""), c, fail) for c in ANSWER_COLUMNS]
    measures = {c: _number(row.get(c, ""), c, fail) for c in ("height_cm", "weight_kg", "waist_cm")}
    sex = row.get("sex", "").lower()
    if sex and sex not in SEX_WORDS:
        fail("sex", f"{row.get('sex')!r} is not male/female (男/女)")
    guidance = _guidance(row.get("guidance", ""), fail)
    if errors:
        return errors, None
    person = {"name": row.get("name", ""), "sex": SEX_WORDS.get(sex, ""), "birth_date": birth}
    fields = {
        "person": person,
        "assessed_on": assessed_on,
        "answers": answers,
        "guidance": guidance,
        "guidance_other": row.get("guidance_other", ""),
        "assessor": row.get("assessor", ""),
        **measures,
    }
    return [], _Planned(number, id_number, institution, fields)


def _date(text: str, column: str, fail, *, required: bool) -> date | None:
    if not text:
        if required:
            fail(column, "the date is missing")
        return None
    try:
        return date.fromisoformat(text[:10].replace("/", "-"))
    except ValueError:
        fail(column, f"{text!r} is not a date (YYYY-MM-DD)")
        return None


def _answer(text: str, column: str, fail) -> int | None:
    if not text:
        return None
    if text not in ("1", "2", "3", "4", "5"):
        fail(column, f"{text!r} is not an answer 1–5")
        return None
    return int(text)


def _number(text: str, column: str, fail) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 1000:
        fail(column, f"{text!r} is not a positive number")
        return None
    return value


def _guidance(text: str, fail) -> list[str]:
    words = [w for w in text.replace("、", ";").replace(",", ";").replace(" ", ";").split(";") if w]
    unknown = [w for w in words if w not in GUIDANCE_WORDS]
    if unknown:
        fail("guidance", f"unknown guidance areas: {', '.join(unknown)}")
    return [GUIDANCE_WORDS[w] for w in words if w in GUIDANCE_WORDS]


# ---------------------------------------------------------------------------
# Children
# ---------------------------------------------------------------------------


def register_child(
    id_number: str,
    *,
    institution: OrgUnit,
    birth_date: date | None = None,
    name: str = "",
    sex: str = "",
) -> Child:
    """The child's record, found by the keyed hash or created. The identifier may be an ID-card
    number (which gives the birth date) or a birth-certificate / health-record number."""
    _check_institution(institution)
    number = personal_id.check(id_number, id_card_only=False)
    birth_date = birth_date or personal_id.birth_date(number)
    if birth_date is None:
        raise CareError("the birth date is required")
    child, _created = Child.objects.get_or_create(
        id_hash=personal_id.hash_id(number),
        defaults={
            "id_masked": personal_id.mask(number),
            "institution": institution,
            "birth_date": birth_date,
            "name": name,
            "sex": sex or personal_id.sex(number),
        },
    )
    return child


def record_child_guidance(
    child: Child,
    *,
    institution: OrgUnit,
    visited_on: date,
    diet: bool,
    daily_life: bool,
    techniques: Iterable[str] = (),
    other: str = "",
    staff: str = "",
    user: User | None = None,
    channel: str = Channel.WEB,
    save: bool = True,
) -> ChildGuidance:
    """Store one guidance visit; the scheduled age it serves comes from the child's age."""
    _check_institution(institution)
    age = children.age_in_months(child.birth_date, visited_on)
    month = children.scheduled_month(age)
    if month is None:
        raise CareError(f"a child aged {age} months has no scheduled guidance visit")
    techniques = list(dict.fromkeys(techniques))
    unknown = set(techniques) - set(children.all_techniques())
    if unknown:
        raise CareError(f"unknown techniques: {', '.join(sorted(unknown))}")
    visit = ChildGuidance(
        child=child,
        institution=institution,
        visited_on=visited_on,
        age_months=age,
        visit_month=month,
        band=children.band_for_month(month)["code"],
        diet=diet,
        daily_life=daily_life,
        techniques=techniques,
        other=other,
        staff=staff,
        is_complete=children.is_complete_visit(month, diet, daily_life, techniques),
        entered_by=user,
        channel=channel,
    )
    if save:
        visit.save()
    return visit


# ---------------------------------------------------------------------------
# Rehabilitation cases (rules and figures: rehab.py)
# ---------------------------------------------------------------------------


def _check_score(scale: str, value: float | None, what: str) -> None:
    if value is None:
        return
    spec = rehab.scales()[scale]
    if not spec["min"] <= value <= spec["max"]:
        raise CareError(f"{what}: {value:g} is outside {spec['min']}–{spec['max']}")


def record_rehab_case(
    *,
    institution: OrgUnit,
    patient_id: str,
    condition: str,
    admitted_on: date,
    score_admission: float,
    discharged_on: date | None = None,
    score_discharge: float | None = None,
    scale: str = "barthel",
    tcm_techniques: list[str] = (),
    modern: list[str] = (),
    outcome: str = "",
    user: User | None = None,
) -> RehabCase:
    """Store one case; CareError says what is wrong. Scope is the caller's check."""
    _check_institution(institution)
    if condition not in rehab.conditions():
        raise CareError(f"unknown condition {condition!r}")
    if scale not in rehab.scales():
        raise CareError(f"unknown scale {scale!r}")
    _check_score(scale, score_admission, "score at admission")
    _check_score(scale, score_discharge, "score at discharge")
    if discharged_on and discharged_on < admitted_on:
        raise CareError("the discharge date is before the admission date")
    known = set(
        TechniqueItem.objects.filter(code__in=tcm_techniques).values_list("code", flat=True)
    )
    unknown = (set(tcm_techniques) - known) | (set(modern) - set(rehab.modern_techniques()))
    if unknown:
        raise CareError(f"unknown techniques: {', '.join(sorted(unknown))}")
    if outcome and outcome not in RehabOutcome.values:
        raise CareError(f"unknown outcome {outcome!r}")
    number = personal_id.normalize(patient_id)
    if not 1 <= len(number) <= 64:
        raise CareError("the patient identifier is missing or too long")
    return RehabCase.objects.create(
        institution=institution,
        patient_hash=personal_id.hash_id(number),
        patient_masked=personal_id.mask(number)[:32],
        condition=condition,
        admitted_on=admitted_on,
        discharged_on=discharged_on,
        tcm_techniques=list(dict.fromkeys(tcm_techniques)),
        modern_techniques=list(dict.fromkeys(modern)),
        scale=scale,
        score_admission=score_admission,
        score_discharge=score_discharge,
        outcome=outcome,
        has_tcm=bool(tcm_techniques),
        entered_by=user,
    )


# ---------------------------------------------------------------------------
# Two-way referrals (rules and figures: referrals.py)
# ---------------------------------------------------------------------------


def send_referral(
    *,
    source: OrgUnit,
    target: OrgUnit,
    patient_id: str,
    referred_on: date,
    reason: str,
    direction: str = "",
    user: User | None = None,
) -> Referral:
    """Record a referral sent from `source` to `target`. Scope is the caller's check."""
    for unit in (source, target):
        _check_institution(unit)
    if source.pk == target.pk:
        raise CareError("an institution cannot refer to itself")
    if direction and direction not in ReferralDirection.values:
        raise CareError(f"unknown direction {direction!r}")
    number = personal_id.normalize(patient_id)
    if not 1 <= len(number) <= 64:
        raise CareError("the patient identifier is missing or too long")
    if not reason.strip():
        raise CareError("the reason is required")
    return Referral.objects.create(
        from_institution=source,
        to_institution=target,
        direction=direction or referrals.direction_between(source, target),
        referred_on=referred_on,
        reason=reason.strip()[:200],
        patient_hash=personal_id.hash_id(number),
        patient_masked=personal_id.mask(number)[:32],
        created_by=user,
    )


def advance_referral(referral: Referral, status: str, on: date) -> Referral:
    """Mark a referral received or completed (completing implies receiving) on `on`."""
    order = [ReferralStatus.SENT, ReferralStatus.RECEIVED, ReferralStatus.COMPLETED]
    if status not in (ReferralStatus.RECEIVED, ReferralStatus.COMPLETED):
        raise CareError(f"a referral can be marked received or completed, not {status!r}")
    if order.index(status) <= order.index(referral.status):
        raise CareError(f"the referral is already {referral.status}")
    if on < referral.referred_on:
        raise CareError("the date is before the referral was sent")
    referral.received_on = referral.received_on or on
    if status == ReferralStatus.COMPLETED:
        referral.completed_on = on
    referral.status = status
    referral.save(update_fields=["status", "received_on", "completed_on"])
    return referral


# ---------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------


def feed_engine(years: Iterable[int]) -> dict[str, int]:
    """Replace the engine's record-derived `elderly_tcm_managed` and `children_tcm_managed` for
    these years. Returns rows handed over per source."""
    years = sorted(set(years))
    periods = [str(y) for y in years]
    elderly = [row for y in years for row in rates.elderly_managed_rows(y)]
    child_rows = [row for y in years for row in rates.children_managed_rows(y)]
    replace_derived_values(rates.ELDERLY_SOURCE, elderly, periods)
    replace_derived_values(rates.CHILD_SOURCE, child_rows, periods)
    return {rates.ELDERLY_SOURCE: len(elderly), rates.CHILD_SOURCE: len(child_rows)}
