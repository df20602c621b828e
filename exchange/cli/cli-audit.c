/* cli-audit.c: `xbus audit`: the table of the auditor's commands and its dispatcher */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli-audit-internal.h"
#include "cli/cli-table.h"
#include "util/macro.h"

/* in the order of `xbus audit --help` */
static const CliCommand *const audit_commands[] = {
        &cli_audit_query,        &cli_audit_show,         &cli_audit_checkpoint,
        &cli_audit_export,       &cli_audit_verify,       &cli_audit_verify_export,
        &cli_audit_verify_proof, &cli_audit_verify_cross, &cli_audit_key,
};

int cli_audit_report(const char *what, int r, AuditReport *rep, double seconds)
{
        if (r == 0) {
                printf("OK: %s: %" PRIu64 " entries and %" PRIu64 " checkpoints verified", what, rep->entries,
                       rep->checkpoints);
                if (seconds > 0) {
                        printf(" in %.2f s", seconds);
                        if (rep->entries >= 1000)
                                printf(" (%.2f s per million entries)", seconds * 1e6 / (double)rep->entries);
                }
                printf("\n");
        } else if (r > 0) {
                _cleanup_free_ char *s = cli_sanitize(rep->reason ? rep->reason : "?", 1024);
                printf("FAILED (%s): %s\n", audit_strerror(r), s ? s : "?");
        }
        audit_report_done(rep);
        return r == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

static void audit_help(void)
{
        printf("Usage: xbus audit COMMAND [OPTIONS]\n\n"
               "The auditor's side of the tamper-evident exchange log (docs/auditing.md).\n\nCommands:\n");
        cli_command_list(audit_commands, ELEMENTSOF(audit_commands));
        printf("\n`xbus audit COMMAND --help` describes each. Exit status: 0 success (verified), 1 "
               "failure,\n"
               "2 usage error.\n");
}

/* `xbus audit COMMAND ...`: argv[0] is "xbus audit". */
static int audit_run(const CliCommand *c, int argc, char **argv)
{
        const CliCommand *sub;

        if (argc < 2)
                return cli_command_usage_error(c, "which command?");
        if (streq(argv[1], "-h") || streq(argv[1], "--help") || streq(argv[1], "help")) {
                audit_help();
                return EXIT_SUCCESS;
        }
        sub = cli_command_find(audit_commands, ELEMENTSOF(audit_commands), argv[1]);
        if (!sub)
                return cli_command_usage_error(c, "no command \"%s\"", argv[1]);
        return cli_command_run(sub, argc - 1, argv + 1);
}

const CliCommand cli_audit_command = {
        .name = "xbus audit",
        .summary = "query, export and verify the exchange log (auditors)",
        .run = audit_run,
        .help = audit_help,
};
