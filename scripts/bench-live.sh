#!/bin/sh
# bench-live.sh — the live pipeline benchmark: `sluice run` from MariaDB commit to the file
# sink against the raw dump rate of the same stream. Run by scripts/bench.sh (`make bench`)
# after the decode benchmark; can be run on its own with SLUICE set.
#
# Part 1, throughput. Starts a throw-away mariadbd (test/integration/lib.sh: 127.0.0.1, free
# port, ROW binlog, metadata FULL, CRC32), creates the cdc user, writes LIVE_ROWS inserts
# (INSERT ... SELECT from the SEQUENCE engine's seq_A_to_B, LIVE_BATCH rows per transaction,
# mixed types), then LIVE_ROWS/20 updates and LIVE_ROWS/50 deletes, and FLUSH BINARY LOGS: the
# stream (binlog.000001 up to SHOW MASTER STATUS) is fixed from then on. Best of BENCH_RUNS:
#   (a) mariadb-binlog --read-from-remote-server --raw --to-last-log binlog.000001 as cdc,
#       into a temp dir: the raw dump rate of the stream;
#   (b) sluice run (start: earliest, one file sink, format json, fsynced before each ack,
#       default budget_mb, decode_threads 0) under /usr/bin/time -v, timed from its start
#       until its admin endpoint shows the consumed position at SHOW MASTER STATUS (polled every
#       10 ms by one process, WAIT_BENCH = build/.../bench/wait_caught_up; without it,
#       `sluice status --json` every 50 ms), then SIGTERM. Peak RSS: time's "Maximum resident
#       set size", cross-checked with the daemon's VmHWM read just before the SIGTERM. Its CPU
#       seconds (user + system) are logged too: far below the wall time means it waits
#       (fdatasync), not computes;
#   (c) the same with decode_threads: 2 (transactions decoded on 2 threads beside the
#       instance's, src/stream_pool.c).
# Row changes per second and MB/s of binlog are printed for all, side by side, with the ratio
# against the target (sluice >= 50% of the raw dump rate) and the peak RSS against 128 MiB.
#
# Part 2, one big transaction. FLUSH BINARY LOGS, then one INSERT ... SELECT of LIVE_BIG_ROWS
# rows with a 1000-byte column (default 1,150,000 rows: about 1.16 GB of binlog, > 1 GiB) in a
# single InnoDB transaction (the server rotates right after it: the file passes
# max_binlog_size); the raw dump from that file on is timed, and sluice streams the same bytes
# from FILE:4 with the default budget; its peak RSS is compared with 128 MiB. Skipped, with a line
# that says so, when the temp dir's file system has less than 8 GB free (LIVE_BIG=0 skips it
# too).
#
# Part 3, Kafka. The part 1 stream once more, into the Kafka sink (bin/sluice-kafka-mock:
# librdkafka's mock cluster, 3 brokers, on loopback), once per format (json, canal, debezium),
# timed from the daemon's start until its consumed position (which moves only on delivery
# reports) reaches the end; rows/s side by side with the raw dump rate and the 500,000 rows/s
# target, peak RSS against 128 MiB; then json once more with `headers: off`. Its peer, measured
# first against the same cluster (best of BENCH_RUNS): librdkafka alone (KAFKA_FLOOR,
# test/bench/kafka_floor.c) sending as many messages of the json lines' mean size, with the
# sink's producer settings and headers, nothing read or decoded: what this machine allows the
# sink at most.
#
# Part 4, one client. The part 1 stream once more, to one libsluice client over loopback
# (build/bench/client_bench, test/bench/client_bench.c: a get + ack loop of batches of up to
# LIVE_CLIENT_CHANGES changes and 32 MiB, each change's length summed, nothing printed), the
# daemon with `server:` and `sinks: []`, so only the client path is measured. Timed by the client
# from its SUBSCRIBE until the ack of the batch with the last change, two ways, BENCH_RUNS each:
#   (a) end to end: the client subscribes as the daemon starts (MariaDB -> sluice -> client);
#   (b) client path only: budget_mb 4096, the daemon first reads the whole stream into its hub
#       (`sluice status` rows at the expected count), then the client subscribes.
# Rows/s (best, and the spread over the runs) side by side with part 3's Kafka json rate and
# the raw dump rate, against the target of 1,000,000 rows/s to one client (canal publishes
# 100-200k rows/s to its client).
#
# Targets are reported, never enforced: the script exits non-zero only when something breaks
# (server, dump, daemon not catching up in LIVE_TIMEOUT seconds, row count mismatch).
#
# Environment:
#   SLUICE        absolute path of the sluice binary (required; `make bench` sets it)
#   LIVE_ROWS     inserts in part 1 (default 1000000; row changes = ROWS + ROWS/20 + ROWS/50)
#   LIVE_BATCH    rows per insert transaction (default 10000)
#   BENCH_RUNS    timed runs of (a) and (b) in part 1 and in part 4 (default 3; part 2 runs each
#                 once)
#   LIVE_BIG      1 (default) runs part 2, 0 skips it
#   LIVE_BIG_ROWS rows of the big transaction (default 1150000)
#   LIVE_TIMEOUT  seconds one sluice run may take to catch up (default 300)
#   LIVE_KAFKA    1 (default) runs part 3, 0 skips it
#   LIVE_KAFKA_FORMATS  the formats of part 3 (default "json canal debezium")
#   LIVE_KAFKA_PROPS    the sink's `kafka:` map in part 3, inside {} (default "linger.ms: 5")
#   LIVE_KAFKA_NOHEADERS  1 (default) adds a json run with `headers: off` to part 3, 0 skips it
#   LIVE_CLIENT   1 (default) runs part 4, 0 skips it
#   LIVE_CLIENT_CHANGES  max_changes of the client's GETs in part 4 (default 100000)
#   WAIT_BENCH    absolute path of the stopwatch of parts 1-3 (`make bench` builds and sets it;
#                 unset: the 50 ms `sluice status` loop)
#   KAFKA_FLOOR   absolute path of part 3's peer (`make bench` builds and sets it; unset: no
#                 peer row)
#   CLIENT_BENCH  absolute path of the part 4 client (default build/bench/client_bench; `make
#                 bench` builds and sets it)
#   BENCH_KEEP=1  keep the temp dir and print its path
set -eu

