#!/bin/sh
# 40-dump-live.sh — `sluice dump`: the binlog read over a replica connection from a live server.
#
# A throw-away MariaDB (--binlog-row-metadata=FULL) writes DDL, inserts (one of 400 rows, so
# its rows event is split), updates and deletes, a FLUSH BINARY LOGS in the middle (two
# files). Then:
#   (a) `sluice dump --non-blocking --events all` from the start prints exactly the lines of
#       `sluice decode --events all` over all binlog files in order (same pos, gtid, data);
#   (b) a blocking dump in the background sees a row inserted after it started, within 10 s,
#       and stops on SIGTERM with exit status 0;
#   (c) a wrong password: exit 1, the message names host:port and the server's refusal, and
#       does not contain the password;
#   (d) --start FILE:POS at a transaction in the first file, and --gtid at the transaction
#       before it, print exactly the tail of (a) from that transaction on;
#   (e) binlog_format=STATEMENT (SET GLOBAL, then a new connection): exit 1 naming the fix,
#       SET GLOBAL binlog_format; binlog_row_image=MINIMAL: a warning only; a start position the
#       server does not have: exit 1 saying so; bad usage: exit 2.
# Every dump runs under `timeout`; the background one is stopped by PID, also at exit.
set -eu
. "$(dirname "$0")/lib.sh"

need_cmd mariadb-install-db mariadbd mariadb mariadb-admin jq timeout
need_sluice
W=$TEST_TMP/work
mkdir -p "$W"

start_mariadb "$TEST_TMP/db" --binlog-row-metadata=FULL
HOSTPORT=127.0.0.1:$MARIADB_PORT
sql "CREATE USER cdc@'127.0.0.1' IDENTIFIED BY 'cdcpw';
GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO cdc@'127.0.0.1';
CREATE DATABASE live;
CREATE TABLE live.t (id INT PRIMARY KEY, name VARCHAR(40), amount DECIMAL(10,2),
                     at DATETIME(6), doc JSON, bin BLOB);
INSERT INTO live.t VALUES (1, 'one', 1.50, '2024-01-02 03:04:05.678901', '{\"a\": 1}', x'00ff');
BEGIN;
INSERT INTO live.t VALUES (2, 'two', 2.50, NULL, NULL, NULL);
INSERT INTO live.t VALUES (3, 'three', 3.50, '1999-12-31 23:59:59', '[1, \"x\"]', 'abc');
COMMIT;
INSERT INTO live.t (id, name, amount)
  WITH RECURSIVE n(i) AS (SELECT 100 UNION ALL SELECT i + 1 FROM n WHERE i < 499)
  SELECT i, CONCAT('row-', i, '-', REPEAT('x', 20)), i / 4 FROM n;
UPDATE live.t SET amount = amount * 2 WHERE id = 2;
FLUSH BINARY LOGS;
ALTER TABLE live.t ADD COLUMN note VARCHAR(10) DEFAULT 'n';
UPDATE live.t SET name = 'ONE', note = 'changed' WHERE id = 1;
DELETE FROM live.t WHERE id = 3;
DELETE FROM live.t WHERE id BETWEEN 100 AND 149;
INSERT INTO live.t (id, name) VALUES (4, 'four');"

SLUICE_PASSWORD=cdcpw
export SLUICE_PASSWORD
# dump ARGS...: a dump as cdc, bounded in time.
dump() {
    timeout 60 "$SLUICE" dump --host 127.0.0.1 --port "$MARIADB_PORT" --user cdc "$@"
}

# ---- (a) the whole binlog, compared with decoding the files --------------------------------
NFILES=$(binlog_files | wc -l | tr -d ' ')
# shellcheck disable=SC2046
"$SLUICE" decode --events all $(binlog_files) >"$W/decode.out" 2>"$W/decode.err" || true
rc=0
dump --non-blocking --events all >"$W/dump.out" 2>"$W/dump.err" || rc=$?
nlines=$(wc -l <"$W/dump.out" | tr -d ' ')
files=$(jq -r '.pos | sub(":.*$"; "")' "$W/dump.out" 2>/dev/null | sort -u | tr '\n' ' ')
if [ "$rc" -ne 0 ]; then
    not_ok "(a) non-blocking dump from the start: exit 0" "exit $rc" "$(head -n 3 "$W/dump.err")"
elif [ ! -s "$W/decode.out" ]; then
    not_ok "(a) non-blocking dump from the start" "sluice decode printed nothing:" \
        "$(head -n 3 "$W/decode.err")"
elif ! cmp -s "$W/decode.out" "$W/dump.out"; then
    not_ok "(a) non-blocking dump prints exactly what decode of the $NFILES files prints" \
        "$(diff "$W/decode.out" "$W/dump.out" | head -n 10)"
