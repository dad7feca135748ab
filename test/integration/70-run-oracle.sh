#!/bin/sh
# 70-run-oracle.sh — `sluice run` end to end against the server as oracle: every table rebuilt
# from the file sink equals what SELECT returns.
#
# A throw-away MariaDB (ROW binlog, default binlog_row_metadata=MINIMAL: column names, signedness,
# ENUM/SET members and charsets come from sluice's schema tracking) and `sluice run` reading it
# from the start into a JSON-lines file. Then a random workload (seeded: SLUICE_SEED, printed):
# inserts, updates (some changing the primary key), deletes, multi-row and multi-statement,
# multi-table transactions, some rolled back, across five tables with most column types (ints
# of every width signed/unsigned with their extremes, DECIMAL up to 65 digits, FLOAT, DOUBLE,
# BIT, DATE/DATETIME(6)/TIMESTAMP(3)/TIME(6)/YEAR, CHAR/VARCHAR/TEXT utf8mb4 with emoji, quotes,
# backslashes, NUL and newlines, latin1, BLOB/VARBINARY/BINARY, ENUM, SET, JSON), with and
# without a primary key; one transaction of 100,000 rows; ALTER TABLE ADD COLUMN (in the
# middle of one table, at the end of another) half-way, with changes before and after it.
#
# Once the daemon's consumed position (sluice status --json) reaches the end of the server's
# binlog, each table is rebuilt from the sink as a consumer would (rows.sh: dedup by (file,
# offset, row), apply insert/update/delete) and compared with SELECT rendered by the server in
# sluice's JSON conventions. Then: SIGTERM stops the daemon with exit 0 and its saved position
# is the binlog end; a restart re-emits nothing; changes made after it arrive, and the tables
# still match. The same again, shorter, with binlog_row_metadata=FULL. Throughout, the instance
# runs on 2 decode threads and a twin instance of the same daemon reads the same stream with
# decode_threads: 0: both sinks are compared byte for byte after each round.
set -eu
# shellcheck source=test/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=test/integration/rows.sh
. "$(dirname "$0")/rows.sh"

need_cmd mariadb-install-db mariadbd mariadb mariadb-admin jq awk
need_sluice

