#!/bin/sh
# 12-decode-threads.sh — `sluice decode --threads N` prints exactly what one thread prints.
#
# A throw-away MariaDB writes a binlog of several MiB: 3000 small transactions (so the stream is
# cut into many chunks at GTID events), one transaction of about 12 MiB (larger than a chunk may
# grow: decoded inline, on the caller's thread) and 2000 more small ones, with a DDL between.
# Then, for --threads 1, 2 and 4:
#   - the output of --events all, json, canal and debezium (ts fields that hold the wall clock
#     removed) and --stats are byte for byte the same;
#   - --start-position / --stop-position in the middle of the stream give the same lines;
#   - a copy with a byte flipped in an event near the end (CRC32 mismatch) fails with exit 1,
#     the same message naming the offset, and the same lines printed before it;
#   - bad values of --threads exit 2; a broken file before a missing one reports the broken
#     event (the first error in stream order);
#   - a file cut shorter while it is read (sluice maps plain files) is named, exit 1.
set -eu
. "$(dirname "$0")/lib.sh"

need_cmd mariadb-install-db mariadbd mariadb mariadb-admin jq
need_sluice
W=$TEST_TMP/work
mkdir -p "$W"

start_mariadb "$TEST_TMP/db" --binlog-row-metadata=FULL
sql "CREATE DATABASE p;
CREATE TABLE p.t (id INT PRIMARY KEY, v VARCHAR(250), d DECIMAL(12,3), f DOUBLE, j JSON,
                  b BLOB, ts DATETIME(3));
CREATE TABLE p.big (id INT PRIMARY KEY, pad TEXT);"
awk 'BEGIN {
    for (i = 1; i <= 3000; i++)
        printf "INSERT INTO p.t VALUES (%d, REPEAT(\"x%d\", %d), %d.125, %d.5e-3, \"{\\\"k\\\": %d}\", X\047%06x\047, \"2024-01-02 03:04:05.%03d\");\n", i, i, 1 + i % 40, i, i, i, i, i % 1000
    print "BEGIN;"
    for (i = 1; i <= 1200; i++)
        printf "INSERT INTO p.big VALUES (%d, REPEAT(\"big-%d \", 1200));\n", i, i
    print "COMMIT;"
    print "ALTER TABLE p.t ADD COLUMN extra INT DEFAULT 7;"
    for (i = 3001; i <= 5000; i++)
        printf "UPDATE p.t SET v = CONCAT(v, \"-u\"), d = d + 1 WHERE id = %d;\n", i - 3000
    print "DELETE FROM p.t WHERE id <= 500;"
    print "FLUSH BINARY LOGS;"
}' | sql
BINLOG=$(binlog_files | head -n 1)
mariadb_down "$TEST_TMP/db"
cp "$BINLOG" "$W/b.000001"
SIZE=$(wc -c <"$W/b.000001" | tr -d ' ')
if [ "$SIZE" -gt 8000000 ]; then
    ok "the binlog has $SIZE bytes: many chunks and one transaction over 8 MiB"
else
    not_ok "binlog size" "only $SIZE bytes: the test would not cut it into chunks"
fi

# decode_as N OUT ARGS...: runs decode with N threads; stdout to OUT, stderr to OUT.err, the
# exit status to OUT.rc.
decode_as() {
    n=$1
    o=$2
    shift 2
    set +e
    "$SLUICE" decode --threads "$n" "$@" >"$o" 2>"$o.err"
    echo $? >"$o.rc"
    set -e
}

same() { # same WHAT FILE1 FILE2
    if cmp -s "$2" "$3"; then
        ok "$1"
    else
        not_ok "$1" "$(diff "$2" "$3" | head -5)"
    fi
}

for n in 1 2 4; do
    decode_as $n "$W/all.$n" --events all --stats "$W/b.000001"
    decode_as $n "$W/canal.$n" --format canal "$W/b.000001"
    decode_as $n "$W/dbz.$n" --format debezium "$W/b.000001"
done
ROWS=$(grep -c '"type":"insert"\|"type":"update"\|"type":"delete"' "$W/all.1" || true)
if [ "$(cat "$W/all.1.rc")" = 0 ] && [ "$ROWS" -eq $((3000 + 1200 + 2000 + 500)) ]; then
    ok "one thread: exit 0, $ROWS row changes"
else
    not_ok "one thread" "exit $(cat "$W/all.1.rc"), $ROWS row changes; $(head -3 "$W/all.1.err")"
fi
for n in 2 4; do
    same "--threads $n: --events all output equals one thread's" "$W/all.1" "$W/all.$n"
    same "--threads $n: --stats equal one thread's" "$W/all.1.err" "$W/all.$n.err"
    # canal's es/ts and debezium's ts_ms hold the wall clock: drop them.
    for f in canal dbz; do
        jq -c 'del(.ts, .ts_ms, .ts_us, .ts_ns)' "$W/$f.1" >"$W/$f.1.n"
        jq -c 'del(.ts, .ts_ms, .ts_us, .ts_ns)' "$W/$f.$n" >"$W/$f.$n.n"
        same "--threads $n: $f format equals one thread's ($(wc -l <"$W/$f.1.n" | tr -d ' ') lines)" \
            "$W/$f.1.n" "$W/$f.$n.n"
    done
