#!/bin/sh
# 81-kafka-crash.sh — `sluice run` into Kafka (the mock cluster) killed with SIGKILL over and
# over under load: nothing the server committed is missing from the topics, and what is
# repeated lies after the position the killed daemon had saved.
#
# One MariaDB, one mock cluster, one daemon with one instance and a Kafka sink in the json
# format (topics x.k1.TABLE; file position store saved every 100 ms). A background workload
# (kafka_rows.sh: chunks of 20 random multi-statement transactions over three tables with a
# primary key, an ALTER TABLE ADD COLUMN at chunk 3; seeded by SLUICE_SEED, printed; bounded in
# time) runs while the daemon is killed with SIGKILL at random moments (0.5-2.0 s after each
# start) at least 20 times and restarted each time; after each kill the time (ms) and the
# position it had saved (`sluice position show --json`) are recorded. Then the workload stops,
# the daemon catches up with the binlog end and stops with SIGTERM, and every topic is read.
# Checks: each table rebuilt from its topic (kafka_rebuild: last message per key in offset
# order) equals SELECT; every row the workload inserted has an insert message; every
# transaction of the binlog that changed k1 is in the topics (sluice.gtid); messages are
# attributed to the run that produced them by their timestamp (CreateTime, set by the
# producer, against the kill times), and each run after a kill sent nothing from before the
# position saved at that kill, so a repeated (sluice.pos, sluice.row) is at or after it; no
# (pos, row) is repeated within one run (idempotent producer); within a run, each key's messages
# are in commit order.
set -eu
# shellcheck source=test/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=test/integration/rows.sh
. "$(dirname "$0")/rows.sh"
# shellcheck source=test/integration/kafka_rows.sh
. "$(dirname "$0")/kafka_rows.sh"

need_cmd mariadb-install-db mariadbd mariadb mariadb-admin jq awk kcat
for b in "$SLUICE" "$KAFKA_MOCK"; do
    if [ ! -x "$b" ]; then
        not_ok "binaries" "$b is not executable (run make)"
        exit 1
    fi
done

