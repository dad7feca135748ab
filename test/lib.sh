# test/lib.sh — reporting helpers for sluice's check scripts. Sourced, not run.
#
# A check script prints one line per check, which test/run.sh counts:
#   ok - NAME
#   not ok - NAME            (followed by "#   detail" lines)
#   skip - NAME: REASON
# Every helper returns 0, so scripts running under `set -eu` go on to their next check; the
# running totals are in TEST_PASSED, TEST_FAILED and TEST_SKIPPED, and `test_done` ends a
# script with status 1 when any check failed.

TEST_PASSED=0
TEST_FAILED=0
TEST_SKIPPED=0

# ok NAME...
ok() {
    TEST_PASSED=$((TEST_PASSED + 1))
    echo "ok - $*"
}

# not_ok NAME [DETAIL...]: each DETAIL argument (may span lines) is printed below, as "#   " lines.
not_ok() {
    TEST_FAILED=$((TEST_FAILED + 1))
    echo "not ok - $1"
    shift
    if [ $# -gt 0 ]; then
        printf '%s\n' "$@" | sed 's/^/#   /'
    fi
    return 0
}

# skip NAME REASON
skip() {
    TEST_SKIPPED=$((TEST_SKIPPED + 1))
    echo "skip - $1: $2"
}

# diag TEXT...: a comment line in the output (not counted).
diag() {
    printf '%s\n' "$*" | sed 's/^/# /'
}

# check NAME CMD [ARG...]: runs CMD; ok when it exits 0, else not ok with the exit status and
# the last 20 lines of its output.
check() {
    _check_name=$1
    shift
    _check_out=$(mktemp)
    if "$@" >"$_check_out" 2>&1; then
        ok "$_check_name"
    else
        _check_rc=$?
        not_ok "$_check_name" "command: $*" "exit status $_check_rc" "$(tail -n 20 "$_check_out")"
    fi
    rm -f "$_check_out"
    return 0
}

# check_fails NAME CMD [ARG...]: the opposite: ok when CMD exits non-zero.
check_fails() {
    _check_name=$1
    shift
    if "$@" >/dev/null 2>&1; then
        not_ok "$_check_name" "command: $*" "succeeded but should have failed"
    else
        ok "$_check_name"
    fi
    return 0
}

# test_done: exit 1 when a check failed, else 0.
test_done() {
    [ "$TEST_FAILED" -eq 0 ] || exit 1
    exit 0
}
