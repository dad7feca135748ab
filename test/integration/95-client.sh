#!/bin/sh
# 95-client.sh — the client protocol server (docs/protocol.md), libsluice and `sluice consume`
# against a real daemon and MariaDB.
#
# Instance demo with `sinks: []` (clients only), instance both with a file sink as well, and
# `server:` with two users (password and password_file), idle_timeout_ms 2000. A small driver (95-client_driver.c, compiled here against
# build/libsluice.a) runs get / ack / rollback / reconnect steps and prints each answer.
# Checks:
#   0. the library exports only its API: `nm -D --defined-only build/libsluice.so` and the global
#      symbols of build/libsluice.a are all sluice_*; the driver links the frame codec
#      (src/protocol.c) itself next to libsluice.a without a clash; examples/consume.c builds and
#      runs against `make install-client` (pkg-config, shared and static);
#   1. get / rollback / get again: the rolled-back changes come again, in order, under a new id;
#      ack of N acks what is before it; a reconnect redelivers what was not acked;
#   2. two client ids at different speeds: the fast one (`sluice consume --count`) gets every
#      change while the slow one has acked only some; the slow one then gets the rest;
#   3. kill -9 of the daemon between a get and its ack: the same changes come again after the
#      restart; the other client id's cursor survives (it gets nothing twice);
#   4. a wrong password and an unknown user: AUTH_FAILED; garbage (a 0xffffffff length, an
#      unknown type, an unsupported version, a silent client): an ERROR frame, the connection
#      closed, the failure logged; the daemon keeps serving the other clients.
set -eu
# shellcheck source=test/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=test/integration/rows.sh
. "$(dirname "$0")/rows.sh"

need_cmd mariadb-install-db mariadbd mariadb mariadb-admin jq cc pkg-config
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

# The driver, against the static client library.
[ -f "$ROOT/build/libsluice.a" ] || (cd "$ROOT" && make -s build/libsluice.a) >/dev/null 2>&1 ||
    fail_early "build/libsluice.a" "make build/libsluice.a failed"
D=$W/driver
# The driver has its own copy of the frame codec (it writes raw frames): libsluice.a's is local.
if ! cc -O1 -g -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Werror \
    -I"$ROOT/src" -I"$ROOT/include" -o "$D" "$ROOT/test/integration/95-client_driver.c" \
    "$ROOT/src/protocol.c" "$ROOT/build/libsluice.a" \
    $(pkg-config --libs libssl libcrypto 2>/dev/null || echo -lssl -lcrypto) -lzookeeper_mt -lpthread \
    2>"$W/cc.err"; then
    fail_early "compile 95-client_driver.c" "$(cat "$W/cc.err")"
fi
ok "compile the driver (with its own proto_* symbols) against build/libsluice.a"

# ---- 0. exported symbols, the installed library ------------------------------------------------
(cd "$ROOT" && make -s build/libsluice.so) >"$W/so.err" 2>&1 || fail_early "build/libsluice.so" "$(cat "$W/so.err")"
nm -D --defined-only "$ROOT/build/libsluice.so" | awk '{ print $NF }' >"$W/so.syms"
nm -g --defined-only "$ROOT/build/libsluice.a" | awk 'NF == 3 { print $NF }' >"$W/a.syms"
for f in so a; do
    if [ ! -s "$W/$f.syms" ]; then
        not_ok "libsluice.$f exports only sluice_ symbols" "no symbol at all"
    elif grep -v '^sluice_' "$W/$f.syms" >"$W/$f.extra"; then
        not_ok "libsluice.$f exports only sluice_ symbols" "also: $(tr '\n' ' ' <"$W/$f.extra")"
    elif ! grep -qx sluice_client_get "$W/$f.syms"; then
        not_ok "libsluice.$f exports only sluice_ symbols" "sluice_client_get is not exported"
    else
        ok "libsluice.$f exports only sluice_ symbols ($(wc -l <"$W/$f.syms") of them)"
    fi
