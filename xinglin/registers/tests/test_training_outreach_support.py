"""Training (seeds/001 items 24–25), outreach (seeds/000 五进, seeds/004 七进) and counterpart
support (seeds/003 三(五)19): each register's import, scope and the indicator it feeds,
checked against an independent count of the records."""

from __future__ import annotations

import pytest

from xinglin.evaluation.engine import evaluate
from xinglin.network.actions import create_institution
from xinglin.network.models import OrgUnit
from xinglin.registers.models import OutreachEvent, SupportPair, Training
from xinglin.registers.tests.conftest import upload

TRAINING = (
    "学员所在机构,培训类别,培训项目,学员,指导老师,开始日期,学时,结业日期\n"
    "640323100001,西学中培训,2024年西学中培训班,王医生,,2024-03-01,120,2024-09-30\n"
    "640323101001,西学中培训,2024年西学中培训班,赵医生,,2024-03-01,120,2024-09-30\n"
    "640323100101,中医药知识培训,乡村医生中医药知识培训,钱医生,,2024-05-10,16,2024-05-12\n"
    "640323000001,师承教育,县级师承项目,孙医生,周主任,2023-01-01,,\n"
)
OUTREACH = (
    "组织单位,场所类别,活动主题,活动日期,地点,参加人次\n"
    + "".join(
        f"640323100001,{s},中医药文化宣传,2024-0{i + 1}-15,花马池镇,{40 + i}\n"
        for i, s in enumerate(["进社区", "进农村", "进家庭", "进机关", "进学校", "进企业"])
    )  # fmt: skip
    + "640323101001,进社区,八段锦教学,2024-08-01,大水坑镇,30\n"
)


def _import(client, code, text, name="file.csv"):
    return client.post(f"/registers/{code}/import/", {"file": upload(name, text)})


@pytest.mark.django_db
def test_training_feeds_western_doctors_trainees_and_apprenticeships(catalogue, alice, client_for):
    assert _import(client_for(alice), "training", TRAINING).status_code == 302
    evaluation = evaluate("demo-county-2022", "640323", "2024")
    grassroots = ["community_health_center", "township_health_center", "village_clinic"]
    western = Training.objects.filter(kind="western_doctors_tcm", completed_on__year=2024,
                                      orgunit__institution_type__in=grassroots).count()  # fmt: skip
    completed = Training.objects.filter(completed_on__year=2024,
                                        orgunit__institution_type__in=grassroots).count()  # fmt: skip
    assert (western, completed) == (2, 3)
    assert evaluation.result("workforce.western_doctors_trained").value == western
    assert evaluation.result("workforce.grassroots_staff_trained").value == completed
    assert (
        evaluation.result("workforce.apprenticeship_under_way").value == 1
    )  # begun 2023, still on
    assert evaluation.result("workforce.western_doctors_trained").status == "met"


@pytest.mark.django_db
def test_a_completion_before_the_start_is_refused_with_its_row(catalogue, alice, client_for):
    bad = TRAINING + "640323100001,西学中培训,班,李医生,,2024-05-01,10,2024-04-01\n"
    response = _import(client_for(alice), "training", bad, "培训.csv")
    assert Training.objects.count() == 0
    assert response.context["errors"] == ["培训.csv，第 6 行，结业日期：该日期早于开始日期。"]


@pytest.mark.django_db
def test_outreach_counts_the_settings_reached_for_seven_and_five(catalogue, alice, client_for):
    assert _import(client_for(alice), "outreach", OUTREACH).status_code == 302
    settings = set(
        OutreachEvent.objects.filter(held_on__year=2024).values_list("setting", flat=True)
    )
    five = settings & {"community", "village", "family", "government", "school"}
    seven = evaluate("work-points-2023", "640323", "2024").result("work_points.seven_settings")
    assert (seven.value, seven.status) == (len(settings), "not_met")  # 6 of 7
    rehab = evaluate("rehab-2021-2025", "640323", "2024").result("rehab.five_settings")
    assert (rehab.value, rehab.status) == (len(five), "met")


@pytest.mark.django_db
def test_an_unknown_setting_is_refused(catalogue, alice, client_for):
    response = _import(
        client_for(alice), "outreach", OUTREACH + "640323100001,进月球,x,2024-01-01,y,1\n"
    )
    assert OutreachEvent.objects.count() == 0
    assert "第 9 行，场所类别" in response.context["errors"][0]


