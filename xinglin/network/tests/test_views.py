from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from xinglin.network.models import OrgUnit

OWN = "640323100001"  # 花马池镇卫生院 (bob's township, carol's institution)
OTHER = "640323101001"  # 大水坑镇卫生院 (dave's township)
EDIT = {"name": "改名", "institution_type": "township_health_center", "address": "", "phone": ""}


def _name(code):
    return OrgUnit.objects.get(code=code).name


def test_anonymous_is_sent_to_login(client, county):
    response = client.get(f"/network/{OWN}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_supervisor_sees_their_township_and_its_institutions(client_for, bob):
    response = client_for(bob).get("/network/640323100/")
    assert response.status_code == 200
    assert "北塘新村卫生室" in response.text
    assert "大水坑镇" not in response.text


def test_supervisor_edits_an_institution_of_their_township(client_for, bob):
    response = client_for(bob).post(f"/network/{OWN}/edit/", EDIT)
    assert response.status_code == 302
    assert _name(OWN) == "改名"


@pytest.mark.parametrize(
    "url",
    [
        f"/network/{OTHER}/",
        f"/network/{OTHER}/edit/",
        "/network/640323101/",
        f"/network/{OTHER}/children.csv",
    ],
)
def test_supervisor_cannot_see_another_township(client_for, bob, url):
    assert client_for(bob).get(url).status_code == 404


def test_supervisor_cannot_change_another_township_by_posting(client_for, bob):
    for action in ("edit", "close", "move"):
        response = client_for(bob).post(
            f"/network/{OTHER}/{action}/", {**EDIT, "on": "2025-01-01", "new_parent": "640323100"}
        )
        assert response.status_code == 404
    other = OrgUnit.objects.get(code=OTHER)
    assert (other.name, other.closed_on, other.parent.code) == ("大水坑镇卫生院", None, "640323101")


def test_supervisor_cannot_move_an_institution_into_another_township(client_for, bob):
    response = client_for(bob).post(
        "/network/640323100101/move/", {"new_parent": "640323101", "on": "2025-01-01"}
    )
    assert response.status_code == 200
    assert OrgUnit.objects.get(code="640323100101").parent.code == "640323100"


def test_clerk_sees_only_their_institution(client_for, carol):
    client = client_for(carol)
    assert client.get(f"/network/{OWN}/").status_code == 200
    assert client.get("/network/640323100101/").status_code == 404
    assert client.get("/network/640323100/").status_code == 404


def test_clerk_cannot_edit_even_their_own_institution(client_for, carol):
    assert client_for(carol).post(f"/network/{OWN}/edit/", EDIT).status_code == 403
    assert _name(OWN) == "花马池镇卫生院"


def test_viewer_reads_but_cannot_change(client_for, victor):
    client = client_for(victor)
    assert client.get(f"/network/{OTHER}/").status_code == 200
    assert client.post(f"/network/{OTHER}/edit/", EDIT).status_code == 403
    assert _name(OTHER) == "大水坑镇卫生院"


def test_outsider_sees_nothing(client_for, olga):
    client = client_for(olga)
    assert client.get("/network/640323/").status_code == 404
    assert "您的管辖范围内没有单位" in client.get("/network/").text


def test_admin_adds_moves_and_closes(client_for, alice):
    client = client_for(alice)
    response = client.post(
        "/network/640323102/add/",
        {
            "code": "640323102001",
            "name": "惠安堡镇卫生院",
            "institution_type": "township_health_center",
        },
    )
    assert response.status_code == 302
    unit = OrgUnit.objects.get(code="640323102001")
    assert unit.path == "/64/6403/640323/640323102/640323102001/"
    client.post("/network/640323100102/move/", {"new_parent": "640323102", "on": "2024-07-01"})
    client.post("/network/640323100102/close/", {"on": "2025-12-31"})
    moved = OrgUnit.objects.get(code="640323100102")
    assert (moved.parent.code, str(moved.closed_on)) == ("640323102", "2025-12-31")


def test_children_export_as_csv_and_json(client_for, bob):
    client = client_for(bob)
    csv_text = client.get("/network/640323100/children.csv").content.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("code,name,kind")
    assert sum("village_clinic" in line for line in csv_text.splitlines()) == 2
    data = client.get("/network/640323100/children.json").json()
    assert {c["code"] for c in data["children"]} == {OWN, "640323100101", "640323100102"}


def test_import_page_refuses_a_parent_outside_the_scope(client_for, bob):
    sheet = "code,name,type,parent\n640323101102,红井子村卫生室,village_clinic,640323101\n"
    upload = io.BytesIO(sheet.encode())
    upload.name = "clinics.csv"
    response = client_for(bob).post("/network/import/", {"file": upload})
    assert "640323101 不在您的管辖范围内" in response.text
    assert not OrgUnit.objects.filter(code="640323101102").exists()


def test_import_template_has_chinese_headers_and_a_type_dropdown(client_for, bob):
    response = client_for(bob).get("/network/import/template.xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [c.value for c in sheet[1]] == [
        "机构编码",
        "机构名称",
        "机构类型",
        "上级编码",
        "所有制",
        "机构定位",
    ]
    assert "village_clinic" in sheet.data_validations.dataValidation[0].formula1


def test_interface_is_chinese_by_default_and_english_on_request(client_for, bob):
    client = client_for(bob)
    assert "服务网络" in client.get("/network/640323100/", HTTP_ACCEPT_LANGUAGE="en").text
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Service network" in client.get("/network/640323100/").text


def test_a_township_page_shows_its_population_by_year(client_for, bob):
    from xinglin.collection.testing import store_facts
    from xinglin.standards.models import DataElement

    element = DataElement.objects.get(code="residents")  # canonical after migrate (issue 19)
    township = OrgUnit.objects.get(code="640323100")
    store_facts([(element, township, "2024", 58123.0), (element, township, "2025", 58901.0)])
    text = client_for(bob).get("/network/640323100/").text
    assert text.index("58123") < text.index("58901")
    assert "常住人口" in text
