/*
 * ddl.c — follows table definitions through the DDL text of binlog QUERY events.
 *
 * A tokenizer (words, `quoted` identifiers, 'strings', punctuation; C-style, "-- " and "#"
 * comments skipped, while the body of an executable comment, slash-star-bang-version or MariaDB's
 * slash-star-M-bang-version, is read as code) feeds a recursive-descent reader of the statements
 * that change tables:
 *   CREATE [OR REPLACE] TABLE [IF NOT EXISTS] t (cols, PRIMARY KEY, ...) | LIKE s | ... SELECT
 *   ALTER [ONLINE] [IGNORE] TABLE [IF EXISTS] t clause, clause ...
 *   DROP TABLE [IF EXISTS] a, b   RENAME TABLE a TO b, c TO d   TRUNCATE [TABLE] t
 *   CREATE/DROP DATABASE|SCHEMA, CREATE/DROP SEQUENCE
 * The server has accepted every statement, so the reader only needs to find its way, not to
 * validate. Anything it cannot follow becomes DDL_UNPARSED with the table names found so far,
 * never a silent wrong model: the caller then reloads those tables from the server.
 *
 * Invariants: every read of the text is bounded by its end (statements are not NUL-terminated);
 * every string in a struct ddl_stmt is owned by it. Thread: any, no shared state.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "charset.h"
#include "ddl.h"
#include "xmalloc.h"

/* ------------------------------------------------------------------------------------------ */
/* Tokenizer                                                                                   */

enum tok_kind { TK_END, TK_WORD, TK_QIDENT, TK_STRING, TK_PUNCT };

struct tok {
    enum tok_kind k;
    const char *p; /* raw text, quotes included */
    size_t n;
};

struct lex {
    const char *p, *end;
    int exec_comments; /* open executable comments */
    struct tok t;      /* current token */
    bool fail;
    bool sysvers; /* WITH SYSTEM VERSIONING seen (hidden row_start/row_end columns) */
    char why[128];
};

/* Unquoted identifiers and keywords: letters, digits, '_', '$' and any non-ASCII byte (UTF-8
 * names). Numbers are words too, which is all the reader needs of them. */
static bool is_word_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

/* Skips blanks and comments. An executable comment's opening (with its version digits) is
 * dropped and its closing star-slash skipped when met, so its body reads as ordinary code: the
 * server runs it (mysqldump's and MariaDB's generated DDL use them). */
static void skip_space(struct lex *l)
{
    for (;;) {
        const char *p = l->p, *e = l->end;
        while (p < e && isspace((unsigned char)*p))
            p++;
        if (e - p >= 2 && p[0] == '/' && p[1] == '*') {
            if (e - p >= 3 && p[2] == '!') {
                p += 3;
                while (p < e && isdigit((unsigned char)*p))
                    p++;
                l->exec_comments++;
            } else if (e - p >= 4 && p[2] == 'M' && p[3] == '!') {
                p += 4;
                while (p < e && isdigit((unsigned char)*p))
                    p++;
                l->exec_comments++;
            } else {
                p += 2;
                while (p < e && !(e - p >= 2 && p[0] == '*' && p[1] == '/'))
                    p++;
                p = e - p >= 2 ? p + 2 : e;
            }
        } else if (l->exec_comments > 0 && e - p >= 2 && p[0] == '*' && p[1] == '/') {
            p += 2;
            l->exec_comments--;
        } else if (e - p >= 2 && p[0] == '-' && p[1] == '-' &&
                   (e - p == 2 || isspace((unsigned char)p[2]))) {
            while (p < e && *p != '\n')
                p++;
        } else if (p < e && *p == '#') {
            while (p < e && *p != '\n')
                p++;
        } else {
            l->p = p;
            return;
        }
        l->p = p;
    }
}

/* Reads the next token into l->t. Quoted tokens keep their quotes and escapes (tok_text
 * removes them); an unterminated one runs to the end of the text. */
static void next(struct lex *l)
{
    skip_space(l);
    const char *p = l->p, *e = l->end;
    l->t.p = p;
    if (p >= e) {
        l->t.k = TK_END;
        l->t.n = 0;
        return;
    }
    unsigned char c = (unsigned char)*p;
    if (is_word_char(c)) {
        while (p < e && is_word_char((unsigned char)*p))
            p++;
        l->t.k = TK_WORD;
    } else if (c == '`' || c == '\'' || c == '"') {
        p++;
        while (p < e) {
            if (c != '`' && *p == '\\' && p + 1 < e) {
                p += 2;
                continue;
            }
            if ((unsigned char)*p == c) {
                if (p + 1 < e && (unsigned char)p[1] == c) {
                    p += 2;
                    continue;
                }
                p++;
                break;
            }
            p++;
        }
        l->t.k = c == '`' ? TK_QIDENT : TK_STRING;
    } else {
        p++;
        l->t.k = TK_PUNCT;
    }
    l->t.n = (size_t)(p - l->t.p);
    l->p = p;
}

static void lex_init(struct lex *l, const char *sql, size_t len)
{
    memset(l, 0, sizeof(*l));
    l->p = sql;
    l->end = sql + len;
    next(l);
}

static void fail(struct lex *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct lex *l, const char *fmt, ...)
{
    if (l->fail)
        return;
    l->fail = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->why, sizeof(l->why), fmt, ap);
    va_end(ap);
}

static bool is_kw(const struct tok *t, const char *kw)
{
    size_t n = strlen(kw);
    return t->k == TK_WORD && t->n == n && strncasecmp(t->p, kw, n) == 0;
}

static bool accept_kw(struct lex *l, const char *kw)
{
    if (!is_kw(&l->t, kw))
        return false;
    next(l);
    return true;
}

static bool is_punct(const struct tok *t, char c)
{
    return t->k == TK_PUNCT && t->p[0] == c;
}

