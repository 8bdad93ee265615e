"""Key populations' TCM health management and family-doctor contracts (issue 24.3, seeds/001
三(五)29–30), TCM rehabilitation in care homes and schools (24.7, seeds/000 三(二)1, seeds/002
三(三)) and the share of grassroots staff trained (24.2, seeds/001 三(四)24): each register's
import (all or nothing, errors naming row and column), scope, and the figure the engine gives,
checked against a computation of its own from the rows imported."""

from __future__ import annotations

import csv
import io

import pytest

from xinglin.collection.testing import store_facts
from xinglin.evaluation.engine import evaluate
from xinglin.network.actions import create_institution
from xinglin.network.models import OrgUnit
from xinglin.registers.models import (
    CareSettingRehab,
    FamilyDoctorContracts,
    KeyPopulationCount,
    Training,
)
from xinglin.registers.tests.conftest import upload
from xinglin.standards.actions import set_bureau_target
from xinglin.standards.models import DataElement

PACK, COUNTY = "demo-county-2022", "640323"
KEYPOP = (
    "机构,年度,重点人群,在管人数,其中接受中医药健康管理人数\n"
    "640323100001,2024,高血压患者,820,410\n"
    "大水坑镇卫生院,2024,高血压患者,600,240\n"
    "640323100101,2024,高血压患者,90,54\n"
    "640323100001,2024,2型糖尿病患者,300,120\n"
    "640323100001,2024,孕产妇,150,90\n"
    "640323100001,2023,高血压患者,800,300\n"
)
FAMILY = (
    "机构,年度,签约居民数,其中签约含中医药服务包人数,家庭医生团队数,其中有中医类别医师参与的团队数\n"
    "640323100001,2024,9000,2700,6,2\n"
    "640323101001,2024,7000,1400,5,0\n"
    "640323000001,2024,3000,1500,3,3\n"
)


def _import(client, code, text, name="file.csv"):
    return client.post(f"/registers/{code}/import/", {"file": upload(name, text)})


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def _rate(text: str, year: str, population: str) -> float:
    """The rate recomputed from the file itself: TCM-managed over managed."""
    rows = [r for r in _rows(text) if r["年度"] == year and r["重点人群"] == population]
    return sum(int(r["其中接受中医药健康管理人数"]) for r in rows) / sum(
        int(r["在管人数"]) for r in rows
    )


@pytest.mark.django_db
def test_key_population_rates_are_judged_against_the_bureaus_target(catalogue, alice, client_for):
    assert _import(client_for(alice), "keypop", KEYPOP).status_code == 302
    assert KeyPopulationCount.objects.count() == 6
    county = OrgUnit.objects.get(code=COUNTY)
    set_bureau_target(county, 2024, "hypertension_tcm_management_rate", 0.45, user=alice)
    set_bureau_target(county, 2024, "diabetes_tcm_management_rate", 0.45, user=alice)
    evaluation = evaluate(PACK, COUNTY, "2024")
    hypertension = evaluation.result("services.hypertension_tcm_health_management_rate")
    expected = _rate(KEYPOP, "2024", "高血压患者")  # 704 / 1510
    assert hypertension.value == pytest.approx(expected, abs=1e-4)
    assert (hypertension.status, hypertension.target) == ("met", ">= 45%")
    diabetes = evaluation.result("services.diabetes_tcm_health_management_rate")
    assert (diabetes.value, diabetes.status) == (pytest.approx(0.4), "not_met")
    # 孕产妇: a figure, but no national number in any document and none set by the bureau
    maternal = evaluation.result("services.maternal_tcm_health_management_rate")
    assert (maternal.value, maternal.status) == (pytest.approx(0.6), "target_unset")
    # another year is its own: 2023's hypertension figure, target not set for 2023
    earlier = evaluate(PACK, COUNTY, "2023").result(
        "services.hypertension_tcm_health_management_rate"
    )
    assert (earlier.value, earlier.status) == (pytest.approx(_rate(KEYPOP, "2023", "高血压患者")),
                                              "target_unset")  # fmt: skip


@pytest.mark.django_db
def test_a_bad_row_adds_nothing_and_names_its_row_and_column(catalogue, alice, client_for):
    bad = KEYPOP + "640323101001,2024,高血压患者,100,120\n" + "640323101001,2024,肿瘤患者,10,1\n"
    response = _import(client_for(alice), "keypop", bad, "重点人群.csv")
    assert KeyPopulationCount.objects.count() == 0
    errors = response.context["errors"]
    assert errors[0] == "重点人群.csv，第 8 行，其中接受中医药健康管理人数：该数大于在管人数。"
    assert errors[1].startswith("重点人群.csv，第 9 行，重点人群：")
    repeated = KEYPOP + "640323100001,2024,高血压患者,1,1\n"
    response = _import(client_for(alice), "keypop", repeated, "重点人群.csv")
    assert KeyPopulationCount.objects.count() == 0 and response.context["errors"]