ROWS=${LIVE_ROWS:-1000000}
BATCH=${LIVE_BATCH:-10000}
RUNS=${BENCH_RUNS:-3}
BIG=${LIVE_BIG:-1}
BIG_ROWS=${LIVE_BIG_ROWS:-1150000}
TIMEOUT=${LIVE_TIMEOUT:-300}
CLIENT_CHANGES=${LIVE_CLIENT_CHANGES:-100000}
RSS_TARGET_KB=131072 # 128 MiB
FREE_MIN_KB=8000000  # 8 GB for part 2

die() {
    echo "bench-live.sh: $*" >&2
    exit 1
}
say() {
    echo "bench-live.sh: $*" >&2
}

[ -n "${SLUICE:-}" ] || die "SLUICE is not set (run through make bench, or SLUICE=/abs/bin/sluice)"
[ -x "$SLUICE" ] || die "\"$SLUICE\" is not executable"
for v in "$ROWS" "$BATCH" "$RUNS" "$BIG_ROWS" "$TIMEOUT" "$CLIENT_CHANGES"; do
    case $v in '' | *[!0-9]*) die "LIVE_ROWS, LIVE_BATCH, BENCH_RUNS, LIVE_BIG_ROWS, LIVE_TIMEOUT and LIVE_CLIENT_CHANGES must be numbers" ;; esac
done
[ "$ROWS" -ge 100 ] || die "LIVE_ROWS must be at least 100"
if [ "$BATCH" -lt 1 ] || [ "$RUNS" -lt 1 ]; then
    die "LIVE_BATCH and BENCH_RUNS must be at least 1"
fi
for t in mariadbd mariadb mariadb-admin mariadb-install-db mariadb-binlog; do
    command -v "$t" >/dev/null 2>&1 || die "\"$t\" not found (run scripts/install-deps.sh)"
done
if [ "${LIVE_CLIENT:-1}" = 1 ]; then
    CLIENT_BENCH=${CLIENT_BENCH:-$(cd "$(dirname "$0")/.." && pwd)/build/bench/client_bench}
    [ -x "$CLIENT_BENCH" ] || die "\"$CLIENT_BENCH\" is not executable (make build/bench/client_bench, or LIVE_CLIENT=0)"
fi
GNU_TIME=
if [ -x /usr/bin/time ] && /usr/bin/time -v true >/dev/null 2>&1; then
    GNU_TIME=/usr/bin/time
else
    say "/usr/bin/time (GNU time) not found: peak RSS from /proc/PID/status VmHWM only"
fi

# ---------------------------------------------------------------------------------------------
# Throw-away server (lib.sh: free port, PID-tracked, stopped by its exit trap)
# ---------------------------------------------------------------------------------------------

ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ "${BENCH_KEEP:-0}" = 1 ] && export KEEP_TMP=1
# shellcheck source=/dev/null
. "$ROOT/test/integration/lib.sh"
D=$TEST_TMP

# Daemons and their /usr/bin/time wrappers still alive at exit are killed, by PID.
LIVE_PIDS=""
kill_live() {
    for _p in $LIVE_PIDS; do
        if alive "$_p"; then
            kill -KILL "$_p" 2>/dev/null
            wait "$_p" 2>/dev/null
        fi
    done
}
at_exit kill_live

say "starting mariadbd in $D"
# Big transactions: the binlog cache spills to a temp file; both caches may hold 4 GiB.
mariadb_up "$D/db" --binlog-row-metadata=FULL --innodb-buffer-pool-size=1G \
    --innodb-log-file-size=512M --sync-binlog=0 --innodb-doublewrite=0 \
    --max-binlog-cache-size=4G --max-binlog-stmt-cache-size=4G --max-binlog-size=1G ||
    die "could not start mariadbd"
PORT=$MARIADB_PORT

sql "CREATE USER cdc@'127.0.0.1' IDENTIFIED BY 'cdcpass';
GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO cdc@'127.0.0.1';
CREATE DATABASE bench;
CREATE TABLE bench.t (
  id  BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  i   INT,
  b   BIGINT,
  v   VARCHAR(64),
  d   DECIMAL(14,4),
  dt  DATETIME(6),
  f   DOUBLE,
  e   ENUM('red','green','blue','cyan','magenta'),
  tx  TEXT,
  j   JSON
) ENGINE=InnoDB;
CREATE TABLE bench.big (id INT UNSIGNED NOT NULL PRIMARY KEY, pad VARCHAR(1000) NOT NULL)
  ENGINE=InnoDB;"
FIRST=$(sql 'SHOW BINARY LOGS' | awk 'NR == 1 { print $1 }')

# ---------------------------------------------------------------------------------------------
# Part 1 workload: INSERT ... SELECT from the SEQUENCE engine, then updates and deletes
# ---------------------------------------------------------------------------------------------

