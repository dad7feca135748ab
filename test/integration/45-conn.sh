#!/bin/sh
# 45-conn.sh — src/binlog_conn through a small driver (conn_driver.c, compiled here against
# libsluice.a): TLS modes, the server's identity, SHOW BINARY LOGS / SHOW MASTER STATUS on a
# plain connection, the purged-binlog message, a server_id taken by another replica, missing
# grants named, and errors classified retriable or fatal.
#
# Two throw-away MariaDB servers: A without TLS, B with a certificate signed by a test CA
# (CN=127.0.0.1, subjectAltName IP:127.0.0.1). Every driver run is under `timeout`.
set -eu
. "$(dirname "$0")/lib.sh"

need_cmd mariadb-install-db mariadbd mariadb mariadb-admin openssl timeout cc pkg-config
BUILD=$ROOT/build/default
if [ ! -f "$BUILD/libsluice.a" ]; then
    not_ok "libsluice.a" "$BUILD/libsluice.a is missing (run make)"
    exit 1
fi
W=$TEST_TMP/work
mkdir -p "$W"

# ---- the driver -----------------------------------------------------------------------------
D=$W/conn_driver
# shellcheck disable=SC2046
if ! cc -O1 -g -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Werror \
    -I"$ROOT/src" -I"$ROOT/src/util" -isystem /usr/include/mariadb \
    $(pkg-config --cflags libmariadb | sed 's/-I/-isystem /g') \
    -o "$D" "$ROOT/test/integration/conn_driver.c" "$BUILD/libsluice.a" \
    $(pkg-config --libs libmariadb libzstd zlib yaml-0.1) -lm -lpthread 2>"$W/cc.err"; then
    not_ok "compile conn_driver.c" "$(cat "$W/cc.err")"
    exit 1
fi
ok "compile conn_driver.c"

# ---- certificates -----------------------------------------------------------------------------
C=$W/certs
mkdir -p "$C"
(
    cd "$C"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=sluice-test-ca \
        -keyout ca.key -out ca.pem
    openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr
    printf 'subjectAltName=IP:127.0.0.1\n' >ext.cnf
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile ext.cnf -out server.pem
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca \
        -keyout other.key -out other.pem
) >"$W/openssl.log" 2>&1 || {
    not_ok "generate certificates" "$(tail -n 20 "$W/openssl.log")"
    exit 1
}

# ---- server A: no TLS -------------------------------------------------------------------------
if ! mariadb_up "$TEST_TMP/a" 2>"$W/up-a.err"; then
    not_ok "start MariaDB A" "$(cat "$W/up-a.err")"
    exit 1
fi
PORT_A=$MARIADB_PORT
SOCK_A=$MARIADB_SOCK
sql "CREATE USER cdc@'127.0.0.1' IDENTIFIED BY 'cdcpw';
GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR, REPLICATION MASTER ADMIN ON *.* TO cdc@'127.0.0.1';
CREATE USER norepl@'127.0.0.1' IDENTIFIED BY 'pw';
GRANT SELECT, BINLOG MONITOR ON *.* TO norepl@'127.0.0.1';
CREATE USER nomon@'127.0.0.1' IDENTIFIED BY 'pw';
GRANT SELECT, REPLICATION SLAVE ON *.* TO nomon@'127.0.0.1';
CREATE DATABASE c; CREATE TABLE c.t (id INT PRIMARY KEY); INSERT INTO c.t VALUES (1), (2);"

# drv ACTION ARGS...: the driver against server A as cdc, bounded in time; output in $OUT.
drv_a() {
    _act=$1
    shift
    OUT=$(timeout 60 "$D" "$_act" --host 127.0.0.1 --port "$PORT_A" --user cdc --password cdcpw \
        "$@" 2>&1) || true
}
# expect NAME PATTERN: ok when $OUT matches the grep -E PATTERN.
expect() {
    if printf '%s\n' "$OUT" | grep -Eq -- "$2"; then
        ok "$1"
    else
        not_ok "$1" "expected /$2/ in:" "$OUT"
    fi
}

drv_a open
expect "identity: server_id 1, no uuid on MariaDB, MariaDB version" \
    '^identity server_id=1 uuid= mariadb=1 version=.*MariaDB'
