#!/bin/sh
# 50-schema.sh — decoding binlogs written without column metadata (MariaDB's default
# binlog_row_metadata=NO_LOG), with the schema model of src/schema.c: loaded from
# information_schema, followed through the DDL of the binlog, restored from its history after a
# restart.
#
# A throw-away MariaDB gets tables with unsigned integers, ENUM, SET, DECIMAL, JSON, UUID, INET6,
# compressed and virtual columns, and between inserts: ALTER ADD (with AFTER / FIRST, IF NOT
# EXISTS), DROP, RENAME COLUMN + CHANGE in one statement, RENAME TABLE, DROP TABLE and a re-CREATE
# with other columns, CREATE TABLE ... AS SELECT, LIKE, a SEQUENCE, system-versioned tables (with
# hidden and with named period columns). schema_driver.c (built here against libsluice.a)
# decodes the server's binlog files the way an instance does. Checks:
#   - every row has column names (no "@N"), unsigned values are not negative, ENUM/SET values are
#     their strings, and each row carries the columns of the definition in force when written;
#   - a table created before the decoded files is loaded lazily from information_schema, and a
#     restart restores it from the history with the server down;
#   - a restart from a middle position with the stored history version gives the same rows as
#     the first run from there on; a version beyond the history is refused;
#   - decoding old rows of a table since dropped and re-created with other columns, with a
#     schema loaded fresh from the server, fails with the mismatch error (table, position and
#     both column lists), not with wrong rows; the server down is a "could not connect" error;
#   - the same workload on servers with binlog_row_metadata=FULL and MINIMAL decodes to the same
#     rows (but for ts, pos, gtid).
# SCHEMA_DRIVER_LIB=path overrides the library the driver is linked with.
set -eu
. "$(dirname "$0")/lib.sh"

need_cmd mariadb-install-db mariadbd mariadb mariadb-admin jq cc pkg-config

# Under `make test SANITIZER=address` the driver is built with the same sanitizers.
SAN=""
case $SLUICE in
*-address) BUILD=address SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" ;;
*) BUILD=default ;;
esac
LIB=${SCHEMA_DRIVER_LIB:-$ROOT/build/$BUILD/libsluice.a}
if [ ! -f "$LIB" ]; then
    not_ok "libsluice.a" "$LIB not found (run make)"
    exit 1
fi
W=$TEST_TMP/work
mkdir -p "$W"
DRIVER=$W/schema_driver
# $SAN and the pkg-config output are word lists.
# shellcheck disable=SC2046,SC2086
if ! cc -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O1 -g -Wall -Werror $SAN \
    -I"$ROOT/src" -I"$ROOT/src/util" -o "$DRIVER" "$ROOT/test/integration/schema_driver.c" "$LIB" \
    $(pkg-config --libs libmariadb libzstd zlib yaml-0.1 2>/dev/null || echo -lmariadb -lzstd -lz -lyaml) \
    -lm -lpthread >"$W/cc.log" 2>&1; then
    not_ok "schema_driver builds" "$(tail -n 20 "$W/cc.log")"
    exit 1
fi
ok "schema_driver builds"

mariadb_up "$TEST_TMP/db"
META=$(sql "SELECT @@binlog_row_metadata")
diag "binlog_row_metadata=$META"
sql "CREATE USER sch@'127.0.0.1' IDENTIFIED BY 'schpw'; GRANT SELECT ON *.* TO sch@'127.0.0.1'"

drive() { # drive [driver options...] FILE...: the driver against this server
    "$DRIVER" --host 127.0.0.1 --port "$MARIADB_PORT" --user sch --password schpw "$@"
}

