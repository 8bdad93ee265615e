"""Instruments as data: read and check the YAML files in `instruments/`, read each target from
its indicator pack, and apply an instrument's scoring rule to one set of answers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

INSTRUMENT_DIR = Path(__file__).parent / "instruments"
PACK_DIR = Path(__file__).resolve().parent.parent / "standards" / "packs"
QUESTION_TYPES = ("single", "multiple", "likert", "knowledge")
AUDIENCES = ("residents", "staff")
RULES = ("choice_in", "share_correct")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_TARGET = re.compile(r"^\s*>=\s*([0-9.]+)\s*%\s*$")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class InstrumentError(ValueError):
    """An instrument file that cannot be used; the message names the file and the place."""


@dataclass(frozen=True)
class Score:
    is_positive: bool
    correct_share: float | None


def read_instrument(path: Path) -> dict:
    """The checked definition of one instrument file (raises InstrumentError)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise InstrumentError(f"{path.name}: not valid YAML: {error}") from error
    if not isinstance(data, dict):
        raise InstrumentError(f"{path.name}: expected a mapping at the top")
    check_definition(data, path.name)
    return data


def check_definition(data: dict, where: str) -> None:
    for key in ("code", "title", "audience", "measures", "target", "scoring", "questions"):
        if key not in data:
            raise InstrumentError(f"{where}: missing `{key}`")
    if data["audience"] not in AUDIENCES:
        raise InstrumentError(f"{where}: audience must be one of {', '.join(AUDIENCES)}")
    for key in ("respondents", "positive"):
        if not data["measures"].get(key):
            raise InstrumentError(f"{where}: measures.{key} names no data element")
    seen: set[str] = set()
    for number, question in enumerate(data["questions"], start=1):
        _check_question(question, f"{where}: question {number}", seen)
    _check_scoring(data, where)


def _check_question(question: dict, where: str, seen: set[str]) -> None:
    qid = question.get("id", "")
    if not isinstance(qid, str) or not _ID.match(qid):
        raise InstrumentError(f"{where}: id `{qid}` must be lower-case letters, digits, _")
    if qid in seen:
        raise InstrumentError(f"{where}: id `{qid}` is used twice")
    seen.add(qid)
    where = f"{where} ({qid})"
    if question.get("type") not in QUESTION_TYPES:
        raise InstrumentError(f"{where}: type must be one of {', '.join(QUESTION_TYPES)}")
    if not isinstance(question.get("text"), dict) or not question["text"].get("zh"):
        raise InstrumentError(f"{where}: text needs at least a `zh` entry")
    options = question.get("options")
    if not options or not all(isinstance(o, str) and o.strip() for o in options):
        raise InstrumentError(f"{where}: options must be a list of texts")
    if len(set(options)) != len(options):
        raise InstrumentError(f"{where}: an option is listed twice")
    if question["type"] == "knowledge":
        correct = question.get("correct")
        answers = correct if isinstance(correct, list) else [correct]
        if not correct or any(a not in options for a in answers):
            raise InstrumentError(f"{where}: correct answer {correct!r} is not an option")
        if isinstance(correct, list) and not question.get("multiple"):
            raise InstrumentError(f"{where}: several correct answers need `multiple: true`")


def _check_scoring(data: dict, where: str) -> None:
    scoring = data["scoring"]
    rule = scoring.get("rule")
    if rule not in RULES:
        raise InstrumentError(f"{where}: scoring.rule must be one of {', '.join(RULES)}")
    if not isinstance(scoring.get("text"), dict) or not scoring["text"].get("zh"):
        raise InstrumentError(f"{where}: scoring.text must say the rule in words (zh, en)")
    questions = {q["id"]: q for q in data["questions"]}
    if rule == "choice_in":
        question = questions.get(scoring.get("question"))
        if question is None:
            raise InstrumentError(f"{where}: scoring names no question `{scoring.get('question')}`")
        unknown = [v for v in scoring.get("values") or [None] if v not in question["options"]]
        if unknown:
            raise InstrumentError(f"{where}: scoring values {unknown} are not options")
    else:
        share = scoring.get("at_least")
        if not isinstance(share, (int, float)) or not 0 < share <= 1:
            raise InstrumentError(f"{where}: scoring.at_least must be a fraction in (0, 1]")
        if not any(q["type"] == "knowledge" for q in data["questions"]):
            raise InstrumentError(f"{where}: share_correct needs knowledge questions")


def read_target(target: dict, where: str, pack_dir: Path = PACK_DIR) -> tuple[float, str]:
    """(target as a proportion, its citation) from the indicator pack the instrument names."""
    pack_path = pack_dir / f"{target.get('pack')}.yaml"
    if not pack_path.exists():
        raise InstrumentError(f"{where}: no indicator pack `{target.get('pack')}`")
    # libyaml's parser: an indicator pack parses in a tenth of the time (the same documents)
    pack = yaml.load(pack_path.read_text(encoding="utf-8"), Loader=_LOADER)
    for indicator in pack.get("indicators", []):
        if indicator.get("id") == target.get("indicator"):
            match = _TARGET.match(str(indicator.get("target", "")))
            if match is None:
                raise InstrumentError(
                    f"{where}: target {indicator.get('target')!r} of {indicator['id']} "
                    "is not of the form '>= N%'"
                )
            citation = f"{pack.get('pack', target['pack'])} {indicator['id']}: " + str(
                indicator.get("source", "")
            )
            return float(match.group(1)) / 100, citation[:300]
    raise InstrumentError(
        f"{where}: pack {target.get('pack')} has no indicator `{target.get('indicator')}`"
    )


def is_correct(question: dict, answer) -> bool:
    correct = question["correct"]
    if isinstance(correct, list):
        return isinstance(answer, list) and sorted(answer) == sorted(correct)
    return answer == correct


def score(definition: dict, answers: dict) -> Score:
    """Apply the instrument's scoring rule to one respondent's answers."""
    scoring = definition["scoring"]
    if scoring["rule"] == "choice_in":
        return Score(answers.get(scoring["question"]) in scoring["values"], None)
    knowledge = [q for q in definition["questions"] if q["type"] == "knowledge"]
    right = sum(1 for q in knowledge if is_correct(q, answers.get(q["id"])))
    share = right / len(knowledge)
    # A small tolerance: 6 of 10 is exactly 60%, whatever the floating point says.
    return Score(share >= scoring["at_least"] - 1e-9, share)


def check_answers(definition: dict, raw: dict) -> tuple[dict, dict[str, str]]:
    """(clean answers, errors by question id) for answers given as option texts; a multiple
    question's answer is a list. Unanswered optional questions are left out."""
    clean, errors = {}, {}
    for question in definition["questions"]:
        value = raw.get(question["id"])
        values = value if isinstance(value, list) else ([] if value in (None, "") else [value])
        if not values:
            if question.get("required", True):
                errors[question["id"]] = "required"
            continue
        unknown = [v for v in values if v not in question["options"]]
        if unknown:
            errors[question["id"]] = f"not an option: {'、'.join(map(str, unknown))}"
        elif is_multiple(question):
            clean[question["id"]] = [o for o in question["options"] if o in values]
        elif len(values) > 1:
            errors[question["id"]] = "only one answer allowed"
        else:
            clean[question["id"]] = values[0]
    return clean, errors


def is_multiple(question: dict) -> bool:
    return question["type"] == "multiple" or bool(question.get("multiple"))


def instrument_files(directory: Path = INSTRUMENT_DIR) -> list[Path]:
    return sorted(directory.glob("*.yaml"))
