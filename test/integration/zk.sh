# test/integration/zk.sh — a throw-away ZooKeeper for the cluster tests (Debian's zookeeper
# package: /usr/share/java/zookeeper.jar, Java). Sourced after lib.sh, not run.
#
#   zk_up      standalone server on 127.0.0.1 with a free port, data in $TEST_TMP/zk, admin
#              server off, tickTime 500 (sessions of 1-20 s allowed); waits until it serves
#              (`srvr` says Mode: standalone). Sets ZK_PORT, ZK_PID, ZK_SERVERS. Stopped at exit.
#   zk_down    SIGTERM to $ZK_PID, wait up to 10 s, then SIGKILL.
#   zk_restart_up  after zk_down: the same server again (same port and data: the sessions it
#              knew are restored, their timeouts restarted), waiting until it serves.
#   zk_file_cfg NAME NODE ADMIN_PORT SINK  $W/NAME.yaml: daemon NODE (admin on ADMIN_PORT,
#              data in $W/var-NAME) running instance "demo" of cluster "prod" (session timeout
#              $TMO) from MariaDB into a json file sink at SINK.
#   zk_cli CMD ARG...  one command of ZooKeeper's Java CLI (~1 s; its stderr dropped).
#   zk_get PATH  the data of a node (empty when missing), through the Java CLI.
#   zk_ls PATH   the children of a node as the CLI lists them ("[a, b]"; empty when missing).
#   zk_rebuild FILE...  a table (columns id, v) replayed from json-format change lines in the
#              files, in order, skipping every change at or before the greatest (file, offset,
#              row) already applied (the repeats after a takeover): "id<TAB>v" lines, sorted.
#   state_of PORT  the first instance's state as the daemon with admin port PORT reports it.
#   wait_port_state PORT STATE TIMEOUT_S  until state_of PORT is STATE (0) or the time is up (1).
#   zk_check_rebuilt TABLE LABEL FILE...  a check: zk_rebuild FILE... equals SELECT id, v.
#              Needs W (a work dir).
ZK_JAR=${ZK_JAR:-/usr/share/java/zookeeper.jar}

zk_up() {
    if [ ! -r "$ZK_JAR" ] || ! command -v java >/dev/null 2>&1; then
        echo "zk_up: $ZK_JAR or java missing (scripts/install-deps.sh installs zookeeper)" >&2
        return 1
    fi
    _zd=$TEST_TMP/zk
    mkdir -p "$_zd/data"
    ZK_PORT=$(free_port) || return 1
    cat >"$_zd/zoo.cfg" <<ZEOF
tickTime=500
minSessionTimeout=1000
maxSessionTimeout=20000
dataDir=$_zd/data
clientPort=$ZK_PORT
clientPortAddress=127.0.0.1
admin.enableServer=false
ZEOF
    ZK_SERVERS=127.0.0.1:$ZK_PORT
    zk_restart_up
}

zk_restart_up() {
    _zd=$TEST_TMP/zk
    _cp=$ZK_JAR
    [ -r /usr/share/java/slf4j-simple.jar ] && _cp="$_cp:/usr/share/java/slf4j-simple.jar"
    java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.net.preferIPv4Stack=true \
        -cp "$_cp" org.apache.zookeeper.server.ZooKeeperServerMain "$_zd/zoo.cfg" \
        >>"$_zd/zk.log" 2>&1 </dev/null &
    ZK_PID=$!
    [ -z "${SLUICE_TEST_PIDFILE:-}" ] || echo "$ZK_PID" >>"$SLUICE_TEST_PIDFILE"
    _end=$(($(date +%s) + 30))
    while [ "$(date +%s)" -lt $_end ]; do
        if ! alive "$ZK_PID"; then
            echo "zk_up: ZooKeeper exited:" >&2
            tail -n 20 "$_zd/zk.log" >&2
            return 1
        fi
        # Listening is not yet serving: the server binds its port before it loads its data
        # and snapshots it (fsync), which can take seconds on a busy machine.
        if zk_serving; then
            return 0
        fi
        sleep 0.1
    done
    echo "zk_up: ZooKeeper did not serve within 30 s" >&2
    return 1
}

