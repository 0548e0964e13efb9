#!/usr/bin/env bash
# The whole test suite, on a fresh machine: what `.ci/run` runs and what a developer runs.
#
#   1. a Python venv at .venv with the AWS CLI (v1), boto3 and pytest pinned in
#      scripts/requirements-test.txt (reinstalled only when that file changes)
#   2. a throwaway PostgreSQL 15 (scripts/pg.sh) on a free loopback port, stopped at exit, and
#      SoftHSM2 (scripts/softhsm.sh, installed with apt-get when missing) for the HSM key stores
#   3. cargo test --workspace (with the venv first on PATH, so the botocore tests run): the store
#      conformance suite on SQLite and PostgreSQL, the 3-node cluster test, everything else on
#      SQLite; then the server's API suite again with PostgreSQL as the store
#   4. builds the ferrokms and loadgen binaries
#   5. tests/e2e/run.sh: the AWS CLI and boto3 against a real `ferrokms serve` on a free loopback
#      port with a temporary data dir, restarts and kill -9, a loadgen smoke run, the secrets check
#
# Needs only what a new machine has: the Rust toolchain, python3 (3.11) with venv and pip, gcc,
# PostgreSQL 15's server binaries (initdb, pg_ctl), the package registries and Debian's (for
# SoftHSM2). Ends with the e2e line "e2e: N passed, M failed, K skipped"; exits non-zero
# if anything failed.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# --- 1. Python venv ------------------------------------------------------------------------------
VENV=$ROOT/.venv
REQUIREMENTS=$ROOT/scripts/requirements-test.txt
wanted=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$wanted" ]; then
    echo "== creating $VENV from scripts/requirements-test.txt"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        -r "$REQUIREMENTS"
    echo "$wanted" >"$VENV/.requirements.sha256"
fi
export PATH="$VENV/bin:$PATH"
export PYTHONDONTWRITEBYTECODE=1
aws --version

# --- 2. PostgreSQL --------------------------------------------------------------------------------
PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ferrokms-pg.XXXXXX")
stop_postgres() {
    bash "$ROOT/scripts/pg.sh" stop "$PG_DIR" >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
}
trap stop_postgres EXIT
echo "== PostgreSQL (scripts/pg.sh)"
FERROKMS_TEST_POSTGRES_URL=$(bash "$ROOT/scripts/pg.sh" start "$PG_DIR")
export FERROKMS_TEST_POSTGRES_URL
echo "== SoftHSM2 (scripts/softhsm.sh)"
FERROKMS_TEST_SOFTHSM_MODULE=$(bash "$ROOT/scripts/softhsm.sh" module)
export FERROKMS_TEST_SOFTHSM_MODULE

# --- 3. Rust tests -------------------------------------------------------------------------------
echo "== cargo test --workspace"
cargo_status=0
cargo test --workspace --locked || cargo_status=$?
echo "== cargo test -p ferrokms, the API suite on PostgreSQL"
FERROKMS_TEST_BACKEND=postgres cargo test --locked -p ferrokms || cargo_status=$?

# --- 4. binaries ---------------------------------------------------------------------------------
# shellcheck source=../tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"
build_binaries debug

# --- 5. end to end -------------------------------------------------------------------------------
echo "== end-to-end tests (tests/e2e/run.sh)"
e2e_status=0
if [ "$cargo_status" -ne 0 ]; then
    echo "test.sh: cargo test failed (exit $cargo_status); running the e2e tests anyway," \
        "the exit status will say so"
fi
bash "$ROOT/tests/e2e/run.sh" "$FERROKMS" "$LOADGEN" ||
    e2e_status=$?
[ "$cargo_status" -eq 0 ] && [ "$e2e_status" -eq 0 ]
