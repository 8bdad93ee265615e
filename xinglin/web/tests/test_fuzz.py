"""Fuzzing (hypothesis): the expression language, the period parser and every importer get
random and mutated input. Each may only answer with its own clear error type (or a result
listing the problems), never another exception, and a rejected file writes nothing."""

from __future__ import annotations

import contextlib
import csv
import io
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from xinglin.care.actions import CareError, import_assessments, read_assessment_file
from xinglin.care.constitution import ConstitutionInputError, score_csv
from xinglin.care.models import ConstitutionAssessment, Resident, Visit
from xinglin.care.visits import import_visits
from xinglin.collection.actions import import_file
from xinglin.collection.models import AuditEntry, DataValue
from xinglin.lib import periods
from xinglin.network.actions import NetworkError, import_institutions, read_institution_file
from xinglin.network.models import OrgUnit
from xinglin.plans.actions import import_task_sheet
from xinglin.plans.excel import export_plan
from xinglin.plans.models import Task, TaskUpdate
from xinglin.standards import expressions
from xinglin.surveys.actions import load_instruments, store_responses
from xinglin.surveys.imports import read_responses, template
from xinglin.surveys.models import Instrument, SurveyResponse
from xinglin.web.tests import world

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
EXPRESSIONS = [
    "sum(tcm_visits) / sum(total_visits)",
    "share(technique_categories >= 6 and technique_items >= 10)",
    "count(x) > 3 or not (a + b * 2 - c) = 100%",
    "max(a, b) <= min(c) + 1.5",
]
TARGETS = [">= 35%", "= 100%", "> 0", "<= 2.5", "between 10% and 20%"]
CELLS = st.one_of(
    st.none(), st.text(max_size=12), st.integers(-10**12, 10**12),
    st.floats(allow_nan=True, allow_infinity=True), st.dates(), st.booleans(),
    st.sampled_from(["640323100001", "202501", "2025", "total_visits", "满意", "1", "5", "-",
                     "diet", "2025-13-01", "９９", "=1+1", "\x00", "﻿"]),
)  # fmt: skip


def mutated(seeds: list[bytes]):
    """A seed file with a few bytes flipped, inserted, deleted, or the end cut off."""

    @st.composite
    def build(draw):
        data = bytearray(draw(st.sampled_from(seeds)))
        for _ in range(draw(st.integers(1, 6))):
            op = draw(st.sampled_from(["flip", "insert", "delete", "cut"]))
            at = draw(st.integers(0, max(len(data) - 1, 0)))
            if op == "flip" and data:
                data[at] = draw(st.integers(0, 255))
            elif op == "insert":
                data[at:at] = draw(st.binary(min_size=1, max_size=8))
            elif op == "delete":
                del data[at : at + draw(st.integers(1, 8))]
            else:
                del data[at:]
        return bytes(data)

    return build()


def anything(seeds: list[bytes]):
    return st.one_of(st.binary(max_size=300), mutated(seeds))


def _csv(rows) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def _xlsx(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append([_cell(c) for c in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value):
    if isinstance(value, str):
        # openpyxl refuses control characters in cells; a real workbook cannot hold them.
        return "".join(ch for ch in value if ch >= " " or ch in "\t\n")
    return value


def tables(header: list[str], width: int | None = None):
    """The right header over rows of random cells, as CSV or as a real workbook."""
    row = st.lists(CELLS, min_size=0, max_size=width or len(header) + 1)
    return st.tuples(st.lists(row, max_size=4), st.booleans()).map(
        lambda t: (_xlsx if t[1] else _csv)([header, *t[0]])
    )


# ---------------------------------------------------------------- parsers


@FUZZ
@given(st.one_of(st.text(max_size=60), mutated([e.encode() for e in EXPRESSIONS])))
def test_expressions_raise_only_expression_errors(text):
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    with contextlib.suppress(expressions.ExpressionError):
        expressions.parse(text)


@FUZZ
@given(st.one_of(st.text(max_size=30), mutated([t.encode() for t in TARGETS])))
def test_targets_raise_only_target_errors(text):
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    with contextlib.suppress(expressions.TargetError):
        expressions.parse_target(text)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=10), st.from_regex(r"\A[0-9]{4}(Q[0-9]|[0-9]{2})?\Z")))
def test_periods_raise_only_period_errors(code):
    try:
        period = periods.parse(code)
    except periods.PeriodError:
        return
    assert period.start <= period.end and period.code == code


# ---------------------------------------------------------------- importers


