/*
 * cmd_position.h — `sluice position`: show and reset the positions the daemon keeps per
 * instance (the record of src/pos_store.h, in the instance's `positions:` store).
 *
 *   sluice position show --config FILE [--instance NAME] [--json]
 *   sluice position reset --config FILE --instance NAME
 *                         (--timestamp T | --file F --pos P | --gtid SET | --earliest | --latest)
 *
 * `reset` takes the instance's lock (DATA_DIR/INSTANCE/lock, as the daemon does) for its whole
 * run and refuses while a daemon holds it.
 */
#ifndef SLUICE_CMD_POSITION_H
#define SLUICE_CMD_POSITION_H

/* Runs the command; argv[0] is "position", argv[1] the subcommand. Returns the process exit
 * status: 0 done, 1 failed (configuration, store, lock held, server), 2 bad usage. Prints to
 * stdout (results) and stderr (errors, prefixed "sluice position SUB: "). */
int cmd_position(int argc, char **argv);

#endif
