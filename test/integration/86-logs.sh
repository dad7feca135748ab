#!/bin/sh
# 86-logs.sh — the daemon's log file as an operator meets it: `log.debug` facilities at level
# info, size rotation settings accepted, logrotate's move + SIGHUP reopen (the daemon keeps
# running and writes to the new file), and the help: `sluice CMD --help` for every command,
# `sluice help --man` a man page that renders. (Rotation at the size, keep N and the facility
# filter itself are unit-tested in test/unit/test_log.c.)
#
# No database: the source is a port nothing listens on, so the instance keeps reconnecting
# and the daemon stays up; it is started and stopped by PID, every wait bounded.
set -eu
. "$(dirname "$0")/lib.sh"
W=$TEST_TMP/w
mkdir -p "$W"
LOG=$W/sluice.log
SRC_PORT=$(free_port)
ADMIN_PORT=$(free_port)

cat >"$W/run.yaml" <<YAML
log: {level: info, file: $LOG, max_mb: 1, keep: 2, debug: [inst, binlog]}
admin: {listen: "127.0.0.1:$ADMIN_PORT"}
data_dir: $W/var
instances:
  - name: logs
    source: {host: 127.0.0.1, port: $SRC_PORT, user: cdc, password: x, tls: {mode: disabled}}
    positions: {store: file, dir: $W/var/positions}
    sinks: [{type: file, path: $W/out.jsonl}]
YAML

# wait_for FILE PATTERN: up to 20 s for a line matching PATTERN in FILE.
wait_for() {
    _i=0
    while [ $_i -lt 200 ]; do
        if [ -f "$1" ] && grep -q "$2" "$1"; then
            return 0
        fi
        sleep 0.1
        _i=$((_i + 1))
    done
    return 1
}

"$SLUICE" run --config "$W/run.yaml" >"$W/stderr" 2>&1 &
PID=$!
echo "$PID" >>"${SLUICE_TEST_PIDFILE:-/dev/null}"
at_exit "kill $PID 2>/dev/null; wait $PID 2>/dev/null"

check "run writes its log to log.file" wait_for "$LOG" "INFO  MAIN sluice .* started"
check "the instance's connection failures are logged" wait_for "$LOG" "\[logs\]"
mv "$LOG" "$LOG.moved"
kill -HUP "$PID"
check "after mv + SIGHUP a new log file is started" wait_for "$LOG" "SIGHUP: log and file sinks reopened"
check "the moved file keeps the earlier lines" grep -q "started" "$LOG.moved"
check "the daemon is still running after SIGHUP" alive "$PID"
kill -TERM "$PID"
rc=0
wait "$PID" || rc=$?
check "SIGTERM: exit 0" [ "$rc" = 0 ]
check "the stop is logged in the new file" grep -q "INFO  MAIN stopped" "$LOG"
check "nothing on stderr when a log file is set" sh -c "! grep -q . '$W/stderr'"

# A misspelt facility stops start-up, with the line.
sed 's/debug: \[inst, binlog\]/debug: [instance]/' "$W/run.yaml" >"$W/bad.yaml"
rc=0
"$SLUICE" run --config "$W/bad.yaml" >"$W/bad.out" 2>&1 || rc=$?
check "log.debug with an unknown facility: exit 1, names key and line" \
    sh -c "[ $rc = 1 ] && grep -q 'bad.yaml:1: key \"log.debug\": \"instance\" is not one of' '$W/bad.out'"

# ---- help --------------------------------------------------------------------------------------
for cmd in run status position check-config decode dump config-doc version help; do
    rc=0
    "$SLUICE" "$cmd" --help >"$W/help.out" 2>&1 || rc=$?
    check "sluice $cmd --help: exit 0, usage and text" \
        sh -c "[ $rc = 0 ] && head -n 1 '$W/help.out' | grep -q '^usage: sluice $cmd' && [ \$(wc -l <'$W/help.out') -ge 3 ]"
done
"$SLUICE" position show --help >"$W/help.out" 2>&1
check "sluice position show --help gives the position help" grep -q "^options:" "$W/help.out"
"$SLUICE" help >"$W/help.out"
check "sluice help lists every command" sh -c "for c in run status position check-config decode dump config-doc version; do grep -q \"^  \$c \" '$W/help.out' || exit 1; done"
rc=0
"$SLUICE" help bogus >/dev/null 2>&1 || rc=$?
check "sluice help bogus: exit 2" [ "$rc" = 2 ]
"$SLUICE" help --man >"$W/sluice.1"
if command -v groff >/dev/null 2>&1; then
    groff -man -Tutf8 -ww -z "$W/sluice.1" 2>"$W/groff.err" || true
    check "the man page renders without warnings" sh -c "! grep -q . '$W/groff.err'"
else
    skip "the man page renders without warnings" "groff not installed"
fi
check "the man page has every option of dump" sh -c "grep -q 'heartbeat\\\\-ms' '$W/sluice.1'"
