/*
 * help.c — every command's help, in one table (see help.h).
 *
 * Each command has a synopsis (pre-formatted lines), a one-line summary for the overview, a
 * description and its options. Descriptions and option texts are single paragraphs without
 * line breaks: the terminal renderer wraps them at 79 columns, roff fills them itself, so the
 * same words make `sluice CMD --help` and sluice(1). A command is added by adding its entry
 * here (and its dispatch in main.c); `sluice help CMD`, `sluice CMD --help` and the man page
 * pick it up.
 *
 * Runs on the main thread of short-lived commands; no state.
 */
#include <stdio.h>
#include <string.h>

#include "help.h"
#include "version.h"

struct help_opt {
    const char *name; /* "--port P" */
    const char *text;
};

struct help_cmd {
    const char *name;
    const char *synopsis; /* lines without "usage: ", each starting "sluice " */
    const char *summary;
    const char *text;
    struct help_opt opts[16]; /* ends at name NULL */
};

static const struct help_cmd cmds[] = {
    {"run",
     "sluice run --config FILE [--admin HOST:PORT] [--node NAME] [--data-dir DIR]\n"
     "sluice run --zookeeper SERVERS --cluster NAME [--root PATH] [--admin HOST:PORT]\n"
     "           [--node NAME] [--data-dir DIR]",
     "the daemon: stream every configured instance to its sinks",
     "Connects to each instance's source server as a replica, decodes every committed row change "
     "and delivers it, in commit order, to the instance's sinks; positions move only when the "
     "sinks have acknowledged. Runs until SIGTERM or SIGINT, which stop after the last batch is "
     "acknowledged and the positions saved (exit 0). SIGHUP reopens the log file and the file "
     "sinks (for logrotate). Exit 1 when the configuration is invalid or an instance cannot "
     "start, 2 on bad usage.",
     {{"--config FILE", "The YAML configuration (see sluice check-config and "
                        "docs/configuration.md)."},
      {"--admin HOST:PORT", "Listen address of the admin HTTP endpoint, instead of the "
                            "configuration's admin.listen (default 127.0.0.1:11112)."},
      {"--zookeeper SERVERS", "Run the configuration stored in ZooKeeper by `sluice cluster "
                              "push` (with --cluster, and --root when not /sluice)."},
      {"--cluster NAME", "The cluster whose stored configuration to run."},
      {"--root PATH", "The cluster's ZooKeeper root (default /sluice)."},
      {"--node NAME", "This daemon's node name in the cluster, instead of node.name (so that "
                      "daemons can share one configuration)."},
      {"--data-dir DIR", "The daemon's state directory, instead of data_dir."},
      {NULL, NULL}}},
    {"status",
     "sluice status [--admin HOST:PORT | --config FILE] [--json | --metrics | --health]",
     "show each instance's state, positions and lag from a running daemon",
     "Asks a running daemon's admin endpoint for each instance's state (starting, streaming, "
     "reconnecting, stalled, failed, stopped, standby), reason, positions, lag and counters, and "
     "prints a "
     "table. Exit 1 when the daemon cannot be reached.",
     {{"--admin HOST:PORT", "The admin endpoint (default 127.0.0.1:11112)."},
      {"--config FILE", "Take the endpoint from this configuration's admin.listen."},
      {"--json", "Print the daemon's JSON status as it is."},
      {"--metrics", "Print the daemon's Prometheus metrics (GET /metrics)."},
      {"--health", "Print the daemon's health (GET /health) and exit 0 when every instance is "
                   "streaming, 1 otherwise."},
      {NULL, NULL}}},
    {"consume",
     "sluice consume (--server HOST:PORT | --zookeeper SERVERS --cluster NAME [--root PATH])\n"
     "               --user U --password-file F --instance NAME --client-id ID [--batch N]\n"
     "               [--count N] [--filter RE] [--timeout-ms N] [--tls | --tls-ca FILE]",
     "print an instance's changes from a running daemon's client server, acking them",
     "Connects to the client protocol server of a running daemon (server.listen, see "
     "docs/protocol.md), logs in by challenge-response, subscribes to the instance as the client "
     "id and prints each change as one json line, acking each batch once it is written and "
     "flushed. The daemon keeps the client id's cursor: a later run resumes after the last acked "
     "batch, and what was printed but not acked is printed again. A lost connection is retried "
     "every second. Stops after --count changes, or at SIGINT/SIGTERM (exit 0); exit 1 on a "
     "login or server error, 2 on bad usage.",
     {{"--server HOST:PORT", "The daemon's server.listen address."},
      {"--zookeeper SERVERS", "Cluster mode, instead of --server: find the daemon that owns the "
                              "instance in ZooKeeper, and the new owner after a failover."},
      {"--cluster NAME", "With --zookeeper: the cluster (positions.cluster)."},
      {"--root PATH", "With --zookeeper: the cluster's root (default /sluice)."},
      {"--user U", "A user of server.users."},
      {"--password-file F", "The file whose first line is the user's password."},
      {"--instance NAME", "The instance to consume."},
      {"--client-id ID", "The client id whose cursor is used (letters, digits, '.', '_', '-')."},
      {"--batch N", "At most N changes per get (default 1000)."},
      {"--count N", "Stop after N changes (default: run until a signal)."},
      {"--filter RE", "Only changes of tables whose db.table matches this POSIX extended regex "
                      "(whole name)."},
      {"--timeout-ms N", "How long a get waits for changes (default 1000)."},
      {"--tls", "Connect with TLS (a daemon with server.tls set), verifying the daemon's "
                "certificate against the system's CA store and the host of --server (DNS name, "
                "or IP address SAN)."},
      {"--tls-ca FILE", "As --tls, but trust the CA certificates of FILE (PEM) instead."},
      {NULL, NULL}}},
    {"position",
     "sluice position show --config FILE [--instance NAME] [--json]\n"
     "sluice position reset --config FILE --instance NAME (--timestamp T |\n"
     "                      --file F --pos P | --gtid SET | --earliest | --latest) [--force]",
     "show stored positions, or reset them with the daemon stopped",
     "show prints each instance's stored positions (consumed, parsed), source server identity, "
     "schema version and whether a daemon runs it. reset sets both positions of a stopped "
     "instance (it takes the instance's lock; a running daemon is refused; with the ZooKeeper "
     "store a running owner anywhere in the cluster is refused unless --force). Exit 1 on a "
     "configuration, store, lock or server error, 2 on bad usage.",
     {{"--config FILE", "The configuration naming the instances and their position stores."},
      {"--instance NAME", "The instance (show: default every instance)."},
      {"--json", "show: one JSON object per instance and line."},
      {"--timestamp T", "reset: the start of the first transaction committed at or after T, a "
                        "UTC time ('YYYY-MM-DD HH:MM:SS', RFC 3339 or seconds since the epoch), "
                        "found by a binary search over the server's binlogs."},
      {"--file F --pos P", "reset: binlog file F at event offset P."},
      {"--gtid SET", "reset: after the transactions of this GTID set."},
      {"--earliest", "reset: the oldest binlog the server has, offset 4."},
      {"--latest", "reset: the server's current end of binlog."},
      {"--force", "reset, store zookeeper: also while a daemon owns the instance; the owner "
                  "notices the new record, stops without writing and restarts from it."},
      {NULL, NULL}}},
    {"cluster",
     "sluice cluster status (--config FILE | --zookeeper SERVERS --cluster NAME [--root PATH])\n"
     "                      [--json]\n"
     "sluice cluster push FILE [--zookeeper SERVERS --cluster NAME [--root PATH]]",
     "list a cluster's daemons and instances; store a configuration in ZooKeeper",
     "status reads ZooKeeper: every daemon of the cluster (admin address, weight, pid, version, "
     "the checksum of the configuration it runs, the instances it owns) and every instance (its "
     "owner, epoch, standbys, stored positions and the age of the last event). A daemon whose "
     "configuration differs from the pushed one (or, when none was pushed, from most daemons') "
     "is flagged DIFFERS and the exit status is 3. push validates FILE as `sluice run` would and "
     "stores it for `sluice run --zookeeper`; running daemons keep theirs until restarted. Exit "
     "1 when ZooKeeper cannot be read or written, 2 on bad usage.",
     {{"--config FILE", "Take the cluster from this configuration's zookeeper instances."},
      {"--zookeeper SERVERS", "ZooKeeper servers, host:port[,host:port...]."},
      {"--cluster NAME", "The cluster (positions.cluster)."},
      {"--root PATH", "The root (positions.root, default /sluice)."},
      {"--json", "status: one JSON object."},
      {NULL, NULL}}},
    {"check",
     "sluice check --config FILE",
     "validate a configuration and run the pre-flight checks against every source",
     "Validates the configuration as check-config does (Kafka properties and server.tls files "
     "included), then "
     "connects to every instance's source and prints one line per check: reachable, login, "
     "log_bin, binlog_format (ROW), binlog_row_image (FULL recommended), the grants SELECT, "
     "REPLICATION SLAVE and REPLICATION CLIENT / BINLOG MONITOR, and whether the stored position "
     "is still on the server (with its purge horizon). Each problem is printed with its fix. "
     "Exit 0 when every check passes (warnings allowed), 1 on any problem, 2 on bad usage.",
     {{"--config FILE", "The configuration whose instances are checked."}, {NULL, NULL}}},
    {"check-config",
     "sluice check-config FILE",
     "validate a configuration file and summarize its instances",
     "Reads the configuration and reports the first problem as FILE:LINE: key \"x\": reason "
     "(exit 1), or prints a summary line per instance (exit 0). Kafka sink properties are "
     "checked by librdkafka; the client server's server.tls certificate and key are loaded "
     "and must match. Passwords are never printed. Bad usage exits 2.",
     {{NULL, NULL}}},
    {"decode",
     "sluice decode [--events rows|all] [--format json|canal|debezium]\n"
     "              [--start-position N] [--stop-position N] [--threads N] [--stats] FILE...",
     "print the row changes of binlog files as JSON lines",
     "Reads binlog or relay-log files in order, streaming (gzip'd files as they are), and prints "
     "one JSON object per row change. Every event's checksum is verified when the binlog has "
     "them. A bad checksum, truncated event or bad magic number stops the decode with a message "
     "naming the file and offset (exit 1); everything before it was printed. Bad usage exits 2.",
     {{"--events rows|all", "all adds begin, commit, rollback, ddl and gtid lines to the row "
                            "changes (default rows)."},
      {"--format json|canal|debezium", "Output format (default json); canal and debezium print "
                                       "row changes and DDL as the sinks send them."},
      {"--start-position N", "Only events at byte offsets >= N in the first file (the events "
                             "before are still read for their table maps and GTID)."},
      {"--stop-position N", "Only events at byte offsets < N in the last file."},
      {"--threads N", "Decoding threads, 1 to 64 (default: the CPUs online, at most 8). The "
                      "output is the same for every N."},
      {"--stats", "Print the count of each event type as one JSON object to stderr at the end."},
      {"--no-verify-checksum", "Do not verify event checksums."},
      {NULL, NULL}}},
    {"dump",
     "sluice dump --host H [--port P] --user U [--password-env VAR | --password-file F]\n"
     "            [--server-id N] [--start FILE:POS | --gtid D-S-N,...] [--non-blocking]\n"
     "            [--heartbeat-ms N] [--events rows|all] [--stats]",
     "print a live server's binlog as JSON lines",
     "Connects to the server as a replica and prints its binlog as the same JSON lines as "
     "decode, from the first binlog it has unless told otherwise. Checks first that binary "
     "logging is on and binlog_format is ROW. The password comes from $SLUICE_PASSWORD unless "
     "an option names another place; it is never printed. Without --non-blocking it follows the "
     "binlog until SIGINT or SIGTERM (output flushed, exit 0). Errors name host:port and the "
     "binlog position (exit 1); bad usage exits 2.",
     {{"--host H", "Server host name or address (required)."},
      {"--port P", "TCP port (default 3306)."},
      {"--user U", "User with REPLICATION SLAVE and REPLICATION CLIENT / BINLOG MONITOR "
                   "(required)."},
      {"--password-env VAR", "Read the password from environment variable VAR."},
      {"--password-file F", "Read the password from the first line of file F."},
      {"--server-id N", "Replica server id, distinct from every other replica (default "
                        "0x53000000 | pid)."},
      {"--start FILE:POS", "Start at this binlog file and event offset."},
      {"--gtid D-S-N,...", "Start after these MariaDB GTIDs."},
      {"--non-blocking", "Exit 0 when caught up with the end of the binlog."},
      {"--heartbeat-ms N", "Heartbeat period asked of the server (default 30000, 0 = none); "
                           "three periods without a byte end the dump."},
      {"--events rows|all", "As for decode."},
      {"--stats", "As for decode."},
      {NULL, NULL}}},
    {"config-doc",
     "sluice config-doc",
     "print the configuration reference (Markdown)",
     "Prints docs/configuration.md, generated from the configuration's property table: every "
     "key with its type, default, range and description.",
     {{NULL, NULL}}},
    {"version",
     "sluice version | sluice --version",
     "print the version",
     "Prints \"sluice\" and the version number.",
     {{NULL, NULL}}},
    {"help",
     "sluice help [CMD | --man] | sluice CMD --help",
     "print this overview, a command's help, or the man page",
     "Without an argument, prints the synopsis of every command; with a command, its full help "
     "(the same as sluice CMD --help); with --man, the man page sluice(1) in roff.",
     {{NULL, NULL}}},
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static const struct help_cmd *find(const char *name)
{
    for (size_t i = 0; i < NCMDS; i++)
        if (strcmp(cmds[i].name, name) == 0)
            return &cmds[i];
    return NULL;
}

/* Writes text wrapped at 79 columns, every line indented by indent spaces; the first line
 * starts at column col (already written). */
static void wrap(FILE *out, const char *text, int indent, int col)
{
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t w = strcspn(p, " ");
        if (w == 0)
            break;
        if (col > indent && col + 1 + (int)w > 79) {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', out);
            col++;
        } else if (col < indent) {
            fprintf(out, "%*s", indent - col, "");
            col = indent;
        }
        fwrite(p, 1, w, out);
        col += (int)w;
        p += w;
    }
    fputc('\n', out);
}

