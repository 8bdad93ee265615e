"""Constitution assessment (体质辨识) for the 33-item elderly TCM form.

Framework-free (no Django): plain Python for one questionnaire, numpy for many.
Everything that comes from the national form (question texts, anchors, item mapping,
thresholds, flags) lives in ``data/constitution_form.yaml``; this module only applies it.
Source of the rules: /work/shared/reference/public-health-tcm.md §A2–§A4.
"""

from __future__ import annotations

import csv
import math
import numbers
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import yaml

from xinglin.lib import cells

FORM_PATH = Path(__file__).resolve().parent / "data" / "constitution_form.yaml"

N_ITEMS = 33

# DESIGN.md vocabulary, in the order of the output columns.
CONSTITUTIONS: tuple[str, ...] = (
    "balanced",
    "qi_deficiency",
    "yang_deficiency",
    "yin_deficiency",
    "phlegm_dampness",
    "damp_heat",
    "blood_stasis",
    "qi_stagnation",
    "special_diathesis",
)
BIASED: tuple[str, ...] = CONSTITUTIONS[1:]

# Result codes (the form prints 是 / 倾向是 / 基本是 / 否; see FORM["results"]).
YES, LEANING, BASICALLY, NO = "yes", "leaning", "basically", "no"
POSITIVE_RESULTS = frozenset({YES, LEANING, BASICALLY})

ANSWER_COLUMNS: tuple[str, ...] = tuple(f"q{i}" for i in range(1, N_ITEMS + 1))


class ConstitutionInputError(ValueError):
    """A bad cell or header in a questionnaire file; says where (row, line, column)."""

    def __init__(self, message: str, *, row: int | None, line: int, column: str) -> None:
        super().__init__(message)
        self.row = row
        self.line = line
        self.column = column


# ---------------------------------------------------------------------------
# The form data
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Rules:
    """The 体质判定标准表 as loaded from the YAML file (reference §A3)."""

    answer_min: int
    answer_max: int
    biased_items: dict[str, tuple[int, ...]]
    yes_min: int
    leaning_min: int
    balanced_items: tuple[int, ...]
    reverse_items: frozenset[int]
    balanced_min: int
    yes_others_max: int
    basically_others_max: int
    yin_yang_pair: tuple[str, str]


@cache
def load_form() -> dict[str, Any]:
    """The parsed form file, checked once so that a bad edit fails loudly at first use."""
    with FORM_PATH.open(encoding="utf-8") as fh:
        form = yaml.safe_load(fh)
    _check_form(form)
    return form


def _check_form(form: dict[str, Any]) -> None:
    numbers_seen = [q["item"] for q in form["questions"]]
    if numbers_seen != list(range(1, N_ITEMS + 1)):
        raise ValueError(f"{FORM_PATH}: questions must be items 1..{N_ITEMS} in order")
    for q in form["questions"]:
        if len(q.get("anchors", [None] * 5)) != 5:
            raise ValueError(f"{FORM_PATH}: item {q['item']} needs 5 anchors")
    types = form["scoring"]["biased"]["types"]
    if tuple(types) != BIASED:
        raise ValueError(f"{FORM_PATH}: biased types must be {BIASED}, got {tuple(types)}")
    for name, spec in types.items():
        if len(spec["items"]) != 4 or not set(spec["items"]) <= set(numbers_seen):
            raise ValueError(f"{FORM_PATH}: {name} needs 4 items among 1..{N_ITEMS}")


@cache
def rules() -> Rules:
    scoring = load_form()["scoring"]
    biased, balanced = scoring["biased"], scoring["balanced"]
    pair = load_form()["flags"]["yin_yang_both_positive"]["pair"]
    return Rules(
        answer_min=scoring["answer_min"],
        answer_max=scoring["answer_max"],
        biased_items={name: tuple(spec["items"]) for name, spec in biased["types"].items()},
        yes_min=biased["yes_min"],
        leaning_min=biased["leaning_min"],
        balanced_items=tuple(balanced["items"]),
        reverse_items=frozenset(balanced["reverse_items"]),
        balanced_min=balanced["min_score"],
        yes_others_max=balanced["yes_others_max"],
        basically_others_max=balanced["basically_others_max"],
        yin_yang_pair=(pair[0], pair[1]),
    )


