#!/bin/sh
# deb-check.sh — builds the .deb (`make deb`), installs it with dpkg -i, runs /usr/bin/sluice
# --version and `man -w sluice`, then removes it (dpkg -P). Prints "ok - ..." / "not ok - ..."
# / "skip - ..." lines and, last, "N passed, N failed[, N skipped]". Needs root and dpkg; a
# sluice package installed before (not by this script) is left alone: the check is skipped.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
P=0 F=0 S=0
ok() { echo "ok - $*"; P=$((P + 1)); }
nok() { echo "not ok - $*"; F=$((F + 1)); }
skip() { echo "skip - $*"; S=$((S + 1)); }
summary() {
    if [ "$S" -gt 0 ]; then echo "$P passed, $F failed, $S skipped"; else echo "$P passed, $F failed"; fi
    [ "$F" -eq 0 ]
    exit $?
}

if [ "$(id -u)" != 0 ] || ! command -v dpkg-deb >/dev/null 2>&1; then
    skip "deb: needs root and dpkg"
    summary
fi
if dpkg-query -W -f='${Status}' sluice 2>/dev/null | grep -q 'install ok installed'; then
    skip "deb: a sluice package is installed already; not touching it"
    summary
fi
VERSION=$(sed -n 's/^#define SLUICE_VERSION "\(.*\)"/\1/p' src/version.h)
if make --no-print-directory -j"${JOBS:-2}" deb >/tmp/sluice-deb-build.$$ 2>&1; then
    ok "make deb"
else
    cat /tmp/sluice-deb-build.$$
    nok "make deb"
    rm -f /tmp/sluice-deb-build.$$
    summary
fi
rm -f /tmp/sluice-deb-build.$$
DEB=$(ls build/sluice_"$VERSION"_*.deb | head -n 1)
if dpkg -i "$DEB" >/dev/null; then
    ok "dpkg -i $DEB"
    out=$(/usr/bin/sluice --version 2>&1)
    if [ "$out" = "sluice $VERSION" ]; then ok "/usr/bin/sluice --version: $out"; else nok "/usr/bin/sluice --version: \"$out\""; fi
    if [ "$(man -w sluice 2>/dev/null)" = /usr/share/man/man1/sluice.1.gz ] ||
        [ -f /usr/share/man/man1/sluice.1.gz ]; then ok "man page installed"; else nok "man page installed"; fi
    if getent passwd sluice >/dev/null && [ -d /var/lib/sluice ]; then ok "user sluice and /var/lib/sluice"; else nok "user sluice and /var/lib/sluice"; fi
    if dpkg -P sluice >/dev/null && [ ! -e /usr/bin/sluice ]; then ok "dpkg -P sluice"; else nok "dpkg -P sluice"; fi
else
    nok "dpkg -i $DEB"
fi
summary
