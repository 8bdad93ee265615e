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
    CARE_SETTING_TYPES,
    CareSettingRehab,
    ClinicFiling,
    Complaint,
    FamilyDoctorContracts,
    FilingStatus,
    HerbCultivation,
    KeyPopulation,
    KeyPopulationCount,
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
    "staff_trained",
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
# per key population: people under management and, of them, those receiving TCM management
KEYPOP_ELEMENTS = tuple(
    f"{p}_{what}" for p in KeyPopulation.values for what in ("managed", "tcm_managed")
)
FAMILY_DOCTOR_ELEMENTS = (
    "family_doctor_signed",
    "family_doctor_tcm_signed",
    "family_doctor_teams",
    "family_doctor_tcm_teams",
)
CARE_REHAB_ELEMENTS = ("tcm_rehab_provided", "tcm_rehab_people_served")


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
    rows += _staff_trained(years)
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


def _staff_trained(years: list[int]) -> list[tuple[str, str, str, float]]:
    """`staff_trained` per grassroots institution and year: the distinct trainees (by name) who
    completed any training that year — the numerator of "share of grassroots staff trained"
    (seeds/001 三(四)24), whose denominator is the institution's physicians and nurses. In a
    county whose grassroots trainees completed anything that year, every other grassroots
    institution of the county gets 0: the register is in use there, and an institution without
    a trainee counts in the share instead of dropping out of it."""
    grassroots = [str(t) for t in GRASSROOTS_TYPES]
    trained = (
        Training.objects.filter(
            completed_on__year__in=years, orgunit__institution_type__in=grassroots
        )
        .annotate(y=ExtractYear("completed_on"))
        .values("orgunit__code", "y")
        .annotate(n=Count("trainee", distinct=True))
    )
    found = {(g["orgunit__code"], str(g["y"])): float(g["n"]) for g in trained}
    return _with_zeros("staff_trained", found, grassroots)


def _with_zeros(
    element: str, found: dict[tuple[str, str], float], types: list[str]
) -> list[tuple[str, str, str, float]]:
    """`element` rows for the (institution, year) values found, and 0 for every other
    institution of these types in a county where the register has a value that year: there the
    register is in use, and no record means none (not "not reported")."""
    county = _county_of({code for code, _period in found})
    in_use: dict[str, set[str]] = defaultdict(set)  # year -> counties using the register
    for code, period in found:
        in_use[period].add(county[code])
    paths = dict(
        OrgUnit.objects.filter(code__in={c for cs in in_use.values() for c in cs}).values_list(
            "code", "path"
        )
    )
    rows = []
    for period, counties in sorted(in_use.items()):
        q = Q()
        for code in counties:
            q |= Q(path__startswith=paths[code])
        units = OrgUnit.objects.filter(q, kind=Kind.INSTITUTION, institution_type__in=types)
        for code in units.values_list("code", flat=True):
            rows.append((element, code, period, found.get((code, period), 0.0)))
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


def keypop_rows(years: list[int]) -> list[tuple[str, str, str, float]]:
    """Per institution, year and key population: the people under management and those who
    received TCM health management (seeds/001 三(五)30), as `<population>_managed` and
    `<population>_tcm_managed`."""
    grouped = (
        KeyPopulationCount.objects.filter(year__in=years)
        .values("orgunit__code", "year", "population")
        .annotate(managed=Sum("managed"), tcm=Sum("tcm_managed"))
    )
    rows = []
    for g in grouped:
        code, period, population = g["orgunit__code"], str(g["year"]), g["population"]
        rows.append((f"{population}_managed", code, period, float(g["managed"])))
        rows.append((f"{population}_tcm_managed", code, period, float(g["tcm"])))
    return rows


def family_doctor_rows(years: list[int]) -> list[tuple[str, str, str, float]]:
    """Per institution and year: residents signed, signed to a package with TCM services, teams
    and teams with a TCM doctor (seeds/001 三(五)29)."""
    grouped = (
        FamilyDoctorContracts.objects.filter(year__in=years)
        .values("orgunit__code", "year")
        .annotate(a=Sum("signed"), b=Sum("tcm_signed"), c=Sum("teams"), d=Sum("tcm_teams"))
    )
    rows = []
    for g in grouped:
        for element, key in zip(FAMILY_DOCTOR_ELEMENTS, "abcd", strict=True):
            rows.append((element, g["orgunit__code"], str(g["year"]), float(g[key])))
    return rows


def care_rehab_rows(years: list[int]) -> list[tuple[str, str, str, float]]:
    """Per care home, welfare home, school or rehabilitation centre and year: 1 when it provided
    TCM rehabilitation services (a record), 0 for the others of a county that keeps the
    register that year, and the people served (seeds/000 三(二)1)."""
    grouped = (
        CareSettingRehab.objects.filter(year__in=years)
        .values("orgunit__code", "year")
        .annotate(n=Count("pk"), people=Sum("people_served"))
    )
    rows = []
    provided = {}
    for g in grouped:
        code, period = g["orgunit__code"], str(g["year"])
        provided[(code, period)] = 1.0
        rows.append(("tcm_rehab_people_served", code, period, float(g["people"])))
    return rows + _with_zeros("tcm_rehab_provided", provided, list(CARE_SETTING_TYPES))
