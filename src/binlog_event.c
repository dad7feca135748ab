/*
 * binlog_event.c — event type names, the common header and FORMAT_DESCRIPTION parsing.
 *
 * The FDE decides how every later event is read: the header length, the post-header length per
 * type, and whether events end with a CRC32. A server older than 5.6.1 writes no checksum
 * algorithm byte; one from 5.6.1 on writes it just before the (optional) checksum.
 */
#include <stdio.h>
#include <string.h>

#include "binlog_event.h"

const char *binlog_event_type_name(unsigned type)
{
    switch (type) {
#define BINLOG_EV_NAME(name, code)                                                                 \
    case code:                                                                                     \
        return #name;
        BINLOG_EVENT_TYPES(BINLOG_EV_NAME)
#undef BINLOG_EV_NAME
    }
    return NULL;
}

const char *binlog_event_type_label(unsigned type, char *buf, size_t n)
{
    const char *s = binlog_event_type_name(type);
    if (s)
        return s;
    snprintf(buf, n, "TYPE_%u", type);
    return buf;
}

void binlog_header_parse(const uint8_t *p, struct binlog_header *h)
{
    h->timestamp = le32(p);
    h->type = p[4];
    h->server_id = le32(p + 5);
    h->event_len = le32(p + 9);
    h->log_pos = le32(p + 13);
    h->flags = le16(p + 17);
}

void binlog_fde_default(struct binlog_fde *fde)
{
    memset(fde, 0, sizeof(*fde));
    fde->binlog_version = 4;
    fde->header_len = BINLOG_HEADER_LEN;
    fde->checksum_alg = BINLOG_CHECKSUM_UNDEF;
    /* Post-header lengths of a 5.x server, used until the real FDE is read. */
    fde->post_header_len[BINLOG_EV_QUERY] = 13;
    fde->post_header_len[BINLOG_EV_ROTATE] = 8;
    fde->post_header_len[BINLOG_EV_TABLE_MAP] = 8;
    fde->post_header_len[BINLOG_EV_WRITE_ROWS_V1] = 8;
    fde->post_header_len[BINLOG_EV_UPDATE_ROWS_V1] = 8;
    fde->post_header_len[BINLOG_EV_DELETE_ROWS_V1] = 8;
    fde->post_header_len[BINLOG_EV_WRITE_ROWS_V2] = 10;
    fde->post_header_len[BINLOG_EV_UPDATE_ROWS_V2] = 10;
    fde->post_header_len[BINLOG_EV_DELETE_ROWS_V2] = 10;
    fde->post_header_len[BINLOG_EV_PARTIAL_UPDATE_ROWS] = 10;
}

/* Parses "5.6.1-log" into a comparable number 50601; 0 when it is not a version. */
static unsigned version_number(const char *s)
{
    unsigned a = 0, b = 0, c = 0;
    if (sscanf(s, "%u.%u.%u", &a, &b, &c) < 2)
        return 0;
    return a * 10000 + b * 100 + c;
}

int binlog_fde_parse(const uint8_t *body, size_t len, struct binlog_fde *fde, struct err *err)
{
    /* binlog_version(2) server_version(50) create_timestamp(4) header_length(1) then the
     * post-header lengths, one per type from 1, then [alg(1) checksum(4)] on >= 5.6.1. */
    if (len < 57)
        return err_set(err, ERR_DECODE, "format description: body of %zu bytes, need 57", len);
    memset(fde, 0, sizeof(*fde));
    fde->binlog_version = le16(body);
    memcpy(fde->server_version, body + 2, 50);
    fde->server_version[50] = '\0';
    fde->create_ts = le32(body + 52);
    fde->header_len = body[56];
    if (fde->binlog_version != 4)
        return err_set(err, ERR_DECODE_UNSUPPORTED,
                       "format description: binlog format v%u (MySQL 3.23/4.0) is not supported, "
                       "only v4 (MySQL >= 5.0, MariaDB)",
                       fde->binlog_version);
    if (fde->header_len < BINLOG_HEADER_LEN)
        return err_set(err, ERR_DECODE, "format description: header length %u < 19",
                       fde->header_len);
    fde->mariadb = strstr(fde->server_version, "MariaDB") != NULL;
    size_t ntypes = len - 57;
    fde->checksum_alg = BINLOG_CHECKSUM_UNDEF;
    unsigned ver = version_number(fde->server_version);
    /* The checksum algorithm byte exists from MySQL 5.6.1 and MariaDB 5.3 on. */
    bool has_alg = fde->mariadb ? ver >= 50300 : ver >= 50601;
    if (has_alg) {
        if (ntypes < 5)
            return err_set(err, ERR_DECODE, "format description: no room for checksum algorithm");
        ntypes -= 5;
        fde->checksum_alg = body[57 + ntypes];
        if (fde->checksum_alg != BINLOG_CHECKSUM_OFF && fde->checksum_alg != BINLOG_CHECKSUM_CRC32)
            return err_set(err, ERR_DECODE_UNSUPPORTED,
                           "format description: unknown checksum algorithm %u", fde->checksum_alg);
    }
    for (size_t i = 0; i < ntypes && i < 255; i++)
        fde->post_header_len[i + 1] = body[57 + i];
    return 0;
}

int binlog_read_packed(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    const uint8_t *p = *pp;
    if (p >= end)
        return -1;
    unsigned n;
    if (*p < 251) {
        *out = *p;
        *pp = p + 1;
        return 0;
    }
    switch (*p) {
    case 0xfc:
        n = 2;
        break;
    case 0xfd:
        n = 3;
        break;
    case 0xfe:
        n = 8;
        break;
    default:
        return -1;
    }
    if ((size_t)(end - p) < 1 + n)
        return -1;
    *out = le_n(p + 1, n);
    *pp = p + 1 + n;
    return 0;
}
