/*
 * test_protocol.c — unit tests for src/protocol.c, the client protocol's frame codec
 * (docs/protocol.md): big-endian writers and readers, strings and blobs, frames cut out of a
 * stream one byte at a time, length limits, short and over-long payloads, error codes.
 */
#include <CUnit/Basic.h>
#include <stdint.h>
#include <string.h>

#include "protocol.h"

static void test_integers(void)
{
    struct proto_buf b = {0};
    proto_put_u8(&b, 0xab);
    proto_put_u16(&b, 0x1234);
    proto_put_u32(&b, 0xdeadbeef);
    proto_put_u64(&b, 0x0102030405060708ull);
    static const uint8_t want[] = {0xab, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 1,
                                   2,    3,    4,    5,    6,    7,    8};
    CU_ASSERT_EQUAL(b.len, sizeof(want));
    CU_ASSERT(memcmp(b.data, want, sizeof(want)) == 0);
    struct proto_reader r;
    proto_reader_init(&r, b.data, b.len);
    CU_ASSERT_EQUAL(proto_get_u8(&r), 0xab);
    CU_ASSERT_EQUAL(proto_get_u16(&r), 0x1234);
    CU_ASSERT_EQUAL(proto_get_u32(&r), 0xdeadbeefu);
    CU_ASSERT_EQUAL(proto_get_u64(&r), 0x0102030405060708ull);
    CU_ASSERT(proto_reader_done(&r));
    /* Reading past the end: zeros, and the reader stays bad. */
    CU_ASSERT_EQUAL(proto_get_u32(&r), 0);
    CU_ASSERT(r.bad);
    CU_ASSERT(!proto_reader_done(&r));
    proto_buf_free(&b);
}

static void test_strings_blobs(void)
{
    struct proto_buf b = {0};
    proto_put_str(&b, "demo", 4);
    proto_put_str(&b, "", 0);
    proto_put_blob(&b, "{\"a\":1}", 7);
    struct proto_reader r;
    proto_reader_init(&r, b.data, b.len);
    char s[16];
    proto_get_str(&r, s, sizeof(s));
    CU_ASSERT_STRING_EQUAL(s, "demo");
    proto_get_str(&r, s, sizeof(s));
    CU_ASSERT_STRING_EQUAL(s, "");
    uint32_t n;
    const uint8_t *p = proto_get_blob(&r, &n);
    CU_ASSERT_EQUAL(n, 7);
    CU_ASSERT(p && memcmp(p, "{\"a\":1}", 7) == 0);
    CU_ASSERT(proto_reader_done(&r));

    /* A string longer than the caller's room is refused, not cut. */
    proto_reader_init(&r, b.data, b.len);
    char tiny[4];
    proto_get_str(&r, tiny, sizeof(tiny));
    CU_ASSERT(r.bad);
    CU_ASSERT_STRING_EQUAL(tiny, "");

    /* A blob whose length passes the end. */
    static const uint8_t bad[] = {0, 0, 0, 9, 'x'};
    proto_reader_init(&r, bad, sizeof(bad));
    p = proto_get_blob(&r, &n);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT(r.bad);
    proto_buf_free(&b);
}

static void test_frames(void)
{
    struct proto_buf b = {0};
    size_t f = proto_frame_begin(&b, PROTO_ACK);
    proto_put_u64(&b, 42);
    proto_frame_end(&b, f);
    f = proto_frame_begin(&b, PROTO_CLOSE);
    proto_frame_end(&b, f);
    static const uint8_t want[] = {0, 0, 0, 9, 0x14, 0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 1, 0x1a};
    CU_ASSERT_EQUAL(b.len, sizeof(want));
    CU_ASSERT(memcmp(b.data, want, sizeof(want)) == 0);

    /* Fed one byte more at a time: no frame until the whole first one is there. */
    uint8_t type;
    const uint8_t *payload;
    size_t plen, used;
    for (size_t k = 0; k < 13; k++)
        CU_ASSERT_EQUAL(
            proto_frame_parse(b.data, k, PROTO_MAX_CLIENT_FRAME, &type, &payload, &plen, &used), 0);
    CU_ASSERT_EQUAL(
        proto_frame_parse(b.data, b.len, PROTO_MAX_CLIENT_FRAME, &type, &payload, &plen, &used), 1);
    CU_ASSERT_EQUAL(type, PROTO_ACK);
    CU_ASSERT_EQUAL(plen, 8);
    CU_ASSERT_EQUAL(used, 13);
    CU_ASSERT_EQUAL(proto_frame_parse(b.data + used, b.len - used, PROTO_MAX_CLIENT_FRAME, &type,
                                      &payload, &plen, &used),
                    1);
    CU_ASSERT_EQUAL(type, PROTO_CLOSE);
    CU_ASSERT_EQUAL(plen, 0);
    proto_buf_free(&b);
}

