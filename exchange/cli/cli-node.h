/* cli-node.h: `xbus up` and `xbus down`, a local node and its sample adapter for demos
 *
 * `up` reuses a node that already answers /health at the URL (its
 * certificate must chain to STATE/pki/ca.crt: a node of another state
 * folder is refused, not reused), or at the URL the state file names
 * (cli-node-state.h), or starts `xbusd` and
 * `xbus-adapter-sample`, both taken from the folder of the running `xbus`
 * binary (/proc/self/exe), each in its own session with stdout and stderr
 * appended to STATE/xbusd.log and STATE/adapter-sample.log and its pid in
 * STATE/xbusd.pid and STATE/adapter-sample.pid. It then waits (bounded) until
 * /health reports at least one adapter. When the wait fails, what this call
 * started is stopped again. Ports: a default port (8443, 5560) that
 * another program holds is moved to a free one (said on `progress`); a
 * port given is used as is, and a taken one is CLI_NODE_E_TAKEN. Where the
 * node listens is written to STATE/node.json, which `down` removes.
 *
 * `down` stops what the pid files name, after checking that each pid is
 * still the program it should be (a recycled pid is left alone): SIGTERM,
 * a bounded wait, then SIGKILL.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/cli-node-state.h" /* the default addresses, the URL and /health, the CLI_NODE_E_* codes */

/* plain literals where `xbus up --help` quotes them (STRINGIFY) */
#define CLI_NODE_DEFAULT_PEOPLE 10000
#define CLI_NODE_MAX_PEOPLE 1000000
#define CLI_NODE_UP_WAIT_S 30
#define CLI_NODE_UP_WAIT_MS (CLI_NODE_UP_WAIT_S * 1000U)
#define CLI_NODE_DOWN_WAIT_S 10
#define CLI_NODE_DOWN_WAIT_MS (CLI_NODE_DOWN_WAIT_S * 1000U)
/* Person 0 of the sample dataset, the same for every seed (adapters/sample/dataset.h). */
#define CLI_NODE_DEMO_SUBJECT "001090000001"

typedef struct CliNodeOptions {
        const char *state_dir; /* NULL: CLI_NODE_DEFAULT_STATE */
        const char *listen;    /* HOST:PORT, used as is; NULL: CLI_NODE_DEFAULT_LISTEN, or a free port when taken */
        const char *adapters;  /* ZeroMQ endpoint, likewise; NULL: CLI_NODE_DEFAULT_ADAPTERS or a free port */
        const char *config;    /* xbusd's configuration file (--config), or NULL */
        const char *registry;  /* a registry folder for xbusd (--registry), or NULL */
        bool no_sample;        /* start no sample adapter; ready once the node answers */
        uint64_t people;       /* 0: CLI_NODE_DEFAULT_PEOPLE */
        unsigned wait_ms;      /* 0: CLI_NODE_UP_WAIT_MS */
        FILE *progress;        /* one line per step, or NULL */
} CliNodeOptions;

typedef struct CliNodeInfo {
        char *url;               /* "https://127.0.0.1:8443" */
        char *adapters_endpoint; /* "tcp://127.0.0.1:5560" */
        bool reused;             /* the node was already running */
        bool started_daemon, started_adapter;
        unsigned adapters; /* as /health last reported */
} CliNodeInfo;

/*
 * cli_node_up(): see above. *ret (release with cli_node_info_done()) is
 * written on success. Return: 0, CLI_NODE_E_*, -errno; *ret_error on failure.
 */
int cli_node_up(const CliNodeOptions *o, CliNodeInfo *ret, char **ret_error);
void cli_node_info_done(CliNodeInfo *i);

/*
 * cli_node_down(): stop what the pid files under `state_dir` name; reports
 * each step to `out` (may be NULL). Return: 0 (stopped, or nothing to stop),
 * -errno; *ret_error on failure.
 */
int cli_node_down(const char *state_dir, FILE *out, char **ret_error);

/*
 * cli_node_subject_id(): the first person's id from
 * `xbus-adapter-sample --print-ids 1 --data STATE/sample --people N`
 * (bounded wait and output), into out (12 digits and a NUL).
 * Return: 0, or -errno / -EBADMSG with *ret_error (callers may fall back to
 * CLI_NODE_DEMO_SUBJECT).
 */
int cli_node_subject_id(const char *state_dir, uint64_t people, char out[13], char **ret_error);

/* cli_node_program_path(): "<folder of /proc/self/exe>/<name>" (malloc'd). Return: 0 or -errno. */
int cli_node_program_path(const char *name, char **ret);