SEED=${SLUICE_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
diag "seed $SEED (rerun with SLUICE_SEED=$SEED)"
KILLS=${SLUICE_KILLS:-22}
DB=k1
W=$TEST_TMP/w
mkdir -p "$W/chunks"
LOG=$W/sluice.log
CONF=$W/sluice.yaml
: >"$LOG"
T_START=$(date +%s)

fail_early() {
    not_ok "$@"
    exit 1
}

now_ms() { date +%s%3N; }

if ! mariadb_up "$W/db" 2>"$W/up.err"; then
    fail_early "start MariaDB" "$(cat "$W/up.err")"
fi
cdc_user
if ! kafka_up 2>"$W/kafka.err"; then
    fail_early "start the mock Kafka cluster" "$(cat "$W/kafka.err")"
fi
kafka_schema_sql "$DB" | sql
ADMIN_PORT=$(free_port)
kafka_config "$CONF" "$(KAFKA_SAVE_MS=100 KAFKA_SERVER_ID=${KAFKA_SERVER_ID:-} kafka_instance kx json x)"
sluice_start "$CONF" "$LOG"
if ! wait_state_of kx streaming 30; then
    fail_early "sluice run reaches state streaming" "last status: $STATUS" "$(log_head "$LOG")"
fi

# ---- the background workload ----------------------------------------------------------------------
# Chunks of 20 transactions, each its own id range, kept in $W/chunks/N.sql (their "-- ins"
# lines name every inserted row). Ends at $W/wl.stop or after 150 s.
WL_STOP=$W/wl.stop
(
    set +e
    i=0
    end=$(($(date +%s) + 150))
    while [ ! -f "$WL_STOP" ] && [ "$(date +%s)" -lt "$end" ]; do
        altered=0 alter_at=-1
        [ $i -gt 3 ] && altered=1
        [ $i = 3 ] && alter_at=10
        kafka_gen $((SEED + i)) 20 $(((i + 1) * 100000)) $altered $alter_at >"$W/chunks/$i.sql"
        { echo "USE $DB;"; cat "$W/chunks/$i.sql"; } | sql >>"$W/wl.out" 2>&1 || echo "chunk $i failed" >>"$W/wl.out"
        i=$((i + 1))
        echo "$i" >"$W/wl.chunks"
        sleep 0.1
    done
) &
WL_PID=$!
at_exit "touch '$WL_STOP'; kill $WL_PID 2>/dev/null; wait $WL_PID 2>/dev/null"

# ---- kill -9 at random moments ----------------------------------------------------------------------
# $W/kills: one line per kill, "MS FILE OFFSET": when the daemon was dead, and the position it
# had saved ("none 0" when none yet), which the next run starts from.
: >"$W/kills"
: >"$W/starts"
k=0
restart_failed=""
while [ $k -lt "$KILLS" ]; do
    nap=$(awk -v s="$SEED" -v k="$k" 'BEGIN { srand(s + k); printf "%.2f", 0.5 + rand() * 1.5 }')
    sleep "$nap"
    if ! alive "$SLUICE_PID"; then
        rc=0
        wait "$SLUICE_PID" || rc=$?
        restart_failed="the daemon had exited by itself before kill $((k + 1)), exit status $rc"
        break
    fi
    sluice_kill9
    ms=$(now_ms)
    saved=$(saved_pos "$CONF")
    echo "$ms ${saved:-none 0}" >>"$W/kills"
    sluice_start "$CONF" "$LOG"
    now_ms >>"$W/starts"
    k=$((k + 1))
done
if [ -z "$restart_failed" ]; then
    ok "the daemon was killed with SIGKILL $k times under load and restarted"
else
    not_ok "the daemon was killed with SIGKILL $KILLS times and restarted" "$restart_failed" "$(grep -v librdkafka "$LOG" | tail -n 20)"
fi
diag "saved positions at the kills: $(cut -d ' ' -f 2,3 "$W/kills" | uniq | wc -l | tr -d ' ') distinct in $k; workload chunks so far: $(cat "$W/wl.chunks" 2>/dev/null || echo 0)"
if wait_state_of kx streaming 30; then
    ok "after the kills the daemon streams"
else
    not_ok "after the kills the daemon streams" "last status: $STATUS" "$(grep -v librdkafka "$LOG" | tail -n 20)"
fi
sleep 1
touch "$WL_STOP"
wait "$WL_PID" 2>/dev/null || true
diag "workload: $(cat "$W/wl.chunks" 2>/dev/null || echo 0) chunks of 20 transactions"
if grep -q 'ERROR\|failed' "$W/wl.out" 2>/dev/null; then
    not_ok "the workload's SQL runs" "$(grep 'ERROR\|failed' "$W/wl.out" | head -n 5)"
fi

end=$(master_pos)
if wait_consumed_of kx "${end% *}" "${end#* }" 120; then
    ok "the daemon catches up with the binlog end (${end% *}:${end#* })"
else
    not_ok "the daemon catches up with the binlog end (${end% *}:${end#* })" "last status: $STATUS" "$(grep -v librdkafka "$LOG" | tail -n 20)"
fi
sluice_stop 30
if [ "$SLUICE_RC" = 0 ]; then
    ok "SIGTERM stops the daemon with exit status 0"
else
    not_ok "SIGTERM stops the daemon with exit status 0" "exit status: $SLUICE_RC" "$(tail -n 20 "$LOG")"
fi

# ---- the checks on the topics ---------------------------------------------------------------------
# shellcheck disable=SC2086
kafka_meta "$DB" $KAFKA_TABLES
: >"$W/all.dump"
for t in $KAFKA_TABLES; do
    kafka_dump "x.$DB.$t" "$W/$t.dump"
    jq -c --arg t "$t" '. + {tb: $t}' "$W/$t.dump" >>"$W/all.dump"
    if ! jq -s -e 'group_by(.p) | all(map(.o) | min == 0 and max == length - 1)' "$W/$t.dump" >/dev/null; then
        not_ok "topic x.$DB.$t is whole in the mock (offsets from 0, no gap)" \
            "$(jq -s -c 'group_by(.p) | map({p: .[0].p, min: (map(.o) | min), max: (map(.o) | max), n: length})' "$W/$t.dump")"
    fi
    if kafka_rebuild json "$DB" "$t" "$W/$t.dump" "$W/got.$t" 2>"$W/rebuild.err"; then
        rows_snapshot "$DB" "$t" "$W/want.$t"
        rows_compare "$t rebuilt from topic x.$DB.$t = SELECT" "$W/want.$t" "$W/got.$t"
    else
        not_ok "rebuild $t from topic x.$DB.$t" "$(head -c 1500 "$W/rebuild.err")"
    fi
done
diag "topics: $(wc -l <"$W/all.dump" | tr -d ' ') messages"

# Every inserted row has an insert message (t_c's id is its column n).
cat "$W"/chunks/*.sql | awk '$1 == "--" && $2 == "ins" { print $3, $4 }' | LC_ALL=C sort -u >"$W/ins.want"
jq -r 'select(.v.type == "insert") | "\(.tb) \(.v.data.id // .v.data.n)"' "$W/all.dump" | LC_ALL=C sort -u >"$W/ins.got"
missing=$(LC_ALL=C comm -23 "$W/ins.want" "$W/ins.got" | wc -l | tr -d ' ')
if [ -s "$W/ins.want" ] && [ "$missing" = 0 ]; then
    ok "every row the workload inserted has an insert message ($(wc -l <"$W/ins.want" | tr -d ' ') rows)"
else
    not_ok "every row the workload inserted has an insert message" \
        "$missing of $(wc -l <"$W/ins.want" | tr -d ' ') missing: $(LC_ALL=C comm -23 "$W/ins.want" "$W/ins.got" | head -n 10 | tr '\n' ' ')"
fi

# Every transaction of the binlog that changed $DB (a GTID event, then a table map of $DB.*)
# is in the topics (sluice.gtid header).
for f in $(binlog_files); do
    sql_run --skip-raw -e "SHOW BINLOG EVENTS IN '$(basename "$f")'"
done | awk -F '\t' -v db="$DB" '
    $3 == "Gtid" { n = split($6, w, " "); for (i = 1; i <= n; i++) if (w[i] ~ /^[0-9]+-[0-9]+-[0-9]+$/) g = w[i]; next }
    $3 == "Table_map" && index($6, "(" db ".") { if (!(g in seen)) { seen[g] = 1; print g } }' |
    LC_ALL=C sort >"$W/server.gtids"
jq -r '.h | split(",")[] | select(startswith("sluice.gtid=")) | .[12:]' "$W/all.dump" | LC_ALL=C sort -u >"$W/kafka.gtids"
missing=$(LC_ALL=C comm -23 "$W/server.gtids" "$W/kafka.gtids" | wc -l | tr -d ' ')
if [ -s "$W/server.gtids" ] && [ "$missing" = 0 ]; then
    ok "every transaction of the binlog that changed $DB is in the topics ($(wc -l <"$W/server.gtids" | tr -d ' ') GTIDs)"
else
    not_ok "every transaction of the binlog that changed $DB is in the topics" \
        "$missing of $(wc -l <"$W/server.gtids" | tr -d ' ') missing: $(LC_ALL=C comm -23 "$W/server.gtids" "$W/kafka.gtids" | head -n 10 | tr '\n' ' ')"
fi

# Runs: a message created after kill j (and at or before kill j+1) was sent by run j, which
# started from the position saved at kill j.
jq -R -s -c 'split("\n") | map(select(length > 0) | split(" ") | {ms: (.[0] | tonumber), f: .[1], o: (.[2] | tonumber)})' \
    "$W/kills" >"$W/kills.json"
jq -R -s -c 'split("\n") | map(select(length > 0) | tonumber)' "$W/starts" >"$W/starts.json"
# shellcheck disable=SC2016
jq -n -c --slurpfile kills "$W/kills.json" --slurpfile starts "$W/starts.json" '
def fnum: split(".") | .[-1] | tonumber;
$kills[0] as $K
| [inputs | .t as $t | (.h | split(",") | map(capture("^(?<key>[^=]*)=(?<value>.*)$")) | from_entries) as $h
   | ($h["sluice.pos"] | split(":")) as $q
   | {tb, p, o, t, k: (.k | tojson), run: ([$K[] | select(.ms < $t)] | length),
      pk: [($q[0] | fnum), ($q[1] | tonumber), ($h["sluice.row"] | tonumber)], pos: $h["sluice.pos"], row: $h["sluice.row"]}] as $ms
| ($ms | map(select(.run > 0) | . as $m | $K[$m.run - 1] as $s
    | select($s.f != "none" and ($m.pk[0:2] < [($s.f | fnum), $s.o]))
    | "run \(.run) (after kill \(.run), saved \($s.f):\($s.o)) sent \(.tb) \(.pos)#\(.row)")) as $early
| ($ms | group_by(.pk) | map(select(length > 1))) as $dupgroups
| ($dupgroups | map(select(map(.run) | unique | length < length) | "\(.[0].pos)#\(.[0].row) twice in one run: runs \(map(.run))")) as $samerun
| ($ms | group_by([.tb, .k, .run]) | map(sort_by(.p, .o) | select([.[0:-1], .[1:]] | transpose | any(.[0].pk >= .[1].pk))
    | "\(.[0].tb) key \(.[0].k) run \(.[0].run): \(map("\(.pos)#\(.row)") | join(", ") | .[0:300])")) as $order
| {msgs: ($ms | length), runs: ($ms | map(.run) | unique | length), dups: ($dupgroups | map(length - 1) | add // 0),
   dup_runs: ($dupgroups | map(.[1:][] | .run) | unique),
   first_ms: ($ms | map(select(.run > 0)) | group_by(.run) | map((map(.t) | min) - $starts[0][.[0].run - 1])),
   early: $early, samerun: $samerun, order: $order}
' "$W/all.dump" >"$W/runs.json"
diag "$(jq -r '"\(.msgs) messages from \(.runs) of \($K + 1) runs; \(.dups) repeated (pos, row) (in runs \(.dup_runs | map(tostring) | join(" "))); ms from start to the first message in the runs after kills: \(.first_ms | map(tostring) | join(" "))"' --argjson K "$k" "$W/runs.json")"
if [ "$(jq '.early | length' "$W/runs.json")" = 0 ]; then
    ok "each run after a kill sent nothing from before the position saved at that kill: every repeat is after it ($(jq .dups "$W/runs.json") repeats)"
else
    not_ok "each run after a kill sent nothing from before the position saved at that kill" \
        "$(jq -r '"\(.early | length) messages", .early[:8][]' "$W/runs.json")" "kills (ms file offset): $(tr '\n' ';' <"$W/kills")"
fi
if [ "$(jq '.samerun | length' "$W/runs.json")" = 0 ]; then
    ok "no (sluice.pos, sluice.row) is repeated within one run (idempotent producer)"
else
    not_ok "no (sluice.pos, sluice.row) is repeated within one run (idempotent producer)" "$(jq -r '.samerun[:8][]' "$W/runs.json")"
fi
if [ "$(jq '.order | length' "$W/runs.json")" = 0 ]; then
    ok "within each run, every key's messages are in commit order"
else
    not_ok "within each run, every key's messages are in commit order" "$(jq -r '.order[:8][]' "$W/runs.json")"
fi
if grep -qi 'sanitizer\|runtime error' "$LOG"; then
    not_ok "no sanitizer report in the daemon's log" "$(grep -i -m 5 'sanitizer\|runtime error' "$LOG")"
fi
diag "done in $(($(date +%s) - T_START)) s"
test_done
