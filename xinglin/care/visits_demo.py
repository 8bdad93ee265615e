"""Demo step for the clinical records: a year (2025) of HIS visits for the county TCM hospital
and the health centres, matching the figures the evaluation demo reported except for two
institutions whose reports disagree with their records; rehabilitation cases 2023–2025 and
referrals in 2025 with plausible outcomes. Re-runnable: it replaces its own records."""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.db import transaction

from xinglin.care import personal_id
from xinglin.care.models import Referral, ReferralStatus, RehabCase, RehabOutcome
from xinglin.care.referrals import direction_between
from xinglin.care.visit_codes import load_default_codes
from xinglin.care.visit_figures import derive_visit_figures, year_months
from xinglin.care.visits import VISIT_COLUMNS, VisitImportResult, _Checked, _store
from xinglin.collection.models import DataValue, DeliveredTechnique, TechniqueSource
from xinglin.network.models import Kind, OrgUnit
from xinglin.standards.models import TechniqueItem

YEAR = 2025
FILE = "demo-his-export-2025.csv"
MARK = "DEMO"  # demo patients' identifiers start with this (so re-runs find their records)
# two institutions whose reports disagree with their records: one reported more TCM visits
# than its records hold, one reported fewer visits in all
OVER_REPORTS_TCM = "640323102001"
UNDER_REPORTS_TOTAL = "640323001001"
PLAIN_DEPARTMENTS = ["内科", "外科", "儿科", "全科", "妇科", "急诊科"]
ICD10 = ["J06", "I10", "E11", "K29", "M54", "J20", "R51"]
TCM_DIAGNOSES = ["A01.01.01", "A04.04.01", "A07.06.17", "A07.06.09", "B03.01.03", "B02.09.03"]


def build(context) -> None:
    load_default_codes()
    if not context.has("yanchi"):
        return
    county = OrgUnit.objects.get(code=context.county_code)
    units = list(
        OrgUnit.objects.filter(
            path__startswith=county.path, kind=Kind.INSTITUTION, closed_on=None,
            institution_type__in=["tcm_hospital", "community_health_center",
                                  "township_health_center"],
        ).order_by("code")
    )  # fmt: skip
    visits = _visits(units)
    rehab = _rehab_cases(county)
    referrals = _referrals(county)
    derived = derive_visit_figures(YEAR)
    context.log.append(
        f"care records: {visits} visits in {YEAR} for {len(units)} institutions, "
        f"{derived.figures} figures derived; {rehab} rehabilitation cases, {referrals} referrals"
    )


def _reported(units: list[OrgUnit]) -> dict[tuple[int, str, str], float]:
    values = DataValue.objects.filter(
        orgunit__in=units, period__in=year_months(YEAR),
        element__code__in=["total_visits", "tcm_visits"],
    ).values_list("orgunit_id", "element__code", "period", "value")  # fmt: skip
    return {(u, e, p): v for u, e, p, v in values}


def _visits(units: list[OrgUnit]) -> int:
    reported = _reported(units)
    items = {i.code: i for i in TechniqueItem.objects.all()}
    rows, techniques = [], []
    for unit in units:
        rng = random.Random(f"visits:{unit.code}")
        delivered = [items[c] for c in _delivered(unit)] or list(items.values())[:8]
        if unit.code == OVER_REPORTS_TCM:
            delivered = delivered[:5]
        patients = [_patient(f"{MARK}-{unit.code}-{n}") for n in range(3000)]
        for month in year_months(YEAR):
            total = int(reported.get((unit.pk, "total_visits", month), 0))
            tcm = int(reported.get((unit.pk, "tcm_visits", month), 0))
            if unit.code == OVER_REPORTS_TCM:
                tcm = round(tcm * 0.78)
            if unit.code == UNDER_REPORTS_TOTAL:
                total = round(total * 1.12)
            for n in range(total):
                visit, items_used = _visit(rng, unit, month, patients, delivered, n < tcm)
                if items_used:
                    techniques += [(len(rows), item.pk) for item in items_used]
                rows.append(visit)
    checked = _Checked(**{
        name: list(column) for name, column in zip(VISIT_COLUMNS, zip(*rows, strict=True),
                                                   strict=True)
    })  # fmt: skip
    checked.visited_on = [d.isoformat() for d in checked.visited_on]
    used: list[list[int]] = [[] for _ in rows]
    for row, item in techniques:
        used[row].append(item)
    checked.items = [tuple(items) for items in used]
    with transaction.atomic():
        _store(FILE, checked, None, VisitImportResult(), None)
    return len(rows)


