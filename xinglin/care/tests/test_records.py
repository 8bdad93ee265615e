"""Health records (keyed hash, mask), assessment completeness, and bulk imports."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection
from openpyxl import Workbook

from xinglin.care import personal_id
from xinglin.care.actions import import_assessments, read_assessment_file
from xinglin.care.models import ConstitutionAssessment, Resident
from xinglin.care.tests.helpers import BALANCED, assess, id_card

pytestmark = pytest.mark.django_db


def test_it_keeps_only_a_keyed_hash_and_a_mask(county, settings):
    settings.PERSONAL_ID_KEY = "test-key"
    number = id_card(date(1950, 3, 4), 123)
    assess("640323100001", number, date(2025, 5, 6))
    resident = Resident.objects.get()
    expected = hmac.new(b"test-key", number.encode(), hashlib.sha256).hexdigest()
    assert resident.id_hash == expected
    assert resident.id_masked == number[:4] + "*" * 10 + number[-4:]
    assert (resident.birth_date, resident.sex) == (date(1950, 3, 4), "male")
    with connection.cursor() as cursor:
        for table in ("care_resident", "care_constitutionassessment"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 (fixed table names)
            dump = repr(cursor.fetchall())
            assert number not in dump
            assert number[6:14] not in dump.replace("-", "")  # not even the birth-date digits


def test_the_mask_keeps_four_characters_each_side():
    assert personal_id.mask("640323196001011234") == "6403**********1234"
    assert personal_id.hash_id(" 64032319600101123x ") == personal_id.hash_id("64032319600101123X")


def test_it_rejects_a_wrong_check_digit():
    number = id_card()
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(personal_id.PersonalIdError):
        personal_id.check(wrong)


def test_the_same_person_is_one_health_record(county):
    number = id_card()
    assess("640323100001", number, date(2024, 5, 6))
    assess("640323100101", " " + number.lower(), date(2025, 5, 6))
    assert Resident.objects.count() == 1
    assert Resident.objects.get().institution.code == "640323100001"


@pytest.mark.parametrize(
    ("answers", "guidance", "complete"),
    [
        (BALANCED, ["diet"], True),
        (BALANCED, [], False),  # no guidance ticked
        (BALANCED[:32] + [None], ["diet"], False),  # an unanswered item
    ],
)
def test_completeness_follows_the_rule(county, answers, guidance, complete):
    a = assess("640323100001", id_card(), date(2025, 5, 6), answers=answers, guidance=guidance)
    assert a.is_complete is complete
    assert (a.balanced_result == "yes") is (None not in answers)


def test_height_weight_and_waist_decide_items_9_and_28(county):
    a = assess(
        "640323100001", id_card(), date(2025, 5, 6), height_cm=160, weight_kg=70, waist_cm=92
    )
    # BMI 27.3 -> 4 (26 ≤ BMI < 28); waist 92 cm -> 4 (91-105 cm)
    assert (a.answer_list[8], a.answer_list[27]) == (4, 4)
    assert a.phlegm_dampness_score == 4 + 1 + 4 + 1


def test_flags_are_kept_not_resolved(county):
    answers = [1] * 33
    for item in (10, 21, 26, 31, 11, 12, 13, 29):  # yin and yang deficiency items
        answers[item - 1] = 3
    a = assess("640323100001", id_card(), date(2025, 5, 6), answers=answers)
    # both score 12: a tie and a contradiction, both left to the physician
    assert a.flags == ["main_type_tie", "yin_yang_both_positive"]
    assert a.main_types == ["yang_deficiency", "yin_deficiency"]
    assert a.is_complete is True


# ---------------------------------------------------------------------------
# Imports
# ---------------------------------------------------------------------------

HEADER = ["id_number", "name", "institution", "assessed_on", *(f"q{i}" for i in range(1, 34))]
HEADER += ["guidance"]


def _row(number, code="640323100001", on="2025-04-01", answers=None, guidance="饮食调养;exercise"):
    answers = BALANCED if answers is None else answers
    return [number, "张三", code, on, *answers, guidance]


def _csv(rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def test_it_imports_a_csv_file(county):
    rows = [_row(id_card(serial=1)), _row(id_card(serial=2), answers=[""] + BALANCED[1:])]
    result = import_assessments(read_assessment_file("a.csv", _csv(rows)))
    assert (result.created, result.replaced, result.incomplete, result.errors) == (2, 0, 1, [])
    first = ConstitutionAssessment.objects.get(resident__name="张三", is_complete=True)
    assert first.guidance == ["diet", "exercise"]
    assert first.channel == "import"


def test_an_import_again_replaces_instead_of_duplicating(county):
    content = _csv([_row(id_card(serial=1))])
    import_assessments(read_assessment_file("a.csv", content))
    result = import_assessments(read_assessment_file("a.csv", content))
    assert (result.created, result.replaced) == (0, 1)
    assert ConstitutionAssessment.objects.count() == 1


def test_it_imports_an_excel_file(county):
    book = Workbook()
    sheet = book.active
    sheet.append(
        ["身份证号", "机构编码", "填表日期", *(f"q{i}" for i in range(1, 34)), "中医药保健指导"]
    )
    sheet.append([id_card(), "640323100001", date(2025, 4, 1), *BALANCED, "情志调摄、运动保健"])
    buffer = io.BytesIO()
    book.save(buffer)
    result = import_assessments(read_assessment_file("a.xlsx", buffer.getvalue()))
    assert (result.created, result.errors) == (1, [])
    a = ConstitutionAssessment.objects.get()
    assert (a.assessed_on, a.guidance, a.balanced_result) == (
        date(2025, 4, 1),
        ["emotion", "exercise"],
        "yes",
    )


def test_a_file_with_an_error_imports_nothing(county):
    rows = [
        _row(id_card(serial=1)),
        _row(id_card(serial=2), answers=BALANCED[:6] + [7] + BALANCED[7:]),
        _row("123", code="640323999999"),
    ]
    result = import_assessments(read_assessment_file("a.csv", _csv(rows)))
    assert [str(e) for e in result.errors] == [
        "row 3, column q7: '7' is not an answer 1–5",
        "row 4, column id_number: an ID-card number has 18 characters: 17 digits and 0-9 or X",
        "row 4, column institution: '640323999999' is not a known institution",
    ]
    assert ConstitutionAssessment.objects.count() == 0
    assert Resident.objects.count() == 0


def test_the_import_command_exits_2_and_limits_to_the_users_scope(county, carol, tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(_csv([_row(id_card(serial=1), code="640323101001")]))
    with pytest.raises(SystemExit) as exit_info:
        call_command("constitution", "import", str(path), "--as", "carol", stderr=io.StringIO())
    assert exit_info.value.code == 2
    assert ConstitutionAssessment.objects.count() == 0
    out = io.StringIO()
    call_command("constitution", "import", str(path), stdout=out)
    assert out.getvalue().startswith("1 assessments added, 0 replaced, 0 incomplete")
