#!/bin/sh
# 60-position.sh — `sluice position show` and `sluice position reset`.
#
# A throw-away MariaDB gets five binlog files holding transactions with chosen timestamps
# (SET TIMESTAMP in the session sets the events' timestamps, and those of the FORMAT_DESCRIPTION
# of a file that FLUSH BINARY LOGS starts), a day or more in the future so they come after the
# first file's real start time; two transactions are in GTID domain 1, the rest in domain 0. A
# configuration with two instances keeps positions in a file store under $TEST_TMP. Then:
#   (a) reset --timestamp lands on the start of the first transaction committed at or after the
#       time: checked against `sluice decode --events all` of the binlog files (every transaction
#       before the position committed before the time, the first one at or after it did not);
#       exact positions for times in the middle of a file, on a lone DDL, on a transaction whose
#       COMMIT came later than its statements; the GTID set stored is the one before it (the
#       last GTID of each domain, from the file's GTID_LIST and the transactions before); a time
#       before everything gives the first file at 4, a time after everything the end (SHOW
#       MASTER STATUS); the three time forms agree; the message names what was found and what
#       was read;
#   (b) reset --file/--pos, --gtid, --earliest, --latest store what they should; show (text and
#       --json) prints it; reset prints old -> new;
#   (c) while another process holds DATA_DIR/INSTANCE/lock (flock from util-linux): reset
#       refuses (exit 1, naming the pid) and changes nothing; show says "running (pid N)";
#   (d) bad arguments: exit 2 with a message naming the option (an unknown instance lists the
#       known ones).
set -eu
. "$(dirname "$0")/lib.sh"

need_cmd mariadb-install-db mariadbd mariadb mariadb-admin jq timeout flock
W=$TEST_TMP/work
mkdir -p "$W"

POSCMD=$SLUICE
pos() {
    timeout 120 "$POSCMD" position "$@"
}

start_mariadb "$TEST_TMP/db"

