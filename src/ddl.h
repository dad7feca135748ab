/*
 * ddl.h — a small parser for the DDL statements found in binlog QUERY events: just enough of
 * MySQL/MariaDB syntax to follow table definitions (CREATE/ALTER/DROP/RENAME/TRUNCATE TABLE,
 * CREATE/DROP DATABASE). It does not validate SQL: the server already accepted the statement.
 *
 * Output is a struct ddl_stmt listing what happened to which tables; schema.c applies it to its
 * model. Statements that are not DDL (DML, BEGIN, GRANT, SET, ...) come back as DDL_NONE.
 */
#ifndef SLUICE_DDL_H
#define SLUICE_DDL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema.h"

enum ddl_kind {
    DDL_NONE,         /* not a statement that changes table definitions */
    DDL_CREATE_TABLE, /* table = the new definition (columns, pk) */
    DDL_CREATE_LIKE,  /* names[0] = new table, names[1] = the source */
    DDL_ALTER_TABLE,  /* names[0] = the table, ops = the clauses */
    DDL_DROP_TABLE,   /* names = the tables */
    DDL_RENAME_TABLE, /* names = pairs from, to */
    DDL_TRUNCATE,     /* names[0]; no schema change */
    DDL_CREATE_DB,    /* db */
    DDL_DROP_DB,      /* db */
    DDL_RELOAD,       /* names: reload these tables from the server (CREATE ... SELECT,
                         CREATE SEQUENCE, ALTER clauses we do not model) */
    DDL_UNPARSED,     /* a DDL we could not parse; names = the tables it names, best effort */
};

enum ddl_op_kind {
    DDL_OP_ADD_COLUMN,    /* col, pos */
    DDL_OP_DROP_COLUMN,   /* name */
    DDL_OP_MODIFY_COLUMN, /* col (its name = the column), pos */
    DDL_OP_CHANGE_COLUMN, /* name = old name, col = new definition, pos */
    DDL_OP_RENAME_COLUMN, /* name = old, new_name */
    DDL_OP_ADD_PK,        /* pk_cols */
    DDL_OP_DROP_PK,
    DDL_OP_RENAME_TABLE, /* to */
};

enum ddl_pos {
    DDL_POS_DEFAULT, /* last (ADD) or unchanged (MODIFY/CHANGE) */
    DDL_POS_FIRST,
    DDL_POS_AFTER, /* after column `after` */
};

struct ddl_name {
    char *db; /* NULL: the statement's default db */
    char *name;
};

struct ddl_op {
    enum ddl_op_kind kind;
    bool if_exists;     /* DROP/MODIFY/CHANGE/RENAME COLUMN IF EXISTS */
    bool if_not_exists; /* ADD COLUMN IF NOT EXISTS */
    bool inline_pk;     /* ADD/MODIFY/CHANGE col ... PRIMARY KEY */
    char *name;
    char *new_name;
    struct schema_col col;
    enum ddl_pos pos;
    char *after;
    uint32_t npk_cols;
    char **pk_cols;
    struct ddl_name to;
};

struct ddl_stmt {
    enum ddl_kind kind;
    bool if_exists;
    bool if_not_exists;
    bool or_replace;
    char *db; /* CREATE/DROP DATABASE */
    uint32_t nnames;
    struct ddl_name *names;
    /* CREATE TABLE: columns and primary key, by column names (pk resolved by schema.c). */
    uint32_t ncols;
    struct schema_col *cols;
    uint32_t npk_cols;
    char **pk_cols;
    /* ALTER TABLE */
    uint32_t nops;
    struct ddl_op *ops;
    char *why; /* DDL_UNPARSED / DDL_RELOAD: what was not understood */
};

/* Parses sql[0..len). Always fills *st (free with ddl_stmt_free): DDL_NONE for statements that
 * do not change tables, DDL_UNPARSED (with names best effort and `why`) for DDL it could not
 * follow. */
void ddl_parse(const char *sql, size_t len, struct ddl_stmt *st);
void ddl_stmt_free(struct ddl_stmt *st);

/* Normalises a type name as written in DDL ("INTEGER", "DOUBLE PRECISION", "BOOL") into
 * information_schema's DATA_TYPE ("int", "double", "tinyint"); NULL when unknown. */
const char *ddl_normalize_type(const char *word, const char *word2, bool *used_word2);

#endif