expect "tls disabled: plain text" '^cipher none$'
expect "auto server_id: 0x53xxxxxx" "^replica_id (13[9][0-9]{7}|140[0-9]{7})$"

drv_a open --tls preferred
expect "tls preferred against a server without TLS: connects in plain text" '^cipher none$'

drv_a open --tls required
expect "tls required against a server without TLS: fails, fatal, says plain text" \
    '^error code=-210 retriable=0 fatal=1 msg=.*127\.0\.0\.1:[0-9]+ is plain text'

drv_a open --tls verify_ca
expect "tls verify_ca without a CA: says source.tls.ca" '^error .*fatal=1 .*source\.tls\.ca'

OUT=$(timeout 60 "$D" open --host 127.0.0.1 --port "$PORT_A" --user cdc --password wrong 2>&1) || true
expect "wrong password: fatal, not retriable, errno 1045" \
    '^error code=-210 retriable=0 fatal=1 msg=.*errno 1045'

NOPORT=$(free_port)
OUT=$(timeout 60 "$D" open --host 127.0.0.1 --port "$NOPORT" --user cdc --password cdcpw 2>&1) || true
expect "nothing listening: retriable (errno 2002/2003)" '^error code=-210 retriable=1 fatal=0 .*errno 200[23]'

sql "FLUSH BINARY LOGS; INSERT INTO c.t VALUES (3); FLUSH BINARY LOGS; INSERT INTO c.t VALUES (4);"
drv_a list
LOGS=$(printf '%s\n' "$OUT" | grep -c '^log binlog\.[0-9]* [0-9]*$' || true)
SHOWN=$(sql "SHOW BINARY LOGS" | wc -l)
if [ "$LOGS" -eq 3 ] && [ "$SHOWN" -eq 3 ]; then
    ok "list logs: the 3 files with sizes"
else
    not_ok "list logs: the 3 files with sizes" "$OUT"
fi

drv_a status
EXP=$(sql "SHOW MASTER STATUS" | awk '{print $1, $2}')
GTID=$(sql "SELECT @@gtid_binlog_pos")
expect "master status: file, position and gtid_binlog_pos" "^status $EXP $GTID\$"

OUT=$(timeout 60 "$D" list --host 127.0.0.1 --port "$PORT_A" --user nomon --password pw 2>&1) || true
expect "SHOW BINARY LOGS denied: names BINLOG MONITOR, fatal" \
    '^error code=-210 retriable=0 fatal=1 .*BINLOG MONITOR'

OUT=$(timeout 60 "$D" stream --host 127.0.0.1 --port "$PORT_A" --user norepl --password pw \
    --non-blocking 2>&1) || true
expect "binlog dump denied: names REPLICATION SLAVE, fatal" \
    '^error .*retriable=0 fatal=1 .*REPLICATION SLAVE'

drv_a stream --non-blocking
expect "non-blocking stream to the end" '^events [1-9][0-9]*$'
expect "last activity after open" '^activity recent$'

# Purge: the first two files go; asking for the first names the position and the oldest file.
FIRST=$(sql "SHOW BINARY LOGS" | awk 'NR == 1 {print $1}')
LAST=$(sql "SHOW BINARY LOGS" | awk 'END {print $1}')
# MariaDB keeps a file until its binlog checkpoint is written: retry until it is gone.
_i=0
while [ $_i -lt 50 ] && [ "$(sql "SHOW BINARY LOGS" | awk 'NR == 1 {print $1}')" != "$LAST" ]; do
    sql "PURGE BINARY LOGS TO '$LAST'; SHOW WARNINGS" >"$W/purge.out" 2>&1 || true
    sleep 0.2
    _i=$((_i + 1))
done
[ -s "$W/purge.out" ] && diag "purge: $(cat "$W/purge.out")"
drv_a stream --non-blocking --start "$FIRST:256"
expect "purged: ERR_BINLOG_PURGED naming the position and the oldest binlog" \
    "^error code=-212 retriable=0 fatal=1 msg=binlog \"$FIRST\" position 256 is no longer on the server \\(its oldest binlog is \"$LAST\"\\)"

