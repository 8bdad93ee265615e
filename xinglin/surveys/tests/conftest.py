from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from xinglin.collection.testing import store_facts
from xinglin.network.models import OrgUnit
from xinglin.standards.catalogue import sync_catalogue
from xinglin.standards.models import DataElement
from xinglin.surveys.actions import load_instruments
from xinglin.surveys.models import Instrument

HMC = "640323100"  # 花马池镇
DSK = "640323101"  # 大水坑镇


@pytest.fixture
def instruments(county):
    sync_catalogue()
    load_instruments()
    return {i.code: i for i in Instrument.objects.all()}


@pytest.fixture
def satisfaction(instruments) -> Instrument:
    return instruments["resident_satisfaction"]


@pytest.fixture
def knowledge(instruments) -> Instrument:
    return instruments["tcm_knowledge"]


@pytest.fixture
def residents(instruments):
    """2025 residents: 花马池镇 60 000, 大水坑镇 25 000, the other seven townships 5 000 each."""
    element = DataElement.objects.get(code="residents")
    county = OrgUnit.objects.get(code="640323")
    rows = []
    for township in county.children.filter(kind="division"):
        people = {HMC: 60000, DSK: 25000}.get(township.code, 5000)
        rows.append((element, township, "2025", float(people)))
    store_facts(rows)


def satisfied_answers(overall: str = "满意") -> dict:
    return {
        "gender": "女",
        "age_group": "65岁及以上",
        "used_services": "是",
        "services": ["针刺", "拔罐"],
        "attitude": "满意",
        "effect": "比较满意",
        "cost": "一般",
        "convenience": "满意",
        "overall": overall,
    }


def knowledge_answers(instrument: Instrument, right: int) -> dict:
    """Answers with the first `right` knowledge questions correct and the rest wrong."""
    answers = {"gender": "男", "age_group": "35~49岁"}
    knowledge = [q for q in instrument.questions if q["type"] == "knowledge"]
    for index, question in enumerate(knowledge):
        wrong = next(o for o in question["options"] if o != question["correct"])
        answers[question["id"]] = question["correct"] if index < right else wrong
    return answers


def workbook(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
