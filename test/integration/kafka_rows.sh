# test/integration/kafka_rows.sh — shared by the Kafka scripts (80-kafka.sh, 81-kafka-crash.sh):
# a workload over tables whose every column type converts back exactly from each format, the
# messages of a topic read with kcat, each table rebuilt from them per format, and the Kafka
# daemon configs. Sourced after lib.sh and rows.sh, not run. Needs W (a work dir).
#
# Rebuild (kafka_rebuild): the messages of one table's topic, in per-partition offset order,
# each turned back into a row in sluice's json conventions (canal's strings, indexes and
# ISO-8859-1 bytes, Debezium's base64 decimals and bits, days, epoch ms/us and ISO timestamps:
# the conversions below), then applied by primary key: a delete removes the key, an insert or
# update sets it. The workload never changes a primary key, so a key's messages are all on one
# partition and the last one decides. The rows are then in rows.sh's canonical form, compared
# with rows_snapshot (SELECT rendered by the server). The same pass checks, per key, that the
# (sluice.pos, sluice.row) headers increase along the offsets (commit order), and counts the
# messages whose (pos, row) came before (duplicates).

# ---- the tables and the workload ---------------------------------------------------------------
# kafka_schema_sql DB: three tables with a primary key (single INT, BIGINT, composite).
kafka_schema_sql() {
    cat <<SQL
CREATE DATABASE $1;
USE $1;
CREATE TABLE t_a (
  id INT NOT NULL PRIMARY KEY, ti TINYINT, iu INT UNSIGNED, bi BIGINT, d DECIMAL(12,2),
  dbl DOUBLE, s VARCHAR(64), e ENUM('a','b','c d'), y YEAR, bt BIT(8)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE t_b (
  id BIGINT NOT NULL PRIMARY KEY, dt DATE, dtm DATETIME, dt3 DATETIME(3), dt6 DATETIME(6),
  ts TIMESTAMP NULL DEFAULT NULL, tm TIME, tx TEXT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE t_c (
  k VARCHAR(20) NOT NULL, n INT NOT NULL, vb VARBINARY(16), d DECIMAL(8,3), s VARCHAR(40),
  PRIMARY KEY (k, n)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
SQL
}

# shellcheck disable=SC2034 # for the sourcing scripts
KAFKA_TABLES="t_a t_b t_c"

# kafka_gen SEED NTX BASE ALTERED [ALTER_AT]: NTX random transactions (SQL on stdout, for the
# current database; gawk, deterministic for a SEED) of 1-6 statements: inserts (ids above
# BASE, several rows per statement at times), updates and deletes of one of the last 400 ids
# (a deleted or never-inserted one is a no-op), never of a primary key. ALTERED=1: t_a has the
# column `extra` that the ALTER TABLE written before transaction ALTER_AT (-1: none) adds in the
# middle. Each inserted row is also named on a comment line "-- ins TABLE ID" (the client
# does not send comments).
kafka_gen() {
    awk -v seed="$1" -v ntx="$2" -v base="$3" -v altered="$4" -v alter_at="${5:--1}" '
function rint(lo, hi) { return lo + int(rand() * (hi - lo + 1)) }
function pick(s,   a, n) { n = split(s, a, "|"); return a[rint(1, n)] }
function chance(p) { return rand() < p }
function nul(v) { return chance(0.1) ? "NULL" : v }
function digs(n,   s, k) { s = ""; for (k = 0; k < n; k++) s = s int(rand() * 10); return s }
function sgn() { return chance(0.5) ? "-" : "" }
function q(s) { return "\047" s "\047" }
function str(n,   s, k) { s = ""; for (k = 0; k < n; k++) s = s pick("a|Z|7| |é|ü|€|😀|\\\\|\047\047|\"|\\n|\\t|x|-|_"); return q(s) }
function hex(n,   s, k) { s = ""; for (k = 0; k < n; k++) s = s sprintf("%02X", rint(0, 255)); return "X\047" s "\047" }
function vbig() { return chance(0.2) ? pick("-9223372036854775808|9223372036854775807|0|-1") : sgn() rint(1, 999999) digs(rint(0, 12)) }
function vdouble() { return chance(0.3) ? pick("0|1|-1|0.1|1e300|-2.5e-300|3.141592653589793|1e7|123456789.5") : sgn() rint(1, 99999) "." digs(rint(0, 6)) "e" rint(-20, 20) }
function vdate() { return sprintf("\047%04d-%02d-%02d\047", rint(1900, 2100), rint(1, 12), rint(1, 28)) }
function vdt(frac,   s) {
    s = sprintf("%04d-%02d-%02d %02d:%02d:%02d", rint(1900, 2100), rint(1, 12), rint(1, 28), rint(0, 23), rint(0, 59), rint(0, 59))
    if (frac) s = s "." digs(rint(1, frac))
    return q(s)
}
function vts() { return sprintf("\047%04d-%02d-%02d %02d:%02d:%02d\047", rint(1971, 2037), rint(1, 12), rint(1, 28), rint(0, 23), rint(0, 59), rint(0, 59)) }
function vtime() { return chance(0.1) ? pick("\047-838:59:59\047|\047838:59:59\047|\04700:00:00\047") : q(sgn() sprintf("%d:%02d:%02d", rint(0, 837), rint(0, 59), rint(0, 59))) }
function target(n) { return n - rint(0, n - base < 400 ? n - base : 400) }
function a_set(   c) {
    c = rint(1, altered ? 10 : 9)
    if (c == 1) return "ti = " nul(rint(-128, 127)); if (c == 2) return "iu = " nul(pick("0|4294967295|" rint(0, 4294967295)))
    if (c == 3) return "bi = " nul(vbig()); if (c == 4) return "d = " nul(sgn() rint(0, 9999999999) "." digs(2))
    if (c == 5) return "dbl = " nul(vdouble()); if (c == 6) return "s = " nul(str(rint(0, 20)))
    if (c == 7) return "e = " nul(pick("\047a\047|\047b\047|\047c d\047")); if (c == 8) return "y = " nul(rint(1901, 2155))
    if (c == 9) return "bt = " nul(rint(0, 255)); return "extra = " nul(str(rint(0, 8)))
}
function b_set(   c) {
    c = rint(1, 7)
    if (c == 1) return "dt = " nul(vdate()); if (c == 2) return "dtm = " nul(vdt(0)); if (c == 3) return "dt3 = " nul(vdt(3))
    if (c == 4) return "dt6 = " nul(vdt(6)); if (c == 5) return "ts = " nul(vts()); if (c == 6) return "tm = " nul(vtime())
    return "tx = " nul(str(rint(0, 60)))
}
function c_set(   c) {
    c = rint(1, 3)
    if (c == 1) return "vb = " nul(hex(rint(0, 16))); if (c == 2) return "d = " nul(sgn() rint(0, 99999) "." digs(3))
    return "s = " nul(str(rint(0, 12)))
}
function a_row(id) {
    print "-- ins t_a " id
    return "(" id ", " nul(rint(-128, 127)) ", " nul(pick("0|4294967295|" rint(0, 4294967295))) ", " nul(vbig()) ", " nul(sgn() rint(0, 9999999999) "." digs(2)) ", " nul(vdouble()) ", " nul(str(rint(0, 20))) ", " nul(pick("\047a\047|\047b\047|\047c d\047")) ", " nul(rint(1901, 2155)) ", " nul(rint(0, 255)) (altered ? ", " nul(str(rint(0, 8))) : "") ")"
}
function nul_b(id) { print "-- ins t_b " id; return 0 }
function stmt(   t, op, r, k, s, x) {
    t = rint(1, 3); op = rand()
    if (t == 1) {
        if (op < 0.45) {
            r = chance(0.3) ? rint(2, 4) : 1; s = ""
            for (k = 0; k < r; k++) s = s (k ? ", " : "") a_row(++na)
            print "INSERT INTO t_a (id, ti, iu, bi, d, dbl, s, e, y, bt" (altered ? ", extra" : "") ") VALUES " s ";"
        } else if (op < 0.8) print "UPDATE t_a SET " a_set() (chance(0.5) ? ", " a_set() : "") " WHERE id = " target(na) ";"
        else if (op < 0.87) { x = target(na); print "UPDATE t_a SET " a_set() " WHERE id BETWEEN " x " AND " (x + rint(1, 4)) ";" }
        else print "DELETE FROM t_a WHERE id = " target(na) ";"
    } else if (t == 2) {
        if (op < 0.45) {
            r = chance(0.3) ? rint(2, 4) : 1; s = ""
            for (k = 0; k < r; k++) s = s (k ? ", " : "") "(" (++nb) (nul_b(nb) ? "" : "") ", " nul(vdate()) ", " nul(vdt(0)) ", " nul(vdt(3)) ", " nul(vdt(6)) ", " nul(vts()) ", " nul(vtime()) ", " nul(str(rint(0, 60))) ")"
            print "INSERT INTO t_b VALUES " s ";"
        } else if (op < 0.85) print "UPDATE t_b SET " b_set() (chance(0.5) ? ", " b_set() : "") " WHERE id = " target(nb) ";"
        else print "DELETE FROM t_b WHERE id = " target(nb) ";"
    } else {
        if (op < 0.45) print "-- ins t_c " (nc + 1) "\nINSERT INTO t_c VALUES (" q(pick("k1|k2|ké|k 3")) ", " (++nc) ", " nul(hex(rint(0, 16))) ", " nul(sgn() rint(0, 99999) "." digs(3)) ", " nul(str(rint(0, 12))) ");"
        else if (op < 0.85) print "UPDATE t_c SET " c_set() " WHERE n = " target(nc) ";"
        else print "DELETE FROM t_c WHERE n = " target(nc) ";"
    }
}
BEGIN {
    srand(seed); na = base; nb = base; nc = base
    print "SET time_zone = \047+00:00\047;"
    for (i = 0; i < ntx; i++) {
        if (i == alter_at) { print "ALTER TABLE t_a ADD COLUMN extra VARCHAR(20) NULL AFTER bi;"; altered = 1 }
        print "BEGIN;"
        n = rint(1, 6)
        for (j = 0; j < n; j++) stmt()
        print "COMMIT;"
    }
}'
}

# ---- the daemon --------------------------------------------------------------------------------
# kafka_instance NAME FORMAT PREFIX [KAFKA_PROPS]: one instance of a config (YAML on stdout):
# reads the current MariaDB as cdc from the start, tables of databases k* only, one Kafka sink
# (topics PREFIX.{db}.{table}, DDL to PREFIX.ddl). KAFKA_PROPS: more of the kafka: map. The
# server_id is `auto` (KAFKA_SERVER_ID overrides): the instances of one daemon on one server
# must each get their own (once they all took the same one and the server dropped all but one
# of them, error 4052).
kafka_instance() {
    cat <<EOF
  - name: $1
    source: {host: 127.0.0.1, port: $MARIADB_PORT, user: cdc, password: cdcpass, heartbeat_ms: 1000,
             server_id: ${KAFKA_SERVER_ID:-auto}}
    start: earliest
    stall_timeout_ms: ${KAFKA_STALL_MS:-60000}
    filters: {include: ['^k[0-9]*\\.']}
    positions: {store: file, dir: $W/var/positions, save_interval_ms: ${KAFKA_SAVE_MS:-200}}
    sinks:
      - {type: kafka, brokers: "$KAFKA_BROKERS", topic: "$3.{db}.{table}", ddl_topic: "$3.ddl",
         format: $2, kafka: {linger.ms: 5${4:+, $4}}}
EOF
}

# kafka_config OUT INSTANCE_YAML...: a daemon config (admin on $ADMIN_PORT, state in $W/var).
kafka_config() {
    _out=$1
    shift
    {
        echo "log: {level: info}"
        echo "admin: {listen: \"127.0.0.1:$ADMIN_PORT\"}"
        echo "data_dir: $W/var"
        echo "instances:"
        printf '%s\n' "$@"
    } >"$_out"
}

# status_of NAME: the instance NAME of `sluice status --json` (empty when no answer).
status_of() {
    "$SLUICE" status --admin "127.0.0.1:$ADMIN_PORT" --json 2>"$W/status.err" |
        jq -c --arg n "$1" '.instances[] | select(.name == $n)' 2>/dev/null || true
}

# wait_consumed_of NAME FILE OFFSET TIMEOUT_S: wait_consumed for instance NAME.
wait_consumed_of() {
    _end=$(($(date +%s) + $4))
    while :; do
        STATUS=$(status_of "$1")
        _cf=$(printf '%s' "$STATUS" | jq -r '.consumed.file // empty' 2>/dev/null)
        _co=$(printf '%s' "$STATUS" | jq -r '.consumed.offset // empty' 2>/dev/null)
        if [ -n "$_cf" ] && [ -n "$_co" ] && pos_ge "$_cf" "$_co" "$2" "$3"; then
            return 0
        fi
        alive "$SLUICE_PID" || return 1
        [ "$(date +%s)" -ge "$_end" ] && return 1
        sleep 0.3
    done
}

# wait_state_of NAME STATE TIMEOUT_S: wait_state for instance NAME.
wait_state_of() {
    _end=$(($(date +%s) + $3))
    while :; do
        STATUS=$(status_of "$1")
        [ "$(printf '%s' "$STATUS" | jq -r '.state // empty' 2>/dev/null)" = "$2" ] && return 0
        alive "$SLUICE_PID" || return 1
        [ "$(date +%s)" -ge "$_end" ] && return 1
        sleep 0.2
    done
}

# kafka_ctl CMD: a command to the mock cluster's control FIFO; waits for its answer in the log.
kafka_ctl() {
    _n=$(grep -c '^mock: ' "$TEST_TMP/kafka.log" || true)
    echo "$1" >"$KAFKA_CTL"
    _i=0
    while [ "$(grep -c '^mock: ' "$TEST_TMP/kafka.log" || true)" -le "$_n" ] && [ $_i -lt 50 ]; do
        sleep 0.1
        _i=$((_i + 1))
    done
    grep '^mock: ' "$TEST_TMP/kafka.log" | tail -n 1 | grep -q '^mock: ok: '
}

# ---- reading a topic ---------------------------------------------------------------------------
# kafka_dump TOPIC OUT: every message of TOPIC as one JSON line {"p": partition, "o": offset,
# "t": timestamp ms, "h": "k=v,... headers", "k": key, "v": value} (key and value are JSON
# texts; 16+ digit integers are turned into strings first, as rows.sh does).
kafka_dump() {
    # A tombstone (no value: Debezium's after a delete) prints as "v":} and becomes "v":null.
    kafka_read "$1" '{"p":%p,"o":%o,"t":%T,"h":"%h","k":%k,"v":%s}\n' |
        sed 's/,"v":}$/,"v":null}/' | quote_bigints >"$2"
}

# kafka_meta DB TABLE...: rows_meta_all, plus $W/DB.kmeta = {TABLE: {cols: [{name, type,
# scale, fsp, members}], pk: [names]}}.
kafka_meta() {
    _db=$1
    shift
    rows_meta_all "$_db" "$@" || return 1
    _in=""
    for _t in "$@"; do _in="$_in${_in:+, }'$_t'"; done
    sql "SELECT table_name, column_name, data_type, IFNULL(numeric_scale, ''),
                IFNULL(datetime_precision, ''), column_type, column_key
         FROM information_schema.columns WHERE table_schema = '$_db' AND table_name IN ($_in)
         ORDER BY table_name, ordinal_position" |
        jq -R -n '[inputs | split("\t")] | group_by(.[0]) | map({key: .[0][0], value: {
            cols: map({name: .[1], type: .[2], scale: ((.[3] | tonumber?) // 0),
                       fsp: ((.[4] | tonumber?) // 0),
                       members: (if .[2] == "enum" then .[5] | .[5:-1] | split(",") | map(.[1:-1]) else null end)}),
            pk: map(select(.[6] == "PRI") | .[1])}}) | from_entries' >"$W/$_db.kmeta"
}

# The conversions back to sluice's json conventions (jq), per format and column type.
# shellcheck disable=SC2016
_KR_JQ='
def b64chars: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
def b64dec: [explode[] | select(. != 61)
    | if . >= 65 and . <= 90 then . - 65 elif . >= 97 and . <= 122 then . - 71
      elif . >= 48 and . <= 57 then . + 4 elif . == 43 then 62 else 63 end] as $v
  | [range(0; $v | length; 4) as $i | $v[$i:$i + 4] as $g
     | (reduce $g[] as $x (0; . * 64 + $x) * [1, 1, 4096, 64, 1][$g | length]) as $n
     | [($n / 65536 | floor) % 256, ($n / 256 | floor) % 256, $n % 256][0:($g | length) - 1][]];
def b64enc: . as $b | (b64chars | explode) as $a
  | [range(0; $b | length; 3) as $i | $b[$i:$i + 3] as $g
     | ($g + [0, 0] | .[0] * 65536 + .[1] * 256 + .[2]) as $n
     | ([$a[($n / 262144 | floor) % 64], $a[($n / 4096 | floor) % 64], $a[($n / 64 | floor) % 64], $a[$n % 64]]
        | .[0:($g | length) + 1] + [range(0; 3 - ($g | length)) | 61])[]] | implode;
def pad($n): tostring | if length < $n then ("0" * ($n - length)) + . else . end;
def int_text: if type == "string" and (ltrimstr("-") | length) < 16 then tonumber else . end;
def frac($v; $fsp): if $fsp > 0 then "." + ($v | pad($fsp)) else "" end;
# an integer count of 10^-$fsp seconds since the epoch as "YYYY-MM-DD HH:MM:SS[.f]"
def epoch_text($unit; $fsp): (. / $unit | floor) as $s | (. - $s * $unit) as $f
  | ($s | strftime("%Y-%m-%d %H:%M:%S")) + frac(($f / ($unit / pow(10; $fsp)) | floor); $fsp);
def dec_text($scale): (if .[0] >= 128 then reduce .[] as $x (0; . * 256 + $x) - pow(256; length)
    else reduce .[] as $x (0; . * 256 + $x) end) as $v
  | ($v | fabs | tostring | pad($scale + 1)) as $d
  | (if $v < 0 then "-" else "" end) + (if $scale > 0 then $d[0:-$scale] + "." + $d[-$scale:] else $d end);
def conv($fmt; $c):
  if . == null or $fmt == "json" then .
  elif $fmt == "canal" then
    if ($c.type | test("int$")) or $c.type == "year" or $c.type == "bit" then int_text
    elif $c.type == "double" or $c.type == "float" then tonumber
    elif $c.type == "enum" then $c.members[tonumber - 1]
    elif ($c.type | test("binary|blob")) then explode | b64enc
    else . end
  else
    if $c.type == "bit" then b64dec | reverse | reduce .[] as $x (0; . * 256 + $x)
    elif $c.type == "decimal" then b64dec | dec_text($c.scale)
    elif $c.type == "date" then . * 86400 | strftime("%Y-%m-%d")
    elif $c.type == "datetime" then tonumber | epoch_text(if $c.fsp > 3 then 1000000 else 1000 end; $c.fsp)
    elif $c.type == "timestamp" then sub("T"; " ") | rtrimstr("Z")
    elif $c.type == "time" then tonumber | (if . < 0 then "-" else "" end) as $sg | fabs as $u
      | ($u / 3600000000 | floor) as $h | (($u / 60000000 | floor) % 60) as $m | (($u / 1000000 | floor) % 60) as $s
      | $sg + ($h | pad(2)) + ":" + ($m | pad(2)) + ":" + ($s | pad(2)) + frac((($u % 1000000) / pow(10; 6 - $c.fsp) | floor); $c.fsp)
    else . end
  end;
def convrow($fmt; $km): . as $r | reduce $km.cols[] as $c ({};
    if $r | has($c.name) then .[$c.name] = ($r[$c.name] | conv($fmt; $c)) else . end)
  | . + ($r | with_entries(select(.key as $k | $km.cols | map(.name) | index($k) | not)));
# a message as {del, row (converted), pos, row_no}, or an error string
def decode($fmt; $km): .v as $v
  | (.h | split(",") | map(capture("^(?<key>[^=]*)=(?<value>.*)$")) | from_entries) as $h
  | {pos: $h["sluice.pos"], rn: (($h["sluice.row"] // "-1") | tonumber), p, o, k}
  + (if $fmt == "json" then {del: ($v.type == "delete"), r: $v.data, ok: (["insert", "update", "delete"] | index($v.type))}
     elif $fmt == "canal" then {del: ($v.type == "DELETE"), r: ($v.data // [])[0], ok: (["INSERT", "UPDATE", "DELETE"] | index($v.type))}
     else {del: ($v.op == "d"), r: (if $v.op == "d" then $v.before else $v.after end), ok: (["c", "u", "d"] | index($v.op))} end)
  | if .ok == null or (.r | type) != "object" then .err = "not a row change: \($v | tojson | .[0:300])"
    else .r |= convrow($fmt; $km) end;
def poskey: (.pos | split(":")) as $q | [($q[0] | split(".") | .[-1] | tonumber), ($q[1] | tonumber), .rn];
'

# kafka_rebuild FORMAT DB TABLE DUMP OUT: the table rebuilt from DUMP (kafka_dump of its topic):
# OUT (canonical sorted rows) and OUT.json {msgs, applied, deletes, tombstones (messages
# without a value), dups (messages whose (pos, row) an
# earlier one had), order (keys whose messages do not increase in (pos, row)), errs: [first]}.
kafka_rebuild() {
    _fmt=$1 _db=$2 _t=$3 _dump=$4 _out=$5
    if ! jq -n -c --arg fmt "$_fmt" --arg t "$_t" --slurpfile km "$W/$_db.kmeta" \
        --slurpfile meta "$W/$_db.meta" "$_RS_CANON$_KR_JQ"'
$km[0][$t] as $K | $meta[0][$t] as $M
| [inputs] | sort_by(.p, .o) as $all
| ($all | map(select(.v == null))) as $tombs
| ($all | map(select(.v != null)) | map(decode($fmt; $K))) as $ms
| ($ms | map(select(.err)) | map(.err)) as $errs
| ($ms | map(select(.err | not))) as $ok
| ($ok | map(poskey | tojson) | group_by(.) | map(length - 1) | add // 0) as $dups
| ($ok | map(. + {key: (.r as $r | $K.pk | map($r[.]) | tojson)})) as $ops
| ($ops | group_by(.key) | map(select(
      (map(poskey) as $ks | [range(1; $ks | length) | select($ks[.] <= $ks[. - 1])] | length > 0)
      or (map(.p) | unique | length > 1)) | "key \(.[0].key): \(map("p\(.p)@\(.o) \(.pos)#\(.rn)") | join(", ") | .[0:400])")) as $order
| (reduce $ops[] as $m ({}; if $m.del then del(.[$m.key]) else .[$m.key] = $m.r end)) as $state
| {rows: [$state[] | canon($M)], stats: {msgs: ($ms | length), applied: ($ok | length), dups: $dups,
   deletes: ($ok | map(select(.del)) | length), tombstones: ($tombs | length),
   order: ($order | length), errs: (($errs + $order)[0:10])}}' "$_dump" >"$_out.all" 2>"$_out.err"; then
        echo "kafka_rebuild: jq failed on $_dump:" >&2
        head -c 1000 "$_out.err" >&2
        return 1
    fi
    jq -r '.rows[]' "$_out.all" | LC_ALL=C sort >"$_out"
    jq -c '.stats' "$_out.all" >"$_out.json"
    rm -f "$_out.all" "$_out.err"
}
