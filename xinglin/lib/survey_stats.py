"""Statistics for surveys: the Wilson score interval for a proportion, the sample size for a
margin of error (with finite-population correction), and proportional allocation of a sample
across strata by the largest-remainder method. Pure functions, no Django."""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

CONFIDENCE = 0.95


def z_value(confidence: float = CONFIDENCE) -> float:
    """The two-sided standard-normal quantile (1.959964 for 95%)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


@dataclass(frozen=True)
class Interval:
    estimate: float
    lower: float
    upper: float


def wilson(successes: int, n: int, confidence: float = CONFIDENCE) -> Interval | None:
    """The Wilson score interval without continuity correction (Newcombe 1998, method 3).
    Returns None when there are no observations. Bounds are proportions in [0, 1]."""
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"need 0 <= successes <= n, got {successes}/{n}")
    if n == 0:
        return None
    z = z_value(confidence)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # At p = 0 or 1 the bound is exactly 0 or 1; floating point would leave a crumb.
    lower = 0.0 if successes == 0 else max(0.0, centre - half)
    upper = 1.0 if successes == n else min(1.0, centre + half)
    return Interval(p, lower, upper)


def sample_size(
    margin: float,
    expected: float = 0.5,
    population: float | None = None,
    confidence: float = CONFIDENCE,
) -> int:
    """Respondents needed to estimate a proportion within ±`margin` (a proportion, 0.05 = 5
    points): n0 = z²p(1−p)/e², and with a finite population N, n = n0 / (1 + (n0 − 1)/N)
    (Cochran 1977, §4.4). Rounded up; never more than the population."""
    if not 0 < margin < 1:
        raise ValueError(f"margin must be between 0 and 1, not {margin}")
    if not 0 < expected < 1:
        raise ValueError(f"expected proportion must be between 0 and 1, not {expected}")
    z = z_value(confidence)
    n0 = z * z * expected * (1 - expected) / (margin * margin)
    if population is None:
        return math.ceil(n0 - 1e-9)
    if population <= 0:
        raise ValueError(f"population must be positive, not {population}")
    n = n0 / (1 + (n0 - 1) / population)
    return min(math.ceil(n - 1e-9), math.ceil(population))


def margin_of_error(
    n: int, expected: float = 0.5, population: float | None = None, confidence: float = CONFIDENCE
) -> float | None:
    """The half-width (a proportion) that `n` respondents give at `expected`, with the
    finite-population correction sqrt((N − n)/(N − 1)) when N is known. None when n = 0."""
    if n <= 0:
        return None
    z = z_value(confidence)
    margin = z * math.sqrt(expected * (1 - expected) / n)
    if population is not None and population > 1:
        margin *= math.sqrt(max(0.0, population - n) / (population - 1))
    return margin


def allocate(total: int, sizes: dict[str, float]) -> dict[str, int]:
    """Split `total` across strata in proportion to `sizes` by the largest-remainder
    (Hamilton) method, so the parts always sum to `total`. Ties go to the larger stratum,
    then to the earlier key in sorted order."""
    if total < 0:
        raise ValueError(f"total must not be negative, not {total}")
    if any(size < 0 for size in sizes.values()):
        raise ValueError("sizes must not be negative")
    whole = sum(sizes.values())
    if whole <= 0:
        if total == 0:
            return dict.fromkeys(sizes, 0)
        raise ValueError("cannot allocate over strata whose sizes sum to zero")
    quotas = {key: total * size / whole for key, size in sizes.items()}
    parts = {key: math.floor(quota) for key, quota in quotas.items()}
    left = total - sum(parts.values())
    order = sorted(quotas, key=lambda key: (-(quotas[key] - parts[key]), -sizes[key], key))
    for key in order[:left]:
        parts[key] += 1
    return parts
