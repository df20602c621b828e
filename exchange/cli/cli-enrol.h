/* cli-enrol.h: `xbus node keygen`, a new node's keys and the [node] section for the registry authority */
#pragma once

#include "cli/cli-command.h"

/* cli_node_command: `xbus node keygen ...` as one command of xbus (docs/federation.md "Joining a node"). */
extern const CliCommand cli_node_command;