@pytest.fixture
def centres(county):
    parent = OrgUnit.objects.get(code="640323102")
    for n in range(2, 5):
        create_institution(code=f"64032310200{n}", name=f"第{n}卫生院",
                           institution_type="township_health_center", parent=parent)  # fmt: skip


@pytest.mark.django_db
def test_support_pairs_feed_the_three_to_five_rule(catalogue, centres, alice, client_for):
    partners = ["640323100001", "640323101001", "640323102002", "640323100101"]  # a clinic too
    text = "支援医院,受援机构,年度,开始日期,帮扶内容\n" + "".join(
        f"640323000001,{p},2024,2024-02-01,坐诊带教\n" for p in partners)  # fmt: skip
    assert _import(client_for(alice), "support", text).status_code == 302
    counted = SupportPair.objects.filter(year=2024, partner__institution_type__in=[
        "community_health_center", "township_health_center"]).values("partner").distinct().count()  # fmt: skip
    result = evaluate("capacity-2021-2025", "640323", "2024").result("capacity.counterpart_support")
    hospital = [r for r in evaluate("capacity-2021-2025", "640323", "2024").at("640323000001")
                if r.indicator == "capacity.counterpart_support"][0]  # fmt: skip
    assert counted == 3
    assert (hospital.numerator, result.value, result.status) == (1.0, 1.0, "met")


@pytest.mark.django_db
def test_a_pair_repeated_in_one_file_adds_nothing(catalogue, alice, client_for):
    text = (
        "支援医院,受援机构,年度,开始日期,帮扶内容\n"
        + "640323000001,640323100001,2024,2024-02-01,x\n" * 2
    )
    response = _import(client_for(alice), "support", text)
    assert SupportPair.objects.count() == 0
    assert response.context["errors"] == ["file.csv，第 3 行：本行与之前的记录重复。"]


@pytest.mark.django_db
@pytest.mark.parametrize("code, text", [("training", TRAINING), ("outreach", OUTREACH)])
def test_a_township_supervisor_writes_only_in_their_township(
    catalogue, dave, alice, client_for, code, text
):
    response = _import(client_for(dave), code, text)
    assert response.status_code == 200  # rows of 花马池镇 and the county hospital refused
    assert all("不是您可以登记的单位" in e for e in response.context["errors"])
    _import(client_for(alice), code, text)
    listed = client_for(dave).get(f"/registers/{code}/").context["page"].paginator.count
    assert listed == sum(1 for line in text.splitlines()[1:] if "640323101" in line)


@pytest.mark.django_db
def test_the_json_export_is_a_valid_import_through_the_api(catalogue, alice, client_for):
    client = client_for(alice)
    _import(client, "outreach", OUTREACH)
    items = client.get("/registers/outreach.json").json()["items"]
    api = client.get("/api/v1/registers/outreach").json()
    assert api["count"] == len(items) == 7
    OutreachEvent.objects.all().delete()
    response = client.post(
        "/api/v1/registers/outreach", {"items": items}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json() == {"added": 7}
    assert client.get("/registers/outreach.json").json()["items"] == items


@pytest.mark.django_db
def test_the_api_refuses_a_bad_item_naming_its_place(catalogue, alice, zed, client_for):
    item = {"orgunit": "640323100001", "setting": "community", "topic": "t", "held_on": "2024-01-01",
            "place": "p", "attendance": 10}  # fmt: skip
    response = client_for(zed).post("/api/v1/registers/outreach", {"items": [item]},
                                    content_type="application/json")  # fmt: skip
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "items", 0, "orgunit"]
    assert OutreachEvent.objects.count() == 0


@pytest.mark.django_db
def test_the_xlsx_template_filled_in_imports(catalogue, alice, client_for):
    import io

    import openpyxl
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(alice)
    book = openpyxl.load_workbook(
        io.BytesIO(client.get("/registers/outreach/template.xlsx").content)
    )
    sheet = book.active
    assert [c.value for c in sheet[1]] == [
        "组织单位",
        "场所类别",
        "活动主题",
        "活动日期",
        "地点",
        "参加人次",
    ]
    from datetime import date

    sheet.append(["640323100001", "进学校", "中医药进校园", date(2024, 4, 1), "花马池镇中学", 300])
    out = io.BytesIO()
    book.save(out)
    upload = SimpleUploadedFile("活动.xlsx", out.getvalue())
    assert client.post("/registers/outreach/import/", {"file": upload}).status_code == 302
    event = OutreachEvent.objects.get()
    assert (event.setting, event.held_on, event.attendance) == ("school", date(2024, 4, 1), 300)
