#!/usr/bin/env bash
# SoftHSM2, a real PKCS#11 token in software, for the HSM key store tests.
#
#   scripts/softhsm.sh module                       prints the module's path, installing
#                                                   softhsm2 and opensc with apt-get if missing
#   scripts/softhsm.sh init DIR LABEL PIN SOPIN     a token of its own in DIR; prints the
#                                                   SOFTHSM2_CONF file to use it with
#
# SoftHSM2 reads SOFTHSM2_CONF when a process first loads it, and a token is the first slot
# only if its directory holds one token: give each server (or test process) its own DIR.

set -euo pipefail

MODULE=/usr/lib/softhsm/libsofthsm2.so

install_softhsm() {
    local sudo=()
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then
        sudo=(sudo)
    fi
    echo "softhsm.sh: installing softhsm2 and opensc" >&2
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q softhsm2 opensc >&2 || {
        "${sudo[@]}" apt-get update -q >&2
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q softhsm2 opensc >&2
    }
}

case "${1:-}" in
module)
    if [ ! -e "$MODULE" ] || ! command -v softhsm2-util >/dev/null; then
        install_softhsm
    fi
    echo "$MODULE"
    ;;
init)
    [ $# -eq 5 ] || { echo "usage: $0 init DIR LABEL PIN SOPIN" >&2; exit 2; }
    dir=$2
    mkdir -p "$dir/tokens"
    printf 'directories.tokendir = %s\n' "$dir/tokens" >"$dir/softhsm2.conf"
    SOFTHSM2_CONF="$dir/softhsm2.conf" softhsm2-util --init-token --free --label "$3" \
        --pin "$4" --so-pin "$5" >/dev/null
    echo "$dir/softhsm2.conf"
    ;;
*)
    echo "usage: $0 module | init DIR LABEL PIN SOPIN" >&2
    exit 2
    ;;
esac
