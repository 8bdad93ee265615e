"""Issue 19 §4: a bureau administrator adopts a plan or indicator pack for a unit in scope
from the web, sees which documents judge the county and whose documents they are; another
place's document is adopted only with an explicit confirmation. Scoped and audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from xinglin.network.models import OrgUnit
from xinglin.plans.models import Plan
from xinglin.standards.adoption import adopted_pack_codes
from xinglin.standards.models import AdoptionEvent, PackAdoption

URL = reverse("standards:adoption")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"


def _post(client, **data):
    return client.post(URL, {"orgunit": "640323", **data}, follow=True)


def test_the_page_shows_whose_document_each_pack_is(alice, client_for):
    text = client_for(alice).get(URL + "?orgunit=640323").text
    assert "盐池县中医药康复服务能力提升工程实施方案" in text
    assert "宁夏回族自治区吴忠市盐池县" in text  # rehab-2021-2025 is 盐池县's own
    assert "内蒙古自治区呼和浩特市回民区" in text  # demo-county-2022 is 回民区's


def test_adopting_its_own_plan_judges_the_county_loads_the_plan_and_is_audited(alice, client_for):
    response = _post(client_for(alice), pack="rehab-2021-2025", since="2021")
    assert response.status_code == 200
    county = OrgUnit.objects.get(code="640323")
    assert adopted_pack_codes(county) == ["rehab-2021-2025"]
    assert PackAdoption.objects.get(orgunit=county).since == 2021
    assert Plan.objects.filter(orgunit=county, pack="rehab-2021-2025").exists()
    event = AdoptionEvent.objects.get()
    assert (event.user, event.change, event.other_place) == (alice, "adopted", False)
    adopted = response.text.split('id="adopted"')[1].split("</table>")[0]
    assert "盐池县中医药康复服务能力提升工程实施方案" in adopted


def test_another_places_document_needs_a_confirmation_naming_its_place(alice, client_for):
    client = client_for(alice)
    refused = _post(client, pack="demo-county-2022", since="2023")
    assert "内蒙古自治区呼和浩特市回民区" in refused.text
    assert not PackAdoption.objects.exists() and not AdoptionEvent.objects.exists()
    _post(client, pack="demo-county-2022", since="2023", confirm_other_place="1")
    assert PackAdoption.objects.get().pack_code == "demo-county-2022"
    assert AdoptionEvent.objects.get().other_place is True


def test_withdrawing_is_audited(alice, client_for):
    client = client_for(alice)
    _post(client, pack="rehab-2021-2025", since="2021")
    _post(client, pack="rehab-2021-2025", withdraw="1")
    assert not PackAdoption.objects.exists()
    assert list(AdoptionEvent.objects.values_list("change", flat=True)) == ["withdrawn", "adopted"]
    assert Plan.objects.filter(pack="rehab-2021-2025").exists()  # the plan's facts stay


def test_only_a_bureau_administrator_in_scope_may_adopt(bob, victor, olga, client_for, client):
    # a township supervisor does not see the county (404, not revealed); a viewer sees it
    assert _post(client_for(bob), pack="rehab-2021-2025").status_code == 404
    assert _post(client_for(victor), pack="rehab-2021-2025").status_code == 403
    assert client_for(olga).get(URL + "?orgunit=640323").status_code == 404
    assert _post(client_for(olga), pack="rehab-2021-2025").status_code == 404
    assert not PackAdoption.objects.exists()
    # a viewer sees what judges the county, without the form
    text = client_for(victor).get(URL + "?orgunit=640323").text
    assert 'id="adopted"' in text and 'id="adopt"' not in text