@pytest.mark.django_db
def test_another_county_or_township_cannot_record_or_see(catalogue, alice, zed, carol, client_for):
    assert _import(client_for(zed), "keypop", KEYPOP).status_code == 200  # 同心县: not its units
    assert KeyPopulationCount.objects.count() == 0
    # the health centre's clerk records her own centre, not the neighbouring one
    own = "机构,年度,重点人群,在管人数,其中接受中医药健康管理人数\n640323100001,2024,脑卒中患者,40,12\n"
    other = "机构,年度,重点人群,在管人数,其中接受中医药健康管理人数\n640323101001,2024,脑卒中患者,40,12\n"
    assert _import(client_for(carol), "keypop", other).status_code == 200
    assert _import(client_for(carol), "keypop", own).status_code == 302
    assert _import(client_for(alice), "family_doctors", FAMILY).status_code == 302
    page = client_for(zed).get("/registers/keypop/").content.decode()
    assert "花马池镇卫生院" not in page
    assert client_for(zed).get("/registers/family_doctors.json").json()["items"] == []
    items = client_for(carol).get("/registers/family_doctors.json").json()["items"]
    assert [i["orgunit"] for i in items] == ["640323100001"]


@pytest.mark.django_db
def test_family_doctor_figures_from_the_register(catalogue, alice, client_for):
    assert _import(client_for(alice), "family_doctors", FAMILY).status_code == 302
    set_bureau_target(OrgUnit.objects.get(code=COUNTY), 2024, "family_doctor_tcm_package_share",
                      0.25, user=alice)  # fmt: skip
    evaluation = evaluate(PACK, COUNTY, "2024")
    rows = _rows(FAMILY)
    share = sum(int(r["其中签约含中医药服务包人数"]) for r in rows) / sum(
        int(r["签约居民数"]) for r in rows
    )
    result = evaluation.result("services.family_doctor_tcm_package_share")
    assert (result.value, result.status, result.target) == (pytest.approx(share, abs=1e-4), "met",
                                                            ">= 25%")  # fmt: skip
    teams = evaluation.result("services.family_doctor_tcm_teams")
    assert (teams.value, teams.status) == (
        sum(int(r["其中有中医类别医师参与的团队数"]) for r in rows),
        "met",
    )
    # the JSON export is a valid import of itself (after the records are gone)
    exported = client_for(alice).get("/registers/family_doctors.json").json()["items"]
    assert {(i["orgunit"], i["signed"], i["tcm_signed"]) for i in exported} == {
        (r["机构"], int(r["签约居民数"]), int(r["其中签约含中医药服务包人数"])) for r in rows
    }
    bad = FAMILY.replace("6,2", "6,7")
    response = _import(client_for(alice), "family_doctors", bad.replace("2024", "2023"), "签约.csv")
    assert response.context["errors"] == [
        "签约.csv，第 2 行，其中有中医类别医师参与的团队数：该数大于家庭医生团队数。"
    ]
    assert FamilyDoctorContracts.objects.filter(year=2023).count() == 0


@pytest.fixture
def care_homes(county):
    parent = OrgUnit.objects.get(code=COUNTY)
    for code, name, kind in (
        ("640323000005", "盐池县养老服务中心", "elderly_care_home"),
        ("640323000006", "盐池县儿童福利院", "children_welfare_home"),
        ("640323000007", "盐池县特殊教育学校", "special_education_school"),
    ):
        create_institution(code=code, name=name, institution_type=kind, parent=parent)  # fmt: skip


@pytest.mark.django_db
def test_tcm_rehabilitation_in_care_homes_counts_the_homes_that_provide_it(
    catalogue, care_homes, alice, zed, client_for
):
    text = (
        "机构,年度,服务提供方,服务内容,服务人数\n"
        "盐池县养老服务中心,2024,盐池县中医医院,针灸、推拿、艾灸,86\n"
        "640323000007,2024,盐池县中医医院,小儿推拿,20\n"
        "640323000005,2023,盐池县中医医院,推拿,40\n"
    )
    assert _import(client_for(alice), "care_rehab", text).status_code == 302
    evaluation = evaluate("rehab-2021-2025", COUNTY, "2024")
    elderly = evaluation.result("rehab.elderly_care_tcm_rehab")
    homes = CareSettingRehab.objects.filter(year=2024,
                                            orgunit__institution_type="elderly_care_home").count()  # fmt: skip
    assert (elderly.value, elderly.status) == (homes, "met")
    # the children's welfare home has no record for 2024: none provided there, and the county,
    # which keeps the register that year, falls short of the document's sentence
    child = evaluation.result("rehab.child_welfare_tcm_rehab")
    assert (child.value, child.status) == (0, "not_met")
    settings = evaluate("health-services-2021-2025", COUNTY, "2024").result(
        "health_services.rehab_settings_tcm_rehab"
    )
    assert (settings.value, settings.status) == (1, "met")  # the special education school
    # a health centre is not a care home: refused, with its row and column
    refused = "机构,年度,服务提供方,服务内容,服务人数\n640323100001,2024,县中医医院,推拿,5\n"
    response = _import(client_for(alice), "care_rehab", refused, "康复.csv")
    assert response.context["errors"][0].startswith("康复.csv，第 2 行，机构：本登记只登记养老机构")
    assert CareSettingRehab.objects.count() == 3
    # another county's bureau neither records for 盐池县's homes nor sees them
    assert _import(client_for(zed), "care_rehab", refused.replace("640323100001", "640323000005")
                   ).status_code == 200  # fmt: skip
    assert client_for(zed).get("/registers/care_rehab.json").json()["items"] == []


