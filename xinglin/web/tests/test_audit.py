"""Audit: logins, exports of personal data, approvals, evidence decisions and every value
change are recorded, and the bureau administrator can read them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from conftest import PASSWORD
from xinglin.collection.actions import approve_submission, get_submission, submit_form, write_rows
from xinglin.collection.models import AuditEntry
from xinglin.core.models import EventKind, SecurityEvent
from xinglin.plans.actions import review_evidence
from xinglin.plans.models import Evidence
from xinglin.standards.models import DataElement
from xinglin.web.tests import world


@pytest.fixture
def built(county, alice, bob, carol, dave, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return world.build({"HMC": bob, "DSK": dave})


def _kinds() -> list[tuple[str, str]]:
    return list(SecurityEvent.objects.order_by("id").values_list("kind", "username"))


def test_logins_and_failures_are_recorded(client, carol):
    client.post(reverse("login"), {"username": "carol", "password": "wrong"})
    client.post(reverse("login"), {"username": "carol", "password": PASSWORD})
    assert _kinds() == [(EventKind.LOGIN_FAILED, "carol"), (EventKind.LOGIN, "carol")]


def test_a_value_change_is_audited_and_its_history_shown(built, client_for, carol, alice):
    url = reverse("collection:save_value", args=["640323100001", world.MONTH, "total_visits"])
    client_for(carol).post(url, {"total_visits": "555", "confirm": "1"})
    entry = AuditEntry.objects.filter(orgunit__code="640323100001").order_by("-id").first()
    assert (entry.old_value, entry.new_value, entry.user.username) == (
        world.VALUES["HMC"],
        555.0,
        "carol",
    )
    history = reverse("collection:history", args=["640323100001", world.MONTH, "total_visits"])
    assert "555" in client_for(alice).get(history).content.decode()


def test_an_evidence_decision_is_recorded(built, bob):
    evidence = Evidence.objects.get(pk=built["HMC"].ids["evidence"])
    review_evidence(evidence, user=bob, accept=True)
    assert (EventKind.EVIDENCE_DECISION, "bob") in _kinds()


def test_an_approval_is_recorded(built, bob, carol):
    unit = built["HMC"].institution
    tcm = DataElement.objects.get(code="tcm_visits")  # the form's other required value
    write_rows([(tcm, unit, world.MONTH, 0.0)])
    submit_form(unit, world.MONTH, user=carol)
    approve_submission(get_submission(unit, world.MONTH), user=bob)
    assert (EventKind.APPROVAL, "bob") in _kinds()
