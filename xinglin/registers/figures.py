"""What each register hands the engine: yearly aggregates, computed in SQL (one grouped query
per register and figure), as (element, org-unit code, year, value) rows. `actions.feed_engine`
stores them as the engine's derived values, source `registers.<code>`.

Where a figure is judged for a county as a whole (complaints, the settings outreach reached),
it is placed at the county the record's unit lies in (a unit above county level keeps its own),
so that `own()` of a county sees every township's records and a city's the sum of its counties."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import ExtractYear

from xinglin.network.models import GRASSROOTS_TYPES, DivisionLevel, Kind, OrgUnit
from xinglin.registers.models import (
    ClinicFiling,
    Complaint,
    FilingStatus,
    HerbCultivation,
    OutreachEvent,
    RemoteConsultation,
    Satisfaction,
    SupportPair,
    Training,
    TrainingKind,
)

COMPLAINT_ELEMENTS = (
    "complaints_received",
    "complaints_handled_on_time",
    "complaints_satisfied",
    "complaints_satisfaction_answered",
)
TRAINING_ELEMENTS = (
    "trainees_completed",
    "western_doctors_tcm_trained",
    "apprenticeship_pairs",
)
OUTREACH_ELEMENTS = (
    "outreach_events",
    "outreach_attendance",
    "outreach_settings",
    "outreach_five_settings",
)
# seeds/000 三(二)1: 进社区、进农村、进家庭、进机关、进学校
FIVE_SETTINGS = frozenset({"community", "village", "family", "government", "school"})
SUPPORT_ELEMENTS = ("supported_grassroots_institutions",)
HERB_ELEMENTS = ("herb_area_mu", "herb_output_value", "herb_growth")
REMOTE_ELEMENTS = ("remote_consultations",)
CLINIC_ELEMENTS = ("clinic_filings_received", "clinic_filings_completed")


def _county_of(codes: set[str]) -> dict[str, str]:
    """Each org unit's county code (itself when it is a county or above)."""
    units = dict(OrgUnit.objects.filter(code__in=codes).values_list("code", "path"))
    counties = dict(
        OrgUnit.objects.filter(kind=Kind.DIVISION, division_level=DivisionLevel.COUNTY).values_list(
            "path", "code"
        )
    )
    placed = {}
    for code, path in units.items():
        parts = [p for p in path.split("/") if p]
        prefixes = ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
        placed[code] = next((counties[p] for p in prefixes if p in counties), code)
    return placed


def _at_counties(rows: list[tuple[str, str, str, float]]) -> list[tuple[str, str, str, float]]:
    """Rows summed at the county of their org unit."""
    county = _county_of({r[1] for r in rows})
    totals: dict[tuple[str, str, str], float] = defaultdict(float)
    for element, code, period, value in rows:
        totals[(element, county[code], period)] += value
    return [(e, o, p, v) for (e, o, p), v in sorted(totals.items())]


def complaint_rows(years: list[int]) -> list[tuple[str, str, str, float]]:
    """Per county and year of receipt: received, handled by the due date, and of those who
    answered, the satisfied (seeds/001 三(一)5)."""
    grouped = (
        Complaint.objects.filter(received_on__year__in=years)
        .annotate(y=ExtractYear("received_on"))
        .values("orgunit__code", "y")
        .annotate(
            received=Count("pk"),
            on_time=Count("pk", filter=Q(handled_on__isnull=False, handled_on__lte=F("due_on"))),
            satisfied=Count("pk", filter=Q(satisfaction=Satisfaction.SATISFIED)),
            answered=Count("pk", filter=~Q(satisfaction="")),
        )
    )
    rows = []
    for g in grouped:
        code, period = g["orgunit__code"], str(g["y"])
        for element, key in zip(
            COMPLAINT_ELEMENTS, ("received", "on_time", "satisfied", "answered"), strict=True
        ):
            rows.append((element, code, period, float(g[key])))
    return _at_counties(rows)


def training_rows(years: list[int]) -> list[tuple[str, str, str, float]]:
    """Per institution and year: trainees who completed a training that year, of them those of
    西学中 courses, and apprenticeships (师承) under way that year."""
    completed = (
        Training.objects.filter(completed_on__year__in=years)
        .annotate(y=ExtractYear("completed_on"))
        .values("orgunit__code", "y")
        .annotate(
            n=Count("pk"), western=Count("pk", filter=Q(kind=TrainingKind.WESTERN_DOCTORS_TCM))
        )
    )
    rows = []
    for g in completed:
        rows.append(("trainees_completed", g["orgunit__code"], str(g["y"]), float(g["n"])))
        rows.append(
            ("western_doctors_tcm_trained", g["orgunit__code"], str(g["y"]), float(g["western"]))
        )
    for year in years:
        running = (
            Training.objects.filter(kind=TrainingKind.APPRENTICESHIP, started_on__year__lte=year)
            .filter(Q(completed_on__isnull=True) | Q(completed_on__year__gte=year))
            .values("orgunit__code")
            .annotate(n=Count("pk"))
        )
        rows += [
            ("apprenticeship_pairs", g["orgunit__code"], str(year), float(g["n"])) for g in running
        ]
    return rows


