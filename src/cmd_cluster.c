/*
 * cmd_cluster.c — `sluice cluster status` and `sluice cluster push` (see cmd_cluster.h).
 *
 * Both find the cluster by --zookeeper SERVERS --cluster NAME [--root R], or by --config FILE,
 * whose instances with `positions.store: zookeeper` must then all name one cluster.
 *
 * status reads, in one short session: {root}/{cluster}/config (the pushed configuration, if
 * any), daemons/NODE (members.c: each daemon's admin address, weight, pid, config checksum and
 * owned instances), and for every instances/NAME its positions record (meta/zk.c) and the
 * election nodes under running/ (cluster.c: the lowest is the owner, the rest stand by). It
 * prints them, or one JSON object with --json, and flags every daemon whose configuration
 * checksum differs from the others' (or from the pushed one): two HA daemons running different
 * configurations is a silent divergence it exists to catch. Exit status 0 when it could read
 * the cluster, 3 when it could and a daemon's configuration differs, 1 when it could not.
 *
 * push validates FILE as `sluice run` would and writes it, byte for byte, to
 * {root}/{cluster}/config (at most 1 MiB, ZooKeeper's node limit). Daemons started with
 * `sluice run --zookeeper SERVERS --cluster NAME` load it from there; a running daemon keeps
 * the configuration it started with, and status shows which daemons run an older one.
 */
#ifndef THREADED
#define THREADED
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zookeeper/zookeeper.h>

#include "cmd_cluster.h"
#include "strbuf.h"
#include "xmalloc.h"
#include "../meta/zk_session.h"

#define SESSION_MS 10000

static void usage(FILE *out)
{
    fputs("usage: sluice cluster status (--config FILE | --zookeeper SERVERS --cluster NAME\n"
          "                              [--root PATH]) [--json]\n"
          "       sluice cluster push FILE [--zookeeper SERVERS --cluster NAME [--root PATH]]\n"
          "\n"
          "status  the daemons of a cluster (admin address, weight, configuration checksum,\n"
          "        instances owned) and every instance's owner, standbys and positions;\n"
          "        flags daemons whose configuration differs (exit status 3)\n"
          "push    validate FILE and store it in ZooKeeper for `sluice run --zookeeper`\n",
          out);
}

struct where {
    const char *servers, *root, *cluster;
};

/* The cluster named by the options, or by the configuration's zookeeper instances. */
static int find_cluster(const struct config *cfg, struct where *w, const char *cmd)
{
    if (w->servers || cfg == NULL) {
        if (w->servers == NULL || w->cluster == NULL) {
            fprintf(stderr,
                    "sluice cluster %s: give --config FILE, or --zookeeper SERVERS and "
                    "--cluster NAME\n",
                    cmd);
            return 2;
        }
        if (w->root == NULL)
            w->root = "/sluice";
        return 0;
    }
    for (size_t i = 0; i < cfg->n_instances; i++) {
        const struct config_instance *ic = &cfg->instances[i];
        if (ic->positions.store != CONFIG_STORE_ZOOKEEPER)
            continue;
        if (w->servers &&
            (strcmp(w->servers, ic->positions.servers) || strcmp(w->root, ic->positions.root) ||
             strcmp(w->cluster, ic->positions.cluster))) {
            fprintf(stderr,
                    "sluice cluster %s: %s: instances use more than one ZooKeeper cluster "
                    "(%s%s/%s and %s%s/%s); name one with --zookeeper and --cluster\n",
                    cmd, cfg->path, w->servers, w->root, w->cluster, ic->positions.servers,
                    ic->positions.root, ic->positions.cluster);
            return 2;
        }
        w->servers = ic->positions.servers;
        w->root = ic->positions.root;
        w->cluster = ic->positions.cluster;
    }
    if (w->servers == NULL) {
        fprintf(stderr,
                "sluice cluster %s: %s: no instance uses `positions.store: zookeeper`; give "
                "--zookeeper SERVERS and --cluster NAME\n",
                cmd, cfg->path);
        return 2;
    }
    return 0;
}

static void base_path(const struct where *w, struct strbuf *sb)
{
    strbuf_printf(sb, "%s/%s", strcmp(w->root, "/") == 0 ? "" : w->root, w->cluster);
}