# ---- workload: five files, transactions at chosen times -------------------------------------
NOW=$(date +%s)
B=$(((NOW / 3600 + 48) * 3600)) # two days ahead, on the hour
sql "CREATE USER cdc@'127.0.0.1' IDENTIFIED BY 'cdcpw';
GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO cdc@'127.0.0.1';
CREATE DATABASE p;
CREATE TABLE p.t (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB;
SET TIMESTAMP=$((B + 100)); INSERT INTO p.t VALUES (1, 'a');
SET TIMESTAMP=$((B + 200)); SET SESSION gtid_domain_id = 1; INSERT INTO p.t VALUES (2, 'b');
SET SESSION gtid_domain_id = 0;
SET TIMESTAMP=$((B + 300)); FLUSH BINARY LOGS;
SET TIMESTAMP=$((B + 400)); BEGIN; INSERT INTO p.t VALUES (3, 'c'); INSERT INTO p.t VALUES (4, 'd'); COMMIT;
SET TIMESTAMP=$((B + 500)); CREATE TABLE p.u (id INT);
SET TIMESTAMP=$((B + 600)); SET SESSION gtid_domain_id = 1; UPDATE p.t SET v = 'x' WHERE id = 1;
SET SESSION gtid_domain_id = 0;
SET TIMESTAMP=$((B + 700)); FLUSH BINARY LOGS;
SET TIMESTAMP=$((B + 800)); DELETE FROM p.t WHERE id = 2;
SET TIMESTAMP=$((B + 900)); FLUSH BINARY LOGS;
SET TIMESTAMP=$((B + 1000)); FLUSH BINARY LOGS;
SET TIMESTAMP=$((B + 1100)); INSERT INTO p.t VALUES (5, 'e');
SET TIMESTAMP=$((B + 1200)); INSERT INTO p.t VALUES (6, 'f');
SET TIMESTAMP=$((B + 1300)); BEGIN; INSERT INTO p.t VALUES (7, 'g');
SET TIMESTAMP=$((B + 1350)); COMMIT;
SET TIMESTAMP=$((B + 1400)); INSERT INTO p.t VALUES (8, 'h');"

binlog_files >"$W/files"
NFILES=$(wc -l <"$W/files" | tr -d ' ')
# shellcheck disable=SC2046
"$SLUICE" decode --events all $(cat "$W/files") >"$W/decode.out" 2>"$W/decode.err" || true
# Transactions, in binlog order: FILE_INDEX START_OFFSET COMMIT_TS GTID FILE (a transaction ends
# at commit/rollback, or is a ddl outside begin; it starts at its gtid, else begin, else itself).
jq -r '[.type, (.pos | sub(":[0-9]+$"; "")), (.pos | sub("^.*:"; "")), .ts, (.gtid // "-")] | @tsv' \
    "$W/decode.out" |
    awk -F '\t' -v list="$(sed 's|.*/||' "$W/files" | tr '\n' ' ')" '
        BEGIN { n = split(list, f, " "); for (i = 1; i <= n; i++) idx[f[i]] = i }
        function start() { if (!have) { have = 1; sf = idx[$2]; sp = $3; sg = $5 } }
        function end() { start(); print sf, sp, $4, sg, $2; have = 0; intxn = 0 }
        $1 == "gtid" { have = 0; start() }
        $1 == "begin" { start(); intxn = 1 }
        $1 == "commit" || $1 == "rollback" { end() }
        $1 == "ddl" && !intxn { end() }' >"$W/txns"
NTXNS=$(wc -l <"$W/txns" | tr -d ' ')
if [ "$NFILES" -eq 5 ] && [ "$NTXNS" -ge 12 ] && [ -s "$W/decode.out" ]; then
    ok "workload: $NFILES binlog files, $NTXNS transactions with chosen timestamps"
else
    not_ok "workload: 5 binlog files with transactions" "files: $NFILES, transactions: $NTXNS" \
        "$(head -n 3 "$W/decode.err")" "$(cat "$W/txns")"
fi
# The first file's start time must precede the chosen times for the search to make sense.
diag "times: B=$B ($(date -u -d "@$B" '+%Y-%m-%d %H:%M:%S')), transactions:"
diag "$(cat "$W/txns")"

# ---- configuration --------------------------------------------------------------------------
DATA=$TEST_TMP/data
CONF=$W/sluice.yaml
cat >"$CONF" <<EOF
data_dir: $DATA
instances:
  - name: p1
    source: {host: 127.0.0.1, port: $MARIADB_PORT, user: cdc, password: cdcpw}
    start: earliest
    positions: {store: file, dir: $TEST_TMP/positions}
    sinks:
      - {type: file, path: $W/p1.jsonl, format: json}
  - name: p2
    source: {host: 127.0.0.1, port: $MARIADB_PORT, user: cdc, password: cdcpw}
    positions: {store: file, dir: $TEST_TMP/positions}
    sinks:
      - {type: stdout, format: json}
EOF

# stored FIELD: the p1 record's field (jq path on the show --json object), "" when absent.
stored() {
    pos show --config "$CONF" --instance p1 --json 2>/dev/null | jq -r "$1 // \"\""
}
# file_index NAME: 1-based index of a binlog file name.
file_index() {
    sed 's|.*/||' "$W/files" | awk -v n="$1" '$0 == n { print NR }'
}
# gtid_before IDX OFF: the MariaDB GTID set before IDX:OFF: the last GTID of each domain among
# the transactions that start before it, sorted by domain ("" if none).
gtid_before() {
    awk -v f="$1" -v o="$2" '($1 < f || ($1 == f && $2 < o)) && $4 != "-" {
            split($4, p, "-"); last[p[1]] = $4 }
        END { for (d in last) print d, last[d] }' "$W/txns" | sort -n | cut -d' ' -f2 |
        paste -sd, -
}
# sorted_set SET: a MariaDB GTID list with its entries sorted by domain.
sorted_set() {
    printf '%s\n' "$1" | tr ',' '\n' | sort -t- -k1,1n | paste -sd, -
}

