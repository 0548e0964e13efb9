#!/usr/bin/env bash
# Load benchmark against the machine's ceiling. In one invocation it starts a release `ferrokms
# serve` on a fresh temporary data dir (SQLite, audit on, quotas off) and tools/ceiling (a bare
# hyper server answering {} to every request, same tokio runtime, same cores), and for each
# operation drives both with tools/loadgen and the very same SigV4-signed requests, alternating
# ceiling, ferrokms, ceiling, ferrokms (so that a noisy neighbour hits both alike). It prints, for
# each pass, requests/s, p50 and p99 latency and the cores the server and the generator used, then
# per operation ferrokms's share of the ceiling (mean requests/s over mean requests/s).
#
# Usage: scripts/bench.sh            (CONNECTIONS=64 DURATION=10s ROUNDS=2
#                                     OPERATIONS="encrypt decrypt generate-data-key generate-mac sign")
# Other knobs: KEYS (keys used round-robin, default 1; e.g. KEYS=1000 to show what many keys cost
# the caches), LOADGEN_THREADS (generator worker threads; default 1, leaving the rest to the
# server; "all" for one per CPU), PLAINTEXT_SIZE (bytes, default 256), KEEP_SERVER=1 (keep the
# data dir and logs), FERROKMS_BINARY (measure that server binary instead of this checkout's),
# HSM=1 (the keys inside an HSM key store on a SoftHSM2 token: each message's key derived in the
# token; OPERATIONS defaults to "encrypt decrypt generate-data-key" then). A measurement, not a test: scripts/test.sh does not run it.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=../tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"

CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-2}
HSM=${HSM:-}
if [ -n "$HSM" ]; then
    OPERATIONS=${OPERATIONS:-encrypt decrypt generate-data-key}
else
    OPERATIONS=${OPERATIONS:-encrypt decrypt generate-data-key generate-mac sign}
fi
LOADGEN_THREADS=${LOADGEN_THREADS:-1}
PLAINTEXT_SIZE=${PLAINTEXT_SIZE:-256}
KEYS=${KEYS:-1}
# Every key gets at least one request of the pool.
POOL_SIZE=$((KEYS > 512 ? KEYS : 512))
THREAD_ARGS=()
if [ "$LOADGEN_THREADS" != all ]; then
    THREAD_ARGS=(--threads "$LOADGEN_THREADS")
fi

build_binaries release
cargo build --release --locked -p ceiling
CEILING=$(dirname "$FERROKMS")/ceiling
# Another build of the server to measure (e.g. one with another allocator feature).
FERROKMS=${FERROKMS_BINARY:-$FERROKMS}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ferrokms-bench.XXXXXX")
CEILING_PID=""
cleanup() {
    for pid in "$SERVER_PID" "$CEILING_PID"; do
        if [ -n "$pid" ]; then
            kill -9 "$pid" 2>/dev/null || true
        fi
    done
    if [ -z "${KEEP_SERVER:-}" ]; then
        rm -rf "$WORK"
    else
        echo "bench: data dir and logs kept in $WORK"
    fi
}
trap cleanup EXIT
# Interrupted: exit, so that the EXIT trap stops the servers.
trap 'exit 130' INT
trap 'exit 143' TERM

HSM_ARGS=()
if [ -n "$HSM" ]; then
    # A throwaway SoftHSM2 token with its own PIN, and a trust anchor for its cluster.
    module=$(bash "$ROOT/scripts/softhsm.sh" module)
    pin=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
    (umask 077; printf '%s' "$pin" >"$WORK/hsm-pin")
    SOFTHSM2_CONF=$(bash "$ROOT/scripts/softhsm.sh" init "$WORK/hsm" bench "$pin" "so-$pin")
    export SOFTHSM2_CONF
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
        -keyout "$WORK/hsm/anchor.key" -out "$WORK/hsm/anchor.pem" -subj /CN=bench 2>/dev/null
    cluster=cluster-benchhsmtoken
    SERVER_ARGS=(--hsm-cluster "id=$cluster,module=$module,token=bench,trust-anchor=$WORK/hsm/anchor.pem")
    HSM_ARGS=(--hsm-cluster-id "$cluster" --hsm-trust-anchor "$WORK/hsm/anchor.pem"
        --hsm-pin-file "$WORK/hsm-pin")
fi

start_server "$FERROKMS" "$WORK/data" "$WORK/server.log"
"$CEILING" --listen 127.0.0.1:0 >"$WORK/ceiling.log" 2>&1 &
CEILING_PID=$!
CEILING_ENDPOINT=""
for _ in $(seq 1 100); do
    CEILING_ENDPOINT=$(sed -n 's/^ceiling: listening on \(http:\/\/[^ ]*\).*/\1/p' "$WORK/ceiling.log")
    [ -n "$CEILING_ENDPOINT" ] && break
    sleep 0.1
done
[ -n "$CEILING_ENDPOINT" ] || { echo "bench: the ceiling server did not start" >&2; exit 1; }

