"""Issue 18.5: submissions that mean something — required values, separate duties, and
approval confirmed."""

from __future__ import annotations

import pytest

from xinglin.collection import rules
from xinglin.collection.actions import (
    WorkflowError,
    approve_submission,
    submit_form,
    write_rows,
)
from xinglin.collection.models import Submission
from xinglin.collection.tests.conftest import HMC
from xinglin.network.models import OrgUnit
from xinglin.standards.models import DataElement

pytestmark = pytest.mark.usefixtures("county", "catalogue")
MONTH = "202401"


def _unit() -> OrgUnit:
    return OrgUnit.objects.get(code=HMC)


def _fill(*codes: str) -> None:
    elements = DataElement.objects.filter(code__in=codes)
    write_rows([(element, _unit(), MONTH, 12.0) for element in elements])


def test_the_monthly_forms_require_their_visit_counts():
    assert rules.load().required_for("township_health_center.monthly") == {
        "total_visits",
        "tcm_visits",
    }
    assert rules.load().required_for("township_health_center.yearly") == set()


def test_an_empty_form_cannot_be_submitted_and_the_refusal_names_what_is_missing(carol):
    with pytest.raises(WorkflowError) as refused:
        submit_form(_unit(), MONTH, user=carol)
    names = [DataElement.objects.get(code=c).name for c in ("total_visits", "tcm_visits")]
    assert all(name in str(refused.value) for name in names)
    _fill("total_visits")
    with pytest.raises(WorkflowError) as refused:
        submit_form(_unit(), MONTH, user=carol)
    assert names[1] in str(refused.value) and names[0] not in str(refused.value)
    assert not Submission.objects.filter(status="submitted").exists()
    _fill("tcm_visits")
    assert submit_form(_unit(), MONTH, user=carol).status == "submitted"


def test_the_submitter_does_not_approve(alice, bob, settings):
    _fill("total_visits", "tcm_visits")
    submission = submit_form(_unit(), MONTH, user=alice)  # the bureau may report and approve
    with pytest.raises(WorkflowError):
        approve_submission(submission, user=alice)
    assert Submission.objects.get().status == "submitted"
    assert approve_submission(submission, user=bob).status == "approved"


def test_separate_duties_can_be_turned_off(alice, settings):
    settings.SEPARATE_DUTIES = False
    _fill("total_visits", "tcm_visits")
    submission = submit_form(_unit(), MONTH, user=alice)
    assert approve_submission(submission, user=alice).status == "approved"


def test_approving_on_the_web_needs_the_box_ticked(client_for, bob, carol):
    _fill("total_visits", "tcm_visits")
    submission = submit_form(_unit(), MONTH, user=carol)
    url = f"/collection/{HMC}/{MONTH}/approve/"
    version = {"version": submission.data_version}
    page = client_for(bob).post(url, version, follow=True)
    assert "勾选" in page.content.decode() or "tick" in page.content.decode()
    assert Submission.objects.get().status == "submitted"
    client_for(bob).post(url, {**version, "confirmed": "1"})
    assert Submission.objects.get().status == "approved"
