"""The public interface `xinglin constitution score IN.csv --output OUT.csv` (issue 12)."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

XINGLIN = Path(sys.executable).parent / "xinglin"
COLUMNS = [
    "id",
    "balanced_score", "balanced_result",
    "qi_deficiency_score", "qi_deficiency_result",
    "yang_deficiency_score", "yang_deficiency_result",
    "yin_deficiency_score", "yin_deficiency_result",
    "phlegm_dampness_score", "phlegm_dampness_result",
    "damp_heat_score", "damp_heat_result",
    "blood_stasis_score", "blood_stasis_result",
    "qi_stagnation_score", "qi_stagnation_result",
    "special_diathesis_score", "special_diathesis_result",
]  # fmt: skip


def _write(path: Path, rows: list[list]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", *(f"q{i}" for i in range(1, 34))])
        writer.writerows(rows)
    return path


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(XINGLIN), "constitution", "score", *args], capture_output=True, text=True, timeout=60
    )


def test_it_writes_the_documented_columns(tmp_path):
    qi = [3] * 33
    source = _write(tmp_path / "in.csv", [["p1", 5] + [1] * 32, ["p2", *qi]])
    done = _run(str(source), "--output", str(tmp_path / "out.csv"))
    assert done.returncode == 0, done.stderr
    with (tmp_path / "out.csv").open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == COLUMNS
    assert rows[1] == ["p1", "25", "yes"] + ["4", "no"] * 8
    # all answers 3: balanced 3+3+3+3+3 = 15 -> no; every biased type 12 -> yes
    assert rows[2] == ["p2", "15", "no"] + ["12", "yes"] * 8


@pytest.mark.parametrize(
    ("bad_row", "column"),
    [
        (["p9"] + [1] * 6 + [6] + [1] * 26, "q7"),  # outside 1-5
        (["p9"] + [1] * 20 + [""] + [1] * 12, "q21"),  # missing
        (["p9"] + [1] * 32 + ["x"], "q33"),  # not a number
    ],
)
def test_a_bad_answer_exits_2_naming_row_and_column_and_writes_nothing(tmp_path, bad_row, column):
    source = _write(tmp_path / "in.csv", [["p1", *([2] * 33)], bad_row])
    out = tmp_path / "out.csv"
    done = _run(str(source), "--output", str(out))
    assert done.returncode == 2
    assert f"row 2 (line 3), column {column}" in done.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [source]  # no temporary file left behind either
