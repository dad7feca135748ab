#!/bin/sh
# test/run.sh — sluice's test runner (`make test` calls it).
#
# Runs, one process per test, each under `timeout`:
#   1. every CUnit binary in $UNIT_DIR (test_*): each CUnit test case counts as one test, read
#      from the "Run Summary" tests row (Total Ran Passed Failed Inactive); a crash, a timeout,
#      a sanitizer report or any other non-zero exit without a failed case counts one failure;
#   2. every test/fixtures/*.sh and test/integration/NN-*.sh script (run with sh): each
#      "ok - ", "not ok - " and "skip - " line of its output counts one check; a script that
#      exits non-zero (or prints no check at all) without a "not ok" line counts one failure.
# Each test's output is printed indented; the last line is "N passed, N failed" (with
# ", N skipped" when any were skipped) and the exit status is 1 when anything failed.
#
# Environment:
#   SLUICE        binary under test (default bin/sluice), exported to the scripts
#   UNIT_DIR      directory of the unit test binaries (default build/default/test)
#   TESTS         only run tests whose name (unit/test_x, fixtures/10-x, integration/10-x)
#                 contains one of these space- or comma-separated shell patterns
#   TEST_TIMEOUT  seconds per script (default 900); UNIT_TIMEOUT per unit binary (default 300)
#   VALGRIND=1    run unit binaries and every sluice the scripts start under valgrind memcheck
#                 (an error or a definite leak fails the test); timeouts are multiplied by 10
#
# Servers that integration scripts start are recorded in $SLUICE_TEST_PIDFILE; any still alive
# when a script has ended (its cleanup did not run, e.g. after a SIGKILL) are killed here.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2

SLUICE=${SLUICE:-$ROOT/bin/sluice}
UNIT_DIR=${UNIT_DIR:-$ROOT/build/default/test}
TESTS=${TESTS:-}
TEST_TIMEOUT=${TEST_TIMEOUT:-900}
UNIT_TIMEOUT=${UNIT_TIMEOUT:-300}
VALGRIND=${VALGRIND:-}
export SLUICE UNIT_DIR

RUN_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-run.XXXXXX")
SLUICE_TEST_PIDFILE=$RUN_TMP/pids
: >"$SLUICE_TEST_PIDFILE"
export SLUICE_TEST_PIDFILE

# VALGRIND=1: memcheck around the unit binaries, and a wrapper that the scripts run as $SLUICE.
VG=""
if [ -n "$VALGRIND" ] && [ "$VALGRIND" != 0 ]; then
    command -v valgrind >/dev/null 2>&1 || { echo "run.sh: VALGRIND=1 but valgrind is not installed" >&2; exit 2; }
    VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"
    printf '#!/bin/sh\nexec %s %s "$@"\n' "$VG" "$SLUICE" >"$RUN_TMP/sluice-vg"
    chmod +x "$RUN_TMP/sluice-vg"
    SLUICE=$RUN_TMP/sluice-vg
    export SLUICE
    TEST_TIMEOUT=$((TEST_TIMEOUT * 10))
    UNIT_TIMEOUT=$((UNIT_TIMEOUT * 10))
fi

PASSED=0
FAILED=0
SKIPPED=0
FAILED_NAMES=""

kill_leftovers() {
    [ -s "$SLUICE_TEST_PIDFILE" ] || return 0
    while read -r pid; do
        case $pid in '' | *[!0-9]*) continue ;; esac
        [ -r "/proc/$pid/cmdline" ] || continue
        if tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'mariadbd'; then
            echo "    # killing server left running by the test: PID $pid"
            kill -KILL "$pid" 2>/dev/null
        fi
    done <"$SLUICE_TEST_PIDFILE"
    : >"$SLUICE_TEST_PIDFILE"
}

cleanup() {
    kill_leftovers
    rm -rf "$RUN_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# selected NAME: is NAME selected by $TESTS?
selected() {
    [ -z "$TESTS" ] && return 0
    for pat in $(printf '%s' "$TESTS" | tr ',' ' '); do
        # shellcheck disable=SC2254
        case $1 in *$pat*) return 0 ;; esac
    done
    return 1
}