static void test_limits(void)
{
    uint8_t type;
    const uint8_t *payload;
    size_t plen, used;
    static const uint8_t zero[] = {0, 0, 0, 0, 1};
    static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 1};
    static const uint8_t over[] = {0, 1, 0, 1, 0x12}; /* 65537 */
    static const uint8_t max[] = {0, 1, 0, 0, 0x12};  /* 65536: allowed, incomplete */
    CU_ASSERT_EQUAL(
        proto_frame_parse(zero, 5, PROTO_MAX_CLIENT_FRAME, &type, &payload, &plen, &used),
        -PROTO_E_FRAME_TOO_LARGE);
    CU_ASSERT_EQUAL(
        proto_frame_parse(huge, 4, PROTO_MAX_CLIENT_FRAME, &type, &payload, &plen, &used),
        -PROTO_E_FRAME_TOO_LARGE);
    CU_ASSERT_EQUAL(
        proto_frame_parse(over, 5, PROTO_MAX_CLIENT_FRAME, &type, &payload, &plen, &used),
        -PROTO_E_FRAME_TOO_LARGE);
    CU_ASSERT_EQUAL(
        proto_frame_parse(max, 5, PROTO_MAX_CLIENT_FRAME, &type, &payload, &plen, &used), 0);
    CU_ASSERT_EQUAL(proto_frame_parse(huge, 5, 0xffffffffu, &type, &payload, &plen, &used), 0);
}

static void test_errors(void)
{
    struct proto_buf b = {0};
    proto_put_error(&b, PROTO_E_AUTH_FAILED, "no");
    static const uint8_t want[] = {0, 0, 0, 7, 0x7f, 0, 4, 0, 2, 'n', 'o'};
    CU_ASSERT_EQUAL(b.len, sizeof(want));
    CU_ASSERT(memcmp(b.data, want, sizeof(want)) == 0);
    CU_ASSERT_STRING_EQUAL(proto_error_name(PROTO_E_AUTH_FAILED), "AUTH_FAILED");
    CU_ASSERT_STRING_EQUAL(proto_error_name(PROTO_E_INTERNAL), "INTERNAL");
    CU_ASSERT_STRING_EQUAL(proto_error_name(999), "UNKNOWN");
    CU_ASSERT(proto_error_closes(PROTO_E_PROTOCOL));
    CU_ASSERT(proto_error_closes(PROTO_E_TIMEOUT));
    CU_ASSERT(!proto_error_closes(PROTO_E_UNKNOWN_BATCH));
    CU_ASSERT(!proto_error_closes(PROTO_E_CLIENT_ID_BUSY));
    CU_ASSERT_STRING_EQUAL(proto_type_name(PROTO_GET), "GET");
    CU_ASSERT_STRING_EQUAL(proto_type_name(0x55), "?");
    proto_buf_free(&b);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("protocol", NULL, NULL);
    CU_add_test(s, "integers", test_integers);
    CU_add_test(s, "strings and blobs", test_strings_blobs);
    CU_add_test(s, "frames", test_frames);
    CU_add_test(s, "limits", test_limits);
    CU_add_test(s, "errors", test_errors);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned fails = CU_get_number_of_failures();
    CU_cleanup_registry();
    return fails ? 1 : 0;
}
