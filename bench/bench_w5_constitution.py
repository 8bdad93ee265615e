"""W5 — constitution scoring of 1,000,000 questionnaires (target ≤ 2 s) against row-by-row
Python. The measurement itself is bench/bench_constitution.py (care's author), run here with
the W5 size: `score_matrix` on 1 M seeded questionnaires, `score` row by row on a sample,
extrapolated to 1 M. Run: python bench/bench_w5_constitution.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    command = [sys.executable, str(HERE / "bench_constitution.py"), "--rows", "1000000"]
    sys.exit(subprocess.call(command))