def outreach_rows(years: list[int]) -> list[tuple[str, str, str, float]]:
    """Per institution and year: events and attendance; per county: the distinct settings the
    year's events reached (五进 / 七进)."""
    grouped = (
        OutreachEvent.objects.filter(held_on__year__in=years)
        .annotate(y=ExtractYear("held_on"))
        .values("orgunit__code", "y")
        .annotate(n=Count("pk"), people=Sum("attendance"))
    )
    rows = []
    for g in grouped:
        rows.append(("outreach_events", g["orgunit__code"], str(g["y"]), float(g["n"])))
        rows.append(("outreach_attendance", g["orgunit__code"], str(g["y"]), float(g["people"])))
    settings = (
        OutreachEvent.objects.filter(held_on__year__in=years)
        .annotate(y=ExtractYear("held_on"))
        .values_list("orgunit__code", "y", "setting")
        .distinct()
    )
    county = _county_of({code for code, _y, _s in settings})
    reached = {(county[code], str(y), setting) for code, y, setting in settings}
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for code, period, setting in reached:
        counts[("outreach_settings", code, period)] += 1
        counts[("outreach_five_settings", code, period)] += setting in FIVE_SETTINGS
    return rows + [(e, c, p, float(n)) for (e, c, p), n in sorted(counts.items())]


def support_rows(years: list[int]) -> list[tuple[str, str, str, float]]:
    """Per supporting hospital and year: the distinct community and township health centres it
    supported (seeds/003 三(五)19 counts 社区卫生服务中心、乡镇卫生院)."""
    grassroots = [t for t in GRASSROOTS_TYPES if t.endswith("health_center")]
    grouped = (
        SupportPair.objects.filter(year__in=years, partner__institution_type__in=grassroots)
        .values("orgunit__code", "year")
        .annotate(n=Count("partner", distinct=True))
    )
    return [
        ("supported_grassroots_institutions", g["orgunit__code"], str(g["year"]), float(g["n"]))
        for g in grouped
    ]


def herb_rows(years: list[int]) -> list[tuple[str, str, str, float]]:
    """Per county and year: area and output value; and `herb_growth`, 1 when both grew over
    the year before, 0 when either did not ("种植面积、产值保持稳定增长", seeds/004 八(十九)),
    absent when the year before has no record."""
    wanted = sorted(set(years) | {y - 1 for y in years})
    grouped = (
        HerbCultivation.objects.filter(year__in=wanted)
        .values("orgunit__code", "year")
        .annotate(area=Sum("area_mu"), output=Sum("output_value"))
    )
    rows = []
    for g in grouped:
        rows.append(("herb_area_mu", g["orgunit__code"], str(g["year"]), float(g["area"])))
        rows.append(("herb_output_value", g["orgunit__code"], str(g["year"]), float(g["output"])))
    totals = _at_counties(rows)
    by_key = {(e, o, p): v for e, o, p, v in totals}
    growth = []
    for element, code, period, area in totals:
        before = ("herb_area_mu", code, str(int(period) - 1))
        if element != "herb_area_mu" or before not in by_key:
            continue
        output = by_key[("herb_output_value", code, period)]
        output_before = by_key[("herb_output_value", code, before[2])]
        grew = area > by_key[before] and output > output_before
        growth.append(("herb_growth", code, period, 1.0 if grew else 0.0))
    return [r for r in totals + growth if int(r[2]) in years]


def remote_rows(years: list[int]) -> list[tuple[str, str, str, float]]:
    """Per consulting hospital and year: remote services given (seeds/003 三(四)17)."""
    grouped = (
        RemoteConsultation.objects.filter(held_on__year__in=years)
        .annotate(y=ExtractYear("held_on"))
        .values("orgunit__code", "y")
        .annotate(n=Count("pk"))
    )
    return [
        ("remote_consultations", g["orgunit__code"], str(g["y"]), float(g["n"])) for g in grouped
    ]


def clinic_rows(years: list[int]) -> list[tuple[str, str, str, float]]:
    """Per county and year: clinic filings and practitioner registrations received (by date
    filed) and completed (filed or registered, by date decided) (seeds/004 六(十八))."""
    received = (
        ClinicFiling.objects.filter(filed_on__year__in=years)
        .annotate(y=ExtractYear("filed_on"))
        .values("orgunit__code", "y")
        .annotate(n=Count("pk"))
    )
    completed = (
        ClinicFiling.objects.filter(
            decided_on__year__in=years,
            status__in=[FilingStatus.FILED, FilingStatus.REGISTERED],
        )
        .annotate(y=ExtractYear("decided_on"))
        .values("orgunit__code", "y")
        .annotate(n=Count("pk"))
    )
    rows = [("clinic_filings_received", g["orgunit__code"], str(g["y"]), float(g["n"]))
            for g in received]  # fmt: skip
    rows += [("clinic_filings_completed", g["orgunit__code"], str(g["y"]), float(g["n"]))
             for g in completed]  # fmt: skip
    return _at_counties(rows)