UPD=$((ROWS / 20))
DEL=$((ROWS / 50))
EXPECT=$((ROWS + UPD + DEL))
say "writing $ROWS inserts ($BATCH per transaction), $UPD updates, $DEL deletes"
t0=$(date +%s%N)
awk -v n="$ROWS" -v batch="$BATCH" -v upd="$UPD" -v del="$DEL" 'BEGIN {
    print "SET SESSION binlog_annotate_row_events=0;"
    print "SET SESSION time_zone=\047+00:00\047;"
    print "USE bench;"
    for (a = 1; a <= n; a += batch) {
        hi = a + batch - 1
        if (hi > n)
            hi = n
        # One statement per transaction (autocommit); values derived from seq, all types.
        printf "INSERT INTO t SELECT seq, CAST((seq * 2654435761) %% 4294967296 AS SIGNED) - 2147483648, " \
               "CAST((seq * 1000000007) %% 9000000000000000000 AS SIGNED) - 4500000000000000000, " \
               "CONCAT(\047user-\047, seq, \047-\047, LEFT(MD5(seq), seq %% 30)), " \
               "CAST((seq * 7919) %% 2000000000 AS SIGNED) / 10000 - 100000, " \
               "TIMESTAMP\0472020-01-01 00:00:00\047 + INTERVAL seq SECOND " \
               "+ INTERVAL (seq * 37) %% 1000000 MICROSECOND, " \
               "seq * 1.000001e-3 - 77.5, ELT(1 + seq %% 5, \047red\047, \047green\047, " \
               "\047blue\047, \047cyan\047, \047magenta\047), " \
               "IF(seq %% 10 = 0, NULL, REPEAT(\047Lorem ipsum dolor sit amet. \047, seq %% 12)), " \
               "JSON_OBJECT(\047id\047, seq, \047tag\047, CONCAT(\047t\047, seq %% 1000), " \
               "\047vals\047, JSON_ARRAY(seq %% 100000, -CAST(seq %% 77777 AS SIGNED)), \047ok\047, seq %% 2 = 0) " \
               "FROM seq_%d_to_%d;\n", a, hi
    }
    step = upd < 2000 ? upd : 2000
    for (a = 1; step > 0 && a <= upd; a += step) {
        hi = a + step - 1
        if (hi > upd)
            hi = upd
        printf "UPDATE t SET i = i DIV 3, v = CONCAT(v, \047-u\047), d = d / 2, " \
               "dt = dt + INTERVAL 1 SECOND, f = f * 1.5, e = \047cyan\047, " \
               "j = JSON_SET(j, \047$.ok\047, false) WHERE id BETWEEN %d AND %d;\n", a, hi
    }
    step = del < 2000 ? del : 2000
    base = int(n / 2)
    for (a = 1; step > 0 && a <= del; a += step) {
        hi = a + step - 1
        if (hi > del)
            hi = del
        printf "DELETE FROM t WHERE id BETWEEN %d AND %d;\n", base + a, base + hi
    }
}' | sql || die "workload failed"
sql 'FLUSH BINARY LOGS'
t1=$(date +%s%N)
GEN_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')

# settle: sets END_FILE and END_POS once SHOW MASTER STATUS has not moved for a second (after a
# rotation the server appends a Binlog_checkpoint event when the old file's transactions are
# durable in InnoDB; waiting for it keeps the measured stream fixed). At most 20 s.
settle() {
    _prev=""
    _i=0
    while [ $_i -lt 20 ]; do
        _cur=$(sql 'SHOW MASTER STATUS' | cut -f 1,2)
        [ "$_cur" = "$_prev" ] && break
        _prev=$_cur
        sleep 1
        _i=$((_i + 1))
    done
    # shellcheck disable=SC2086
    set -- $_cur
    END_FILE=$1
    END_POS=$2
}
settle
BYTES=0
NFILES=0
for f in $(binlog_files); do
    NFILES=$((NFILES + 1))
    BYTES=$((BYTES + $(wc -c <"$f")))
done
say "workload written in ${GEN_S} s: $NFILES file(s) $FIRST..$END_FILE, $BYTES bytes, end $END_FILE:$END_POS"

# ---------------------------------------------------------------------------------------------
# Measuring helpers
# ---------------------------------------------------------------------------------------------

# secs T0 T1: nanosecond stamps to seconds.
secs() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", (b - a) / 1e9 }'
}

