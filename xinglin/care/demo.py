"""Demo care records for 盐池县: constitution assessments of residents aged 65+ (2024 and 2025)
and child guidance visits in three townships, so that the rates, the due list and the
distribution page have something true to show. 青山乡 stays below the 75% elderly rate.

Re-runnable: the demo's own records (channel "demo") are replaced; identifiers are generated
from a fixed seed, so health records are found again rather than duplicated.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.db import transaction

from xinglin.care import children, personal_id
from xinglin.care.actions import feed_engine, record_assessment, record_child_guidance
from xinglin.care.constitution import BIASED, rules
from xinglin.care.models import Channel, Child, ChildGuidance, ConstitutionAssessment, Resident
from xinglin.collection.models import DataValue
from xinglin.network.actions import create_user
from xinglin.network.models import Kind, OrgUnit, Role

YEARS = (2024, 2025)
# township -> (share of residents 65+ assessed, share of due child visits done)
TOWNSHIPS = {"640323201": (0.83, 0.95), "640323202": (0.68, 0.76), "640323203": (0.86, 0.96)}
# Latent constitution of a generated resident: balanced about 30%, qi and yang deficiency the
# commonest biased types among the elderly (typical of published county surveys).
LATENT = {
    "balanced": 0.30, "qi_deficiency": 0.18, "yang_deficiency": 0.15, "yin_deficiency": 0.08,
    "phlegm_dampness": 0.08, "blood_stasis": 0.07, "damp_heat": 0.05, "qi_stagnation": 0.05,
    "special_diathesis": 0.04,
}  # fmt: skip
GUIDANCE = ["emotion", "diet", "daily_life", "exercise", "acupoints"]
ASSESSORS = ["王医生", "李医生", "马医生", "张医生"]
CLERK = ("qingshan-clerk", "640323202001", "周敏（青山乡卫生院）")


def build(context) -> None:
    if not context.has("yanchi"):
        return
    rng = random.Random(64032312)
    with transaction.atomic():
        ConstitutionAssessment.objects.filter(channel=Channel.DEMO).delete()
        ChildGuidance.objects.filter(channel=Channel.DEMO).delete()
        totals = [0, 0]
        for code, (elderly_share, child_share) in TOWNSHIPS.items():
            township = OrgUnit.objects.get(code=code)
            places = list(OrgUnit.objects.filter(parent=township, kind=Kind.INSTITUTION))
            totals[0] += _elderly(rng, township, places, elderly_share)
            totals[1] += _children(rng, township, places, child_share)
    fed = feed_engine(YEARS + (date.today().year,))
    user = create_user(
        CLERK[0], "Xinglin-2026", role=Role.INSTITUTION_CLERK,
        orgunit=OrgUnit.objects.get(code=CLERK[1]), full_name=CLERK[2],
    )  # fmt: skip
    context.login("盐池县", user.username, "Xinglin-2026", str(Role.INSTITUTION_CLERK.label))
    engine = "handed to the engine" if fed else "engine not installed yet, not handed over"
    context.log.append(
        f"care: {totals[0]} constitution assessments, {totals[1]} child guidance visits ({engine})"
    )


def _population(element: str, township: OrgUnit, year: int) -> int:
    value = DataValue.objects.filter(
        element__code=element, orgunit=township, period=str(year)
    ).first()
    return int(value.value) if value else 0


def _residents(rng, township, places, count: int) -> list[Resident]:
    """`count` health records of people born 1932-1960 (65+ by 2025), found or created."""
    numbers = []
    for serial in range(count):
        born = date(1932, 1, 1) + timedelta(days=rng.randrange(29 * 365))
        numbers.append(personal_id.make_id_card(township.code[:6], born, serial))
    draws = {personal_id.hash_id(n): (n, rng.choice(places)) for n in numbers}
    existing = set(Resident.objects.filter(id_hash__in=draws).values_list("id_hash", flat=True))
    new = [
        Resident(
            id_hash=h,
            id_masked=personal_id.mask(n),
            sex=personal_id.sex(n),
            birth_date=personal_id.birth_date(n),
            institution=place,
        )
        for h, (n, place) in draws.items()
        if h not in existing
    ]
    Resident.objects.bulk_create(new, batch_size=2000)
    return list(
        Resident.objects.filter(id_hash__in=draws).select_related("institution").order_by("id")
    )


def _answers(rng) -> list[int]:
    latent = rng.choices(list(LATENT), weights=list(LATENT.values()))[0]
    answers = [rng.choices([1, 2, 3], weights=[55, 35, 10])[0] for _ in range(33)]
    if latent == "balanced":
        answers = [rng.choices([1, 2], weights=[70, 30])[0] for _ in range(33)]
        answers[0] = rng.choice([4, 5])
        return answers
    items = rules().biased_items[latent]
    for item in items:
        answers[item - 1] = rng.choice([3, 3, 4, 4, 5])
    if rng.random() < 0.3:  # a second, milder leaning (mixed constitutions are normal)
        for item in rules().biased_items[rng.choice(BIASED)]:
            answers[item - 1] = max(answers[item - 1], rng.choice([2, 3]))
    return answers


def _elderly(rng, township, places, share: float) -> int:
    pool = _residents(rng, township, places, _population("residents_65_plus", township, 2025))
    records = []
    for year in YEARS:
        eligible = [r for r in pool if r.birth_date <= date(year - 65, 12, 31)]
        target = round(share * _population("residents_65_plus", township, year))
        for resident in rng.sample(eligible, min(target, len(eligible))):
            records.append(_assessment(rng, resident, year))
    ConstitutionAssessment.objects.bulk_create(records, batch_size=2000)
    return len(records)


def _assessment(rng, resident: Resident, year: int) -> ConstitutionAssessment:
    # about 3% lack the guidance ticks: recorded but incomplete, so not counted
    ticked = [] if rng.random() < 0.03 else rng.sample(GUIDANCE, rng.randint(2, 5))
    return record_assessment(
        resident,
        institution=resident.institution,
        assessed_on=date(year, rng.randint(3, 11), rng.randint(1, 28)),
        answers=_answers(rng),
        guidance=ticked,
        assessor=rng.choice(ASSESSORS),
        channel=Channel.DEMO,
        save=False,
    )


def _children(rng, township, places, share: float) -> int:
    today = date.today()
    per_month = _population("children_0_36_months", township, 2025) / 42
    start = date(2020, 7, 1)
    numbers = []
    for offset in range((today.year - start.year) * 12 + today.month - start.month):
        month = children.add_months(start, offset)
        for _ in range(round(per_month * rng.uniform(0.85, 1.15))):
            born = month + timedelta(days=rng.randrange(28))
            numbers.append(f"CH{township.code}{len(numbers):05d}-{born:%Y%m%d}")
    kids = _children_records(rng, numbers, places)
    visits = [v for kid in kids for v in _visits(rng, kid, share, today)]
    ChildGuidance.objects.bulk_create(visits, batch_size=2000)
    return len(visits)


def _children_records(rng, numbers: list[str], places) -> list[Child]:
    # every draw happens on every run, so a re-run finds the same children in the same places
    draws = {
        personal_id.hash_id(n): (n, rng.choice(places), rng.choice(["male", "female"]))
        for n in numbers
    }
    existing = set(Child.objects.filter(id_hash__in=draws).values_list("id_hash", flat=True))
    new = [
        Child(
            id_hash=h,
            id_masked=personal_id.mask(n),
            institution=place,
            sex=sex,
            birth_date=date.fromisoformat(f"{n[-8:-4]}-{n[-4:-2]}-{n[-2:]}"),
        )
        for h, (n, place, sex) in draws.items()
        if h not in existing
    ]
    Child.objects.bulk_create(new, batch_size=2000)
    found = Child.objects.filter(id_hash__in=draws).select_related("institution")
    return list(found.order_by("id"))


def _visits(rng, kid: Child, share: float, today: date) -> list[ChildGuidance]:
    visits = []
    for month in children.visit_months():
        on = children.add_months(kid.birth_date, month) + timedelta(days=rng.randrange(20))
        if on.year < YEARS[0] or on >= today.replace(day=1) or rng.random() > share:
            continue
        techniques = children.band_techniques(month)
        if rng.random() < 0.05:  # a technique not taught: the visit does not count
            techniques = techniques[:-1] or []
        visits.append(
            record_child_guidance(
                kid,
                institution=kid.institution,
                visited_on=on,
                diet=True,
                daily_life=True,
                techniques=techniques,
                staff=rng.choice(ASSESSORS),
                channel=Channel.DEMO,
                save=False,
            )  # fmt: skip
        )
    return visits
