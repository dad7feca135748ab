/*
 * mysql_types.h — column type codes as they appear in TABLE_MAP events (enum_field_types).
 */
#ifndef SLUICE_MYSQL_TYPES_H
#define SLUICE_MYSQL_TYPES_H

enum mysql_type {
    MYSQL_T_DECIMAL = 0, /* pre-5.0 decimal, never in ROW binlogs */
    MYSQL_T_TINY = 1,
    MYSQL_T_SHORT = 2,
    MYSQL_T_LONG = 3,
    MYSQL_T_FLOAT = 4,
    MYSQL_T_DOUBLE = 5,
    MYSQL_T_NULL = 6,
    MYSQL_T_TIMESTAMP = 7,
    MYSQL_T_LONGLONG = 8,
    MYSQL_T_INT24 = 9,
    MYSQL_T_DATE = 10,
    MYSQL_T_TIME = 11,
    MYSQL_T_DATETIME = 12,
    MYSQL_T_YEAR = 13,
    MYSQL_T_NEWDATE = 14,
    MYSQL_T_VARCHAR = 15,
    MYSQL_T_BIT = 16,
    MYSQL_T_TIMESTAMP2 = 17,
    MYSQL_T_DATETIME2 = 18,
    MYSQL_T_TIME2 = 19,
    MYSQL_T_TYPED_ARRAY = 20,
    MYSQL_T_BLOB_COMPRESSED = 140,    /* MariaDB column compression */
    MYSQL_T_VARCHAR_COMPRESSED = 141, /* MariaDB column compression */
    MYSQL_T_VECTOR = 242,
    MYSQL_T_INVALID = 243,
    MYSQL_T_BOOL = 244,
    MYSQL_T_JSON = 245,
    MYSQL_T_NEWDECIMAL = 246,
    MYSQL_T_ENUM = 247,
    MYSQL_T_SET = 248,
    MYSQL_T_TINY_BLOB = 249,
    MYSQL_T_MEDIUM_BLOB = 250,
    MYSQL_T_LONG_BLOB = 251,
    MYSQL_T_BLOB = 252,
    MYSQL_T_VAR_STRING = 253,
    MYSQL_T_STRING = 254,
    MYSQL_T_GEOMETRY = 255,
};

#endif