@pytest.mark.django_db
def test_share_of_grassroots_staff_trained(catalogue, alice, client_for):
    store_facts([(DataElement.objects.get(code=e), OrgUnit.objects.get(code=o), "2024", float(v))
                 for e, o, v in (("physicians", "640323100001", 12),
                                 ("registered_nurses", "640323100001", 10),
                                 ("physicians", "640323101001", 8),
                                 ("registered_nurses", "640323101001", 6),
                                 ("physicians", "640323100101", 1),
                                 ("registered_nurses", "640323100101", 0))])  # fmt: skip
    training = (
        "学员所在机构,培训类别,培训项目,学员,指导老师,开始日期,学时,结业日期\n"
        "640323100001,中医药知识培训,中医药知识培训,王医生,,2024-03-01,16,2024-03-03\n"
        "640323100001,中医药适宜技术推广培训,适宜技术培训,王医生,,2024-05-01,16,2024-05-03\n"
        "640323100001,中医药知识培训,中医药知识培训,李护士,,2024-03-01,16,2024-03-03\n"
        "640323100101,中医药知识培训,乡村医生培训,钱医生,,2024-06-01,16,2024-06-03\n"
        "640323000001,中医药知识培训,中医药知识培训,孙医生,,2024-03-01,16,2024-03-03\n"
    )
    assert _import(client_for(alice), "training", training).status_code == 302
    grassroots = ["township_health_center", "village_clinic"]
    people = set(Training.objects.filter(completed_on__year=2024, orgunit__institution_type__in=grassroots)
                 .values_list("orgunit", "trainee"))  # fmt: skip
    staff = 12 + 10 + 8 + 6 + 1 + 0  # 大水坑镇卫生院 trained nobody and still counts
    set_bureau_target(OrgUnit.objects.get(code=COUNTY), 2024, "grassroots_staff_trained_share",
                      0.1, user=alice)  # fmt: skip
    result = evaluate(PACK, COUNTY, "2024").result("workforce.grassroots_staff_trained_share")
    assert len(people) == 3  # 王医生 twice is one person
    assert (result.value, result.status, result.target) == (
        pytest.approx(len(people) / staff, abs=1e-4), "not_met", ">= 10%")  # fmt: skip
    # another county's institutions are no part of it: 2023 had no training at all
    assert evaluate(PACK, COUNTY, "2023").result(
        "workforce.grassroots_staff_trained_share").status == "target_unset"  # fmt: skip


@pytest.mark.django_db
def test_a_percent_target_is_typed_and_shown_as_a_percentage(catalogue, alice, client_for):
    from xinglin.standards.models import BureauTarget

    client = client_for(alice)
    response = client.post("/standards/targets/", {
        "orgunit": COUNTY, "year": "2024", "value-hypertension_tcm_management_rate": "45",
        "value-beds_per_1000": "4.5"})  # fmt: skip
    assert response.status_code == 302
    kept = dict(BureauTarget.objects.filter(year=2024).values_list("key", "value"))
    assert kept == {"hypertension_tcm_management_rate": 0.45, "beds_per_1000": 4.5}
    page = client.get("/standards/targets/", {"orgunit": COUNTY, "year": 2024}).content.decode()
    assert 'name="value-hypertension_tcm_management_rate" value="45"' in page
    assert "高血压患者中医药健康管理率" in page
    history = page.split('id="target-history"')[1]
    assert '<td class="num">—</td><td class="num">45%</td>' in history


@pytest.mark.django_db
def test_template_list_and_api_of_the_new_registers(catalogue, care_homes, alice, client_for):
    import openpyxl

    client = client_for(alice)
    book = openpyxl.load_workbook(io.BytesIO(client.get("/registers/keypop/template.xlsx").content))
    assert [c.value for c in book.worksheets[0][1]] == KEYPOP.splitlines()[0].split(",")
    response = client.post("/api/v1/registers/care_rehab", {"items": [
        {"orgunit": "640323000006", "year": 2024, "provider": "盐池县中医医院",
         "services": "小儿推拿", "people_served": 12}]}, content_type="application/json")  # fmt: skip
    assert response.status_code in (200, 201), response.content
    page = client.get("/registers/care_rehab/", {"q": "福利院"}).content.decode()
    assert "盐池县儿童福利院" in page and "小儿推拿" in page
    assert "children_welfare_home" not in page  # people read names, never codes
    result = evaluate("rehab-2021-2025", COUNTY, "2024").result("rehab.child_welfare_tcm_rehab")
    assert (result.value, result.status) == (1, "met")
