#!/bin/sh
# 96-client-tls.sh — TLS on the client protocol (server.tls, docs/protocol.md "TLS"): the daemon
# with a certificate, `sluice consume --tls-ca` / `--tls`, and libsluice's
# sluice_client_set_tls() through a small driver (96-client-tls_driver.c, compiled here against
# build/libsluice.a), against a real daemon and MariaDB.
#
# Certificates are made here with the openssl command: a root CA, an intermediate CA, a server
# certificate for IP 127.0.0.1 issued by the intermediate (the daemon's cert is the chain file
# server + intermediate; clients trust the root only), a second, unrelated CA, and a server
# certificate for the DNS name sluice.invalid only.
# Checks:
#   1. check-config accepts server.tls; a missing key file, a file that is not PEM and a key
#      that does not match the certificate are refused naming the file; `sluice run` with a
#      missing certificate stops at start-up naming it;
#   2. consume over TLS with --tls-ca (the root) gets the rows exactly; libsluice with the CA,
#      and without verification, does too;
#   3. the wrong CA (--tls-ca of the other CA, --tls with the system's store) is refused with
#      the reason, nothing printed; an unreadable CA file is named;
#   4. a plain-text client: the silent one (`sluice consume` without --tls) is closed at the
#      handshake timeout with a hint to use TLS, one that speaks first is closed at once; both
#      logged and counted; a TLS client against a server that does not speak TLS (MariaDB's
#      port) fails the handshake; meanwhile and after, TLS clients are served;
#   5. a certificate that is not for 127.0.0.1: "IP address mismatch".
set -eu
# shellcheck source=test/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=test/integration/rows.sh
. "$(dirname "$0")/rows.sh"

need_cmd mariadb-install-db mariadbd mariadb mariadb-admin jq cc pkg-config openssl
need_sluice
W=$TEST_TMP/w
mkdir -p "$W"
LOG=$W/sluice.log
CONF=$W/sluice.yaml
: >"$LOG"

fail_early() {
    not_ok "$@"
    exit 1
}
# expect NAME FILE PATTERN: ok when FILE has a line matching PATTERN (grep -E).
expect() {
    if grep -Eq "$3" "$2"; then ok "$1"; else not_ok "$1" "no line /$3/ in: $(head -c 1500 "$2")"; fi
}

