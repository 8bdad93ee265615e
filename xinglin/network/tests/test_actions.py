from __future__ import annotations

from datetime import date

import pytest
from django.utils import translation

from xinglin.network.actions import (
    NetworkError,
    close_orgunit,
    import_divisions,
    import_institutions,
    move_orgunit,
    read_institution_file,
)
from xinglin.network.models import OrgUnit, OrgUnitHistory


def _path_on(code: str, day: date) -> str:
    row = (
        OrgUnitHistory.objects.filter(orgunit__code=code, valid_from__lte=day)
        .exclude(valid_to__lte=day)
        .get()
    )
    return row.path


@pytest.mark.django_db
def test_import_divisions_of_a_county_brings_its_ancestors_and_townships():
    result = import_divisions("640323")
    # 宁夏, 吴忠市, 盐池县 and the county's nine townships in the shipped file
    assert result.created == 12
    county = OrgUnit.objects.get(code="640323")
    assert county.path == "/64/6403/640323/"
    assert county.division_level == "county"
    townships = OrgUnit.objects.filter(parent=county).values_list("name", flat=True)
    assert {"花马池镇", "大水坑镇", "惠安堡镇", "王乐井乡"} <= set(townships)


@pytest.mark.django_db
def test_import_divisions_is_rerunnable():
    import_divisions("640323")
    again = import_divisions("640323")
    assert (again.created, again.unchanged) == (0, 12)
    assert OrgUnit.objects.count() == 12


@pytest.mark.django_db
def test_import_divisions_rejects_an_unknown_code():
    with pytest.raises(NetworkError, match="999999"):
        import_divisions("999999")
    assert OrgUnit.objects.count() == 0


def test_a_move_keeps_the_old_tree_for_earlier_periods(county):
    clinic = OrgUnit.objects.get(code="640323100101")
    move_orgunit(clinic, OrgUnit.objects.get(code="640323101"), date(2023, 7, 1))
    assert _path_on("640323100101", date(2023, 6, 30)) == "/64/6403/640323/640323100/640323100101/"
    assert _path_on("640323100101", date(2023, 7, 1)) == "/64/6403/640323/640323101/640323100101/"
    clinic.refresh_from_db()
    assert clinic.parent.code == "640323101"


def test_a_move_carries_the_subtree(county):
    township = OrgUnit.objects.get(code="640323100")
    move_orgunit(township, OrgUnit.objects.get(code="640323101"), date(2024, 1, 1))
    clinic = OrgUnit.objects.get(code="640323100102")
    assert clinic.path == "/64/6403/640323/640323101/640323100/640323100102/"
    assert clinic.depth == 5
    assert _path_on("640323100102", date(2023, 12, 31)) == (
        "/64/6403/640323/640323100/640323100102/"
    )


def test_a_unit_cannot_move_beneath_itself(county):
    township = OrgUnit.objects.get(code="640323100")
    with pytest.raises(NetworkError):
        move_orgunit(township, OrgUnit.objects.get(code="640323100001"), date(2024, 1, 1))
    township.refresh_from_db()
    assert township.path == "/64/6403/640323/640323100/"


def test_close_records_the_date_and_open_on_follows_it(county):
    clinic = close_orgunit(OrgUnit.objects.get(code="640323100102"), date(2024, 12, 31))
    assert clinic.is_open_on(date(2024, 12, 30))
    assert not clinic.is_open_on(date(2024, 12, 31))


def test_import_institutions_creates_and_updates(county):
    rows = [
        {
            "code": "640323100103",
            "name": "四墩子村卫生室",
            "type": "village_clinic",
            "parent": "640323100",
        },
        {
            "code": "640323100001",
            "name": "盐池县花马池镇卫生院",
            "type": "township_health_center",
            "parent": "640323100",
        },
        {
            "code": "640323101101",
            "name": "新泉井村卫生室",
            "type": "village_clinic",
            "parent": "640323101",
        },
    ]
    result = import_institutions(rows)
    assert (result.created, result.updated, result.unchanged, result.errors) == (1, 1, 1, [])
    assert OrgUnit.objects.get(code="640323100001").name == "盐池县花马池镇卫生院"
    assert OrgUnit.objects.get(code="640323100103").path.endswith("/640323100/640323100103/")


def test_import_institutions_is_all_or_nothing_and_names_row_and_field(county):
    before = OrgUnit.objects.count()
    rows = [
        {
            "code": "640323100104",
            "name": "盈德村卫生室",
            "type": "village_clinic",
            "parent": "640323100",
        },
        {"code": "640323100105", "name": "", "type": "clinic", "parent": "640399999"},
        {"code": "640323100104", "name": "重复", "type": "village_clinic", "parent": "640323100"},
    ]
    result = import_institutions(rows)
    assert [(e.row, e.field) for e in result.errors] == [
        (3, "name"),
        (3, "type"),
        (3, "parent"),
        (4, "code"),
    ]
    assert OrgUnit.objects.count() == before


def test_an_institution_may_sit_under_another_in_the_same_file(county):
    rows = [
        {
            "code": "640323100201",
            "name": "站点",
            "type": "community_health_station",
            "parent": "640323100200",
        },
        {
            "code": "640323100200",
            "name": "中心",
            "type": "community_health_center",
            "parent": "640323100",
        },
    ]
    assert import_institutions(rows).created == 2
    assert OrgUnit.objects.get(code="640323100201").parent.code == "640323100200"


def test_read_institution_file_accepts_gbk_csv_with_chinese_headers():
    content = "机构编码,机构名称,机构类型,上级编码\n640323100103,四墩子村卫生室,village_clinic,640323100\n"
    rows = read_institution_file("x.csv", content.encode("gbk"))
    assert rows == [
        {
            "code": "640323100103",
            "name": "四墩子村卫生室",
            "type": "village_clinic",
            "parent": "640323100",
        }
    ]


def test_read_institution_file_names_the_file_that_is_not_a_workbook():
    with pytest.raises(NetworkError, match="bad.xlsx"):
        read_institution_file("bad.xlsx", b"this is not a zip")


def test_read_institution_file_names_missing_columns():
    with (
        translation.override("en"),
        pytest.raises(NetworkError, match="x.csv, row 1: missing columns type"),
    ):
        read_institution_file("x.csv", b"code,name,parent\n1,a,b\n")


def test_errors_are_chinese_by_default():
    with pytest.raises(NetworkError, match="x.csv 第 1 行：缺少列 type"):
        read_institution_file("x.csv", b"code,name,parent\n1,a,b\n")