static bool accept_punct(struct lex *l, char c)
{
    if (!is_punct(&l->t, c))
        return false;
    next(l);
    return true;
}

/* The unquoted, unescaped text of a token (caller frees). */
static char *tok_text(const struct tok *t)
{
    if (t->k == TK_WORD || t->k == TK_PUNCT)
        return xstrndup(t->p, t->n);
    char q = t->p[0];
    const char *p = t->p + 1, *e = t->p + t->n;
    if (e > p && e[-1] == q)
        e--;
    char *out = xmalloc((size_t)(e - p) + 1), *o = out;
    while (p < e) {
        if (q != '`' && *p == '\\' && p + 1 < e) {
            p++;
            switch (*p) {
            case 'n':
                *o++ = '\n';
                break;
            case 't':
                *o++ = '\t';
                break;
            case 'r':
                *o++ = '\r';
                break;
            case '0':
                *o++ = '\0';
                break;
            case 'Z':
                *o++ = '\032';
                break;
            case 'b':
                *o++ = '\b';
                break;
            default:
                *o++ = *p;
            }
            p++;
            continue;
        }
        if (*p == q && p + 1 < e && p[1] == q)
            p++;
        *o++ = *p++;
    }
    *o = '\0';
    return out;
}

/* An identifier: a word, a `quoted` name, or a "quoted" one (ANSI_QUOTES). NULL if none. */
static char *ident(struct lex *l)
{
    if (l->t.k == TK_WORD || l->t.k == TK_QIDENT || (l->t.k == TK_STRING && l->t.p[0] == '"')) {
        char *s = tok_text(&l->t);
        next(l);
        return s;
    }
    int n = l->end - l->t.p > 20 ? 20 : (int)(l->end - l->t.p);
    fail(l, "expected a name at \"%.*s\"", n, l->t.p);
    return NULL;
}

/* A possibly qualified table name: name or db.name. */
static bool qname(struct lex *l, struct ddl_name *n)
{
    memset(n, 0, sizeof(*n));
    char *a = ident(l);
    if (a == NULL)
        return false;
    if (is_punct(&l->t, '.')) {
        next(l);
        char *b = ident(l);
        if (b == NULL) {
            free(a);
            return false;
        }
        n->db = a;
        n->name = b;
    } else {
        n->name = a;
    }
    return true;
}

/* At '(': skips to the matching ')' and past it. */
static void skip_parens(struct lex *l)
{
    int depth = 0;
    do {
        if (l->t.k == TK_END) {
            fail(l, "unbalanced parentheses");
            return;
        }
        if (is_punct(&l->t, '('))
            depth++;
        else if (is_punct(&l->t, ')'))
            depth--;
        next(l);
    } while (depth > 0);
}

