#!/usr/bin/env bash
# Load benchmark: a release `ferrokms serve` on a fresh temporary data dir, driven by tools/loadgen
# with SigV4-signed Encrypt requests, then Decrypt, Sign (ECDSA_SHA_256 with an ECC_NIST_P256 key) and
# GenerateMac (HMAC_SHA_256 with an HMAC_256 key), each over CONNECTIONS keep-alive connections for
# DURATION. Prints requests/s, p50/p90/p99/max latency, and how much CPU the server and the
# generator each used: on one machine they share its cores, so the server gets what loadgen leaves.
#
# Usage: scripts/bench.sh            (CONNECTIONS=64 DURATION=20s
#                                     OPERATIONS="encrypt decrypt sign generate-mac")
# Other knobs: LOADGEN_THREADS (generator worker threads; default 1: it needs ~0.35 core at 9k
# requests/s and leaves the rest to the server; "all" for one per CPU), KEEP_SERVER=1 (leave
# the data dir for inspection), NO_WRK=1 (skip the wrk comparison that runs when wrk is installed).
# A measurement, not a test: scripts/test.sh does not run it.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=../tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"

CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-20s}
OPERATIONS=${OPERATIONS:-encrypt decrypt sign generate-mac}
LOADGEN_THREADS=${LOADGEN_THREADS:-1}
THREAD_ARGS=()
if [ "$LOADGEN_THREADS" != all ]; then
    THREAD_ARGS=(--threads "$LOADGEN_THREADS")
fi

build_binaries release

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ferrokms-bench.XXXXXX")
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill -9 "$SERVER_PID" 2>/dev/null || true
    fi
    if [ -z "${KEEP_SERVER:-}" ]; then
        rm -rf "$WORK"
    else
        echo "bench: data dir and log kept in $WORK"
    fi
}
trap cleanup EXIT
# Interrupted: exit, so that the EXIT trap stops the servers.
trap 'exit 130' INT
trap 'exit 143' TERM

start_server "$FERROKMS" "$WORK/data" "$WORK/server.log"
echo "bench: ferrokms (release) serving $ENDPOINT; pid $SERVER_PID"
echo "bench: $(nproc) CPUs shared by the server and loadgen ($LOADGEN_THREADS loadgen thread(s));" \
    "$CONNECTIONS connections, $DURATION per pass"

TICKS=$(getconf CLK_TCK)
# CPU seconds (user+system) used so far by the server process.
server_cpu() {
    # Fields after "pid (comm)": state is 1, utime 12, stime 13.
    sed 's/^.*) //' "/proc/$SERVER_PID/stat" | awk -v t="$TICKS" '{ printf "%.2f", ($12 + $13) / t }'
}

status=0
for operation in $OPERATIONS; do
    echo
    echo "== $operation: $CONNECTIONS connections, $DURATION"
    before=$(server_cpu)
    start=$(date +%s.%N)
    pass=0
    {
        TIMEFORMAT='%U %S'
        time "$LOADGEN" --endpoint "$ENDPOINT" --credentials "$WORK/data/credentials" \
            --connections "$CONNECTIONS" --duration "$DURATION" --operation "$operation" \
            "${THREAD_ARGS[@]}" >"$WORK/$operation.out" 2>"$WORK/$operation.err"
    } 2>"$WORK/$operation.time" || pass=$?
    end=$(date +%s.%N)
    after=$(server_cpu)
    cat "$WORK/$operation.out" "$WORK/$operation.err"
    if [ "$pass" -ne 0 ]; then
        status=$pass
        continue
    fi
    read -r user sys <"$WORK/$operation.time"
    # Setup (key creation, filling the Decrypt pool) is inside this window too; it is short.
    awk -v s="$before" -v e="$after" -v u="$user" -v y="$sys" -v w0="$start" -v w1="$end" 'BEGIN {
        wall = w1 - w0
        printf "cpu          server %.1f s (%.2f cores), loadgen %.1f s (%.2f cores) over %.1f s wall\n",
            e - s, (e - s) / wall, u + y, (u + y) / wall, wall
    }'
done
# For comparison, when wrk is installed (apt-get install -y wrk): the same server, Encrypt, one
# signed request replayed by wrk's Lua script (a signature stays valid for 5 minutes).
if command -v wrk >/dev/null && [ -z "${NO_WRK:-}" ]; then
    echo
    echo "== wrk, Encrypt replaying one signed request: $CONNECTIONS connections, $DURATION"
    if "$LOADGEN" --endpoint "$ENDPOINT" --credentials "$WORK/data/credentials" \
        --operation encrypt --pool-size 1 --wrk-script "$WORK/encrypt.lua" &&
        wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/encrypt.lua" "$ENDPOINT/" \
            >"$WORK/wrk.out" 2>&1; then
        grep -E "Requests/sec|Latency|50%|90%|99%|Non-2xx|requests in|errors" "$WORK/wrk.out" || true
    else
        echo "bench: wrk failed:"
        cat "$WORK/wrk.out" 2>/dev/null || true
    fi
fi
echo
stop_server || echo "bench: the server exited with status $?"
exit "$status"
