/* cli-console.h: `xbus console login`, the sign-in links of the web console's staff (docs/console.md)
 *
 * Whoever may read the node's console key (STATE/console.key, or [console]
 * key) may mint a sign-in link for the auditor or the operator role: a
 * short-lived, single-use token (api/console-token.h) in the fragment of
 * https://NODE/ui/#login=TOKEN, with the checkpoint verifier key the page
 * should pin (&vkey=...), read from the node's own files, not from its
 * HTTPS answers. Nothing is sent to the node: the link is printed.
 */
#pragma once

#include "cli/cli-command.h"

/* the link's lifetime unless --valid says otherwise */
#define CLI_CONSOLE_DEFAULT_VALID_MS (5 * 60 * 1000)

/* cli_console_command: `xbus console login [OPTIONS]` as one command of xbus. */
extern const CliCommand cli_console_command;