/* Skips to the next ',' or ')' at this nesting level (not consumed), or the end. */
static void skip_element(struct lex *l)
{
    while (l->t.k != TK_END && !is_punct(&l->t, ',') && !is_punct(&l->t, ')')) {
        if (is_punct(&l->t, '('))
            skip_parens(l);
        else
            next(l);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Statement building                                                                          */

static void add_name(struct ddl_stmt *st, struct ddl_name *n)
{
    st->names = xrealloc(st->names, (st->nnames + 1) * sizeof(*st->names));
    st->names[st->nnames++] = *n;
    memset(n, 0, sizeof(*n));
}

static void add_str(char ***v, uint32_t *n, char *s)
{
    *v = xrealloc(*v, (*n + 1) * sizeof(char *));
    (*v)[(*n)++] = s;
}

static void name_free(struct ddl_name *n)
{
    free(n->db);
    free(n->name);
    memset(n, 0, sizeof(*n));
}

static void op_free(struct ddl_op *op)
{
    free(op->name);
    free(op->new_name);
    free(op->after);
    schema_col_clear(&op->col);
    for (uint32_t i = 0; i < op->npk_cols; i++)
        free(op->pk_cols[i]);
    free(op->pk_cols);
    name_free(&op->to);
}

void ddl_stmt_free(struct ddl_stmt *st)
{
    if (st == NULL)
        return;
    free(st->db);
    for (uint32_t i = 0; i < st->nnames; i++)
        name_free(&st->names[i]);
    free(st->names);
    for (uint32_t i = 0; i < st->ncols; i++)
        schema_col_clear(&st->cols[i]);
    free(st->cols);
    for (uint32_t i = 0; i < st->npk_cols; i++)
        free(st->pk_cols[i]);
    free(st->pk_cols);
    for (uint32_t i = 0; i < st->nops; i++)
        op_free(&st->ops[i]);
    free(st->ops);
    free(st->why);
    memset(st, 0, sizeof(*st));
}

/* ------------------------------------------------------------------------------------------ */
/* Column definitions                                                                          */

struct type_alias {
    const char *word, *word2, *type;
};

/* Synonyms as the server resolves them (sql_yacc.yy); word2 NULL = one word. Two-word entries
 * come first so they win. */
static const struct type_alias type_aliases[] = {
    {"double", "precision", "double"},
    {"character", "varying", "varchar"},
    {"char", "varying", "varchar"},
    {"national", "char", "char"},
    {"national", "character", "char"},
    {"national", "varchar", "varchar"},
    {"nchar", "varchar", "varchar"},
    {"nchar", "varying", "varchar"},
    {"long", "varbinary", "mediumblob"},
    {"long", "varchar", "mediumtext"},
    {"long", "byte", "mediumblob"},
    {"tinyint", NULL, "tinyint"},
    {"int1", NULL, "tinyint"},
    {"bool", NULL, "tinyint"},
    {"boolean", NULL, "tinyint"},
    {"smallint", NULL, "smallint"},
    {"int2", NULL, "smallint"},
    {"mediumint", NULL, "mediumint"},
    {"int3", NULL, "mediumint"},
    {"middleint", NULL, "mediumint"},
    {"int", NULL, "int"},
    {"integer", NULL, "int"},
    {"int4", NULL, "int"},
    {"bigint", NULL, "bigint"},
    {"int8", NULL, "bigint"},
    {"serial", NULL, "bigint"},
    {"decimal", NULL, "decimal"},
    {"dec", NULL, "decimal"},
    {"numeric", NULL, "decimal"},
    {"fixed", NULL, "decimal"},
    {"number", NULL, "decimal"},
    {"float", NULL, "float"},
    {"float4", NULL, "float"},
    {"double", NULL, "double"},
    {"float8", NULL, "double"},
    {"real", NULL, "double"},
    {"bit", NULL, "bit"},
    {"date", NULL, "date"},
    {"time", NULL, "time"},
    {"datetime", NULL, "datetime"},
    {"timestamp", NULL, "timestamp"},
    {"year", NULL, "year"},
    {"char", NULL, "char"},
    {"character", NULL, "char"},
    {"nchar", NULL, "char"},
    {"varchar", NULL, "varchar"},
    {"varchar2", NULL, "varchar"},
    {"nvarchar", NULL, "varchar"},
    {"binary", NULL, "binary"},
    {"varbinary", NULL, "varbinary"},
    {"tinytext", NULL, "tinytext"},
    {"text", NULL, "text"},
    {"mediumtext", NULL, "mediumtext"},
    {"longtext", NULL, "longtext"},
    {"long", NULL, "mediumtext"},
    {"clob", NULL, "longtext"},
    {"tinyblob", NULL, "tinyblob"},
    {"blob", NULL, "blob"},
    {"mediumblob", NULL, "mediumblob"},
    {"longblob", NULL, "longblob"},
    {"raw", NULL, "varbinary"},
    {"json", NULL, "json"},
    {"enum", NULL, "enum"},
    {"set", NULL, "set"},
    {"geometry", NULL, "geometry"},
    {"point", NULL, "point"},
    {"linestring", NULL, "linestring"},
    {"polygon", NULL, "polygon"},
    {"multipoint", NULL, "multipoint"},
    {"multilinestring", NULL, "multilinestring"},
    {"multipolygon", NULL, "multipolygon"},
    {"geometrycollection", NULL, "geometrycollection"},
    {"geomcollection", NULL, "geometrycollection"},
    {"inet4", NULL, "inet4"},
    {"inet6", NULL, "inet6"},
    {"uuid", NULL, "uuid"},
    {"vector", NULL, "vector"},
};

const char *ddl_normalize_type(const char *word, const char *word2, bool *used_word2)
{
    *used_word2 = false;
    for (size_t i = 0; i < sizeof(type_aliases) / sizeof(type_aliases[0]); i++) {
        const struct type_alias *a = &type_aliases[i];
        if (strcasecmp(a->word, word) != 0)
            continue;
        if (a->word2) {
            if (word2 && strcasecmp(a->word2, word2) == 0) {
                *used_word2 = true;
                return a->type;
            }
            continue;
        }
        return a->type;
    }
    return NULL;
}

/* A collation id of the character set (or collation) name: the decoder only needs the
 * character set. 0 when unknown. */
/* Decoding text only needs the character set, so any collation of it will do: the common
 * ones by name, the rest by the first id charset.c maps to that set. */
static uint16_t collation_of(const char *name)
{
    char cs[64];
    size_t n = strcspn(name, "_");
    if (strcasecmp(name, "binary") == 0)
        return 63;
    if (n >= sizeof(cs))
        return 0;
    memcpy(cs, name, n);
    cs[n] = '\0';
    if (strcasecmp(cs, "utf8") == 0)
        strcpy(cs, "utf8mb3");
    if (strcasecmp(cs, "utf8mb4") == 0)
        return 45;
    if (strcasecmp(cs, "utf8mb3") == 0)
        return 33;
    if (strcasecmp(cs, "latin1") == 0)
        return 8;
    for (unsigned id = 1; id < 2048; id++) {
        const char *csn = charset_name(id);
        if (csn && strcasecmp(csn, cs) == 0)
            return (uint16_t)id;
    }
    return 0;
}

static bool is_char_type(const char *t)
{
    static const char *const ts[] = {"char",       "varchar",  "tinytext", "text",
                                     "mediumtext", "longtext", "enum",     "set"};
    for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++)
        if (strcmp(t, ts[i]) == 0)
            return true;
    return false;
}

static bool is_binary_type(const char *t)
{
    static const char *const ts[] = {"binary",   "varbinary", "tinyblob", "blob", "mediumblob",
                                     "longblob", "inet4",     "inet6",    "uuid"};
    for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++)
        if (strcmp(t, ts[i]) == 0)
            return true;
    return false;
}

/* Reads "(a, b)" number arguments; returns how many (up to 2). */
static int num_args(struct lex *l, unsigned long *a, unsigned long *b)
{
    int n = 0;
    next(l); /* ( */
    while (l->t.k != TK_END && !is_punct(&l->t, ')')) {
        if (l->t.k == TK_WORD && isdigit((unsigned char)l->t.p[0])) {
            unsigned long v = strtoul(l->t.p, NULL, 10);
            if (n == 0)
                *a = v;
            else if (n == 1)
                *b = v;
            n++;
        }
        next(l);
    }
    if (!accept_punct(l, ')'))
        fail(l, "unbalanced parentheses in a type");
    return n;
}

/* The column definition after its name: type, then attributes, up to the ',' or ')' that ends
 * it. Sets *inline_pk for PRIMARY KEY (or a bare KEY), pos and after for FIRST / AFTER x. */
