#!/usr/bin/env bash
# Resident memory under sustained load: starts a release `ferrokms serve` on a fresh temporary
# data dir (SQLite, audit on, quotas off), drives one operation at full speed with tools/loadgen
# for DURATION, and samples the server's resident set size (VmRSS) every SAMPLE seconds. Prints
# the samples, then the growth from the end of the first minute (caches and pools filled) to the
# end, which issue 13 wants within 10%.
#
# Usage: scripts/bench-memory.sh   (DURATION=600 seconds, SAMPLE=10, OPERATION=encrypt,
#                                   CONNECTIONS=64, KEYS=1000 used round-robin)
# A measurement, not a test: scripts/test.sh does not run it.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=../tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"

DURATION=${DURATION:-600}
SAMPLE=${SAMPLE:-10}
OPERATION=${OPERATION:-encrypt}
CONNECTIONS=${CONNECTIONS:-64}
KEYS=${KEYS:-1000}
POOL_SIZE=$((KEYS > 512 ? KEYS : 512))

build_binaries release
FERROKMS=${FERROKMS_BINARY:-$FERROKMS}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ferrokms-memory.XXXXXX")
LOAD_PID=""
cleanup() {
    if [ -n "$LOAD_PID" ]; then
        kill -9 "$LOAD_PID" 2>/dev/null || true
    fi
    stop_server >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_server "$FERROKMS" "$WORK/data" "$WORK/server.log"
rss_kib() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$SERVER_PID/status"; }

echo "memory: $OPERATION, $CONNECTIONS connections, $KEYS key(s) round-robin, ${DURATION}s," \
    "RSS every ${SAMPLE}s; idle RSS $(rss_kib) KiB"
# The load runs a little longer than the sampling, so that every sample is taken under load;
# the keys are created before it starts sending.
"$LOADGEN" --endpoint "$ENDPOINT" --credentials "$WORK/data/credentials" \
    --connections "$CONNECTIONS" --duration "$((DURATION + 30))s" --operation "$OPERATION" \
    --plaintext-size 256 --keys "$KEYS" --pool-size "$POOL_SIZE" --threads 1 --json \
    >"$WORK/load.json" 2>"$WORK/load.err" &
LOAD_PID=$!
# Wait until the load is on: a request other than the keys' CreateKey has succeeded.
load_on() {
    curl -s "$ENDPOINT/metrics" | grep '^ferrokms_requests_total{' | grep -v CreateKey |
        grep -q 'outcome="ok"'
}
for _ in $(seq 1 1200); do
    load_on && break
    sleep 0.5
done

samples=()
elapsed=0
while [ "$elapsed" -lt "$DURATION" ]; do
    sleep "$SAMPLE"
    elapsed=$((elapsed + SAMPLE))
    kill -0 "$LOAD_PID" 2>/dev/null || { echo "memory: the load generator stopped early" >&2; cat "$WORK/load.err" >&2; exit 1; }
    rss=$(rss_kib)
    samples+=("$rss")
    echo "  t=${elapsed}s rss=${rss} KiB"
done
wait "$LOAD_PID" || true
LOAD_PID=""
python3 - "$SAMPLE" "$WORK/load.json" "${samples[@]}" <<'PY'
import json, sys
sample = int(sys.argv[1])
report = json.load(open(sys.argv[2]))
rss = [int(x) for x in sys.argv[3:]]
warm = min(len(rss) - 1, max(0, 60 // sample - 1))
base, end, peak = rss[warm], rss[-1], max(rss[warm:])
print(f"memory: {report['requests_per_second']:.0f} requests/s, {report['errors']} errors")
print(f"memory: RSS after the first minute {base} KiB, at the end {end} KiB, peak {peak} KiB: "
      f"growth {100.0 * (end - base) / base:+.1f}% (peak {100.0 * (peak - base) / base:+.1f}%)")
PY