# ---- (a) reset --timestamp --------------------------------------------------------------------
# check_time NAME TIME WANT: reset to TIME; the stored position must be a transaction start (or
# a file's offset 4, or the end) such that every transaction before it committed before the time
# and the first at/after it did not; WANT, when not "-", is the exact FILE:POS expected.
check_time() {
    _name=$1 _time=$2 _want=$3 _epoch=$4
    _rc=0
    pos reset --config "$CONF" --instance p1 --timestamp "$_time" >"$W/ts.out" 2>"$W/ts.err" || _rc=$?
    _file=$(stored .consumed.file)
    _off=$(stored .consumed.offset)
    _gtid=$(stored .consumed.gtid)
    _pfile=$(stored .parsed.file)
    _poff=$(stored .parsed.offset)
    _fi=$(file_index "$_file")
    _verdict=$(awk -v f="${_fi:-0}" -v o="${_off:-0}" -v t="$_epoch" '
        { before = $1 < f || ($1 == f && $2 < o) }
        before && $3 >= t { bad = bad " committed-at-" $3 "-before-position" }
        !before && !seen { seen = 1; first = $3; exact = ($1 == f && $2 == o) }
        END {
            if (seen && first < t) bad = bad " first-after-commits-at-" first
            if (seen && !exact && o != 4) bad = bad " not-a-transaction-start"
            if (!seen) print "end" bad; else print "ok" bad
        }' "$W/txns")
    _detail="exit $_rc; stored $_file:$_off gtid \"$_gtid\" (parsed $_pfile:$_poff); verdict $_verdict"
    if [ "$_rc" -ne 0 ] || [ -z "$_file" ] || [ "$_pfile:$_poff" != "$_file:$_off" ]; then
        not_ok "(a) $_name: reset --timestamp '$_time'" "$_detail" "$(cat "$W/ts.out" "$W/ts.err")"
        return 0
    fi
    case $_verdict in
    ok)
        if [ "$_want" != - ] && [ "$_want" != "$_file:$_off" ]; then
            not_ok "(a) $_name: reset --timestamp '$_time' lands on $_want" "$_detail" \
                "$(cat "$W/ts.out")"
            return 0
        fi
        ;;
    end)
        _end=$(sql "SHOW MASTER STATUS" | awk '{ print $1 ":" $2 }')
        if [ "$_file:$_off" != "$_end" ]; then
            not_ok "(a) $_name: after everything: the end of the binlog $_end" "$_detail"
            return 0
        fi
        ;;
    *)
        not_ok "(a) $_name: reset --timestamp '$_time': a transaction boundary" "$_detail" \
            "$(cat "$W/ts.out")" "$(cat "$W/txns")"
        return 0
        ;;
    esac
    # The GTID set executed before the position (also at a file's offset 4).
    if [ "$_verdict" = ok ] && [ "$_gtid" != "$(gtid_before "$_fi" "$_off")" ]; then
        not_ok "(a) $_name: the stored GTID set is the one before $_file:$_off" "$_detail" \
            "want \"$(gtid_before "$_fi" "$_off")\""
        return 0
    fi
    ok "(a) $_name: '$_time' -> $_file:$_off gtid \"$_gtid\": $(head -n 1 "$W/ts.out" | cut -c1-150)"
}
tfmt() { date -u -d "@$1" '+%Y-%m-%d %H:%M:%S'; }
# Exact expectations: the transactions by their start, from the decode output.
txn_at() { awk -v t="$1" '$3 == t { print $5 ":" $2; exit }' "$W/txns"; }

check_time "middle of the first file" "$(tfmt $((B + 150)))" "$(txn_at $((B + 200)))" $((B + 150))
check_time "exactly at a commit" "$(tfmt $((B + 200)))" "$(txn_at $((B + 200)))" $((B + 200))
check_time "after a file's start" "$(date -u -d "@$((B + 350))" '+%Y-%m-%dT%H:%M:%SZ')" \
    "$(txn_at $((B + 400)))" $((B + 350))
check_time "a lone DDL (its GTID event)" "$((B + 450))" "$(txn_at $((B + 500)))" $((B + 450))
check_time "nothing left in the file: the next one" "$(tfmt $((B + 650)))" \
    "$(sed -n 3p "$W/files" | sed 's|.*/||'):4" $((B + 650))
check_time "an empty file in between" "$(tfmt $((B + 850)))" - $((B + 850))
check_time "COMMIT later than the statements" "$(tfmt $((B + 1320)))" "$(txn_at $((B + 1350)))" \
    $((B + 1320))
check_time "before every file" "$(tfmt $((NOW - 86400)))" \
    "$(head -n 1 "$W/files" | sed 's|.*/||'):4" $((NOW - 86400))
if grep -q 'before the first binlog file' "$W/ts.out" && [ "$(stored .consumed.gtid)" = "" ]; then
    ok "(a) before every file: the message says so, no GTID set stored"
else
    not_ok "(a) before every file: the message says so, no GTID set stored" "$(cat "$W/ts.out")"
fi
check_time "after everything" "$(tfmt $((B + 5000)))" - $((B + 5000))
if [ "$(stored .consumed.gtid)" = "$(sorted_set "$(sql 'SELECT @@gtid_binlog_pos')")" ] &&
    grep -q 'the end of the binlog' "$W/ts.out"; then
    ok "(a) after everything: GTID set = @@gtid_binlog_pos, the message says so"