void help_usage(FILE *out)
{
    int first = 1;
    for (size_t i = 0; i < NCMDS; i++) {
        for (const char *s = cmds[i].synopsis; *s; first = 0) {
            size_t n = strcspn(s, "\n");
            fprintf(out, "%s%.*s\n", first ? "usage: " : "       ", (int)n, s);
            s += n + (s[n] == '\n');
        }
    }
    fputs("\ncommands:\n", out);
    for (size_t i = 0; i < NCMDS; i++) {
        fprintf(out, "  %-13s", cmds[i].name);
        wrap(out, cmds[i].summary, 16, 15);
    }
    fputs("\n`sluice CMD --help` gives a command's options; `man sluice` all of them.\n", out);
}

int help_command(FILE *out, const char *name)
{
    const struct help_cmd *c = find(name);
    if (c == NULL)
        return -1;
    const char *s = c->synopsis;
    for (int first = 1; *s; first = 0) {
        size_t n = strcspn(s, "\n");
        fprintf(out, "%s%.*s\n", first ? "usage: " : "       ", (int)n, s);
        s += n + (s[n] == '\n');
    }
    fputc('\n', out);
    wrap(out, c->text, 0, 0);
    if (c->opts[0].name) {
        fputs("\noptions:\n", out);
        for (const struct help_opt *o = c->opts; o->name; o++) {
            int w = fprintf(out, "  %s", o->name);
            if (w > 22) {
                fputc('\n', out);
                w = 0;
            }
            wrap(out, o->text, 24, w);
        }
    }
    return 0;
}