done
INST=$W/inst
if ! (cd "$ROOT" && make -s install-client PREFIX="$INST") >"$W/inst.err" 2>&1; then
    not_ok "make install-client" "$(cat "$W/inst.err")"
else
    PC="PKG_CONFIG_PATH=$INST/lib/pkgconfig"
    # Usage without arguments: exit status 2 once it has linked and loaded.
    if cc -o "$W/consume-so" "$ROOT/examples/consume.c" $(env "$PC" pkg-config --cflags --libs libsluice) \
        -Wl,-rpath,"$INST/lib" 2>"$W/ex.err" && { "$W/consume-so" >/dev/null 2>&1; [ $? -eq 2 ]; } &&
        cc -o "$W/consume-a" "$ROOT/examples/consume.c" $(env "$PC" pkg-config --cflags libsluice) \
            "$INST/lib/libsluice.a" $(pkg-config --libs libssl libcrypto 2>/dev/null || echo -lssl -lcrypto) -lzookeeper_mt -lpthread 2>>"$W/ex.err" &&
        { "$W/consume-a" >/dev/null 2>&1; [ $? -eq 2 ]; }; then
        ok "examples/consume.c builds and runs against the installed library (shared and static)"
    else
        not_ok "examples/consume.c against the installed library" "$(cat "$W/ex.err")"
    fi
fi

if ! mariadb_up "$W/db" 2>"$W/up.err"; then
    fail_early "start MariaDB" "$(cat "$W/up.err")"
fi
cdc_user
sql "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20));
     CREATE TABLE app.other (id INT PRIMARY KEY)"
ADMIN_PORT=$(free_port)
SRV_PORT=$(free_port)
printf 'secondpw\n' >"$W/pw2"
printf 'readerpw\n' >"$W/pw"
cat >"$CONF" <<EOF2
log: {level: info}
admin: {listen: "127.0.0.1:$ADMIN_PORT"}
data_dir: $W/var
server:
  listen: "127.0.0.1:$SRV_PORT"
  users: [{name: reader, password: readerpw}, {name: second, password_file: $W/pw2}]
  idle_timeout_ms: 2000
instances:
  - name: demo
    source: {host: 127.0.0.1, port: $MARIADB_PORT, user: cdc, password: cdcpass, heartbeat_ms: 1000}
    start: earliest
    stall_timeout_ms: 10000
    positions: {store: file, dir: $W/var/positions, save_interval_ms: 100}
    sinks: []
  - name: both
    source: {host: 127.0.0.1, port: $MARIADB_PORT, user: cdc, password: cdcpass, heartbeat_ms: 1000}
    start: earliest
    positions: {store: file, dir: $W/var/positions, save_interval_ms: 100}
    sinks: [{type: file, path: $W/both.jsonl, format: json}]
EOF2
check "check-config accepts sinks: [] with server:" "$SLUICE" check-config "$CONF"

# wait_streaming N: until the log shows the instance's N-th start streaming (the daemon's own
# word, not the admin endpoint's), 30 s at most.
wait_streaming() {
    _end=$(($(date +%s) + 30))
    while [ "$(grep -c -e '\[demo\] .*-> streaming' "$LOG")" -lt "$1" ]; do
        alive "$SLUICE_PID" && [ "$(date +%s)" -lt "$_end" ] || return 1
        sleep 0.2
    done
}
sluice_start "$CONF" "$LOG"
wait_streaming 1 || fail_early "daemon streaming" "$(log_head "$LOG")"
ok "daemon streams an instance with sinks: [] and server:"

drv() {
    "$D" 127.0.0.1 "$SRV_PORT" reader readerpw "$@"
}
# ids FILE: the "id" values of the change lines of a driver's output, space-separated.
ids() {
    sed -n 's/^change //p' "$1" | jq -r '.data.id' | tr '\n' ' ' | sed 's/ $//'
}
# expect NAME FILE PATTERN: ok when FILE has a line matching PATTERN (grep -E).
expect() {
    if grep -Eq "$3" "$2"; then ok "$1"; else not_ok "$1" "no line /$3/ in: $(head -c 1500 "$2")"; fi
}

