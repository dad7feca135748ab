#!/bin/sh
# run.sh SECONDS — build the fuzz targets and run them for SECONDS in all (default 60): the
# decoder for five sixths of it, the client protocol's frame handling (fuzz_frames, see below)
# for the rest (at least 1 s).
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
# The total stays SECONDS: fuzz_frames takes a sixth (at least 1 s when SECONDS > 1).
FRAMES_SECONDS=$((SECONDS_TO_RUN / 6))
[ "$FRAMES_SECONDS" -eq 0 ] && [ "$SECONDS_TO_RUN" -gt 1 ] && FRAMES_SECONDS=1
SECONDS_TO_RUN=$((SECONDS_TO_RUN - FRAMES_SECONDS))

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
OUT=build/fuzz
TESTDATA=${FUZZ_TESTDATA:-$ROOT/../shared/testdata/binlog}
CC_FUZZ=${CC_FUZZ:-clang}
# The library links every src/*.c, the replica connection (libmariadb) included.
MARIADB_CFLAGS=$(pkg-config --cflags libmariadb 2>/dev/null || echo -I/usr/include/mariadb)
MARIADB_LIBS=$(pkg-config --libs libmariadb 2>/dev/null || echo -lmariadb)
CFLAGS_FUZZ="-g -O1 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Isrc -Isrc/util -Iinclude $MARIADB_CFLAGS"
# The client protocol server and `sluice consume` (in src/) need libssl, libcrypto and the client
# library.
CRYPTO_LIBS=$(pkg-config --libs libssl libcrypto 2>/dev/null || echo -lssl -lcrypto)
mkdir -p "$OUT/corpus" "$OUT/crashes"

notok() {
    echo "not ok - fuzz decoder: $*"
    exit 1
}

command -v "$CC_FUZZ" >/dev/null 2>&1 || notok "$CC_FUZZ not found (run scripts/install-deps.sh)"

# Build (again only when a source is newer than the binary).
# Every source the library is made of (as the Makefile's LIB_SRCS), main.c aside.
SRCS=
for f in src/*.c src/util/*.c meta/*.c sinks/*.c src/client/sluice_client.c src/client/discover.c; do
    [ -f "$f" ] || continue
    [ "$f" = src/main.c ] || SRCS="$SRCS $f"
done
if [ ! -x "$OUT/fuzz_decoder" ] ||
    [ -n "$(find src meta sinks test/fuzz -name '*.[ch]' -newer "$OUT/fuzz_decoder" | head -1)" ]; then
    echo "# building $OUT/fuzz_decoder"
    # shellcheck disable=SC2086
    if ! $CC_FUZZ $CFLAGS_FUZZ -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        -DTHREADED -o "$OUT/fuzz_decoder" test/fuzz/fuzz_decoder.c $SRCS -lzstd -lz -lm -lyaml -lrdkafka -lmicrohttpd \
        -lzookeeper_mt $MARIADB_LIBS $CRYPTO_LIBS \
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

# ---- fuzz_frames: the client protocol server's request handling ------------------------------
# test/fuzz/fuzz_frames.c includes src/server.c (its statics), so that file is left out here.
[ "$FRAMES_SECONDS" -gt 0 ] || exit 0
CRYPTO_LIBS=$(pkg-config --libs libssl libcrypto 2>/dev/null || echo -lssl -lcrypto)
FSRCS=
for f in $SRCS; do
    [ "$f" = src/server.c ] || FSRCS="$FSRCS $f"
done
if [ ! -x "$OUT/fuzz_frames" ] ||
    [ -n "$(find src meta sinks test/fuzz -name '*.[ch]' -newer "$OUT/fuzz_frames" | head -1)" ]; then
    echo "# building $OUT/fuzz_frames"
    # shellcheck disable=SC2086
    if ! $CC_FUZZ $CFLAGS_FUZZ -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        -DTHREADED -o "$OUT/fuzz_frames" test/fuzz/fuzz_frames.c $FSRCS -lzstd -lz -lm -lyaml -lmicrohttpd \
        -lrdkafka -lzookeeper_mt $MARIADB_LIBS $CRYPTO_LIBS >"$OUT/build-frames.log" 2>&1; then
        cat "$OUT/build-frames.log"
        echo "not ok - fuzz frames: build failed"
        exit 1
    fi
fi
# Seeds: a logged-in session using every request, and a handshake.
seed() {
    _f=$1
    shift
    # shellcheck disable=SC2059
    printf "$(printf '\\%03o' "$@")" >"$_f"
}
mkdir -p "$OUT/frames-seeds" "$OUT/frames-corpus"
seed "$OUT/frames-seeds/session" 1 \
    0 0 0 13 16 0 4 100 101 109 111 0 2 99 49 0 0 \
    0 0 0 13 18 0 0 0 10 0 0 0 0 0 0 0 0 \
    0 0 0 9 20 0 0 0 0 0 0 0 1 \
    0 0 0 9 22 0 0 0 0 0 0 0 0 \
    0 0 0 9 24 0 0 0 0 0 0 0 7 \
    0 0 0 1 26
seed "$OUT/frames-seeds/hello" 0 0 0 0 43 2 0 1 0 6 114 101 97 100 101 114 \
    0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
echo "# fuzzing frames for $FRAMES_SECONDS s (log: $OUT/fuzz-frames.log)"
rc=0
"$OUT/fuzz_frames" -max_total_time="$FRAMES_SECONDS" -rss_limit_mb=2048 -max_len=4096 \
    -timeout=10 -print_final_stats=1 -artifact_prefix="$OUT/crashes/frames-" \
    "$OUT/frames-corpus" "$OUT/frames-seeds" >"$OUT/fuzz-frames.log" 2>&1 || rc=$?
RUNS=$(awk '/^stat::number_of_executed_units:/ { print $NF }' "$OUT/fuzz-frames.log" | tail -1)
if [ $rc -ne 0 ]; then
    awk '/ERROR:|runtime error:/ { on = 1 } on { print } /^SUMMARY:/ { on = 0 }' \
        "$OUT/fuzz-frames.log" | head -60
    ART=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$OUT/fuzz-frames.log" | tail -1)
    echo "not ok - fuzz frames: crash after ${RUNS:-?} runs: ${ART:-see $OUT/fuzz-frames.log}"
    exit 1
fi
echo "ok - fuzz frames ${RUNS:-?} runs"