static void
coldef(struct lex *l, struct schema_col *c, bool *inline_pk, enum ddl_pos *pos, char **after)
{
    *inline_pk = false;
    c->nullable = true;
    if (l->t.k != TK_WORD) {
        fail(l, "expected a type for column \"%s\"", c->name);
        return;
    }
    char w1[64], w2[64] = "";
    snprintf(w1, sizeof(w1), "%.*s", (int)l->t.n, l->t.p);
    struct lex peek = *l;
    next(&peek);
    if (peek.t.k == TK_WORD)
        snprintf(w2, sizeof(w2), "%.*s", (int)peek.t.n, peek.t.p);
    bool used2;
    const char *type = ddl_normalize_type(w1, w2[0] ? w2 : NULL, &used2);
    if (type == NULL) {
        fail(l, "unknown type \"%s\" of column \"%s\"", w1, c->name);
        return;
    }
    next(l);
    if (used2)
        next(l);
    if (strcmp(type, "char") == 0 && accept_kw(l, "VARYING"))
        type = "varchar"; /* NATIONAL CHAR[ACTER] VARYING */
    bool serial = strcasecmp(w1, "serial") == 0;
    if (is_punct(&l->t, '(')) {
        if (strcmp(type, "enum") == 0 || strcmp(type, "set") == 0) {
            next(l);
            while (l->t.k == TK_STRING) {
                c->enums = xrealloc(c->enums, (c->nenums + 1) * sizeof(char *));
                c->enums[c->nenums++] = tok_text(&l->t);
                next(l);
                if (!accept_punct(l, ','))
                    break;
            }
            if (!accept_punct(l, ')'))
                fail(l, "bad value list of column \"%s\"", c->name);
        } else {
            unsigned long a = 0, b = 0;
            int n = num_args(l, &a, &b);
            if (strcmp(type, "decimal") == 0) {
                c->precision = n >= 1 ? (uint32_t)a : 10;
                c->scale = n >= 2 ? (uint32_t)b : 0;
            } else if (strcmp(type, "float") == 0 && n == 1 && a > 24) {
                type = "double";
            }
        }
    } else if (strcmp(type, "decimal") == 0) {
        c->precision = 10;
        c->scale = 0;
    }
    c->data_type = xstrdup(type);
    if (serial) {
        c->is_unsigned = true;
        c->nullable = false;
    }
    if (is_binary_type(type))
        c->collation = 63;
    bool prev_unique = false;
    while (!l->fail && l->t.k != TK_END && !is_punct(&l->t, ',') && !is_punct(&l->t, ')')) {
        bool unique = false;
        if (is_punct(&l->t, '(')) {
            skip_parens(l);
        } else if (accept_kw(l, "UNSIGNED") || accept_kw(l, "ZEROFILL")) {
            c->is_unsigned = true;
        } else if (accept_kw(l, "NOT")) {
            if (accept_kw(l, "NULL"))
                c->nullable = false;
        } else if (accept_kw(l, "NULL")) {
            c->nullable = true;
        } else if (accept_kw(l, "PRIMARY")) {
            accept_kw(l, "KEY");
            *inline_pk = true;
            c->nullable = false;
        } else if (accept_kw(l, "UNIQUE")) {
            unique = true;
        } else if (is_kw(&l->t, "KEY")) {
            next(l);
            if (!prev_unique) {
                *inline_pk = true;
                c->nullable = false;
            }
        } else if (accept_kw(l, "DEFAULT")) {
            /* One expression: a literal (maybe signed), a name, a call or (expr). */
            while (is_punct(&l->t, '-') || is_punct(&l->t, '+'))
                next(l);
            if (is_punct(&l->t, '(')) {
                skip_parens(l);
            } else if (l->t.k != TK_END) {
                next(l);
                if (is_punct(&l->t, '.')) { /* 1.5 splits into 1 . 5 */
                    next(l);
                    next(l);
                }
                if (is_punct(&l->t, '('))
                    skip_parens(l);
            }
        } else if (is_kw(&l->t, "CHARACTER") || is_kw(&l->t, "CHARSET") ||
                   is_kw(&l->t, "COLLATE")) {
            bool character = is_kw(&l->t, "CHARACTER");
            next(l);
            if (character)
                accept_kw(l, "SET");
            accept_punct(l, '=');
            if (l->t.k != TK_END) {
                char *n = tok_text(&l->t);
                uint16_t id = collation_of(n);
                /* CHAR/VARCHAR CHARACTER SET binary are BINARY/VARBINARY. */
                const char *bin = strcmp(type, "char") == 0      ? "binary"
                                  : strcmp(type, "varchar") == 0 ? "varbinary"
                                                                 : NULL;
                if (id == 63 && bin) {
                    free(c->data_type);
                    c->data_type = xstrdup(bin);
                }
                if (id && (is_char_type(type) || is_binary_type(type)))
                    c->collation = id;
                free(n);
                next(l);
            }
        } else if (accept_kw(l, "WITH")) {
            if (is_kw(&l->t, "SYSTEM"))
                l->sysvers = true;
        } else if (accept_kw(l, "REFERENCES")) {
            /* ON DELETE SET NULL is not a NULL attribute: skip the whole clause. */
            while (l->t.k != TK_END && !is_punct(&l->t, ',') && !is_punct(&l->t, ')') &&
                   !is_kw(&l->t, "FIRST") && !is_kw(&l->t, "AFTER")) {
                if (is_punct(&l->t, '('))
                    skip_parens(l);
                else
                    next(l);
            }
        } else if (accept_kw(l, "FIRST")) {
            if (pos)
                *pos = DDL_POS_FIRST;
        } else if (accept_kw(l, "AFTER")) {
            char *a = ident(l);
            if (pos && a) {
                *pos = DDL_POS_AFTER;
                free(*after);
                *after = a;
            } else {
                free(a);
            }
        } else {
            next(l);
        }
        prev_unique = unique;
    }
}

