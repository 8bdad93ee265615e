"""Tests for xinglin.care.constitution (plain pytest, no Django).

Expected values are written out by hand from the 体质判定标准表
(reference/public-health-tcm.md §A3) in this file; they never come from the code under test.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from xinglin.care import constitution as c

# reference §A3, copied by hand so that a wrong YAML mapping is caught.
BIASED_ITEMS = {
    "qi_deficiency": (2, 3, 4, 14),
    "yang_deficiency": (11, 12, 13, 29),
    "yin_deficiency": (10, 21, 26, 31),
    "phlegm_dampness": (9, 16, 28, 32),
    "damp_heat": (23, 25, 27, 30),
    "blood_stasis": (19, 22, 24, 33),
    "qi_stagnation": (5, 6, 7, 8),
    "special_diathesis": (15, 17, 18, 20),
}
ORDER = ["balanced", *BIASED_ITEMS]


def answers(**items: int) -> list[int]:
    """33 answers, all 1 except those given as q<N>=value."""
    row = [1] * 33
    for key, value in items.items():
        row[int(key[1:]) - 1] = value
    return row


def spread(items: tuple[int, ...], total: int) -> dict[str, int]:
    """Answers for four items adding up to total (4..20), filled from the first item."""
    out, left = {}, total - len(items)
    for item in items:
        extra = min(4, left)
        out[f"q{item}"] = 1 + extra
        left -= extra
    return out


def naive_score(row: list[int]) -> tuple[dict[str, int], dict[str, str]]:
    """An independent, literal reading of §A3, used to check the YAML-driven code."""
    scores = {name: sum(row[i - 1] for i in items) for name, items in BIASED_ITEMS.items()}
    balanced = row[0] + sum(6 - row[i - 1] for i in (2, 4, 5, 13))
    results = {n: "yes" if s >= 11 else "leaning" if s >= 9 else "no" for n, s in scores.items()}
    top = max(scores.values())
    results["balanced"] = (
        "yes"
        if balanced >= 17 and top <= 8
        else "basically"
        if balanced >= 17 and top <= 10
        else "no"
    )
    return {"balanced": balanced, **scores}, results


# --- the form data -----------------------------------------------------------------------


def test_form_has_33_questions_and_special_anchors() -> None:
    qs = c.questions()
    assert [q["item"] for q in qs] == list(range(1, 34))
    assert qs[0]["text"] == "您精力充沛吗？（指精神头足，乐于做事）"
    assert qs[32]["text"] == "您舌下静脉瘀紫或增粗吗？（可由调查员辅助观察后填写）"
    assert c.answer_labels(1) == ["没有", "很少", "有时", "经常", "总是"]
    assert c.answer_labels(9)[0] == "BMI＜24" and c.answer_labels(9)[4] == "BMI≥28"
    assert c.answer_labels(14)[4] == "几乎每月"
    assert c.answer_labels(17)[0] == "从来没有"
    assert c.answer_labels(28)[0].startswith("腹围＜80cm")
    assert {n for n, q in enumerate(qs, 1) if "anchors" in q} == {9, 14, 17, 28}


def test_constitution_order() -> None:
    assert tuple(ORDER) == c.CONSTITUTIONS


def test_yaml_item_mapping_matches_reference() -> None:
    r = c.rules()
    assert r.biased_items == BIASED_ITEMS
    assert r.balanced_items == (1, 2, 4, 5, 13)
    assert r.reverse_items == {2, 4, 5, 13}


# --- biased boundaries -------------------------------------------------------------------


@pytest.mark.parametrize("name", list(BIASED_ITEMS))
@pytest.mark.parametrize(
    ("total", "expected"),
    [(4, "no"), (8, "no"), (9, "leaning"), (10, "leaning"), (11, "yes"), (20, "yes")],
)
def test_biased_boundaries(name: str, total: int, expected: str) -> None:
    result = c.score(answers(**spread(BIASED_ITEMS[name], total)))
    assert result.scores[name] == total
    assert result.results[name] == expected


# --- balanced boundaries -----------------------------------------------------------------

# q1=1 and q2,q4,q5,q13 = 2 reverse to 4 each: 1 + 4*4 = 17; the biased sums it touches:
# qi_deficiency 2+1+2+1 = 6, qi_stagnation 2+1+1+1 = 5, yang_deficiency 1+1+2+1 = 5 (all ≤ 8).
BALANCED_17 = {"q1": 1, "q2": 2, "q4": 2, "q5": 2, "q13": 2}
# q2=3 reverses to 3: 1 + 3 + 4 + 4 + 4 = 16; qi_deficiency 3+1+2+1 = 7.
BALANCED_16 = {"q1": 1, "q2": 3, "q4": 2, "q5": 2, "q13": 2}


@pytest.mark.parametrize(
    ("base", "balanced_score", "damp_heat", "expected_balanced", "expected_damp_heat"),
    [
        (BALANCED_17, 17, 8, "yes", "no"),
        (BALANCED_17, 17, 9, "basically", "leaning"),
        (BALANCED_17, 17, 10, "basically", "leaning"),
        (BALANCED_17, 17, 11, "no", "yes"),
        (BALANCED_16, 16, 8, "no", "no"),
        (BALANCED_16, 16, 9, "no", "leaning"),
        (BALANCED_16, 16, 10, "no", "leaning"),
        (BALANCED_16, 16, 11, "no", "yes"),
    ],
)
def test_balanced_boundaries(
    base: dict[str, int],
    balanced_score: int,
    damp_heat: int,
    expected_balanced: str,
    expected_damp_heat: str,
) -> None:
    result = c.score(answers(**base, **spread(BIASED_ITEMS["damp_heat"], damp_heat)))
    assert result.scores["balanced"] == balanced_score
    assert result.scores["damp_heat"] == damp_heat
    assert result.results["balanced"] == expected_balanced
    assert result.results["damp_heat"] == expected_damp_heat


def test_balanced_maximum_and_all_ones() -> None:
    # All answers 1: q1 = 1, four reversed items 5 each: 21; every biased sum is 4.
    result = c.score([1] * 33)
    assert result.scores == {"balanced": 21, **dict.fromkeys(BIASED_ITEMS, 4)}
    assert result.results["balanced"] == "yes"
    assert result.main_types == ("balanced",) and result.flags == ()


# --- reverse scoring ---------------------------------------------------------------------


@pytest.mark.parametrize(("answer", "reversed_"), [(1, 5), (2, 4), (3, 3), (4, 2), (5, 1)])
@pytest.mark.parametrize("item", [2, 4, 5, 13])
def test_reverse_scoring(item: int, answer: int, reversed_: int) -> None:
    # Everything else 1: q1 = 1 plus three other reversed items at 5 each = 16.
    result = c.score(answers(**{f"q{item}": answer}))
    assert result.scores["balanced"] == 16 + reversed_


def test_item_1_is_not_reversed() -> None:
    assert c.score(answers(q1=5)).scores["balanced"] == 5 + 20


def test_mixed_reverse_case_by_hand() -> None:
    # q1 3; q2 5→1; q4 4→2; q5 3→3; q13 1→5: 3+1+2+3+5 = 14
    result = c.score(answers(q1=3, q2=5, q4=4, q5=3, q13=1))
    assert result.scores["balanced"] == 14
    assert result.scores["qi_deficiency"] == 5 + 1 + 4 + 1
    assert result.results["qi_deficiency"] == "yes"  # 11 ≥ 11


# --- positive types, main types and flags ------------------------------------------------


def test_yin_yang_both_positive_flag() -> None:
    row = answers(
        **spread(BIASED_ITEMS["yin_deficiency"], 9),
        **spread(BIASED_ITEMS["yang_deficiency"], 12),
    )
    result = c.score(row)
    assert result.results["yin_deficiency"] == "leaning"
    assert result.results["yang_deficiency"] == "yes"
    assert "yin_yang_both_positive" in result.flags
    assert result.main_types == ("yang_deficiency",)


def test_only_yin_positive_is_not_flagged() -> None:
    result = c.score(answers(**spread(BIASED_ITEMS["yin_deficiency"], 11)))
    assert "yin_yang_both_positive" not in result.flags


def test_no_type_flag() -> None:
    result = c.score(answers(**BALANCED_16))  # balanced 16, every biased ≤ 8
    assert result.positive_types == ()
    assert result.main_types == ()
    assert result.flags == ("no_type",)


def test_main_type_tie_flag() -> None:
    row = answers(
        **spread(BIASED_ITEMS["damp_heat"], 12), **spread(BIASED_ITEMS["blood_stasis"], 12)
    )
    result = c.score(row)
    assert result.positive_types == ("damp_heat", "blood_stasis")
    assert result.main_types == ("damp_heat", "blood_stasis")
    assert result.flags == ("main_type_tie",)


def test_highest_score_is_main_type() -> None:
    row = answers(
        **spread(BIASED_ITEMS["damp_heat"], 13), **spread(BIASED_ITEMS["blood_stasis"], 9)
    )
    result = c.score(row)
    assert result.positive_types == ("damp_heat", "blood_stasis")
    assert result.main_types == ("damp_heat",)
    assert result.flags == ()


def test_basically_balanced_with_a_leaning_guides_the_leaning() -> None:
    result = c.score(answers(**BALANCED_17, **spread(BIASED_ITEMS["damp_heat"], 10)))
    assert result.positive_types == ("balanced", "damp_heat")
    assert result.main_types == ("damp_heat",)


# --- invalid answers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        (answers(q14=0), "item 14"),
        (answers(q1=6), "item 1 "),
        ([1] * 32, "item 33"),
        (answers()[:4] + [None] + answers()[5:], "item 5 "),
        (answers()[:6] + ["a"] + answers()[7:], "item 7 "),
        (answers()[:8] + [2.5] + answers()[9:], "item 9 "),
        (answers()[:9] + [True] + answers()[10:], "item 10 "),
    ],
)
def test_score_rejects_bad_answers(row: list, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        c.score(row)


def test_score_rejects_too_many_answers() -> None:
    with pytest.raises(ValueError, match="34"):
        c.score([1] * 34)


# --- measured answers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("height", "weight", "expected"),
    [
        (100, 23.99, 1),  # BMI 23.99
        (100, 24, 2),  # BMI 24.00: 24≤BMI＜25
        (100, 24.99, 2),
        (100, 25, 3),
        (100, 26, 4),
        (100, 27.99, 4),
        (100, 28, 5),
        (160, 60, 1),  # 60 / 1.6² = 23.44
        (170, 80, 4),  # 80 / 1.7² = 27.68
        (165, 90, 5),  # 90 / 1.65² = 33.06
    ],
)
def test_answer_from_bmi(height: float, weight: float, expected: int) -> None:
    assert c.answer_from_bmi(height, weight) == expected


@pytest.mark.parametrize(("height", "weight"), [(0, 60), (-170, 60), (170, 0), (float("nan"), 60)])
def test_answer_from_bmi_rejects_nonsense(height: float, weight: float) -> None:
    with pytest.raises(ValueError):
        c.answer_from_bmi(height, weight)


@pytest.mark.parametrize(
    ("waist", "expected"),
    [
        (60, 1),
        (79.9, 1),
        (80, 2),
        (85, 2),
        (85.5, 3),
        (86, 3),
        (90, 3),
        (91, 4),
        (105, 4),
        (105.1, 5),
        (120, 5),
    ],
)
@pytest.mark.parametrize("sex", ["male", "female", None])
def test_answer_from_waist(waist: float, expected: int, sex: str | None) -> None:
    # reference §A2 item 28 gives one set of bands for both sexes.
    assert c.answer_from_waist(waist, sex) == expected


def test_answer_from_waist_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="sex"):
        c.answer_from_waist(90, "x")
    with pytest.raises(ValueError):
        c.answer_from_waist(-1, "male")


# --- score_matrix ------------------------------------------------------------------------


def random_rows(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    uniform = rng.integers(1, 6, size=(n, 33))
    # Mostly-low answers as well, so that balanced yes / basically occur often enough.
    low = rng.choice([1, 2, 3, 4, 5], size=(n, 33), p=[0.55, 0.3, 0.1, 0.04, 0.01])
    return np.vstack([uniform, low])


def test_score_matrix_agrees_with_score_and_with_the_table() -> None:
    rows = random_rows(1500, seed=20240601)  # 3,000 rows
    out = c.score_matrix(rows)
    assert list(out) == [f"{n}_{p}" for n in ORDER for p in ("score", "result")]
    seen = set()
    for k, row in enumerate(rows.tolist()):
        one = c.score(row)
        hand_scores, hand_results = naive_score(row)
        assert one.scores == hand_scores and one.results == hand_results
        for name in ORDER:
            assert out[f"{name}_score"][k] == one.scores[name]
            assert out[f"{name}_result"][k] == one.results[name]
            seen.add((name == "balanced", one.results[name]))
    # Every result value was exercised on both sides.
    assert seen >= {
        (True, "yes"),
        (True, "basically"),
        (True, "no"),
        (False, "yes"),
        (False, "leaning"),
        (False, "no"),
    }


def test_score_matrix_boundary_rows_by_hand() -> None:
    rows = np.array(
        [
            answers(**BALANCED_17),
            answers(**BALANCED_17, **spread(BIASED_ITEMS["damp_heat"], 9)),
            answers(**BALANCED_17, **spread(BIASED_ITEMS["damp_heat"], 11)),
        ],
        dtype=np.int8,
    )
    out = c.score_matrix(rows)
    assert out["balanced_score"].tolist() == [17, 17, 17]
    assert out["balanced_result"].tolist() == ["yes", "basically", "no"]
    assert out["damp_heat_score"].tolist() == [4, 9, 11]
    assert out["damp_heat_result"].tolist() == ["no", "leaning", "yes"]


def test_score_matrix_empty() -> None:
    out = c.score_matrix(np.zeros((0, 33), dtype=np.int64))
    assert all(len(v) == 0 for v in out.values())


def test_score_matrix_rejects_bad_input() -> None:
    rows = np.ones((3, 33), dtype=np.int64)
    rows[1, 13] = 6
    with pytest.raises(ValueError, match=r"row 2, item 14"):
        c.score_matrix(rows)
    with pytest.raises(ValueError, match="integer"):
        c.score_matrix(np.ones((2, 33)))
    with pytest.raises(ValueError, match="shape"):
        c.score_matrix(np.ones((2, 32), dtype=int))


# --- score_csv ---------------------------------------------------------------------------

HEADER = ["id", *[f"q{i}" for i in range(1, 34)]]


def write_csv(path: Path, rows: list[list], *, header=HEADER, bom: bool = False) -> Path:
    with path.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


EXPECTED_HEADER = ["id"] + [f"{n}_{p}" for n in ORDER for p in ("score", "result")]


@pytest.mark.parametrize("bom", [False, True])
def test_score_csv_happy_path(tmp_path: Path, bom: bool) -> None:
    src = write_csv(
        tmp_path / "in.csv",
        [
            ["A001", *[1] * 33],  # balanced 21 yes; biased 4 no
            ["A002", *[3] * 33],  # balanced 3 + 4*3 = 15 no; biased 12 yes
            ["A003", *answers(**BALANCED_17, **spread(BIASED_ITEMS["damp_heat"], 9))],
        ],
        bom=bom,
    )
    out = tmp_path / "out.csv"
    assert c.score_csv(src, out) == 3
    table = read_csv(out)
    assert table[0] == EXPECTED_HEADER
    assert table[1] == ["A001", "21", "yes"] + ["4", "no"] * 8
    assert table[2] == ["A002", "15", "no"] + ["12", "yes"] * 8
    # A003: qi_deficiency 2+1+2+1 = 6, yang 5, yin 4, phlegm 4, damp_heat 9, blood 4,
    # qi_stagnation 5, special 4.
    assert table[3] == [
        "A003",
        "17",
        "basically",
        "6",
        "no",
        "5",
        "no",
        "4",
        "no",
        "4",
        "no",
        "9",
        "leaning",
        "4",
        "no",
        "5",
        "no",
        "4",
        "no",
    ]


def test_score_csv_any_column_order_and_extra_columns(tmp_path: Path) -> None:
    header = ["name", *reversed(HEADER)]
    row = ["张三", *reversed(["B1", *[1] * 33])]
    src = write_csv(tmp_path / "in.csv", [row], header=header)
    out = tmp_path / "out.csv"
    c.score_csv(src, out)
    assert read_csv(out)[1] == ["B1", "21", "yes"] + ["4", "no"] * 8


def good_rows() -> list[list]:
    return [[f"R{k}", *[2] * 33] for k in range(1, 4)]


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        ("0", "outside"),
        ("6", "outside"),
        ("a", "not an integer"),
        ("", "missing"),
        ("2.0", "not an integer"),
        ("２", "not an integer"),
        ("-1", "outside"),
    ],
)
def test_score_csv_bad_cell(tmp_path: Path, cell: str, problem: str) -> None:
    rows = good_rows()
    rows[1][14] = cell  # data row 2, column q14, file line 3
    src = write_csv(tmp_path / "in.csv", rows)
    out = tmp_path / "out.csv"
    with pytest.raises(c.ConstitutionInputError) as info:
        c.score_csv(src, out)
    message = str(info.value)
    assert "row 2" in message and "line 3" in message and "column q14" in message
    assert problem in message
    assert (info.value.row, info.value.line, info.value.column) == (2, 3, "q14")
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]  # no temp file left


def test_score_csv_missing_column(tmp_path: Path) -> None:
    header = [h for h in HEADER if h != "q20"]
    rows = [r[:20] + r[21:] for r in good_rows()]
    src = write_csv(tmp_path / "in.csv", rows, header=header)
    out = tmp_path / "out.csv"
    with pytest.raises(c.ConstitutionInputError) as info:
        c.score_csv(src, out)
    assert "line 1" in str(info.value) and "column q20" in str(info.value)
    assert "missing" in str(info.value)
    assert not out.exists()


def test_score_csv_short_row(tmp_path: Path) -> None:
    rows = good_rows()
    rows[2] = rows[2][:-1]  # data row 3 lacks q33
    src = write_csv(tmp_path / "in.csv", rows)
    out = tmp_path / "out.csv"
    with pytest.raises(c.ConstitutionInputError) as info:
        c.score_csv(src, out)
    assert "row 3" in str(info.value) and "line 4" in str(info.value)
    assert "column q33" in str(info.value)
    assert not out.exists()


def test_score_csv_long_row(tmp_path: Path) -> None:
    rows = good_rows()
    rows[0] = [*rows[0], "2"]  # data row 1 has a 35th cell
    src = write_csv(tmp_path / "in.csv", rows)
    with pytest.raises(c.ConstitutionInputError, match=r"row 1 \(line 2\), column #35"):
        c.score_csv(src, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_score_csv_padding_and_blank_lines(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    body = ",".join(HEADER) + "\n" + "C1," + ",".join([" 1"] * 33) + "\n\n"
    src.write_text(body + "C2," + ",".join(["3"] * 32 + [""]) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    # The blank line 3 is skipped: C2 is data row 2 on file line 4.
    with pytest.raises(c.ConstitutionInputError, match=r"row 2 \(line 4\), column q33"):
        c.score_csv(src, out)
    src.write_text(body, encoding="utf-8")
    c.score_csv(src, out)
    assert read_csv(out)[1] == ["C1", "21", "yes"] + ["4", "no"] * 8


def test_score_csv_bad_input_keeps_an_existing_output(tmp_path: Path) -> None:
    rows = good_rows()
    rows[0][1] = "9"
    src = write_csv(tmp_path / "in.csv", rows)
    out = tmp_path / "out.csv"
    out.write_text("previous\n", encoding="utf-8")
    with pytest.raises(c.ConstitutionInputError, match="row 1 .*column q1:"):
        c.score_csv(src, out)
    assert out.read_text(encoding="utf-8") == "previous\n"
