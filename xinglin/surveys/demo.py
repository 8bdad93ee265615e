"""Demo surveys: the four instruments and a year (2025) of responses in 盐池县, sized and
allocated by the sampling plan. Rates mostly meet item 37; 麻黄山乡 falls short of the
satisfaction and knowledge targets, and small townships show "met on the point estimate only"."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from xinglin.lib.survey_stats import allocate
from xinglin.network.models import OrgUnit
from xinglin.surveys.actions import feed_engine, load_instruments, store_responses
from xinglin.surveys.models import Instrument, SurveyChannel, SurveyResponse
from xinglin.surveys.results import sampling_plan

YEAR = "2025"
WEAK_TOWNSHIP = "640323203"  # 麻黄山乡
# Share of respondents who are positive (satisfied / aware), county-wide and in the weak one.
RATES = {
    "resident_satisfaction": (0.95, 0.80),
    "tcm_knowledge": (0.95, 0.78),
    "tcm_service_awareness": (0.91, 0.88),
    "staff_policy_awareness": (0.93, 0.90),
}
STAFF_SAMPLE = 160
INTERVIEWERS = {"640323100": "huamachi", "640323101": "dashuikeng"}


def build(context) -> None:
    load_instruments()
    if not context.has("yanchi"):
        return
    county = OrgUnit.objects.get(code=context.county_code)
    SurveyResponse.objects.filter(
        period=YEAR, channel=SurveyChannel.SYSTEM, orgunit__path__startswith=county.path
    ).delete()
    rng = random.Random(2025)
    total = 0
    for instrument in Instrument.objects.filter(code__in=RATES):
        for township, count in _allocation(instrument, county).items():
            total += _respond(instrument, township, count, rng)
    fed = feed_engine([YEAR])
    context.log.append(
        f"surveys: {total} responses for {YEAR}"
        + ("" if fed is None else f", {fed} values handed to the engine")
    )


def _allocation(instrument: Instrument, county: OrgUnit) -> dict[OrgUnit, int]:
    plan = sampling_plan(instrument, YEAR, county)
    if instrument.audience == "staff" or plan.sample == 0:
        # Staff counts may not be in the demo; spread a fixed sample by residents instead.
        sizes = {a.orgunit.code: a.population for a in plan.assignments}
        if instrument.audience == "staff" or not any(sizes.values()):
            residents = sampling_plan(
                Instrument.objects.get(code="resident_satisfaction"), YEAR, county
            )
            sizes = {a.orgunit.code: a.population for a in residents.assignments}
        parts = allocate(STAFF_SAMPLE, sizes)
        return {a.orgunit: parts[a.orgunit.code] for a in plan.assignments}
    return {a.orgunit: a.sample for a in plan.assignments}


def _respond(instrument: Instrument, township: OrgUnit, count: int, rng: random.Random) -> int:
    county_rate, weak_rate = RATES[instrument.code]
    rate = weak_rate if township.code == WEAK_TOWNSHIP else county_rate
    where = township
    if instrument.audience == "staff":
        where = (
            OrgUnit.objects.filter(parent=township, kind="institution").order_by("code").first()
            or township
        )
    interviewer = User.objects.filter(username=INTERVIEWERS.get(township.code, "bureau")).first()
    start = timezone.make_aware(datetime(2025, 9, 1, 9, 0))
    # Exactly round(rate × count) positives, so each township lands where it is meant to.
    outcomes = [i < round(rate * count) for i in range(count)]
    rng.shuffle(outcomes)
    rows = [
        {
            "orgunit": where,
            "answers": _answers(instrument.definition, positive, rng),
            "serial": "",
            "submitted_at": start + timedelta(minutes=rng.randrange(0, 60 * 24 * 60)),
        }
        for positive in outcomes
    ]
    return store_responses(instrument, YEAR, rows, user=interviewer, channel=SurveyChannel.SYSTEM)


def _answers(definition: dict, positive: bool, rng: random.Random) -> dict:
    scoring = definition["scoring"]
    answers = {}
    knowledge = [q for q in definition["questions"] if q["type"] == "knowledge"]
    needed = -(-round(scoring.get("at_least", 0) * 100) * len(knowledge) // 100)
    right = (
        set(
            rng.sample(
                range(len(knowledge)),
                rng.randint(needed, len(knowledge))
                if positive
                else rng.randint(0, max(0, needed - 1)),
            )
        )
        if knowledge
        else set()
    )
    for question in definition["questions"]:
        options = question["options"]
        if question["type"] == "knowledge":
            index = knowledge.index(question)
            wrong = [o for o in options if o != question["correct"]]
            answers[question["id"]] = question["correct"] if index in right else rng.choice(wrong)
        elif question["type"] == "multiple":
            answers[question["id"]] = [o for o in options if rng.random() < 0.3]
        elif scoring["rule"] == "choice_in" and question["id"] == scoring["question"]:
            pool = (
                scoring["values"]
                if positive
                else [o for o in options if o not in scoring["values"]]
            )
            answers[question["id"]] = rng.choice(pool)
        elif question["type"] == "likert":
            answers[question["id"]] = rng.choices(
                options, weights=[5, 4, 1, 0.5, 0.2][: len(options)]
            )[0]
        else:
            answers[question["id"]] = rng.choice(options)
    return answers
