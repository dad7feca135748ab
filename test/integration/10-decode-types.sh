#!/bin/sh
# 10-decode-types.sh — every MariaDB column type, decoded by `sluice decode`, compared with what
# the server itself returns.
#
# A throw-away MariaDB (binlog_row_metadata=FULL) gets one table per type family, edge values
# inserted (min/max, zero dates, negative times, every fsp, charsets, emoji, control characters,
# long values, NULLs), then some rows updated, then some deleted. After each phase every table
# is read back with SELECT, each row rendered by the server in sluice's JSON format (JSON_OBJECT
# over CAST/CONVERT/TO_BASE64/HEX expressions chosen from information_schema's type of each
# column) — the expected side never copies a literal from the SQL. Then, per table:
#   - every decoded insert equals the row SELECT returned after the inserts, none missing;
#   - every decoded update's "old" equals the row before the updates, its "data" the row after;
#   - every decoded delete's "data" equals the row before the deletes;
#   - the decoded stream applied in order (a map keyed by id) equals the final SELECT.
# FLOAT columns are compared as float32 (the server renders a FLOAT with 6 digits, so the
# expected side is the exact value as DOUBLE and the decoded number must round to it); integers
# of 16+ digits are compared as text (jq 1.6 reads numbers as doubles).
# The whole run is done twice: plain, and with log_bin_compress=ON (compressed query and rows
# events must decode the same). One check per table per mode, plus per mode: the decode exits 0,
# every row line has ts/pos/gtid, and the event counts of --stats equal SHOW BINLOG EVENTS.
set -eu
. "$(dirname "$0")/lib.sh"

need_cmd mariadb-install-db mariadbd mariadb mariadb-admin jq
need_sluice

DB=sluice_types
W=$TEST_TMP/work
mkdir -p "$W"

# ---- the SQL ---------------------------------------------------------------------------------
# Generated pieces first: big ENUM/SET member lists and a 300-column table.
seq_list() { # seq_list PREFIX N → 'P1','P2',...,'PN'
    _i=1
    _out=""
    while [ "$_i" -le "$2" ]; do
        _out="$_out${_out:+,}'$1$_i'"
        _i=$((_i + 1))
    done
    printf '%s' "$_out"
}
ALL_BYTES=$(i=0; while [ $i -lt 256 ]; do printf '%02X' $i; i=$((i + 1)); done)
ENUM300=$(seq_list m 300)
SET9=$(seq_list a 9)
SET20=$(seq_list b 20)
SET30=$(seq_list c 30)
SET64=$(seq_list s 64)
WIDE_N=300
wide_cols() { # column definitions
    _i=1
    while [ $_i -le $WIDE_N ]; do
        printf ', c%d SMALLINT' $_i
        _i=$((_i + 1))
    done
}
wide_row() { # wide_row ID MODE: MODE all → c_i = i, null → all NULL, alt → NULL / -i
    printf '(%d' "$1"
    _i=1
    while [ $_i -le $WIDE_N ]; do
        case $2 in
        all) printf ',%d' $_i ;;
        null) printf ',NULL' ;;
        alt) if [ $((_i % 2)) = 1 ]; then printf ',NULL'; else printf ',%d' $((-_i)); fi ;;
        esac
        _i=$((_i + 1))
    done
    printf ')'
}

cat >"$W/inserts.sql" <<EOF
-- @t_int
CREATE TABLE t_int (
  id INT PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
  mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED,
  bi BIGINT, biu BIGINT UNSIGNED, bo BOOLEAN, zf INT(8) ZEROFILL
) ENGINE=InnoDB;
INSERT INTO t_int VALUES
 (1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0, 0, 0),
 (2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295,
     9223372036854775807, 18446744073709551615, 1, 4294967295);