# A second replica with our server_id: the server drops the first one.
timeout 60 "$D" stream --host 127.0.0.1 --port "$PORT_A" --user cdc --password cdcpw \
    --server-id 4242 --heartbeat-ms 500 --seconds 20 >"$W/first.out" 2>&1 &
FIRST_PID=$!
at_exit "kill $FIRST_PID 2>/dev/null"
sleep 1.5
timeout 60 "$D" stream --host 127.0.0.1 --port "$PORT_A" --user cdc --password cdcpw \
    --server-id 4242 --heartbeat-ms 500 --seconds 3 >"$W/second.out" 2>&1 &
SECOND_PID=$!
at_exit "kill $SECOND_PID 2>/dev/null"
# The server drops the first replica when the second registers: wait for its error (bounded).
_i=0
while kill -0 "$FIRST_PID" 2>/dev/null && ! grep -q '^error' "$W/first.out" && [ $_i -lt 100 ]; do
    sleep 0.2
    _i=$((_i + 1))
done
kill "$FIRST_PID" "$SECOND_PID" 2>/dev/null || true
wait "$FIRST_PID" 2>/dev/null || true
wait "$SECOND_PID" 2>/dev/null || true
SECOND=$(cat "$W/second.out")
OUT=$(cat "$W/first.out")
expect "duplicate server_id: fatal, names the id and source.server_id" \
    '^error code=-213 retriable=0 fatal=1 msg=another replica .*server_id 4242.*source\.server_id'
diag "first replica: $(grep '^error' "$W/first.out" || echo none)"
diag "second replica: $(printf '%s\n' "$SECOND" | grep '^error' || echo none)"

# ---- server B: TLS ----------------------------------------------------------------------------
if ! mariadb_up "$TEST_TMP/b" --ssl-cert="$C/server.pem" --ssl-key="$C/server.key" \
    --ssl-ca="$C/ca.pem" 2>"$W/up-b.err"; then
    not_ok "start MariaDB B (TLS)" "$(cat "$W/up-b.err")"
    exit 1
fi
PORT_B=$MARIADB_PORT
sql "CREATE USER cdc@'127.0.0.1' IDENTIFIED BY 'cdcpw';
GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO cdc@'127.0.0.1';"
drv_b() {
    _act=$1
    shift
    OUT=$(timeout 60 "$D" "$_act" --port "$PORT_B" --user cdc --password cdcpw "$@" 2>&1) || true
}
drv_b open --host 127.0.0.1 --tls required
expect "tls required: encrypted" '^cipher [A-Z0-9_-]+$'
expect "tls required: not plain" '^identity server_id=1 '
drv_b open --host 127.0.0.1 --tls preferred
expect "tls preferred against a TLS server: encrypted" '^cipher [A-Z0-9_-]+$'
drv_b open --host 127.0.0.1 --tls disabled
expect "tls disabled against a TLS server: plain text" '^cipher none$'
drv_b open --host 127.0.0.1 --tls verify_ca --ca "$C/ca.pem"
expect "tls verify_ca with the right CA: encrypted" '^cipher [A-Z0-9_-]+$'
drv_b open --host 127.0.0.1 --tls verify_ca --ca "$C/other.pem"
expect "tls verify_ca with a wrong CA: fails, fatal, names the CA setting" \
    '^error code=-210 retriable=0 fatal=1 msg=.*127\.0\.0\.1.*source\.tls\.ca'
drv_b open --host 127.0.0.1 --tls verify_identity --ca "$C/ca.pem"
expect "tls verify_identity, host 127.0.0.1 in the certificate: encrypted" '^cipher [A-Z0-9_-]+$'
drv_b list --host 127.0.0.1 --tls verify_ca --ca "$C/ca.pem"
expect "list logs over TLS" '^log binlog\.000001 [0-9]+$'
# 127.1 reaches the same server under a name the certificate does not hold.
drv_b open --host 127.1 --tls verify_identity --ca "$C/ca.pem"
expect "tls verify_identity, a host name not in the certificate: fails, fatal" \
    '^error code=-210 retriable=0 fatal=1 '
drv_b open --host 127.1 --tls verify_ca --ca "$C/ca.pem"
expect "tls verify_ca does not check the host name" '^cipher [A-Z0-9_-]+$'

test_done
