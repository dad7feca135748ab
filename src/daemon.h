/*
 * daemon.h — `sluice run`: the instance manager. Loads the configuration, starts one thread per
 * instance and the admin endpoint, and handles signals: SIGTERM/SIGINT stop every instance
 * cleanly (last batch acknowledged, positions saved), SIGHUP reopens the log file and the file
 * sinks. Instances are independent: one failing, reconnecting or stalling never holds up
 * another.
 */
#ifndef SLUICE_DAEMON_H
#define SLUICE_DAEMON_H

/* Runs until SIGTERM/SIGINT. admin_listen overrides the config's admin.listen when non-NULL.
 * Returns the process exit status: 0 after a clean stop, 1 when start-up failed (message on
 * stderr). */
struct config;

int daemon_run(const char *config_path, const char *admin_listen);

/* The same with a configuration loaded already (taken: freed when the daemon stops). */
int daemon_run_config(struct config *cfg, const char *admin_listen);

/* `sluice status`: GETs /status.txt (or /status with json) from the admin endpoint at addr
 * and prints it. Returns the exit status: 0, or 1 when the daemon cannot be reached. */
int daemon_status(const char *addr, int json);

#endif
