"""Rehabilitation cases (康复病例) and their outcome summaries (结局评价, seeds/000 §(二)4):
improvement in a function scale, length of stay, and the share of cases given TCM techniques,
by condition, institution and year. Scales and conditions are data (data/rehab_scales.yaml,
data/rehab.yaml)."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

import yaml
from django.contrib.auth.models import User
from django.db.models import (
    Avg,
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Q,
    QuerySet,
    When,
)

from xinglin.care import personal_id
from xinglin.care.actions import CareError
from xinglin.care.models import RehabCase, RehabOutcome
from xinglin.network.models import Kind, OrgUnit
from xinglin.standards.models import TechniqueItem

DATA = Path(__file__).parent / "data"
GROUPS = {"condition": "condition", "institution": "institution__code", "year": "year"}


@cache
def scales() -> dict[str, dict]:
    return yaml.safe_load((DATA / "rehab_scales.yaml").read_text(encoding="utf-8"))["scales"]


@cache
def vocabularies() -> dict[str, list[dict]]:
    return yaml.safe_load((DATA / "rehab.yaml").read_text(encoding="utf-8"))


def conditions() -> dict[str, dict]:
    return {c["code"]: c for c in vocabularies()["conditions"]}


def modern_techniques() -> dict[str, dict]:
    return {t["code"]: t for t in vocabularies()["modern_techniques"]}


def band(scale: str, score: float | None) -> str:
    """The scale's band (Chinese name) for a total, '' when there is none."""
    if score is None:
        return ""
    return next((b["zh"] for b in scales()[scale]["bands"] if score <= b["max"]), "")


def improvement(scale: str, admission: float, discharge: float | None) -> float | None:
    if discharge is None:
        return None
    sign = 1 if scales()[scale]["higher_is_better"] else -1
    return sign * (discharge - admission)


def _check_score(scale: str, value: float | None, what: str) -> None:
    if value is None:
        return
    spec = scales()[scale]
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
    if institution.kind != Kind.INSTITUTION:
        raise CareError(f"{institution.code} is not an institution")
    if condition not in conditions():
        raise CareError(f"unknown condition {condition!r}")
    if scale not in scales():
        raise CareError(f"unknown scale {scale!r}")
    _check_score(scale, score_admission, "score at admission")
    _check_score(scale, score_discharge, "score at discharge")
    if discharged_on and discharged_on < admitted_on:
        raise CareError("the discharge date is before the admission date")
    known = set(
        TechniqueItem.objects.filter(code__in=tcm_techniques).values_list("code", flat=True)
    )
    unknown = (set(tcm_techniques) - known) | (set(modern) - set(modern_techniques()))
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


def summary(cases: QuerySet[RehabCase], by: str, scale: str = "barthel") -> list[dict]:
    """Per group (condition, institution or year of admission): cases, discharged, mean
    improvement in the scale (discharged cases), mean length of stay in days, share of cases
    with TCM techniques. One GROUP BY."""
    sign = 1 if scales()[scale]["higher_is_better"] else -1
    cases = cases.filter(scale=scale).annotate(year=F("admitted_on__year"))
    gain = ExpressionWrapper(
        sign * (F("score_discharge") - F("score_admission")), output_field=FloatField()
    )
    stay = ExpressionWrapper(F("discharged_on") - F("admitted_on"), output_field=DurationField())
    grouped = (
        cases.values(GROUPS[by])
        .annotate(
            cases=Count("id"),
            discharged=Count("id", filter=~Q(discharged_on=None)),
            with_tcm=Count("id", filter=Q(has_tcm=True)),
            improvement=Avg(gain),
            stay=Avg(stay),
            improved=Count(Case(When(outcome=RehabOutcome.IMPROVED, then=1))),
        )
        .order_by(GROUPS[by])
    )
    return [
        {
            "key": g[GROUPS[by]],
            "cases": g["cases"],
            "discharged": g["discharged"],
            "improvement": None if g["improvement"] is None else round(g["improvement"], 1),
            "stay_days": None if g["stay"] is None else round(_days(g["stay"]), 1),
            "tcm_share": round(g["with_tcm"] / g["cases"], 3) if g["cases"] else None,
            "improved": g["improved"],
        }
        for g in grouped
    ]


def _days(value) -> float:
    # Avg of a date difference is a timedelta on most databases; SQLite may give microseconds
    if hasattr(value, "total_seconds"):
        return value.total_seconds() / 86400
    return float(value) / 86_400_000_000