SEED=${SLUICE_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
diag "seed $SEED (rerun with SLUICE_SEED=$SEED)"
DB=oracle
W0=$TEST_TMP

# wait_caught_up MODE TIMEOUT: a last transaction, then wait until consumed reaches the binlog
# end as it was right after it. Sets END_FILE END_POS. One not ok when it does not.
wait_caught_up() {
    sql "INSERT INTO $DB.t_marker VALUES (NULL, NOW(6))"
    # shellcheck disable=SC2046 # "FILE OFFSET"
    set -- "$1" "$2" $(master_pos)
    END_FILE=$3 END_POS=$4
    if wait_consumed "$END_FILE" "$END_POS" "$2"; then
        return 0
    fi
    not_ok "$1: consumed position reaches the binlog end $END_FILE:$END_POS within $2 s" \
        "last status: $STATUS" "$(log_head "$LOG")"
    return 1
}

# compare_all MODE ROUND: rebuild from the sink, one ok line per table, plus the stream checks.
compare_all() {
    _m=$1 _r=$2
    if ! rows_rebuild "$SINK" "$DB" "$W/$_r" 2>"$W/rebuild.err"; then
        not_ok "$_m: $_r: rebuild the tables from the sink" "$(head -c 1000 "$W/rebuild.err")"
        return 0
    fi
    for _t in $ROWS_TABLES; do
        if rows_snapshot "$DB" "$_t" "$W/$_r.$_t.want" 2>"$W/snap.err"; then
            rows_compare "$_m: $_r: $_t rebuilt from the sink = SELECT" "$W/$_r.$_t.want" "$W/$_r.$_t"
        else
            not_ok "$_m: $_r: SELECT $_t" "$(head -c 1000 "$W/snap.err")"
        fi
    done
    _s=$W/$_r.json
    diag "$_m: $_r: sink $(jq -r '"\(.lines) lines, \(.rows) rows applied, \(.dup) repeats skipped, \(.other) other lines"' "$_s")"
    # No kill happened: nothing may be written twice.
    if [ "$(jq .dup "$_s")" = 0 ]; then
        ok "$_m: $_r: no change is in the sink twice"
    else
        not_ok "$_m: $_r: no change is in the sink twice" "$(jq .dup "$_s") row lines repeat an earlier (file, offset, row)"
    fi
    if [ "$(jq '.nerr + .invalid' "$_s")" = 0 ]; then
        ok "$_m: $_r: every line is JSON and every update/delete finds its row"
    else
        not_ok "$_m: $_r: every line is JSON and every update/delete finds its row" \
            "$(jq -r '"\(.invalid) invalid lines, \(.nerr) errors", .err[:10][]' "$_s")"
    fi
}

# compare_twin MODE ROUND: once the `serial` instance consumed up to END_FILE:END_POS too, its
# sink equals the oracle instance's (decoded on decode threads), byte for byte.
compare_twin() {
    _end=$(($(date +%s) + 60))
    while :; do
        _tw=$("$SLUICE" status --admin "127.0.0.1:$ADMIN_PORT" --json 2>/dev/null |
            jq -r '.instances[] | select(.name == "serial") | "\(.consumed.file) \(.consumed.offset)"' 2>/dev/null || true)
        # shellcheck disable=SC2086 # "FILE OFFSET"
        [ -n "$_tw" ] && pos_ge $_tw "$END_FILE" "$END_POS" && break
        [ "$(date +%s)" -ge "$_end" ] && break
        sleep 0.3
    done
    if cmp -s "$SINK" "$SINK.serial"; then
        ok "$1: $2: the sink decoded on 2 decode threads = the one decoded on the instance's thread ($(wc -l <"$SINK" | tr -d ' ') lines)"
    else
        not_ok "$1: $2: the sink decoded on 2 decode threads = the one decoded on the instance's thread" \
            "serial at ${_tw:-?}, end $END_FILE:$END_POS" "$(cmp "$SINK" "$SINK.serial" 2>&1 | head -n 2)" \
            "$(diff "$SINK" "$SINK.serial" 2>&1 | head -n 6 | cut -c 1-300)"
    fi
}

run_mode() {
    MODE=$1 NTX=$2 BULK_N=$3
    shift 3
    W=$W0/$MODE
    mkdir -p "$W"
    LOG=$W/sluice.log
    SINK=$W/sink.jsonl
    : >"$LOG"
    if ! mariadb_up "$W/db" "$@" 2>"$W/up.err"; then
        not_ok "$MODE: start MariaDB" "$(cat "$W/up.err")"
        return 0
    fi
    cdc_user
    ADMIN_PORT=$(free_port)
    sluice_config "$W/sluice.yaml" oracle "$SINK" 200
    # The oracle instance decodes on 2 decode threads (sluice_config); a twin, `serial`, reads
    # the same stream on its own thread only. Their sinks must be the same, byte for byte.
    cat >>"$W/sluice.yaml" <<EOF
  - name: serial
    source: {host: 127.0.0.1, port: $MARIADB_PORT, user: cdc, password: cdcpass, heartbeat_ms: 1000}
    start: earliest
    decode_threads: 0
    positions: {store: file, dir: $W/var/positions, save_interval_ms: 200}
    sinks:
      - {type: file, path: $SINK.serial, format: json}
EOF
    sluice_start "$W/sluice.yaml" "$LOG"
    if wait_state streaming 30; then
        ok "$MODE: sluice run reaches state streaming"
    else
        not_ok "$MODE: sluice run reaches state streaming" "last status: $STATUS" "$(log_head "$LOG")"
        sluice_kill9
        mariadb_down "$W/db"
        return 0
    fi

    # The workload, while the daemon streams.
    t0=$(date +%s)
    { rows_schema_sql "$DB"; echo "CREATE TABLE t_marker (id INT AUTO_INCREMENT PRIMARY KEY, at DATETIME(6));"; } >"$W/schema.sql"
    rows_gen "$SEED" "$NTX" 0 0 0 $((NTX / 2)) $((NTX / 3)) "$BULK_N" >"$W/workload.sql"
    if ! sql <"$W/schema.sql" >"$W/sql.out" 2>&1 ||
        ! { echo "USE $DB;"; cat "$W/workload.sql"; } | sql >"$W/sql.out" 2>&1; then
        not_ok "$MODE: the workload runs" "$(head -n 5 "$W/sql.out")" "(SQL in $W/workload.sql; KEEP_TMP=1 keeps it)"
        sluice_kill9
        mariadb_down "$W/db"
        return 0
    fi
    diag "$MODE: workload: $NTX transactions + $BULK_N rows in one, $(wc -l <"$W/workload.sql" | tr -d ' ') lines of SQL, $(($(date +%s) - t0)) s"
    # shellcheck disable=SC2086
    rows_meta_all "$DB" $ROWS_TABLES

    # Caught up: consumed = the binlog end, state streaming.
    if wait_caught_up "$MODE" 180; then
        ok "$MODE: consumed position reaches the binlog end ($END_FILE:$END_POS, $(($(date +%s) - t0)) s after the workload began)"
        st=$(printf '%s' "$STATUS" | jq -r .state)
        if [ "$st" = streaming ]; then
            ok "$MODE: state streaming when caught up"
        else
            not_ok "$MODE: state streaming when caught up" "status: $STATUS"
        fi
        txt=$("$SLUICE" status --admin "127.0.0.1:$ADMIN_PORT" 2>&1 || true)
        case $txt in
        "oracle: streaming since "*) ok "$MODE: sluice status prints \"oracle: streaming since ...\"" ;;
        *) not_ok "$MODE: sluice status prints \"oracle: streaming since ...\"" "$txt" ;;
        esac
    fi
    if [ "$(jq -c 'select(.type == "ddl" and (.sql | test("ALTER TABLE t_num ADD COLUMN extra")))' "$SINK" 2>/dev/null | wc -l)" = 1 ]; then
        ok "$MODE: the ALTER TABLE is in the sink as a ddl line"
    else
        not_ok "$MODE: the ALTER TABLE is in the sink as a ddl line" "$(grep -c '"type":"ddl"' "$SINK" || true) ddl lines"
    fi
    compare_all "$MODE" run1
    compare_twin "$MODE" run1

    # A clean stop: exit 0, position saved at the end.
    sluice_stop 30
    if [ "$SLUICE_RC" = 0 ]; then
        ok "$MODE: SIGTERM stops the daemon with exit status 0"
    else
        not_ok "$MODE: SIGTERM stops the daemon with exit status 0" "exit status: $SLUICE_RC" "$(log_head "$LOG")"
    fi
    saved=$(saved_pos "$W/sluice.yaml")
    end=$(master_pos)
    if [ -n "$saved" ] && [ "$saved" = "$end" ]; then
        ok "$MODE: the saved position after the stop is the binlog end ($saved)"
    else
        not_ok "$MODE: the saved position after the stop is the binlog end" "saved: ${saved:-none}" "binlog end: $end" \
            "$("$SLUICE" position show --config "$W/sluice.yaml" 2>&1 | head -n 10)"
    fi

    # A restart re-emits nothing.
    lines1=$(wc -l <"$SINK" | tr -d ' ')
    size1=$(wc -c <"$SINK" | tr -d ' ')
    sluice_start "$W/sluice.yaml" "$LOG"
    if wait_state streaming 30; then
        # shellcheck disable=SC2086 # "FILE OFFSET"
        set -- $end
        wait_consumed "$1" "$2" 30 || true
        sleep 2
        lines2=$(wc -l <"$SINK" | tr -d ' ')
        if [ "$lines2" = "$lines1" ] && [ "$(wc -c <"$SINK" | tr -d ' ')" = "$size1" ]; then
            ok "$MODE: a restart after a clean stop writes nothing again ($lines1 lines)"
        else
            not_ok "$MODE: a restart after a clean stop writes nothing again" "$lines1 lines before, $lines2 after; the new lines:" \
                "$(tail -n +$((lines1 + 1)) "$SINK" | head -n 5 | cut -c 1-300)"
        fi
        # Changes after the restart arrive; everything still matches.
        rows_gen "$((SEED + 1))" 40 500000 1 "$([ "$BULK_N" -gt 0 ] && echo 1 || echo 0)" >"$W/workload2.sql"
        if { echo "USE $DB;"; cat "$W/workload2.sql"; } | sql >"$W/sql.out" 2>&1; then
            if wait_caught_up "$MODE after the restart" 60; then
                compare_all "$MODE" run2
                compare_twin "$MODE" run2
            fi
        else
            not_ok "$MODE: the workload after the restart runs" "$(head -n 5 "$W/sql.out")"
        fi
        sluice_stop 30
        if [ "$SLUICE_RC" = 0 ]; then
            ok "$MODE: the restarted daemon stops with exit status 0"
        else
            not_ok "$MODE: the restarted daemon stops with exit status 0" "exit status: $SLUICE_RC" "$(log_head "$LOG")"
        fi
    else
        not_ok "$MODE: the restarted daemon reaches state streaming" "last status: $STATUS" "$(log_head "$LOG")"
        sluice_kill9
    fi
    if grep -qi 'sanitizer\|runtime error' "$LOG"; then
        not_ok "$MODE: no sanitizer report in the daemon's log" "$(grep -i -m 5 'sanitizer\|runtime error' "$LOG")"
    fi
    mariadb_down "$W/db"
}

run_mode minimal 600 100000
run_mode full 200 5000 --binlog-row-metadata=FULL
test_done
