"""The long CSV read into dictionary-encoded columns (each distinct text trimmed, looked up and
parsed once), and the checks that count codes instead of sorting rows: the same values,
problems and messages as plain text columns and the sorting paths give."""

from __future__ import annotations

import pyarrow as pa
import pytest
from django.utils import translation

from xinglin.collection import importers, validation
from xinglin.collection.actions import write_rows
from xinglin.collection.batch import Batch, Checked
from xinglin.collection.importers import csv_long
from xinglin.collection.tests.conftest import CLINIC, HEADER, HMC
from xinglin.network.models import OrgUnit
from xinglin.standards.models import DataElement

pytestmark = pytest.mark.usefixtures("county", "catalogue")
OTHER_CLINIC = "640323100102"

# Every kind of outcome: rules failing with new and stored values, duplicates (same and
# different values), unknown codes, a bad period, text numbers and words, a jump, an
# unchanged value, blank rows and an empty value; codes with blanks around them.
LINES = [
    f"{CLINIC},202401,total_visits,800",
    f"{CLINIC},202401,tcm_visits,900",
    f" {OTHER_CLINIC} ,202401, total_visits ,100",
    f"{OTHER_CLINIC},202401,tcm_visits,50",
    f"{OTHER_CLINIC} ,202401,tcm_visits, 50",
    f"{OTHER_CLINIC},202402,tcm_visits,50",
    f"{OTHER_CLINIC},202402,tcm_visits,60",
    f"{HMC},2024,physicians,10",
    f"{HMC},2024,tcm_physicians,12",
    f'{HMC},202401,total_visits,"1,200"',
    f"{HMC},202401,tcm_visits,x",
    "640323999999,202401,total_visits,5",
    f"{CLINIC},2024-01,total_visits,5",
    ",,,",
    f"{CLINIC},202403,total_visits,5000",
    f"{CLINIC},202404,total_visits,100",
    f"{CLINIC},202405,total_visits,",
    f"{HMC},2024,has_tcm_hall,是",
    f"{HMC},2024,performance_score_tcm_share,0.35",
    f"{HMC},2024,performance_score_tcm_share,35",
    f"{CLINIC},202302,tcm_visits,2000",
]


@pytest.fixture(autouse=True)
def _english_and_stored_values(county, catalogue):
    total, tcm = (DataElement.objects.get(code=c) for c in ("total_visits", "tcm_visits"))
    clinic = OrgUnit.objects.get(code=CLINIC)
    write_rows(
        [
            (total, clinic, "202303", 100.0),
            (total, clinic, "202404", 100.0),
            (total, clinic, "202302", 1000.0),
        ]
    )
    with translation.override("en"):
        yield


def _read(tmp_path, lines: list[str], name: str = "values.csv") -> importers.Parsed:
    path = tmp_path / name
    path.write_bytes((HEADER + "".join(line + "\n" for line in lines)).encode("utf-8"))
    return importers.read(path)


def _outcome(checked: Checked) -> tuple:
    columns = checked.columns
    codes = (  # None for unknown codes
        [e and e.code for e in columns.elements],
        [o and o.code for o in columns.orgunits],
        list(columns.periods),
    )
    stored = [(e.code, o.code, p, v) for e, o, p, v in checked.for_storing()]
    problems = [(p.location, p.message, p.severity, p.rule, p.key) for p in checked.problems]
    return problems, checked.unchanged, checked.replacing, codes, stored


def _as_text(batch: Batch) -> Batch:
    """The same batch with plain text columns (as a reader without encoding gives)."""
    return Batch(
        orgunit=pa.array(batch.orgunit.to_pylist(), pa.string()),
        period=pa.array(batch.period.to_pylist(), pa.string()),
        element=pa.array(batch.element.to_pylist(), pa.string()),
        raw=pa.array(batch.raw.to_pylist(), pa.string()),
        rows=batch.rows,
    )


def test_the_csv_columns_are_encoded_with_each_distinct_text_trimmed_once(tmp_path):
    parsed = _read(tmp_path, [f" {CLINIC},202401,total_visits,5", f"{CLINIC} ,202401,x, 5 "])
    batch = parsed.batch
    assert isinstance(batch.orgunit, pa.DictionaryArray)
    assert batch.orgunit.dictionary.to_pylist() == [CLINIC]
    assert batch.orgunit.to_pylist() == [CLINIC, CLINIC]
    assert batch.raw.to_pylist() == ["5", "5"]
    assert batch.rows.tolist() == [2, 3]