echo "bench: ferrokms (release) $ENDPOINT pid $SERVER_PID; ceiling $CEILING_ENDPOINT pid $CEILING_PID"
echo "bench: $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)), shared by" \
    "both servers and loadgen ($LOADGEN_THREADS loadgen thread(s)); $CONNECTIONS connections," \
    "$DURATION a pass, $ROUNDS rounds, ${PLAINTEXT_SIZE}-byte plaintexts, $KEYS key(s) round-robin" \
    "${HSM:+, keys in an HSM key store (SoftHSM2)}"

TICKS=$(getconf CLK_TCK)
# CPU seconds (user+system) used so far by process $1.
cpu_of() {
    # Fields after "pid (comm)": state is 1, utime 12, stime 13.
    sed 's/^.*) //' "/proc/$1/stat" | awk -v t="$TICKS" '{ printf "%.2f", ($12 + $13) / t }'
}

RESULTS="$WORK/results.jsonl"
: >"$RESULTS"
# One pass: loadgen against ferrokms or (side=ceiling) the same signed requests replayed to the
# ceiling; appends a JSON line with loadgen's report and the cores each process used.
pass() {
    local operation=$1 side=$2 round=$3 pid=$SERVER_PID replay=()
    if [ "$side" = ceiling ]; then
        pid=$CEILING_PID
        replay=(--replay-to "$CEILING_ENDPOINT")
    fi
    local before start end after out="$WORK/$operation-$side-$round"
    before=$(cpu_of "$pid")
    start=$(date +%s.%N)
    {
        TIMEFORMAT='%U %S'
        time "$LOADGEN" --endpoint "$ENDPOINT" --credentials "$WORK/data/credentials" \
            --connections "$CONNECTIONS" --duration "$DURATION" --operation "$operation" \
            --plaintext-size "$PLAINTEXT_SIZE" --keys "$KEYS" --pool-size "$POOL_SIZE" --json "${replay[@]}" "${THREAD_ARGS[@]}" \
            ${HSM_ARGS[@]+"${HSM_ARGS[@]}"} \
            >"$out.json" 2>"$out.err"
    } 2>"$out.time" || { cat "$out.err" >&2; return 1; }
    end=$(date +%s.%N)
    after=$(cpu_of "$pid")
    read -r user sys <"$out.time"
    python3 - "$out.json" "$side" "$round" "$before" "$after" "$start" "$end" "$user" "$sys" \
        >>"$RESULTS" <<'EOF'
import json, sys
path, side, rnd, before, after, start, end, user, sys_ = sys.argv[1:]
report = json.load(open(path))
wall = float(end) - float(start)
report.update(side=side, round=int(rnd),
              server_cores=(float(after) - float(before)) / wall,
              loadgen_cores=(float(user) + float(sys_)) / wall)
print(json.dumps(report))
EOF
}

status=0
for operation in $OPERATIONS; do
    for round in $(seq 1 "$ROUNDS"); do
        for side in ceiling ferrokms; do
            pass "$operation" "$side" "$round" || status=1
        done
    done
done

echo
python3 - "$RESULTS" <<'EOF'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print(f"{'operation':<18} {'side':<9} {'round':>5} {'req/s':>9} {'p50 ms':>7} {'p99 ms':>7} "
      f"{'errors':>6} {'server cores':>12} {'loadgen cores':>13}")
for r in rows:
    print(f"{r['operation']:<18} {r['side']:<9} {r['round']:>5} {r['requests_per_second']:>9.0f} "
          f"{r['latency_ms']['p50']:>7.2f} {r['latency_ms']['p99']:>7.2f} {r['errors']:>6} "
          f"{r['server_cores']:>12.2f} {r['loadgen_cores']:>13.2f}")
    for kind, n in r.get("error_kinds", {}).items():
        print(f"    {n} x {kind}")
print()
print(f"{'operation':<18} {'ferrokms req/s':>14} {'ceiling req/s':>13} {'ratio':>6} "
      f"{'p50 ms':>7} {'p99 ms':>7}")
for op in dict.fromkeys(r["operation"] for r in rows):
    side = lambda s: [r for r in rows if r["operation"] == op and r["side"] == s]
    mean = lambda xs, f: sum(f(x) for x in xs) / len(xs) if xs else float("nan")
    ours, ceiling = side("ferrokms"), side("ceiling")
    rps = mean(ours, lambda r: r["requests_per_second"])
    top = mean(ceiling, lambda r: r["requests_per_second"])
    print(f"{op:<18} {rps:>14.0f} {top:>13.0f} {rps / top:>6.2f} "
          f"{mean(ours, lambda r: r['latency_ms']['p50']):>7.2f} "
          f"{mean(ours, lambda r: r['latency_ms']['p99']):>7.2f}")
EOF
echo
stop_server || echo "bench: the server exited with status $?"
kill "$CEILING_PID" 2>/dev/null || true
exit "$status"