INSERT INTO t_int VALUES (3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
INSERT INTO t_int VALUES
 (4, -1, 128, -1, 32768, -1, 8388608, -1, 2147483648, -1, 9223372036854775808, -1, 12345),
 (5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (6, 1, 1, 256, 256, 65536, 65536, 16777216, 16777216, 4294967296, 4294967296, 2, 7),
 (7, -2, 254, -32767, 65534, -8388607, 16777214, -2147483647, 4294967294,
     -9223372036854775807, 18446744073709551614, 127, 99999999);

-- @t_bit
CREATE TABLE t_bit (
  id INT PRIMARY KEY, b1 BIT(1), b7 BIT(7), b8 BIT(8), b9 BIT(9), b17 BIT(17), b33 BIT(33),
  b63 BIT(63), b64 BIT(64)
);
INSERT INTO t_bit VALUES
 (1, 0, 0, 0, 0, 0, 0, 0, 0),
 (2, b'1', b'1111111', 0xFF, b'111111111', b'11111111111111111', 0x1FFFFFFFF,
     0x7FFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFF),
 (3, 1, 0x55, 0xA5, 0x101, 0x10001, 0x100000001, 0x4000000000000001, 0x8000000000000001),
 (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (5, 1, 1, 1, 1, 1, 1, 1, 1);

-- @t_decimal
CREATE TABLE t_decimal (
  id INT PRIMARY KEY,
  d1 DECIMAL(1,0), d5_2 DECIMAL(5,2), d9_9 DECIMAL(9,9), d10_0 DECIMAL(10,0),
  d10_5 DECIMAL(10,5), d18_9 DECIMAL(18,9), d19_4 DECIMAL(19,4), d20_10 DECIMAL(20,10),
  d38_0 DECIMAL(38,0), d65_30 DECIMAL(65,30), d65_0 DECIMAL(65,0), d40_38 DECIMAL(40,38),
  du DECIMAL(12,3) UNSIGNED, ddef DECIMAL
);
INSERT INTO t_decimal VALUES
 (1, 1e70, 1e70, 1e70, 1e70, 1e70, 1e70, 1e70, 1e70, 1e70, 1e70, 1e70, 1e70, 1e70, 1e70),
 (2, -1e70, -1e70, -1e70, -1e70, -1e70, -1e70, -1e70, -1e70, -1e70, -1e70, -1e70, -1e70, -1e70, -1e70),
 (3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
 (4, 1, 0.01, 0.000000001, 1, 0.00001, 0.000000001, 0.0001, 0.0000000001, 1,
     0.000000000000000000000000000001, 1, 0.00000000000000000000000000000000000001, 0.001, 1),
 (5, -1, -12.34, -0.123456789, -1234567890, -12345.6789, -123456789.123456789,
     -123456789012345.6789, -1234567890.0123456789, -12345678901234567890123456789012345678,
     -12345678901234567890123456789012345.123456789012345678901234567890,
     -12345678901234567890123456789012345678901234567890123456789012345,
     -1.23456789012345678901234567890123456789, 123456789.123, -9876543210),
 (6, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (7, 5, 100.5, 0.5, 1000000000, 10000.00001, 100000000.000000001, 100000000000000.0001,
     1000000000.0000000001, 10000000000000000000000000000000000000,
     1000000000.000000001, 1000000000000000000000000000000000000000000000000000000000000000,
     0.10000000000000000000000000000000000001, 1.5, 4294967296),
 (8, -0, -0.01, -0.000000001, -1, -0.00001, -0.000000001, -0.0001, -0.0000000001, -1,
     -0.000000000000000000000000000001, -1, -0.00000000000000000000000000000000000001, 0, -1);

-- @t_float
CREATE TABLE t_float (
  id INT PRIMARY KEY, f FLOAT, fu FLOAT UNSIGNED, f73 FLOAT(7,3), d DOUBLE, d102 DOUBLE(10,2),
  r REAL
);
INSERT INTO t_float VALUES
 (1, 0, 0, 0, 0, 0, 0),
 (2, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1),
 (3, -1.5, 2.5, -1.5, -1.5, -1.5, -1.5),
 (4, 3.4028234e38, 3.4028234e38, 9999.999, 1.7976931348623157e308, 99999999.99, -1.7976931348623157e308),
 (5, -3.4028234e38, 1.17549435e-38, -9999.999, 2.2250738585072014e-308, -99999999.99, 4.9406564584124654e-324),
 (6, 1.4e-45, 1.4e-45, 0.001, 0.1, 0.01, 1e-300),
 (7, 0.1, 16777217, 123.456, 1e21, 12345678.9, 123456789012345680000),
 (8, 123456.789, 3.14159265358979, 3.1415, 3.141592653589793, 3.14, 2.718281828459045),
 (9, NULL, NULL, NULL, NULL, NULL, NULL),
 (10, -0.0, 1e-10, -0.001, -0.0, -0.01, 1e-5),
 (11, 16777216, 8388607.5, 1234.5, 9007199254740993, 1e7, 0.30000000000000004);

-- @t_date
CREATE TABLE t_date (id INT PRIMARY KEY, d DATE, d2 DATE);
INSERT INTO t_date VALUES
 (1, '1000-01-01', '9999-12-31'), (2, '9999-12-31', '1000-01-01'), (3, '0000-00-00', '0000-00-00'),
 (4, '2024-02-29', '1970-01-01'), (5, '2024-00-00', '2024-05-00'), (6, '0001-01-01', '0000-01-01'),
 (7, NULL, NULL), (8, '2038-01-19', NULL);

-- @t_time
CREATE TABLE t_time (
  id INT PRIMARY KEY, t0 TIME, t1 TIME(1), t2 TIME(2), t3 TIME(3), t4 TIME(4), t5 TIME(5), t6 TIME(6)
);
INSERT INTO t_time VALUES
 (1, '-838:59:59', '-838:59:59', '-838:59:59', '-838:59:59', '-838:59:59', '-838:59:59', '-838:59:59'),
 (2, '838:59:59', '838:59:59', '838:59:59', '838:59:59', '838:59:59', '838:59:59', '838:59:59'),
 (3, '00:00:00', '00:00:00', '00:00:00', '00:00:00', '00:00:00', '00:00:00', '00:00:00'),
 (4, '-00:00:01', '-00:00:00.1', '-00:00:00.01', '-00:00:00.001', '-00:00:00.0001', '-00:00:00.00001', '-00:00:00.000001'),
 (5, '12:34:56.123456', '12:34:56.123456', '12:34:56.123456', '12:34:56.123456', '12:34:56.123456', '12:34:56.123456', '12:34:56.123456'),
 (6, '-12:34:56.654321', '-12:34:56.654321', '-12:34:56.654321', '-12:34:56.654321', '-12:34:56.654321', '-12:34:56.654321', '-12:34:56.654321'),
 (7, '23:59:59.999999', '23:59:59.999999', '23:59:59.999999', '23:59:59.999999', '23:59:59.999999', '23:59:59.999999', '23:59:59.999999'),
 (8, '-838:59:58.999999', '-838:59:58.999999', '-838:59:58.999999', '-838:59:58.999999', '-838:59:58.999999', '-838:59:58.999999', '-838:59:58.999999'),
 (9, '100:00:00.5', '-100:00:00.5', '-1:00:00.05', '-0:59:59.999', '-0:00:59.9999', '-0:00:00.50001', '-0:00:01.000001'),
 (10, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (11, '-00:00:00', '-00:00:00.9', '-00:00:00.99', '-00:00:00.999', '-00:00:00.9999', '-00:00:00.99999', '-00:00:00.999999');

-- @t_datetime
CREATE TABLE t_datetime (
  id INT PRIMARY KEY, dt0 DATETIME, dt1 DATETIME(1), dt2 DATETIME(2), dt3 DATETIME(3),
  dt4 DATETIME(4), dt5 DATETIME(5), dt6 DATETIME(6)
);
INSERT INTO t_datetime VALUES
 (1, '1000-01-01 00:00:00', '1000-01-01 00:00:00', '1000-01-01 00:00:00', '1000-01-01 00:00:00', '1000-01-01 00:00:00', '1000-01-01 00:00:00', '1000-01-01 00:00:00'),
 (2, '9999-12-31 23:59:59', '9999-12-31 23:59:59.9', '9999-12-31 23:59:59.99', '9999-12-31 23:59:59.999', '9999-12-31 23:59:59.9999', '9999-12-31 23:59:59.99999', '9999-12-31 23:59:59.999999'),
 (3, '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00'),
 (4, '2024-02-29 12:34:56.123456', '2024-02-29 12:34:56.123456', '2024-02-29 12:34:56.123456', '2024-02-29 12:34:56.123456', '2024-02-29 12:34:56.123456', '2024-02-29 12:34:56.123456', '2024-02-29 12:34:56.123456'),
 (5, '1970-01-01 00:00:00', '1970-01-01 00:00:00.1', '1970-01-01 00:00:00.01', '1970-01-01 00:00:00.001', '1970-01-01 00:00:00.0001', '1970-01-01 00:00:00.00001', '1970-01-01 00:00:00.000001'),
 (6, '2024-00-00 00:00:00', '2024-05-00 10:00:00.5', '0001-01-01 00:00:00.09', '2038-01-19 03:14:08.5', '1999-12-31 23:59:59.0001', '2000-02-29 01:02:03.00009', '2000-01-01 00:00:00.100000'),
 (7, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

-- @t_timestamp
-- TIMESTAMPs are written in a +05:30 session: the binlog holds UTC seconds, sluice prints UTC.
SET SESSION time_zone='+05:30';
CREATE TABLE t_timestamp (
  id INT PRIMARY KEY, ts0 TIMESTAMP NULL DEFAULT NULL, ts1 TIMESTAMP(1) NULL DEFAULT NULL,
  ts2 TIMESTAMP(2) NULL DEFAULT NULL, ts3 TIMESTAMP(3) NULL DEFAULT NULL,
  ts4 TIMESTAMP(4) NULL DEFAULT NULL, ts5 TIMESTAMP(5) NULL DEFAULT NULL,
  ts6 TIMESTAMP(6) NULL DEFAULT NULL
);
INSERT INTO t_timestamp VALUES
 (1, '1970-01-01 05:30:01', '1970-01-01 05:30:01', '1970-01-01 05:30:01', '1970-01-01 05:30:01', '1970-01-01 05:30:01', '1970-01-01 05:30:01', '1970-01-01 05:30:01'),
 (2, '2038-01-19 08:44:07', '2038-01-19 08:44:07.9', '2038-01-19 08:44:07.99', '2038-01-19 08:44:07.999', '2038-01-19 08:44:07.9999', '2038-01-19 08:44:07.99999', '2038-01-19 08:44:07.999999'),
 (3, '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00'),
 (4, '2024-02-29 12:34:56.123456', '2024-02-29 12:34:56.123456', '2024-02-29 12:34:56.123456', '2024-02-29 12:34:56.123456', '2024-02-29 12:34:56.123456', '2024-02-29 12:34:56.123456', '2024-02-29 12:34:56.123456'),
 (5, '2000-01-01 00:00:00', '2000-01-01 05:29:59.1', '2000-01-01 05:30:00.01', '2000-01-01 05:30:00.001', '2000-01-01 05:30:00.0001', '2000-01-01 05:30:00.00001', '2000-01-01 05:30:00.000001'),
 (6, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SET SESSION time_zone='+00:00';

-- @t_year
CREATE TABLE t_year (id INT PRIMARY KEY, y YEAR, y4 YEAR(4));
INSERT INTO t_year VALUES (1, 1901, 2155), (2, 2155, 1901), (3, 0, 0), (4, 2024, 1999), (5, NULL, NULL), (6, 70, 69);

-- @t_oldtemporal
-- TIME, DATETIME and TIMESTAMP in the pre-10.0 MariaDB format (tables from old servers): binlog
-- types 11, 12 and 7. Only without fractional digits: the old formats with fractions (MariaDB
-- 5.3 "hires") are logged with the same type codes and no metadata giving their length, so no
-- binlog reader can decode them (mariadb-binlog cannot either).
SET GLOBAL mysql56_temporal_format=OFF;
CREATE TABLE t_oldtemporal (id INT PRIMARY KEY, t TIME, dt DATETIME, ts TIMESTAMP NULL DEFAULT NULL, t2 TIME);
SET GLOBAL mysql56_temporal_format=ON;
INSERT INTO t_oldtemporal VALUES
 (1, '-838:59:59', '1000-01-01 00:00:00', '1970-01-01 00:00:01', '838:59:59'),
 (2, '838:59:59', '9999-12-31 23:59:59', '2038-01-19 03:14:07', '-00:00:01'),
 (3, '00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '-12:34:56'),
 (4, '12:34:56', '2024-02-29 12:34:56', '2024-02-29 12:34:56', '00:00:00'),
 (5, NULL, NULL, NULL, NULL);

-- @t_char
CREATE TABLE t_char (
  id INT PRIMARY KEY,
  c_latin1 CHAR(20) CHARACTER SET latin1, v_latin1 VARCHAR(300) CHARACTER SET latin1,
  c_utf8mb3 CHAR(20) CHARACTER SET utf8mb3, v_utf8mb3 VARCHAR(100) CHARACTER SET utf8mb3,
  c_utf8mb4 CHAR(70) CHARACTER SET utf8mb4, v_utf8mb4 VARCHAR(300) CHARACTER SET utf8mb4,
  v_short VARCHAR(10) CHARACTER SET utf8mb4, c_ascii CHAR(5) CHARACTER SET ascii,
  \`spaced name\` VARCHAR(10), \`ünï"cödé\` VARCHAR(10) CHARACTER SET utf8mb4
) DEFAULT CHARSET=utf8mb4;
INSERT INTO t_char VALUES
 (1, '', '', '', '', '', '', '', '', '', ''),
 (2, 'plain', 'plain ascii', 'plain', 'plain ascii', 'plain', 'plain ascii', 'plain', 'plain', 'p', 'p'),
 (3, 'a"b''c\\\\d/e', 'a"b''c\\\\d/e', 'a"b''c\\\\d/e', 'a"b''c\\\\d/e', 'a"b''c\\\\d/e', 'a"b''c\\\\d/e', 'a"b''c\\\\d/e', '"''\\\\', '"', '\\\\');
SET @ctl = CONCAT('t', CHAR(9), 'n', CHAR(10), 'r', CHAR(13), '0', CHAR(0), '1', CHAR(1), 'f', CHAR(31), 'd', CHAR(127), 'b', CHAR(8), 'e');
INSERT INTO t_char VALUES (4, @ctl, @ctl, @ctl, @ctl, @ctl, @ctl, 'x', CHAR(0,1,2,3), CHAR(10), CHAR(0));
INSERT INTO t_char VALUES
 (5, _latin1 X'80E9FF', _latin1 X'808182838D8E8F909D9E9FA0A4A9AEB5BFC0D0DEDFE0F0F7FEFF', '€éÿ', 'àéîõü ÿ ß ¿', '€éÿ', 'àéîõü ÿ ß ¿', 'é', 'abc', 'é', 'ÿ'),
 (6, 'plain', 'plain', '✓ ≠ ☃ Ω', '✓ ≠ ☃ Ω 中文', '😀 emoji 🇫🇷', '😀 emoji 🇫🇷 👍🏽 𝄞', '😀😀', 'x', '😀', '😀'),
 (7, 'trail   ', 'trail   ', 'trail   ', 'trail   ', 'trail   ', 'trail   ', 'trail ', 'a  ', '  lead', ' '),
 (8, REPEAT('x', 20), REPEAT('y', 300), REPEAT('é', 20), REPEAT('€', 100), REPEAT('😀', 70), REPEAT('é', 300), REPEAT('😀', 10), 'zzzzz', REPEAT('s', 10), REPEAT('ü', 10)),
 (9, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

-- @t_binary
CREATE TABLE t_binary (
  id INT PRIMARY KEY, b1 BINARY(1), b8 BINARY(8), b255 BINARY(255), vb VARBINARY(300), vb_short VARBINARY(10)
);
INSERT INTO t_binary VALUES
 (1, '', '', '', '', ''),
 (2, 'a', 'ab', 'abc', 'abcd', 'abcde'),
 (3, X'00', X'00', X'00', X'00', X'00'),
 (4, X'FF', X'FF00FF', X'6162000000', X'6162000000', X'0000'),
 (5, X'20', X'0000000000000000', 'trailing  ', 'trailing  ', '  '),
 (6, X'80', X'FFFFFFFFFFFFFFFF', REPEAT(X'A5', 255), CONCAT(X'$ALL_BYTES', REPEAT('z', 44)), X'00010203040506070809'),
 (7, NULL, NULL, NULL, NULL, NULL);

-- @t_text
CREATE TABLE t_text (
  id INT PRIMARY KEY, tt TINYTEXT, t TEXT, mt MEDIUMTEXT, lt LONGTEXT, t_latin1 TEXT CHARACTER SET latin1
) DEFAULT CHARSET=utf8mb4;
INSERT INTO t_text VALUES
 (1, '', '', '', '', ''),
 (2, 'short', 'short', 'short', 'short', 'short'),
 (3, 'quotes "\\\\ and\nnewline', 'quotes "\\\\ and\nnewline', 'quotes "\\\\ and\nnewline', 'quotes "\\\\ and\nnewline', 'é "\\\\ \n'),
 (4, '😀', '😀 emoji 🇫🇷', '😀 emoji 🇫🇷', '😀 emoji 🇫🇷', _latin1 X'80E9FF');
INSERT INTO t_text VALUES
 (5, REPEAT('x', 255), REPEAT('é', 32767), REPEAT('a😀', 20000), REPEAT('long ', 50000), REPEAT(_latin1 X'E9', 65535)),
 (6, NULL, NULL, NULL, NULL, NULL);

-- @t_blob
CREATE TABLE t_blob (id INT PRIMARY KEY, tb TINYBLOB, b BLOB, mb MEDIUMBLOB, lb LONGBLOB);
INSERT INTO t_blob VALUES
 (1, '', '', '', ''),
 (2, X'00', X'00', X'00', X'00'),
 (3, X'$ALL_BYTES', X'$ALL_BYTES', X'$ALL_BYTES', X'$ALL_BYTES'),
 (4, REPEAT(X'FF', 255), REPEAT(X'00FF', 32767), REPEAT(X'00FF', 40000), REPEAT(UNHEX(SHA2('sluice', 256)), 10000)),
 (5, NULL, NULL, NULL, NULL),
 (6, 'text in a blob', 'text', 'text', 'text');

-- @t_enum
CREATE TABLE t_enum (
  id INT PRIMARY KEY,
  e ENUM('a', 'b', 'c d', 'ü', '€', '😀'), e300 ENUM($ENUM300),
  e_latin1 ENUM('é', 'x', 'ÿ') CHARACTER SET latin1,
  s SET('a', 'b', 'c', 'd ', 'é'), s9 SET($SET9), s20 SET($SET20), s30 SET($SET30), s64 SET($SET64)
) DEFAULT CHARSET=utf8mb4;
INSERT INTO t_enum VALUES
 (1, 'a', 'm1', 'é', 'a', 'a1', 'b1', 'c1', 's1'),
 (2, '😀', 'm300', 'ÿ', 'a,b,c,d ,é', 'a1,a9', 'b1,b20', 'c1,c30', 's1,s33,s64'),
 (3, 'ü', 'm256', 'x', '', '', '', '', ''),
 (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (5, 'no such member', 'm301', 'z', 'é,a', 'a8,a9', 'b17', 'c25,c26', 's32,s33'),
 (6, 'c d', 'm255', 'x', 'd ', 'a9', 'b9', 'c9,c10,c24', 's8,s9,s16,s17,s24,s25,s32,s40,s48,s56,s63');

-- @t_json
CREATE TABLE t_json (id INT PRIMARY KEY, j JSON);
INSERT INTO t_json VALUES
 (1, '{"a": 1, "b": [true, false, null], "c": "x\\\\"y"}'),
 (2, '[]'), (3, '{}'), (4, '"str"'), (5, '123'), (6, '1.5e300'), (7, 'null'),
 (8, '{"emoji": "😀", "nested": {"k": [1, {"z": null}]}, "ctl": "\\\\n\\\\t\\\\u0001"}'),
 (9, NULL);
INSERT INTO t_json SELECT 10, JSON_ARRAYAGG(seq) FROM (SELECT seq FROM seq_1_to_5000) s;

-- @t_geometry
CREATE TABLE t_geometry (
  id INT PRIMARY KEY, g GEOMETRY, p POINT, ls LINESTRING, pg POLYGON, mp MULTIPOINT,
  mls MULTILINESTRING, mpg MULTIPOLYGON, gc GEOMETRYCOLLECTION
);
INSERT INTO t_geometry VALUES
 (1, ST_GeomFromText('POINT(1 2)'), ST_GeomFromText('POINT(1 2)'),
     ST_GeomFromText('LINESTRING(0 0,1 1,2 2)'), ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0))'),
     ST_GeomFromText('MULTIPOINT(1 1,2 2)'), ST_GeomFromText('MULTILINESTRING((0 0,1 1),(2 2,3 3))'),
     ST_GeomFromText('MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5)))'),
     ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 1),LINESTRING(0 0,1 1))')),
 (2, ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0),(2 2,3 2,3 3,2 2))', 4326),
     ST_GeomFromText('POINT(45.5 -73.25)', 4326), ST_GeomFromText('LINESTRING(-1e10 1e-10,3.5 -7.25)'),
     NULL, NULL, NULL, NULL, ST_GeomFromText('GEOMETRYCOLLECTION EMPTY')),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

-- @t_colcompressed
-- MariaDB column compression: binlog types VARCHAR_COMPRESSED (140) and BLOB_COMPRESSED (141).
CREATE TABLE t_colcompressed (
  id INT PRIMARY KEY, v VARCHAR(1000) COMPRESSED CHARACTER SET utf8mb4, b BLOB COMPRESSED,
  t TEXT COMPRESSED CHARACTER SET latin1, vb VARBINARY(2000) COMPRESSED
);
INSERT INTO t_colcompressed VALUES
 (1, REPEAT('compress me 😀 ', 60), REPEAT(X'00FF', 5000), REPEAT('latin é ', 500), REPEAT(X'AB', 1900)),
 (2, 'short', X'01', 'x', X'02'),
 (3, '', '', '', ''),
 (4, NULL, NULL, NULL, NULL);

-- @t_inet
-- INET4 and INET6 are logged as BINARY(4) / BINARY(16): base64 of the stored (network order) bytes.
CREATE TABLE t_inet (id INT PRIMARY KEY, a6 INET6, a4 INET4);
INSERT INTO t_inet VALUES (1, '::1', '127.0.0.1'), (2, '2001:db8::ff00:42:8329', '255.255.255.255'),
 (3, '::ffff:192.0.2.1', '0.0.0.0'), (4, NULL, NULL);

-- @t_mixed
CREATE TABLE t_mixed (
  id INT PRIMARY KEY, a TINYINT, b BIGINT UNSIGNED, c DECIMAL(12,4), d FLOAT, e DOUBLE, f DATE,
  g TIME(3), h DATETIME(6), i TIMESTAMP(2) NULL DEFAULT NULL, j YEAR, k BIT(12),
  l CHAR(3) CHARACTER SET latin1, m VARCHAR(20) CHARACTER SET utf8mb4, n BINARY(4), o VARBINARY(20),
  p TEXT, q BLOB, r ENUM('x', 'y'), s SET('x', 'y'), t JSON, u POINT, v TINYTEXT, w MEDIUMINT UNSIGNED
);
INSERT INTO t_mixed VALUES
 (1, -5, 18446744073709551615, -12345678.9012, 1.5, -2.25, '2024-01-02', '-01:02:03.004',
     '2024-01-02 03:04:05.000006', '2024-01-02 03:04:05.07', 2024, b'101010101010', 'é', '😀', 'ab',
     X'0102', 'text', X'FF', 'y', 'x,y', '{"k": "v"}', ST_GeomFromText('POINT(0 0)'), 'tiny', 16777215),
 (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (3, 1, NULL, 2, NULL, 3, NULL, '04:00:00', NULL, '2001-01-01 00:00:00', NULL, 1, NULL, 'm', NULL,
     X'', NULL, X'00', NULL, '', NULL, ST_GeomFromText('POINT(1 1)'), NULL, 0),
 (4, NULL, 0, NULL, 0, NULL, '0000-00-00', NULL, '0000-00-00 00:00:00', NULL, 0, NULL, '', NULL,
     X'00', NULL, '', NULL, 'x', NULL, '[]', NULL, '', NULL);

-- @t_wide
CREATE TABLE t_wide (id INT PRIMARY KEY$(wide_cols));
INSERT INTO t_wide VALUES $(wide_row 1 all), $(wide_row 2 null), $(wide_row 3 alt);
INSERT INTO t_wide VALUES $(wide_row 4 all);

-- @multi
-- Several tables in one transaction.
BEGIN;
INSERT INTO t_int VALUES (8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8);
INSERT INTO t_char (id, v_utf8mb4) VALUES (10, 'in a transaction');
INSERT INTO t_mixed (id, a) VALUES (5, 5);
COMMIT;
EOF

cat >"$W/updates.sql" <<EOF
-- @t_int
UPDATE t_int SET ti = NULL, biu = NULL, zf = 5 WHERE id = 1;
UPDATE t_int SET bi = -9223372036854775808, biu = 18446744073709551615 WHERE id = 3;
UPDATE t_int SET ti = 1, iu = 4294967295 WHERE id = 5;
UPDATE t_int SET si = si - 1, miu = miu - 1 WHERE id IN (2, 4);
-- @t_bit
UPDATE t_bit SET b64 = 0xFFFFFFFFFFFFFFFE, b1 = NULL WHERE id = 2;
UPDATE t_bit SET b1 = 1, b9 = 0x1FF WHERE id IN (1, 4);
-- @t_decimal
UPDATE t_decimal SET d65_30 = -d65_30, d5_2 = d5_2 / 2 WHERE id IN (1, 2, 5);
UPDATE t_decimal SET d1 = 7 WHERE id = 6;
-- @t_float
UPDATE t_float SET f = f * 2, d = d / 3 WHERE id IN (2, 3, 8);
UPDATE t_float SET f = 42 WHERE id = 9;
-- @t_date
UPDATE t_date SET d = DATE_ADD(d, INTERVAL 1 DAY) WHERE id IN (1, 4);
UPDATE t_date SET d2 = '2000-01-01' WHERE id = 7;
-- @t_time
UPDATE t_time SET t6 = '-00:00:00.000002', t0 = '-838:59:59' WHERE id IN (3, 5);
UPDATE t_time SET t3 = NULL WHERE id = 1;
-- @t_datetime
UPDATE t_datetime SET dt6 = '2000-01-01 00:00:00.000001', dt0 = NULL WHERE id = 4;
UPDATE t_datetime SET dt3 = '2001-02-03 04:05:06.007' WHERE id = 7;
-- @t_timestamp
SET SESSION time_zone='-08:00';
UPDATE t_timestamp SET ts6 = '2020-06-30 16:00:00.5', ts0 = '2020-06-30 16:00:00' WHERE id IN (4, 6);
SET SESSION time_zone='+00:00';
-- @t_year
UPDATE t_year SET y = 1999 WHERE id = 3;
-- @t_oldtemporal
UPDATE t_oldtemporal SET t = '-01:02:03', dt = '2000-01-01 00:00:01', ts = '2000-01-01 00:00:00' WHERE id IN (2, 5);
-- @t_char
UPDATE t_char SET v_utf8mb4 = CONCAT(v_utf8mb4, ' → 🚀'), c_latin1 = 'changé' WHERE id IN (2, 6);
UPDATE t_char SET v_short = NULL, c_ascii = 'new' WHERE id = 9;
-- @t_binary
UPDATE t_binary SET b8 = X'0102', vb = REPEAT(X'00', 300) WHERE id IN (2, 7);
-- @t_text
UPDATE t_text SET mt = REPEAT('b', 70000), tt = 'changed' WHERE id = 2;
UPDATE t_text SET lt = NULL WHERE id = 5;
-- @t_blob
UPDATE t_blob SET lb = REPEAT(X'01', 100000) WHERE id IN (1, 5);
-- @t_enum
UPDATE t_enum SET e = 'b', s = 'b,c', s64 = 's64' WHERE id IN (1, 4);
-- @t_json
UPDATE t_json SET j = JSON_SET(j, '$.a', 2) WHERE id = 1;
UPDATE t_json SET j = '{"now": "set"}' WHERE id = 9;
-- @t_geometry
UPDATE t_geometry SET p = ST_GeomFromText('POINT(3 4)') WHERE id IN (1, 3);
-- @t_colcompressed
UPDATE t_colcompressed SET v = CONCAT(v, 'more'), b = REPEAT(X'01', 3000) WHERE id IN (1, 4);
-- @t_inet
UPDATE t_inet SET a6 = 'fe80::1', a4 = '10.0.0.1' WHERE id = 1;
-- @t_mixed
UPDATE t_mixed SET a = NULL, b = 1, f = '1999-12-31', t = NULL, u = NULL WHERE id = 1;
UPDATE t_mixed SET a = 2, b = NULL, c = 3.3, d = 4.5, e = NULL, f = '2020-02-02', g = NULL, h = '2020-02-02 02:02:02', n = 'zz', r = 'x', s = '', t = '{}', v = 'now' WHERE id = 2;
-- @t_wide
UPDATE t_wide SET c1 = NULL, c150 = 150, c300 = -300 WHERE id IN (1, 2);
-- @multi
BEGIN;
UPDATE t_int SET i = 80 WHERE id = 8;
UPDATE t_char SET v_latin1 = 'tx' WHERE id = 10;
COMMIT;
EOF

cat >"$W/deletes.sql" <<EOF
-- @t_int
DELETE FROM t_int WHERE id IN (2, 5);
-- @t_bit
DELETE FROM t_bit WHERE id = 3;
-- @t_decimal
DELETE FROM t_decimal WHERE id IN (1, 6);
-- @t_float
DELETE FROM t_float WHERE id IN (4, 9);
-- @t_date
DELETE FROM t_date WHERE id = 3;
-- @t_time
DELETE FROM t_time WHERE id IN (1, 10);
-- @t_datetime
DELETE FROM t_datetime WHERE id = 2;
-- @t_timestamp
DELETE FROM t_timestamp WHERE id = 3;
-- @t_year
DELETE FROM t_year WHERE id = 5;
-- @t_oldtemporal
DELETE FROM t_oldtemporal WHERE id = 1;
-- @t_char
DELETE FROM t_char WHERE id IN (4, 9);
-- @t_binary
DELETE FROM t_binary WHERE id = 6;
-- @t_text
DELETE FROM t_text WHERE id IN (3, 5);
-- @t_blob
DELETE FROM t_blob WHERE id = 4;
-- @t_enum
DELETE FROM t_enum WHERE id = 2;
-- @t_json
DELETE FROM t_json WHERE id IN (8, 10);
-- @t_geometry
DELETE FROM t_geometry WHERE id = 2;
-- @t_colcompressed
DELETE FROM t_colcompressed WHERE id = 2;
-- @t_inet
DELETE FROM t_inet WHERE id = 2;
-- @t_mixed
DELETE FROM t_mixed WHERE id IN (1, 4);
-- @t_wide
DELETE FROM t_wide WHERE id = 3;
-- @multi
BEGIN;
DELETE FROM t_mixed WHERE id = 5;
DELETE FROM t_char WHERE id = 10;
COMMIT;
EOF

TABLES="t_int t_bit t_decimal t_float t_date t_time t_datetime t_timestamp t_year t_oldtemporal
t_char t_binary t_text t_blob t_enum t_json t_geometry t_colcompressed t_inet t_mixed t_wide"

# ---- the expected side: the server renders each row in sluice's JSON --------------------------
TAB=$(printf '\t')

# select_json TABLE: writes $W/TABLE.select.sql, a SELECT returning one JSON object per row
# ordered by id, and $W/TABLE.kinds, the kind of each column ({"col": "float", ...}).
select_json() {
    sql "SELECT column_name, data_type FROM information_schema.columns
         WHERE table_schema = '$DB' AND table_name = '$1' ORDER BY ordinal_position" >"$W/$1.cols"
    _args=""
    while IFS=$TAB read -r _col _type; do
        # shellcheck disable=SC2016
        _q=$(printf '%s' "$_col" | sed 's/`/``/g')
        _c="\`$_q\`"
        case $_type in
        tinyint | smallint | mediumint | int | bigint) _e="$_c + 0" ;; # + 0: no ZEROFILL text
        bit | year) _e="$_c + 0" ;;
        float) _e="CAST($_c AS DOUBLE)" ;; # the exact value; plain FLOAT prints 6 digits
        double) _e="CAST($_c AS DOUBLE)" ;; # DOUBLE(M,D) would print D decimals
        decimal) _e="CAST($_c AS CHAR)" ;;
        date | datetime | timestamp | time) _e="CAST($_c AS CHAR)" ;; # session time zone UTC
        char | varchar | tinytext | text | mediumtext | longtext | enum | set)
            # CONCAT drops the JSON-ness of a MariaDB JSON (LONGTEXT) column: a plain string.
            _e="CONCAT('', CONVERT($_c USING utf8mb4))" ;;
        binary | varbinary | tinyblob | blob | mediumblob | longblob)
            _e="REPLACE(TO_BASE64($_c), CHAR(10), '')" ;;
        inet4 | inet6) _e="REPLACE(TO_BASE64(INET6_ATON($_c)), CHAR(10), '')" ;;
        geometry | point | linestring | polygon | multipoint | multilinestring | multipolygon | geometrycollection)
            _e="LOWER(HEX($_c))" ;;
        *)
            echo "select_json: no expected-value rule for column $1.$_col of type $_type" >&2
            return 1
            ;;
        esac
        _key=$(printf '%s' "$_col" | sed "s/\\\\/\\\\\\\\/g; s/'/''/g")
        _args="$_args${_args:+, }'$_key', $_e"
    done <"$W/$1.cols"
    jq -R -n '[inputs | split("\t") | {key: .[0], value: (if .[1] == "float" or .[1] == "double"
        then .[1] else "other" end)}] | from_entries' "$W/$1.cols" >"$W/$1.kinds"
    echo "SET SESSION time_zone = '+00:00'; SELECT JSON_OBJECT($_args) FROM \`$DB\`.\`$1\`" \
        >"$W/$1.select.sql"
}

