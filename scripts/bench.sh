#!/usr/bin/env bash
# Benchmarks print figures; they are not tests. Each bench/*.py runs on its own.
set -u
for f in bench/bench_*.py; do
  echo "== $f"
  .venv/bin/python "$f" || echo "(failed: $f)"
done