# zk_serving: 0 when the server on ZK_PORT answers `srvr` (the one four-letter command allowed by
# default) as a serving standalone server.
zk_serving() {
    perl -MIO::Socket::INET -e '
        $SIG{ALRM} = sub { exit 1 };
        alarm 2;
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]", Timeout => 1) or exit 1;
        print $s "srvr";
        local $/;
        my $r = <$s> // "";
        exit($r =~ /^Mode: standalone/m ? 0 : 1);' "$ZK_PORT" 2>/dev/null
}

zk_down() {
    [ -n "${ZK_PID:-}" ] || return 0
    kill -TERM "$ZK_PID" 2>/dev/null || true
    _n=0
    while alive "$ZK_PID" && [ $_n -lt 100 ]; do
        sleep 0.1
        _n=$((_n + 1))
    done
    if alive "$ZK_PID"; then kill -KILL "$ZK_PID" 2>/dev/null || true; fi
    wait "$ZK_PID" 2>/dev/null || true
    ZK_PID=
}
at_exit zk_down

zk_file_cfg() {
    cat >"$W/$1.yaml" <<YEOF
node: {name: $2}
admin: {listen: "127.0.0.1:$3"}
data_dir: $W/var-$1
instances:
  - name: demo
    source: {host: 127.0.0.1, port: $MARIADB_PORT, user: cdc, password: cdcpass, heartbeat_ms: 500}
    start: earliest
    positions: {store: zookeeper, servers: "$ZK_SERVERS", root: /sluice, cluster: prod,
                session_timeout_ms: $TMO, save_interval_ms: 100}
    sinks:
      - {type: file, path: $4, format: json}
YEOF
}

zk_cli() {
    java -cp "$ZK_JAR" org.apache.zookeeper.ZooKeeperMain -server "$ZK_SERVERS" "$@" 2>/dev/null
}

zk_get() {
    zk_cli get "$1" | grep -v '^WATCHER\|^WatchedEvent\|^$\|^Connecting\|^JLine' || true
}

zk_ls() {
    zk_cli ls "$1" | grep '^\[' || true
}

zk_rebuild() {
    cat "$@" | jq -n -r '
      reduce (inputs | select(.type == "insert" or .type == "update" or .type == "delete")) as $l
        ({max: null, t: {}};
         ($l.pos | split(":")) as $p
         | [($p[0] | split(".") | .[-1] | tonumber), ($p[1] | tonumber), $l.row] as $k
         | if .max != null and $k <= .max then .
           else .max = $k
             | if $l.type == "delete" then del(.t[$l.data.id | tostring])
               else .t[$l.data.id | tostring] = $l.data.v end
           end)
      | .t | to_entries[] | "\(.key)\t\(.value)"' | LC_ALL=C sort
}

zk_check_rebuilt() {
    _zt=$1 _zl=$2
    shift 2
    sql "SELECT id, v FROM $_zt" | LC_ALL=C sort >"$W/want"
    zk_rebuild "$@" >"$W/got"
    if cmp -s "$W/want" "$W/got"; then
        ok "$_zl ($(wc -l <"$W/want" | tr -d ' ') rows)"
    else
        not_ok "$_zl" "$(wc -l <"$W/want") rows in SELECT, $(wc -l <"$W/got") rebuilt" \
            "$(diff "$W/want" "$W/got" | head -n 8)"
    fi
}

state_of() {
    "$SLUICE" status --admin "127.0.0.1:$1" --json 2>/dev/null | jq -r '.instances[0].state' 2>/dev/null || true
}

wait_port_state() {
    _end=$(($(date +%s) + $3))
    while [ "$(state_of "$1")" != "$2" ]; do
        [ "$(date +%s)" -ge "$_end" ] && return 1
        sleep 0.1
    done
}
