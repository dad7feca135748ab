/*
 * pos_store.c — the position-store registry (one static table of ops, looked up by the config
 * `store:` string, as Redis connTypeRegister) and the record helpers. No state beyond the
 * constant table; safe from any thread.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "pos_store.h"
#include "strbuf.h"
#include "../meta/file.h"
#include "../meta/zk.h"

static const struct pos_store_ops *const stores[] = {
    &pos_store_file_ops,
    &pos_store_zk_ops,
};

void pos_store_record_init(struct pos_store_record *rec)
{
    memset(rec, 0, sizeof(*rec));
}

void pos_store_record_free(struct pos_store_record *rec)
{
    if (rec == NULL)
        return;
    position_free(&rec->parsed);
    position_free(&rec->consumed);
    pos_store_record_init(rec);
}

void pos_store_record_copy(struct pos_store_record *dst, const struct pos_store_record *src)
{
    if (dst == src)
        return;
    position_copy(&dst->parsed, &src->parsed);
    position_copy(&dst->consumed, &src->consumed);
    memcpy(dst->server_uuid, src->server_uuid, sizeof(dst->server_uuid));
    dst->server_id = src->server_id;
    memcpy(dst->server_version, src->server_version, sizeof(dst->server_version));
    dst->schema_version = src->schema_version;
}

const struct pos_store_ops *pos_store_find(const char *name)
{
    for (size_t i = 0; i < sizeof(stores) / sizeof(stores[0]); i++)
        if (strcmp(stores[i]->name, name) == 0)
            return stores[i];
    return NULL;
}

struct pos_store *
pos_store_open(const char *type, const struct pos_store_conf *conf, struct err *err)
{
    const struct pos_store_ops *ops = pos_store_find(type);
    if (ops == NULL) {
        struct strbuf known = {0};
        for (size_t i = 0; i < sizeof(stores) / sizeof(stores[0]); i++)
            strbuf_printf(&known, "%s\"%s\"", i ? ", " : "", stores[i]->name);
        err_set(err, ERR_CONFIG, "unknown position store \"%s\" (known: %s)", type, known.buf);
        strbuf_free(&known);
        return NULL;
    }
    if (ops->abi != POS_STORE_ABI) {
        err_set(err, ERR_POS_STORE, "position store \"%s\" has abi %u, sluice needs %u", type,
                ops->abi, (unsigned)POS_STORE_ABI);
        return NULL;
    }
    if (!pos_store_instance_name_ok(conf->instance)) {
        err_set(err, ERR_CONFIG,
                "instance name \"%s\" unusable for positions (letters, digits, '_', '-', '.', "
                "not starting with '.')",
                conf->instance ? conf->instance : "");
        return NULL;
    }
    return ops->open(conf, err);
}

const char *pos_store_conf_get(const struct pos_store_conf *conf, const char *key)
{
    for (size_t i = 0; i < conf->nparams; i++)
        if (strcmp(conf->params[i].key, key) == 0)
            return conf->params[i].value;
    return NULL;
}

bool pos_store_instance_name_ok(const char *name)
{
    if (name == NULL || name[0] == '\0' || name[0] == '.' || strlen(name) > 128)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.'))
            return false;
    return true;
}

struct pos_store *pos_store_open_config(const struct config_instance *in, struct err *err)
{
    struct pos_store_param params[4];
    char tmo[16];
    size_t np = 0;
    if (in->positions.store == CONFIG_STORE_FILE) {
        params[np++] = (struct pos_store_param){"dir", in->positions.dir};
    } else {
        params[np++] = (struct pos_store_param){"servers", in->positions.servers};
        params[np++] = (struct pos_store_param){"root", in->positions.root};
        params[np++] = (struct pos_store_param){"cluster", in->positions.cluster};
        snprintf(tmo, sizeof(tmo), "%u", (unsigned)in->positions.session_timeout_ms);
        params[np++] = (struct pos_store_param){"session_timeout_ms", tmo};
    }
    struct pos_store_conf conf = {.instance = in->name, .params = params, .nparams = np};
    return pos_store_open(config_store_name(in->positions.store), &conf, err);
}

int pos_store_record_check_text(const struct pos_store_record *rec,
                                const char *instance,
                                struct err *err)
{
    const char *texts[] = {rec->parsed.file, rec->consumed.file, rec->server_uuid,
                           rec->server_version};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        for (const char *c = texts[i]; c && *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                return err_set(err, ERR_POS_STORE,
                               "position record for \"%s\": control character in a file name "
                               "or the server identity",
                               instance);
    return 0;
}

void pos_store_put_position(struct strbuf *sb, const char *name, const struct position *p)
{
    strbuf_printf(sb, "%s.file=%s\n%s.offset=", name, p->file, name);
    strbuf_append_u64(sb, p->offset);
    strbuf_printf(sb, "\n%s.gtid=", name);
    position_gtid_format(&p->gtid, sb);
    strbuf_printf(sb, "\n%s.ts=%u\n", name, p->ts);
}

bool pos_store_parse_u64(const char *s, uint64_t max, uint64_t *v)
{
    uint64_t x = 0;
    if (*s == '\0')
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (x > (max - d) / 10)
            return false;
        x = x * 10 + d;
    }
    *v = x;
    return true;
}