# ---- 1. get / rollback / ack / reconnect ----------------------------------------------------
sql "INSERT INTO app.t VALUES (1,'a'),(2,'b'),(3,'c'),(4,'d'),(5,'e'),(6,'f'),(7,'g'),(8,'h')"
F='app\.t'
drv "sub:demo:c1:$F" get:3 get:3 rb:2 get:100 ack:1 close >"$W/s1.out"
expect "first subscribe of c1: nothing acked" "$W/s1.out" '^subscribed 0$'
expect "get 3: batch 1" "$W/s1.out" '^batch 1 3$'
expect "get 3: batch 2" "$W/s1.out" '^batch 2 3$'
expect "rollback 2 answered" "$W/s1.out" '^rolledback 2$'
expect "after rollback: batch 3 with the 5 others" "$W/s1.out" '^batch 3 5$'
check "changes in order, rolled-back ones again" test "$(ids "$W/s1.out")" = "1 2 3 4 5 6 4 5 6 7 8"
expect "ack 1 answered" "$W/s1.out" '^acked 1$'
drv "sub:demo:c1:$F" get:100 ack rb:99 ack:77 hb close >"$W/s2.out"
expect "reconnect: last acked is 1" "$W/s2.out" '^subscribed 1$'
check "reconnect: unacked changes delivered again" test "$(ids "$W/s2.out")" = "4 5 6 7 8"
expect "reconnect: batch ids go on" "$W/s2.out" '^batch 4 5$'
expect "rollback of an unknown batch: UNKNOWN_BATCH" "$W/s2.out" 'server=8: .*UNKNOWN_BATCH'
expect "ack of an undelivered batch: UNKNOWN_BATCH" "$W/s2.out" 'server=8: .*batch 77'
expect "heartbeat answered (the connection stayed open)" "$W/s2.out" '^heartbeat$'
drv "sub:demo:c1:$F" get:100:500 close >"$W/s3.out"
expect "everything acked: an empty batch after the timeout" "$W/s3.out" '^batch 0 0$'

# An instance with a file sink serves clients too: both get the same changes.
drv "sub:both:b1:$F" get:100 ack close >"$W/both.out"
check "instance with a file sink: a client gets the rows" test "$(ids "$W/both.out")" = "1 2 3 4 5 6 7 8"
check "instance with a file sink: the file has them too" test \
    "$(jq -r 'select(.table == "t") | .data.id' "$W/both.jsonl" | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 "

# ---- 2. two client ids at different speeds --------------------------------------------------
drv "sub:demo:slow:$F" get:100:500 close >"$W/slow0.out"
expect "a new client id starts at the consumed position (nothing old)" "$W/slow0.out" '^batch 0 0$'
sql "INSERT INTO app.t SELECT seq, 'x' FROM app.seq_100_to_119"
drv "sub:demo:slow:$F" get:5 ack close >"$W/slow1.out"
check "slow client: first 5" test "$(ids "$W/slow1.out")" = "100 101 102 103 104"
if timeout 30 "$SLUICE" consume --server "127.0.0.1:$SRV_PORT" --user second --password-file "$W/pw2" \
    --instance demo --client-id fast --filter "$F" --batch 7 --count 20 >"$W/fast.out" 2>"$W/fast.err"; then
    check "fast client (sluice consume --count 20) gets all 20 while slow lags" \
        test "$(jq -r '.data.id' "$W/fast.out" | tr '\n' ' ')" = "$(seq 100 119 | tr '\n' ' ')"
else
    not_ok "sluice consume --count 20" "$(cat "$W/fast.err")"
fi
# The fast id is new: it started at the consumed position, which the slow cursor holds back.
drv "sub:demo:slow:$F" get:100 ack close >"$W/slow2.out"
check "slow client then gets the other 15" test "$(ids "$W/slow2.out")" = "$(seq 105 119 | tr '\n' ' ' | sed 's/ $//')"

