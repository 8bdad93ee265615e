"""Issue 20.1: no page lets a role without the export right narrow an ID-card number below a
thousand candidates; viewers see aggregates only; searches are POSTs and audited; personal
responses are never cached; a number typed at another institution reveals nothing of the
record there."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse

from conftest import PASSWORD
from xinglin.care.actions import record_assessment, register_resident
from xinglin.care.personal_id import make_id_card
from xinglin.care.tests.helpers import BALANCED
from xinglin.core.models import EventKind, SecurityEvent
from xinglin.network.actions import create_user
from xinglin.network.models import OrgUnit, Role

HMC, DSK = "640323100001", "640323101001"
TODAY = date.today()


def _people(n: int = 5) -> list[str]:
    numbers = [make_id_card("640323", date(1948, 5, 6) + timedelta(days=97 * i), 300 + i)
               for i in range(n)]  # fmt: skip
    hmc = OrgUnit.objects.get(code=HMC)
    for i, number in enumerate(numbers):
        resident = register_resident(number, institution=hmc, name=f"居民{i}")
        record_assessment(resident, institution=hmc, assessed_on=TODAY, answers=BALANCED)
    return numbers


def _candidates(prefix4: str, age: int, sex: str) -> int:
    """Independently: every well-formed number of the county 640323 (the area is known from
    the institution) whose holder is `age` today and has `sex`, starting with `prefix4`."""
    assert "640323".startswith(prefix4)
    count = 0
    day = date(TODAY.year - age - 1, TODAY.month, TODAY.day) + timedelta(days=1)
    while day <= date(TODAY.year - age, TODAY.month, TODAY.day):
        for serial in range(1000):
            if (serial % 2 == 1) == (sex == "男"):
                count += 1
        day += timedelta(days=1)
    return count


def _rows(html: str) -> list[list[str]]:
    table = html[html.index("<table") :]
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
        if "<td" in row and 'class="muted"' not in row
    ]


def test_supervisor_cannot_rebuild_numbers_from_the_resident_list(bob, client_for):
    numbers = _people()
    html = client_for(bob).get(reverse("care:residents")).content.decode()
    rows = _rows(html)
    assert len(rows) == len(numbers)
    for number in numbers:
        assert number[-4:] not in html  # no tail of the mask
        born = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
        assert born not in html  # no birth date
    for shown_id, _name, sex, age_text, *_ in rows:
        assert re.fullmatch(r"6403\*{14}", shown_id)
        age = int(re.match(r"\d+", age_text).group())
        assert _candidates(shown_id[:4], age, sex) >= 1000


def test_own_clerk_sees_the_mask_and_birth_date(carol, client_for):
    numbers = _people(2)
    html = client_for(carol).get(reverse("care:residents")).content.decode()
    for number in numbers:
        assert number[:4] + "*" * 10 + number[-4:] in html
        assert f"{number[6:10]}-{number[10:12]}-{number[12:14]}" in html


@pytest.mark.parametrize("name", ["care:residents", "care:assessments", "care:child_due"])
def test_viewers_see_aggregates_only(victor, client_for, name):
    _people(1)
    assert client_for(victor).get(reverse(name)).status_code == 403
    assert client_for(victor).get(reverse("care:distribution")).status_code == 200


def test_viewer_cannot_open_an_assessment(victor, client_for):
    _people(1)
    from xinglin.care.models import ConstitutionAssessment

    pk = ConstitutionAssessment.objects.get().pk
    assert client_for(victor).get(reverse("care:assessment", args=[pk])).status_code == 403


def test_search_is_a_post_audited_and_digits_only_within_export_scope(bob, carol, client_for):
    numbers = _people(3)
    tail = numbers[0][-4:]
    url = reverse("care:residents")
    # a GET query filters nothing (names and digits stay out of URLs)
    page = client_for(bob).get(url, {"q": "居民0"}).content.decode()
    assert len(_rows(page)) == 3
    assert len(_rows(client_for(bob).post(url, {"q": "居民0"}).content.decode())) == 1
    assert _rows(client_for(bob).post(url, {"q": tail}).content.decode()) == []
    assert len(_rows(client_for(carol).post(url, {"q": tail}).content.decode())) == 1
    events = SecurityEvent.objects.filter(kind=EventKind.PERSONAL_VIEW)
    assert events.filter(username="bob", detail="care residents search: 0 rows").exists()
    assert events.filter(username="carol", detail="care residents search: 1 rows").exists()
    assert not any(tail in e.detail or "居民" in e.detail for e in events)


def test_personal_responses_are_not_cached(carol, client_for):
    _people(1)
    client = client_for(carol)
    for url in (reverse("care:residents"), reverse("care:assessments"), "/api/v1/care/assessments"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url


def test_another_institutions_record_reveals_nothing(county, carol, client_for):
    dora = create_user("dora", PASSWORD, role=Role.INSTITUTION_CLERK,
                       orgunit=OrgUnit.objects.get(code=DSK))  # fmt: skip
    hmc, dsk = OrgUnit.objects.get(code=HMC), OrgUnit.objects.get(code=DSK)
    named = make_id_card("640323", date(1950, 1, 2), 11)
    unnamed = make_id_card("640323", date(1951, 1, 2), 13)
    register_resident(named, institution=hmc, name="王秘密")
    register_resident(unnamed, institution=hmc)
    # dora types the numbers at her own institution, with a name for the unnamed one
    resident = register_resident(named, institution=dsk)
    assessment = record_assessment(resident, institution=dsk, assessed_on=TODAY, answers=BALANCED)
    other = register_resident(unnamed, institution=dsk, name="冒名")
    other.refresh_from_db()
    assert other.name == ""  # the other institution's empty name was not filled
    html = client_for(dora).get(reverse("care:assessment", args=[assessment.pk])).content.decode()
    assert "王秘密" not in html
    assert named[-4:] not in html
    # the record's own clerk still sees the name of her resident
    assert "王秘密" in client_for(carol).get(reverse("care:residents")).content.decode()


@pytest.mark.parametrize("page", ["assessments", "distribution", "referrals", "rehab"])
@pytest.mark.parametrize("year", ["0", "-1", "99999", "x"])
def test_bad_years_are_404_not_500(alice, client_for, page, year):
    assert client_for(alice).get(f"/care/{page}/", {"year": year}).status_code == 404