else
    not_ok "(a) after everything: GTID set = @@gtid_binlog_pos" "$(cat "$W/ts.out")" \
        "stored: $(stored .consumed.gtid)"
fi
# The message of a found transaction, and the three time forms agreeing.
T3=$((B + 350))
pos reset --config "$CONF" --instance p1 --timestamp "$(tfmt $T3)" >"$W/f1.out" 2>&1 || true
P1=$(stored '.consumed.file + ":" + (.consumed.offset | tostring)')
pos reset --config "$CONF" --instance p1 --timestamp "$T3" >"$W/f2.out" 2>&1 || true
P2=$(stored '.consumed.file + ":" + (.consumed.offset | tostring)')
pos reset --config "$CONF" --instance p1 --timestamp "$(date -u -d "@$((T3 + 3600))" '+%Y-%m-%dT%H:%M:%S+01:00')" \
    >"$W/f3.out" 2>&1 || true
P3=$(stored '.consumed.file + ":" + (.consumed.offset | tostring)')
if [ "$P1" = "$(txn_at $((B + 400)))" ] && [ "$P1" = "$P2" ] && [ "$P1" = "$P3" ]; then
    ok "(a) 'YYYY-MM-DD HH:MM:SS', epoch seconds and RFC 3339 with an offset agree: $P1"
else
    not_ok "(a) the three time forms agree" "$P1 / $P2 / $P3" "$(cat "$W/f1.out" "$W/f2.out" "$W/f3.out")"
fi
G400=$(awk -v t=$((B + 400)) '$3 == t { print $4; exit }' "$W/txns")
if grep -Eq "^found $P1 \(first transaction committed at/after $(tfmt $T3) UTC: committed at $(tfmt $((B + 400))) UTC, gtid $G400\) after reading [0-9]+ events / [0-9]+ bytes in [0-9]+ files$" "$W/f1.out"; then
    ok "(a) the message: \"$(head -n 1 "$W/f1.out")\""
else
    not_ok "(a) the message names the transaction found and what was read" "$(cat "$W/f1.out")"
fi

# ---- (b) the other forms, show ----------------------------------------------------------------
F2=$(sed -n 2p "$W/files" | sed 's|.*/||')
F1=$(sed -n 1p "$W/files" | sed 's|.*/||')
rc=0
pos reset --config "$CONF" --instance p1 --file "$F2" --pos 4 >"$W/b.out" 2>&1 || rc=$?
if [ $rc -eq 0 ] && [ "$(stored '.consumed.file + ":" + (.consumed.offset | tostring) + " " + .consumed.gtid + " " + .parsed.file + ":" + (.parsed.offset | tostring)')" = "$F2:4  $F2:4" ] &&
    grep -q "consumed: .* -> $F2:4\$" "$W/b.out"; then
    ok "(b) --file $F2 --pos 4: stored, GTID set empty; \"$(grep consumed "$W/b.out" | sed 's/^ *//')\""
else
    not_ok "(b) --file $F2 --pos 4" "exit $rc" "$(cat "$W/b.out")" "$(pos show --config "$CONF" 2>&1)"
fi
rc=0
pos reset --config "$CONF" --instance p1 --gtid '1-1-1, 0-1-3' >"$W/b.out" 2>&1 || rc=$?
if [ $rc -eq 0 ] && [ "$(stored '.consumed.file + ":" + (.consumed.offset | tostring) + " " + .consumed.gtid')" = ":0 0-1-3,1-1-1" ] &&
    grep -q "consumed: $F2:4 -> gtid 0-1-3,1-1-1\$" "$W/b.out"; then
    ok "(b) --gtid '1-1-1, 0-1-3': stored as 0-1-3,1-1-1, no file, offset 0; old -> new printed"
else
    not_ok "(b) --gtid '1-1-1, 0-1-3'" "exit $rc" "$(cat "$W/b.out")"
fi
rc=0
pos reset --config "$CONF" --instance p1 --earliest >"$W/b.out" 2>&1 || rc=$?
if [ $rc -eq 0 ] && [ "$(stored '.consumed.file + ":" + (.consumed.offset | tostring) + " " + .consumed.gtid')" = "$F1:4 " ]; then
    ok "(b) --earliest: $F1:4"
else
    not_ok "(b) --earliest" "exit $rc" "$(cat "$W/b.out")"
