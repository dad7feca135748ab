#!/bin/sh
# Transactions as MariaDB writes them, decoded with --events all: XA (prepare, then commit or
# rollback; one phase), savepoints rolled back, a non-transactional MyISAM table (BEGIN/COMMIT
# query events), DDL. Checked against the server itself:
#   - the XA lines carry the statements SHOW BINLOG EVENTS shows for the same events;
#   - every row change lies between a begin and its commit/rollback, under the begin's GTID;
#   - replaying the decoded row changes gives the tables SELECT returns.
set -eu
. "$(dirname "$0")/lib.sh"

need_cmd mariadb-install-db mariadbd mariadb mariadb-admin jq
W=$TEST_TMP/w
mkdir -p "$W"
start_mariadb "$TEST_TMP/db" --binlog-row-metadata=FULL
sql "CREATE DATABASE x;
CREATE TABLE x.t (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB;
CREATE TABLE x.m (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=MyISAM;
XA START 'a1'; INSERT INTO x.t VALUES (1, 'one'); XA END 'a1'; XA PREPARE 'a1'; XA COMMIT 'a1';
XA START 'b2'; INSERT INTO x.t VALUES (2, 'two'); XA END 'b2'; XA PREPARE 'b2'; XA ROLLBACK 'b2';
XA START 'c3'; INSERT INTO x.t VALUES (3, 'three'); XA END 'c3'; XA COMMIT 'c3' ONE PHASE;
BEGIN; INSERT INTO x.t VALUES (4, 'four'); SAVEPOINT s1; INSERT INTO x.t VALUES (5, 'five');
  ROLLBACK TO SAVEPOINT s1; INSERT INTO x.t VALUES (6, 'six'); COMMIT;
BEGIN; INSERT INTO x.t VALUES (7, 'seven'); ROLLBACK;
INSERT INTO x.m VALUES (1, 'my'), (2, 'isam');
UPDATE x.m SET v = 'ISAM' WHERE id = 2;
BEGIN; UPDATE x.t SET v = 'FOUR' WHERE id = 4; DELETE FROM x.t WHERE id = 6; COMMIT;
FLUSH BINARY LOGS;"
BINLOG=$(binlog_files | head -n 1)
sql_run --skip-raw -e "SHOW BINLOG EVENTS IN '$(basename "$BINLOG")'" |
    awk -F'\t' '$3 == "XA_prepare" || $6 ~ /^XA (COMMIT|ROLLBACK)/ { print $6 }' >"$W/xa.want"
sql "SELECT id, v FROM x.t ORDER BY id" >"$W/t.want"
sql "SELECT id, v FROM x.m ORDER BY id" >"$W/m.want"
mariadb_down "$TEST_TMP/db"

if ! "$SLUICE" decode --events all "$BINLOG" >"$W/all" 2>"$W/err"; then
    not_ok "decode exits 0" "$(head -3 "$W/err")"
    exit 1
fi
ok "decode exits 0 ($(wc -l <"$W/all") lines)"

jq -r 'select(.type == "commit" or .type == "rollback") | .sql // empty | select(startswith("XA"))' \
    "$W/all" >"$W/xa.got"
if [ -s "$W/xa.want" ] && cmp -s "$W/xa.want" "$W/xa.got"; then
    ok "XA prepare/commit/rollback lines carry the server's statements ($(wc -l <"$W/xa.got"))"
else
    not_ok "XA statements = SHOW BINLOG EVENTS" "want: $(tr '\n' '|' <"$W/xa.want")" \
        "got:  $(tr '\n' '|' <"$W/xa.got")"
fi

# Every row change between a begin and a commit/rollback, with the begin's GTID.
bad=$(jq -rs '
    reduce .[] as $e ({open: null, bad: []};
      if $e.type == "begin" then .open = $e.gtid
      elif ($e.type == "commit" or $e.type == "rollback") then .open = null
      elif ($e.type == "insert" or $e.type == "update" or $e.type == "delete") then
        (if .open == null or .open != $e.gtid then .bad += [$e.pos] else . end)
      else . end) | .bad | join(" ")' "$W/all")
if [ -z "$bad" ]; then
    ok "every row change lies inside its transaction, under its GTID"
else
    not_ok "row changes outside a begin/commit pair" "at $bad"
fi

# Replay: the decoded row changes of each table give its final SELECT. (XA b2 was prepared
# and then rolled back: its row is in the binlog before the ROLLBACK, so the replay applies
# row changes only of transactions that did not end in a rollback.)
for tb in t m; do
    jq -rs --arg tb "$tb" '
        [foreach .[] as $e ({txn: [], done: []};
            if $e.type == "begin" then .txn = []
            elif $e.type == "commit" and (($e.sql // "") | startswith("XA PREPARE")) then .
            elif $e.type == "commit" then .done = .txn | .txn = []
            elif $e.type == "rollback" then .done = [] | .txn = []
            elif $e.table == $tb then .txn += [$e] | .done = []
            else .done = [] end;
            .done[])]
        | reduce .[] as $e ({};
            if $e.type == "delete" then del(.[($e.data.id | tostring)])
            else .[($e.data.id | tostring)] = $e.data.v end)
        | to_entries | sort_by(.key | tonumber) | .[] | "\(.key)\t\(.value)"' "$W/all" >"$W/$tb.got"
    if cmp -s "$W/$tb.want" "$W/$tb.got"; then
        ok "replayed x.$tb = SELECT ($(wc -l <"$W/$tb.got") rows)"
    else
        not_ok "replayed x.$tb = SELECT" "want: $(tr '\n\t' '| ' <"$W/$tb.want")" \
            "got:  $(tr '\n\t' '| ' <"$W/$tb.got")"
    fi
done
test_done