def test_codes_of_an_encoded_column_are_those_of_its_text():
    # a dictionary holding a text twice, and a text no value uses
    column = pa.DictionaryArray.from_arrays(
        pa.array([2, 0, 2, 3, 0], pa.int32()), pa.array(["a", "b", "c", "a"])
    )
    encoded, text = validation._Codes(column), validation._Codes(pa.array(column.to_pylist()))
    assert encoded.codes == text.codes == ["c", "a"]
    assert encoded.index.tolist() == text.index.tolist() == [0, 1, 0, 1, 1]
    assert encoded.index.dtype == text.index.dtype


def test_checking_encoded_columns_gives_what_checking_text_gives(tmp_path):
    parsed = _read(tmp_path, LINES)
    assert [(p.location.row, p.message) for p in parsed.problems] == [(18, "the value is empty")]
    encoded = _outcome(validation.check(parsed.batch))
    assert encoded == _outcome(validation.check(_as_text(parsed.batch)))
    messages = [message for _where, message, *_rest in encoded[0]]
    assert "tcm_visits: TCM visits cannot exceed total visits" in messages
    assert "duplicate of row 7 with a different value (50 ≠ 60)" in messages
    assert "unknown org unit “640323999999”" in messages
    assert encoded[1] == 1  # 202404 unchanged


def test_counting_and_sorting_give_the_same_outcome(tmp_path, monkeypatch):
    parsed = _read(tmp_path, LINES)
    counted = _outcome(validation.check(parsed.batch))
    monkeypatch.setattr(validation, "_countable", lambda size, count: False)
    assert _outcome(validation.check(parsed.batch)) == counted


@pytest.mark.parametrize("confirmed", [False, True])
def test_rules_failing_in_many_groups_are_reported_in_row_order(tmp_path, confirmed):
    lines = []
    for month in range(12, 0, -1):
        for unit in (OTHER_CLINIC, CLINIC):
            tcm = 900 if month % 3 == 0 else 100
            lines += [f"{unit},2024{month:02d},tcm_visits,{tcm}"]
            lines += [f"{unit},2024{month:02d},total_visits,500"]
    parsed = _read(tmp_path, lines)
    checked = validation.check(parsed.batch, confirmed=confirmed)
    rows = [p.location.row for p in checked.problems]
    assert rows == [
        row
        for first in range(2, len(lines) + 2, 2)
        if int(lines[first - 2].split(",")[1][4:]) % 3 == 0
        for row in (first, first + 1)
    ]
    assert len(checked.for_storing()) == len(lines) - len(rows)
    assert _outcome(checked) == _outcome(
        validation.check(_as_text(parsed.batch), confirmed=confirmed)
    )


def test_a_file_without_quotes_and_one_with_a_line_break_in_a_quote_read_alike(tmp_path):
    header = "orgunit,name,period,element,value\n"
    plain = f"{CLINIC},卫生室,202401,total_visits,5\n{CLINIC},x,202401,tcm_visits,3\n"
    quoted = f'{CLINIC},"卫生\n室",202401,total_visits,5\n{CLINIC},"x",202401,tcm_visits,"3"\n'
    read = []
    for name, body in (("plain.csv", plain), ("quoted.csv", quoted)):
        (tmp_path / name).write_text(header + body, encoding="utf-8")
        batch = importers.read(tmp_path / name).batch
        assert batch is not None  # the column reader, not the row by row one
        read.append([column.to_pylist() for column in (batch.orgunit, batch.raw)])
        read[-1].append(batch.rows.tolist())
    assert read[0] == read[1] == [[CLINIC, CLINIC], ["5", "3"], [2, 3]]


def test_the_header_is_the_first_record_whatever_the_line_ends(tmp_path):
    for ending in ("\n", "\r\n", "\r"):
        text = ending.join(['"orgunit",period,element,value', f"{CLINIC},202401,total_visits,5"])
        (tmp_path / "values.csv").write_text(text + ending, encoding="utf-8", newline="")
        parsed = importers.read(tmp_path / "values.csv")
        assert (parsed.problems, parsed.count) == ([], 1), repr(ending)
    assert list(csv_long._lines("a\rb\r\nc\nd")) == ["a\r", "b\r\n", "c\n", "d"]


def test_every_format_is_still_listed():
    assert set(importers.formats()) == {"csv", "json", "xlsx"}
    assert importers.module("csv") is csv_long