struct config *
cluster_config_load(const char *servers, const char *root, const char *cluster, struct err *err)
{
    struct where w = {servers, root ? root : "/sluice", cluster};
    struct zk_session zs = {0};
    if (zk_session_open(&zs, servers, SESSION_MS, err))
        return NULL;
    struct strbuf path = {0}, name = {0};
    base_path(&w, &path);
    strbuf_appends(&path, "/config");
    strbuf_printf(&name, "zookeeper:%s%s", servers, path.buf);
    char *text = NULL;
    struct config *cfg = NULL;
    int rc = zk_get_string(&zs, path.buf, &text);
    if (rc == ZNONODE)
        err_set(err, ERR_CONFIG,
                "%s: no configuration there (store one with `sluice cluster push FILE "
                "--zookeeper %s --cluster %s`)",
                name.buf, servers, cluster);
    else if (rc != ZOK)
        err_set(err, ERR_CONFIG, "%s: could not read it: %s", name.buf, zerror(rc));
    else
        cfg = config_load_text(text, strlen(text), name.buf, err);
    free(text);
    strbuf_free(&path);
    strbuf_free(&name);
    zk_session_close(&zs);
    return cfg;
}

/* ---- push ------------------------------------------------------------------------------- */

static int push(const char *file, struct where *w)
{
    struct err err = {0};
    struct config *cfg = config_load(file, &err);
    if (cfg == NULL) {
        fprintf(stderr, "sluice cluster push: %s (nothing stored)\n", err.msg);
        return 1;
    }
    int rc = find_cluster(cfg, w, "push");
    if (rc) {
        config_free(cfg);
        return rc;
    }
    FILE *f = fopen(file, "rb");
    struct strbuf text = {0};
    char buf[8192];
    size_t n;
    while (f && (n = fread(buf, 1, sizeof(buf), f)) > 0)
        strbuf_append(&text, buf, n);
    if (f)
        fclose(f);
    struct zk_session zs = {0};
    struct strbuf path = {0};
    base_path(w, &path);
    int r = 1;
    if (zk_session_open(&zs, w->servers, SESSION_MS, &err) || zk_ensure_path(&zs, path.buf, &err)) {
        fprintf(stderr, "sluice cluster push: %s (nothing stored)\n", err.msg);
        goto out;
    }
    strbuf_appends(&path, "/config");
    int zrc = zoo_set(zs.zh, path.buf, text.buf ? text.buf : "", (int)text.len, -1);
    if (zrc == ZNONODE)
        zrc = zoo_create(zs.zh, path.buf, text.buf ? text.buf : "", (int)text.len,
                         &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
    if (zrc != ZOK) {
        fprintf(stderr, "sluice cluster push: could not write %s on %s: %s\n", path.buf, w->servers,
                zerror(zrc));
        goto out;
    }
    printf("stored %s (%zu bytes, config %s) at %s%s\n", file, text.len, cfg->checksum, w->servers,
           path.buf);
    r = 0;
out:
    zk_session_close(&zs);
    strbuf_free(&path);
    strbuf_free(&text);
    config_free(cfg);
    return r;
}

/* ---- status ----------------------------------------------------------------------------- */

struct daemon_row {
    char name[256], admin[256], weight[16], pid[32], version[32], config[64], owned[2048];
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void js(struct strbuf *sb, const char *key, const char *v, bool comma)
{
    strbuf_printf(sb, "%s\"%s\":", comma ? "," : "", key);
    strbuf_append_json_str(sb, v, strlen(v));
}

/* One instance: owner and standbys from running/, positions from the record. */
static void instance_status(
    struct zk_session *zs, const char *inst_dir, const char *name, bool json, struct strbuf *out)
{
    char path[1024], owner[256] = "", epoch[32] = "";
    struct strbuf standby = {0};
    snprintf(path, sizeof(path), "%s/%s/running", inst_dir, name);
    struct String_vector kids = {0, NULL};
    if (zoo_get_children(zs->zh, path, 0, &kids) == ZOK) {
        qsort(kids.data, (size_t)kids.count, sizeof(char *), cmp_str);
        for (int i = 0; i < kids.count; i++) {
            char p2[1100], *data = NULL, node[256];
            snprintf(p2, sizeof(p2), "%s/%s", path, kids.data[i]);
            if (zk_get_string(zs, p2, &data) != ZOK)
                continue;
            zk_field(data, "node", node, sizeof(node));
            if (owner[0] == '\0') {
                snprintf(owner, sizeof(owner), "%s", node);
                zk_field(data, "epoch", epoch, sizeof(epoch));
            } else {
                strbuf_printf(&standby, "%s%s", standby.len ? "," : "", node);
            }
            free(data);
        }
    }
    deallocate_String_vector(&kids);
    snprintf(path, sizeof(path), "%s/%s/positions", inst_dir, name);
    char *rec = NULL;
    zk_get_string(zs, path, &rec);
    char cf[256] = "", co[32] = "", cg[1024] = "", cts[32] = "", pf[256] = "", po[32] = "",
         writer[256] = "";
    if (rec) {
        zk_field(rec, "consumed.file", cf, sizeof(cf));
        zk_field(rec, "consumed.offset", co, sizeof(co));
        zk_field(rec, "consumed.gtid", cg, sizeof(cg));
        zk_field(rec, "consumed.ts", cts, sizeof(cts));
        zk_field(rec, "parsed.file", pf, sizeof(pf));
        zk_field(rec, "parsed.offset", po, sizeof(po));
        zk_field(rec, "owner", writer, sizeof(writer));
    }
    long long ts = atoll(cts), lag = ts ? (long long)time(NULL) - ts : -1;
    if (json) {
        strbuf_appends(out, "{");
        js(out, "name", name, false);
        js(out, "owner", owner, true);
        strbuf_printf(out, ",\"epoch\":%s", epoch[0] ? epoch : "null");
        strbuf_appends(out, ",\"standbys\":[");
        for (char *s = standby.buf, *e; s && *s; s = *e ? e + 1 : e) {
            e = strchr(s, ',');
            if (e == NULL)
                e = s + strlen(s);
            if (s != standby.buf)
                strbuf_appendc(out, ',');
            strbuf_append_json_str(out, s, (size_t)(e - s));
        }
        strbuf_appends(out, "]");
        if (rec) {
            strbuf_appends(out, ",\"consumed\":{");
            js(out, "file", cf, false);
            strbuf_printf(out, ",\"offset\":%s", co[0] ? co : "0");
            js(out, "gtid", cg, true);
            strbuf_printf(out, ",\"ts\":%s}", cts[0] ? cts : "0");
            strbuf_appends(out, ",\"parsed\":{");
            js(out, "file", pf, false);
            strbuf_printf(out, ",\"offset\":%s}", po[0] ? po : "0");
            js(out, "written_by", writer, true);
            if (lag >= 0)
                strbuf_printf(out, ",\"lag_seconds\":%lld", lag);
            else
                strbuf_appends(out, ",\"lag_seconds\":null");
        } else {
            strbuf_appends(out, ",\"consumed\":null,\"parsed\":null,\"lag_seconds\":null");
        }
        strbuf_appends(out, "}");
    } else {
        strbuf_printf(out, "  %s: ", name);
        if (owner[0])
            strbuf_printf(out, "owner %s (epoch %s)", owner, epoch[0] ? epoch : "?");
        else
            strbuf_appends(out, "NO OWNER");
        strbuf_printf(out, ", standbys: %s\n", standby.len ? standby.buf : "none");
        if (rec) {
            strbuf_printf(out, "    consumed %s:%s%s%s", cf[0] ? cf : "(gtid)", co,
                          cg[0] ? " gtid " : "", cg);
            if (lag >= 0)
                strbuf_printf(out, " (last event %lld s ago)", lag);
            strbuf_printf(out, "\n    parsed   %s:%s, written by %s\n", pf[0] ? pf : "(gtid)", po,
                          writer[0] ? writer : "sluice position");
        } else {
            strbuf_appends(out, "    no position stored\n");
        }
    }
    free(rec);
    strbuf_free(&standby);
}

static int status(struct where *w, bool json)
{
    struct err err = {0};
    struct zk_session zs = {0};
    if (zk_session_open(&zs, w->servers, SESSION_MS, &err)) {
        fprintf(stderr, "sluice cluster status: %s\n", err.msg);
        return 1;
    }
    struct strbuf base = {0}, path = {0}, out = {0};
    base_path(w, &base);
    int r = 1;

    /* The pushed configuration. */
    strbuf_printf(&path, "%s/config", base.buf);
    char *pushed = NULL, pushed_sum[CONFIG_CHECKSUM_LEN + 1] = "";
    if (zk_get_string(&zs, path.buf, &pushed) == ZOK)
        config_checksum(pushed, strlen(pushed), pushed_sum);
    free(pushed);

    /* Daemons. */
    strbuf_reset(&path);
    strbuf_printf(&path, "%s/daemons", base.buf);
    struct String_vector kids = {0, NULL};
    int rc = zoo_get_children(zs.zh, path.buf, 0, &kids);
    if (rc != ZOK && rc != ZNONODE) {
        fprintf(stderr, "sluice cluster status: could not list %s on %s: %s\n", path.buf,
                w->servers, zerror(rc));
        goto out;
    }
    qsort(kids.data, (size_t)kids.count, sizeof(char *), cmp_str);
    struct daemon_row *d = xcalloc((size_t)kids.count + 1, sizeof(*d));
    size_t nd = 0;
    for (int i = 0; i < kids.count; i++) {
        char p2[1100], *data = NULL;
        snprintf(p2, sizeof(p2), "%s/%s", path.buf, kids.data[i]);
        if (zk_get_string(&zs, p2, &data) != ZOK)
            continue;
        snprintf(d[nd].name, sizeof(d[nd].name), "%s", kids.data[i]);
        zk_field(data, "admin", d[nd].admin, sizeof(d[nd].admin));
        zk_field(data, "weight", d[nd].weight, sizeof(d[nd].weight));
        zk_field(data, "pid", d[nd].pid, sizeof(d[nd].pid));
        zk_field(data, "version", d[nd].version, sizeof(d[nd].version));
        zk_field(data, "config", d[nd].config, sizeof(d[nd].config));
        zk_field(data, "owned", d[nd].owned, sizeof(d[nd].owned));
        nd++;
        free(data);
    }
    deallocate_String_vector(&kids);
    /* The reference checksum: the pushed one, else the most common among the daemons. */
    const char *ref = pushed_sum[0] ? pushed_sum : NULL;
    size_t best = 0;
    for (size_t i = 0; ref == NULL && i < nd; i++) {
        size_t c = 0;
        for (size_t j = 0; j < nd; j++)
            c += strcmp(d[i].config, d[j].config) == 0;
        if (c > best) {
            best = c;
            ref = d[i].config;
        }
    }
    size_t ndiff = 0;
    for (size_t i = 0; i < nd; i++)
        ndiff += ref && strcmp(d[i].config, ref) != 0;

    if (json) {
        strbuf_appends(&out, "{");
        js(&out, "cluster", w->cluster, false);
        js(&out, "zookeeper", w->servers, true);
        js(&out, "path", base.buf, true);
        strbuf_appends(&out, ",\"pushed_config\":");
        if (pushed_sum[0])
            strbuf_append_json_str(&out, pushed_sum, strlen(pushed_sum));
        else
            strbuf_appends(&out, "null");
        strbuf_printf(&out, ",\"config_differs\":%s,\"daemons\":[", ndiff ? "true" : "false");
        for (size_t i = 0; i < nd; i++) {
            strbuf_appends(&out, i ? ",{" : "{");
            js(&out, "node", d[i].name, false);
            js(&out, "admin", d[i].admin, true);
            strbuf_printf(&out, ",\"weight\":%s,\"pid\":%s", d[i].weight[0] ? d[i].weight : "1",
                          d[i].pid[0] ? d[i].pid : "0");
            js(&out, "version", d[i].version, true);
            js(&out, "config", d[i].config, true);
            strbuf_printf(&out, ",\"config_differs\":%s,\"owned\":[",
                          ref && strcmp(d[i].config, ref) ? "true" : "false");
            for (char *s = d[i].owned, *e; *s; s = *e ? e + 1 : e) {
                e = strchr(s, ',');
                if (e == NULL)
                    e = s + strlen(s);
                if (s != d[i].owned)
                    strbuf_appendc(&out, ',');
                strbuf_append_json_str(&out, s, (size_t)(e - s));
            }
            strbuf_appends(&out, "]}");
        }
        strbuf_appends(&out, "],\"instances\":[");
    } else {
        strbuf_printf(&out, "cluster %s on %s (%s)\n", w->cluster, w->servers, base.buf);
        strbuf_printf(&out, "pushed configuration: %s\n",
                      pushed_sum[0] ? pushed_sum : "none (each daemon runs its own file)");
        strbuf_printf(&out, "daemons: %zu\n", nd);
        for (size_t i = 0; i < nd; i++) {
            size_t owned = d[i].owned[0] ? 1 : 0;
            for (const char *s = d[i].owned; *s; s++)
                owned += *s == ',';
            strbuf_printf(&out, "  %s: admin %s, weight %s, pid %s, sluice %s, config %s%s\n",
                          d[i].name, d[i].admin, d[i].weight, d[i].pid, d[i].version, d[i].config,
                          ref && strcmp(d[i].config, ref) ? "  << DIFFERS" : "");
            strbuf_printf(&out, "    owns %zu: %s\n", owned, d[i].owned[0] ? d[i].owned : "-");
        }
        strbuf_appends(&out, "instances:\n");
    }
    free(d);

    /* Instances. */
    strbuf_reset(&path);
    strbuf_printf(&path, "%s/instances", base.buf);
    kids = (struct String_vector){0, NULL};
    rc = zoo_get_children(zs.zh, path.buf, 0, &kids);
    if (rc != ZOK && rc != ZNONODE) {
        fprintf(stderr, "sluice cluster status: could not list %s on %s: %s\n", path.buf,
                w->servers, zerror(rc));
        goto out;
    }
    qsort(kids.data, (size_t)kids.count, sizeof(char *), cmp_str);
    for (int i = 0; i < kids.count; i++) {
        if (json && i)
            strbuf_appendc(&out, ',');
        instance_status(&zs, path.buf, kids.data[i], json, &out);
    }
    if (!json && kids.count == 0)
        strbuf_appends(&out, "  none\n");
    deallocate_String_vector(&kids);
    if (json)
        strbuf_appends(&out, "]}\n");
    else if (ndiff)
        strbuf_printf(&out,
                      "WARNING: %zu daemon(s) run a configuration that differs from %s (%s)\n",
                      ndiff, pushed_sum[0] ? "the pushed one" : "the others'", ref);
    fwrite(out.buf, 1, out.len, stdout);
    r = ndiff ? 3 : 0;
out:
    strbuf_free(&out);
    strbuf_free(&path);
    strbuf_free(&base);
    zk_session_close(&zs);
    return r;
}

int cmd_cluster(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1], *config = NULL, *file = NULL;
    struct where w = {NULL, NULL, NULL};
    bool json = false;
    for (int i = 2; i < argc; i++) {
        const char **slot = strcmp(argv[i], "--config") == 0      ? &config
                            : strcmp(argv[i], "--zookeeper") == 0 ? &w.servers
                            : strcmp(argv[i], "--cluster") == 0   ? &w.cluster
                            : strcmp(argv[i], "--root") == 0      ? &w.root
                                                                  : NULL;
        if (slot) {
            if (i + 1 >= argc) {
                fprintf(stderr, "sluice cluster: option %s needs a value\n", argv[i]);
                return 2;
            }
            *slot = argv[++i];
        } else if (strcmp(argv[i], "--json") == 0 && strcmp(sub, "status") == 0) {
            json = true;
        } else if (argv[i][0] != '-' && strcmp(sub, "push") == 0 && file == NULL) {
            file = argv[i];
        } else {
            fprintf(stderr, "sluice cluster %s: unknown %s \"%s\" (see sluice cluster --help)\n",
                    sub, argv[i][0] == '-' ? "option" : "argument", argv[i]);
            return 2;
        }
    }
    if (w.root && (w.root[0] != '/' || strchr(w.cluster ? w.cluster : "", '/'))) {
        fprintf(stderr, "sluice cluster: --root must be an absolute path, --cluster a name "
                        "without '/'\n");
        return 2;
    }
    if (strcmp(sub, "push") == 0) {
        if (file == NULL || config) {
            fprintf(stderr, "sluice cluster push: give the FILE to push (and no --config)\n");
            return 2;
        }
        return push(file, &w);
    }
    if (strcmp(sub, "status") != 0) {
        fprintf(stderr, "sluice cluster: unknown subcommand \"%s\" (status, push)\n", sub);
        return 2;
    }
    struct config *cfg = NULL;
    if (config) {
        struct err err = {0};
        cfg = config_load(config, &err);
        if (cfg == NULL) {
            fprintf(stderr, "sluice cluster status: %s\n", err.msg);
            return 1;
        }
    }
    int rc = find_cluster(cfg, &w, "status");
    if (rc == 0)
        rc = status(&w, json);
    config_free(cfg);
    return rc;
}