# raw_dump FILE: one `mariadb-binlog --raw` of FILE..last into a fresh dir; sets ELAPSED and
# DUMPED (bytes written).
raw_dump() {
    rm -rf "$D/raw"
    mkdir -p "$D/raw"
    _t0=$(date +%s%N)
    mariadb-binlog --no-defaults --read-from-remote-server --raw --to-last-log \
        --host=127.0.0.1 --port="$PORT" --user=cdc --password=cdcpass \
        --result-file="$D/raw/" "$1" 2>"$D/raw.err" || {
        cat "$D/raw.err" >&2
        die "mariadb-binlog --raw failed"
    }
    _t1=$(date +%s%N)
    ELAPSED=$(secs "$_t0" "$_t1")
    DUMPED=$(cat "$D"/raw/* | wc -c)
    rm -rf "$D/raw"
}

# live_config OUT START: one instance, start START, default budget_mb (not set), and the sink
# LIVE_SINK names: "file" (json, under $D/run), "kafka FORMAT" (the mock cluster of part 3) or
# "client BUDGET_MB" (no sink, the client protocol server on SRV_PORT: part 4).
LIVE_SINK=file
live_config() {
    _server=""
    _budget=""
    case $LIVE_SINK in
    file) _sink="[{type: file, path: $D/run/out.jsonl, format: json}]" ;;
    kafka*) _sink="[{type: kafka, brokers: \"$KAFKA_BROKERS\", topic: \"bench.{db}.{table}\", format: ${LIVE_SINK#kafka }, ${KAFKA_EXTRA}kafka: {${LIVE_KAFKA_PROPS:-linger.ms: 5}}}]" ;;
    client*)
        _sink="[]"
        SRV_PORT=$(free_port)
        _server="server: {listen: \"127.0.0.1:$SRV_PORT\", users: [{name: reader, password: readerpw}]}"
        _budget="budget_mb: ${LIVE_SINK#client }"
        ;;
    esac
    ADMIN_PORT=$(free_port)
    cat >"$1" <<EOF
log: {level: info}
admin: {listen: "127.0.0.1:$ADMIN_PORT"}
data_dir: $D/run/var
$_server
instances:
  - name: bench
    source: {host: 127.0.0.1, port: $PORT, user: cdc, password: cdcpass, heartbeat_ms: 1000}
    start: "$2"
    $_budget
    ${LIVE_DT:+decode_threads: $LIVE_DT}
    positions: {store: file, dir: $D/run/var/positions, save_interval_ms: 1000}
    sinks: $_sink
EOF
}

# status_line: "STATE FILE OFFSET ROWS INFLIGHT" from `sluice status --json` (FILE "-" before
# anything is consumed; empty when the daemon does not answer yet). sed, not jq: this runs every 50 ms next to the daemon.
status_line() {
    "$SLUICE" status --admin "127.0.0.1:$ADMIN_PORT" --json 2>/dev/null |
        sed -n 's/"file":""/"file":"-"/g
s/.*"state":"\([a-z_]*\)".*"consumed":{"file":"\([^"]*\)","offset":\([0-9]*\).*"rows":\([0-9]*\),"bytes_in_flight":\([0-9]*\).*/\1 \2 \3 \4 \5/p' |
        head -n 1
}

# live_run START END_FILE END_POS TAG: one `sluice run` from START (fresh state) until consumed
# reaches END_FILE:END_POS, then SIGTERM. Sets ELAPSED, RSS_KB (peak), HWM_KB (VmHWM before
# the SIGTERM), INFLIGHT_MAX (greatest bytes_in_flight polled; the daemon publishes its status
# when caught up, so mid-stream values are not seen), SL_ROWS (status rows), OUT_LINES
# (row lines in the sink files), OUT_BYTES (their size), CPU_S (the daemon's user + system
# seconds, from time; "?" without GNU time).
live_run() {
    _start=$1 _ef=$2 _ep=$3 _tag=$4
    rm -rf "$D/run"
    mkdir -p "$D/run"
    live_config "$D/run/sluice.yaml" "$_start"
    _log=$D/sluice-$_tag.log
    : >"$_log"
    rm -f "$D/sluice.pid"
    _t0=$(date +%s%N)
    # sh writes its PID (the daemon's after exec) first; time waits for it and reports its
    # maximum resident set size.
    # shellcheck disable=SC2016
    if [ -n "$GNU_TIME" ]; then
        "$GNU_TIME" -v -o "$D/time-$_tag.out" \
            sh -c 'echo $$ >"$0"; exec "$@"' "$D/sluice.pid" "$SLUICE" run --config "$D/run/sluice.yaml" \
            >>"$_log" 2>&1 </dev/null &
    else
        sh -c 'echo $$ >"$0"; exec "$@"' "$D/sluice.pid" "$SLUICE" run --config "$D/run/sluice.yaml" \
            >>"$_log" 2>&1 </dev/null &
    fi
    _wrap=$!
    LIVE_PIDS="$LIVE_PIDS $_wrap"
    _i=0
    while [ ! -s "$D/sluice.pid" ] && [ $_i -lt 100 ]; do
        sleep 0.05
        _i=$((_i + 1))
    done
    _pid=$(cat "$D/sluice.pid" 2>/dev/null || true)
    [ -n "$_pid" ] || die "sluice run did not start"
    LIVE_PIDS="$LIVE_PIDS $_pid"
    _end=$(($(date +%s) + TIMEOUT))
    INFLIGHT_MAX=0
    HWM_KB=0
    _st=""
    if [ -n "${WAIT_BENCH:-}" ]; then
        # One process polls every 10 ms (see test/bench/wait_caught_up.c).
        _wrc=0
        _st=$("$WAIT_BENCH" "127.0.0.1:$ADMIN_PORT" "$_pid" "$TIMEOUT" consumed "$_ef" "$_ep") || _wrc=$?
        if [ "$_wrc" != 0 ]; then
            tail -n 20 "$_log" >&2
            die "sluice run did not reach $_ef:$_ep (exit $_wrc; last status: ${_st:-none})"
        fi
        # shellcheck disable=SC2086
        set -- $_st
        INFLIGHT_MAX=$5
    fi
    while [ -z "${WAIT_BENCH:-}" ]; do
        _st=$(status_line)
        if [ -n "$_st" ]; then
            # shellcheck disable=SC2086
            set -- $_st
            [ "$5" -gt "$INFLIGHT_MAX" ] && INFLIGHT_MAX=$5
            if [ "$2" = "$_ef" ] && [ "$3" -ge "$_ep" ]; then
                break
            fi
            case $1 in failed | stopped) die "sluice run went $1; its log: $(tail -n 5 "$_log")" ;; esac
        fi
        if ! alive "$_pid"; then
            tail -n 20 "$_log" >&2
            die "sluice run (PID $_pid) exited before catching up"
        fi
        if [ "$(date +%s)" -ge "$_end" ]; then
            tail -n 20 "$_log" >&2
            die "sluice run did not reach $_ef:$_ep in $TIMEOUT s (last status: ${_st:-none})"
        fi
        sleep 0.05
    done
    _t1=$(date +%s%N)
    ELAPSED=$(secs "$_t0" "$_t1")
    SL_ROWS=$4
    HWM_KB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$_pid/status" 2>/dev/null || echo 0)
    kill -TERM "$_pid" 2>/dev/null || true
    _i=0
    while alive "$_pid" && [ $_i -lt 300 ]; do
        sleep 0.1
        _i=$((_i + 1))
    done
    if alive "$_pid"; then
        say "sluice run (PID $_pid) did not stop in 30 s after SIGTERM, killing it"
        kill -KILL "$_pid" 2>/dev/null || true
    fi
    wait "$_wrap" 2>/dev/null || true
    RSS_KB=$HWM_KB
    CPU_S="?"
    if [ -n "$GNU_TIME" ]; then
        _m=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$D/time-$_tag.out")
        [ -n "$_m" ] && [ "$_m" -gt "$RSS_KB" ] && RSS_KB=$_m
        CPU_S=$(awk -F': ' '/User time|System time/ { t += $2 } END { printf "%.2f", t }' "$D/time-$_tag.out")
    fi
    OUT_LINES=$(cat "$D"/run/out.jsonl* 2>/dev/null | grep -c '"type":"\(insert\|update\|delete\)"' || true)
    OUT_LINES=$((OUT_LINES + 0))
    OUT_BYTES=$(cat "$D"/run/out.jsonl* 2>/dev/null | wc -c)
    rm -rf "$D/run"
}

# ---------------------------------------------------------------------------------------------
# Part 1: best of RUNS, alternating raw dump and sluice
# ---------------------------------------------------------------------------------------------

