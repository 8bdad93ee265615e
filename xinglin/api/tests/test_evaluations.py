from __future__ import annotations

import pytest

from xinglin.evaluation import exports
from xinglin.evaluation.engine import evaluate

QUERY = {"pack": "demo-county-2022", "orgunit": "640323100", "period": "2024"}


def test_evaluations_are_the_engine_json(client, bob, stored, bearer):
    response = client.get("/api/v1/evaluations", {**QUERY, "limit": 1000}, **bearer(bob))
    assert response.status_code == 200
    body = response.json()
    expected = exports.as_rows(evaluate("demo-county-2022", "640323100", "2024").results)
    assert body["count"] == len(expected)
    assert body["items"] == expected
    share = next(
        r for r in body["items"]
        if r["indicator"] == "grassroots.tcm_visit_share" and r["orgunit"] == "640323100001"
    )  # fmt: skip
    assert (share["value"], share["numerator"], share["denominator"]) == (0.375, 450.0, 1200.0)


def test_evaluations_outside_scope_are_404(client, carol, dave, stored, bearer):
    response = client.get("/api/v1/evaluations", QUERY, **bearer(dave))
    assert response.status_code == 404


@pytest.mark.parametrize("field, value", [("pack", "no-such-pack"), ("period", "2024Q1")])
def test_evaluation_of_unknown_pack_or_period_is_404(client, bob, stored, bearer, field, value):
    response = client.get("/api/v1/evaluations", {**QUERY, field: value}, **bearer(bob))
    assert response.status_code == 404
