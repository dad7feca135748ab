#!/bin/sh
# test-all.sh — everything CI runs (.ci/run calls it; the README's test command).
#
#   1. scripts/install-deps.sh (as root; skipped with a note otherwise)
#   2. make && make test                                   (normal build)
#   3. make SANITIZER=address && make test SANITIZER=address  (ASan+UBSan build, same tests)
#   4. make fuzz FUZZ_SECONDS=$FUZZ_SECONDS (default 30) when test/fuzz/run.sh exists
#   5. make style-check (clang-format 14)
# The last line sums both test runs and the fuzz run: "N passed, N failed" (", N skipped" when
# any were skipped); the exit status is 1 when anything failed, a build included.
# Environment: FUZZ_SECONDS (0 skips the fuzz run), TESTS (passed on to test/run.sh), JOBS
# (make -j, default the number of CPUs).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1

FUZZ_SECONDS=${FUZZ_SECONDS:-30}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/sluice-test-all.XXXXXX")
trap 'rm -rf "$LOGDIR"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PASSED=0
FAILED=0
SKIPPED=0
STEPS_FAILED=""
T0=$(date +%s)

step() { echo "=== $* ($(($(date +%s) - T0)) s)"; }

# fail_step NAME: a step that failed outside the counted tests (install, build).
fail_step() {
    FAILED=$((FAILED + 1))
    STEPS_FAILED="$STEPS_FAILED
  $1"
}

# run_logged NAME CMD...: runs CMD, output shown and kept in $LOGDIR/NAME; returns its status.
run_logged() {
    _name=$1
    shift
    { "$@" 2>&1; echo $? >"$LOGDIR/$_name.rc"; } | tee "$LOGDIR/$_name.log"
    return "$(cat "$LOGDIR/$_name.rc")"
}

# count NAME: adds the "N passed, N failed[, N skipped]" line of a test run to the totals.
count() {
    _line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$LOGDIR/$1.log" | tail -n 1)
    _rc=$(cat "$LOGDIR/$1.rc")
    if [ -z "$_line" ]; then
        fail_step "$1: no summary line (exit status $_rc)"
        return
    fi
    _p=$(echo "$_line" | sed -E 's/^([0-9]+) passed.*/\1/')
    _f=$(echo "$_line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
    _s=$(echo "$_line" | sed -nE 's/.*, ([0-9]+) skipped.*/\1/p')
    PASSED=$((PASSED + _p))
    FAILED=$((FAILED + _f))
    SKIPPED=$((SKIPPED + ${_s:-0}))
    if [ "$_f" -gt 0 ]; then
        STEPS_FAILED="$STEPS_FAILED
  $1: $_line$(grep '^# failed:' "$LOGDIR/$1.log" | tail -n 1 | sed 's/^# failed:/ —/')"
    elif [ "$_rc" -ne 0 ]; then
        fail_step "$1: exit status $_rc with no failed test"
    fi
}

# 1. packages
step "install-deps"
if [ "$(id -u)" = 0 ]; then
    run_logged install sh scripts/install-deps.sh || fail_step "scripts/install-deps.sh (exit $?)"
else
    echo "test-all.sh: not root, skipping scripts/install-deps.sh"
fi

# 2. normal build and tests
step "make (normal build)"
if run_logged build-default make -j"$JOBS"; then
    step "make test"
    run_logged test-default make -j"$JOBS" test
    count test-default
else
    fail_step "make (normal build)"
fi

# 3. ASan+UBSan build and the same tests
step "make SANITIZER=address"
if run_logged build-address make -j"$JOBS" SANITIZER=address; then
    step "make test SANITIZER=address"
    run_logged test-address make -j"$JOBS" test SANITIZER=address
    count test-address
else
    fail_step "make SANITIZER=address"
fi

# 4. fuzzing
if [ -f test/fuzz/run.sh ] && [ "$FUZZ_SECONDS" -gt 0 ]; then
    step "make fuzz FUZZ_SECONDS=$FUZZ_SECONDS"
    run_logged fuzz make fuzz FUZZ_SECONDS="$FUZZ_SECONDS"
    fuzz_rc=$(cat "$LOGDIR/fuzz.rc")
    if [ "$fuzz_rc" -eq 0 ] && ! grep -q '^not ok' "$LOGDIR/fuzz.log"; then
        PASSED=$((PASSED + 1))
    else
        fail_step "make fuzz: $(grep -E '^(not )?ok' "$LOGDIR/fuzz.log" | tail -n 1)"
    fi
fi

# 5. house style: clang-format 14 over every tracked C file
if command -v clang-format >/dev/null 2>&1; then
    step "make style-check"
    if run_logged style make style-check; then
        PASSED=$((PASSED + 1))
    else
        fail_step "make style-check (run make style, then commit)"
    fi
fi

step "done"
if [ -n "$STEPS_FAILED" ]; then
    echo "failed:$STEPS_FAILED"
fi
if [ "$SKIPPED" -gt 0 ]; then
    echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
else
    echo "$PASSED passed, $FAILED failed"
fi
[ "$FAILED" -eq 0 ]
