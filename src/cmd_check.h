/*
 * cmd_check.h — `sluice check --config FILE`: validates the configuration (as check-config
 * does, Kafka properties included) and runs the pre-flight checks against every source:
 *
 *   reachable         the server answers on source.host:port
 *   login             source.user and its password are accepted
 *   log_bin           binary logging is on
 *   binlog_format     ROW
 *   binlog_row_image  FULL (MINIMAL / NOBLOB: a warning; sluice handles partial images)
 *   grant SELECT, grant REPLICATION SLAVE, grant BINLOG MONITOR (REPLICATION CLIENT on MySQL)
 *   position          the stored position's binlog file is still on the server (and its purge
 *                     horizon, as /metrics reports it)
 *
 * One line per check per instance on stdout, "INSTANCE: CHECK: ok|warning|problem[: detail]",
 * a problem's detail naming the fix (the statement to run, the key to change).
 */
#ifndef SLUICE_CMD_CHECK_H
#define SLUICE_CMD_CHECK_H

/* Runs the command (argv after "check"). Returns the process exit status: 0 every check ok (a
 * warning is ok), 1 a problem (config invalid, or a check failed on some instance), 2 bad
 * usage. */
int cmd_check(int argc, char **argv);

#endif