def _delivered(unit: OrgUnit) -> list[str]:
    reported = DeliveredTechnique.objects.filter(
        orgunit=unit, period=str(YEAR), source=TechniqueSource.REPORTED
    )
    return sorted(reported.values_list("item__code", flat=True))


def _patient(number: str) -> tuple[str, str]:
    return personal_id.hash_id(number), personal_id.mask(number)[:32]


def _visit(rng, unit, month, patients, delivered, is_tcm):
    day = date(int(month[:4]), int(month[4:]), rng.randint(1, 28))
    patient = rng.choice(patients)
    diagnosis = rng.choice(ICD10)
    if not is_tcm:
        row = (unit.pk, day, month, rng.choice(PLAIN_DEPARTMENTS), *patient, diagnosis, "", "",
               False, False, False)  # fmt: skip
        return row, []
    kind = rng.random()
    if kind < 0.4:  # a technique in a TCM department
        used = rng.sample(delivered, min(len(delivered), rng.choice((1, 1, 2))))
        codes = ";".join(i.code for i in used)
        row = (unit.pk, day, month, rng.choice(["针灸科", "推拿科", "中医科"]), *patient, "",
               rng.choice(TCM_DIAGNOSES), codes, True, True, False)  # fmt: skip
        return row, used
    if kind < 0.8:  # herbal prescription with a TCM diagnosis
        row = (unit.pk, day, month, "中医科", *patient, "", rng.choice(TCM_DIAGNOSES), "", True,
               False, True)  # fmt: skip
        return row, []
    # a patent TCM medicine written in another department
    row = (unit.pk, day, month, rng.choice(PLAIN_DEPARTMENTS), *patient, diagnosis, "", "", False,
           False, True)  # fmt: skip
    return row, []


# ---------------------------------------------------------------------------
# Rehabilitation and referrals
# ---------------------------------------------------------------------------

CONDITIONS = [("stroke", 0.35), ("fracture", 0.2), ("cervical_lumbar", 0.2),
              ("spinal_cord_injury", 0.05), ("joint_replacement", 0.1), ("facial_palsy", 0.1)]  # fmt: skip
REHAB_TCM = ["filiform_needling", "electroacupuncture", "tuina_massage", "moxibustion_suspended",
             "fire_cupping", "traditional_exercise", "herbal_hot_compress"]  # fmt: skip
MODERN = ["physical_therapy", "occupational_therapy", "speech_therapy", "electrotherapy"]


def _rehab_cases(county: OrgUnit) -> int:
    codes = {"640323000001": 90, "640323000002": 45, "640323000004": 25}
    places = OrgUnit.objects.filter(code__in=codes)
    RehabCase.objects.filter(institution__path__startswith=county.path,
                             patient_masked__startswith=MARK).delete()  # fmt: skip
    cases = []
    for unit in places:
        for year in (2023, 2024, 2025):
            rng = random.Random(f"rehab:{unit.code}:{year}")
            tcm_share = {"640323000001": 0.92, "640323000002": 0.45}.get(unit.code, 0.6)
            tcm_share += 0.04 * (year - 2023)
            for n in range(codes[unit.code]):
                cases.append(_case(rng, unit, year, n, tcm_share))
    RehabCase.objects.bulk_create(cases, batch_size=1000)
    return len(cases)


