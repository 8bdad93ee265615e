"""Issue 21.1: the everyday pages of each persona speak in names, never in the system's codes
(status codes, expressions, pack/element/indicator codes, institution codes, `seeds/` file
names, `>=`, usernames). Codes stay available inside each page's "how it is computed" detail,
which `visible_text` leaves out on purpose."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from xinglin.network.actions import create_user
from xinglin.network.models import OrgUnit, Role
from xinglin.web.tests import world
from xinglin.web.tests.visible import internal_codes, visible_text

PASSWORD = "Xinglin-test-2026"
NAMES = {"alice": ("王", "丽"), "bob": ("包", "博"), "carol": ("陈", "可"), "victor": ("魏", "韬"),
         "lisa": ("李", "莎"), "dave": ("丁", "达")}  # fmt: skip
YEAR = world.YEAR
SCORE = f"?pack=demo-county-2022&period={YEAR}"


@pytest.fixture
def people(alice, bob, carol, dave, victor):
    scopes = world.build({"HMC": bob, "DSK": dave})
    lisa = create_user(
        "lisa", PASSWORD, role=Role.DEPARTMENT_LIAISON,
        orgunit=OrgUnit.objects.get(code="640323"), department="education_sports",
    )  # fmt: skip
    for user in (alice, bob, carol, dave, victor, lisa):
        user.last_name, user.first_name = NAMES[user.username]
        user.save()
    return {"alice": alice, "bob": bob, "carol": carol, "victor": victor, "lisa": lisa,
            "scopes": scopes}  # fmt: skip


def _pages(people) -> dict[str, list[str]]:
    hmc = people["scopes"]["HMC"]
    institution, township = hmc.institution.code, hmc.township.code
    return {
        "alice": [
            "/",
            f"/evaluation/{SCORE}&orgunit=640323",
            f"/evaluation/{SCORE}&orgunit=640323&status=all",
            f"/evaluation/data/{SCORE}&orgunit=640323&indicator=grassroots.tcm_visit_share",
            "/collection/",
            "/collection/completeness/",
            f"/collection/{institution}/{world.MONTH}/history/total_visits/",
            "/plans/",
            f"/plans/tasks/{hmc.ids['task']}/",
            f"/plans/{hmc.ids['plan']}/",
            "/plans/rectification/",
            f"/plans/{hmc.ids['plan']}/tasks/?q=中医",
            "/plans/evidence/",
            "/plans/evidence/?status=pending",
            (
                f"/plans/rectification/new/?pack=demo-county-2022&orgunit=640323&period={YEAR}"
                "&indicator=grassroots.tcm_visit_share&value=0.142857143"
            ),
        ],
        "bob": ["/", f"/evaluation/{SCORE}&orgunit={township}&status=all", "/collection/"],
        "carol": ["/", f"/collection/{institution}/{YEAR}/", "/collection/"],
        "victor": ["/", f"/evaluation/{SCORE}&orgunit=6403&status=all"],
        "lisa": ["/", "/plans/", "/plans/evidence/", f"/plans/{hmc.ids['plan']}/tasks/"],
    }


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_no_internal_code_on_any_persona_everyday_page(client, people, language):
    usernames = ["alice", "bob", "carol", "victor", "lisa", "dave"]
    problems = []
    client.cookies["django_language"] = language
    for username, urls in _pages(people).items():
        client.force_login(User.objects.get(username=username))
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (username, url, response.status_code)
            found = internal_codes(visible_text(response.text), usernames)
            if found:
                problems.append((username, url, found))
    assert problems == [], "\n".join(map(str, problems))


def test_the_detector_finds_what_it_must(people):
    """The check above cannot pass by missing things: each kind of code is caught."""
    page = (
        "<p>not_met share(has_tcm_corner = 1) demo-county-2022 has_tcm_corner "
        "grassroots.tcm_visit_share 640323100001 seeds/001_x.txt >= 35% alice</p>"
        '<details class="how"><summary>x</summary><code>own(residents)</code></details>'
    )
    found = internal_codes(visible_text(page), ["alice"])
    assert found == [
        "not_met", "share(", "seeds/", ">=", "demo-county-2022", "has_tcm_corner",
        "grassroots.tcm_visit_share", "640323100001", "alice",
    ]  # fmt: skip
