"""The engine rounds a statement's figures column-wise (engine._rounded) exactly as Python's
round(value, DIGITS) rounds one figure: the same double, bit for bit, ties and edges too."""

import numpy as np

from xinglin.evaluation.engine import _rounded
from xinglin.evaluation.results import DIGITS


def _bits_equal(expected: np.ndarray, got: np.ndarray) -> np.ndarray:
    return (expected.view(np.int64) == got.view(np.int64)) | (np.isnan(expected) & np.isnan(got))


def test_column_wise_rounding_is_pythons_round_bit_for_bit():
    rng = np.random.default_rng(25)
    ties = (rng.integers(0, 10**9, 20_000) + 0.5) / 10**DIGITS  # decimal ties, as doubles
    values = np.concatenate([
        rng.random(50_000), -rng.random(20_000), rng.random(20_000) * 1e6,
        rng.integers(0, 10**6, 20_000) / rng.integers(1, 10**4, 20_000), ties, -ties,
        np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1e300, -1e300, 1e-300, 2.0**40, 2.0**53,
                  0.5e-9, 1.5e-9, 2.5e-9, -0.5e-9, 2.675e-9, 0.1234567895, 1.0000000005]),
    ])  # fmt: skip
    expected = np.array([v if v != v else round(v, DIGITS) for v in values.tolist()])
    got = _rounded(values)
    assert got.dtype == np.float64 and len(got) == len(values)
    assert _bits_equal(expected, got).all(), values[~_bits_equal(expected, got)][:10]


def test_numpys_plain_rounding_would_differ_somewhere():
    """What the fallback is for: numpy's rint(x * 10^9) / 10^9 alone differs from round()."""
    rng = np.random.default_rng(7)
    values = (rng.integers(0, 10**9, 20_000) + 0.5) / 10**DIGITS
    expected = np.array([round(v, DIGITS) for v in values.tolist()])
    plain = np.rint(values * 10.0**DIGITS) / 10.0**DIGITS
    assert not _bits_equal(expected, plain).all()
    assert _bits_equal(expected, _rounded(values)).all()