def _case(rng, unit, year, n, tcm_share) -> RehabCase:
    condition = rng.choices([c for c, _ in CONDITIONS], [w for _, w in CONDITIONS])[0]
    admitted = date(year, 1, 1) + timedelta(days=rng.randint(0, 350))
    with_tcm = rng.random() < tcm_share
    start = (
        rng.randint(15, 60)
        if condition in ("stroke", "spinal_cord_injury")
        else rng.randint(35, 75)
    )
    stay = rng.randint(12, 35) if condition != "spinal_cord_injury" else rng.randint(30, 60)
    discharged = admitted + timedelta(days=stay)
    is_open = discharged > date(2025, 12, 31)
    gain = max(-5, round(rng.gauss(22 if with_tcm else 16, 8)))
    end = min(100, start + gain)
    outcome = RehabOutcome.IMPROVED if end - start >= 5 else RehabOutcome.UNCHANGED
    if end < start:
        outcome = RehabOutcome.WORSE
    if rng.random() < 0.03:
        outcome = RehabOutcome.TRANSFERRED
    number = f"{MARK}-R{unit.code[-4:]}{year}{n:04d}"
    return RehabCase(
        institution=unit, patient_hash=personal_id.hash_id(number),
        patient_masked=personal_id.mask(number)[:32], condition=condition, admitted_on=admitted,
        discharged_on=None if is_open else discharged,
        tcm_techniques=rng.sample(REHAB_TCM, rng.randint(1, 3)) if with_tcm else [],
        modern_techniques=rng.sample(MODERN, rng.randint(1, 2)), scale="barthel",
        score_admission=start, score_discharge=None if is_open else end,
        outcome="" if is_open else outcome, has_tcm=with_tcm,
    )  # fmt: skip


def _referrals(county: OrgUnit) -> int:
    hospitals = list(OrgUnit.objects.filter(code__in=["640323000001", "640323000002"]))
    centres = list(
        OrgUnit.objects.filter(
            path__startswith=county.path, closed_on=None,
            institution_type__in=["township_health_center", "community_health_center"],
        ).order_by("code")
    )  # fmt: skip
    Referral.objects.filter(
        from_institution__path__startswith=county.path, patient_masked__startswith=MARK
    ).delete()
    rng = random.Random("referrals")
    referrals = []
    for n in range(240):
        upward = rng.random() < 0.6
        centre, hospital = rng.choice(centres), rng.choice(hospitals)
        source, target = (centre, hospital) if upward else (hospital, centre)
        sent = date(YEAR, 1, 1) + timedelta(days=rng.randint(0, 360))
        referrals.append(_referral(rng, n, source, target, sent, upward))
    Referral.objects.bulk_create(referrals)
    return len(referrals)


def _referral(rng, n, source, target, sent, upward) -> Referral:
    reason = rng.choice(["疑难病症进一步诊治", "急性脑卒中", "骨折手术"] if upward
                        else ["康复期转回基层", "慢病稳定期管理", "中医康复治疗"])  # fmt: skip
    days = rng.randint(1, 10) if upward else rng.randint(3, 30)
    completed = sent + timedelta(days=days)
    received = sent + timedelta(days=min(days, rng.randint(0, 2)))
    status = ReferralStatus.COMPLETED
    if completed > date(YEAR, 12, 31):
        status, completed = ReferralStatus.RECEIVED, None
        if received > date(YEAR, 12, 31):
            status, received = ReferralStatus.SENT, None
    number = f"{MARK}-Z{n:05d}"
    return Referral(
        from_institution=source, to_institution=target,
        direction=direction_between(source, target), referred_on=sent, reason=reason,
        patient_hash=personal_id.hash_id(number), patient_masked=personal_id.mask(number)[:32],
        status=status, received_on=received, completed_on=completed,
    )  # fmt: skip