elif [ "$NFILES" -lt 2 ] || [ "$(echo "$files" | wc -w)" -lt 2 ]; then
    not_ok "(a) the dump spans two binlog files" "files: $NFILES, positions in: $files"
else
    ok "(a) non-blocking dump from the start = decode of the $NFILES files ($nlines lines, $files)"
fi

# ---- (d) a start in the middle: --start FILE:POS and --gtid ---------------------------------
# The GTID line of the 400-row insert's transaction (in the first file), and the GTID of the
# transaction before it.
GLINE=$(awk '/"type":"gtid"/ { g = NR } /"type":"insert".*"data":\{"id":100,/ { print g; exit }' "$W/decode.out")
START_POS=$(sed -n "${GLINE:-1}p" "$W/decode.out" | jq -r .pos)
PREV_GTID=$(head -n "${GLINE:-1}" "$W/decode.out" | grep '"type":"gtid"' | tail -n 2 | head -n 1 | jq -r .gtid)
if [ -z "$GLINE" ] || [ -z "$START_POS" ] || [ -z "$PREV_GTID" ]; then
    not_ok "(d) start positions from the decode output" "$(head -n 20 "$W/decode.out")"
else
    tail -n +"$GLINE" "$W/decode.out" >"$W/tail.want"
    rc=0
    dump --non-blocking --events all --start "$START_POS" >"$W/tail.pos" 2>"$W/tail.err" || rc=$?
    if [ "$rc" -eq 0 ] && cmp -s "$W/tail.want" "$W/tail.pos"; then
        ok "(d) --start $START_POS prints the tail ($(wc -l <"$W/tail.want" | tr -d ' ') lines)"
    else
        not_ok "(d) --start $START_POS prints the tail" "exit $rc" "$(head -n 3 "$W/tail.err")" \
            "$(diff "$W/tail.want" "$W/tail.pos" | head -n 10)"
    fi
    rc=0
    dump --non-blocking --events all --gtid "$PREV_GTID" >"$W/tail.gtid" 2>"$W/tail.err" || rc=$?
    if [ "$rc" -eq 0 ] && cmp -s "$W/tail.want" "$W/tail.gtid"; then
        ok "(d) --gtid $PREV_GTID prints the tail after that transaction"
    else
        not_ok "(d) --gtid $PREV_GTID prints the tail after that transaction" "exit $rc" \
            "$(head -n 3 "$W/tail.err")" "$(diff "$W/tail.want" "$W/tail.gtid" | head -n 10)"
    fi
fi

# ---- (b) a blocking dump sees new rows ------------------------------------------------------
"$SLUICE" dump --host 127.0.0.1 --port "$MARIADB_PORT" --user cdc --heartbeat-ms 1000 \
    >"$W/live.out" 2>"$W/live.err" &
LIVE_PID=$!
at_exit "kill -TERM $LIVE_PID 2>/dev/null; wait $LIVE_PID 2>/dev/null"
# Caught up: the last row of the workload (id 4) is printed.
i=0
while [ $i -lt 100 ] && ! grep -q '"id":4,' "$W/live.out" 2>/dev/null; do
    sleep 0.1
    i=$((i + 1))
done
sql "INSERT INTO live.t (id, name) VALUES (777, 'after-start')"
i=0
while [ $i -lt 100 ] && ! grep -q '"after-start"' "$W/live.out" 2>/dev/null; do
    sleep 0.1
    i=$((i + 1))
done
if grep -q '"type":"insert".*"id":777,"name":"after-start"' "$W/live.out"; then
    ok "(b) a blocking dump prints a row inserted after it started (within $((i / 10)).$((i % 10)) s)"
else
    not_ok "(b) a blocking dump prints a row inserted after it started, within 10 s" \
        "alive: $(alive "$LIVE_PID" && echo yes || echo no)" "$(tail -n 3 "$W/live.out")" \
        "$(head -n 3 "$W/live.err")"
fi
kill -TERM "$LIVE_PID" 2>/dev/null || true
i=0
while [ $i -lt 50 ] && alive "$LIVE_PID"; do
    sleep 0.1
    i=$((i + 1))
done
if alive "$LIVE_PID"; then
    not_ok "(b) SIGTERM stops the blocking dump within 5 s"
    kill -KILL "$LIVE_PID" 2>/dev/null || true
    wait "$LIVE_PID" 2>/dev/null || true
else
    rc=0
    wait "$LIVE_PID" || rc=$?
    if [ "$rc" -eq 0 ] && [ ! -s "$W/live.err" ]; then
        ok "(b) SIGTERM stops the blocking dump: exit 0, nothing on stderr"
    else
        not_ok "(b) SIGTERM stops the blocking dump: exit 0" "exit $rc" "$(head -n 3 "$W/live.err")"
    fi