/* "(a, b(10) DESC, ...)" of a key: the column names. */
static void key_cols(struct lex *l, char ***cols, uint32_t *n)
{
    if (!accept_punct(l, '(')) {
        fail(l, "expected the key's column list");
        return;
    }
    while (!l->fail && l->t.k != TK_END && !is_punct(&l->t, ')')) {
        char *c = ident(l);
        if (c == NULL)
            return;
        add_str(cols, n, c);
        while (l->t.k != TK_END && !is_punct(&l->t, ',') && !is_punct(&l->t, ')')) {
            if (is_punct(&l->t, '('))
                skip_parens(l);
            else
                next(l);
        }
        accept_punct(l, ',');
    }
    if (!accept_punct(l, ')'))
        fail(l, "unbalanced key column list");
}

/* PRIMARY KEY [USING x] [name] (cols): at PRIMARY. */
static void primary_key(struct lex *l, char ***cols, uint32_t *n)
{
    accept_kw(l, "PRIMARY");
    accept_kw(l, "KEY");
    while (l->t.k != TK_END && !is_punct(&l->t, '(') && !is_punct(&l->t, ','))
        next(l); /* USING BTREE, an index name */
    key_cols(l, cols, n);
    /* Index options after the list (USING, COMMENT, ...): skipped by the caller. */
}

static bool is_table_constraint_kw(const struct tok *t)
{
    static const char *const kws[] = {"INDEX",   "KEY",     "UNIQUE",    "FULLTEXT",
                                      "SPATIAL", "FOREIGN", "CONSTRAINT"};
    for (size_t i = 0; i < sizeof(kws) / sizeof(kws[0]); i++)
        if (is_kw(t, kws[i]))
            return true;
    return false;
}

/* PERIOD FOR, VECTOR INDEX and CHECK (...) only when followed by their next word: those three
 * are also usable as column names. */
static bool is_table_constraint(const struct lex *l)
{
    const struct tok *t = &l->t;
    if (is_kw(t, "PERIOD") || is_kw(t, "VECTOR") || is_kw(t, "CHECK")) {
        struct lex peek = *l;
        next(&peek);
        if (is_kw(t, "PERIOD"))
            return is_kw(&peek.t, "FOR");
        if (is_kw(t, "VECTOR"))
            return is_kw(&peek.t, "INDEX") || is_kw(&peek.t, "KEY");
        return is_punct(&peek.t, '(');
    }
    return is_table_constraint_kw(t);
}

/* ------------------------------------------------------------------------------------------ */
/* CREATE TABLE                                                                                */

/* Table options after the element list: DEFAULT CHARSET, and whether a SELECT follows. */
static uint16_t table_options(struct lex *l, bool *select)
{
    uint16_t coll = 0;
    *select = false;
    while (l->t.k != TK_END) {
        if (is_kw(&l->t, "WITH")) {
            struct lex peek = *l;
            next(&peek);
            if (is_kw(&peek.t, "SYSTEM")) {
                *l = peek;
                l->sysvers = true;
                continue;
            }
        }
        if (is_kw(&l->t, "SELECT") || is_kw(&l->t, "WITH") || is_kw(&l->t, "VALUES") ||
            is_kw(&l->t, "TABLE")) {
            *select = true;
            return coll;
        }
        if (is_punct(&l->t, '(')) {
            struct lex peek = *l;
            next(&peek);
            if (is_kw(&peek.t, "SELECT") || is_kw(&peek.t, "WITH")) {
                *select = true;
                return coll;
            }
            skip_parens(l);
            continue;
        }
        if (is_kw(&l->t, "CHARACTER") || is_kw(&l->t, "CHARSET") || is_kw(&l->t, "COLLATE")) {
            bool character = is_kw(&l->t, "CHARACTER");
            bool collate = is_kw(&l->t, "COLLATE");
            next(l);
            if (character)
                accept_kw(l, "SET");
            accept_punct(l, '=');
            if (l->t.k == TK_WORD || l->t.k == TK_STRING || l->t.k == TK_QIDENT) {
                char *n = tok_text(&l->t);
                uint16_t id = collation_of(n);
                if (id && (collate || coll == 0))
                    coll = id;
                free(n);
            }
        }
        next(l);
    }
    return coll;
}

/* The element list after '(' has been consumed: columns, and the primary key by names. */
static void
create_elements(struct lex *l, struct schema_col **cols, uint32_t *ncols, char ***pk, uint32_t *npk)
{
    while (!l->fail && l->t.k != TK_END && !is_punct(&l->t, ')')) {
        if (l->t.k == TK_WORD && accept_kw(l, "CONSTRAINT")) {
            if (!is_kw(&l->t, "PRIMARY") && !is_kw(&l->t, "UNIQUE") && !is_kw(&l->t, "FOREIGN") &&
                !is_kw(&l->t, "CHECK"))
                next(l); /* the constraint's name */
        }
        if (is_kw(&l->t, "PRIMARY")) {
            for (uint32_t i = 0; i < *npk; i++)
                free((*pk)[i]);
            *npk = 0;
            primary_key(l, pk, npk);
            skip_element(l);
        } else if (l->t.k == TK_WORD && is_table_constraint(l)) {
            skip_element(l);
        } else {
            struct schema_col c = {0};
            c.name = ident(l);
            if (c.name == NULL)
                return;
            bool inline_pk;
            coldef(l, &c, &inline_pk, NULL, NULL);
            if (l->fail) {
                schema_col_clear(&c);
                return;
            }
            if (inline_pk) {
                for (uint32_t i = 0; i < *npk; i++)
                    free((*pk)[i]);
                *npk = 0;
                add_str(pk, npk, xstrdup(c.name));
            }
            *cols = xrealloc(*cols, (*ncols + 1) * sizeof(**cols));
            (*cols)[(*ncols)++] = c;
        }
        if (!accept_punct(l, ','))
            break;
    }
    if (!accept_punct(l, ')'))
        fail(l, "unbalanced column list");
}

