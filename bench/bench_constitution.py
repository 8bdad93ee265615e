"""Benchmark: vectorised constitution scoring against row-by-row scoring.

Generates 1,000,000 random 33-item questionnaires (seeded), times ``score_matrix`` on all of
them and ``score`` row by row on a 20,000-row sample, extrapolated to 1M. Target: < 2 s for 1M.
Run: python bench/bench_constitution.py [--rows N] [--sample N] [--seed N]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

TARGET_SECONDS = 2.0


def generate(rows: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(1, 6, size=(rows, 33), dtype=np.int8)


def scorers() -> tuple[Callable, Callable]:
    # Run from a checkout without installing: the repository root holds the xinglin package.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from xinglin.care.constitution import score, score_matrix

    return score, score_matrix


def time_matrix(answers: np.ndarray, repeats: int) -> float:
    # Best of a few runs: the figure should reflect the code, not a noisy neighbour.
    score_matrix = scorers()[1]
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        score_matrix(answers)
        best = min(best, time.perf_counter() - start)
    return best


def time_rows(answers: np.ndarray) -> float:
    score = scorers()[0]
    rows = answers.tolist()  # plain ints, as a caller with one form at a time would pass
    start = time.perf_counter()
    for row in rows:
        score(row)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    answers = generate(args.rows, args.seed)
    matrix_s = time_matrix(answers, args.repeats)
    sample_s = time_rows(answers[: args.sample])
    rows_s = sample_s * args.rows / args.sample

    print(f"rows: {args.rows:,}  (seed {args.seed})")
    print(
        f"score_matrix: {matrix_s:.3f} s  ({args.rows / matrix_s:,.0f} rows/s, best of "
        f"{args.repeats})"
    )
    print(
        f"score row by row: {sample_s:.3f} s for {args.sample:,} rows, "
        f"extrapolated {rows_s:.1f} s for {args.rows:,}"
    )
    print(f"speed-up: {rows_s / matrix_s:.0f}x")
    within = args.rows != 1_000_000 or matrix_s < TARGET_SECONDS
    print(f"target < {TARGET_SECONDS} s for 1M rows: {'met' if within else 'NOT met'}")
    return 0 if within else 1


if __name__ == "__main__":
    raise SystemExit(main())