RAW_BEST=
SL_BEST=
SLP_BEST=
SLP_RSS=0
LIVE_DT=
SL_RSS=0
SL_HWM=0
SL_INFL=0
n=0
while [ $n -lt "$RUNS" ]; do
    n=$((n + 1))
    raw_dump "$FIRST"
    [ "$DUMPED" -eq "$BYTES" ] || say "raw dump wrote $DUMPED bytes, the server's files hold $BYTES"
    say "raw dump run $n: ${ELAPSED} s"
    if [ -z "$RAW_BEST" ] || awk -v a="$ELAPSED" -v b="$RAW_BEST" 'BEGIN { exit !(a < b) }'; then
        RAW_BEST=$ELAPSED
    fi
    live_run earliest "$END_FILE" "$END_POS" "p1-$n"
    say "sluice run $n: ${ELAPSED} s (CPU ${CPU_S} s), peak RSS ${RSS_KB} KiB (VmHWM ${HWM_KB}), in flight max $INFLIGHT_MAX bytes, rows $SL_ROWS, sink lines $OUT_LINES, sink bytes $OUT_BYTES"
    SL_OUT=$OUT_BYTES
    [ "$OUT_LINES" -eq "$EXPECT" ] || die "sluice wrote $OUT_LINES row lines, expected $EXPECT"
    if [ -z "$SL_BEST" ] || awk -v a="$ELAPSED" -v b="$SL_BEST" 'BEGIN { exit !(a < b) }'; then
        SL_BEST=$ELAPSED
    fi
    [ "$RSS_KB" -gt "$SL_RSS" ] && SL_RSS=$RSS_KB
    [ "$HWM_KB" -gt "$SL_HWM" ] && SL_HWM=$HWM_KB
    [ "$INFLIGHT_MAX" -gt "$SL_INFL" ] && SL_INFL=$INFLIGHT_MAX
    # The same with 2 decode threads beside the instance's.
    LIVE_DT=2
    live_run earliest "$END_FILE" "$END_POS" "p1s-$n"
    LIVE_DT=
    say "sluice run $n, decode_threads 2: ${ELAPSED} s (CPU ${CPU_S} s), peak RSS ${RSS_KB} KiB, sink lines $OUT_LINES"
    [ "$OUT_LINES" -eq "$EXPECT" ] || die "sluice (decode_threads 2) wrote $OUT_LINES row lines, expected $EXPECT"
    if [ -z "$SLP_BEST" ] || awk -v a="$ELAPSED" -v b="$SLP_BEST" 'BEGIN { exit !(a < b) }'; then
        SLP_BEST=$ELAPSED
    fi
    [ "$RSS_KB" -gt "$SLP_RSS" ] && SLP_RSS=$RSS_KB
done

# ---------------------------------------------------------------------------------------------
# Part 2: one transaction of more than 1 GiB of binlog
# ---------------------------------------------------------------------------------------------

BIG_DONE=0
BIG_NOTE=
if [ "$BIG" != 1 ]; then
    BIG_NOTE="skipped (LIVE_BIG=$BIG)"
else
    FREE_KB=$(df -Pk "$D" | awk 'NR == 2 { print $4 }')
    if [ "${FREE_KB:-0}" -lt "$FREE_MIN_KB" ]; then
        BIG_NOTE="skipped: $((FREE_KB / 1000000)) GB free in $D, 8 GB needed"
    fi
fi
if [ -z "$BIG_NOTE" ]; then
    sql 'FLUSH BINARY LOGS'
    settle
    BIG_FILE=$END_FILE
    BIG_START=$END_POS
    say "writing one transaction of $BIG_ROWS rows x 1000 bytes into $BIG_FILE"
    t0=$(date +%s%N)
    sql "SET SESSION binlog_annotate_row_events=0;
INSERT INTO bench.big SELECT seq, REPEAT(CHAR(65 + seq % 26), 1000) FROM bench.seq_1_to_$BIG_ROWS;" ||
        die "big transaction failed"
    t1=$(date +%s%N)
    BIG_GEN_S=$(secs "$t0" "$t1")
    # A file above max_binlog_size (1 GiB at most) is rotated right after the commit: the
    # stream ends in the next file.
    settle
    BIG_END_FILE=$END_FILE
    BIG_END=$END_POS
    # The transaction: from BIG_START to the end of BIG_FILE, less a Rotate event if any.
    BIG_BYTES=$(($(wc -c <"$MARIADB_DATADIR/$BIG_FILE") - BIG_START))
    say "big transaction written in ${BIG_GEN_S} s: about $BIG_BYTES bytes of binlog; stream ends at $BIG_END_FILE:$BIG_END"
    [ "$BIG_BYTES" -ge 1073741824 ] || say "the big transaction is under 1 GiB of binlog ($BIG_BYTES bytes): raise LIVE_BIG_ROWS"
    raw_dump "$BIG_FILE"
    BIG_FILE_BYTES=$DUMPED
    BIG_RAW_S=$ELAPSED
    say "raw dump from $BIG_FILE: ${BIG_RAW_S} s, $DUMPED bytes"
    live_run "$BIG_FILE:4" "$BIG_END_FILE" "$BIG_END" big
    BIG_SL_S=$ELAPSED
    BIG_RSS=$RSS_KB
    BIG_HWM=$HWM_KB
    BIG_INFL=$INFLIGHT_MAX
    say "sluice run: ${BIG_SL_S} s (CPU ${CPU_S} s), peak RSS ${BIG_RSS} KiB (VmHWM ${BIG_HWM}), in flight max $BIG_INFL bytes, rows $SL_ROWS, sink lines $OUT_LINES, sink bytes $OUT_BYTES"
    BIG_OUT=$OUT_BYTES
    [ "$OUT_LINES" -eq "$BIG_ROWS" ] || die "sluice wrote $OUT_LINES row lines, expected $BIG_ROWS"
    BIG_DONE=1
fi

# ---------------------------------------------------------------------------------------------
# Part 3: the same stream into Kafka (librdkafka's mock cluster, 3 brokers), per format
# ---------------------------------------------------------------------------------------------