# Integers of 16+ digits become strings before jq reads them (jq 1.6 rounds them to doubles).
# Only object members are touched: in a JSON string a quote is always escaped.
quote_bigints() {
    sed -E ':a
s/([^\\]": ?)(-?[0-9]{16,})([,}])/\1"\2"\3/
ta'
}

# snapshot TABLE OUT [WHERE]: the table's rows (those matching WHERE) as JSON lines in OUT.
snapshot() {
    [ -s "$W/$1.select.sql" ] || select_json "$1"
    { cat "$W/$1.select.sql"; echo " ${3:-} ORDER BY id;"; } | sql | quote_bigints >"$2"
    if ! jq -e . "$2" >/dev/null 2>&1; then
        echo "snapshot: the server's JSON for $1 is not valid:" >&2
        head -c 500 "$2" >&2
        return 1
    fi
}

# section PHASE NAME: the statements of section "-- @NAME" of $W/PHASE.sql, after a preamble.
section() {
    echo "SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'; SET SESSION time_zone = '+00:00'; USE $DB;"
    awk -v s="-- @$2" '/^-- @/ { on = ($0 == s); next } on' "$W/$1.sql"
}

# ---- comparison ------------------------------------------------------------------------------
cat >"$W/compare.jq" <<'EOF'
# Inputs: $dec (decoded change lines of one table), $A/$B/$C (rows after the inserts, updates,
# deletes), $kinds (column → kind). Output: one line per difference.
def short: tojson | if length > 100 then .[:100] + "... (\(length) chars)" else . end;
def num: if type == "string" then (try tonumber catch .) else . end;
# A decoded FLOAT d is right when it rounds (to nearest float32) to the exact value e.
def f32eq($e; $d):
  if $e == $d then true
  elif ($e | type) != "number" or ($d | type) != "number" then false
  elif $e == 0 then $d == 0
  else ($e | fabs) as $a
     | (if $a < 1.1754943508222875e-38 then pow(2; -149) else pow(2; ($a | log2 | floor) - 23) end) as $ulp
     | (($d - $e) | fabs) as $diff
     | if $a >= 1.1754943508222875e-38 and $a == pow(2; ($a | log2 | floor)) and ($d | fabs) < $a
       then $diff <= $ulp / 4 else $diff <= $ulp / 2 end
  end;
def celleq($k; $e; $d):
  if $kinds[$k] == "float" then f32eq($e | num; $d | num)
  elif $kinds[$k] == "double" then ($e | num) == ($d | num)
  else $e == $d end;
def rowdiff($what; $e; $d):
  ([$e, $d] | map(keys_unsorted) | add | unique) as $keys
  | $keys[] as $k
  | if ($e | has($k) | not) then "\($what): unexpected column \($k | tojson) = \($d[$k] | short)"
    elif ($d | has($k) | not) then "\($what): column \($k | tojson) missing, expected \($e[$k] | short)"
    elif celleq($k; $e[$k]; $d[$k]) then empty
    else "\($what): column \($k | tojson): expected \($e[$k] | short), got \($d[$k] | short)" end;
def bykey: map({key: (.id | tostring), value: .}) | from_entries;
def id: .id | tostring;

($A | bykey) as $Am | ($B | bykey) as $Bm | ($C | bykey) as $Cm
| ($dec | map(select(.type == "insert"))) as $ins
| (
    # inserts = the rows after the insert phase
    ($ins[] | .data as $d | ($d | id) as $k
      | if $Am | has($k) then rowdiff("insert id=\($k)"; $Am[$k]; $d)
        else "insert id=\($k): no such row in SELECT after the inserts" end),
    ($ins | group_by(.data | id)[] | select(length > 1) | "insert id=\(.[0].data | id): decoded \(length) times"),
    (($Am | keys) - ($ins | map(.data | id)) | .[] | "row id=\(.): SELECT has it, no insert decoded"),
    # updates: old = before the updates, data = after them
    ($dec[] | select(.type == "update")
      | (.old | id) as $ko | (.data | id) as $kn
      | if .old == null then "update id=\($kn): no \"old\" image"
        elif $Am | has($ko) then rowdiff("update id=\($ko) old"; $Am[$ko]; .old)
        else "update id=\($ko): old image of a row SELECT did not have" end,
        if $Bm | has($kn) then rowdiff("update id=\($kn) data"; $Bm[$kn]; .data)
        else "update id=\($kn): new image of a row SELECT did not have" end),
    # deletes: the row before the deletes
    ($dec[] | select(.type == "delete") | (.data | id) as $k
      | if $Bm | has($k) then rowdiff("delete id=\($k)"; $Bm[$k]; .data)
        else "delete id=\($k): row SELECT did not have before the deletes" end),
    # the stream applied in order = the final rows
    ((reduce $dec[] as $c ({};
        if $c.type == "insert" then .[$c.data | id] = $c.data
        elif $c.type == "update" then del(.[$c.old | id]) | .[$c.data | id] = $c.data
        elif $c.type == "delete" then del(.[$c.data | id])
        else . end)) as $S
      | (($Cm | keys) - ($S | keys) | .[] | "final state: row id=\(.) missing"),
        (($S | keys) - ($Cm | keys) | .[] | "final state: row id=\(.) should not be there"),
        (($S | keys) - (($S | keys) - ($Cm | keys)) | .[] as $k | rowdiff("final state id=\($k)"; $Cm[$k]; $S[$k])))
  )
EOF

# compare NAME PREFIX TABLES...: compares the decoded changes in $W/PREFIX.dec with the
# snapshots $W/PREFIX.TABLE.{A,B,C}; one ok / not ok line. $W/PREFIX.decerr holds the decoder's
# stderr, $W/PREFIX.rc its exit status.
compare() {
    _name=$1 _pf=$2
    shift 2
    : >"$W/$_pf.diff"
    _n=0
    for _t in "$@"; do
        jq -c --arg db "$DB" --arg t "$_t" \
            'select((.type == "insert" or .type == "update" or .type == "delete") and .db == $db and .table == $t)' \
            "$W/$_pf.dec" >"$W/$_pf.$_t.dec" 2>/dev/null || true
        _n=$((_n + $(wc -l <"$W/$_pf.$_t.dec")))
        if ! jq -r -n --slurpfile dec "$W/$_pf.$_t.dec" --slurpfile A "$W/$_pf.$_t.A" \
            --slurpfile B "$W/$_pf.$_t.B" --slurpfile C "$W/$_pf.$_t.C" --slurpfile kinds "$W/$_t.kinds" \
            '$kinds[0] as $kinds | '"$(cat "$W/compare.jq")" >"$W/$_pf.$_t.diff" 2>"$W/jq.err"; then
            echo "jq failed: $(head -c 300 "$W/jq.err")" >>"$W/$_pf.diff"
        fi
        if [ $# -gt 1 ]; then
            sed "s/^/$_t: /" "$W/$_pf.$_t.diff" >>"$W/$_pf.diff"
        else
            cat "$W/$_pf.$_t.diff" >>"$W/$_pf.diff"
        fi
    done
    _rc=$(cat "$W/$_pf.rc")
    if [ "$_rc" != 0 ] || [ -s "$W/$_pf.diff" ]; then
        _first=""
        [ "$_rc" != 0 ] && _first="decode failed (exit $_rc): $(head -n 1 "$W/$_pf.decerr")"
        not_ok "$_name ($(wc -l <"$W/$_pf.diff" | tr -d ' ') differences in $_n decoded changes)" \
            ${_first:+"$_first"} "$(head -n 25 "$W/$_pf.diff")"
    else
        ok "$_name ($_n changes = SELECT)"
    fi
}

# decode PREFIX FILE...: sluice decode --events all FILE... → $W/PREFIX.dec (big integers quoted),
# stderr in $W/PREFIX.decerr, exit status in $W/PREFIX.rc.
decode() {
    _pf=$1
    shift
    _rc=0
    "$SLUICE" decode --events all --stats "$@" >"$W/$_pf.raw" 2>"$W/$_pf.decerr" || _rc=$?
    echo "$_rc" >"$W/$_pf.rc"
    quote_bigints <"$W/$_pf.raw" >"$W/$_pf.dec"
}

# Event counts: sluice --stats against SHOW BINLOG EVENTS, by type (names mapped to sluice's).
server_event_types() {
    for _f in $(binlog_files); do
        # --skip-raw: newlines in the Info column stay escaped, one line per event.
        sql_run --skip-raw -e "SHOW BINLOG EVENTS IN '$(basename "$_f")'" | cut -f 3
    done | awk '
        { n = $0; u = toupper(n) }
        n == "Format_desc" { u = "FORMAT_DESCRIPTION" }
        n ~ /^(Gtid|Gtid_list|Binlog_checkpoint|Annotate_rows)$/ || n ~ /_compressed/ { u = "MARIA_" u }
        { c[u]++ }
        END { printf "{"; for (k in c) printf "%s\"%s\":%d", (i++ ? "," : ""), k, c[k]; print "}" }'
}

# ---- run -------------------------------------------------------------------------------------
# Each table's changes go to a binlog file of their own (FLUSH BINARY LOGS after each), decoded
# alone as well as with all the others: a decoder failure on one table does not hide the rest.
run_mode() {
    mode=$1
    shift
    if ! mariadb_up "$TEST_TMP/$mode" --binlog-row-metadata=FULL "$@" 2>"$W/up.err"; then
        not_ok "$mode: start MariaDB" "$(cat "$W/up.err")"
        return 0
    fi
    sql "CREATE DATABASE $DB; FLUSH BINARY LOGS"
    : >"$W/files"
    for t in $TABLES multi; do
        # Which rows of which tables the snapshots hold: "table:id" ("table:" for all rows).
        specs="$t:"
        [ "$t" = multi ] && specs="t_int:8 t_char:10 t_mixed:5"
        for phase in inserts:A updates:B deletes:C; do
            if ! section "${phase%:*}" "$t" | sql >"$W/sql.out" 2>&1; then
                not_ok "$mode: SQL ${phase%:*} of $t" "$(head -n 10 "$W/sql.out")"
                mariadb_down "$TEST_TMP/$mode"
                return 0
            fi
            for spec in $specs; do
                st=${spec%%:*} sid=${spec#*:}
                if ! snapshot "$st" "$W/$mode-$t.$st.${phase#*:}" ${sid:+"WHERE id = $sid"} 2>"$W/snap.err"; then
                    not_ok "$mode: SELECT after the ${phase%:*} of $t" "$(head -n 10 "$W/snap.err")"
                    mariadb_down "$TEST_TMP/$mode"
                    return 0
                fi
            done
        done
        echo "$t $(sql "SHOW MASTER STATUS" | cut -f 1)" >>"$W/files"
        sql "FLUSH BINARY LOGS"
    done

    # All files in one run.
    # shellcheck disable=SC2046
    decode "$mode-all" $(binlog_files)
    if [ "$(cat "$W/$mode-all.rc")" = 0 ]; then
        ok "$mode: sluice decode of all $(binlog_files | wc -l | tr -d ' ') files exits 0 ($(wc -l <"$W/$mode-all.dec" | tr -d ' ') lines)"
    else
        not_ok "$mode: sluice decode of all files exits 0" "exit status $(cat "$W/$mode-all.rc")" \
            "$(head -n 5 "$W/$mode-all.decerr")"
    fi
    bad=$(jq -c 'select((.ts | type) != "number" or (.pos | type) != "string"
            or (.pos | test("^binlog\\.[0-9]{6}:[0-9]+$") | not)
            or (.gtid | type) != "string" or (.gtid | test("^0-1-[0-9]+$") | not))' "$W/$mode-all.dec" 2>&1 | head -n 3)
    if [ -z "$bad" ]; then
        ok "$mode: every line has ts, pos and gtid"
    else
        not_ok "$mode: every line has ts, pos and gtid" "$bad"
    fi
    # BINLOG_CHECKPOINT events are written by the server asynchronously, once InnoDB has made
    # earlier commits durable, so one can land in the last file between the decode and the SHOW:
    # they are left out of the comparison.
    want=$(server_event_types | jq -cS 'del(.MARIA_BINLOG_CHECKPOINT)')
    got=$(tail -n 1 "$W/$mode-all.decerr" | jq -cS '.types | del(.MARIA_BINLOG_CHECKPOINT)' 2>/dev/null || true)
    if [ "$want" = "$got" ]; then
        ok "$mode: --stats event counts = SHOW BINLOG EVENTS"
    else
        not_ok "$mode: --stats event counts = SHOW BINLOG EVENTS" "server: $want" "sluice: $got"
    fi
    if [ "$mode" = compressed ]; then
        if printf '%s' "$want" | grep -qi 'compressed'; then
            ok "$mode: the server wrote compressed events"
        else
            not_ok "$mode: the server wrote compressed events" "$want"
        fi
    fi

    # Each table from its own file.
    while read -r t f; do
        decode "$mode-$t" "$MARIADB_DATADIR/$f"
        if [ "$t" = multi ]; then
            compare "$mode: multi-table transactions" "$mode-$t" t_int t_char t_mixed
            seq=$(jq -r .type "$W/$mode-$t.dec" 2>/dev/null | tr '\n' ' ')
            want_seq="gtid begin insert insert insert commit gtid begin update update commit gtid begin delete delete commit "
            if [ "$seq" = "$want_seq" ]; then
                ok "$mode: multi-table transactions: one gtid/begin/commit around each"
            else
                not_ok "$mode: multi-table transactions: one gtid/begin/commit around each" \
                    "want: $want_seq" "got:  $seq"
            fi
        else
            compare "$mode: $t" "$mode-$t" "$t"
        fi
    done <"$W/files"
    mariadb_down "$TEST_TMP/$mode"
}

run_mode plain
run_mode compressed --log-bin-compress=ON --log-bin-compress-min-len=10
test_done
