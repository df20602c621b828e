/* cli-audit.h: `xbus audit`, the auditor's commands (query, show, checkpoint, export, verify, verify-export,
 * verify-proof, key)
 *
 * Online commands (cli-audit-api.c) speak the node's auditor API (/audit/,
 * exchange/api/audit-api.h) over mutual TLS with the auditor's
 * certificate: by default the demo one of the subsystem given with
 * --auditor (STATE/pki/clients/), trusting STATE/pki/ca.crt for the node;
 * --cert, --cert-key and --ca name other files. Offline commands
 * (cli-audit-offline.c) read only files: the node's log folder (verify,
 * export --offline, key) or what was exported (verify-export,
 * verify-proof), with the node's public keys: the checkpoint verifier key
 * (vkey, from `xbus audit key`) and, for receipts, the node's signing.jwk.
 *
 * Each subcommand is a CliCommand (cli-command.h) beside its handler;
 * xbus.c lists `audit` among its commands and this group dispatches.
 * Exit status: 0 success (verified), 1 failure or verification failed,
 * 2 usage error.
 */
#pragma once

#include "cli/cli-command.h"

#define CLI_AUDIT_DEFAULT_AUDITOR "VN/GOV/TTCP/inspection"
/* `query --all` stops after this many entries */
#define CLI_AUDIT_MAX_ENTRIES 10000000ULL

/*
 * cli_audit_command: `xbus audit SUBCOMMAND [OPTIONS]` as one command of
 * xbus (run it with cli_command_run()); its help lists the subcommands.
 */
extern const CliCommand cli_audit_command;

/*
 * cli_audit_vkey(): the node's checkpoint verifier key (what `xbus audit
 * key` prints) from STATE/pki/log.pub, named `name` or the log's origin.
 * Return: 0 with *ret (malloc'd), or -errno with *ret_err (malloc'd, may be NULL).
 */
int cli_audit_vkey(const char *state, const char *name, char **ret, char **ret_err);