@pytest.fixture
def fuzz_world(county, alice, bob, dave, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return world.build({"HMC": bob, "DSK": dave})


def _counts(*models) -> list[int]:
    return [m.objects.count() for m in models]


@pytest.mark.parametrize("suffix", ["csv", "json", "xlsx"])
def test_collection_imports(fuzz_world, tmp_path, suffix):
    header = ["orgunit", "period", "element", "value"]
    seeds = {
        "csv": [b"orgunit,period,element,value\n640323100001,202502,total_visits,7\n"],
        "json": [(b'{"dataValues": [{"orgUnit": "640323100001", "period": "202502", '
                 b'"dataElement": "total_visits", "value": "7"}]}')],
        "xlsx": [_xlsx([header, ["640323100001", "202502", "total_visits", 7]])],
    }[suffix]  # fmt: skip

    @FUZZ
    @given(st.one_of(anything(seeds), tables(header)))
    def run(content):
        path = tmp_path / f"values.{suffix}"
        path.write_bytes(content)
        before = _counts(DataValue, AuditEntry)
        result = import_file(path, report=tmp_path / "report.txt")
        if result.errors or not result.written:
            assert _counts(DataValue, AuditEntry) == before

    run()


def test_a_row_of_empty_codes_is_a_clear_error(fuzz_world, tmp_path):
    """Found by the fuzzer: `xinglin import` of this file ends in a traceback."""
    path = tmp_path / "values.csv"
    path.write_bytes(b"orgunit,period,element,value\r,,,0")
    before = _counts(DataValue, AuditEntry)
    result = import_file(path, report=tmp_path / "report.txt")
    assert result.errors and _counts(DataValue, AuditEntry) == before


def test_institution_imports(county, alice):
    seeds = [_csv([["code", "name", "type", "parent"],
                   ["640323100103", "新村卫生室", "village_clinic", "640323100"]])]  # fmt: skip

    @FUZZ
    @given(anything(seeds) | tables(["code", "name", "type", "parent"]), st.booleans())
    def run(content, as_xlsx):
        before = _counts(OrgUnit)
        try:
            rows = read_institution_file("units.xlsx" if as_xlsx else "units.csv", content)
            result = import_institutions(rows)
        except NetworkError:
            assert _counts(OrgUnit) == before
            return
        if result.errors:
            assert _counts(OrgUnit) == before

    run()


ASSESSMENT_HEADER = ["id_number", "institution", "assessed_on",
                     *[f"q{i}" for i in range(1, 34)], "guidance"]  # fmt: skip


def test_assessment_imports(county):
    from xinglin.care.personal_id import make_id_card

    number = make_id_card("640323", date(1950, 1, 1), 7)
    seeds = [_csv([ASSESSMENT_HEADER, [number, "640323100001", "2025-03-01",
                                       *world.BALANCED, "diet"]])]  # fmt: skip

    @FUZZ
    @given(anything(seeds) | tables(ASSESSMENT_HEADER, 8), st.booleans())
    def run(content, as_xlsx):
        before = _counts(Resident, ConstitutionAssessment)
        try:
            rows = read_assessment_file("a.xlsx" if as_xlsx else "a.csv", content)
            result = import_assessments(rows)
        except CareError:
            assert _counts(Resident, ConstitutionAssessment) == before
            return
        if result.errors:
            assert _counts(Resident, ConstitutionAssessment) == before

    run()


def test_constitution_scoring(tmp_path):
    seeds = [_csv([["id", *[f"q{i}" for i in range(1, 34)]], ["p1", *world.BALANCED]])]

    @FUZZ
    @given(anything(seeds))
    def run(content):
        source, out = tmp_path / "in.csv", tmp_path / "out.csv"
        out.unlink(missing_ok=True)
        source.write_bytes(content)
        try:
            score_csv(source, out)
        except ConstitutionInputError:
            assert not out.exists()

    run()


def test_survey_imports(county, alice):
    from xinglin.standards.catalogue import sync_catalogue

    sync_catalogue()
    load_instruments()
    instrument = Instrument.objects.get(code="resident_satisfaction")
    seeds = [template(instrument)]
    header = [c.value for c in next(iter(_sheet(seeds[0])))]

    @FUZZ
    @given(anything(seeds) | tables(header, 6))
    def run(content):
        before = _counts(SurveyResponse)
        rows, problems = read_responses(instrument, "2025", content, alice)
        if problems:
            assert _counts(SurveyResponse) == before
        else:
            store_responses(instrument, "2025", rows, user=alice)

    run()


def _sheet(content: bytes):
    from openpyxl import load_workbook

    return load_workbook(io.BytesIO(content)).worksheets[0].iter_rows()


VISIT_HEADER = ["visit_date", "institution", "department", "patient_id", "diagnoses",
                "tcm_diagnoses", "techniques", "herbal"]  # fmt: skip


def test_visit_imports(county):
    from xinglin.standards.catalogue import sync_catalogue

    sync_catalogue()
    seeds = [_csv([VISIT_HEADER, ["2025-01-04", "640323100001", "中医科", "P1", "", "", "", "0"]])]

    @FUZZ
    @given(anything(seeds) | tables(VISIT_HEADER), st.booleans())
    def run(content, as_xlsx):
        before = _counts(Visit)
        try:
            result = import_visits("his.xlsx" if as_xlsx else "his.csv", content)
        except CareError:
            assert _counts(Visit) == before
            return
        if result.errors:
            assert _counts(Visit) == before

    run()


def test_plan_imports(fuzz_world):
    from xinglin.plans.models import Plan

    plan = Plan.objects.get(pk=fuzz_world["HMC"].ids["plan"])
    seeds = [export_plan(plan, date(2025, 6, 1))]

    def state():
        return (list(Task.objects.order_by("pk").values_list("pk", "status", "deadline", "title_zh")),
                TaskUpdate.objects.count())  # fmt: skip

    @FUZZ
    @given(anything(seeds) | tables(["序号", "任务", "牵头单位", "完成时限", "状态"], 6))
    def run(content):
        before = state()
        result = import_task_sheet(plan, content)
        if result.errors:
            assert state() == before

    run()


def test_the_fuzzer_reaches_the_happy_path(fuzz_world, tmp_path):
    """Seeds are valid files: the importers accept them unmutated (so mutations start from
    something that goes deep)."""
    path = tmp_path / "values.csv"
    path.write_bytes(b"orgunit,period,element,value\n640323100001,202502,total_visits,7\n")
    assert import_file(path).written
    assert datetime.now().year >= 2025