done

# A range in the middle: from the 1000th GTID event to the 4000th event offset.
"$SLUICE" decode --events all "$W/b.000001" | jq -r 'select(.type == "gtid") | .pos' |
    sed 's/.*://' >"$W/gtids"
START=$(sed -n 1000p "$W/gtids")
STOP=$(sed -n 4200p "$W/gtids")
for n in 1 2 4; do
    decode_as $n "$W/range.$n" --start-position "$START" --stop-position "$STOP" "$W/b.000001"
done
RN=$(wc -l <"$W/range.1" | tr -d ' ')
if [ "$RN" -gt 1000 ]; then
    ok "a range $START..$STOP selects $RN row changes"
else
    not_ok "range" "$RN lines between $START and $STOP"
fi
same "--threads 2: the same range" "$W/range.1" "$W/range.2"
same "--threads 4: the same range" "$W/range.1" "$W/range.4"

# A byte flipped in the body of an event near the end.
BAD=$(sed -n 4900p "$W/gtids")
cp "$W/b.000001" "$W/bad.000001"
printf '\377' | dd of="$W/bad.000001" bs=1 seek=$((BAD + 25)) conv=notrunc 2>/dev/null
for n in 1 2 4; do
    decode_as $n "$W/bad.$n" "$W/bad.000001"
done
if [ "$(cat "$W/bad.1.rc")" = 1 ] && grep -q "offset $BAD" "$W/bad.1.err"; then
    ok "a flipped byte at $((BAD + 25)): exit 1, $(cat "$W/bad.1.err")"
else
    not_ok "flipped byte" "exit $(cat "$W/bad.1.rc"): $(cat "$W/bad.1.err")"
fi
for n in 2 4; do
    if [ "$(cat "$W/bad.$n.rc")" = 1 ]; then
        ok "--threads $n: the flipped byte exits 1"
    else
        not_ok "--threads $n: flipped byte" "exit $(cat "$W/bad.$n.rc")"
    fi
    same "--threads $n: the same error message" "$W/bad.1.err" "$W/bad.$n.err"
    same "--threads $n: the same lines before the error ($(wc -l <"$W/bad.1" | tr -d ' '))" \
        "$W/bad.1" "$W/bad.$n"
done

# Bad values.
for v in 0 65 x -1; do
    set +e
    "$SLUICE" decode --threads "$v" "$W/b.000001" >/dev/null 2>"$W/usage.err"
    rc=$?
    set -e
    if [ $rc = 2 ] && grep -q -- '--threads' "$W/usage.err"; then
        ok "--threads $v: exit 2, $(cat "$W/usage.err")"
    else
        not_ok "--threads $v" "exit $rc: $(cat "$W/usage.err")"
    fi
done

# A broken file, then one that does not exist: the first error in stream order is reported.
for n in 1 4; do
    decode_as $n "$W/two.$n" "$W/bad.000001" "$W/missing.000002"
    if [ "$(cat "$W/two.$n.rc")" = 1 ] && grep -q "offset $BAD" "$W/two.$n.err" &&
        ! grep -q missing "$W/two.$n.err"; then
        ok "--threads $n: a broken file before a missing one reports the broken event"
    else
        not_ok "--threads $n: broken then missing" "exit $(cat "$W/two.$n.rc"): $(cat "$W/two.$n.err")"
    fi
done

# A file cut shorter while it is read (a plain file is mapped): the reader of its output is
# paused, so sluice is blocked part-way when the file shrinks; it then names the file, exit 1.
for n in 1 2; do
    cp "$W/b.000001" "$W/cut.000001"
    rm -f "$W/fifo"
    mkfifo "$W/fifo"
    (
        set +e
        "$SLUICE" decode --threads "$n" "$W/cut.000001" >"$W/fifo" 2>"$W/cut.$n.err"
        echo $? >"$W/cut.$n.rc"
    ) &
    exec 3<"$W/fifo"
    dd bs=4096 count=1 <&3 >/dev/null 2>&1
    sleep 1 # it fills the pipe and blocks writing
    truncate -s 100000 "$W/cut.000001"
    cat <&3 >/dev/null
    exec 3<&-
    wait
    if [ "$(cat "$W/cut.$n.rc")" = 1 ] && grep -q 'cut.000001" became shorter' "$W/cut.$n.err"; then
        ok "--threads $n: a file cut shorter while read: exit 1, $(cat "$W/cut.$n.err")"
    else
        not_ok "--threads $n: file cut shorter" "exit $(cat "$W/cut.$n.rc"): $(cat "$W/cut.$n.err")"
    fi
done
