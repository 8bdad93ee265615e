#!/usr/bin/env bash
# The whole suite: lint, migrations check, tests on SQLite, then the database tests on
# PostgreSQL where it answers. XINGLIN_REQUIRE_POSTGRES=1 (set by .ci/run) turns a
# PostgreSQL that does not answer into a failure instead of a skip.
set -euo pipefail
BIN=.venv/bin
export XINGLIN_VAR_DIR="${XINGLIN_VAR_DIR:-$PWD/var}"
echo "== ruff"
$BIN/ruff check .
echo "== lint-imports (the floors of docs/architecture.md)"
$BIN/lint-imports --no-cache
echo "== mypy (strict on lib, standards and evaluation; see [tool.mypy] in pyproject.toml)"
$BIN/mypy
echo "== makemigrations --check"
XINGLIN_DATABASE_URL="sqlite:///:memory:" $BIN/xinglin makemigrations --check --dry-run
WORKERS="${XINGLIN_TEST_WORKERS:-2}"
echo "== tests on SQLite"
# loadgroup: the Spark tests (xdist_group "spark") share one worker and its SparkSession
env -u XINGLIN_DATABASE_URL $BIN/pytest -n "$WORKERS" --dist loadgroup "$@"
PG_URL="${XINGLIN_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "== database tests on PostgreSQL (tests that touch no database ran above)"
  XINGLIN_DATABASE_URL="$PG_URL" $BIN/pytest -n "$WORKERS" -m "not browser" "$@"
elif [ "${XINGLIN_REQUIRE_POSTGRES:-0}" = 1 ]; then
  echo "PostgreSQL at 127.0.0.1:5432 does not answer and XINGLIN_REQUIRE_POSTGRES=1" >&2
  exit 1
else
  echo "== PostgreSQL does not answer at 127.0.0.1:5432: its run is skipped (set XINGLIN_REQUIRE_POSTGRES=1 to fail instead)"
fi
