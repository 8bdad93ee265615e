"""Issue 18.4 (rest): a percent element is entered and shown as a percent in the web form (35
means 35 %, "35%" too), with a % beside the field, help that agrees and messages that speak
percent; stored as the element's declared scale (a fraction), by the same rule
(rules.to_stored) as the workbook and file imports."""

from __future__ import annotations

import re

import pytest

from xinglin.collection.models import DataValue
from xinglin.collection.tests.conftest import HMC

pytestmark = pytest.mark.usefixtures("county", "catalogue")
SHARE = "performance_score_tcm_share"
URL = f"/collection/{HMC}/2024/value/{SHARE}/"


def _stored():
    row = DataValue.objects.filter(orgunit__code=HMC, period="2024", element__code=SHARE).first()
    return row.value if row else None


def _field(html: str) -> str:
    return re.search(rf'<div class="field[^"]*" id="field-{SHARE}">.*?\n</div>', html, re.S).group()


def test_the_field_shows_a_percent_suffix_and_help_that_agrees(client_for, carol):
    page = client_for(carol).get(f"/collection/{HMC}/2024/")
    field = _field(page.content.decode())
    assert re.search(
        rf'name="{SHARE}"[^>]*><span class="suffix" aria-hidden="true">%</span>', field
    )
    assert "按百分数填写：35 即 35%。" in field
    assert "如 15 即 15%" in field  # the pack's own help speaks percent too
    assert "小数" not in field
    assert 'name="physicians"' in page.content.decode()
    physicians = page.content.decode().split('id="field-physicians"')[1].split("</div>")[0]
    assert 'class="suffix"' not in physicians


@pytest.mark.parametrize(("typed", "stored", "shown"), [
    ("35", 0.35, "35"), ("35%", 0.35, "35"), ("17.6 %", 0.176, "17.6"), ("0.5", 0.005, "0.5"),
])  # fmt: skip
def test_typed_as_a_percent_stored_as_a_fraction_shown_as_typed(
    client_for, carol, typed, stored, shown
):
    client = client_for(carol)
    page = client.post(URL, {SHARE: typed})
    assert page.status_code == 200
    assert _stored() == stored
    page = client.get(f"/collection/{HMC}/2024/")
    assert f'name="{SHARE}" value="{shown}"' in page.content.decode()


def test_the_messages_speak_percent(client, client_for, carol):
    client.cookies["django_language"] = "en"
    page = client_for(carol).post(URL, {SHARE: "150"})
    assert "a percentage cannot be above 100" in page.content.decode()
    page = client_for(carol).post(URL, {SHARE: "-1%"})
    assert "a percentage cannot be below 0" in page.content.decode()
    assert _stored() is None


def test_a_file_of_fractions_accepts_a_percent_sign_and_explains_a_percent_without(
    csv_file, settings
):
    from django.utils import translation

    from xinglin.collection.actions import import_file

    with translation.override("en"):
        result = import_file(csv_file([f"{HMC},2024,{SHARE},35"]))
        assert "carries percentages as fractions (35% is 0.35)" in str(result.problems[0])
        assert import_file(csv_file([f"{HMC},2024,{SHARE},35%"])).errors == []
    assert _stored() == 0.35
