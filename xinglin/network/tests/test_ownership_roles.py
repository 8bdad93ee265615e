"""Ownership (所有制) and designations (机构定位) of institutions (issue 17.4): the import's
optional columns in English or Chinese, the export that is a valid import of itself, the
institution page that shows and edits them, each change recorded."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from xinglin.network.actions import (
    export_institutions_csv,
    import_institutions,
    read_institution_file,
    update_institution,
)
from xinglin.network.models import OrgUnit, OrgUnitChange

HOSPITAL = "640323000001"  # 盐池县中医医院


@pytest.fixture(autouse=True)
def _undesignated(county):
    """These tests start from a hospital not yet designated (the shared `county` fixture
    designates it county_tcm_hospital for the engine's tests)."""
    OrgUnit.objects.filter(code=HOSPITAL).update(roles="")


def _unit(code: str) -> OrgUnit:
    return OrgUnit.objects.get(code=code)


def test_the_command_reads_chinese_headers_and_values(county, tmp_path, capsys):
    sheet = tmp_path / "机构.csv"
    sheet.write_text(
        "机构编码,机构名称,机构类型,上级编码,所有制,机构定位\n"
        f"{HOSPITAL},盐池县中医医院,tcm_hospital,640323,公立,县中医医院\n"
        "640323000009,盐池康泰中医医院,tcm_hospital,640323,民营,\n",
        encoding="utf-8",
    )
    call_command("import_institutions", str(sheet))
    assert "1 institutions added, 1 changed" in capsys.readouterr().out
    county_hospital, private = _unit(HOSPITAL), _unit("640323000009")
    assert (county_hospital.ownership, county_hospital.roles) == ("public", "county_tcm_hospital")
    assert (private.ownership, private.roles) == ("private", "")


def test_roles_are_separated_by_semicolons_codes_or_words(county):
    rows = [
        {
            "code": HOSPITAL,
            "name": "盐池县中医医院",
            "type": "tcm_hospital",
            "parent": "640323",
            "ownership": "public",
            "roles": "县中医医院; city_tcm_hospital",
        }
    ]
    assert import_institutions(rows).errors == []
    assert _unit(HOSPITAL).role_list == ["city_tcm_hospital", "county_tcm_hospital"]


def test_unknown_values_are_row_and_field_errors_and_nothing_is_written(county, tmp_path):
    sheet = tmp_path / "bad.csv"
    sheet.write_text(
        "code,name,type,parent,ownership,roles\n"
        f"{HOSPITAL},盐池县中医医院,tcm_hospital,640323,public,county_tcm_hospital\n"
        "640323000009,康泰中医医院,tcm_hospital,640323,合资,县中医医院\n"
        "640323000010,某医院,general_hospital,640323,private,县医院;county_tcm_hospital\n",
        encoding="utf-8",
    )
    result = import_institutions(read_institution_file(sheet.name, sheet.read_bytes()))
    assert [(e.row, e.field) for e in result.errors] == [(3, "ownership"), (4, "roles")]
    assert "'合资'" in result.errors[0].message and "'县医院'" in result.errors[1].message
    assert _unit(HOSPITAL).roles == ""
    assert not OrgUnit.objects.filter(code__in=["640323000009", "640323000010"]).exists()


def test_the_command_exits_2_naming_row_and_field(county, tmp_path, capsys):
    sheet = tmp_path / "bad.csv"
    sheet.write_text(
        f"code,name,type,parent,roles\n{HOSPITAL},盐池县中医医院,tcm_hospital,640323,医院\n",
        encoding="utf-8",
    )
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_institutions", str(sheet))
    assert exit_info.value.code == 2
    assert "bad.csv: row 2, roles" in capsys.readouterr().err


def test_without_the_columns_ownership_and_roles_are_kept(county):
    update_institution(_unit(HOSPITAL), ownership="private", roles=["county_tcm_hospital"])
    rows = [{"code": HOSPITAL, "name": "新名", "type": "tcm_hospital", "parent": "640323"}]
    assert import_institutions(rows).updated == 1
    unit = _unit(HOSPITAL)
    assert (unit.name, unit.ownership, unit.roles) == ("新名", "private", "county_tcm_hospital")


def test_an_export_is_a_valid_import_of_itself(county, tmp_path):
    update_institution(_unit(HOSPITAL), roles="county_tcm_hospital;city_tcm_hospital")
    update_institution(_unit("640323100001"), ownership="private")
    text = export_institutions_csv(_unit("640323"))
    assert text.splitlines()[0] == "code,name,type,parent,ownership,roles"
    assert f"{HOSPITAL},盐池县中医医院,tcm_hospital,640323,public," in text
    rows = read_institution_file("export.csv", text.encode("utf-8"))
    assert len(rows) == OrgUnit.objects.filter(kind="institution").count()
    result = import_institutions(rows)
    assert (result.created, result.updated, result.errors) == (0, 0, [])
    # and it carries the values back: change them, import the export, they return
    update_institution(_unit(HOSPITAL), roles=[])
    import_institutions(rows)
    assert _unit(HOSPITAL).role_list == ["city_tcm_hospital", "county_tcm_hospital"]


def test_each_change_is_recorded_with_who_made_it(county, alice):
    unit = _unit(HOSPITAL)
    update_institution(unit, user=alice, ownership="public", roles=["county_tcm_hospital"])
    update_institution(unit, user=alice, ownership="private")
    changes = list(OrgUnitChange.objects.filter(orgunit=unit).values_list("field", "old", "new"))
    assert changes == [("roles", "", "county_tcm_hospital"), ("ownership", "public", "private")]
    assert {c.changed_by for c in OrgUnitChange.objects.all()} == {alice}


def test_the_page_shows_them_in_words_and_an_administrator_edits_them(county, alice, client_for):
    client = client_for(alice)
    response = client.post(
        f"/network/{HOSPITAL}/edit/",
        {
            "name": "盐池县中医医院",
            "institution_type": "tcm_hospital",
            "ownership": "public",
            "roles": ["county_tcm_hospital"],
        },
    )
    assert response.status_code == 302
    assert _unit(HOSPITAL).roles == "county_tcm_hospital"
    page = client.get(f"/network/{HOSPITAL}/").text
    assert "县中医医院" in page and "公立" in page
    assert "county_tcm_hospital" not in page  # words, not codes
    assert "机构定位" in page  # the change is listed with the unit's history
    form = client.get(f"/network/{HOSPITAL}/edit/").text
    assert 'value="county_tcm_hospital"' in form and "checked" in form


def test_a_supervisor_cannot_edit_an_institution_of_the_county(county, bob, client_for):
    response = client_for(bob).post(
        f"/network/{HOSPITAL}/edit/",
        {"name": "x", "institution_type": "tcm_hospital", "roles": ["county_tcm_hospital"]},
    )
    assert response.status_code == 404
    assert _unit(HOSPITAL).roles == ""


def test_the_institutions_export_is_scoped(county, bob, client_for):
    client = client_for(bob)
    assert client.get("/network/640323/institutions.csv").status_code == 404
    text = client.get("/network/640323100/institutions.csv").content.decode("utf-8-sig")
    assert "640323100001" in text and HOSPITAL not in text


def test_the_api_gives_ownership_and_roles(county, alice, client):
    from xinglin.api.actions import create_token

    update_institution(_unit(HOSPITAL), roles=["county_tcm_hospital"])
    _row, token = create_token(alice, "t")
    unit = client.get(f"/api/v1/orgunits/{HOSPITAL}", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert (unit["ownership"], unit["roles"]) == ("public", ["county_tcm_hospital"])
