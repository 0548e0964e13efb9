#!/usr/bin/env bash
# A throwaway PostgreSQL for tests: its data, log and socket live in DIR, it listens on 127.0.0.1
# only, trusts every local connection and does not fsync. Never use it for real data.
#
#   scripts/pg.sh start DIR   initdb DIR/data if needed, start on a free port, create database
#                             `ferrokms`; prints postgres://postgres@127.0.0.1:PORT/ferrokms on
#                             stdout (everything else goes to stderr). Already running: prints the
#                             URL again.
#   scripts/pg.sh stop DIR    stops it (nothing running: does nothing). DIR stays; rm -rf it.
#   scripts/pg.sh url DIR     prints the URL of the running server.
#
# Example:
#   URL=$(scripts/pg.sh start /tmp/pgtest) &&
#       FERROKMS_TEST_POSTGRES_URL=$URL cargo test -p ferrokms-store --test postgres
#   scripts/pg.sh stop /tmp/pgtest
#
# The server binaries come from $PG_BINDIR, else PATH, else `pg_config --bindir`, else
# /usr/lib/postgresql/<newest>/bin (Debian's layout). PostgreSQL refuses to run as root: when
# run as root, DIR is chowned to the `postgres` user and the server runs as that user (DIR's
# parent directories must let it in, e.g. anything under /tmp).

set -euo pipefail

DATABASE=ferrokms
SUPERUSER=postgres

log() { echo "pg.sh: $*" >&2; }
die() {
    log "$*"
    exit 1
}

usage() { die "usage: $0 start|stop|url DIR"; }

# The directory holding initdb, pg_ctl and postgres.
find_bindir() {
    local candidate
    if [ -n "${PG_BINDIR:-}" ]; then
        echo "$PG_BINDIR"
        return
    fi
    # PATH may hold symlinks to the real directory (which also has psql and createdb).
    if candidate=$(command -v pg_ctl 2>/dev/null) && candidate=$(readlink -f "$candidate") &&
        [ -x "$(dirname "$candidate")/initdb" ]; then
        dirname "$candidate"
        return
    fi
    if candidate=$(pg_config --bindir 2>/dev/null) && [ -x "$candidate/pg_ctl" ]; then
        echo "$candidate"
        return
    fi
    for candidate in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
        if [ -x "$candidate/pg_ctl" ]; then
            echo "$candidate"
            return
        fi
    done
    die "no PostgreSQL server binaries found (set PG_BINDIR, or apt-get install -y postgresql)"
}

# The path of client tool $1 (psql, createdb): beside the server binaries, else on PATH.
tool() {
    if [ -x "$BINDIR/$1" ]; then
        echo "$BINDIR/$1"
    else
        command -v "$1" || die "$1 not found in $BINDIR or on PATH"
    fi
}

# Runs a command as the user that owns the cluster: `postgres` when we are root.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        if command -v runuser >/dev/null; then
            runuser -u "$SUPERUSER" -- "$@"
        else
            su -s /bin/sh "$SUPERUSER" -c "$(printf '%q ' "$@")"
        fi
    else
        "$@"
    fi
}

# Whether something accepts TCP connections on 127.0.0.1:$1.
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

random_port() {
    echo $((20000 + (RANDOM * 32768 + RANDOM) % 40000))
}

is_running() {
    as_owner "$BINDIR/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

url() {
    echo "postgres://$SUPERUSER@127.0.0.1:$(cat "$DIR/port")/$DATABASE"
}

# Unix sockets have a path limit of about 100 bytes: use DIR unless its path is too long.
socket_dir() {
    if [ "${#DIR}" -le 80 ]; then
        echo "$DIR"
    else
        echo /tmp
    fi
}

start() {
    if [ "$(id -u)" -eq 0 ]; then
        id "$SUPERUSER" >/dev/null 2>&1 ||
            die "running as root needs a '$SUPERUSER' user to run the server as"
        chown "$SUPERUSER": "$DIR"
        as_owner test -w "$DIR" ||
            die "user $SUPERUSER cannot write $DIR (a parent directory shuts it out?); use e.g. /tmp/..."
    fi
    if [ -f "$DIR/port" ] && is_running; then
        log "already running"
    else
        init_and_start
    fi
    create_database "$(cat "$DIR/port")"
    url
}

init_and_start() {
    if [ ! -f "$DATA/PG_VERSION" ]; then
        log "initdb $DATA"
        as_owner "$BINDIR/initdb" -D "$DATA" -U "$SUPERUSER" -A trust --no-sync \
            --encoding=UTF8 --locale=C.UTF-8 >&2 ||
            as_owner "$BINDIR/initdb" -D "$DATA" -U "$SUPERUSER" -A trust --no-sync \
                --encoding=UTF8 --locale=C >&2
    fi
    local sockets port attempt
    sockets=$(socket_dir)
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        port=$(random_port)
        if port_in_use "$port"; then
            continue
        fi
        log "starting on 127.0.0.1:$port (attempt $attempt, log $DIR/log)"
        if as_owner "$BINDIR/pg_ctl" -D "$DATA" -l "$DIR/log" -w -t 30 \
            -o "-h 127.0.0.1 -p $port -k $sockets -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
            start >&2; then
            echo "$port" >"$DIR/port"
            break
        fi
        log "start failed on port $port; last log lines:"
        tail -n 5 "$DIR/log" >&2 || true
        port=
    done
    [ -n "$port" ] || die "could not start PostgreSQL (see $DIR/log)"
}

create_database() {
    local exists
    exists=$("$(tool psql)" -h 127.0.0.1 -p "$1" -U "$SUPERUSER" -d postgres -tAq \
        -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")
    if [ "$exists" != 1 ]; then
        "$(tool createdb)" -h 127.0.0.1 -p "$1" -U "$SUPERUSER" "$DATABASE" >&2
    fi
}

stop() {
    if [ -f "$DATA/PG_VERSION" ] && is_running; then
        as_owner "$BINDIR/pg_ctl" -D "$DATA" -m fast -w stop >&2
    else
        log "not running"
    fi
}

[ $# -eq 2 ] || usage
COMMAND=$1
if [ "$COMMAND" = start ]; then
    mkdir -p "$2" || die "cannot create directory $2"
elif [ ! -d "$2" ]; then
    log "no directory $2: not running"
    [ "$COMMAND" = stop ] && exit 0
    exit 1
fi
DIR=$(cd "$2" && pwd)
DATA=$DIR/data
BINDIR=$(find_bindir)

case "$COMMAND" in
start) start ;;
stop) stop ;;
url)
    is_running || die "not running"
    url
    ;;
*) usage ;;
esac