# ---- certificates ---------------------------------------------------------------------------
C=$W/certs
mkdir -p "$C"
# newkey NAME: an EC P-256 key in C/NAME.key.
newkey() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$C/$1.key" 2>>"$C/log"
}
# ca NAME CN: a self-signed CA.
ca() {
    newkey "$1" &&
        openssl req -x509 -new -key "$C/$1.key" -out "$C/$1.pem" -days 2 -subj "/CN=$2" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" 2>>"$C/log"
}
# issue NAME ISSUER EXTENSIONS: a certificate for key NAME signed by ISSUER.
issue() {
    newkey "$1" &&
        openssl req -new -key "$C/$1.key" -out "$C/$1.csr" -subj "/CN=$1" 2>>"$C/log" &&
        printf '%s\n' "$3" >"$C/$1.ext" &&
        openssl x509 -req -in "$C/$1.csr" -CA "$C/$2.pem" -CAkey "$C/$2.key" -CAcreateserial \
            -out "$C/$1.pem" -days 2 -extfile "$C/$1.ext" 2>>"$C/log"
}
LEAF="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth"
if ! { ca root "sluice test root CA" && ca other "some other CA" &&
    issue inter root "basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign" &&
    issue server inter "$LEAF
subjectAltName=IP:127.0.0.1" &&
    issue named root "$LEAF
subjectAltName=DNS:sluice.invalid"; }; then
    fail_early "make certificates with openssl" "$(cat "$C/log")"
fi
cat "$C/server.pem" "$C/inter.pem" >"$C/chain.pem"
ok "certificates made (root, intermediate, server chain for 127.0.0.1)"

# ---- the driver ---------------------------------------------------------------------------------
[ -f "$ROOT/build/libsluice.a" ] || (cd "$ROOT" && make -s build/libsluice.a) >/dev/null 2>&1 ||
    fail_early "build/libsluice.a" "make build/libsluice.a failed"
D=$W/driver
# shellcheck disable=SC2046 # the pkg-config words
if ! cc -O1 -g -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Werror \
    -I"$ROOT/include" -o "$D" "$ROOT/test/integration/96-client-tls_driver.c" \
    "$ROOT/build/libsluice.a" $(pkg-config --libs libssl libcrypto 2>/dev/null || echo -lssl -lcrypto) -lzookeeper_mt -lpthread \
    2>"$W/cc.err"; then
    fail_early "compile 96-client-tls_driver.c" "$(cat "$W/cc.err")"
fi
ok "compile the driver against build/libsluice.a"

if ! mariadb_up "$W/db" 2>"$W/up.err"; then
    fail_early "start MariaDB" "$(cat "$W/up.err")"
fi
cdc_user
sql "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20))"
ADMIN_PORT=$(free_port)
SRV_PORT=$(free_port)
printf 'readerpw\n' >"$W/pw"

# write_conf FILE CERT KEY: the configuration with server.tls {cert: CERT, key: KEY}.
write_conf() {
    cat >"$1" <<EOF2
log: {level: info}
admin: {listen: "127.0.0.1:$ADMIN_PORT"}
data_dir: $W/var
server:
  listen: "127.0.0.1:$SRV_PORT"
  users: [{name: reader, password: readerpw}]
  idle_timeout_ms: 2000
  tls: {cert: $2, key: $3}
instances:
  - name: demo
    source: {host: 127.0.0.1, port: $MARIADB_PORT, user: cdc, password: cdcpass, heartbeat_ms: 1000}
    start: earliest
    stall_timeout_ms: 10000
    positions: {store: file, dir: $W/var/positions, save_interval_ms: 100}
    sinks: []
EOF2
}

# ---- 1. configuration and start-up ----------------------------------------------------------------
write_conf "$CONF" "$C/chain.pem" "$C/server.key"
check "check-config accepts server.tls (chain file and key)" "$SLUICE" check-config "$CONF"
write_conf "$W/bad1.yaml" "$C/chain.pem" "$C/nonexistent.key"
"$SLUICE" check-config "$W/bad1.yaml" >"$W/bad1.out" 2>&1 || true
expect "check-config: a missing key file is named" "$W/bad1.out" \
    "server\.tls\.key: could not read \".*nonexistent\.key\": No such file"
write_conf "$W/bad2.yaml" "$C/server.ext" "$C/server.key"
"$SLUICE" check-config "$W/bad2.yaml" >"$W/bad2.out" 2>&1 || true
expect "check-config: a certificate file that is not PEM is named" "$W/bad2.out" \
    "server\.tls\.cert: \".*server\.ext\" is not a PEM certificate"
write_conf "$W/bad3.yaml" "$C/chain.pem" "$C/other.key"
"$SLUICE" check-config "$W/bad3.yaml" >"$W/bad3.out" 2>&1 || true
expect "check-config: a key that does not match the certificate is named" "$W/bad3.out" \
    "server\.tls\.key: \".*other\.key\" does not match the certificate of \".*chain\.pem\""

write_conf "$W/bad4.yaml" "$C/missing.pem" "$C/server.key"
: >"$W/bad4.log"
sluice_start "$W/bad4.yaml" "$W/bad4.log"
_end=$(($(date +%s) + 20))
while alive "$SLUICE_PID" && [ "$(date +%s)" -lt "$_end" ]; do
    sleep 0.1
done
if alive "$SLUICE_PID"; then
    sluice_kill9
    not_ok "sluice run with a missing certificate stops at start-up" "$(log_head "$W/bad4.log")"
else
    SLUICE_RC=0
    wait "$SLUICE_PID" || SLUICE_RC=$?
    check "sluice run with a missing certificate exits non-zero" test "$SLUICE_RC" != 0
    expect "sluice run with a missing certificate names it" "$W/bad4.log" \
        "server\.tls\.cert: could not read \".*missing\.pem\""
fi

# wait_streaming N: until the log shows the instance's N-th start streaming, 30 s at most.
wait_streaming() {
    _end=$(($(date +%s) + 30))
    while [ "$(grep -c -e '\[demo\] .*-> streaming' "$LOG")" -lt "$1" ]; do
        alive "$SLUICE_PID" && [ "$(date +%s)" -lt "$_end" ] || return 1
        sleep 0.2
    done
}
sluice_start "$CONF" "$LOG"
wait_streaming 1 || fail_early "daemon streaming with server.tls" "$(log_head "$LOG")"
expect "the server says it speaks TLS" "$LOG" "client protocol server on .*TLS"

# consume ARGS...: `sluice consume` of instance demo as user reader (output in the caller's
# redirections), 30 s at most.
consume() {
    timeout 30 "$SLUICE" consume --server "127.0.0.1:$SRV_PORT" --user reader \
        --password-file "$W/pw" --instance demo --filter 'app\.t' "$@"
}
# ids FILE: the "id" values of the json lines of FILE (driver "change " prefix dropped).
ids() {
    sed 's/^change //' "$1" | grep '^{' | jq -r '.data.id' | tr '\n' ' ' | sed 's/ $//'
}

# ---- 2. TLS clients get the rows ------------------------------------------------------------------
# The library's client ids subscribe first (a new client id starts at the instance's consumed
# position, which the first one's acks move on).
for cid in c1 l1 l2; do
    "$D" lib 127.0.0.1 "$SRV_PORT" reader readerpw "$C/root.pem" 1 demo "$cid" 0 >"$W/$cid.0.out" || true
done
expect "libsluice over TLS: connect, subscribe, close" "$W/l1.0.out" '^closed$'
sql "INSERT INTO app.t SELECT seq, concat('v', seq) FROM app.seq_1_to_50"
if consume --client-id c1 --count 50 --batch 7 --tls-ca "$C/root.pem" >"$W/c1.out" 2>"$W/c1.err"; then
    check "consume --tls-ca: the 50 rows, in order, once each" \
        test "$(ids "$W/c1.out")" = "$(seq 1 50 | tr '\n' ' ' | sed 's/ $//')"
    check "consume --tls-ca: the rows' values" test \
        "$(jq -r '.data.v' "$W/c1.out" | tr '\n' ' ')" = "$(seq 1 50 | sed 's/^/v/' | tr '\n' ' ')"
else
    not_ok "sluice consume --tls-ca" "$(cat "$W/c1.err")"
fi
"$D" lib 127.0.0.1 "$SRV_PORT" reader readerpw "$C/root.pem" 1 demo l1 50 >"$W/l1.out" || true
check "libsluice with the CA (verify): the 50 rows" \
    test "$(ids "$W/l1.out")" = "$(seq 1 50 | tr '\n' ' ' | sed 's/ $//')"
expect "libsluice with the CA: closed cleanly" "$W/l1.out" '^closed$'
"$D" lib 127.0.0.1 "$SRV_PORT" reader readerpw - 0 demo l2 50 >"$W/l2.out" || true
check "libsluice without verification: the 50 rows" \
    test "$(ids "$W/l2.out")" = "$(seq 1 50 | tr '\n' ' ' | sed 's/ $//')"
"$D" lib 127.0.0.1 "$SRV_PORT" reader wrongpw "$C/root.pem" 1 demo l3 1 >"$W/l3.out" || true
expect "over TLS, a wrong password is still AUTH_FAILED" "$W/l3.out" '^error SLUICE_ERR_SERVER: .*AUTH_FAILED'

# ---- 3. wrong CAs ---------------------------------------------------------------------------------
if consume --client-id w1 --count 1 --tls-ca "$C/other.pem" >"$W/w1.out" 2>"$W/w1.err"; then
    not_ok "consume with the wrong CA is refused" "it succeeded: $(head -c 500 "$W/w1.out")"
else
    expect "wrong CA: refused with the reason" "$W/w1.err" \
        "TLS: the certificate of 127\.0\.0\.1:$SRV_PORT is not accepted: unable to get local issuer certificate"
    expect "wrong CA: the CA file is named" "$W/w1.err" "trusted CAs: \".*other\.pem\""
    check "wrong CA: nothing printed" test ! -s "$W/w1.out"
fi
if consume --client-id w2 --count 1 --tls >"$W/w2.out" 2>"$W/w2.err"; then
    not_ok "consume --tls (system CAs) refuses the test CA's certificate" "it succeeded"
else
    expect "--tls with the system's store: refused" "$W/w2.err" \
        "not accepted: .*the system's default store"
fi
"$D" lib 127.0.0.1 "$SRV_PORT" reader readerpw "$W/no-such-ca.pem" 1 demo w3 1 >"$W/w3.out" || true
expect "libsluice: an unreadable CA file is named (SLUICE_ERR_TLS)" "$W/w3.out" \
    '^error SLUICE_ERR_TLS: TLS: could not read CA file ".*no-such-ca\.pem": No such file'
expect "the refused handshakes are logged by the daemon" "$LOG" "TLS handshake failed: .*closing"

# ---- 4. plain-text clients --------------------------------------------------------------------------
T0=$(date +%s)
if consume --client-id p1 --count 1 >"$W/p1.out" 2>"$W/p1.err"; then
    not_ok "a plain-text consume against the TLS server is refused" "it succeeded"
else
    expect "plain-text consume: refused with a hint to use TLS" "$W/p1.err" \
        "before its SERVER_HELLO \(if the server has server.tls set, use TLS\)"
    check "plain-text consume: refused within the handshake timeout (2 s) and its own" \
        test $(($(date +%s) - T0)) -le 12
fi
expect "plain-text silent client: logged as a handshake timeout" "$LOG" \
    "TIMEOUT: no TLS handshake in 2000 ms; closing"
# A CLIENT_HELLO in plain text, sent first.
"$D" send 127.0.0.1 "$SRV_PORT" "0000002b0200010006726561646572$(printf "%064d" 0)" 5000 >"$W/p2.out"
expect "plain-text frames: the connection is closed" "$W/p2.out" '^eof$'
expect "plain-text frames: logged as not TLS, and counted" "$LOG" \
    "TLS handshake failed: .*wrong version number \(a client not speaking TLS\?\); closing .*protocol errors [1-9]"
"$D" send 127.0.0.1 "$SRV_PORT" "474554202f20485454502f312e300d0a0d0a" 5000 >"$W/p3.out"
expect "an HTTP request: the connection is closed" "$W/p3.out" '^eof$'
if consume --client-id m1 --count 1 --tls-ca "$C/root.pem" --server "127.0.0.1:$MARIADB_PORT" \
    >"$W/m1.out" 2>"$W/m1.err"; then
    not_ok "TLS consume against a server not speaking TLS fails" "it succeeded"
else
    expect "TLS consume against a server not speaking TLS: the handshake fails" "$W/m1.err" \
        "TLS handshake with 127\.0\.0\.1:$MARIADB_PORT failed"
fi
# Meanwhile, and after: TLS clients are served.
sql "INSERT INTO app.t VALUES (100,'after')"
if consume --client-id c1 --count 1 --tls-ca "$C/root.pem" >"$W/c1b.out" 2>"$W/c1b.err"; then
    check "after the plain-text clients: c1 gets the next row over TLS" test "$(ids "$W/c1b.out")" = 100
else
    not_ok "after the plain-text clients: consume over TLS" "$(cat "$W/c1b.err")"
fi
check "daemon alive" alive "$SLUICE_PID"
sluice_stop 30
check "daemon stops with SIGTERM (exit 0)" test "$SLUICE_RC" = 0
expect "stop logged with the counters" "$LOG" 'client protocol server stopped: .*protocol error'

# ---- 5. a certificate for another name ------------------------------------------------------------
write_conf "$W/named.yaml" "$C/named.pem" "$C/named.key"
N_STREAMING=$(grep -c -e '\[demo\] .*-> streaming' "$LOG")
sluice_start "$W/named.yaml" "$LOG"
wait_streaming $((N_STREAMING + 1)) || fail_early "daemon streaming with the named cert" "$(log_head "$LOG")"
if consume --client-id c1 --count 1 --tls-ca "$C/root.pem" >"$W/n1.out" 2>"$W/n1.err"; then
    not_ok "a certificate not for 127.0.0.1 is refused" "it succeeded"
else
    expect "a certificate not for 127.0.0.1: IP address mismatch" "$W/n1.err" \
        "not accepted: IP address mismatch \(host \"127\.0\.0\.1\""
fi
sluice_stop 30
check "daemon stops with SIGTERM (exit 0)" test "$SLUICE_RC" = 0
test_done
