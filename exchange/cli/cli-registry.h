/* cli-registry.h: `xbus registry`, the registry authority's commands (publish, verify)
 *
 * `publish` compiles a registry folder and its schema folder into one signed
 * snapshot (registry/registry-snapshot.h, docs/registry.md "Snapshots") with
 * the authority's key; `verify` checks a snapshot against anchor keys as a
 * node would and describes it. Exit status: 0 success, 1 failure (refused),
 * 2 usage error.
 */
#pragma once

#include "cli/cli-command.h"

/* the lifetime of a snapshot unless --expires says otherwise */
#define CLI_REGISTRY_DEFAULT_LIFETIME "7d"

/* cli_registry_command: `xbus registry SUBCOMMAND [OPTIONS]` as one command of xbus; its help lists them. */
extern const CliCommand cli_registry_command;
