# test/integration/rows.sh — shared by the `sluice run` scripts (70-run-oracle.sh,
# 75-run-crash.sh): the server's rows rendered in sluice's JSON, a file sink replayed into
# tables the way a consumer would, the daemon started / stopped / asked for its status, and a
# MariaDB restarted on the same port. Sourced after lib.sh, not run. Needs W (a work dir).
#
# Rows are compared as multisets of canonical lines: each row a JSON object with the table's
# columns in table order (a column the row lacks, e.g. a row from before an ALTER TABLE ADD
# COLUMN, is null), FLOAT/DOUBLE members as numbers, integers of 16+ digits as strings (jq 1.6
# reads numbers as doubles). Both sides go through the same jq `canon`, so tables with and
# without a primary key are handled alike.
#
# Expected side (rows_snapshot): SELECT JSON_OBJECT(...) over expressions chosen from
# information_schema's type of each column, as 10-decode-types.sh does (the server renders
# the values; nothing is copied from the SQL that wrote them).
#
# Sink side (rows_rebuild): the JSON lines of the file sink, deduplicated as a consumer of an
# at-least-once stream does (lines are in binlog order: a row line whose (binlog file number,
# offset, row) is not above the greatest one applied so far is a repeat and is skipped), then
# applied: an insert adds its row, a delete removes one row equal to its "data", an update
# removes one row equal to its "old" and adds its "data". A delete or update of a row that is
# not there is an error (a change was lost or mislabelled).

# ---- the server's rows -----------------------------------------------------------------------
_RS_TAB=$(printf '\t')

# rows_meta DB TABLE: writes $W/DB.TABLE.meta, {"cols": [names in order], "kinds": {col:
# "float"|"double"|"other"}}, and $W/DB.TABLE.select.sql, a SELECT of one JSON object per row.
rows_meta() {
    _db=$1 _t=$2
    sql "SELECT column_name, data_type FROM information_schema.columns
         WHERE table_schema = '$_db' AND table_name = '$_t' ORDER BY ordinal_position" >"$W/$_db.$_t.cols"
    if [ ! -s "$W/$_db.$_t.cols" ]; then
        echo "rows_meta: no table $_db.$_t" >&2
        return 1
    fi
    _args=""
    while IFS=$_RS_TAB read -r _col _type; do
        # shellcheck disable=SC2016
        _q=$(printf '%s' "$_col" | sed 's/`/``/g')
        _c="\`$_q\`"
        case $_type in
        tinyint | smallint | mediumint | int | bigint) _e="$_c + 0" ;; # + 0: no ZEROFILL text
        bit | year) _e="$_c + 0" ;;
        float | double) _e="CAST($_c AS DOUBLE)" ;;
        decimal) _e="CAST($_c AS CHAR)" ;;
        date | datetime | timestamp | time) _e="CAST($_c AS CHAR)" ;; # session time zone UTC
        char | varchar | tinytext | text | mediumtext | longtext | enum | set)
            # CONCAT drops the JSON-ness of a MariaDB JSON (LONGTEXT) column: a plain string.
            _e="CONCAT('', CONVERT($_c USING utf8mb4))" ;;
        binary | varbinary | tinyblob | blob | mediumblob | longblob)
            _e="REPLACE(TO_BASE64($_c), CHAR(10), '')" ;;
        *)
            echo "rows_meta: no expected-value rule for column $_db.$_t.$_col of type $_type" >&2
            return 1
            ;;
        esac
        _key=$(printf '%s' "$_col" | sed "s/\\\\/\\\\\\\\/g; s/'/''/g")
        _args="$_args${_args:+, }'$_key', $_e"
    done <"$W/$_db.$_t.cols"
    jq -R -n '[inputs | split("\t")] | {cols: map(.[0]),
        kinds: (map({key: .[0], value: (if .[1] == "float" or .[1] == "double" then .[1]
            else "other" end)}) | from_entries)}' "$W/$_db.$_t.cols" >"$W/$_db.$_t.meta"
    echo "SET SESSION time_zone = '+00:00'; SELECT JSON_OBJECT($_args) FROM \`$_db\`.\`$_t\`;" \
        >"$W/$_db.$_t.select.sql"
}

# rows_meta_all DB TABLE...: rows_meta for each, and $W/DB.meta = {TABLE: meta, ...}.
rows_meta_all() {
    _db=$1
    shift
    for _t in "$@"; do
        rows_meta "$_db" "$_t" || return 1
    done
    for _t in "$@"; do
        printf '{"%s":' "$_t"
        cat "$W/$_db.$_t.meta"
        printf '}\n'
    done | jq -s -c 'add | map_values(. + {set: (.cols | map({key: ., value: true}) | from_entries)})' >"$W/$_db.meta"
}

