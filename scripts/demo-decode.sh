#!/bin/sh
# demo-decode.sh — the README's quick start: a throw-away MariaDB, a few changes, decoded by
# `sluice decode` as JSON lines.
#
# On a fresh Debian 12, as root, from the repository: installs the packages
# (scripts/install-deps.sh), builds bin/sluice (make), starts mariadbd on 127.0.0.1 with a free
# port in a temp dir (ROW binlog, binlog_row_metadata=FULL), runs a few inserts, updates and
# deletes, prints the SQL and then `bin/sluice decode --events all` of the binlog. The server is
# stopped and the temp dir removed at exit, however the script ends. Not root: the install step
# is skipped (the packages must already be there).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

if [ "$(id -u)" = 0 ]; then
    sh scripts/install-deps.sh
else
    echo "demo-decode.sh: not root, skipping scripts/install-deps.sh" >&2
fi
make -s
SLUICE=$ROOT/bin/sluice

. "$ROOT/test/integration/lib.sh"

echo "== starting a throw-away MariaDB in $TEST_TMP"
mariadb_up "$TEST_TMP/mariadb" --binlog-row-metadata=FULL
echo "== mariadbd PID $MARIADB_PID listening on 127.0.0.1:$MARIADB_PORT"

DEMO_SQL="CREATE DATABASE shop;
CREATE TABLE shop.orders (
  id INT PRIMARY KEY,
  customer VARCHAR(40) CHARACTER SET utf8mb4,
  total DECIMAL(10,2),
  status ENUM('new', 'paid', 'shipped'),
  created DATETIME(3),
  note JSON
);
INSERT INTO shop.orders VALUES
  (1, 'Ada', 12.50, 'new', '2024-05-01 10:00:00.123', '{\"gift\": true}'),
  (2, 'Grace', 99.99, 'new', '2024-05-01 10:05:00.000', NULL);
BEGIN;
UPDATE shop.orders SET status = 'paid', total = 10.00 WHERE id = 1;
INSERT INTO shop.orders VALUES (3, 'Zoë 😀', 5.00, 'new', '2024-05-02 08:00:00.500', '[1, 2]');
COMMIT;
DELETE FROM shop.orders WHERE id = 2;"

echo "== SQL"
printf '%s\n' "$DEMO_SQL"
sql "$DEMO_SQL"
sql "FLUSH BINARY LOGS"

echo "== $SLUICE decode --events all $(binlog_files | sed 's|.*/||' | tr '\n' ' ')"
# shellcheck disable=SC2046
"$SLUICE" decode --events all $(binlog_files)

echo "== stopping mariadbd"
mariadb_down "$TEST_TMP/mariadb"