# ---- 3. kill -9 between get and ack ---------------------------------------------------------
drv "sub:demo:c1:$F" get:100 ack close >"$W/c1catch.out" # c1 catches up (rows 100-119)
sql "INSERT INTO app.t VALUES (200,'k1'),(201,'k2'),(202,'k3')"
for cid in slow fast; do
    drv "sub:demo:$cid:$F" get:100 ack close >"$W/$cid.k0.out"
done
drv "sub:demo:c1:$F" get:100 >"$W/k1.out" # no ack
check "before the kill: c1 got 200-202" test "$(ids "$W/k1.out")" = "200 201 202"
sluice_kill9
N_STREAMING=$(grep -c -e '\[demo\] .*-> streaming' "$LOG")
sluice_start "$CONF" "$LOG"
wait_streaming $((N_STREAMING + 1)) || fail_early "daemon streaming after kill -9" "$(log_head "$LOG")"
drv "sub:demo:c1:$F" get:100:3000 ack close >"$W/k2.out"
check "after kill -9 and restart: the unacked batch comes again" test "$(ids "$W/k2.out")" = "200 201 202"
drv "sub:demo:slow:$F" get:100:1500 close >"$W/k3.out"
expect "after restart: the slow id (acked 202) gets nothing twice" "$W/k3.out" '^batch 0 0$'

# ---- 4. bad logins and garbage --------------------------------------------------------------
"$D" 127.0.0.1 "$SRV_PORT" reader wrongpw >"$W/auth1.out" || true
expect "wrong password: AUTH_FAILED" "$W/auth1.out" 'SLUICE_ERR_SERVER server=4'
"$D" 127.0.0.1 "$SRV_PORT" nobody readerpw >"$W/auth2.out" || true
expect "unknown user: AUTH_FAILED" "$W/auth2.out" 'SLUICE_ERR_SERVER server=4'
"$D" raw 127.0.0.1 "$SRV_PORT" ffffffff01 >"$W/g1.out"
expect "length 0xffffffff: FRAME_TOO_LARGE" "$W/g1.out" '^error FRAME_TOO_LARGE'
expect "length 0xffffffff: connection closed" "$W/g1.out" '^eof$'
"$D" raw 127.0.0.1 "$SRV_PORT" 0000000155 >"$W/g2.out"
expect "unknown type before login: PROTOCOL, closed" "$W/g2.out" '^error PROTOCOL'
HELLO9=0000002b0200090006726561646572$(printf "%064d" 0)
"$D" raw 127.0.0.1 "$SRV_PORT" "$HELLO9" >"$W/g3.out"
expect "unsupported version: UNSUPPORTED_VERSION" "$W/g3.out" '^error UNSUPPORTED_VERSION'
"$D" raw 127.0.0.1 "$SRV_PORT" 00000003020001 >"$W/g4.out"
expect "truncated CLIENT_HELLO: PROTOCOL" "$W/g4.out" '^error PROTOCOL'
"$D" raw 127.0.0.1 "$SRV_PORT" "" 6000 >"$W/g5.out"
expect "silent client: TIMEOUT" "$W/g5.out" '^error TIMEOUT'
expect "silent client: closed" "$W/g5.out" '^eof$'
expect "failures logged with their counts" "$LOG" 'AUTH_FAILED.*auth failures 2'
expect "garbage logged" "$LOG" 'FRAME_TOO_LARGE'
# Meanwhile, and after: other clients are served.
sql "INSERT INTO app.t VALUES (300,'after')"
drv "sub:demo:c1:$F" get:100:3000 ack close >"$W/after.out"
check "after the garbage: c1 still served" test "$(ids "$W/after.out")" = "300"
check "daemon alive" alive "$SLUICE_PID"

sluice_stop 30
check "daemon stops with SIGTERM (exit 0)" test "$SLUICE_RC" = 0
expect "stop logged with the counters" "$LOG" 'client protocol server stopped: .*auth failure'
test_done
