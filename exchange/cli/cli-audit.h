/* cli-audit.h: `xbus audit`, the auditor's commands (query, show, checkpoint, export, verify, verify-export,
 * verify-proof, key)
 *
 * Online commands speak the node's auditor API (/audit/, exchange/audit/audit-api.h)
 * over mutual TLS with the auditor's certificate: by default the demo one of
 * the subsystem given with --auditor (STATE/pki/clients/), trusting
 * STATE/pki/ca.crt for the node; --cert, --key and --ca name other files.
 * Offline commands read only files: the node's log folder (verify, export
 * --offline, key) or what was exported (verify-export, verify-proof), with
 * the node's public keys: the checkpoint verifier key (vkey, from
 * `xbus audit key`) and, for receipts, the node's signing.jwk.
 *
 * The audit subcommands parse their own options here (there are eight of
 * them); xbus.c only dispatches `xbus audit ...` to cli_audit_run().
 * Exit status: 0 success (verified), 1 failure or verification failed,
 * 2 usage error.
 */
#pragma once

#define CLI_AUDIT_DEFAULT_AUDITOR "VN/GOV/TTCP/inspection"
/* `query --all` stops after this many entries */
#define CLI_AUDIT_MAX_ENTRIES 10000000ULL

/* cli_audit_run(): run `xbus audit SUBCOMMAND [OPTIONS]`; argv[0] is "xbus audit". Return: exit status. */
int cli_audit_run(int argc, char **argv);

/* cli_audit_help(): the overview of `xbus audit --help`. */
void cli_audit_help(void);
