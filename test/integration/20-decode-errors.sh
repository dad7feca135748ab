#!/bin/sh
# 20-decode-errors.sh — `sluice decode` on broken input, position ranges and bad usage.
#
# A throw-away MariaDB writes a real binlog: six one-row transactions (ids 1..6), then an update
# and a delete. Event offsets come from the server (SHOW BINLOG EVENTS). Then:
#   - copies of it cut in the middle of an event body and in the middle of an event header,
#     and one with a byte flipped inside an event body (CRC32 mismatch), must fail with exit
#     status 1, a message naming the file and the offset of the broken event, and every change
#     before that event printed; a file that is not a binlog (text, empty) must fail the same way
#     at offset 0;
#   - --start-position / --stop-position (event offsets from the server) select exactly the rows
#     of the events in [start, stop), even when start points at a rows event whose table map
#     comes before it;
#   - bad usage (unknown option, bad option value, no file, unknown command) exits 2 with a
#     message on stderr; a file that cannot be opened is an input error like a corrupt one:
#     exit 1, naming the file.
set -eu
. "$(dirname "$0")/lib.sh"

need_cmd mariadb-install-db mariadbd mariadb mariadb-admin jq
need_sluice
W=$TEST_TMP/work
mkdir -p "$W"

start_mariadb "$TEST_TMP/db" --binlog-row-metadata=FULL
sql "CREATE DATABASE e;
CREATE TABLE e.t (id INT PRIMARY KEY, name VARCHAR(40), amount DECIMAL(10,2));
INSERT INTO e.t VALUES (1, 'one', 1.50);
INSERT INTO e.t VALUES (2, 'two', 2.50);
INSERT INTO e.t VALUES (3, 'three', 3.50);
INSERT INTO e.t VALUES (4, 'four', 4.50);
INSERT INTO e.t VALUES (5, 'five', 5.50);
INSERT INTO e.t VALUES (6, REPEAT('six', 13), 6.50);
UPDATE e.t SET amount = amount * 2 WHERE id = 2;
DELETE FROM e.t WHERE id = 3;
FLUSH BINARY LOGS;"
BINLOG=$(binlog_files | head -n 1)
NAME=$(basename "$BINLOG")
# Server's view: "pos<TAB>type<TAB>end_log_pos" of every event of the first file.
sql_run --skip-raw -e "SHOW BINLOG EVENTS IN '$NAME'" | awk -F'\t' '{ print $2 "\t" $3 "\t" $5 }' >"$W/events"
mariadb_down "$TEST_TMP/db"
cp "$BINLOG" "$W/good.000001"
SIZE=$(wc -c <"$W/good.000001" | tr -d ' ')

# pos_of TYPE N / end_of TYPE N: offset / end offset of the Nth event of TYPE (as SHOW BINLOG
# EVENTS names types).
pos_of() {
    awk -F'\t' -v t="$1" -v n="$2" '$2 == t && ++k == n { print $1; exit }' "$W/events"
}
end_of() {
    awk -F'\t' -v t="$1" -v n="$2" '$2 == t && ++k == n { print $3; exit }' "$W/events"
}
# The Nth rows event inserts id N; Gtid 1 is CREATE DATABASE, 2 CREATE TABLE, 3.. the inserts.
W4=$(pos_of Write_rows_v1 4)
W4_END=$(end_of Write_rows_v1 4)
W_ID3=$(pos_of Write_rows_v1 3)
W_ID5=$(pos_of Write_rows_v1 5)
G_ID2=$(pos_of Gtid 4)
G_ID3=$(pos_of Gtid 5)
G_ID5=$(pos_of Gtid 7)
if [ -z "$W4" ] || [ -z "$G_ID2" ] || [ -z "$G_ID3" ] || [ -z "$G_ID5" ] || [ -z "$W_ID3" ] || [ -z "$W_ID5" ]; then
    not_ok "event offsets from SHOW BINLOG EVENTS" "$(cat "$W/events")"
    exit 1
fi

# ---- the intact file --------------------------------------------------------------------------
if "$SLUICE" decode --events all "$W/good.000001" >"$W/good.out" 2>"$W/good.err"; then
    ids=$(jq -r 'select(.type == "insert") | .data.id' "$W/good.out" | tr '\n' ' ' | sed 's/ $//')
    if [ "$ids" = "1 2 3 4 5 6" ]; then
        ok "intact binlog decodes (inserts of ids $ids)"
    else
        not_ok "intact binlog decodes" "inserted ids: $ids (want 1 2 3 4 5 6)"
    fi
