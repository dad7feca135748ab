/*
 * test_crc32c.c — unit tests for src/util/crc32c.c: the standard check value, empty input,
 * continuation over split buffers and a few published vectors (RFC 3720 appendix B.4).
 */
#include <CUnit/Basic.h>
#include <stdint.h>
#include <string.h>

#include "crc32c.h"

static void test_check_value(void)
{
    CU_ASSERT_EQUAL(crc32c(0, "123456789", 9), 0xE3069283u);
    CU_ASSERT_EQUAL(crc32c(0, "", 0), 0u);
    CU_ASSERT_EQUAL(crc32c(0, "a", 1), 0xC1D04330u);
}

static void test_rfc3720_vectors(void)
{
    unsigned char buf[32];
    memset(buf, 0, sizeof(buf));
    CU_ASSERT_EQUAL(crc32c(0, buf, sizeof(buf)), 0x8A9136AAu);
    memset(buf, 0xff, sizeof(buf));
    CU_ASSERT_EQUAL(crc32c(0, buf, sizeof(buf)), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (unsigned char)i;
    CU_ASSERT_EQUAL(crc32c(0, buf, sizeof(buf)), 0x46DD794Eu);
    for (int i = 0; i < 32; i++)
        buf[i] = (unsigned char)(31 - i);
    CU_ASSERT_EQUAL(crc32c(0, buf, sizeof(buf)), 0x113FDB5Cu);
}

static void test_continuation(void)
{
    const char *s = "the quick brown fox jumps over the lazy dog";
    size_t n = strlen(s);
    uint32_t whole = crc32c(0, s, n);
    for (size_t k = 0; k <= n; k++)
        CU_ASSERT_EQUAL(crc32c(crc32c(0, s, k), s + k, n - k), whole);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("crc32c", NULL, NULL);
    CU_add_test(s, "check value", test_check_value);
    CU_add_test(s, "rfc 3720 vectors", test_rfc3720_vectors);
    CU_add_test(s, "continuation", test_continuation);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned fails = CU_get_number_of_failures();
    CU_cleanup_registry();
    return fails ? 1 : 0;
}
