#!/usr/bin/env bash
# End-to-end tests of a real `ferrokms serve` with the stock AWS CLI and boto3.
#
# Usage: tests/e2e/run.sh FERROKMS_BINARY [LOADGEN_BINARY]
# Needs `aws`, `python3` with boto3 and pytest on PATH (scripts/test.sh provides them in .venv).
#
#   1. cli_flows.sh      the issue's AWS CLI flows against a shared server
#   2. pytest            test_boto3.py, test_asymmetric.py, test_import.py, test_multi_region.py, test_rotation.py, test_principals.py, test_sts.py, test_roles.py, test_durability.py, test_custom_key_stores.py
#                        (shared server), test_durability.py
#                        (its own servers: SIGTERM restart, kill -9 during writes)
#   3. loadgen smoke     a 2-second run of tools/loadgen, when its binary is given
#   4. SIGTERM           the shared server exits 0
#   5. check_secrets.py  no plaintext or secret access key in any data dir or server log
#
# Everything lives in a fresh temporary folder (removed on success, kept and named on failure or
# when E2E_KEEP=1).
# Ends with the line "N passed, M failed[, K skipped]" and exits non-zero if anything failed.

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

FERROKMS_BIN=$(realpath "$1")
LOADGEN_BIN=${2:+$(realpath "$2")}
E2E_WORK=$(mktemp -d "${TMPDIR:-/tmp}/ferrokms-e2e.XXXXXX")
export FERROKMS_BIN E2E_WORK
export E2E_NEEDLES=$E2E_WORK/needles E2E_PIDS=$E2E_WORK/pids
E2E_MARKER="ferrokms-e2e-marker-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
export E2E_MARKER
mkdir -p "$E2E_WORK/logs"
: >"$E2E_NEEDLES"
: >"$E2E_PIDS"

TOTAL_PASSED=0
TOTAL_FAILED=0
TOTAL_SKIPPED=0
SUMMARY_PRINTED=""

cleanup() {
    local status=$?
    if [ -n "$SERVER_PID" ]; then
        kill -9 "$SERVER_PID" 2>/dev/null || true
    fi
    # Servers that the Python tests started and did not get to stop (pids they recorded).
    while read -r pid; do
        kill -9 "$pid" 2>/dev/null || true
    done <"$E2E_PIDS"
    if [ "$status" -eq 0 ] && [ -z "${E2E_KEEP:-}" ]; then
        rm -rf "$E2E_WORK"
    elif [ -z "$SUMMARY_PRINTED" ]; then
        echo "e2e: stopped early (exit $status); logs and data dirs kept in $E2E_WORK" >&2
    fi
}
trap cleanup EXIT
# Interrupted: exit, so that the EXIT trap stops the servers.
trap 'exit 130' INT
trap 'exit 143' TERM

add_counts() {
    local passed failed
    read -r passed failed <"$1"
    TOTAL_PASSED=$((TOTAL_PASSED + passed))
    TOTAL_FAILED=$((TOTAL_FAILED + failed))
}

# --- the shared server -------------------------------------------------------------------------
SHARED_DIR=$E2E_WORK/data-shared
start_server "$FERROKMS_BIN" "$SHARED_DIR" "$E2E_WORK/logs/shared.log"
export FERROKMS_ENDPOINT=$ENDPOINT FERROKMS_DATA_DIR=$SHARED_DIR
export AWS_SHARED_CREDENTIALS_FILE=$SHARED_DIR/credentials AWS_CONFIG_FILE=$SHARED_DIR/config
# Nothing from the caller's AWS setup may leak in.
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN \
    AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL AWS_ENDPOINT_URL_KMS
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
echo "e2e: ferrokms serving $ENDPOINT from $SHARED_DIR"

# --- 1. AWS CLI flows --------------------------------------------------------------------------
echo "== AWS CLI flows"
status=0
bash "$HERE/cli_flows.sh" "$ENDPOINT" "$E2E_WORK/cli" "$E2E_WORK/cli.counts" || status=$?
add_counts "$E2E_WORK/cli.counts"
check_that "cli_flows.sh ran to its end" "$status"

# --- 2. boto3 (pytest) -------------------------------------------------------------------------
echo "== boto3 (pytest)"
status=0
(cd "$HERE" && python3 -m pytest -p no:cacheprovider -q -rfEsxX \
    --junitxml="$E2E_WORK/pytest.xml" test_boto3.py test_asymmetric.py test_import.py test_multi_region.py test_rotation.py test_principals.py test_sts.py test_roles.py test_durability.py test_custom_key_stores.py) ||
    status=$?
