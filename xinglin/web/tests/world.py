"""A small world for the cross-app security tests: one object of every kind in 花马池镇
(HMC, bob's and carol's) and in 大水坑镇 (DSK, dave's), each carrying a marker text that a
page showing the object would show, so a leak is visible as the other scope's marker."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth.models import User

from xinglin.api.models import ApiToken
from xinglin.api.tokens import digest, new_token
from xinglin.care.actions import (
    record_assessment,
    record_child_guidance,
    register_child,
    register_resident,
)
from xinglin.care.personal_id import make_id_card
from xinglin.collection.testing import store_facts
from xinglin.documents.actions import save_narratives, save_typical_case
from xinglin.network.models import OrgUnit
from xinglin.plans.actions import add_comment, load_departments, load_plan, upload_evidence
from xinglin.plans.packs import PACKS_DIR, read_packs
from xinglin.standards.catalogue import sync_catalogue
from xinglin.standards.models import DataElement
from xinglin.surveys.actions import load_instruments, record_response
from xinglin.surveys.models import Instrument

YEAR = 2025
MONTH = "202503"
SCOPES = {"HMC": ("640323100", "640323100001"), "DSK": ("640323101", "640323101001")}
# A number that appears nowhere else: a data value shown on a page is its marker.
VALUES = {"HMC": 73916428, "DSK": 84623197}
BALANCED = [5] + [1] * 32
SATISFIED = {
    "gender": "女",
    "age_group": "65岁及以上",
    "used_services": "是",
    "services": ["针刺", "拔罐"],
    "attitude": "满意",
    "effect": "比较满意",
    "cost": "一般",
    "convenience": "满意",
    "overall": "满意",
}


def marker(scope: str, kind: str) -> str:
    return f"QX{scope}{kind}"


@dataclass
class Scope:
    name: str
    township: OrgUnit
    institution: OrgUnit
    ids: dict[str, int] = field(default_factory=dict)
    token: str = ""


def _pdf() -> bytes:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(2, 1))
    out = io.BytesIO()
    figure.savefig(out, format="pdf")
    return out.getvalue()


def _care(scope: Scope, serial: int) -> None:
    unit = scope.institution
    number = make_id_card("640323", date(1950, 3, 4), serial)
    resident = register_resident(number, institution=unit, name=marker(scope.name, "CARE"))
    assessment = record_assessment(
        resident, institution=unit, assessed_on=date(YEAR, 3, 1), answers=BALANCED,
        guidance=["diet"], assessor=marker(scope.name, "CARE"),
    )  # fmt: skip
    child_number = make_id_card("640323", date(YEAR - 1, 1, 10), serial)
    child = register_child(child_number, institution=unit, name=marker(scope.name, "CARE"))
    record_child_guidance(
        child, institution=unit, visited_on=date(YEAR, 7, 12), diet=True, daily_life=True
    )
    scope.ids.update(assessment=assessment.pk, resident=resident.pk, child=child.pk)


def _plans(scope: Scope, user: User) -> None:
    pack = next(p for p in read_packs(PACKS_DIR) if p.code == "rehab-2021-2025")
    plan = load_plan(pack, scope.township).plan
    task = plan.tasks.order_by("position").first()
    add_comment(task, user=user, text=marker(scope.name, "PLAN"))
    evidence = upload_evidence(
        orgunit=scope.township, name=f"{marker(scope.name, 'PLAN')}.pdf", content=_pdf(),
        user=user, task=task, description=marker(scope.name, "PLAN"),
    )  # fmt: skip
    milestone = plan.milestones.first()
    scope.ids.update(plan=plan.pk, task=task.pk, evidence=evidence.pk, milestone=milestone.pk)


def _documents(scope: Scope, user: User) -> None:
    save_narratives(scope.township, YEAR, "annual", {"work_done": marker(scope.name, "DOC")})
    case = save_typical_case(
        scope.township, YEAR, marker(scope.name, "DOC"), marker(scope.name, "DOC"), user=user
    )
    scope.ids["case"] = case.pk


def _token(scope: Scope, owner: User) -> None:
    prefix, token = new_token()
    row = ApiToken.objects.create(
        user=owner, name=marker(scope.name, "TOKEN"), prefix=prefix, digest=digest(token)
    )
    scope.ids["token"] = row.pk
    scope.ids["user"] = owner.pk
    scope.token = token


def _registers(scope: Scope) -> None:
    from datetime import date

    from xinglin.registers.models import Complaint

    complaint = Complaint.objects.create(
        orgunit=scope.institution, kind="complaint", channel="phone", received_on=date(YEAR, 3, 1),
        summary=marker(scope.name, "REG"), complainant_name=marker(scope.name, "REG"),
        due_on=date(YEAR, 3, 15),
    )  # fmt: skip
    scope.ids["complaint"] = complaint.pk


def build(owners: dict[str, User]) -> dict[str, Scope]:
    """Needs the `county` fixture; `owners` maps HMC/DSK to the supervisor who owns that
    scope's API token and writes its comments."""
    sync_catalogue()
    load_instruments()
    load_departments()
    instrument = Instrument.objects.get(code="resident_satisfaction")
    visits = DataElement.objects.get(code="total_visits")
    scopes = {}
    for serial, (name, (township, institution)) in enumerate(SCOPES.items(), start=101):
        scope = Scope(
            name, OrgUnit.objects.get(code=township), OrgUnit.objects.get(code=institution)
        )
        store_facts([(visits, scope.institution, MONTH, VALUES[name])], user=owners[name])
        response = record_response(
            instrument, scope.institution, str(YEAR), SATISFIED, serial=marker(name, "SURVEY")
        )
        scope.ids["response"] = response.pk
        _care(scope, serial)
        _plans(scope, owners[name])
        _documents(scope, owners[name])
        _token(scope, owners[name])
        _registers(scope)
        scopes[name] = scope
    return scopes