fi
sql "INSERT INTO p.t VALUES (9, 'i')"
END=$(sql "SHOW MASTER STATUS" | awk '{ print $1 ":" $2 }')
GPOS=$(sorted_set "$(sql "SELECT @@gtid_binlog_pos")")
rc=0
pos reset --config "$CONF" --instance p1 --latest >"$W/b.out" 2>&1 || rc=$?
if [ $rc -eq 0 ] && [ "$(stored '.consumed.file + ":" + (.consumed.offset | tostring) + " " + .consumed.gtid')" = "$END $GPOS" ]; then
    ok "(b) --latest: $END gtid $GPOS"
else
    not_ok "(b) --latest: $END gtid $GPOS" "exit $rc" "$(cat "$W/b.out")" "$(stored .consumed)"
fi
rc=0
pos show --config "$CONF" >"$W/show.out" 2>"$W/show.err" || rc=$?
if [ $rc -eq 0 ] && grep -q "^instance \"p1\": not running, store file" "$W/show.out" &&
    grep -q "^  consumed: $END, gtid $GPOS\$" "$W/show.out" &&
    grep -q "^  parsed:   $END, gtid $GPOS\$" "$W/show.out" &&
    grep -q "^  schema version: 0\$" "$W/show.out" &&
    grep -q "^instance \"p2\": not running" "$W/show.out" && grep -q "no position stored" "$W/show.out"; then
    ok "(b) show prints both instances, p1's positions, identity and schema version"
else
    not_ok "(b) show prints both instances and p1's positions" "exit $rc" "$(cat "$W/show.out" "$W/show.err")"
fi
pos show --config "$CONF" --json >"$W/showj.out" 2>&1 || true
if [ "$(wc -l <"$W/showj.out" | tr -d ' ')" = 2 ] &&
    [ "$(jq -r 'select(.instance == "p1") | "\(.running) \(.consumed.file):\(.consumed.offset) \(.parsed.gtid)"' "$W/showj.out")" = "false $END $GPOS" ] &&
    [ "$(jq -r 'select(.instance == "p2") | .stored' "$W/showj.out")" = false ]; then
    ok "(b) show --json: one object per instance per line"
else
    not_ok "(b) show --json: one object per instance per line" "$(cat "$W/showj.out")"
fi
rc=0
pos reset --config "$CONF" --instance p1 --timestamp "$(tfmt $((B + 150)))" >"$W/b.out" 2>&1 || rc=$?
if [ $rc -eq 0 ] && grep -q "^  consumed: $END, gtid $GPOS -> $(txn_at $((B + 200))), gtid [0-9,-]*, ts $(tfmt $((B + 200))) UTC\$" "$W/b.out"; then
    ok "(b) reset prints old -> new: \"$(grep consumed "$W/b.out" | sed 's/^ *//')\""
else
    not_ok "(b) reset prints old -> new" "exit $rc" "$(cat "$W/b.out")"
fi

# ---- (c) the lock -------------------------------------------------------------------------------
mkdir -p "$DATA/p1"
LOCK=$DATA/p1/lock
# A holder that writes its pid into the lock file, as the daemon does, then sleeps with it held.
# shellcheck disable=SC2016
sh -c 'exec 9>>"$1"; flock -x 9; echo $$ >"$1"; exec sleep 300' sh "$LOCK" &
HOLDER=$!
at_exit "kill $HOLDER 2>/dev/null; wait $HOLDER 2>/dev/null"
i=0
while [ $i -lt 50 ] && [ "$(cat "$LOCK" 2>/dev/null)" != "$HOLDER" ]; do
    sleep 0.1
    i=$((i + 1))
done
BEFORE=$(stored '.consumed.file + ":" + (.consumed.offset | tostring)')
rc=0
pos reset --config "$CONF" --instance p1 --earliest >"$W/c.out" 2>"$W/c.err" || rc=$?
AFTER=$(stored '.consumed.file + ":" + (.consumed.offset | tostring)')
if [ $rc -eq 1 ] && grep -q "locked by process $HOLDER" "$W/c.err" && [ "$BEFORE" = "$AFTER" ] &&
    [ ! -s "$W/c.out" ]; then
    ok "(c) reset while the lock is held: exit 1, \"$(head -n 1 "$W/c.err" | cut -c1-150)\""
else
    not_ok "(c) reset while the lock is held: exit 1 naming pid $HOLDER, nothing changed" "exit $rc" \
        "$(cat "$W/c.out" "$W/c.err")" "before $BEFORE, after $AFTER"
fi
pos show --config "$CONF" --instance p1 >"$W/c.out" 2>&1 || true
if grep -q "^instance \"p1\": running (pid $HOLDER)" "$W/c.out" &&
    [ "$(stored .running)" = true ] && [ "$(stored .pid)" = "$HOLDER" ]; then
    ok "(c) show while the lock is held: running (pid $HOLDER)"
