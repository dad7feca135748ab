/*
 * stream_pos.c — event offsets in a replication stream (see stream_pos.h).
 */
#include <stdlib.h>
#include <string.h>

#include "binlog_event.h"
#include "bytes.h"
#include "stream_pos.h"
#include "xmalloc.h"

#define LOG_EVENT_ARTIFICIAL_F 0x20 /* the event is not in the file (fake ROTATE) */

void stream_pos_init(struct stream_pos *sp, const char *file, uint64_t pos, bool crc_before_fde)
{
    memset(sp, 0, sizeof(*sp));
    sp->file = xstrdup(file ? file : "");
    sp->pos = pos;
    sp->crc_before_fde = crc_before_fde;
}

void stream_pos_free(struct stream_pos *sp)
{
    free(sp->file);
    sp->file = NULL;
}

uint64_t stream_pos_offset(const struct stream_pos *sp, const uint8_t *ev, size_t len)
{
    if (len < BINLOG_HEADER_LEN)
        return sp->pos;
    uint32_t log_pos = le32(ev + 13);
    return log_pos != 0 && log_pos >= len ? log_pos - len : sp->pos;
}

void stream_pos_advance(struct stream_pos *sp, const uint8_t *ev, size_t len, bool crc)
{
    if (len < BINLOG_HEADER_LEN)
        return;
    uint32_t log_pos = le32(ev + 13);
    uint16_t flags = le16(ev + 17);
    unsigned type = ev[4];
    if (type == BINLOG_EV_ROTATE && len >= BINLOG_HEADER_LEN + 8) {
        bool c = sp->seen_fde ? crc : sp->crc_before_fde;
        size_t tail = BINLOG_HEADER_LEN + 8 + (c ? 4 : 0);
        if (len >= tail) {
            free(sp->file);
            sp->file = xstrndup((const char *)ev + BINLOG_HEADER_LEN + 8, len - tail);
        }
        sp->pos = le64(ev + BINLOG_HEADER_LEN);
    } else if (type == BINLOG_EV_FORMAT_DESCRIPTION) {
        sp->seen_fde = true;
        if (log_pos != 0)
            sp->pos = log_pos;
    } else if (log_pos != 0) {
        sp->pos = log_pos;
    } else if (!(flags & LOG_EVENT_ARTIFICIAL_F)) {
        sp->pos += len;
    }
}
