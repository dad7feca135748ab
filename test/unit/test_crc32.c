/*
 * test_crc32.c — unit tests for src/util/crc32.c: crc32_ieee() against zlib's crc32_z() for
 * every length 0..1100 at start offsets 0..15 (start value 0 and random ones), chained calls
 * split at every point, a few MiB, all-zero and all-0xff buffers, the standard check value and
 * several threads at once. Each case counts its mismatches and prints the first one.
 */
#include <CUnit/Basic.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "crc32.h"

#define MAXLEN 1100
#define BIG    ((size_t)5 << 20)

static unsigned char *rnd; /* BIG + 64 random bytes */

/* xorshift64*: the same bytes on every run. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rng32(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static uint32_t zlib_crc(uint32_t crc, const unsigned char *p, size_t len)
{
    return (uint32_t)crc32_z(crc, p, len);
}

/* Compares one call; on the first mismatch of a case prints it. */
static int
check(const char *what, uint32_t start, const unsigned char *p, size_t len, size_t off, int *bad)
{
    uint32_t want = zlib_crc(start, p, len);
    uint32_t got = crc32_ieee(start, p, len);
    if (got == want)
        return 0;
    if ((*bad)++ == 0)
        fprintf(stderr, "\n  %s: len %zu offset %zu start %08x: got %08x, zlib %08x\n", what, len,
                off, start, got, want);
    return 1;
}

static void test_check_value(void)
{
    CU_ASSERT_EQUAL(crc32_ieee(0, "123456789", 9), 0xCBF43926u);
    CU_ASSERT_EQUAL(crc32_ieee(0, "", 0), 0u);
    CU_ASSERT_EQUAL(crc32_ieee(0xdeadbeef, "", 0), 0xdeadbeefu);
    /* 64 bytes and more go the folding way (where the CPU has it): a known value there too. */
    static const char fox[] = "The quick brown fox jumps over the lazy dog. The quick brown fox "
                              "jumps over the lazy dog.";
    CU_ASSERT_EQUAL(crc32_ieee(0, fox, sizeof(fox) - 1), zlib_crc(0, (const void *)fox, 89));
}

static void test_lengths_offsets(void)
{
    int bad = 0;
    for (size_t off = 0; off < 16; off++)
        for (size_t len = 0; len <= MAXLEN; len++) {
            check("start 0", 0, rnd + off, len, off, &bad);
            check("random start", rng32(), rnd + off, len, off, &bad);
            check("start ~0", 0xffffffffu, rnd + off, len, off, &bad);
        }
    CU_ASSERT_EQUAL(bad, 0);
}

static void test_chained(void)
{
    int bad = 0;
    size_t n = MAXLEN;
    uint32_t whole = zlib_crc(0, rnd + 3, n);
    for (size_t k = 0; k <= n; k++) {
        uint32_t c = crc32_ieee(crc32_ieee(0, rnd + 3, k), rnd + 3 + k, n - k);
        if (c != whole && bad++ == 0)
            fprintf(stderr, "\n  split at %zu of %zu: got %08x, zlib %08x\n", k, n, c, whole);
    }
    /* Three pieces of random sizes, and a mix with zlib in the chain. */
    for (int i = 0; i < 2000; i++) {
        size_t a = rng32() % 300, b = rng32() % 300, c = rng32() % 300;
        const unsigned char *p = rnd + (rng32() % 16);
        uint32_t want = zlib_crc(0, p, a + b + c);
        uint32_t got = crc32_ieee(crc32_ieee(crc32_ieee(0, p, a), p + a, b), p + a + b, c);
        uint32_t mixed = crc32_ieee(zlib_crc(crc32_ieee(0, p, a), p + a, b), p + a + b, c);
        if ((got != want || mixed != want) && bad++ == 0)
            fprintf(stderr, "\n  pieces %zu+%zu+%zu: got %08x/%08x, zlib %08x\n", a, b, c, got,
                    mixed, want);
    }
    CU_ASSERT_EQUAL(bad, 0);
}

static void test_big(void)
{
    int bad = 0;
    check("big", 0, rnd, BIG, 0, &bad);
    check("big", 0, rnd + 7, BIG + 13, 7, &bad);
    check("big", 0x12345678u, rnd + 1, BIG - 1, 1, &bad);
    /* The same in 1 MiB + 5 byte pieces. */
    uint32_t c = 0;
    for (size_t at = 0; at < BIG; at += ((size_t)1 << 20) + 5) {
        size_t n = BIG - at < ((size_t)1 << 20) + 5 ? BIG - at : ((size_t)1 << 20) + 5;
        c = crc32_ieee(c, rnd + at, n);
    }
    CU_ASSERT_EQUAL(c, zlib_crc(0, rnd, BIG));
    CU_ASSERT_EQUAL(bad, 0);
}

static void test_uniform(void)
{
    static const size_t lens[] = {1,   15,  16,  63,  64,   65,   100,
                                  127, 128, 255, 256, 1000, 4096, 65536 + 3};
    unsigned char *buf = malloc(65536 + 16);
    int bad = 0;
    CU_ASSERT_FATAL(buf != NULL);
    for (int v = 0; v < 2; v++) {
        memset(buf, v ? 0xff : 0x00, 65536 + 16);
        for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
            check(v ? "all 0xff" : "all 0", 0, buf, lens[i], 0, &bad);
            check(v ? "all 0xff" : "all 0", 0xffffffffu, buf + 1, lens[i], 1, &bad);
        }
    }
    /* Fixed values, independent of zlib: 32 zero bytes and 32 0xff bytes. */
    memset(buf, 0, 32);
    CU_ASSERT_EQUAL(crc32_ieee(0, buf, 32), 0x190A55ADu);
    memset(buf, 0xff, 32);
    CU_ASSERT_EQUAL(crc32_ieee(0, buf, 32), 0xFF6CAB0Bu);
    free(buf);
    CU_ASSERT_EQUAL(bad, 0);
}

static void *thread_main(void *arg)
{
    size_t off = (size_t)(uintptr_t)arg;
    uintptr_t bad = 0;
    for (int i = 0; i < 50; i++)
        for (size_t len = 0; len <= MAXLEN; len += 37)
            bad += crc32_ieee(0, rnd + off, len) != zlib_crc(0, rnd + off, len);
    return (void *)bad;
}

static void test_threads(void)
{
    pthread_t t[4];
    uintptr_t bad = 0;
    for (uintptr_t i = 0; i < 4; i++)
        CU_ASSERT_FATAL(pthread_create(&t[i], NULL, thread_main, (void *)i) == 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        bad += (uintptr_t)r;
    }
    CU_ASSERT_EQUAL(bad, 0);
}

int main(void)
{
    rnd = malloc(BIG + 64);
    if (!rnd)
        return 1;
    for (size_t i = 0; i < BIG + 64; i++)
        rnd[i] = (unsigned char)rng32();
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("crc32", NULL, NULL);
    CU_add_test(s, "check value", test_check_value);
    CU_add_test(s, "lengths 0..1100 at offsets 0..15", test_lengths_offsets);
    CU_add_test(s, "chained calls", test_chained);
    CU_add_test(s, "a few MiB", test_big);
    CU_add_test(s, "all-zero and all-0xff buffers", test_uniform);
    CU_add_test(s, "several threads", test_threads);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned fails = CU_get_number_of_failures();
    CU_cleanup_registry();
    free(rnd);
    return fails ? 1 : 0;
}