# ---- the workload ---------------------------------------------------------------------------
# lazy: created in the first binlog file, used in the second (loaded lazily by run B).
cat >"$W/part1.sql" <<'EOF'
CREATE DATABASE s1;
USE s1;
CREATE TABLE lazy (id SMALLINT UNSIGNED PRIMARY KEY, s SET('p','q','r'), m MEDIUMINT UNSIGNED);
INSERT INTO lazy VALUES (65535, 'p,r', 16777215);
FLUSH BINARY LOGS;
EOF
cat >"$W/part2.sql" <<'EOF'
USE s1;
CREATE TABLE t (
  id INT UNSIGNED NOT NULL PRIMARY KEY,
  big BIGINT UNSIGNED,
  e ENUM('red','green','blue'),
  st SET('a','b','c'),
  name VARCHAR(20),
  d DECIMAL(6,2)
) ENGINE=InnoDB /* a comment */;
INSERT INTO t VALUES (4294967295, 18446744073709551615, 'blue', 'a,c', 'x', 12.5);
INSERT INTO lazy VALUES (1, 'q', 8388608);
ALTER TABLE /* c */ `t` ADD COLUMN extra TINYINT UNSIGNED AFTER id;
INSERT INTO t VALUES (2, 250, 1, 'green', 'b', 'y', -1.25);
ALTER TABLE s1.t DROP COLUMN name;
INSERT INTO t VALUES (3, 7, 2, 'red', '', 3.00);
ALTER TABLE t RENAME COLUMN big TO huge, CHANGE e color ENUM('red','green','blue','black') NOT NULL;
INSERT INTO t VALUES (4, 8, 9, 'black', 'b,c', 0);
UPDATE t SET huge = 18446744073709551614 WHERE id = 4;
RENAME TABLE t TO t2;
INSERT INTO t2 VALUES (5, 0, 0, 'red', 'a', 1);
DELETE FROM t2 WHERE id = 2;
DROP TABLE t2;
CREATE TABLE t2 (id INT PRIMARY KEY, v VARCHAR(5));
INSERT INTO t2 VALUES (-6, 'zz');
CREATE TABLE src (id INT UNSIGNED PRIMARY KEY, j JSON, e ENUM('a','b\\c','it''s'), g POINT,
  dt DATETIME(3), b BOOL, ts TIMESTAMP(6) NULL, f FLOAT, y YEAR, bits BIT(3), u UUID, i6 INET6,
  n NATIONAL CHARACTER VARYING(5), tc TEXT COMPRESSED, v BIGINT AS (id + 1) VIRTUAL);
INSERT INTO src (id, j, e, g, dt, b, ts, f, y, bits, u, i6, n, tc) VALUES (4000000000, '{"k": 1}',
  'it''s', POINT(1,2), '2024-01-02 03:04:05.678', 1, '2024-01-02 03:04:05.000001', 1.5, 2024, b'101',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '::1', 'nvc', 'compressed text');
CREATE TABLE cs AS SELECT * FROM src;
CREATE TABLE lk LIKE src;
ALTER TABLE IF EXISTS lk ADD COLUMN IF NOT EXISTS k INT UNSIGNED FIRST, DROP COLUMN IF EXISTS nope;
INSERT INTO lk (k, id, e) VALUES (4294967295, 1, 'b\\c');
CREATE SEQUENCE sq;
SELECT NEXTVAL(sq);
TRUNCATE TABLE cs;
ALTER TABLE lazy ORDER BY id, m;
SET timestamp = 1700000000;
CREATE TABLE sv (id INT PRIMARY KEY, a INT UNSIGNED) WITH SYSTEM VERSIONING;
INSERT INTO sv VALUES (1, 4294967295);
CREATE TABLE sx (id INT PRIMARY KEY, a INT UNSIGNED, rs TIMESTAMP(6) GENERATED ALWAYS AS ROW START,
  re TIMESTAMP(6) GENERATED ALWAYS AS ROW END, PERIOD FOR SYSTEM_TIME(rs, re)) WITH SYSTEM VERSIONING;
INSERT INTO sx (id, a) VALUES (1, 4294967295);
EOF
sql <"$W/part1.sql" >/dev/null
sql <"$W/part2.sql" >/dev/null
FILES=$(binlog_files | tr '\n' ' ')
SECOND=$(binlog_files | sed -n 2p)
diag "binlog files: $FILES"

# ---- run A: from the first file, with an empty model ------------------------------------------
# shellcheck disable=SC2086
if drive --dir "$W/a" --trace $FILES >"$W/a.out" 2>"$W/a.err"; then
    ok "run A decodes every file"
else
    not_ok "run A decodes every file" "$(tail -n 5 "$W/a.err")"
fi
grep -v schema_version "$W/a.out" >"$W/a.rows" || true

# expect NAME PATTERN...: each pattern (a fixed string) is in the rows of run A, in order.
expect() {
    _name=$1
    shift
    _missing=""
    for _p in "$@"; do
        grep -qF -- "$_p" "$W/a.rows" || _missing="$_missing
$_p"
    done
    if [ -z "$_missing" ]; then
        ok "$_name"
    else
        not_ok "$_name" "missing:$_missing" "rows:" "$(cat "$W/a.rows")"
    fi
}

if grep -q '"@[0-9]' "$W/a.rows"; then
    not_ok "every column has its name" "$(grep '"@[0-9]' "$W/a.rows" | head -n 3)"
else
    ok "every column has its name"
