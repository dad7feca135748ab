/*
 * help.h — the text of `sluice help`, `sluice CMD --help` and the man page sluice(1): one table
 * of commands, rendered as terminal text or as roff (`sluice help --man`, `make man`).
 */
#ifndef SLUICE_HELP_H
#define SLUICE_HELP_H

#include <stdio.h>

/* Writes the overview: every command's synopsis and a line about it. */
void help_usage(FILE *out);

/* Writes the full help of command cmd ("decode", "position"...). Returns 0, or -1 (nothing
 * written) when cmd is not in the table. */
int help_command(FILE *out, const char *cmd);

/* Whether argv (the arguments after the command name) asks for help: "--help" or "-h" before
 * any "--". */
int help_wanted(int argc, char **argv);

/* Writes the man page sluice(1) in roff (man macros). */
void help_man(FILE *out);

/* `sluice help [CMD | --man]`: returns the exit status (0, or 2 for an unknown command). */
int help_main(int argc, char **argv);

#endif