if [ -s "$E2E_WORK/pytest.xml" ]; then
    read -r passed failed skipped < <(python3 - "$E2E_WORK/pytest.xml" <<'EOF'
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
total = sum(int(s.get("tests", 0)) for s in suites)
failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skipped = sum(int(s.get("skipped", 0)) for s in suites)
print(total - failed - skipped, failed, skipped)
EOF
    )
    TOTAL_PASSED=$((TOTAL_PASSED + passed))
    TOTAL_FAILED=$((TOTAL_FAILED + failed))
    TOTAL_SKIPPED=$((TOTAL_SKIPPED + skipped))
    if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
        check_that "pytest exited $status without a failed test" 1
    fi
else
    check_that "pytest ran (exit $status, no report)" 1
fi

# --- 3. loadgen smoke --------------------------------------------------------------------------
if [ -n "$LOADGEN_BIN" ]; then
    echo "== loadgen smoke"
    loadgen_smoke() {
        local out
        out=$("$LOADGEN_BIN" --endpoint "$ENDPOINT" --credentials "$SHARED_DIR/credentials" \
            --connections 4 --duration 2s --pool-size 16 --operation "$1" --json) || return 1
        echo "      $out"
        python3 -c 'import json,sys; r = json.loads(sys.argv[1]); sys.exit(0 if r["ok"] > 0 and r["errors"] == 0 else 1)' "$out"
    }
    for operation in encrypt decrypt generate-data-key sign generate-mac; do
        check "loadgen --operation $operation: requests succeed, no errors" loadgen_smoke "$operation"
    done
fi

# --- 4. graceful stop --------------------------------------------------------------------------
echo "== shutdown"
status=0
stop_server || status=$?
check_that "the shared server exits 0 on SIGTERM (exit $status)" "$status"

# --- 4b. audit trail --------------------------------------------------------------------------
echo "== audit trail"
audit_verify() { "$FERROKMS_BIN" audit verify --data-dir "$1" >"$E2E_WORK/verify.out" 2>&1; }
check "audit verify: the shared server's trail is intact" audit_verify "$SHARED_DIR"
events_of() {
    "$FERROKMS_BIN" audit query --data-dir "$SHARED_DIR" --event "$1" |
        python3 -c 'import json,sys; events=[json.loads(l) for l in sys.stdin]; assert events, "no events"; assert all(e["eventSource"] and e["requestID"] and e["eventTime"] for e in events); ok = [e for e in events if "errorCode" not in e]; assert ok and all(e["userIdentity"]["arn"] and e["resources"] for e in ok); print(len(events))'
}
check "audit query --event Encrypt finds CloudTrail-shaped events" events_of Encrypt
check "audit query --event CreateKey finds CloudTrail-shaped events" events_of CreateKey
# Tampering with a copy: each change is caught, and the report names the file.
tampered() {
    rm -rf "$E2E_WORK/tampered" && cp -a "$SHARED_DIR" "$E2E_WORK/tampered"
    local file
    file=$(ls "$E2E_WORK/tampered/audit/"*.jsonl | head -1)
    python3 - "$file" "$1" <<'PY'
import sys
path, how = sys.argv[1], sys.argv[2]
lines = open(path, "rb").read().splitlines(keepends=True)
if how == "edit":
    line = bytearray(lines[1]); line[len(line) // 2] ^= 1; lines[1] = bytes(line)
elif how == "delete-line":
    del lines[1]
elif how == "swap":
    lines[0], lines[1] = lines[1], lines[0]
if how == "delete-file":
    import os; os.remove(path)
else:
    open(path, "wb").write(b"".join(lines))
PY
    if "$FERROKMS_BIN" audit verify --data-dir "$E2E_WORK/tampered" >"$E2E_WORK/tampered.out" 2>&1; then
        echo "      verify passed a trail with $1"; return 1
    fi
    grep -q "$(basename "$file" .jsonl)" "$E2E_WORK/tampered.out" || { cat "$E2E_WORK/tampered.out"; return 1; }
}
for how in edit delete-line swap delete-file; do
    check "audit verify catches a tampered trail ($how) and names the file" tampered "$how"
done

# --- 5. secrets --------------------------------------------------------------------------------
echo "== secrets in data dirs and logs"
status=0
python3 "$HERE/check_secrets.py" "$E2E_NEEDLES" "$E2E_WORK" "$E2E_WORK/secrets.counts" || status=$?
if [ -s "$E2E_WORK/secrets.counts" ]; then
    add_counts "$E2E_WORK/secrets.counts"
fi
check_that "check_secrets.py ran to its end" "$status"

TOTAL_PASSED=$((TOTAL_PASSED + CHECKS_PASSED))
TOTAL_FAILED=$((TOTAL_FAILED + CHECKS_FAILED))
echo
if [ "$TOTAL_FAILED" -ne 0 ] || [ -n "${E2E_KEEP:-}" ]; then
    echo "e2e: logs and data dirs kept in $E2E_WORK"
fi
SUMMARY_PRINTED=yes
echo "e2e: $TOTAL_PASSED passed, $TOTAL_FAILED failed, $TOTAL_SKIPPED skipped"
[ "$TOTAL_FAILED" -eq 0 ]