fi
expect "unsigned, ENUM, SET, DECIMAL at creation" \
    '"table":"t"' \
    '"data":{"id":4294967295,"big":18446744073709551615,"e":"blue","st":"a,c","name":"x","d":"12.50"}'
expect "ALTER ADD COLUMN AFTER" \
    '"data":{"id":2,"extra":250,"big":1,"e":"green","st":"b","name":"y","d":"-1.25"}'
expect "ALTER DROP COLUMN" \
    '"data":{"id":3,"extra":7,"big":2,"e":"red","st":"","d":"3.00"}'
expect "RENAME COLUMN and CHANGE in one ALTER" \
    '"data":{"id":4,"extra":8,"huge":9,"color":"black","st":"b,c","d":"0.00"}' \
    '"huge":18446744073709551614'
expect "RENAME TABLE, then DELETE" \
    '"table":"t2","ts"' \
    '"data":{"id":5,"extra":0,"huge":0,"color":"red","st":"a","d":"1.00"}' \
    '{"type":"delete","db":"s1","table":"t2"'
expect "DROP and re-CREATE with other columns" '"data":{"id":-6,"v":"zz"}'
expect "CREATE TABLE ... AS SELECT (logged as CREATE TABLE), JSON, BOOL, ENUM quotes" \
    '"table":"cs"' \
    '"data":{"id":4000000000,"j":"{\"k\": 1}","e":"it'"'"'s","g":'
expect "CREATE TABLE LIKE, ALTER IF EXISTS ... IF NOT EXISTS FIRST, ENUM backslash" \
    '"data":{"k":4294967295,"id":1,"j":null,"e":"b\\c","g":null'
expect "CREATE SEQUENCE (loaded from the server)" '"table":"sq"' '"next_not_cached_value":'
expect "WITH SYSTEM VERSIONING: hidden row_start/row_end" \
    '"data":{"id":1,"a":4294967295,"row_start":"2023-11-14 22:13:20.000000","row_end":' \
    '"data":{"id":1,"a":4294967295,"rs":"2023-11-14 22:13:20.000000","re":'
expect "table from before the first DDL (lazy load)" \
    '"data":{"id":65535,"s":"p,r","m":16777215}' '"data":{"id":1,"s":"q","m":8388608}'

VERSIONS=$(grep -c schema_version "$W/a.out" || true)
if [ "$VERSIONS" -ge 7 ] && [ -s "$W/a/history" ]; then
    ok "each DDL made a history version ($VERSIONS)"
else
    not_ok "each DDL made a history version" "$(cat "$W/a.out")"
fi

# ---- run B: from the second file only, model empty: every table loaded lazily ------------------
# The CREATE TABLE t is in the second file, so only `lazy` comes from the server (as it is
# today, which for `lazy` is as it was).
if drive --dir "$W/b" --trace "$SECOND" >"$W/b.out" 2>"$W/b.err" &&
    grep -qF '"data":{"id":1,"s":"q","m":8388608}' "$W/b.out"; then
    ok "lazy load from information_schema"
else
    not_ok "lazy load from information_schema" "$(tail -n 5 "$W/b.err")" "$(cat "$W/b.out")"
fi

# ---- run C: restart in the middle with the stored history ------------------------------------
# The version after the DROP COLUMN (third DDL in the second file) and the position after it.
LINE=$(grep schema_version "$W/a.out" | grep -F "$(basename "$SECOND")" | sed -n 3p)
V=$(echo "$LINE" | jq -r .schema_version)
NEXT=$(echo "$LINE" | jq -r .next | sed 's/.*://')
cp -r "$W/a" "$W/c"
if drive --dir "$W/c" --version "$V" --start "$NEXT" "$SECOND" >"$W/c.out" 2>"$W/c.err"; then
    # The rows of run A after that position.
    awk -v f="$(basename "$SECOND")" -v n="$NEXT" '
        { if (match($0, /"pos":"[^"]*"/)) { p = substr($0, RSTART + 7, RLENGTH - 8)
            split(p, a, ":"); if (a[1] == f && a[2] + 0 >= n + 0) print } }' "$W/a.rows" >"$W/a.tail"
    if [ -s "$W/c.out" ] && cmp -s "$W/a.tail" "$W/c.out"; then
        ok "restart from a middle position with history version $V"
    else
        not_ok "restart from a middle position with history version $V" \
            "$(diff "$W/a.tail" "$W/c.out" | head -n 20)"
    fi
else
    not_ok "restart from a middle position with history version $V" "$(tail -n 5 "$W/c.err")"
