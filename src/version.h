/*
 * version.h — the sluice release number, printed by `sluice version` and carried in output
 * formats that name their producer (Debezium's source.version).
 */
#ifndef SLUICE_VERSION_H
#define SLUICE_VERSION_H

#define SLUICE_VERSION "0.1.0"

#endif
