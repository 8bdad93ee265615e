#!/usr/bin/env bash
# Benchmarks print figures; they are not tests. Run one at a time (the machine has 2 cores and
# every figure is a wall-clock time). Generated data is cached under var/bench/.
# The W1/W2 pandas peers and bench_spark.py need the optional bench packages:
#   .venv/bin/pip install pandas==3.1.1 pyspark==4.3.0   (Spark also needs Java 17)
set -u
for f in bench/bench_w*.py bench/bench_spark.py bench/bench_engine.py bench/bench_reports.py; do
  [ -f "$f" ] || continue
  echo "== $f"
  .venv/bin/python "$f" || echo "(failed: $f)"
done