fi

# ---- (c) a wrong password -------------------------------------------------------------------
rc=0
WRONG_PASSWORD=Wr0ngSecret
export WRONG_PASSWORD
dump --non-blocking --password-env WRONG_PASSWORD >"$W/pw.out" 2>"$W/pw.err" || rc=$?
if [ "$rc" -eq 1 ] && grep -qF "$HOSTPORT" "$W/pw.err" && grep -q 'Access denied' "$W/pw.err" &&
    ! grep -q 'Wr0ngSecret' "$W/pw.err" "$W/pw.out"; then
    ok "(c) wrong password: exit 1, \"$(head -n 1 "$W/pw.err" | cut -c1-140)\""
else
    not_ok "(c) wrong password: exit 1 naming $HOSTPORT, without the password" "exit $rc" \
        "$(head -n 3 "$W/pw.err")"
fi
# The right password from a file works (it wins over $SLUICE_PASSWORD).
printf 'cdcpw\n' >"$W/pw.file"
rc=0
dump --non-blocking --password-file "$W/pw.file" >"$W/pwf.out" 2>"$W/pwf.err" || rc=$?
if [ "$rc" -eq 0 ] && [ -s "$W/pwf.out" ]; then
    ok "(c) --password-file: the password is read from the file"
else
    not_ok "(c) --password-file: the password is read from the file" "exit $rc" \
        "$(head -n 3 "$W/pwf.err")"
fi

# ---- (e) server not set up, position gone, bad usage ----------------------------------------
sql "SET GLOBAL binlog_format = 'STATEMENT'"
rc=0
dump --non-blocking >"$W/fmt.out" 2>"$W/fmt.err" || rc=$?
sql "SET GLOBAL binlog_format = 'ROW'"
if [ "$rc" -eq 1 ] && grep -q "SET GLOBAL binlog_format" "$W/fmt.err" &&
    grep -qF "$HOSTPORT" "$W/fmt.err"; then
    ok "(e) binlog_format=STATEMENT: exit 1, \"$(head -n 1 "$W/fmt.err" | cut -c1-140)\""
else
    not_ok "(e) binlog_format=STATEMENT: exit 1 naming SET GLOBAL binlog_format" "exit $rc" \
        "$(head -n 3 "$W/fmt.err")"
fi
sql "SET GLOBAL binlog_row_image = 'MINIMAL'"
rc=0
dump --non-blocking >"$W/img.out" 2>"$W/img.err" || rc=$?
sql "SET GLOBAL binlog_row_image = 'FULL'"
if [ "$rc" -eq 0 ] && grep -q 'warning: binlog_row_image is MINIMAL' "$W/img.err"; then
    ok "(e) binlog_row_image=MINIMAL: a warning, the dump goes on"
else
    not_ok "(e) binlog_row_image=MINIMAL: a warning, the dump goes on" "exit $rc" \
        "$(head -n 3 "$W/img.err")"
fi
rc=0
dump --non-blocking --start binlog.999999:4 >"$W/gone.out" 2>"$W/gone.err" || rc=$?
if [ "$rc" -eq 1 ] && grep -q 'no longer on the server' "$W/gone.err" &&
    grep -q 'binlog\.999999:4' "$W/gone.err"; then
    ok "(e) a binlog the server does not have: exit 1, the message says so and names the position"
else
    not_ok "(e) a binlog the server does not have: exit 1 saying so" "exit $rc" \
        "$(head -n 3 "$W/gone.err")"
fi
# usage_error NAME ARGS...: exit status 2 and a message on stderr, nothing on stdout.
usage_error() {
    _name=$1
    shift
    _rc=0
    "$SLUICE" dump "$@" >"$W/use.out" 2>"$W/use.err" </dev/null || _rc=$?
    if [ "$_rc" = 2 ] && [ -s "$W/use.err" ] && [ ! -s "$W/use.out" ]; then
        ok "(e) $_name: exit 2, \"$(head -n 1 "$W/use.err" | cut -c1-100)\""
    else
        not_ok "(e) $_name: exit 2 with a message on stderr" "exit status $_rc" \
            "stderr: $(head -n 2 "$W/use.err")"
    fi
}
usage_error "no --host" --user cdc
usage_error "--start and --gtid" --host 127.0.0.1 --user cdc --start binlog.000001:4 --gtid 0-1-1
usage_error "--start without a position" --host 127.0.0.1 --user cdc --start binlog.000001
usage_error "--gtid not a GTID list" --host 127.0.0.1 --user cdc --gtid 0-1
usage_error "unknown option" --host 127.0.0.1 --user cdc --bogus

test_done
