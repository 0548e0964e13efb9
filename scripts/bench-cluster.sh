#!/usr/bin/env bash
# Load benchmark of cluster mode: release `ferrokms serve` nodes sharing one throwaway PostgreSQL
# (scripts/pg.sh) and one root key, measured with 1 node and then with 2. For each operation the
# CONNECTIONS are split evenly over the nodes, one tools/loadgen per node running at the same
# time; the figures are the generators' sums (requests/s) and worst percentiles.
#
# Usage: scripts/bench-cluster.sh   (NODE_COUNTS="1 2" CONNECTIONS=64 DURATION=20s
#                                     OPERATIONS="encrypt decrypt")
# On one machine the nodes, PostgreSQL and the generators share its cores: a second node adds
# capacity only where the cores are not already busy. A measurement, not a test.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=../tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"

NODE_COUNTS=${NODE_COUNTS:-1 2}
CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-20s}
OPERATIONS=${OPERATIONS:-encrypt decrypt}

build_binaries release

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ferrokms-bench-cluster.XXXXXX")
# Its own directory: pg.sh hands it to the postgres user when run as root.
PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ferrokms-bench-pg.XXXXXX")
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do
        kill -9 "$pid" 2>/dev/null || true
    done
    bash "$ROOT/scripts/pg.sh" stop "$PG_DIR" >/dev/null 2>&1 || true
    rm -rf "$WORK" "$PG_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

FERROKMS_STORE=$(bash "$ROOT/scripts/pg.sh" start "$PG_DIR")
FERROKMS_ROOT_KEY=$(head -c 32 /dev/urandom | base64)
export FERROKMS_STORE FERROKMS_ROOT_KEY

# Node 1 runs throughout (it creates the administrator whose credentials the generators use);
# further nodes join for the runs that need them.
ENDPOINTS=()
start_node() {
    start_server "$FERROKMS" "$WORK/node$1" "$WORK/node$1.log"
    PIDS+=("$SERVER_PID")
    ENDPOINTS+=("$ENDPOINT")
    SERVER_PID=""
}
start_node 1
CREDENTIALS=$WORK/node1/credentials

for count in $NODE_COUNTS; do
    while [ "${#ENDPOINTS[@]}" -lt "$count" ]; do
        start_node $((${#ENDPOINTS[@]} + 1))
    done
    per_node=$((CONNECTIONS / count))
    for operation in $OPERATIONS; do
        echo
        echo "== $count node(s) on PostgreSQL, $operation: $CONNECTIONS connections ($per_node per node), $DURATION"
        outs=()
        gens=()
        for i in $(seq 0 $((count - 1))); do
            out=$WORK/$count-$operation-$i.json
            outs+=("$out")
            "$LOADGEN" --endpoint "${ENDPOINTS[$i]}" --credentials "$CREDENTIALS" \
                --connections "$per_node" --duration "$DURATION" --operation "$operation" \
                --json >"$out" 2>"$out.err" &
            gens+=($!)
        done
        for pid in "${gens[@]}"; do
            wait "$pid" || { echo "bench-cluster: a generator failed:"; cat "$WORK"/*.err; exit 1; }
        done
        python3 - "${outs[@]}" <<'PY'
import json, sys
runs = [json.load(open(path)) for path in sys.argv[1:]]
rps = sum(r["requests_per_second"] for r in runs)
errors = sum(r["errors"] for r in runs)
worst = lambda q: max(r["latency_ms"][q] for r in runs)
print(f"throughput   {rps:,.0f} requests/s ({errors} errors)")
print(f"latency      p50 {worst('p50'):.2f} ms, p90 {worst('p90'):.2f} ms, p99 {worst('p99'):.2f} ms (worst node)")
PY
    done
done