/* CREATE [OR REPLACE] TABLE, after TABLE. */
static void parse_create_table(struct lex *l, struct ddl_stmt *st)
{
    if (accept_kw(l, "IF")) {
        accept_kw(l, "NOT");
        accept_kw(l, "EXISTS");
        st->if_not_exists = true;
    }
    struct ddl_name n;
    if (!qname(l, &n))
        return;
    add_name(st, &n);
    bool like = accept_kw(l, "LIKE"), paren_like = false;
    if (!like && is_punct(&l->t, '(')) {
        struct lex peek = *l;
        next(&peek);
        if (is_kw(&peek.t, "LIKE")) {
            *l = peek;
            next(l);
            like = paren_like = true;
        }
    }
    if (like) {
        if (!qname(l, &n))
            return;
        add_name(st, &n);
        if (paren_like && !accept_punct(l, ')'))
            fail(l, "unbalanced (LIKE ...)");
        st->kind = DDL_CREATE_LIKE;
        return;
    }
    st->kind = DDL_CREATE_TABLE;
    if (is_punct(&l->t, '(')) {
        struct lex peek = *l;
        next(&peek);
        if (!is_kw(&peek.t, "SELECT") && !is_kw(&peek.t, "WITH")) {
            *l = peek;
            create_elements(l, &st->cols, &st->ncols, &st->pk_cols, &st->npk_cols);
            if (l->fail)
                return;
        }
    }
    bool select = false;
    uint16_t coll = table_options(l, &select);
    if (select) {
        st->kind = DDL_RELOAD;
        st->why = xstrdup("CREATE TABLE ... SELECT");
        return;
    }
    if (l->sysvers) {
        /* The server adds hidden row_start/row_end columns (or uses the named PERIOD FOR
         * SYSTEM_TIME ones): what information_schema and TABLES.TABLE_TYPE say is simpler to
         * follow than their rules. */
        st->kind = DDL_RELOAD;
        st->why = xstrdup("WITH SYSTEM VERSIONING");
        return;
    }
    if (st->ncols == 0) {
        fail(l, "CREATE TABLE without columns");
        return;
    }
    for (uint32_t i = 0; i < st->ncols; i++)
        if (st->cols[i].collation == 0 && coll && is_char_type(st->cols[i].data_type))
            st->cols[i].collation = coll;
    /* Primary key columns are NOT NULL. */
    for (uint32_t k = 0; k < st->npk_cols; k++)
        for (uint32_t i = 0; i < st->ncols; i++)
            if (strcasecmp(st->cols[i].name, st->pk_cols[k]) == 0)
                st->cols[i].nullable = false;
}

/* ------------------------------------------------------------------------------------------ */
/* ALTER TABLE                                                                                 */

static struct ddl_op *new_op(struct ddl_stmt *st, enum ddl_op_kind k)
{
    st->ops = xrealloc(st->ops, (st->nops + 1) * sizeof(*st->ops));
    struct ddl_op *op = &st->ops[st->nops++];
    memset(op, 0, sizeof(*op));
    op->kind = k;
    return op;
}

/* Leading words of ALTER clauses that never change columns or the primary key, each followed by
 * a space. */
static const char ignored_alter[] =
    "ENGINE ALGORITHM LOCK FORCE AUTO_INCREMENT COMMENT ROW_FORMAT KEY_BLOCK_SIZE "
    "DISCARD IMPORT COALESCE REORGANIZE TRUNCATE REMOVE PARTITION PARTITIONS ENABLE "
    "DISABLE WITH WITHOUT EXCHANGE STATS_AUTO_RECALC STATS_PERSISTENT "
    "STATS_SAMPLE_PAGES PACK_KEYS CHECKSUM DEFAULT CHARACTER CHARSET COLLATE UNION "
    "INSERT_METHOD MAX_ROWS MIN_ROWS AVG_ROW_LENGTH DELAY_KEY_WRITE PAGE_CHECKSUM "
    "TRANSACTIONAL ENCRYPTED ENCRYPTION_KEY_ID PAGE_COMPRESSED "
    "PAGE_COMPRESSION_LEVEL ENCRYPTION COMPRESSION TABLESPACE STORAGE DATA INDEX "
    "CONNECTION PASSWORD ANALYZE CHECK OPTIMIZE REBUILD REPAIR UPGRADE "
    "SECONDARY_ENGINE SECONDARY_LOAD SECONDARY_UNLOAD AUTOEXTEND_SIZE START SEQUENCE "
    "IETF_QUOTES ATTRIBUTE ENGINE_ATTRIBUTE SECONDARY_ENGINE_ATTRIBUTE MINVALUE "
    "MAXVALUE NOMINVALUE NOMAXVALUE INCREMENT CACHE NOCACHE CYCLE NOCYCLE RESTART ";

static bool alter_ignored(const struct tok *t)
{
    if (t->k != TK_WORD || t->n > 40)
        return false;
    char w[48];
    for (size_t i = 0; i < t->n; i++)
        w[i] = (char)toupper((unsigned char)t->p[i]);
    w[t->n] = ' ';
    w[t->n + 1] = '\0';
    /* A match must start the list or follow a space. */
    for (const char *p = strstr(ignored_alter, w); p; p = strstr(p + 1, w))
        if (p == ignored_alter || p[-1] == ' ')
            return true;
    return false;
}

static void column_if_exists(struct lex *l, struct ddl_op *op)
{
    accept_kw(l, "COLUMN");
    if (is_kw(&l->t, "IF")) {
        struct lex peek = *l;
        next(&peek);
        if (is_kw(&peek.t, "EXISTS")) {
            next(l);
            next(l);
            op->if_exists = true;
        } else if (is_kw(&peek.t, "NOT")) {
            next(l);
            next(l);
            accept_kw(l, "EXISTS");
            op->if_not_exists = true;
        }
    }
}

