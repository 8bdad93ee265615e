"""Issue 20.2: every row of the institutions import is checked against the user's scope for the
unit it adds under AND the unit it changes; institution edits are in the unit's history with
who and when; institution codes cannot take a division's code or leave their division."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from xinglin.core.models import EventKind, SecurityEvent
from xinglin.network.actions import create_institution, import_divisions
from xinglin.network.models import OrgUnit

OTHER = "640323101001"  # 大水坑镇卫生院 (dave's township)


def _upload(client, text: str):
    sheet = io.BytesIO(("code,name,type,parent\n" + text).encode())
    sheet.name = "clinics.csv"
    return client.post("/network/import/", {"file": sheet})


def _state() -> list[tuple]:
    return list(OrgUnit.objects.order_by("code").values_list("code", "name", "institution_type",
                                                             "parent__code"))  # fmt: skip


def test_a_parent_created_in_the_file_does_not_open_another_township(bob, client_for):
    before = _state()
    response = _upload(
        client_for(bob),
        f"640323100901,x,village_clinic,640323100\n{OTHER},被改名,village_clinic,640323100901\n",
    )
    assert response.status_code == 200
    assert f"{OTHER} 不在您的管辖范围内" in response.text
    assert _state() == before  # nothing written, the other township's centre kept its name


def test_another_county_is_out_of_reach_too(bob, client_for):
    import_divisions("640104")
    township = OrgUnit.objects.filter(parent__code="640104").order_by("code").first()
    far = create_institution(code=township.code + "001", name="远方卫生院",
                             institution_type="township_health_center", parent=township)  # fmt: skip
    _upload(client_for(bob), f"640323100901,x,village_clinic,640323100\n{far.code},改,village_clinic,640323100901\n")  # fmt: skip
    far.refresh_from_db()
    assert far.name == "远方卫生院"


def test_the_command_checks_the_scope_of_the_user_it_acts_as(bob, tmp_path):
    path = tmp_path / "clinics.csv"
    path.write_text(f"code,name,type,parent\n{OTHER},被改名,village_clinic,640323101\n")
    with pytest.raises(SystemExit) as stop:
        call_command("import_institutions", str(path), user="bob")
    assert stop.value.code == 2
    assert OrgUnit.objects.get(code=OTHER).name == "大水坑镇卫生院"
    with pytest.raises(CommandError):
        call_command("import_institutions", str(path), user="nobody")


def test_edits_are_in_the_units_history_with_who_and_when(bob, client_for):
    client = client_for(bob)
    edit = {"name": "改名卫生院", "institution_type": "township_health_center", "address": "",
            "phone": ""}  # fmt: skip
    assert client.post("/network/640323100001/edit/", edit).status_code == 302
    _upload(client, "640323100001,再改名,township_health_center,640323100\n")
    client.post("/network/640323100102/close/", {"on": "2030-12-31"})
    changes = SecurityEvent.objects.filter(kind=EventKind.ORGUNIT_CHANGE, username="bob")
    details = [e.detail for e in changes.order_by("id")]
    assert (
        "名称: 花马池镇卫生院 → 改名卫生院" in details
        or "Name: 花马池镇卫生院 → 改名卫生院" in details
    )
    assert any("再改名" in d for d in details)
    assert changes.filter(orgunit__code="640323100102").exists()
    page = client.get("/network/640323100001/").content.decode()
    assert "改名卫生院 → 再改名" in page and "bob" in page


@pytest.mark.parametrize(
    ("code", "words"),
    [("640324", "是行政区划的编码"), ("640323101999", "不在"), ("640104001", "是行政区划的编码")],
)
def test_institution_codes_stay_in_their_division(bob, client_for, code, words):
    client = client_for(bob)
    form = {"code": code, "name": "占号", "institution_type": "village_clinic"}
    response = client.post("/network/640323100/add/", form)
    assert response.status_code == 200 and words in response.text
    response = _upload(client, f"{code},占号,village_clinic,640323100\n")
    assert words in response.text
    assert not OrgUnit.objects.filter(name="占号").exists()


def test_a_county_can_still_be_imported_after_a_squatting_attempt(bob, client_for):
    _upload(client_for(bob), "640324,占号,village_clinic,640323100\n")
    import_divisions("640324")
    assert OrgUnit.objects.get(code="640324").kind == "division"
