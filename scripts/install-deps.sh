#!/bin/sh
# install-deps.sh — install every Debian package sluice's build, tests and benchmarks need.
#
# Idempotent: a second run only re-checks. Leaves no service enabled or running: package
# scripts are kept from starting daemons with a temporary policy-rc.d, and the services the
# packages enable (mariadb, zookeeper) are disabled again. Run as root on Debian 12.
set -eu

PKGS="build-essential pkg-config clang libclang-rt-14-dev clang-format
libmariadb-dev libmariadb-dev-compat libzstd-dev zlib1g-dev libyaml-dev libcunit1-dev libmicrohttpd-dev
librdkafka-dev libzookeeper-mt-dev libssl-dev openssl
mariadb-server mariadb-client zookeeper zookeeper-bin kcat jq zstd procps time"

if [ "$(id -u)" != 0 ]; then
    echo "install-deps.sh: must run as root (apt-get install); try: sudo $0" >&2
    exit 1
fi

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done

if [ -n "$missing" ]; then
    # Keep package scripts from starting services while we install.
    made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
    if [ "$made_policy" = 1 ]; then
        rm -f /usr/sbin/policy-rc.d
    fi
fi

# Leave nothing enabled: the tests start their own servers on 127.0.0.1.
if command -v systemctl >/dev/null 2>&1; then
    systemctl disable mariadb.service >/dev/null 2>&1 || true
    systemctl disable zookeeper.service >/dev/null 2>&1 || true
fi
if command -v update-rc.d >/dev/null 2>&1; then
    update-rc.d mariadb disable >/dev/null 2>&1 || true
    update-rc.d zookeeper disable >/dev/null 2>&1 || true
fi
echo "install-deps.sh: all packages present"
