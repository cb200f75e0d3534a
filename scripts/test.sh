#!/usr/bin/env bash
# Run the test suite: PostgreSQL for the store tests, then pytest with every skip's reason (-rs).
# Extra arguments go to pytest (e.g. scripts/test.sh -k store -x).
# Expects scripts/setup.sh to have run (make test does that).
# Outside CI a test whose prerequisite is missing (PostgreSQL, ../shared/data) skips and says why.
# In CI (CI set, as .ci/run does) it fails instead (tests/ci.py): the set-up provides them all.
set -uo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

PY="$REPO_ROOT/.venv/bin/python"
[ -x "$PY" ] || { echo "[test] ERROR: $PY missing; run scripts/setup.sh (or make setup) first" >&2; exit 1; }

# Artefacts (screenshots, logs, audio) that tests write go here; CI keeps the dir.
export BEDSIDE_TEST_ARTIFACTS="$REPO_ROOT/test-artifacts"
mkdir -p "$BEDSIDE_TEST_ARTIFACTS"

# The same reading of CI as tests/ci.py: set to anything but empty, 0, false or no.
case "$(printf '%s' "${CI:-}" | tr '[:upper:]' '[:lower:]')" in
    ""|0|false|no) PG_MISSING="the PostgreSQL tests will skip" ;;
    *) PG_MISSING="CI: the PostgreSQL tests will FAIL" ;;
esac

# PostgreSQL for the store tests. If it cannot start, the PG tests skip and say why (fail in CI).
if [ -n "${BEDSIDE_TEST_PG_URL:-}" ]; then
    echo "[test] using BEDSIDE_TEST_PG_URL from the environment"
elif [ "${BEDSIDE_SKIP_PG:-0}" = "1" ]; then
    echo "[test] PostgreSQL: not started (BEDSIDE_SKIP_PG=1); $PG_MISSING"
elif bash "$REPO_ROOT/scripts/start_postgres.sh" > "$BEDSIDE_TEST_ARTIFACTS/postgres-start.log" 2>&1; then
    export BEDSIDE_TEST_PG_URL="postgresql+psycopg://bedside:bedside@127.0.0.1:${BEDSIDE_PG_PORT:-5432}/bedside_test"
    echo "[test] PostgreSQL ready: BEDSIDE_TEST_PG_URL=$BEDSIDE_TEST_PG_URL"
else
    echo "[test] PostgreSQL could not be started; $PG_MISSING. Reason:"
    sed 's/^/[test]   /' "$BEDSIDE_TEST_ARTIFACTS/postgres-start.log"
fi

echo "[test] running: python -m pytest -q -rs $*"
"$PY" -m pytest -q -rs "$@"
rc=$?

case $rc in
    0) echo "[test] tests passed" ;;
    5) echo "[test] ERROR: pytest collected no tests (exit 5); treating as failure" >&2 ;;
    *) echo "[test] tests FAILED (pytest exit $rc); artefacts in test-artifacts/" >&2 ;;
esac
exit $rc