fi
# A version beyond the history is refused.
if drive --dir "$W/c" --version 999 "$SECOND" >/dev/null 2>"$W/c2.err"; then
    not_ok "unknown history version refused"
else
    ok "unknown history version refused"
fi

# ---- run D: old rows, schema loaded fresh from the server: mismatch -------------------------
# Start at the INSERT into t2 after the RENAME (6 columns then; t2 has 2 columns today).
LINE=$(grep schema_version "$W/a.out" | grep -F "$(basename "$SECOND")" | sed -n 5p)
NEXT=$(echo "$LINE" | jq -r .next | sed 's/.*://')
if drive --dir "$W/d" --start "$NEXT" "$SECOND" >"$W/d.out" 2>"$W/d.err"; then
    not_ok "old rows against a changed table: mismatch error" "decoded:" "$(cat "$W/d.out")"
else
    MSG=$(grep -v 'warning\|schema version [0-9]*$' "$W/d.err" | tail -n 1)
    case $MSG in
    *"table \`s1\`.\`t2\` at $(basename "$SECOND"):"*"binlog has 6 columns (int, tinyint, bigint, enum, set, decimal), schema version 1 has 2 (int, varchar)"*)
        ok "old rows against a changed table: mismatch error" ;;
    *) not_ok "old rows against a changed table: mismatch error" "$MSG" ;;
    esac
fi
if [ -s "$W/d.out" ]; then
    not_ok "no row decoded with the wrong schema" "$(cat "$W/d.out")"
else
    ok "no row decoded with the wrong schema"
fi

# ---- the server down: retriable source error --------------------------------------------------
mariadb_down "$TEST_TMP/db"
if drive --dir "$W/e" "$SECOND" >/dev/null 2>"$W/e.err"; then
    not_ok "server down: schema source error" "decoded without a server"
elif grep -q "could not connect" "$W/e.err"; then
    ok "server down: schema source error"
else
    not_ok "server down: schema source error" "$(tail -n 3 "$W/e.err")"
fi

# ---- a restart that needs a table loaded lazily before: from the history, server down ----------
# Run B loaded `lazy` from the server (history version 2, after CREATE TABLE t = 1); its rows
# between the first and second DDL of the file decode from the history alone.
L1=$(grep schema_version "$W/b.out" | sed -n 1p | jq -r .next | sed 's/.*://')
L2=$(grep schema_version "$W/b.out" | sed -n 2p | jq -r .pos | sed 's/.*://')
if drive --dir "$W/b" --version 2 --start "$L1" --stop "$L2" "$SECOND" >"$W/b2.out" 2>"$W/b2.err" &&
    grep -qF '"data":{"id":1,"s":"q","m":8388608}' "$W/b2.out"; then
    ok "lazily loaded table restored from the history (server down)"
else
    not_ok "lazily loaded table restored from the history (server down)" \
        "$(tail -n 5 "$W/b2.err")" "$(cat "$W/b2.out")"
fi

# ---- the same workload on servers that log (some) metadata: the same rows -------------------
# FULL: the table maps carry names, signedness and ENUM/SET strings themselves, the schema only
# cross-checks them. MINIMAL: signedness and charsets but no names or strings, so the schema
# completes them. Rows must equal run A's but for ts, pos and gtid.
strip() { sed -E 's/"ts":[0-9]+,"pos":"[^"]*","row":[0-9]+,"gtid":"[^"]*",//' "$1"; }
strip "$W/a.rows" >"$W/a.cmp"
for META in FULL MINIMAL; do
    mariadb_up "$TEST_TMP/$META" --binlog-row-metadata=$META
    sql "CREATE USER sch@'127.0.0.1' IDENTIFIED BY 'schpw'; GRANT SELECT ON *.* TO sch@'127.0.0.1'"
    sql <"$W/part1.sql" >/dev/null
    sql <"$W/part2.sql" >/dev/null
    # shellcheck disable=SC2046
    if drive --dir "$W/$META" $(binlog_files) >"$W/$META.out" 2>"$W/$META.err"; then
        strip "$W/$META.out" >"$W/$META.cmp"
        if cmp -s "$W/a.cmp" "$W/$META.cmp"; then
            ok "rows equal those of a binlog_row_metadata=$META binlog"
        else
            not_ok "rows equal those of a binlog_row_metadata=$META binlog" \
                "$(diff "$W/a.cmp" "$W/$META.cmp")"
        fi
    else
        not_ok "rows equal those of a binlog_row_metadata=$META binlog" \
            "$(tail -n 5 "$W/$META.err")"
    fi
    mariadb_down "$TEST_TMP/$META"
done

test_done
