from __future__ import annotations

from datetime import date

import pytest

from xinglin.core.models import SecurityEvent
from xinglin.evaluation.engine import evaluate
from xinglin.network.models import OrgUnit
from xinglin.plans.actions import review_evidence, upload_evidence

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _status(indicator: str) -> str:
    evaluation = evaluate("demo-county-2022", "640323", "2025")
    return next(
        r.status for r in evaluation.results if r.indicator == indicator and r.orgunit == "640323"
    )


@pytest.fixture
def evidence_item(county, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    from xinglin.standards.loader import get_pack

    return next(i.id for i in get_pack("demo-county-2022").indicators if not i.is_computed)


@pytest.mark.parametrize(("accept", "expected"), [(True, "met"), (False, "not_met")])
def test_a_reviewed_evidence_item_settles_the_engine_status(evidence_item, alice, accept, expected):
    assert _status(evidence_item) == "awaiting_evidence"
    evidence = upload_evidence(
        orgunit=OrgUnit.objects.get(code="640323"),
        name="plan.pdf",
        content=PDF,
        user=alice,
        pack="demo-county-2022",
        indicator=evidence_item,
        period=(date(2025, 1, 1), None),
    )
    assert _status(evidence_item) == "awaiting_evidence"
    review_evidence(evidence, user=alice, accept=accept, comment="" if accept else "不完整")
    assert _status(evidence_item) == expected
    event = SecurityEvent.objects.get(kind="evidence_decision")
    assert (event.username, event.orgunit.code) == ("alice", "640323")
