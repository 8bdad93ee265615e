"""Writes of the survey app: loading instruments, recording and importing responses, and
handing the yearly counts to the evaluation engine."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.contrib.auth.models import User
from django.db import transaction

from xinglin.evaluation.actions import replace_derived_values
from xinglin.network.models import OrgUnit
from xinglin.standards.models import DataElement
from xinglin.surveys.instruments import (
    INSTRUMENT_DIR,
    PACK_DIR,
    InstrumentError,
    check_answers,
    instrument_files,
    read_instrument,
    read_target,
    score,
)
from xinglin.surveys.models import Instrument, SurveyChannel, SurveyResponse
from xinglin.surveys.results import derived_rows

DERIVED_SOURCE = "surveys"


class ResponseError(ValueError):
    """Answers that do not fit the instrument; `errors` maps question ids to messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class LoadResult:
    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rescored: int = 0


def load_instruments(directory: Path = INSTRUMENT_DIR, pack_dir: Path = PACK_DIR) -> LoadResult:
    """Read every instrument file, check it, and create or update its Instrument; responses of
    an instrument whose definition changed are scored again. All files or none."""
    parsed = []
    for path in instrument_files(directory):
        data = read_instrument(path)
        _check_elements(data, path.name)
        target, citation = read_target(data["target"], path.name, pack_dir)
        parsed.append((path, data, target, citation))
    if not parsed:
        raise InstrumentError(f"no instrument files in {directory}")
    result = LoadResult()
    with transaction.atomic():
        for path, data, target, citation in parsed:
            _save_instrument(path, data, target, citation, result)
    return result


def _check_elements(data: dict, where: str) -> None:
    codes = set(data["measures"].values()) | {data.get("sampling", {}).get("population_element")}
    codes.discard(None)
    known = set(DataElement.objects.filter(code__in=codes).values_list("code", flat=True))
    missing = sorted(codes - known)
    if missing:
        raise InstrumentError(f"{where}: unknown data element(s) {', '.join(missing)}")


def _save_instrument(path: Path, data: dict, target: float, citation: str, result: LoadResult):
    fields = {
        "title_zh": data["title"]["zh"],
        "title_en": data["title"].get("en", ""),
        "audience": data["audience"],
        "version": str(data.get("version", "")),
        "definition": data,
        "target": target,
        "target_source": citation,
        "source_file": path.name,
    }
    instrument = Instrument.objects.filter(code=data["code"]).first()
    if instrument is None:
        Instrument.objects.create(code=data["code"], **fields)
        result.created.append(data["code"])
        return
    if all(getattr(instrument, k) == v for k, v in fields.items()):
        result.unchanged.append(data["code"])
        return
    rescore = instrument.definition != data
    for key, value in fields.items():
        setattr(instrument, key, value)
    instrument.save()
    result.changed.append(data["code"])
    if rescore:
        result.rescored += rescore_responses(instrument)


def rescore_responses(instrument: Instrument) -> int:
    """Apply the instrument's current scoring rule to its stored responses again."""
    responses = list(instrument.responses.all())
    for response in responses:
        result = score(instrument.definition, response.answers)
        response.is_positive, response.correct_share = result.is_positive, result.correct_share
    SurveyResponse.objects.bulk_update(responses, ["is_positive", "correct_share"], 2000)
    return len(responses)


def record_response(
    instrument: Instrument,
    orgunit: OrgUnit,
    period: str,
    raw_answers: dict,
    *,
    user: User | None = None,
    channel: str = SurveyChannel.WEB,
    serial: str = "",
    submitted_at: datetime | None = None,
) -> SurveyResponse:
    """Check and store one questionnaire (raises ResponseError). The caller has checked that
    `user` may report for `orgunit`."""
    answers, errors = check_answers(instrument.definition, raw_answers)
    if errors:
        raise ResponseError(errors)
    return SurveyResponse.objects.create(
        **_response_fields(
            instrument, orgunit, period, answers, user, channel, serial, submitted_at
        )
    )


def _response_fields(instrument, orgunit, period, answers, user, channel, serial, submitted_at):
    result = score(instrument.definition, answers)
    return {
        "instrument": instrument,
        "orgunit": orgunit,
        "period": period,
        "answers": answers,
        "is_positive": result.is_positive,
        "correct_share": result.correct_share,
        "interviewer": user,
        "channel": channel,
        "serial": serial,
        "submitted_at": submitted_at,
    }


def store_responses(
    instrument: Instrument,
    period: str,
    rows: Iterable[dict],
    *,
    user: User | None,
    channel: str = SurveyChannel.IMPORT,
) -> int:
    """Store checked rows (each with orgunit, answers, serial, submitted_at) in one
    transaction, scored; `imports.read_responses` does the checking for Excel files."""
    objects = [
        SurveyResponse(
            **_response_fields(
                instrument,
                row["orgunit"],
                period,
                row["answers"],
                user,
                channel,
                row["serial"],
                row["submitted_at"],
            )
        )
        for row in rows
    ]
    with transaction.atomic():
        SurveyResponse.objects.bulk_create(objects, batch_size=2000)
    return len(objects)


def feed_engine(periods: list[str]) -> int:
    """Hand the survey counts of `periods` to the evaluation engine as derived values;
    returns the number of rows handed over."""
    rows = derived_rows(periods)
    replace_derived_values(DERIVED_SOURCE, rows, periods)
    return len(rows)
