#!/bin/sh
# quickstart.sh — the README's first command: sluice running for real on a local default.
#
# On a fresh Debian 12, as root, from the repository: installs the packages
# (scripts/install-deps.sh), builds bin/sluice, starts a throw-away MariaDB on 127.0.0.1 (ROW
# binlog, default metadata: column names come from sluice's schema tracking), creates a `cdc`
# user with the replication grants, starts a local Kafka (bin/sluice-kafka-mock: librdkafka's
# mock cluster, 3 brokers), runs `sluice run --config conf/quickstart.yaml` (ports filled in)
# in a temp dir, makes some changes, and shows them read back from Kafka with kcat (canal
# flatMessage format) and arriving in the file sink (json), then `sluice status` and the saved
# positions. Everything it started is stopped, by PID, and the
# temp dir removed at exit, however the script ends. Not root: the install step is skipped.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

if [ "$(id -u)" = 0 ]; then
    sh scripts/install-deps.sh
else
    echo "quickstart.sh: not root, skipping scripts/install-deps.sh" >&2
fi
make -s
SLUICE=$ROOT/bin/sluice
KAFKA_MOCK=$ROOT/bin/sluice-kafka-mock

. "$ROOT/test/integration/lib.sh"

echo "== starting a throw-away MariaDB in $TEST_TMP"
mariadb_up "$TEST_TMP/mariadb"
echo "== mariadbd PID $MARIADB_PID listening on 127.0.0.1:$MARIADB_PORT"
sql "CREATE USER cdc@'127.0.0.1' IDENTIFIED BY 'cdcpass';
GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO cdc@'127.0.0.1';"

echo "== starting a local Kafka (librdkafka's mock cluster, 3 brokers)"
kafka_up
echo "== sluice-kafka-mock PID $KAFKA_PID, brokers $KAFKA_BROKERS"

ADMIN_PORT=$(free_port)
RUN=$TEST_TMP/run
mkdir -p "$RUN"
sed -e "s/port: 3306/port: $MARIADB_PORT/" -e "s/127.0.0.1:11112/127.0.0.1:$ADMIN_PORT/" \
    -e "s/127.0.0.1:9092/$KAFKA_BROKERS/" conf/quickstart.yaml >"$RUN/quickstart.yaml"
echo "== conf/quickstart.yaml with MariaDB port $MARIADB_PORT, Kafka $KAFKA_BROKERS and admin port $ADMIN_PORT"
cd "$RUN"
"$SLUICE" run --config quickstart.yaml 2>"$RUN/sluice.log" &
SLUICE_PID=$!
echo "$SLUICE_PID" >>"${SLUICE_TEST_PIDFILE:-/dev/null}"
at_exit "kill $SLUICE_PID 2>/dev/null; wait $SLUICE_PID 2>/dev/null"
echo "== sluice run PID $SLUICE_PID"

i=0
until "$SLUICE" status --admin "127.0.0.1:$ADMIN_PORT" 2>/dev/null | grep -q ': streaming'; do
    i=$((i + 1))
    if [ $i -gt 100 ]; then
        echo "sluice did not reach state streaming in 10 s; its log:" >&2
        cat "$RUN/sluice.log" >&2
        exit 1
    fi
    sleep 0.1
done

DEMO_SQL="CREATE DATABASE shop;
CREATE TABLE shop.orders (
  id INT UNSIGNED PRIMARY KEY,
  customer VARCHAR(40) CHARACTER SET utf8mb4,
  total DECIMAL(10,2),
  status ENUM('new', 'paid', 'shipped'),
  created DATETIME(3)
);
INSERT INTO shop.orders VALUES
  (1, 'Ada', 12.50, 'new', '2024-05-01 10:00:00.123'),
  (2, 'Grace', 99.99, 'new', '2024-05-01 10:05:00.000');
BEGIN;
UPDATE shop.orders SET status = 'paid', total = 10.00 WHERE id = 1;
INSERT INTO shop.orders VALUES (3, 'Zoë 😀', 5.00, 'new', '2024-05-02 08:00:00.500');
COMMIT;
ALTER TABLE shop.orders ADD COLUMN note VARCHAR(20) AFTER customer;
INSERT INTO shop.orders VALUES (4, 'Linus', 'after the ALTER', 1.00, 'shipped', NOW(3));
DELETE FROM shop.orders WHERE id = 2;"
echo "== SQL"
printf '%s\n' "$DEMO_SQL"
sql "$DEMO_SQL"

echo "== arriving in var/demo.jsonl (the file sink)"
i=0
until [ -f var/demo.jsonl ] && grep -q '"type":"delete"' var/demo.jsonl; do
    i=$((i + 1))
    if [ $i -gt 100 ]; then
        echo "the changes did not arrive in 10 s; sluice's log:" >&2
        cat "$RUN/sluice.log" >&2
        exit 1
    fi
    sleep 0.1
done
cat var/demo.jsonl

echo "== read back from Kafka: kcat -C -b \$BROKERS -t sluice.shop.orders -e (key, then value)"
i=0
until [ "$(kcat -C -b "$KAFKA_BROKERS" -t sluice.shop.orders -e -q -f '%k\n' 2>/dev/null | wc -l)" -ge 6 ]; do
    i=$((i + 1))
    if [ $i -gt 50 ]; then
        echo "the changes did not arrive in Kafka in 10 s; sluice's log:" >&2
        cat "$RUN/sluice.log" >&2
        exit 1
    fi
    sleep 0.2
done
kcat -C -b "$KAFKA_BROKERS" -t sluice.shop.orders -e -q -f 'partition %p offset %o key %k\n%s\n'
echo "== and the DDL topic sluice.demo.ddl"
kcat -C -b "$KAFKA_BROKERS" -t sluice.demo.ddl -e -q -f '%s\n'

echo "== sluice status"
"$SLUICE" status --admin "127.0.0.1:$ADMIN_PORT"

echo "== stopping sluice (SIGTERM): it saves its positions"
kill -TERM "$SLUICE_PID"
wait "$SLUICE_PID" || true
echo "== sluice's log"
cat "$RUN/sluice.log"
echo "== sluice position show"
"$SLUICE" position show --config quickstart.yaml

cd "$ROOT"
echo "== stopping the local Kafka"
kafka_down
echo "== stopping mariadbd"
mariadb_down "$TEST_TMP/mariadb"
