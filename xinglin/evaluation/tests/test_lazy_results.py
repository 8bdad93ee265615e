"""Results kept as columns: statuses decided column-wise equal the scalar rules, one unit's
results equal the same unit's in the full list, the verdict does not depend on building the
results, and DuckDB's side-by-side statements give what one-at-a-time gives."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from xinglin.evaluation import backends
from xinglin.evaluation.engine import _verdict, evaluate
from xinglin.evaluation.tests.test_backends import _fill, _rows
from xinglin.evaluation.tests.test_engine_reference import _pack, world  # noqa: F401
from xinglin.standards.expressions import TOLERANCE, parse_target
from xinglin.warehouse import Warehouse
from xinglin.warehouse.export import export_tables

TARGETS = [">= 35%", "<= 5", "> 0.6", "< 10", "= 100%", "between 0.6 and 0.8", ">= 0"]


@pytest.mark.parametrize("text", TARGETS)
def test_the_column_wise_test_of_a_target_is_the_scalar_one(text):
    target = parse_target(text)
    edges = [target.low, target.high or target.low]
    near = [e + d for e in edges for d in (-2 * TOLERANCE, -TOLERANCE, 0.0, TOLERANCE,
                                           2 * TOLERANCE, -0.5, 0.5)]  # fmt: skip
    values = np.array(near + list(np.random.default_rng(1).uniform(-20, 20, 2000)))
    assert target.met_mask(values).tolist() == [target.is_met(v) for v in values.tolist()]


def test_one_units_results_are_the_same_as_in_the_full_list(world):  # noqa: F811
    _fill(5)
    lazy = evaluate(_pack(), "640323", "2024", backend="database", tree=True)
    codes = ["640323", "640323100", "640323101", "640323100001", "640323101102"]
    one_by_one = {code: [r.as_json() for r in lazy.at(code)] for code in codes}
    assert not lazy.results.built  # only those units' results were built
    assert len(lazy.results) > len(one_by_one["640323"])  # len() needs nothing built
    everything = [r.as_json() for r in lazy.results]
    for code in codes:
        assert one_by_one[code] == [r for r in everything if r["orgunit"] == code]
    root = [r for r in lazy.results if r.orgunit == "640323"]
    assert _verdict(root) == lazy.verdict
    failing = [r for r in root if r.failing]
    assert failing, "the generated data leaves some institution short"
    for result in failing:  # a division lists exactly the institutions beneath that fall short
        short = sorted(
            r.orgunit for r in lazy.results
            if r.indicator == result.indicator and r.orgunit.startswith("640323")
            and len(r.orgunit) == 12 and r.status in ("not_met", "no_data")
        )  # fmt: skip
        assert result.failing == short
        assert set(result.why) == set(short)


def test_side_by_side_statements_give_the_one_at_a_time_results(world, tmp_path, monkeypatch):  # noqa: F811
    _fill(2)
    export_tables(tmp_path)
    warehouse = Warehouse(tmp_path)
    runs = []
    for parallel in (1, 2, 3):
        monkeypatch.setattr(backends, "PARALLEL", parallel)
        evaluation = evaluate(_pack(), "640323", "2024", backend="warehouse", warehouse=warehouse)
        runs.append((_rows(evaluation), evaluation.verdict))
    for a, b in itertools.pairwise(runs):
        assert a == b


def test_evidence_items_are_rows_built_like_the_computed_ones(world):  # noqa: F811
    """Evidence items are kept as rows (one block per item) like the computed indicators:
    a unit's results, its standing and the full list agree."""
    _fill(2)
    lazy = evaluate("demo-county-2022", "640323", "2024", backend="database", tree=True)
    assert not lazy.results.built
    county = lazy.at("640323")
    everything = [r.as_json() for r in lazy.results]
    evidence = [r for r in everything if r["kind"] == "evidence"]
    assert evidence and {r["orgunit"] for r in evidence} == {"640323"}
    assert [r.as_json() for r in county] == [r for r in everything if r["orgunit"] == "640323"]
    assert {r["status"] for r in evidence} == {"awaiting_evidence"}  # none reviewed here
    assert [(s.indicator, s.status) for s in lazy.results.standing("640323")] == [
        (r.indicator, r.status) for r in county
    ]
    assert lazy.at("640323101") == [r for r in lazy.results if r.orgunit == "640323101"]
