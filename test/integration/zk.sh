# test/integration/zk.sh — a throw-away ZooKeeper for the cluster tests (Debian's zookeeper
# package: /usr/share/java/zookeeper.jar, Java). Sourced after lib.sh, not run.
#
#   zk_up      standalone server on 127.0.0.1 with a free port, data in $TEST_TMP/zk, admin
#              server off, tickTime 500 (sessions of 1-10 s allowed); waits until it serves
#              (`srvr` says Mode: standalone). Sets ZK_PORT, ZK_PID, ZK_SERVERS. Stopped at exit.
#   zk_down    SIGTERM to $ZK_PID, wait up to 10 s, then SIGKILL.
#   zk_get PATH  the data of a node (empty when missing), through the Java CLI (~1 s).
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
    _cp=$ZK_JAR
    [ -r /usr/share/java/slf4j-simple.jar ] && _cp="$_cp:/usr/share/java/slf4j-simple.jar"
    java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.net.preferIPv4Stack=true \
        -cp "$_cp" org.apache.zookeeper.server.ZooKeeperServerMain "$_zd/zoo.cfg" \
        >>"$_zd/zk.log" 2>&1 </dev/null &
    ZK_PID=$!
    ZK_SERVERS=127.0.0.1:$ZK_PORT
    _n=0
    while [ $_n -lt 150 ]; do
        if ! alive "$ZK_PID"; then
            echo "zk_up: ZooKeeper exited:" >&2
            tail -n 20 "$_zd/zk.log" >&2
            return 1
        fi
        # Listening is not quite serving (the C client retries through that), so a moment more.
        if ! port_free "$ZK_PORT"; then
            sleep 0.3
            return 0
        fi
        sleep 0.1
        _n=$((_n + 1))
    done
    echo "zk_up: ZooKeeper did not serve within 15 s" >&2
    return 1
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

zk_get() {
    java -cp "$ZK_JAR" org.apache.zookeeper.ZooKeeperMain -server "$ZK_SERVERS" get "$1" 2>/dev/null |
        grep -v '^WATCHER\|^WatchedEvent\|^$\|^Connecting\|^JLine' || true
}