KAFKA_LINES=""
KAFKA_EXTRA=""
KAFKA_JSON_S=""
KAFKA_FLOOR_S=""
if [ "${LIVE_KAFKA:-1}" = 1 ]; then
    kafka_up --brokers 3 || die "the mock Kafka cluster did not start"
    # The peer: librdkafka alone, the same number of messages of the json lines' mean size,
    # same producer settings and headers, nothing read or decoded. Best of RUNS.
    if [ -n "${KAFKA_FLOOR:-}" ]; then
        [ -x "$KAFKA_FLOOR" ] || die "KAFKA_FLOOR \"$KAFKA_FLOOR\" is not executable"
        _vb=$((SL_OUT / EXPECT - 1))
        _props=$(printf '%s' "${LIVE_KAFKA_PROPS:-linger.ms: 5}" | sed 's/: */=/g; s/, */ /g')
        n=0
        while [ $n -lt "$RUNS" ]; do
            n=$((n + 1))
            # shellcheck disable=SC2086 # the properties are words
            _o=$("$KAFKA_FLOOR" "$KAFKA_BROKERS" bench.floor "$EXPECT" "$_vb" $_props) ||
                die "kafka_floor failed"
            say "librdkafka alone run $n: ${_o% *} s for ${_o#* } messages of $_vb bytes"
            if [ -z "$KAFKA_FLOOR_S" ] || awk -v a="${_o% *}" -v b="$KAFKA_FLOOR_S" 'BEGIN { exit !(a < b) }'; then
                KAFKA_FLOOR_S=${_o% *}
            fi
        done
    fi
    for fmt in ${LIVE_KAFKA_FORMATS:-json canal debezium}; do
        LIVE_SINK="kafka $fmt"
        live_run earliest "$END_FILE" "$END_POS" "kafka-$fmt"
        say "sluice run -> kafka $fmt: ${ELAPSED} s (CPU ${CPU_S} s), peak RSS ${RSS_KB} KiB, rows $SL_ROWS"
        [ "$SL_ROWS" -eq "$EXPECT" ] || die "sluice read $SL_ROWS row changes, expected $EXPECT"
        KAFKA_LINES="$KAFKA_LINES$fmt $ELAPSED $RSS_KB
"
        [ "$fmt" = json ] && KAFKA_JSON_S=$ELAPSED
    done
    # The json run again without the sluice.* headers (`headers: off`), which cost librdkafka
    # more than the value does.
    if [ "${LIVE_KAFKA_NOHEADERS:-1}" = 1 ]; then
        LIVE_SINK="kafka json"
        KAFKA_EXTRA="headers: off, "
        live_run earliest "$END_FILE" "$END_POS" "kafka-json-noheaders"
        KAFKA_EXTRA=""
        say "sluice run -> kafka json, headers off: ${ELAPSED} s (CPU ${CPU_S} s), peak RSS ${RSS_KB} KiB, rows $SL_ROWS"
        [ "$SL_ROWS" -eq "$EXPECT" ] || die "sluice read $SL_ROWS row changes, expected $EXPECT"
        KAFKA_LINES="${KAFKA_LINES}json,headers:off $ELAPSED $RSS_KB
"
    fi
    LIVE_SINK=file
    kafka_down
fi

# ---------------------------------------------------------------------------------------------
# Part 4: the same stream to one libsluice client (get + ack loop), no sink
# ---------------------------------------------------------------------------------------------

# client_run MODE TAG: one `sluice run` serving the part 1 stream to one client_bench. MODE e2e:
# the client subscribes at once; MODE hub: the daemon (budget_mb 4096) first reads the whole
# stream into its hub, then the client subscribes. Sets CL_S (the client's seconds), CL_ROWS,
# CL_BYTES, CL_BATCHES, and RSS_KB (the daemon's VmHWM before the SIGTERM). Tried again (3
# times in all) when the free port picked for the server was taken before the daemon bound it.
client_run() {
    _try=1
    while ! client_run_once "$@"; do
        if [ $_try -ge 3 ] || ! grep -q 'Address already in use' "$D/sluice-$2.log"; then
            cat "$D/client-$2.err" >&2
            tail -n 20 "$D/sluice-$2.log" >&2
            die "client_bench failed"
        fi
        _try=$((_try + 1))
        say "the server's port was taken, trying again"
    done
}

# client_run_once MODE TAG: client_run's one try; returns 1 when the client failed.
client_run_once() {
    _mode=$1 _tag=$2 _cl_rc=0
    rm -rf "$D/run"
    mkdir -p "$D/run"
    case $_mode in
    e2e) LIVE_SINK="client 256" ;;
    hub) LIVE_SINK="client 4096" ;;
    esac
    live_config "$D/run/sluice.yaml" earliest
    LIVE_SINK=file
    _log=$D/sluice-$_tag.log
    : >"$_log"
    rm -f "$D/sluice.pid"
    # shellcheck disable=SC2016
    sh -c 'echo $$ >"$0"; exec "$@"' "$D/sluice.pid" "$SLUICE" run --config "$D/run/sluice.yaml" \
        >>"$_log" 2>&1 </dev/null &
    _wrap=$!
    LIVE_PIDS="$LIVE_PIDS $_wrap"
    _i=0
    while [ ! -s "$D/sluice.pid" ] && [ $_i -lt 100 ]; do
        sleep 0.05
        _i=$((_i + 1))
    done
    _pid=$(cat "$D/sluice.pid" 2>/dev/null || true)
    [ -n "$_pid" ] || die "sluice run did not start"
    LIVE_PIDS="$LIVE_PIDS $_pid"
    if [ "$_mode" = hub ]; then
        _end=$(($(date +%s) + TIMEOUT))
        while :; do
            _st=$(status_line)
            if [ -n "$_st" ]; then
                # shellcheck disable=SC2086
                set -- $_st
                [ "$4" -ge "$EXPECT" ] && break
            fi
            if ! alive "$_pid"; then
                _cl_rc=1
                break
            fi
            [ "$(date +%s)" -lt "$_end" ] ||
                die "sluice run did not read $EXPECT rows into its hub in $TIMEOUT s (last status: ${_st:-none})"
            sleep 0.05
        done
    fi
    : >"$D/client-$_tag.err"
    [ $_cl_rc = 1 ] ||
        "$CLIENT_BENCH" 127.0.0.1 "$SRV_PORT" reader readerpw bench "bench-$_tag" "$EXPECT" \
            "$CLIENT_CHANGES" >"$D/client-$_tag.out" 2>"$D/client-$_tag.err" || _cl_rc=1
    RSS_KB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$_pid/status" 2>/dev/null || echo 0)
    kill -TERM "$_pid" 2>/dev/null || true
    _i=0
    while alive "$_pid" && [ $_i -lt 300 ]; do
        sleep 0.1
        _i=$((_i + 1))
    done
    if alive "$_pid"; then
        say "sluice run (PID $_pid) did not stop in 30 s after SIGTERM, killing it"
        kill -KILL "$_pid" 2>/dev/null || true
    fi
    wait "$_wrap" 2>/dev/null || true
    [ $_cl_rc = 0 ] || return 1
    # shellcheck disable=SC2046
    set -- $(cat "$D/client-$_tag.out")
    CL_ROWS=$2 CL_BYTES=$4 CL_BATCHES=$6 CL_S=$8
    rm -rf "$D/run"
}