# Integers of 16+ digits become strings before jq reads them (jq 1.6 rounds them to doubles).
# Only object members are touched: in a JSON string a quote is always escaped.
quote_bigints() {
    sed -E ':a
s/([^\\]": ?)(-?[0-9]{16,})([,}])/\1"\2"\3/
ta'
}

# The canonical form of a row (jq): $m is the table's meta.
# shellcheck disable=SC2016
_RS_CANON='
def canon($m): . as $r
  | (reduce $m.cols[] as $c ({};
      .[$c] = (if $r | has($c) then $r[$c] else null end
               | if ($m.kinds[$c] // "other") != "other" and type == "string"
                 then (try tonumber catch .) else . end)))
  | . + ($r | with_entries(select(.key as $k | $m.set | has($k) | not)))
  | tojson;
'

# rows_snapshot DB TABLE OUT: the table's rows, canonical, sorted, in OUT. rows_meta_all first.
rows_snapshot() {
    sql <"$W/$1.$2.select.sql" | quote_bigints >"$3.raw" || return 1
    if ! jq -r --slurpfile m "$W/$1.meta" --arg t "$2" "$_RS_CANON"' canon($m[0][$t])' "$3.raw" >"$3.canon"; then
        echo "rows_snapshot: the server's JSON for $1.$2 is not valid:" >&2
        head -c 500 "$3.raw" >&2
        return 1
    fi
    LC_ALL=C sort "$3.canon" >"$3"
    rm -f "$3.raw" "$3.canon"
}

# ---- the sink's rows -------------------------------------------------------------------------
# rows_rebuild SINKFILE DB OUTPREFIX: replays SINKFILE (see the top of this file) for the
# tables in $W/DB.meta. Writes OUTPREFIX.TABLE (canonical sorted rows) per table,
# OUTPREFIX.gtids (distinct gtids of the applied rows of DB, sorted) and OUTPREFIX.json:
# {lines, rows (applied), dup (skipped repeats), invalid (lines that are not JSON objects),
# other (non-row lines), foreign (rows of other tables), nerr, err: [first messages]}.
# jq renders each line (a small streaming state: the greatest key), awk applies them.
rows_rebuild() {
    _sink=$1 _db=$2 _out=$3
    # Lines that cannot be whole JSON objects (a torn write, two lines run together) are set
    # apart first, so that one bad line does not hide the others (not jq -R: jq 1.6 garbles
    # multi-byte characters at its read buffer boundaries in raw mode).
    LC_ALL=C awk -v bad="$_out.invalid" '{
        n = gsub(/\{"type":"/, "&")
        if (n == 1 && /^\{"type":"/ && /\}$/) print
        else print NR ": " substr($0, 1, 300) >bad
    }' "$_sink" | quote_bigints >"$_out.lines"
    [ -f "$_out.invalid" ] || : >"$_out.invalid"
    # One line out per line in: "OP<TAB>TABLE<TAB>GTID<TAB>POS#ROW<TAB>KEY1[<TAB>KEY2]" with OP
    # insert/delete (KEY1 the row), update (KEY1 old, KEY2 new), dup, other, foreign, err.
    if ! jq -n -r --arg db "$_db" --slurpfile meta "$W/$_db.meta" "$_RS_CANON"'
def short: if length > 300 then .[:300] + "... (\(length) chars)" else . end;
def key: (.pos | split(":")) as $p
  | [($p[0] | split(".") | .[-1] | tonumber), ($p[1] | tonumber), .row];
$meta[0] as $M
| foreach inputs as $l ({max: null, out: null};
    if ($l | type) != "object" then .out = "err\t\t\t\tnot an object: \($l | tojson | short)"
    elif ($l.type == "insert" or $l.type == "update" or $l.type == "delete") | not then .out = "other"
    elif ($l.pos | type) != "string" or ($l.row | type) != "number" or ($l.data | type) != "object" then
      .out = "err\t\t\t\tno pos, row or data: \($l | tojson | short)"
    else ($l | key) as $k
      | if .max != null and $k <= .max then .out = "dup"
        else .max = $k
          | if $l.db != $db or ($M | has($l.table) | not) then .out = "foreign"
            else $M[$l.table] as $m
              | "\($l.table)\t\($l.gtid // "none")\t\($l.pos)#\($l.row)" as $w
              | if $l.type == "update" and ($l.old | type) != "object" then
                  .out = "err\t\t\t\t\($l.pos)#\($l.row) update without old: \($l | tojson | short)"
                elif $l.type == "update" then
                  .out = "update\t\($w)\t\($l.old | canon($m))\t\($l.data | canon($m))"
                else .out = "\($l.type)\t\($w)\t\($l.data | canon($m))" end
            end
        end
    end;
    .out)' "$_out.lines" >"$_out.ops"; then
        return 1
    fi
    LC_ALL=C awk -F '\t' -v out="$_out" -v invalid="$(wc -l <"$_out.invalid" | tr -d ' ')" '
    function err(m) { nerr++; if (nerr <= 40) errs[nerr] = m }
    function short(s) { return length(s) > 300 ? substr(s, 1, 300) "... (" length(s) " bytes)" : s }
    function jstr(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); gsub(/\t/, "\\t", s); return "\"" s "\"" }
    { lines++ }
    $1 == "dup" { dup++; next }
    $1 == "other" { other++; next }
    $1 == "foreign" { foreign++; next }
    $1 == "err" { err($5); next }
    {
        rows++; g[$3] = 1; t = $2
        if ($1 == "insert") { c[t, $5]++; next }
        if (c[t, $5] > 0) c[t, $5]--
        else err($4 " " $1 " of a row " t " does not have: " ($1 == "update" ? "old " : "") short($5))
        if ($1 == "update") c[t, $6]++
    }
    END {
        for (k in c) {
            split(k, p, SUBSEP)
            for (i = 0; i < c[k]; i++) print p[2] >(out "." p[1] ".unsorted")
        }
        for (k in g) print k >(out ".gtids.unsorted")
        printf "{\"lines\":%d,\"rows\":%d,\"dup\":%d,\"invalid\":%d,\"other\":%d,\"foreign\":%d,\"nerr\":%d,\"err\":[",
            lines + invalid, rows, dup, invalid, other, foreign, nerr + invalid
        n = 0
        while ((getline l <(out ".invalid")) > 0 && n < 10) printf "%s%s", (n++ ? "," : ""), jstr("invalid line " l)
        for (i = 1; i <= nerr && i <= 40; i++) printf "%s%s", (n++ ? "," : ""), jstr(errs[i])
        print "]}"
    }' "$_out.ops" >"$_out.json"
    for _t in $(jq -r 'keys[]' "$W/$_db.meta"); do
        if [ -f "$_out.$_t.unsorted" ]; then
            LC_ALL=C sort "$_out.$_t.unsorted" >"$_out.$_t"
        else
            : >"$_out.$_t"
        fi
    done
    if [ -f "$_out.gtids.unsorted" ]; then LC_ALL=C sort "$_out.gtids.unsorted" >"$_out.gtids"; else : >"$_out.gtids"; fi
    rm -f "$_out".*.unsorted "$_out.lines" "$_out.ops"
}

# rows_compare NAME EXPECTED GOT: ok when the two sorted row files are equal, else not ok with
# the first differences.
rows_compare() {
    if cmp -s "$2" "$3"; then
        ok "$1 ($(wc -l <"$2" | tr -d ' ') rows)"
        return 0
    fi
    _miss=$(LC_ALL=C comm -23 "$2" "$3" | wc -l | tr -d ' ')
    _extra=$(LC_ALL=C comm -13 "$2" "$3" | wc -l | tr -d ' ')
    # The columns in which the first missing and the first unexpected row differ (the same row,
    # when the first column is a key and only other columns differ).
    _cols=$( { LC_ALL=C comm -23 "$2" "$3" | head -n 1; LC_ALL=C comm -13 "$2" "$3" | head -n 1; } |
        jq -r -s 'select(length == 2) | .[0] as $a | .[1] as $b
            | [($a + $b) | keys_unsorted[] | select($a[.] != $b[.])] | join(", ")' 2>/dev/null || true)
    not_ok "$1: $(wc -l <"$2" | tr -d ' ') rows in SELECT, $(wc -l <"$3" | tr -d ' ') rebuilt; $_miss missing, $_extra unexpected" \
        ${_cols:+"columns differing between the first missing and the first unexpected row: $_cols"} \
        "$(LC_ALL=C comm -23 "$2" "$3" | head -n 4 | cut -c 1-600 | sed 's/^/missing:    /')" \
        "$(LC_ALL=C comm -13 "$2" "$3" | head -n 4 | cut -c 1-600 | sed 's/^/unexpected: /')"
}

# ---- positions -------------------------------------------------------------------------------
# pos_ge FILE1 OFF1 FILE2 OFF2: FILE1:OFF1 is at or after FILE2:OFF2 (binlog files compared by
# their numeric suffix).
pos_ge() {
    awk -v f1="$1" -v o1="$2" -v f2="$3" -v o2="$4" 'BEGIN {
        sub(/.*\./, "", f1); sub(/.*\./, "", f2)
        exit !((f1 + 0 > f2 + 0) || (f1 + 0 == f2 + 0 && o1 + 0 >= o2 + 0)) }'
}

# master_pos: "FILE OFFSET" of the server's binlog end.
master_pos() {
    sql "SHOW MASTER STATUS" | cut -f 1,2 | tr '\t' ' '
}

# inserted FILE ID: the data (JSON) of the last insert of row ID in a json-format sink file
# (empty when none).
inserted() {
    jq -c --argjson id "$2" 'select(.type == "insert" and .data.id == $id) | .data' "$1" 2>/dev/null | tail -n 1
}

# ---- the daemon ------------------------------------------------------------------------------
_RS_SLUICE_PIDS=""

# sluice_config OUT NAME SINKPATH [SAVE_INTERVAL_MS]: writes a config for one instance reading
# the current MariaDB as cdc into a JSON-lines file sink; state under $W/var, admin on
# 127.0.0.1:$ADMIN_PORT (set ADMIN_PORT first). The instance decodes on 2 decode threads
# (SLUICE_DECODE_THREADS): the tests that use this run the stream pool (src/stream_pool.c).
sluice_config() {
    cat >"$1" <<EOF
log: {level: info}
admin: {listen: "127.0.0.1:$ADMIN_PORT"}
data_dir: $W/var
instances:
  - name: $2
    source: {host: 127.0.0.1, port: $MARIADB_PORT, user: cdc, password: cdcpass, heartbeat_ms: 1000}
    start: earliest
    stall_timeout_ms: 10000
    decode_threads: ${SLUICE_DECODE_THREADS:-2}
    positions: {store: file, dir: $W/var/positions, save_interval_ms: ${4:-200}}
    sinks:
      - {type: file, path: $3, format: json}
EOF
}

# cdc_user: the replication user the configs use.
cdc_user() {
    sql "CREATE USER cdc@'127.0.0.1' IDENTIFIED BY 'cdcpass';
         GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO cdc@'127.0.0.1';"
}

# sluice_start CONFIG LOG: `sluice run` in the background (output appended to LOG); sets
# SLUICE_PID. Every daemon started is killed at exit if still alive.
sluice_start() {
    "$SLUICE" run --config "$1" >>"$2" 2>&1 </dev/null &
    SLUICE_PID=$!
    _RS_SLUICE_PIDS="$_RS_SLUICE_PIDS $SLUICE_PID"
    if [ -n "${SLUICE_TEST_PIDFILE:-}" ]; then
        echo "$SLUICE_PID" >>"$SLUICE_TEST_PIDFILE"
    fi
}

_rs_kill_daemons() {
    for _p in $_RS_SLUICE_PIDS; do
        if alive "$_p"; then
            kill -KILL "$_p" 2>/dev/null
            wait "$_p" 2>/dev/null
        fi
    done
}
at_exit _rs_kill_daemons

# shellcheck disable=SC2034 # SLUICE_RC is for the caller
# sluice_stop TIMEOUT_S: SIGTERM to $SLUICE_PID, wait up to TIMEOUT_S; sets SLUICE_RC (its
# exit status, or "timeout" after which it was killed).
sluice_stop() {
    kill -TERM "$SLUICE_PID" 2>/dev/null || true
    _end=$(($(date +%s) + $1))
    while alive "$SLUICE_PID" && [ "$(date +%s)" -lt "$_end" ]; do
        sleep 0.1
    done
    if alive "$SLUICE_PID"; then
        kill -KILL "$SLUICE_PID" 2>/dev/null || true
        wait "$SLUICE_PID" 2>/dev/null || true
        SLUICE_RC=timeout
        return 0
    fi
    SLUICE_RC=0
    wait "$SLUICE_PID" || SLUICE_RC=$?
}

# sluice_kill9: SIGKILL to $SLUICE_PID and reap it.
sluice_kill9() {
    kill -KILL "$SLUICE_PID" 2>/dev/null || true
    wait "$SLUICE_PID" 2>/dev/null || true
}

# status_json: the first instance of `sluice status --json` (empty when no answer; then
# $W/status.err holds what `sluice status` said).
status_json() {
    "$SLUICE" status --admin "127.0.0.1:$ADMIN_PORT" --json 2>"$W/status.err" | jq -c '.instances[0]' 2>/dev/null || true
}

# wait_state STATE TIMEOUT_S: until the instance's state is STATE (0), or the time is up / the
# daemon died (1). STATUS holds the last status seen.
wait_state() {
    _end=$(($(date +%s) + $2))
    while :; do
        STATUS=$(status_json)
        [ "$(printf '%s' "$STATUS" | jq -r '.state // empty' 2>/dev/null)" = "$1" ] && return 0
        alive "$SLUICE_PID" || return 1
        [ "$(date +%s)" -ge "$_end" ] && return 1
        sleep 0.2
    done
}

# wait_consumed FILE OFFSET TIMEOUT_S: until the status's consumed position is at or after
# FILE:OFFSET (0), or the time is up / the daemon died (1). STATUS holds the last status seen.
wait_consumed() {
    _end=$(($(date +%s) + $3))
    while :; do
        STATUS=$(status_json)
        _cf=$(printf '%s' "$STATUS" | jq -r '.consumed.file // empty' 2>/dev/null)
        _co=$(printf '%s' "$STATUS" | jq -r '.consumed.offset // empty' 2>/dev/null)
        if [ -n "$_cf" ] && [ -n "$_co" ] && pos_ge "$_cf" "$_co" "$1" "$2"; then
            return 0
        fi
        alive "$SLUICE_PID" || return 1
        [ "$(date +%s)" -ge "$_end" ] && return 1
        sleep 0.3
    done
}

# consumed_of STATUS: "FILE OFFSET" of a status object.
consumed_of() {
    printf '%s' "$1" | jq -r '"\(.consumed.file) \(.consumed.offset)"' 2>/dev/null
}

# saved_pos CONFIG: "FILE OFFSET" of the stored consumed position (`sluice position show`).
saved_pos() {
    "$SLUICE" position show --config "$1" --json 2>/dev/null |
        jq -r 'select(.stored == true) | "\(.consumed.file) \(.consumed.offset)"' 2>/dev/null | head -n 1
}

# log_head LOG: the first and last lines of a daemon log, for diagnostics.
log_head() {
    if [ "$(wc -l <"$1")" -le 30 ]; then
        cat "$1"
    else
        head -n 15 "$1"
        echo "..."
        tail -n 15 "$1"
    fi
}

# ---- MariaDB on a fixed port -----------------------------------------------------------------
# mariadb_up_port DIR PORT [mariadbd options...]: mariadb_up on that port (mariadbd takes the
# last --port given; the data dir, kept, is reused), for a restart the daemon must not notice
# as anything but a lost connection.
mariadb_up_port() {
    _d=$1 _p=$2
    shift 2
    mariadb_up "$_d" "$@" --port="$_p" || return 1
    MARIADB_PORT=$_p
    export MARIADB_PORT
}

# ---- a random workload -----------------------------------------------------------------------
# rows_schema_sql DB: the tables the workload writes: with a primary key (single, composite,
# BIGINT UNSIGNED beyond 2^63) and without any key, most column types.
rows_schema_sql() {
    cat <<SQL
CREATE DATABASE $1;
USE $1;
CREATE TABLE t_num (
  id INT NOT NULL PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
  mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED,
  bi BIGINT, biu BIGINT UNSIGNED,
  d1 DECIMAL(20,6), d2 DECIMAL(65,30), d3 DECIMAL(5,0) UNSIGNED,
  f FLOAT, d DOUBLE, b1 BIT(1), b5 BIT(5), b64 BIT(64)
) ENGINE=InnoDB;
CREATE TABLE t_time (
  id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  dt DATE, dtm DATETIME, dt6 DATETIME(6), ts TIMESTAMP NULL DEFAULT NULL,
  ts3 TIMESTAMP(3) NULL DEFAULT NULL, tm TIME, tm6 TIME(6), y YEAR
) ENGINE=InnoDB;
CREATE TABLE t_str (
  k1 VARCHAR(32) NOT NULL, k2 INT NOT NULL,
  c CHAR(12), v VARCHAR(200), vl VARCHAR(60) CHARACTER SET latin1,
  t TEXT, mt MEDIUMTEXT, bl BLOB, vb VARBINARY(64), bn BINARY(6),
  e ENUM('a','b','c d','ü','😀'), s SET('x','y','z','é'), j JSON,
  PRIMARY KEY (k1, k2)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE t_nopk (
  a INT, v VARCHAR(40), dc DECIMAL(10,2), f FLOAT, dt DATETIME(6), bl TINYBLOB, e ENUM('p','q')
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE t_bulk (
  id INT UNSIGNED NOT NULL PRIMARY KEY, n BIGINT, s VARCHAR(40), d DATETIME(3), x DOUBLE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
SQL
}

# shellcheck disable=SC2034 # for the sourcing scripts
ROWS_TABLES="t_num t_time t_str t_nopk t_bulk"

# rows_gen SEED NTX BASE ALTERED BULK [ALTER_AT BULK_AT BULK_N]: NTX random transactions (SQL
# on stdout, for the current database), deterministic for a SEED (gawk). Ids of new rows start
# above BASE (a caller making several calls gives each its own range); an update or delete
# aims at one of the last 3000 ids. ALTERED=1: the columns the ALTER TABLEs add exist; BULK=1:
# t_bulk has rows to change. Before transaction number ALTER_AT (0-based; -1 never) the ALTER
# TABLEs are written (a nullable column in the middle of t_num, one at the end of t_nopk);
# before transaction BULK_AT, one transaction inserting BULK_N rows into t_bulk (and changing
# t_num and t_time; ids BASE * 100 + 1...).
rows_gen() {
    awk -v seed="$1" -v ntx="$2" -v base="$3" -v altered="$4" -v bulk="$5" \
        -v alter_at="${6:--1}" -v bulk_at="${7:--1}" -v bulk_n="${8:-0}" '
function rint(lo, hi) { return lo + int(rand() * (hi - lo + 1)) }
function pick(s,   a, n) { n = split(s, a, "|"); return a[rint(1, n)] }
function chance(p) { return rand() < p }
function nul(v) { return chance(0.08) ? "NULL" : v }
function digs(n,   s, k) { s = ""; for (k = 0; k < n; k++) s = s int(rand() * 10); return s }
function nzd(n) { return rint(1, 9) digs(n - 1) }
function sgn() { return chance(0.5) ? "-" : "" }
function hex(n,   s, k) { s = ""; for (k = 0; k < n; k++) s = s sprintf("%02X", rint(0, 255)); return "X\047" s "\047" }
function q(s) { return "\047" s "\047" }
function vint(bits, u,   lo, hi) {
    lo = u ? 0 : -(2 ^ (bits - 1)); hi = u ? 2 ^ bits - 1 : 2 ^ (bits - 1) - 1
    if (chance(0.25)) return pick(lo "|" hi "|0|" (u ? 1 : -1))
    return rint(lo, hi)
}
function vbig(u) {
    if (chance(0.25)) return u ? pick("18446744073709551615|9223372036854775808|0|1") : pick("-9223372036854775808|9223372036854775807|0|-1")
    return u ? nzd(rint(1, 19)) : sgn() nzd(rint(1, 18))
}
function vfloat(   i, f) { i = rint(0, 99999); f = pick(".0|.25|.5|.75|.125|.375"); return (i == 0 && f == ".0") ? "0" : sgn() i f }
function vdouble(   m) {
    if (chance(0.3)) return pick("0|1|-1|0.1|1e308|-1.7976931348623157e308|2.2250738585072014e-308|0.30000000000000004|123456789012345680000|3.141592653589793|-2.5e-300")
    m = nzd(rint(1, 15)); return sgn() substr(m, 1, 1) (length(m) > 1 ? "." substr(m, 2) : "") "e" rint(-300, 300)
}
function vbit64(   s, k) {
    if (chance(0.2)) return pick("0|b\047" sprintf("%064d", 0) "\047|0xFFFFFFFFFFFFFFFF|0x8000000000000000")
    s = ""; for (k = 0; k < 64; k++) s = s rint(0, 1); return "b\047" s "\047"
}
function vdate() { return chance(0.05) ? "\0470000-00-00\047" : sprintf("\047%04d-%02d-%02d\047", rint(1000, 9999), rint(1, 12), rint(1, 28)) }
function vdt(frac,   s) {
    s = sprintf("%04d-%02d-%02d %02d:%02d:%02d", rint(1000, 9999), rint(1, 12), rint(1, 28), rint(0, 23), rint(0, 59), rint(0, 59))
    if (frac) s = s "." digs(rint(1, frac))
    return q(s)
}
function vts(frac,   s) {
    if (chance(0.03)) return q("0000-00-00 00:00:00")
    s = sprintf("%04d-%02d-%02d %02d:%02d:%02d", rint(1971, 2037), rint(1, 12), rint(1, 28), rint(0, 23), rint(0, 59), rint(0, 59))
    if (frac) s = s "." digs(rint(1, frac))
    return q(s)
}
function vtime(frac,   s) {
    if (chance(0.1)) return frac ? pick("\047-838:59:58.999999\047|\047838:59:58.5\047|\04700:00:00\047") : pick("\047-838:59:59\047|\047838:59:59\047|\04700:00:00\047")
    s = sgn() sprintf("%d:%02d:%02d", rint(0, 837), rint(0, 59), rint(0, 59))
    if (frac) s = s "." digs(rint(1, frac))
    return q(s)
}
function vyear() { return chance(0.1) ? pick("0|1901|2155") : rint(1901, 2155) }
# String pieces, SQL-escaped (in a single-quoted literal): quotes, backslash, newline, tab,
# NUL, control-Z, emoji (4 bytes, flags, skin tones), CJK, latin accents.
function pieces(n, set,   s, k) { s = ""; for (k = 0; k < n; k++) s = s pick(set); return s }
BEGIN {
    srand(seed)
    UTF = "abc|Zoë|é|😀|🇫🇷|中文|ß|\047\047|\"|\\\\|\\n|\\t| |x|Ω|👍🏽|𝄞|%|_|\\0|\\Z|€"
    LAT = "abc|é|ß|ÿ|Ü|\047\047|\"|\\\\| |x|\\n"
    JS = "abc|é|😀|\"|\\\\| |x|\\n|中文"
    KEYS = "k|Zoë|😀 key|a\047\047b|x\\\\y|"
    n_num = n_time = n_str = base
    print "SET SESSION sql_mode = \047NO_ENGINE_SUBSTITUTION\047; SET SESSION time_zone = \047+00:00\047;"
    for (tx = 0; tx < ntx; tx++) {
        if (tx == alter_at) {
            print "ALTER TABLE t_num ADD COLUMN extra VARCHAR(30) NULL AFTER si;"
            print "ALTER TABLE t_nopk ADD COLUMN added DATETIME(3) NULL;"
            altered = 1
        }
        if (tx == bulk_at) {
            print "BEGIN;"
            print "UPDATE t_num SET d1 = d1 - 1 WHERE id <= " (base + 50) ";"
            print "INSERT INTO t_bulk SELECT " (base * 100) " + seq, seq * 92233720368547, CONCAT(\047bulk \047, seq, \047 é😀\047), \0472024-01-01 00:00:00.000\047 + INTERVAL seq SECOND, seq / 7 FROM seq_1_to_" bulk_n ";"
            print "DELETE FROM t_time WHERE id % 5 = 0;"
            print "COMMIT;"
            bulk = 1
        }
        single = chance(0.15)
        k = single ? 1 : rint(1, 6)
        if (!single) print "BEGIN;"
        for (st = 0; st < k; st++) stmt()
        if (!single) print (chance(0.05) ? "ROLLBACK;" : "COMMIT;")
    }
}
function target(n,   lo) { lo = n - 3000; if (lo < 1) lo = 1; return rint(lo, n > lo ? n : lo) }
function tid(n) { return "100000000000" sprintf("%08d", n) }
function num_set(   c) {
    c = rint(1, altered ? 20 : 19)
    if (c == 1) return "ti = " nul(vint(8, 0)); if (c == 2) return "tiu = " nul(vint(8, 1))
    if (c == 3) return "si = " nul(vint(16, 0)); if (c == 4) return "siu = " nul(vint(16, 1))
    if (c == 5) return "mi = " nul(vint(24, 0)); if (c == 6) return "miu = " nul(vint(24, 1))
    if (c == 7) return "i = " nul(vint(32, 0)); if (c == 8) return "iu = " nul(vint(32, 1))
    if (c == 9) return "bi = " nul(vbig(0)); if (c == 10) return "biu = " nul(vbig(1))
    if (c == 11) return "d1 = " nul(sgn() nzd(rint(1, 14)) "." digs(6))
    if (c == 12) return "d2 = " nul(sgn() nzd(rint(1, 35)) "." digs(30))
    if (c == 13) return "d3 = " nul(rint(0, 99999))
    if (c == 14) return "f = " nul(vfloat()); if (c == 15) return "d = " nul(vdouble())
    if (c == 16) return "b1 = " nul(pick("b\0470\047|b\0471\047")); if (c == 17) return "b5 = " nul(rint(0, 31))
    if (c == 18) return "b64 = " nul(vbit64())
    if (c == 19) return "d1 = d1 + 1"
    return "extra = " nul(q(pieces(rint(0, 6), UTF)))
}
function time_set(   c) {
    c = rint(1, 8)
    if (c == 1) return "dt = " nul(vdate()); if (c == 2) return "dtm = " nul(vdt(0))
    if (c == 3) return "dt6 = " nul(vdt(6)); if (c == 4) return "ts = " nul(vts(0))
    if (c == 5) return "ts3 = " nul(vts(3)); if (c == 6) return "tm = " nul(vtime(0))
    if (c == 7) return "tm6 = " nul(vtime(6)); return "y = " nul(vyear())
}
function vtext() { return chance(0.2) ? "CONCAT(" q(pieces(rint(0, 5), UTF)) ", REPEAT(" q(pick(UTF)) ", " rint(0, 2000) "))" : q(pieces(rint(0, 12), UTF)) }
function vmtext() { return chance(0.05) ? "REPEAT(\047long é 😀 \047, " rint(1000, 20000) ")" : q(pieces(rint(0, 8), UTF)) }
function vblob() { return chance(0.05) ? "REPEAT(X\04700FF\047, " rint(1, 20000) ")" : hex(rint(0, 40)) }
function vjson() { return "JSON_OBJECT(\047n\047, " rint(-1000, 1000) ", \047s\047, " q(pieces(rint(0, 4), JS)) ", \047a\047, JSON_ARRAY(1, 2.5, NULL, \047x\047), \047u\047, \047😀\047)" }
function vset(   s, m, k) { split("x|y|z|é", m, "|"); s = ""; for (k = 1; k <= 4; k++) if (chance(0.4)) s = s (s == "" ? "" : ",") m[k]; return q(s) }
function str_set(   c) {
    c = rint(1, 11)
    if (c == 1) return "c = " nul(q(pieces(rint(0, 3), UTF)))
    if (c == 2) return "v = " nul(chance(0.2) ? "CONCAT(" q(pieces(rint(0, 5), UTF)) ", REPEAT(\047😀\047, " rint(1, 150) "))" : q(pieces(rint(0, 10), UTF)))
    if (c == 3) return "vl = " nul(q(pieces(rint(0, 10), LAT)))
    if (c == 4) return "t = " nul(vtext()); if (c == 5) return "mt = " nul(vmtext())
    if (c == 6) return "bl = " nul(vblob()); if (c == 7) return "vb = " nul(hex(rint(0, 64)))
    if (c == 8) return "bn = " nul(hex(rint(0, 6)))
    if (c == 9) return "e = " nul(pick("\047a\047|\047b\047|\047c d\047|\047ü\047|\047😀\047"))
    if (c == 10) return "s = " nul(vset()); return "j = " nul(vjson())
}
function nopk_row() {
    return "(" rint(0, 300) ", " nul(q(pieces(rint(0, 5), UTF))) ", " nul(sgn() nzd(rint(1, 8)) "." digs(2)) ", " nul(vfloat()) ", " nul(vdt(6)) ", " nul(hex(rint(0, 20))) ", " nul(pick("\047p\047|\047q\047")) (altered ? ", " nul(vdt(3)) : "") ")"
}
function sets(fn,   n, s, k) { n = rint(1, 4); s = ""; for (k = 0; k < n; k++) s = s (k ? ", " : "") (fn == "num" ? num_set() : fn == "time" ? time_set() : str_set()); return s }
function stmt(   t, op, r, k, x, s) {
    t = rint(1, bulk ? 5 : 4); op = rand()
    if (t == 1) {
        if (op < 0.5) {
            r = chance(0.3) ? rint(2, 5) : 1; s = ""
            for (k = 0; k < r; k++) {
                s = s (k ? ", " : "") "(" (++n_num) ", " nul(vint(8, 0)) ", " nul(vint(8, 1)) ", " nul(vint(16, 0)) ", " nul(vint(16, 1)) ", " nul(vint(24, 0)) ", " nul(vint(24, 1)) ", " nul(vint(32, 0)) ", " nul(vint(32, 1)) ", " nul(vbig(0)) ", " nul(vbig(1)) ", " nul(sgn() nzd(rint(1, 14)) "." digs(6)) ", " nul(sgn() nzd(rint(1, 35)) "." digs(30)) ", " nul(rint(0, 99999)) ", " nul(vfloat()) ", " nul(vdouble()) ", " nul(pick("b\0470\047|b\0471\047")) ", " nul(rint(0, 31)) ", " nul(vbit64()) (altered ? ", " nul(q(pieces(rint(0, 6), UTF))) : "") ")"
            }
            print "INSERT INTO t_num (id, ti, tiu, si, siu, mi, miu, i, iu, bi, biu, d1, d2, d3, f, d, b1, b5, b64" (altered ? ", extra" : "") ") VALUES " s ";"
        } else if (op < 0.7) print "UPDATE t_num SET " sets("num") " WHERE id = " target(n_num) ";"
        else if (op < 0.78) { x = target(n_num); print "UPDATE t_num SET " sets("num") " WHERE id BETWEEN " x " AND " (x + rint(1, 10)) ";" }
        else if (op < 0.85) print "UPDATE t_num SET id = " (++n_num) ", " sets("num") " WHERE id = " target(n_num - 1) ";"
        else { x = target(n_num); print "DELETE FROM t_num WHERE id BETWEEN " x " AND " (x + rint(0, 3)) ";" }
    } else if (t == 2) {
        if (op < 0.5) {
            r = chance(0.3) ? rint(2, 5) : 1; s = ""
            for (k = 0; k < r; k++)
                s = s (k ? ", " : "") "(" tid(++n_time) ", " nul(vdate()) ", " nul(vdt(0)) ", " nul(vdt(6)) ", " nul(vts(0)) ", " nul(vts(3)) ", " nul(vtime(0)) ", " nul(vtime(6)) ", " nul(vyear()) ")"
            print "INSERT INTO t_time VALUES " s ";"
        } else if (op < 0.8) print "UPDATE t_time SET " sets("time") " WHERE id = " tid(target(n_time)) ";"
        else print "DELETE FROM t_time WHERE id = " tid(target(n_time)) ";"
    } else if (t == 3) {
        if (op < 0.5) {
            r = chance(0.2) ? rint(2, 3) : 1; s = ""
            for (k = 0; k < r; k++)
                s = s (k ? ", " : "") "(" q(pick(KEYS)) ", " (++n_str) ", " nul(q(pieces(rint(0, 3), UTF))) ", " nul(q(pieces(rint(0, 10), UTF))) ", " nul(q(pieces(rint(0, 10), LAT))) ", " nul(vtext()) ", " nul(vmtext()) ", " nul(vblob()) ", " nul(hex(rint(0, 64))) ", " nul(hex(rint(0, 6))) ", " nul(pick("\047a\047|\047b\047|\047c d\047|\047ü\047|\047😀\047")) ", " nul(vset()) ", " nul(vjson()) ")"
            print "INSERT INTO t_str VALUES " s ";"
        } else if (op < 0.75) print "UPDATE t_str SET " sets("str") " WHERE k2 = " target(n_str) ";"
        else if (op < 0.82) print "UPDATE t_str SET k1 = " q(pick(KEYS) "2") " WHERE k2 = " target(n_str) ";"
        else print "DELETE FROM t_str WHERE k2 = " target(n_str) ";"
    } else if (t == 4) {
        x = rint(0, 300)
        if (op < 0.35) { r = chance(0.3) ? rint(2, 6) : 1; s = ""; for (k = 0; k < r; k++) s = s (k ? ", " : "") nopk_row(); print "INSERT INTO t_nopk VALUES " s ";" }
        else if (op < 0.45) print "INSERT INTO t_nopk SELECT * FROM t_nopk WHERE a = " x " LIMIT 1;"
        else if (op < 0.6) print "UPDATE t_nopk SET v = " nul(q(pieces(rint(0, 5), UTF))) ", f = " nul(vfloat()) (altered ? ", added = " nul(vdt(3)) : "") " WHERE a = " x " LIMIT 1;"
        else if (op < 0.7) print "UPDATE t_nopk SET dc = " nul(sgn() nzd(rint(1, 8)) "." digs(2)) ", bl = " nul(hex(rint(0, 20))) " WHERE a BETWEEN " x " AND " (x + 3) ";"
        else if (op < 0.78) print "UPDATE t_nopk SET a = a + 1 WHERE a = " x ";"
        else if (op < 0.9) print "DELETE FROM t_nopk WHERE a = " x " LIMIT 1;"
        else print "DELETE FROM t_nopk WHERE a BETWEEN " x " AND " (x + 2) ";"
    } else {
        x = rint(1, 100000)
        if (op < 0.4) print "UPDATE t_bulk SET s = CONCAT(LEFT(s, 30), \047!\047), x = -x WHERE id % 997 = " (x % 997) ";"
        else if (op < 0.6) print "UPDATE t_bulk SET n = NULL, d = " vdt(3) " WHERE id = " x ";"
        else if (op < 0.8) print "DELETE FROM t_bulk WHERE id BETWEEN " x " AND " (x + rint(0, 200)) ";"
        else print "INSERT IGNORE INTO t_bulk VALUES (" (3000000000 + (++n_num)) ", " nul(vbig(0)) ", " nul(q(pieces(rint(0, 5), UTF))) ", " nul(vdt(3)) ", " nul(vdouble()) ");"
    }
}'
}
