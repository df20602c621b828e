/* cli-audit-internal.h: what the pieces of `xbus audit` share (cli-audit.c, cli-audit-api.c, cli-audit-offline.c)
 *
 * Each piece defines its commands (cli-command.h); cli-audit.c lists them
 * in the order `xbus audit --help` shows and dispatches to them.
 */
#pragma once

#include "audit/audit-verify.h"
#include "cli/cli-audit.h"
#include "cli/cli-command.h"
#include "registry.h"

/* cli-audit-api.c: through the node's auditor API */
extern const CliCommand cli_audit_query, cli_audit_show, cli_audit_checkpoint, cli_audit_export;
/* cli-audit-offline.c: from files only */
extern const CliCommand cli_audit_verify, cli_audit_verify_export, cli_audit_verify_proof, cli_audit_key;
/* cli-audit-cross.c: both sides of one exchange between nodes of a federation */
extern const CliCommand cli_audit_verify_cross;
/* cli_audit_node_by_origin(): the node whose checkpoint key is named `origin` (its first `len` bytes), or NULL. */
const RegistryNode *cli_audit_node_by_origin(const Registry *reg, const char *origin, size_t len);

/* cli-audit-cross-export.c: one side of it from a node's export (`xbus audit export`) */
/* cli_audit_cross_is_export(): whether `file` starts with an export's header line. */
bool cli_audit_cross_is_export(const char *file);
/*
 * cli_audit_cross_export_side(): verify the export `file` against its checkpoint, signed by the key the
 * snapshot `reg` names for the node of the checkpoint's origin; find in it that node's one entry of the
 * node-to-node exchange `id` (and check the client node's request entry, when the export holds it).
 * *ret_entry (a new reference), *ret_seq: that entry. Return: 0, or an exit status (FAILED: printed).
 */
int cli_audit_cross_export_side(const CliCommand *c, const Registry *reg, const char *id, const char *file,
                                const RegistryNode **ret_node, json_t **ret_entry, uint64_t *ret_seq);

/*
 * cli_audit_report(): "OK: WHAT: N entries and M checkpoints verified
 * [in S s]" for r == 0, "FAILED (KIND): REASON" (sanitised) for r > 0, on
 * standard output, then audit_report_done(rep). `seconds` <= 0: no timing.
 * Return: the exit status, EXIT_SUCCESS for r == 0, else EXIT_FAILURE.
 */
int cli_audit_report(const char *what, int r, AuditReport *rep, double seconds);