CLIENT_LINES=""
if [ "${LIVE_CLIENT:-1}" = 1 ]; then
    for mode in e2e hub; do
        n=0
        while [ $n -lt "$RUNS" ]; do
            n=$((n + 1))
            client_run "$mode" "client-$mode-$n"
            say "sluice run -> client ($mode) run $n: ${CL_S} s, rows $CL_ROWS, $CL_BATCHES batches, $CL_BYTES bytes of json, daemon peak RSS ${RSS_KB} KiB"
            [ "$CL_ROWS" -eq "$EXPECT" ] || die "the client got $CL_ROWS changes, expected $EXPECT"
            CLIENT_LINES="$CLIENT_LINES$mode $CL_S $RSS_KB $CL_BATCHES $CL_BYTES
"
        done
    done
fi

# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

awk -v rows="$ROWS" -v expect="$EXPECT" -v bytes="$BYTES" -v nfiles="$NFILES" -v runs="$RUNS" \
    -v gen="$GEN_S" -v batch="$BATCH" -v raw_s="$RAW_BEST" -v sl_s="$SL_BEST" \
    -v slp_s="$SLP_BEST" -v slp_rss="$SLP_RSS" \
    -v sl_rss="$SL_RSS" -v sl_hwm="$SL_HWM" -v target="$RSS_TARGET_KB" \
    -v big="$BIG_DONE" -v big_note="$BIG_NOTE" -v big_rows="$BIG_ROWS" \
    -v big_bytes="${BIG_BYTES:-0}" -v big_file_bytes="${BIG_FILE_BYTES:-0}" \
    -v big_gen="${BIG_GEN_S:-0}" -v big_raw_s="${BIG_RAW_S:-0}" -v big_sl_s="${BIG_SL_S:-0}" \
    -v sl_out="$SL_OUT" -v big_out="${BIG_OUT:-0}" -v big_rss="${BIG_RSS:-0}" \
    -v big_hwm="${BIG_HWM:-0}" '
function line(name, r, b, s, rss) {
    if (rss == "")
        printf "%-26s %10d %9.1f %9.3f %12.0f %9.1f %10s\n", name, r, b / 1e6, s, r / s, b / 1e6 / s, "-"
    else
        printf "%-26s %10d %9.1f %9.3f %12.0f %9.1f %10.1f\n", name, r, b / 1e6, s, r / s, b / 1e6 / s, rss / 1024
}
function verdict(ok) {
    return ok ? "met" : "NOT met"
}
# The targets side by side; a part 2 value below 0 means it did not run.
function summary(r1, rss1, r2, rss2) {
    printf "\nsummary (%d row changes; 1 GiB transaction)\n", expect
    printf "%-41s %-11s %-19s %s\n", "", "target", "part 1", "part 2 (1 GiB txn)"
    printf "%-41s %-11s %7.0f%% %-10s ", "sluice rows/s vs raw dump rows/s", ">= 50%", r1 * 100, verdict(r1 >= 0.5)
    if (r2 < 0)
        printf "skipped\n"
    else
        printf "%7.0f%% %s\n", r2 * 100, verdict(r2 >= 0.5)
    printf "%-41s %-11s %4.1f MiB %-10s ", "sluice peak RSS, default budget (256 MiB)", "<= 128 MiB", rss1 / 1024, verdict(rss1 <= target)
    if (rss2 < 0)
        printf "skipped\n"
    else
        printf "%4.1f MiB %s\n", rss2 / 1024, verdict(rss2 <= target)
}
function head() {
    printf "%-26s %10s %9s %9s %12s %9s %10s\n", "", "rows", "MB", "seconds", "rows/s", "MB/s", "RSS MiB"
}
BEGIN {
    printf "\nsluice live pipeline benchmark: MariaDB commit -> sluice run -> file sink (json, fsynced)\n"
    printf "part 1: %d inserts (%d per transaction) + updates + deletes = %d row changes; " \
           "binlog %.1f MB in %d file(s), ROW, metadata FULL, CRC32; written in %s s\n", \
           rows, batch, expect, bytes / 1e6, nfiles, gen
    printf "best of %d runs each, loopback, default budget_mb (256)\n\n", runs
    head()
    line("mariadb-binlog --raw", expect, bytes, raw_s, "")
    line("sluice run -> file json", expect, bytes, sl_s, sl_rss)
    line("  same, decode_threads 2", expect, bytes, slp_s, slp_rss)
    printf "(first sluice row: the default, decode_threads 0, every event decoded on the instance\n" \
           "thread; second: transactions decoded on 2 threads beside it)\n"
    printf "\nsluice wrote %.1f MB of JSON lines (%.1f MB/s)\n", sl_out / 1e6, sl_out / 1e6 / sl_s
    ratio1 = raw_s / sl_s
    printf "sluice / raw dump rate: %.0f%% (target >= 50%%: %s)\n", ratio1 * 100, \
        (ratio1 >= 0.5 ? "met" : "NOT met")
    printf "sluice peak RSS: %.1f MiB (VmHWM %.1f MiB) (target <= 128 MiB: %s)\n", \
        sl_rss / 1024, sl_hwm / 1024, (sl_rss <= target ? "met" : "NOT met")
    printf "\npart 2: one transaction, %d rows x 1000 bytes: ", big_rows
    if (!big) {
        printf "%s\n", big_note
        summary(ratio1, sl_rss, -1, -1)
        exit 0
    }
    printf "%.1f MB (%.2f GiB) of binlog, written in %s s\n\n", big_bytes / 1e6, \
        big_bytes / 1073741824, big_gen
    head()
    line("mariadb-binlog --raw", big_rows, big_file_bytes, big_raw_s, "")
    line("sluice run -> file json", big_rows, big_file_bytes, big_sl_s, big_rss)
    printf "\nsluice wrote %.1f MB of JSON lines (%.1f MB/s)\n", big_out / 1e6, big_out / 1e6 / big_sl_s
    ratio = big_raw_s / big_sl_s
    printf "sluice / raw dump rate: %.0f%% (target >= 50%%: %s)\n", ratio * 100, \
        (ratio >= 0.5 ? "met" : "NOT met")
    printf "sluice peak RSS during the 1 GiB transaction: %.1f MiB (VmHWM %.1f MiB) " \
        "(target <= 128 MiB: %s)\n", big_rss / 1024, big_hwm / 1024, \
        (big_rss <= target ? "met" : "NOT met")
    summary(ratio1, sl_rss, ratio, big_rss)
}'
if [ -n "$KAFKA_LINES" ]; then
    printf '%s' "$KAFKA_LINES" | awk -v expect="$EXPECT" -v raw_s="$RAW_BEST" -v target="$RSS_TARGET_KB" \
        -v floor_s="$KAFKA_FLOOR_S" '
    BEGIN {
        printf "\npart 3: the part 1 stream, MariaDB commit -> sluice run -> Kafka acknowledgement\n"
        printf "(librdkafka mock cluster, 3 brokers, idempotent producer, acks=all, linger.ms 5)\n\n"
        printf "%-33s %10s %9s %12s %10s  %s\n", "", "rows", "seconds", "rows/s", "RSS MiB", "vs raw dump"
        printf "%-33s %10d %9.3f %12.0f %10s  %s\n", "mariadb-binlog --raw", expect, raw_s, expect / raw_s, "-", "100%"
        if (floor_s != "")
            printf "%-33s %10d %9.3f %12.0f %10s  %3.0f%%\n", "librdkafka alone", expect, floor_s, expect / floor_s, "-", raw_s / floor_s * 100
    }
    {
        printf "%-33s %10d %9.3f %12.0f %10.1f  %3.0f%%\n", "sluice -> kafka " $1, expect, $2, expect / $2, $3 / 1024, raw_s / $2 * 100
        n++
        f[n] = $1
        rate[n] = expect / $2
        rss[n] = $3
    }
    END {
        if (floor_s != "")
            printf "\n(librdkafka alone: the same number of messages, of the json lines\x27 mean size, with the\n" \
                "sink\x27s producer settings and 4 headers, from one thread of a small C program, nothing\n" \
                "read or decoded: test/bench/kafka_floor.c, best of the runs)\n"
        printf "\ntarget: >= 500,000 rows/s end to end (with the default headers: on), peak RSS <= 128 MiB\n"
        for (i = 1; i <= n; i++)
            printf "  %-16s %9.0f rows/s %s, RSS %.1f MiB %s\n", f[i], rate[i], (rate[i] >= 500000 ? "met" : "NOT met"), \
                rss[i] / 1024, (rss[i] <= target ? "met" : "NOT met")
    }'