/* One ALTER clause. Returns false to stop (statement not understood). */
static bool alter_clause(struct lex *l, struct ddl_stmt *st)
{
    if (accept_kw(l, "ADD")) {
        if (accept_kw(l, "CONSTRAINT")) {
            if (!is_kw(&l->t, "PRIMARY") && !is_kw(&l->t, "UNIQUE") && !is_kw(&l->t, "FOREIGN") &&
                !is_kw(&l->t, "CHECK"))
                next(l);
            if (!is_kw(&l->t, "PRIMARY")) {
                skip_element(l);
                return true;
            }
        }
        if (is_kw(&l->t, "PRIMARY")) {
            struct ddl_op *op = new_op(st, DDL_OP_ADD_PK);
            primary_key(l, &op->pk_cols, &op->npk_cols);
            skip_element(l);
            return !l->fail;
        }
        if (is_kw(&l->t, "SYSTEM")) {
            st->kind = DDL_RELOAD;
            st->why = xstrdup("ADD SYSTEM VERSIONING");
            return false;
        }
        if (is_table_constraint(l) || is_kw(&l->t, "PARTITION")) {
            skip_element(l);
            return true;
        }
        struct ddl_op proto = {0};
        column_if_exists(l, &proto);
        bool list = accept_punct(l, '(');
        do {
            struct ddl_op *op = new_op(st, DDL_OP_ADD_COLUMN);
            op->if_not_exists = proto.if_not_exists;
            op->col.name = ident(l);
            if (op->col.name == NULL)
                return false;
            coldef(l, &op->col, &op->inline_pk, &op->pos, &op->after);
            if (l->fail)
                return false;
        } while (list && accept_punct(l, ','));
        if (list && !accept_punct(l, ')')) {
            fail(l, "unbalanced ADD column list");
            return false;
        }
        return true;
    }
    if (accept_kw(l, "DROP")) {
        if (accept_kw(l, "PRIMARY")) {
            accept_kw(l, "KEY");
            new_op(st, DDL_OP_DROP_PK);
            return true;
        }
        if (is_kw(&l->t, "SYSTEM")) {
            st->kind = DDL_RELOAD;
            st->why = xstrdup("DROP SYSTEM VERSIONING");
            return false;
        }
        if (is_kw(&l->t, "INDEX") || is_kw(&l->t, "KEY") || is_kw(&l->t, "FOREIGN") ||
            is_kw(&l->t, "CONSTRAINT") || is_kw(&l->t, "CHECK") || is_kw(&l->t, "PARTITION") ||
            is_kw(&l->t, "PERIOD") || is_kw(&l->t, "DEFAULT")) {
            skip_element(l);
            return true;
        }
        struct ddl_op *op = new_op(st, DDL_OP_DROP_COLUMN);
        column_if_exists(l, op);
        op->name = ident(l);
        skip_element(l); /* RESTRICT | CASCADE */
        return op->name != NULL;
    }
    bool modify = is_kw(&l->t, "MODIFY");
    if (modify || is_kw(&l->t, "CHANGE")) {
        next(l);
        struct ddl_op *op = new_op(st, modify ? DDL_OP_MODIFY_COLUMN : DDL_OP_CHANGE_COLUMN);
        column_if_exists(l, op);
        if (!modify) {
            op->name = ident(l);
            if (op->name == NULL)
                return false;
        }
        op->col.name = ident(l);
        if (op->col.name == NULL)
            return false;
        coldef(l, &op->col, &op->inline_pk, &op->pos, &op->after);
        return !l->fail;
    }
    if (accept_kw(l, "RENAME")) {
        if (is_kw(&l->t, "INDEX") || is_kw(&l->t, "KEY")) {
            skip_element(l);
            return true;
        }
        if (accept_kw(l, "COLUMN")) {
            struct ddl_op *op = new_op(st, DDL_OP_RENAME_COLUMN);
            if (is_kw(&l->t, "IF")) {
                next(l);
                accept_kw(l, "EXISTS");
                op->if_exists = true;
            }
            op->name = ident(l);
            if (!accept_kw(l, "TO"))
                fail(l, "expected TO in RENAME COLUMN");
            op->new_name = op->name ? ident(l) : NULL;
            return !l->fail;
        }
        if (!accept_kw(l, "TO"))
            accept_kw(l, "AS");
        struct ddl_op *op = new_op(st, DDL_OP_RENAME_TABLE);
        return qname(l, &op->to);
    }
    if (accept_kw(l, "ALTER")) {
        /* ALTER [COLUMN] c SET DEFAULT / DROP DEFAULT / SET VISIBLE, ALTER INDEX ... */
        skip_element(l);
        return true;
    }
    if (accept_kw(l, "ORDER")) {
        /* ORDER BY a, b: its commas are not clause separators; it ends the statement. */
        while (l->t.k != TK_END)
            next(l);
        return true;
    }
    if (accept_kw(l, "CONVERT")) {
        st->kind = DDL_RELOAD;
        st->why = xstrdup("CONVERT TO CHARACTER SET");
        return false;
    }
    if (l->t.k == TK_WORD && alter_ignored(&l->t)) {
        skip_element(l);
        return true;
    }
    fail(l, "ALTER TABLE clause \"%.*s\" not understood", (int)l->t.n, l->t.p);
    return false;
}