int help_wanted(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    }
    return 0;
}

/* roff text: a backslash doubled as \e, a leading '.' or '\'' guarded, '-' as \- (so options
 * copy and search as ASCII hyphens). */
static void roff(FILE *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if ((i == 0 || s[i - 1] == '\n') && (c == '.' || c == '\''))
            fputs("\\&", out);
        if (c == '\\')
            fputs("\\e", out);
        else if (c == '-')
            fputs("\\-", out);
        else
            fputc(c, out);
    }
}

static void roff_str(FILE *out, const char *s)
{
    roff(out, s, strlen(s));
}

void help_man(FILE *out)
{
    fputs(".\\\" Generated by `sluice help --man` from src/help.c; do not edit.\n", out);
    fprintf(out, ".TH SLUICE 1 \"\" \"sluice %s\" \"User Commands\"\n", SLUICE_VERSION);
    fputs(".SH NAME\nsluice \\- MySQL/MariaDB binlog change-data-capture daemon\n"
          ".SH SYNOPSIS\n.nf\n",
          out);
    for (size_t i = 0; i < NCMDS; i++) {
        roff_str(out, cmds[i].synopsis);
        fputc('\n', out);
    }
    fputs(".fi\n.SH DESCRIPTION\n"
          "sluice connects to MySQL or MariaDB servers as a replica, decodes every committed row "
          "change of their ROW binlog and delivers it, in commit order and with its position, to "
          "its sinks (Kafka, a JSON-lines file, stdout); positions move only when the sinks have "
          "acknowledged, so a crash loses nothing.\n"
          ".SH COMMANDS\n",
          out);
    for (size_t i = 0; i < NCMDS; i++) {
        const struct help_cmd *c = &cmds[i];
        fputs(".SS ", out);
        roff_str(out, c->name);
        fputs("\n.nf\n", out);
        roff_str(out, c->synopsis);
        fputs("\n.fi\n.PP\n", out);
        roff_str(out, c->text);
        fputc('\n', out);
        for (const struct help_opt *o = c->opts; o->name; o++) {
            fputs(".TP\n.B ", out);
            roff_str(out, o->name);
            fputc('\n', out);
            roff_str(out, o->text);
            fputc('\n', out);
        }
    }
    fputs(".SH FILES\n"
          ".TP\n.I /etc/sluice/sluice.yaml\nThe configuration the systemd unit runs with.\n"
          ".TP\n.I /usr/share/doc/sluice/sluice.yaml\nA commented example of every key.\n"
          ".TP\n.I /var/lib/sluice\nState: positions, schema history, locks (data_dir).\n"
          ".SH SIGNALS\n"
          "SIGTERM and SIGINT stop the daemon after the last batch is acknowledged and positions "
          "saved. SIGHUP reopens the log file and the file sinks.\n"
          ".SH EXIT STATUS\n0 success, 1 failure, 2 bad usage.\n"
          ".SH SEE ALSO\n"
          "docs/configuration.md and docs/formats.md in the sources.\n",
          out);
}

int help_main(int argc, char **argv)
{
    if (argc == 0) {
        help_usage(stdout);
        return 0;
    }
    if (argc == 1 && strcmp(argv[0], "--man") == 0) {
        help_man(stdout);
        return 0;
    }
    if (argc == 1 && help_command(stdout, argv[0]) == 0)
        return 0;
    fprintf(stderr, "sluice help: unknown command \"%s\"\n", argv[0]);
    help_usage(stderr);
    return 2;
}