fi
if [ -n "$CLIENT_LINES" ]; then
    printf '%s' "$CLIENT_LINES" | awk -v expect="$EXPECT" -v raw_s="$RAW_BEST" -v kafka_s="$KAFKA_JSON_S" \
        -v changes="$CLIENT_CHANGES" '
    function rate(s) {
        return expect / s
    }
    {
        m = $1
        n[m]++
        if (!(m in best) || $2 < best[m])
            best[m] = $2
        if (!(m in worst) || $2 > worst[m])
            worst[m] = $2
        if ($3 > rss[m])
            rss[m] = $3
        batches[m] = $4
        bytes[m] = $5
    }
    function row(name, m) {
        printf "%-36s %10d %9.3f %12.0f %12.0f %10.1f\n", name, expect, best[m], rate(best[m]), \
            rate(worst[m]), rss[m] / 1024
    }
    END {
        printf "\npart 4: the part 1 stream to one libsluice client over loopback, get + ack loop\n"
        printf "(GET max_changes %d, max_bytes 32 MiB, json; daemon with server: and sinks: []; " \
               "best and worst of %d runs each)\n\n", changes, n["e2e"]
        printf "%-36s %10s %9s %12s %12s %10s\n", "", "rows", "seconds", "rows/s", "worst rows/s", "RSS MiB"
        printf "%-36s %10d %9.3f %12.0f %12s %10s\n", "mariadb-binlog --raw", expect, raw_s, rate(raw_s), "-", "-"
        if (kafka_s != "")
            printf "%-36s %10d %9.3f %12.0f %12s %10s\n", "sluice -> kafka json (part 3)", expect, kafka_s, rate(kafka_s), "-", "-"
        else
            printf "%-36s %s\n", "sluice -> kafka json (part 3)", "skipped (LIVE_KAFKA=0)"
        row("sluice -> client, end to end", "e2e")
        row("sluice hub -> client (client path)", "hub")
        printf "\nRSS: peak of the daemon (in the client path runs its hub holds the whole stream)\n"
        printf "the client received %.1f MB of json in %d batches per run (client path)\n", bytes["hub"] / 1e6, batches["hub"]
        printf "target: >= 1,000,000 rows/s to one client (canal: 100-200k rows/s to its client)\n"
        printf "  end to end   %9.0f rows/s %s\n", rate(best["e2e"]), (rate(best["e2e"]) >= 1000000 ? "met" : "NOT met")
        printf "  client path  %9.0f rows/s %s\n", rate(best["hub"]), (rate(best["hub"]) >= 1000000 ? "met" : "NOT met")
        if (kafka_s != "")
            printf "  client end to end / kafka json end to end: %.2fx\n", kafka_s / best["e2e"]
    }'
fi
if [ "$BIG_DONE" = 1 ]; then
    echo "row counts agree: $EXPECT (part 1), $BIG_ROWS (part 2)"
else
    echo "row counts agree: $EXPECT (part 1)"
fi
