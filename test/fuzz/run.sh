#!/bin/sh
# run.sh SECONDS — build the decoder fuzz target and run it for SECONDS (default 60).
#
# Builds build/fuzz/fuzz_decoder (clang libFuzzer + ASan + UBSan) from test/fuzz/fuzz_decoder.c
# and every src/*.c, src/util/*.c except src/main.c; seeds build/fuzz/seeds from the real
# binlogs in ../shared/testdata/binlog (or $FUZZ_TESTDATA) and cuts of them; keeps the growing
# corpus in build/fuzz/corpus between runs. Crashes, leaks and timeouts are written to
# build/fuzz/crashes/. Last line: "ok - fuzz decoder N runs" or "not ok - ...".
set -eu

SECONDS_TO_RUN=${1:-60}
case $SECONDS_TO_RUN in '' | *[!0-9]*)
    echo "usage: test/fuzz/run.sh SECONDS" >&2
    exit 2
    ;;
esac

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
OUT=build/fuzz
TESTDATA=${FUZZ_TESTDATA:-$ROOT/../shared/testdata/binlog}
CC_FUZZ=${CC_FUZZ:-clang}
# The library links every src/*.c, the replica connection (libmariadb) included.
MARIADB_CFLAGS=$(pkg-config --cflags libmariadb 2>/dev/null || echo -I/usr/include/mariadb)
MARIADB_LIBS=$(pkg-config --libs libmariadb 2>/dev/null || echo -lmariadb)
CFLAGS_FUZZ="-g -O1 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Isrc -Isrc/util $MARIADB_CFLAGS"
mkdir -p "$OUT/corpus" "$OUT/crashes"

notok() {
    echo "not ok - fuzz decoder: $*"
    exit 1
}

command -v "$CC_FUZZ" >/dev/null 2>&1 || notok "$CC_FUZZ not found (run scripts/install-deps.sh)"

# Build (again only when a source is newer than the binary).
# Every source the library is made of (as the Makefile's LIB_SRCS), main.c aside.
SRCS=
for f in src/*.c src/util/*.c meta/*.c sinks/*.c; do
    [ -f "$f" ] || continue
    [ "$f" = src/main.c ] || SRCS="$SRCS $f"
done
if [ ! -x "$OUT/fuzz_decoder" ] ||
    [ -n "$(find src meta sinks test/fuzz -name '*.[ch]' -newer "$OUT/fuzz_decoder" | head -1)" ]; then
    echo "# building $OUT/fuzz_decoder"
    # shellcheck disable=SC2086
    if ! $CC_FUZZ $CFLAGS_FUZZ -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        -o "$OUT/fuzz_decoder" test/fuzz/fuzz_decoder.c $SRCS -lzstd -lz -lm -lyaml -lrdkafka $MARIADB_LIBS \
        >"$OUT/build.log" 2>&1; then
        cat "$OUT/build.log"
        notok "build failed"
    fi
fi

# Seeds: the real binlogs and per-transaction cuts of them (once).
if [ ! -d "$OUT/seeds" ]; then
    if [ -d "$TESTDATA" ]; then
        echo "# cutting seeds from $TESTDATA"
        # shellcheck disable=SC2086
        $CC_FUZZ $CFLAGS_FUZZ -DFUZZ_SEED_MAIN -o "$OUT/fuzz_seeds" test/fuzz/fuzz_decoder.c ||
            notok "seed cutter build failed"
        mkdir -p "$OUT/seeds.tmp"
        find "$TESTDATA" -type f ! -name '*.tsv' ! -name '*.md' -exec "$OUT/fuzz_seeds" \
            "$OUT/seeds.tmp" {} + || notok "cutting seeds failed"
        mv "$OUT/seeds.tmp" "$OUT/seeds"
    else
        echo "# $TESTDATA not found: no seed corpus, fuzzing from scratch"
    fi
fi
SEEDS=
[ -d "$OUT/seeds" ] && SEEDS=$OUT/seeds

echo "# fuzzing for $SECONDS_TO_RUN s (log: $OUT/fuzz.log)"
rc=0
# shellcheck disable=SC2086
"$OUT/fuzz_decoder" -max_total_time="$SECONDS_TO_RUN" -rss_limit_mb=2048 -max_len=65536 \
    -timeout=10 -print_final_stats=1 -artifact_prefix="$OUT/crashes/" \
    "$OUT/corpus" $SEEDS >"$OUT/fuzz.log" 2>&1 || rc=$?

RUNS=$(awk '/^stat::number_of_executed_units:/ { print $NF }' \
    "$OUT/fuzz.log" | tail -1)
if [ $rc -ne 0 ]; then
    ART=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$OUT/fuzz.log" | tail -1)
    # The sanitizer report and the reproducer's first bytes.
    awk '/^fuzz_decoder:|^ALARM/ { print } /ERROR:|runtime error:/ { on = 1 } on { print }
        /^SUMMARY:/ { on = 0 }' "$OUT/fuzz.log" | head -60
    if [ -n "$ART" ] && [ -f "$ART" ]; then
        echo "# reproducer ($(wc -c <"$ART") bytes): $OUT/fuzz_decoder $ART"
        od -An -tx1 -v "$ART" | head -20
    fi
    notok "crash after ${RUNS:-?} runs: ${ART:-see $OUT/fuzz.log}"
fi
echo "ok - fuzz decoder ${RUNS:-?} runs"
