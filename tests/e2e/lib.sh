# shellcheck shell=bash
# Helpers shared by the end-to-end scripts and scripts/bench.sh (source this file).
#
#   start_server BINARY DATA_DIR LOG   starts `BINARY serve` on a free loopback port (it binds port 0
#                                      and prints the endpoint); sets SERVER_PID and ENDPOINT
#   stop_server                        SIGTERM, wait; returns the server's exit status
#   check NAME COMMAND...              runs COMMAND, prints PASS/FAIL NAME, counts it
#   check_that NAME CONDITION_STATUS   counts an already-computed result (0 = pass)
#   write_counts FILE                  writes "PASSED FAILED" for the runner to add up
#   build_binaries PROFILE             cargo-builds ferrokms and loadgen (PROFILE debug or
#                                      release); sets FERROKMS and LOADGEN to their paths

SERVER_PID=""
ENDPOINT=""
FERROKMS=""
LOADGEN=""
CHECKS_PASSED=0
CHECKS_FAILED=0

start_server() {
    local binary=$1 data_dir=$2 log=$3
    mkdir -p "$data_dir"
    # Quotas off: the suites and load runs call faster than AWS's quotas allow (imports, Sign
    # under load); crates/server/tests/quotas.rs tests quotas, on the defaults among others.
    # SERVER_ARGS (an array, optional): more flags, e.g. the benchmark's --hsm-cluster.
    "$binary" serve --data-dir "$data_dir" --listen 127.0.0.1:0 --quota off \
        ${SERVER_ARGS[@]+"${SERVER_ARGS[@]}"} >"$log" 2>&1 &
    SERVER_PID=$!
    ENDPOINT=""
    local waited=0
    while [ "$waited" -lt 300 ]; do
        ENDPOINT=$(sed -n 's/^ferrokms .* listening on \(http:\/\/[^ ]*\).*/\1/p' "$log" | head -n1)
        if [ -n "$ENDPOINT" ]; then
            return 0
        fi
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "server exited before listening; its log:" >&2
            cat "$log" >&2
            SERVER_PID=""
            return 1
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    echo "server did not print its endpoint within 30 s; its log:" >&2
    cat "$log" >&2
    kill -9 "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
    return 1
}

# SIGTERM and wait (at most 30 s, then SIGKILL); returns the server's exit status.
stop_server() {
    local pid=$SERVER_PID status=0 waited=0
    SERVER_PID=""
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    while [ "$waited" -lt 300 ]; do
        # Gone, or a zombie (state Z) that `wait` below reaps.
        local state
        state=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || true
        if [ -z "$state" ] || [ "$state" = Z ]; then
            break
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    if [ "$waited" -ge 300 ]; then
        echo "server $pid ignored SIGTERM for 30 s; killing it" >&2
        kill -9 "$pid" 2>/dev/null || true
    fi
    wait "$pid" || status=$?
    return "$status"
}

check() {
    local name=$1
    shift
    if "$@"; then
        check_that "$name" 0
    else
        check_that "$name" 1
    fi
}

check_that() {
    if [ "$2" -eq 0 ]; then
        CHECKS_PASSED=$((CHECKS_PASSED + 1))
        echo "PASS  $1"
    else
        CHECKS_FAILED=$((CHECKS_FAILED + 1))
        echo "FAIL  $1"
    fi
}

write_counts() {
    echo "$CHECKS_PASSED $CHECKS_FAILED" >"$1"
}

build_binaries() {
    local profile=$1 flags=() target_dir
    if [ "$profile" = release ]; then
        flags=(--release)
    fi
    echo "== cargo build${flags[*]:+ ${flags[*]}} (ferrokms, loadgen)"
    cargo build "${flags[@]}" --locked -p ferrokms -p loadgen
    target_dir=$(cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
    FERROKMS=$target_dir/$profile/ferrokms
    LOADGEN=$target_dir/$profile/loadgen
}
