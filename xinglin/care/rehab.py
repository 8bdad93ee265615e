"""Rehabilitation cases (康复病例) and their outcome summaries (结局评价, seeds/000 §(二)4):
improvement in a function scale, length of stay, and the share of cases given TCM techniques,
by condition, institution and year. Scales and conditions are data (data/rehab_scales.yaml,
data/rehab.yaml). The rules and figures; the write, `record_rehab_case`, is in actions.py."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
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

from xinglin.care.models import RehabCase, RehabOutcome

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