static void parse_alter_table(struct lex *l, struct ddl_stmt *st)
{
    if (accept_kw(l, "IF")) {
        accept_kw(l, "EXISTS");
        st->if_exists = true;
    }
    struct ddl_name n;
    if (!qname(l, &n))
        return;
    add_name(st, &n);
    st->kind = DDL_ALTER_TABLE;
    if (accept_kw(l, "WAIT"))
        next(l);
    else
        accept_kw(l, "NOWAIT");
    while (!l->fail && l->t.k != TK_END) {
        if (!alter_clause(l, st))
            return;
        if (l->fail)
            return;
        if (!accept_punct(l, ',')) {
            if (l->t.k == TK_END || is_punct(&l->t, ';'))
                break;
            /* Space-separated table options: ENGINE=x ROW_FORMAT=y */
            if (l->t.k == TK_WORD && alter_ignored(&l->t))
                continue;
            fail(l, "unexpected \"%.*s\" after an ALTER TABLE clause", (int)l->t.n, l->t.p);
            return;
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* DROP / RENAME / TRUNCATE                                                                    */

static void name_list(struct lex *l, struct ddl_stmt *st)
{
    do {
        struct ddl_name n;
        if (!qname(l, &n))
            return;
        add_name(st, &n);
    } while (accept_punct(l, ','));
}

static void parse_rename(struct lex *l, struct ddl_stmt *st)
{
    if (accept_kw(l, "IF")) {
        accept_kw(l, "EXISTS");
        st->if_exists = true;
    }
    st->kind = DDL_RENAME_TABLE;
    do {
        struct ddl_name a, b;
        if (!qname(l, &a))
            return;
        add_name(st, &a);
        if (accept_kw(l, "WAIT"))
            next(l);
        else
            accept_kw(l, "NOWAIT");
        if (!accept_kw(l, "TO")) {
            fail(l, "expected TO in RENAME TABLE");
            return;
        }
        if (!qname(l, &b))
            return;
        add_name(st, &b);
    } while (accept_punct(l, ','));
}

/* ------------------------------------------------------------------------------------------ */
/* Entry                                                                                       */

/* The first word decides quickly whether the statement can change a table. */
/* TEMPORARY tables are left out on purpose: ROW-format binlogs never carry their rows. VIEW,
 * INDEX, TRIGGER, ROUTINE, USER, ... statements change no column, so they are DDL_NONE. */
static void parse_stmt(struct lex *l, struct ddl_stmt *st)
{
    if (accept_kw(l, "CREATE")) {
        if (accept_kw(l, "OR"))
            accept_kw(l, "REPLACE"), st->or_replace = true;
        if (accept_kw(l, "TEMPORARY"))
            return; /* not logged in ROW format, and never in our model */
        if (accept_kw(l, "TABLE")) {
            parse_create_table(l, st);
            return;
        }
        if (accept_kw(l, "DATABASE") || accept_kw(l, "SCHEMA")) {
            if (accept_kw(l, "IF")) {
                accept_kw(l, "NOT");
                accept_kw(l, "EXISTS");
                st->if_not_exists = true;
            }
            st->db = ident(l);
            st->kind = DDL_CREATE_DB;
            return;
        }
        if (accept_kw(l, "SEQUENCE")) {
            if (accept_kw(l, "IF")) {
                accept_kw(l, "NOT");
                accept_kw(l, "EXISTS");
            }
            struct ddl_name n;
            if (qname(l, &n))
                add_name(st, &n);
            st->kind = DDL_RELOAD;
            st->why = xstrdup("CREATE SEQUENCE");
            return;
        }
        return; /* VIEW, INDEX, USER, TRIGGER, PROCEDURE, ... */
    }
    if (accept_kw(l, "ALTER")) {
        accept_kw(l, "ONLINE");
        accept_kw(l, "OFFLINE");
        accept_kw(l, "IGNORE");
        if (accept_kw(l, "TABLE"))
            parse_alter_table(l, st);
        return;
    }
    if (accept_kw(l, "DROP")) {
        if (accept_kw(l, "TEMPORARY"))
            return;
        bool seq = false;
        if (accept_kw(l, "TABLE") || accept_kw(l, "TABLES") || (seq = accept_kw(l, "SEQUENCE"))) {
            if (accept_kw(l, "IF")) {
                accept_kw(l, "EXISTS");
                st->if_exists = true;
            }
            st->kind = DDL_DROP_TABLE;
            name_list(l, st);
            (void)seq;
            return;
        }
        if (accept_kw(l, "DATABASE") || accept_kw(l, "SCHEMA")) {
            if (accept_kw(l, "IF")) {
                accept_kw(l, "EXISTS");
                st->if_exists = true;
            }
            st->db = ident(l);
            st->kind = DDL_DROP_DB;
        }
        return;
    }
    if (accept_kw(l, "RENAME")) {
        if (accept_kw(l, "TABLE") || accept_kw(l, "TABLES"))
            parse_rename(l, st);
        return;
    }
    if (accept_kw(l, "TRUNCATE")) {
        accept_kw(l, "TABLE");
        struct ddl_name n;
        if (qname(l, &n))
            add_name(st, &n);
        st->kind = DDL_TRUNCATE;
        return;
    }
}

/* Quick test of the first word, before any allocation: most query events are BEGIN/COMMIT. */
static bool maybe_ddl(const char *sql, size_t len)
{
    struct lex l;
    lex_init(&l, sql, len);
    return is_kw(&l.t, "CREATE") || is_kw(&l.t, "ALTER") || is_kw(&l.t, "DROP") ||
           is_kw(&l.t, "RENAME") || is_kw(&l.t, "TRUNCATE");
}

void ddl_parse(const char *sql, size_t len, struct ddl_stmt *st)
{
    memset(st, 0, sizeof(*st));
    if (!maybe_ddl(sql, len))
        return;
    struct lex l;
    lex_init(&l, sql, len);
    parse_stmt(&l, st);
    if (l.fail) {
        /* Keep the names found (best effort), drop the half-built definitions. */
        uint32_t nn = st->nnames;
        struct ddl_name *names = st->names;
        st->names = NULL;
        st->nnames = 0;
        ddl_stmt_free(st);
        st->names = names;
        st->nnames = nn;
        st->kind = DDL_UNPARSED;
        st->why = xstrdup(l.why);
    }
}
