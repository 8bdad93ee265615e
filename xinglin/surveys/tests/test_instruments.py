from __future__ import annotations

import shutil

import pytest

from xinglin.surveys.actions import load_instruments, record_response
from xinglin.surveys.instruments import INSTRUMENT_DIR, InstrumentError, score
from xinglin.surveys.models import Instrument, SurveyResponse
from xinglin.surveys.tests.conftest import knowledge_answers, satisfied_answers


def test_load_creates_the_four_instruments_with_targets_from_the_pack(instruments):
    targets = {code: i.target for code, i in instruments.items()}
    assert targets == {
        "resident_satisfaction": 0.9,
        "tcm_knowledge": 0.9,
        "tcm_service_awareness": 0.85,
        "staff_policy_awareness": 0.85,
    }
    assert instruments["tcm_knowledge"].target_source.startswith(
        "demo-county-2022 surveys.tcm_knowledge_awareness: seeds/001"
    )


def test_loading_again_changes_nothing(instruments):
    result = load_instruments()
    assert (result.created, result.changed, len(result.unchanged)) == ([], [], 4)


@pytest.mark.parametrize(
    ("overall", "satisfied"),
    [("满意", True), ("比较满意", True), ("一般", False), ("不太满意", False), ("不满意", False)],
)
def test_satisfied_means_satisfied_or_fairly_satisfied(satisfaction, overall, satisfied):
    assert score(satisfaction.definition, satisfied_answers(overall)).is_positive is satisfied


@pytest.mark.parametrize(("right", "aware"), [(10, True), (6, True), (5, False), (0, False)])
def test_aware_means_at_least_60_percent_right(knowledge, right, aware):
    result = score(knowledge.definition, knowledge_answers(knowledge, right))
    assert (result.is_positive, result.correct_share) == (aware, right / 10)


def test_an_unanswered_knowledge_question_counts_as_wrong(knowledge):
    answers = knowledge_answers(knowledge, 6)
    del answers["k01"]
    assert score(knowledge.definition, answers).is_positive is False


def test_knowledge_questions_have_ten_real_answers(knowledge):
    correct = {q["id"]: q["correct"] for q in knowledge.questions if q["type"] == "knowledge"}
    assert correct["k01"] == "未病先防、既病防变、瘥后防复"
    assert correct["k03"] == "9种"
    assert len(correct) == 10


def _copy_instruments(tmp_path):
    target = tmp_path / "instruments"
    shutil.copytree(INSTRUMENT_DIR, target)
    return target


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "positive: satisfaction_satisfied",
            "positive: satisfied_people",
            "resident_satisfaction.yaml: unknown data element(s) satisfied_people",
        ),
        (
            "correct: 9种",
            "correct: 8种",
            "tcm_knowledge.yaml: question 5 (k03): correct answer '8种' is not an option",
        ),
        (
            "values: [满意, 比较满意]",
            "values: [满意, 很满意]",
            "resident_satisfaction.yaml: scoring values ['很满意'] are not options",
        ),
        (
            "id: age_group",
            "id: gender",
            "resident_satisfaction.yaml: question 2: id `gender` is used twice",
        ),
        (
            "indicator: surveys.satisfaction_rate",
            "indicator: surveys.nope",
            "resident_satisfaction.yaml: pack demo-county-2022 has no indicator `surveys.nope`",
        ),
    ],
)
def test_a_broken_file_loads_nothing_and_names_the_place(instruments, tmp_path, old, new, message):
    directory = _copy_instruments(tmp_path)
    name = "tcm_knowledge.yaml" if "k03" in message else "resident_satisfaction.yaml"
    path = directory / name
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    before = list(Instrument.objects.values_list("code", "definition"))
    with pytest.raises(InstrumentError) as error:
        load_instruments(directory)
    assert str(error.value) == message
    assert list(Instrument.objects.values_list("code", "definition")) == before


def test_changing_the_rule_rescores_stored_responses(satisfaction, tmp_path):
    from xinglin.network.models import OrgUnit

    township = OrgUnit.objects.get(code="640323100")
    record_response(satisfaction, township, "2025", satisfied_answers("比较满意"))
    record_response(satisfaction, township, "2025", satisfied_answers("一般"))
    directory = _copy_instruments(tmp_path)
    path = directory / "resident_satisfaction.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("values: [满意, 比较满意]", "values: [满意]"),
        encoding="utf-8",
    )
    result = load_instruments(directory)
    assert (result.changed, result.rescored) == (["resident_satisfaction"], 2)
    assert list(SurveyResponse.objects.values_list("is_positive", flat=True)) == [False, False]
