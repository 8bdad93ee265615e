from __future__ import annotations

import io

import openpyxl
import pytest
from django.urls import reverse
from docx import Document

from xinglin.documents.models import Narrative, TypicalCase
from xinglin.network.models import OrgUnit


def test_the_reports_page_lists_the_documents_of_the_scope(client_for, alice):
    response = client_for(alice).get(reverse("documents:home") + "?orgunit=640323&year=2025")
    assert response.status_code == 200
    assert reverse("documents:download", args=["640323", 2025, "annual", "docx"]) in (
        response.content.decode()
    )


def test_an_outsider_cannot_see_another_countys_report(client_for, dave):
    # dave supervises 大水坑镇; 花马池镇 is outside his scope
    client = client_for(dave)
    assert (
        client.get(reverse("documents:report", args=["640323100", 2025, "annual"])).status_code
        == 404
    )
    url = reverse("documents:download", args=["640323100", 2025, "annual", "docx"])
    assert client.get(url).status_code == 404


def test_a_supervisor_saves_narratives_that_appear_in_the_download(client_for, bob, figures_county):
    client = client_for(bob)
    url = reverse("documents:report", args=["640323100", 2025, "annual"])
    response = client.post(url, {"work_done": "全镇开展中医药进村活动12场。", "problems": ""})
    assert response.status_code == 302
    assert Narrative.objects.get(orgunit__code="640323100", section="work_done").text == (
        "全镇开展中医药进村活动12场。"
    )
    download = client.get(reverse("documents:download", args=["640323100", 2025, "annual", "docx"]))
    assert download.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(download.content)).paragraphs)
    assert "全镇开展中医药进村活动12场。" in text
    assert "花马池镇2025年度中医药工作总结" in text


def test_a_viewer_reads_but_cannot_change_narratives(client_for, victor, county):
    client = client_for(victor)
    url = reverse("documents:report", args=["640323", 2025, "annual"])
    assert client.get(url).status_code == 200
    assert client.post(url, {"work_done": "x"}).status_code == 403
    assert not Narrative.objects.exists()


def test_typical_cases_are_capped_at_two(client_for, alice, county):
    client = client_for(alice)
    url = reverse("documents:add_case", args=["640323", 2025])
    for title in ("甲", "乙", "丙"):
        client.post(url, {"title": title, "body": "正文", "kind": "final"})
    assert list(TypicalCase.objects.values_list("title", flat=True)) == ["甲", "乙"]


def test_a_clerk_cannot_delete_the_countys_case(client_for, carol, county):
    case = TypicalCase.objects.create(orgunit=OrgUnit.objects.get(code="640323"), year=2025,
                                      title="甲", body="正文")  # fmt: skip
    response = client_for(carol).post(reverse("documents:delete_case", args=[case.pk]))
    assert response.status_code == 404
    assert TypicalCase.objects.count() == 1


@pytest.mark.parametrize("fmt", ["pdf", "xlsx"])
def test_downloads_in_each_format(client_for, alice, figures_county, fmt):
    response = client_for(alice).get(
        reverse("documents:download", args=["640323", 2025, "final", fmt])
    )
    assert response.status_code == 200
    if fmt == "xlsx":
        assert openpyxl.load_workbook(io.BytesIO(response.content)).sheetnames[1] == "数据附件"
    else:
        assert response.content.startswith(b"%PDF")


def test_the_download_is_named_as_the_document_is_titled(client_for, alice, figures_county):
    from urllib.parse import quote

    response = client_for(alice).get(
        reverse("documents:download", args=["640323", 2025, "annual", "docx"])
    )
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert quote("盐池县2025年度中医药工作总结.docx") in disposition