else
    not_ok "(c) show while the lock is held: running (pid $HOLDER)" "$(cat "$W/c.out")"
fi
kill "$HOLDER" 2>/dev/null || true
wait "$HOLDER" 2>/dev/null || true
rc=0
pos reset --config "$CONF" --instance p1 --earliest >"$W/c.out" 2>&1 || rc=$?
if [ $rc -eq 0 ] && [ "$(stored '.consumed.file + ":" + (.consumed.offset | tostring)')" = "$F1:4" ] &&
    pos show --config "$CONF" --instance p1 | grep -q '^instance "p1": not running'; then
    ok "(c) once the holder is gone: reset works, show says not running"
else
    not_ok "(c) once the holder is gone: reset works" "exit $rc" "$(cat "$W/c.out")"
fi

# ---- (d) bad arguments --------------------------------------------------------------------------
# usage_error NAME PATTERN ARGS...: exit 2, a message matching PATTERN on stderr, nothing on stdout.
usage_error() {
    _name=$1 _pat=$2
    shift 2
    _rc=0
    timeout 60 "$POSCMD" position "$@" >"$W/use.out" 2>"$W/use.err" </dev/null || _rc=$?
    if [ "$_rc" = 2 ] && grep -q -- "$_pat" "$W/use.err" && [ ! -s "$W/use.out" ]; then
        ok "(d) $_name: exit 2, \"$(head -n 1 "$W/use.err" | cut -c1-120)\""
    else
        not_ok "(d) $_name: exit 2 with a message matching \"$_pat\"" "exit status $_rc" \
            "stderr: $(head -n 2 "$W/use.err")" "stdout: $(head -n 2 "$W/use.out")"
    fi
}
BEFORE=$(stored '.consumed.file + ":" + (.consumed.offset | tostring)')
usage_error "no subcommand" "usage"
usage_error "unknown subcommand" 'unknown subcommand "frob"' frob
usage_error "no --config" "--config FILE is required" show
usage_error "no --instance" "--instance NAME is required" reset --config "$CONF" --earliest
usage_error "unknown instance" '"nope": no such instance.*known: "p1", "p2"' \
    reset --config "$CONF" --instance nope --earliest
usage_error "no new position" "a new position is required" reset --config "$CONF" --instance p1
usage_error "two positions" "give only one of" reset --config "$CONF" --instance p1 --earliest --latest
usage_error "--file without --pos" "--file needs --pos" reset --config "$CONF" --instance p1 --file "$F1"
usage_error "--pos below 4" '--pos "3"' reset --config "$CONF" --instance p1 --file "$F1" --pos 3
usage_error "--file with a directory" '--file "/x/binlog.000001"' \
    reset --config "$CONF" --instance p1 --file /x/binlog.000001 --pos 4
usage_error "--gtid not a set" '--gtid "zap"' reset --config "$CONF" --instance p1 --gtid zap
usage_error "--timestamp not a time" '--timestamp "yesterday"' \
    reset --config "$CONF" --instance p1 --timestamp yesterday
usage_error "--timestamp out of range" '--timestamp "2026-13-01 00:00:00"' \
    reset --config "$CONF" --instance p1 --timestamp "2026-13-01 00:00:00"
usage_error "unknown option" 'unknown option "--bogus"' reset --config "$CONF" --instance p1 --bogus
usage_error "option without its value" "--gtid needs a value" reset --config "$CONF" --instance p1 --gtid
usage_error "show of an unknown instance" '"nope": no such instance' show --config "$CONF" --instance nope
AFTER=$(stored '.consumed.file + ":" + (.consumed.offset | tostring)')
if [ "$BEFORE" = "$AFTER" ]; then
    ok "(d) refused resets changed nothing ($AFTER)"
else
    not_ok "(d) refused resets changed nothing" "before $BEFORE, after $AFTER"
fi
rc=0
pos show --config "$W/missing.yaml" >"$W/d.out" 2>"$W/d.err" || rc=$?
if [ $rc -eq 1 ] && grep -q "missing.yaml" "$W/d.err"; then
    ok "(d) a configuration that cannot be read: exit 1, \"$(head -n 1 "$W/d.err" | cut -c1-120)\""
else
    not_ok "(d) a configuration that cannot be read: exit 1" "exit $rc" "$(cat "$W/d.err")"
fi

test_done