# timeout's own exit status 124 means the limit was hit; 137 that it had to KILL.
describe_rc() {
    case $1 in
    0) echo "exit 0" ;;
    124) echo "timed out" ;;
    137) echo "killed after the time limit" ;;
    *) if [ "$1" -gt 128 ]; then echo "killed by signal $(($1 - 128))"; else echo "exit $1"; fi ;;
    esac
}

now() { date +%s; }

run_unit() {
    name=$1 bin=$2
    out=$RUN_TMP/out
    echo "# $name"
    t0=$(now)
    timeout -k 10 "$UNIT_TIMEOUT" $VG "$bin" >"$out" 2>&1 </dev/null
    rc=$?
    sed 's/^/    /' "$out"
    # "tests  Total Ran Passed Failed Inactive" after the "Run Summary:" header.
    summary=$(awk '/^Run Summary:/ { s = 1; next } s && $1 == "tests" { print $2, $3, $4, $5, $6; exit }' "$out")
    p=0 f=0 s=0
    if [ -n "$summary" ]; then
        # shellcheck disable=SC2086
        set -- $summary
        total=$1 ran=$2 p=$3 f=$4 s=$5
        # Cases that neither ran nor are inactive (a suite's init failed) are failures too.
        notrun=$((total - ran - s))
        [ "$notrun" -gt 0 ] && f=$((f + notrun))
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
            f=1
            echo "    not ok - $name: $(describe_rc "$rc") although every case passed"
        fi
    else
        f=1
        echo "    not ok - $name: $(describe_rc "$rc") without a CUnit Run Summary"
    fi
    PASSED=$((PASSED + p))
    FAILED=$((FAILED + f))
    SKIPPED=$((SKIPPED + s))
    [ "$f" -gt 0 ] && FAILED_NAMES="$FAILED_NAMES $name"
    echo "# $name: $p passed, $f failed ($(describe_rc "$rc"), $(($(now) - t0)) s)"
}

run_script() {
    name=$1 script=$2
    out=$RUN_TMP/out
    echo "# $name"
    t0=$(now)
    # Output is streamed (prefixed) as it comes, and kept for counting.
    { timeout -k 30 "$TEST_TIMEOUT" sh "$script" </dev/null 2>&1; echo $? >"$RUN_TMP/rc"; } |
        tee "$out" | sed 's/^/    /'
    rc=$(cat "$RUN_TMP/rc")
    kill_leftovers
    p=$(grep -c '^ok - ' "$out")
    f=$(grep -c '^not ok - ' "$out")
    s=$(grep -c '^skip - ' "$out")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "    not ok - $name: $(describe_rc "$rc") without a failed check"
    elif [ "$rc" -eq 0 ] && [ $((p + f + s)) -eq 0 ]; then
        f=1
        echo "    not ok - $name: reported no check"
    fi
    PASSED=$((PASSED + p))
    FAILED=$((FAILED + f))
    SKIPPED=$((SKIPPED + s))
    [ "$f" -gt 0 ] && FAILED_NAMES="$FAILED_NAMES $name"
    echo "# $name: $p passed, $f failed, $s skipped ($(describe_rc "$rc"), $(($(now) - t0)) s)"
}

echo "# sluice tests: SLUICE=$SLUICE UNIT_DIR=$UNIT_DIR${TESTS:+ TESTS=$TESTS}"
if [ ! -x "$SLUICE" ]; then
    echo "# warning: $SLUICE is not an executable file (run make first)"
fi

if [ -d "$UNIT_DIR" ]; then
    for bin in "$UNIT_DIR"/test_*; do
        if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then
            continue
        fi
        name=unit/$(basename "$bin")
        selected "$name" || continue
        run_unit "$name" "$bin"
    done
else
    echo "# no unit test directory $UNIT_DIR"
fi

for script in test/fixtures/*.sh test/integration/[0-9][0-9]-*.sh; do
    [ -f "$script" ] || continue
    case $script in */lib.sh) continue ;; esac
    name=${script#test/}
    name=${name%.sh}
    selected "$name" || continue
    run_script "$name" "$script"
done

[ -n "$FAILED_NAMES" ] && echo "# failed:$FAILED_NAMES"
if [ "$SKIPPED" -gt 0 ]; then
    echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
else
    echo "$PASSED passed, $FAILED failed"
fi
[ "$FAILED" -eq 0 ]