else
    not_ok "intact binlog decodes" "$(head -n 5 "$W/good.err")"
fi
# Lines of the intact decode whose event starts before OFFSET (what a failure there must keep),
# and a decode's lines, with the file name taken out of "pos".
lines_before() {
    jq -c --argjson off "$1" 'select((.pos | sub("^.*:"; "") | tonumber) < $off) | .pos |= sub("^.*:"; "")' "$W/good.out"
}
without_file() {
    jq -c '.pos |= sub("^.*:"; "")' "$1"
}

# expect_failure NAME FILE OFFSET: exit 1, stderr names FILE and OFFSET, every line before
# OFFSET printed.
expect_failure() {
    _name=$1 _file=$2 _off=$3
    _rc=0
    "$SLUICE" decode --events all "$_file" >"$W/bad.out" 2>"$W/bad.err" || _rc=$?
    _msg=$(head -n 3 "$W/bad.err")
    if [ "$_rc" -ne 1 ]; then
        not_ok "$_name: exit status 1" "got exit status $_rc" "stderr: $_msg"
    elif ! grep -qF "$(basename "$_file")" "$W/bad.err"; then
        not_ok "$_name: message names the file" "stderr: $_msg"
    elif ! grep -qw "$_off" "$W/bad.err"; then
        not_ok "$_name: message names offset $_off" "stderr: $_msg"
    else
        ok "$_name: exit 1, \"$(head -n 1 "$W/bad.err" | sed "s|$W/||g" | cut -c1-160)\""
    fi
    if [ "$_off" -gt 0 ]; then
        lines_before "$_off" >"$W/want.out"
        without_file "$W/bad.out" >"$W/got.out" 2>&1 || true
        if cmp -s "$W/want.out" "$W/got.out"; then
            ok "$_name: the $(wc -l <"$W/want.out" | tr -d ' ') lines before offset $_off are printed"
        else
            not_ok "$_name: the lines before offset $_off are printed" \
                "$(diff "$W/want.out" "$W/got.out" | head -n 10)"
        fi
    fi
}

# ---- broken files -----------------------------------------------------------------------------
# Cut inside the body of the 4th rows event.
head -c $(((W4 + W4_END) / 2)) "$W/good.000001" >"$W/cut-body.000001"
expect_failure "truncated inside an event body" "$W/cut-body.000001" "$W4"

# Cut inside its 19-byte header.
head -c $((W4 + 10)) "$W/good.000001" >"$W/cut-header.000001"
expect_failure "truncated inside an event header" "$W/cut-header.000001" "$W4"

# One byte flipped inside the body of the 4th rows event: its CRC32 no longer matches.
flip_at=$((W4 + 19 + 3))
{
    head -c "$flip_at" "$W/good.000001"
    b=$(od -An -tu1 -j "$flip_at" -N1 "$W/good.000001" | tr -d ' ')
    # shellcheck disable=SC2059
    printf "$(printf '\\%03o' $((b ^ 255)))"
    tail -c $((SIZE - flip_at - 1)) "$W/good.000001"
} >"$W/flipped.000001"
if [ "$(wc -c <"$W/flipped.000001" | tr -d ' ')" != "$SIZE" ] || cmp -s "$W/good.000001" "$W/flipped.000001"; then
    not_ok "flipped byte: test file" "the copy with one byte changed is wrong"
else
    expect_failure "one byte flipped (CRC32 mismatch)" "$W/flipped.000001" "$W4"
    if grep -qi 'crc\|checksum' "$W/bad.err"; then
        ok "one byte flipped: the message says checksum"
    else
        not_ok "one byte flipped: the message says checksum" "stderr: $(head -n 2 "$W/bad.err")"
    fi
fi

# Files that are not binlogs.
printf 'this is not a binlog\n' >"$W/notes.txt"
expect_failure "text file" "$W/notes.txt" 0
: >"$W/empty.000001"
expect_failure "empty file" "$W/empty.000001" 0

# An error in the second file names the second file.
cp "$W/cut-body.000001" "$W/second.000002"
rc=0
"$SLUICE" decode "$W/good.000001" "$W/second.000002" >/dev/null 2>"$W/bad.err" || rc=$?
if [ "$rc" = 1 ] && grep -q 'second\.000002' "$W/bad.err" && grep -qw "$W4" "$W/bad.err"; then
    ok "error in the second of two files names that file and offset"
else
    not_ok "error in the second of two files names that file and offset" "exit $rc" "$(head -n 2 "$W/bad.err")"
fi

