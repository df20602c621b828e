/* cli-demo.h: `xbus demo`, a guided scenario against a running (or freshly started) node
 *
 * Part 1: five exchanges that show what the bus decides and why (a lawful read with
 * a verified receipt; a client without a right; an unknown service; a purpose
 * the right does not list; a consent-based right without consent), then the
 * exchange log read back by the X-Bus-Log-Seq numbers the node returned,
 * checking that each decision was recorded as it was answered. Part 2 is the
 * citizen's consent (docs/consent.md): the national portal records a consent
 * through the consent API, the refused land request now succeeds, the
 * citizen's access history shows both, and after revocation the request is
 * refused again. Each step says whether the bus behaved as expected.
 */
#pragma once

#include <stdio.h>

/* Positive: the scenario ran, but some step did not behave as expected. */
enum { CLI_DEMO_E_UNEXPECTED = 1 };

typedef struct CliDemoOptions {
        const char *state_dir; /* NULL: CLI_NODE_DEFAULT_STATE */
        const char *url;       /* NULL: the node `xbus up` started (STATE/node.json), else as `xbus up` starts one */
        const char *adapters;  /* used only when the node must be started; NULL: default */
        FILE *out;             /* the story (stdout) */
} CliDemoOptions;

/*
 * cli_demo_run(): start the node if nothing answers at the URL (as `xbus up`, on free ports
 * when the default ones are taken and no URL is given),
 * run the scenario and print it. On a failure to run at all, *ret_error
 * (if given) is a malloc'd reason.
 * Return: 0 (every step as expected), CLI_DEMO_E_UNEXPECTED, -errno, or a
 * CLI_NODE_E_* code (the node could not be used).
 */
int cli_demo_run(const CliDemoOptions *o, char **ret_error);