def questions() -> list[dict[str, Any]]:
    """The 33 questions: ``item``, ``text`` (zh, verbatim) and, for 9/14/17/28, ``anchors``."""
    return load_form()["questions"]


def answer_labels(item: int) -> list[str]:
    """The five anchors of an item: its special anchors, else 没有/很少/有时/经常/总是."""
    question = questions()[item - 1]
    return question.get("anchors") or [s["label"] for s in load_form()["scale"]]


# ---------------------------------------------------------------------------
# Measured answers: items 9 (BMI) and 28 (waist)
# ---------------------------------------------------------------------------


def _band_answer(value: float, bands: list[dict[str, Any]]) -> int:
    for band in bands:
        if "lt" in band and value < band["lt"]:
            return band["answer"]
        if "le" in band and value <= band["le"]:
            return band["answer"]
        if "lt" not in band and "le" not in band:
            return band["answer"]
    raise ValueError(f"no band for {value}")  # the YAML's last band is open, so unreachable


def _positive_number(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        # ValueError, not TypeError: one error type for every unusable measurement.
        raise ValueError(f"{name} must be a number, got {value!r}")  # noqa: TRY004
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def answer_from_bmi(height_cm: float, weight_kg: float) -> int:
    """Answer to item 9 from height and weight (BMI = kg / m²; reference §A2 item 9)."""
    height_m = _positive_number("height_cm", height_cm) / 100
    bmi = _positive_number("weight_kg", weight_kg) / (height_m * height_m)
    return _band_answer(bmi, load_form()["measured_answers"]["bmi"]["bands"])


def answer_from_waist(waist_cm: float, sex: str | None = None) -> int:
    """Answer to item 28 from the waist circumference in cm (reference §A2 item 28).

    The form gives one set of bands for both sexes; ``sex`` is checked but does not change
    the answer, so callers may pass it now and keep working if a province splits the bands.
    """
    spec = load_form()["measured_answers"]["waist"]
    if sex is not None and sex not in spec["sexes"]:
        raise ValueError(f"sex must be one of {spec['sexes']} or None, got {sex!r}")
    return _band_answer(_positive_number("waist_cm", waist_cm), spec["bands"])


# ---------------------------------------------------------------------------
# One questionnaire
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ConstitutionResult:
    scores: dict[str, int]  # code name -> score (biased 4..20, balanced 5..25)
    results: dict[str, str]  # code name -> yes / leaning / basically / no
    positive_types: tuple[str, ...]  # results yes, leaning or basically, in CONSTITUTIONS order
    main_types: tuple[str, ...]  # highest score; several on a tie (a physician decides)
    flags: tuple[str, ...]  # codes from the form's flags section, for re-checking


def _checked_answers(answers: Sequence[int]) -> list[int]:
    r = rules()
    if len(answers) > N_ITEMS:
        raise ValueError(f"expected {N_ITEMS} answers, got {len(answers)}")
    checked = []
    for item in range(1, N_ITEMS + 1):
        value = answers[item - 1] if item <= len(answers) else None
        if value is None:
            raise ValueError(f"item {item} (q{item}): answer is missing")
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            # ValueError, not TypeError: one error type for every unusable answer.
            message = f"item {item} (q{item}): answer {value!r} is not an integer"
            raise ValueError(message)  # noqa: TRY004
        if not r.answer_min <= value <= r.answer_max:
            raise ValueError(
                f"item {item} (q{item}): answer {value} is outside {r.answer_min}–{r.answer_max}"
            )
        checked.append(int(value))
    return checked


def _biased_result(total: int, r: Rules) -> str:
    # reference §A3: ≥11 是, 9～10 倾向是, ≤8 否
    if total >= r.yes_min:
        return YES
    return LEANING if total >= r.leaning_min else NO


def _balanced_score(a: list[int], r: Rules) -> int:
    # reference §A3: (2)(4)(5)(13) reverse-scored, 1→5 … 5→1
    flip = r.answer_min + r.answer_max
    return sum(flip - a[i - 1] if i in r.reverse_items else a[i - 1] for i in r.balanced_items)


def _balanced_result(total: int, others_max: int, r: Rules) -> str:
    # reference §A3: ≥17 and all others ≤8 是; ≥17 and all others ≤10 基本是; else 否
    if total >= r.balanced_min and others_max <= r.yes_others_max:
        return YES
    if total >= r.balanced_min and others_max <= r.basically_others_max:
        return BASICALLY
    return NO


def _main_types(scores: dict[str, int], positive: tuple[str, ...]) -> tuple[str, ...]:
    # 填表说明 2(2): the highest score is the main constitution. Only biased types are compared:
    # the balanced score sums 5 items (5..25) against 4 (4..20), so the figures are not
    # comparable, and 基本是 beside a 倾向是 means the leaning is what needs guidance.
    biased = [name for name in positive if name != "balanced"]
    if not biased:
        return tuple(name for name in positive if name == "balanced")
    top = max(scores[name] for name in biased)
    return tuple(name for name in biased if scores[name] == top)


def _flags(results: dict[str, str], main: tuple[str, ...], r: Rules) -> tuple[str, ...]:
    flags = []
    if len(main) > 1:
        flags.append("main_type_tie")  # 填表说明 2(3)
    if all(results[name] in POSITIVE_RESULTS for name in r.yin_yang_pair):
        flags.append("yin_yang_both_positive")  # 填表说明 2(4)
    if not any(result in POSITIVE_RESULTS for result in results.values()):
        flags.append("no_type")  # 填表说明 2(5)
    return tuple(flags)


def score(answers: Sequence[int]) -> ConstitutionResult:
    """Score one questionnaire: ``answers[0]`` is item 1 … ``answers[32]`` is item 33."""
    r = rules()
    a = _checked_answers(answers)
    biased = {name: sum(a[i - 1] for i in r.biased_items[name]) for name in BIASED}
    balanced = _balanced_score(a, r)
    scores = {"balanced": balanced, **biased}
    results = {"balanced": _balanced_result(balanced, max(biased.values()), r)}
    results.update({name: _biased_result(total, r) for name, total in biased.items()})
    positive = tuple(name for name in CONSTITUTIONS if results[name] in POSITIVE_RESULTS)
    main = _main_types(scores, positive)
    return ConstitutionResult(scores, results, positive, main, _flags(results, main, r))


# ---------------------------------------------------------------------------
# Many questionnaires (vectorised)
# ---------------------------------------------------------------------------


@cache
def _weights() -> tuple[np.ndarray, np.ndarray]:
    """Score = answers @ W + offset, one column per constitution in CONSTITUTIONS order.

    A reversed answer (flip - a) is -a plus a constant, so the balanced column holds -1 for
    the reversed items and the offset collects the constants (reference §A3).
    """
    r = rules()
    weights = np.zeros((N_ITEMS, len(CONSTITUTIONS)), dtype=np.float32)
    offset = np.zeros(len(CONSTITUTIONS), dtype=np.int64)
    for item in r.balanced_items:
        weights[item - 1, 0] = -1 if item in r.reverse_items else 1
    offset[0] = (r.answer_min + r.answer_max) * len(r.reverse_items)
    for col, name in enumerate(BIASED, start=1):
        weights[[i - 1 for i in r.biased_items[name]], col] = 1
    return weights, offset


def _check_matrix(answers: np.ndarray) -> None:
    r = rules()
    if answers.ndim != 2 or answers.shape[1] != N_ITEMS:
        raise ValueError(f"answers must have shape (n, {N_ITEMS}), got {answers.shape}")
    if not np.issubdtype(answers.dtype, np.integer):
        raise ValueError(f"answers must be an integer array, got dtype {answers.dtype}")
    bad = (answers < r.answer_min) | (answers > r.answer_max)
    if bad.any():
        row, col = np.unravel_index(np.argmax(bad), bad.shape)
        raise ValueError(
            f"row {row + 1}, item {col + 1} (q{col + 1}): answer {answers[row, col]} "
            f"is outside {r.answer_min}–{r.answer_max}"
        )


def score_matrix(answers: np.ndarray) -> dict[str, np.ndarray]:
    """Score n questionnaires at once (n×33 integers) with the same rules as ``score``.

    Returns ``<name>_score`` (int64) and ``<name>_result`` (str) arrays for each name in
    CONSTITUTIONS. Raises ValueError naming the first bad row and item.
    """
    answers = np.asarray(answers)
    _check_matrix(answers)
    r = rules()
    weights, offset = _weights()
    # float32 matmul runs on BLAS; every partial sum is a small integer (|x| ≤ 165), so exact.
    scores = (answers.astype(np.float32) @ weights).astype(np.int64) + offset
    biased = scores[:, 1:]
    # 0 = no, 1 = leaning, 2 = yes  (reference §A3: ≤8 否, 9～10 倾向是, ≥11 是)
    biased_level = (biased >= r.leaning_min).astype(np.int8) + (biased >= r.yes_min)
    others_max = biased.max(axis=1)
    enough = scores[:, 0] >= r.balanced_min
    # 0 = no, 1 = basically, 2 = yes  (reference §A3: balanced rows)
    balanced_level = (enough & (others_max <= r.basically_others_max)).astype(np.int8) + (
        enough & (others_max <= r.yes_others_max)
    )
    out: dict[str, np.ndarray] = {"balanced_score": scores[:, 0]}
    out["balanced_result"] = np.array([NO, BASICALLY, YES])[balanced_level]
    biased_labels = np.array([NO, LEANING, YES])
    for col, name in enumerate(BIASED):
        out[f"{name}_score"] = biased[:, col]
        out[f"{name}_result"] = biased_labels[biased_level[:, col]]
    return {key: out[key] for key in _output_columns()}


def _output_columns() -> list[str]:
    return [f"{name}_{part}" for name in CONSTITUTIONS for part in ("score", "result")]


# ---------------------------------------------------------------------------
# CSV files
# ---------------------------------------------------------------------------


def _single_digit_answers(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(valid mask, values) for a '<U' cell array; valid = exactly one digit in range.

    Reads the UCS-4 code points directly: parsing 33 strings a row with astype(int) is
    about ten times slower, and every valid answer is a single character anyway.
    """
    r = rules()
    cells = np.ascontiguousarray(cells, dtype=np.str_)
    if cells.dtype.itemsize == 0:  # every cell empty
        return np.zeros(cells.shape, dtype=bool), np.zeros(cells.shape, dtype=np.int8)
    width = cells.dtype.itemsize // 4
    points = cells.view(np.uint32).reshape(*cells.shape, width)
    values = points[..., 0].astype(np.int64) - ord("0")
    valid = (values >= r.answer_min) & (values <= r.answer_max)
    if width > 1:
        valid &= ~points[..., 1:].any(axis=-1)  # "12" or "3.0" are not single digits
    return valid, np.where(valid, values, 0).astype(np.int8)


def _read_csv(in_path: str | os.PathLike[str]) -> tuple[list[str], list[list[str]], list[int]]:
    try:
        return _read_csv_rows(in_path)
    except UnicodeDecodeError as error:
        # Found by fuzzing (issue 11): a GBK or binary file is a clear input error.
        raise ConstitutionInputError(
            f"{in_path}: line 1, column id: not UTF-8 text (byte {error.start}); save the file "
            "as CSV UTF-8",
            row=None,
            line=1,
            column="id",
        ) from error


def _read_csv_rows(in_path: str | os.PathLike[str]) -> tuple[list[str], list[list[str]], list[int]]:
    # utf-8-sig drops a BOM when there is one (files saved by Excel carry it).
    with open(in_path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise ConstitutionInputError(
                f"{in_path}: line 1, column id: the file is empty", row=None, line=1, column="id"
            )
        rows: list[list[str]] = []
        lines: list[int] = []
        for row in reader:
            if row:  # a blank line carries no questionnaire
                rows.append(row)
                lines.append(reader.line_num)
    return [name.strip() for name in header], rows, lines


def _column_index(header: list[str], in_path: str | os.PathLike[str]) -> list[int]:
    index = []
    for column in ("id", *ANSWER_COLUMNS):
        if header.count(column) != 1:
            problem = "is missing" if column not in header else "appears more than once"
            raise ConstitutionInputError(
                f"{in_path}: header (line 1), column {column}: the column {problem}",
                row=None,
                line=1,
                column=column,
            )
        index.append(header.index(column))
    return index


def _cell_problem(cell: str) -> str:
    text = cell.strip()
    if not text:
        return "the answer is missing (empty cell)"
    try:
        value = int(text) if text.isascii() else None  # int() also reads "２" and "٣"
    except ValueError:
        value = None
    if value is None:
        return f"{cell!r} is not an integer answer"
    return f"{value} is outside {rules().answer_min}–{rules().answer_max}"


def _fail(in_path: Any, row: int, lines: list[int], column: str, problem: str) -> NoReturn:
    raise ConstitutionInputError(
        f"{in_path}: row {row + 1} (line {lines[row]}), column {column}: {problem}",
        row=row + 1,
        line=lines[row],
        column=column,
    )


def _check_lengths(
    header: list[str], rows: list[list[str]], lines: list[int], in_path: Any
) -> None:
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    short = np.flatnonzero(lengths < len(header))
    long = np.flatnonzero(lengths > len(header))
    if short.size and (not long.size or short[0] < long[0]):
        row = int(short[0])
        missing = header[lengths[row]]
        _fail(in_path, row, lines, missing, f"the cell is missing ({lengths[row]} cells)")
    if long.size:
        row = int(long[0])
        extra = f"#{len(header) + 1} (no header)"
        _fail(in_path, row, lines, extra, f"{lengths[row]} cells, header has {len(header)}")


def _parse_answers(cells: np.ndarray, lines: list[int], in_path: Any) -> np.ndarray:
    valid, values = _single_digit_answers(cells)
    if not valid.all():
        cells = np.char.strip(cells)  # tolerate padding such as " 3" before judging
        valid, values = _single_digit_answers(cells)
    if not valid.all():
        row, col = np.unravel_index(np.argmin(valid), valid.shape)
        _fail(in_path, int(row), lines, ANSWER_COLUMNS[col], _cell_problem(cells[row, col]))
    return values


def load_answers_csv(in_path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read ``id,q1,…,q33`` (any column order, extra columns ignored); return ids, answers."""
    header, rows, lines = _read_csv(in_path)
    index = _column_index(header, in_path)
    _check_lengths(header, rows, lines, in_path)
    if not rows:
        return np.array([], dtype=str), np.zeros((0, N_ITEMS), dtype=np.int8)
    table = np.array(rows, dtype=str)
    ids = np.char.strip(table[:, index[0]])
    empty = np.char.str_len(ids) == 0
    if empty.any():
        _fail(in_path, int(np.argmax(empty)), lines, "id", "the id is empty")
    return ids, _parse_answers(table[:, index[1:]], lines, in_path)


def _write_atomically(out_path: str | os.PathLike[str], header: list[str], columns: list) -> None:
    # Write beside the target and rename, so a failure never leaves a partial output file.
    target = Path(out_path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            writer = cells.writer(fh, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(zip(*columns, strict=True))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def score_csv(in_path: str | os.PathLike[str], out_path: str | os.PathLike[str]) -> int:
    """Score a questionnaire file and write ``id`` plus score/result per constitution.

    Raises ConstitutionInputError (row, line and column in the message) on any bad cell and
    then writes nothing. Returns the number of questionnaires written.
    """
    ids, answers = load_answers_csv(in_path)
    scored = score_matrix(answers)
    names = list(scored)
    columns = [ids.tolist()] + [scored[name].tolist() for name in names]
    _write_atomically(out_path, ["id", *names], columns)
    return len(ids)