# ---- positions --------------------------------------------------------------------------------
# range_ids NAME WANT ARGS...: the inserted ids decoded with ARGS must be WANT.
range_ids() {
    _name=$1 _want=$2
    shift 2
    _rc=0
    "$SLUICE" decode "$@" "$W/good.000001" >"$W/range.out" 2>"$W/range.err" || _rc=$?
    _got=$(jq -r 'select(.type == "insert") | .data.id' "$W/range.out" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')
    if [ "$_rc" -ne 0 ]; then
        not_ok "$_name" "exit status $_rc" "$(head -n 3 "$W/range.err")"
    elif [ "$_got" = "$_want" ]; then
        ok "$_name: ids [$_got]"
    else
        not_ok "$_name" "want inserted ids [$_want], got [$_got]" "$(head -n 5 "$W/range.out")"
    fi
}
range_ids "--start-position at a transaction's GTID" "3 4 5 6" --start-position "$G_ID3"
range_ids "--stop-position at a transaction's GTID" "1 2" --stop-position "$G_ID3"
range_ids "--start-position and --stop-position" "3 4" --start-position "$G_ID3" --stop-position "$G_ID5"
range_ids "--start-position at a rows event (table map before it)" "3 4" --start-position "$W_ID3" --stop-position "$W_ID5"
range_ids "--stop-position at a rows event" "2 3 4" --start-position "$G_ID2" --stop-position "$W_ID5"
range_ids "--start-position 4 (the first event)" "1 2 3 4 5 6" --start-position 4
range_ids "--stop-position past the end" "1 2 3 4 5 6" --stop-position 999999999

# Every line decoded with --start-position at a rows event has its pos in the range, the right
# column names, and the event offsets the server lists.
"$SLUICE" decode --events all --start-position "$W_ID3" --stop-position "$W_ID5" "$W/good.000001" >"$W/range.out" 2>/dev/null || true
bad=$(jq -c --argjson a "$W_ID3" --argjson b "$W_ID5" \
    'select((.pos | sub("^.*:"; "") | tonumber) as $p | $p < $a or $p >= $b)' "$W/range.out" | head -n 3)
offs=$(cut -f 1 "$W/events" | tr '\n' ' ')
notlisted=$(jq -r '.pos | sub("^.*:"; "")' "$W/range.out" | while read -r p; do
    case " $offs " in *" $p "*) ;; *) echo "$p" ;; esac
done | head -n 3)
names=$(jq -c 'select(.type == "insert") | .data | keys' "$W/range.out" | sort -u | tr '\n' ' ')
if [ -n "$bad" ]; then
    not_ok "--events all with a range: every pos in [start, stop)" "$bad"
elif [ -n "$notlisted" ]; then
    not_ok "--events all with a range: every pos is an event offset of SHOW BINLOG EVENTS" "$notlisted"
elif [ "$names" != '["amount","id","name"] ' ]; then
    not_ok "--events all with a range: column names known from the earlier table map" "$names"
else
    ok "--events all with a range: $(wc -l <"$W/range.out" | tr -d ' ') lines, pos in range and at server event offsets, column names known"
fi

# ---- usage errors -----------------------------------------------------------------------------
# usage_error NAME ARGS...: exit status 2 and a message on stderr.
usage_error() {
    _name=$1
    shift
    _rc=0
    "$SLUICE" "$@" >"$W/use.out" 2>"$W/use.err" </dev/null || _rc=$?
    if [ "$_rc" = 2 ] && [ -s "$W/use.err" ] && [ ! -s "$W/use.out" ]; then
        ok "$_name: exit 2, \"$(head -n 1 "$W/use.err" | cut -c1-120)\""
    else
        not_ok "$_name: exit 2 with a message on stderr" "exit status $_rc" \
            "stderr: $(head -n 2 "$W/use.err")" "stdout: $(head -c 200 "$W/use.out")"
    fi
}
usage_error "unknown option" decode --bogus "$W/good.000001"
usage_error "--events with a bad value" decode --events sometimes "$W/good.000001"
usage_error "--start-position not a number" decode --start-position abc "$W/good.000001"
usage_error "--stop-position without a value" decode --stop-position
usage_error "no file" decode
usage_error "unknown command" frobnicate
rc=0
"$SLUICE" decode "$W/no-such-file.000001" >/dev/null 2>"$W/use.err" || rc=$?
if [ "$rc" = 1 ] && grep -q 'no-such-file\.000001' "$W/use.err"; then
    ok "file that does not exist: the message names it"
else
    not_ok "file that does not exist: the message names it" "$(head -n 2 "$W/use.err")"
fi

test_done
