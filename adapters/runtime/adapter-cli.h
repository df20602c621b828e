/* adapter-cli.h: the command line the adapter programs share (bus, workers, name, CURVE, routes)
 *
 * The adapter programs (xbus-adapter-sample, -rest, -soap) take the same
 * options for their place on the bus: --bus, --workers, --name, the three
 * CURVE options and --help. The forwarding adapters (REST, SOAP) also share
 * --route SERVICE=URL and the backend options --timeout, --max-response,
 * --cacert, --cert and --key. adapter_cli_parse() handles those and hands a
 * program's own options to its callback.
 *
 * Unlike library code this module logs: it is the programs' front end, and
 * each refusal says which option and why (log_error) before returning.
 *
 * Caveats: not thread-safe (getopt_long() state); option strings stay
 * borrowed from argv.
 */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/proto.h"
#include "runtime/adapter-curl.h"
#include "runtime/adapter.h"

#define ADAPTER_CLI_DEFAULT_BUS "tcp://127.0.0.1:5560"

/* Help lines for the shared options, to paste into a program's usage text. */
#define ADAPTER_CLI_HELP_BUS \
        "  --bus ENDPOINT            the node's adapter endpoint (default " ADAPTER_CLI_DEFAULT_BUS ")\n"
#define ADAPTER_CLI_HELP_TAIL                                                                  \
        "  --curve-server-key KEY    the node's CURVE public key (Z85; adapters need CURVE)\n" \
        "  --curve-server-key-file F the same, from a file (the node's node-curve.pub)\n"      \
        "  --curve-public-key KEY    this adapter's CURVE public key (default: derived)\n"     \
        "  --curve-secret-key-file F file holding this adapter's CURVE secret key (Z85)\n"     \
        "  --help                    this text\n"

/* Option values: a program numbers its own options from ADAPTER_CLI_ARG_PROGRAM up. */
enum {
        ADAPTER_CLI_ARG_BUS = 0x100,
        ADAPTER_CLI_ARG_WORKERS,
        ADAPTER_CLI_ARG_NAME,
        ADAPTER_CLI_ARG_CURVE_SERVER,
        ADAPTER_CLI_ARG_CURVE_PUBLIC,
        ADAPTER_CLI_ARG_CURVE_SECRET_FILE,
        ADAPTER_CLI_ARG_CURVE_SERVER_FILE,
        ADAPTER_CLI_ARG_HELP,
        ADAPTER_CLI_ARG_ROUTE,
        ADAPTER_CLI_ARG_TIMEOUT,
        ADAPTER_CLI_ARG_MAX_RESPONSE,
        ADAPTER_CLI_ARG_CACERT,
        ADAPTER_CLI_ARG_CERT,
        ADAPTER_CLI_ARG_KEY,
        ADAPTER_CLI_ARG_PROGRAM = 0x200,
};

#define ADAPTER_CLI_MAX_OPTIONS 32 /* shared and a program's own, all told */

typedef struct AdapterCli {
        const char *bus, *name; /* borrowed (argv or literals) */
        unsigned workers;
        const char *curve_server_key, *curve_server_key_file, *curve_public_key, *curve_secret_key_file;
        /* adapter_cli_load_secret(): the secret key, and the keys read from a file or derived */
        char curve_secret_key[ADAPTER_CURVE_KEY_LEN + 1], curve_keys[2][ADAPTER_CURVE_KEY_LEN + 1];
} AdapterCli;

/* The services a forwarding adapter serves, each from a backend URL (both owned). */
typedef struct AdapterCliRoute {
        char *service, *url;
} AdapterCliRoute;

typedef struct AdapterCliForward {
        AdapterCliRoute routes[PROTO_MAX_SERVICES];
        const char *services[PROTO_MAX_SERVICES + 1]; /* NULL-terminated, pointing into routes */
        size_t n_routes;
        AdapterCurlOptions backend;         /* strings borrowed from argv */
        bool (*url_valid)(const char *url); /* set by the program */
} AdapterCliForward;

typedef struct AdapterCliProgram {
        /* the program's own options ({}-terminated; values from ADAPTER_CLI_ARG_PROGRAM), or NULL */
        const struct option *options;
        /* one of them; 0, or a negative errno after logging why */
        int (*option)(void *userdata, int opt, char *arg);
        void (*help)(void); /* prints the usage text */
        /* a forwarding adapter: --route and the backend options go here; else NULL */
        AdapterCliForward *forward;
        void *userdata;
} AdapterCliProgram;

/*
 * adapter_cli_parse(): parse argv into `c` (defaults set by the caller) and
 * the program's own options, then check: no arguments left over; for a
 * forwarding adapter at least one --route, and --cert with --key; the CURVE
 * options all three or none. --help prints the usage text and stops.
 * Return: 0, 1 after --help (exit with success), or a negative errno after
 * logging the refusal (exit with 2).
 */
int adapter_cli_parse(AdapterCli *c, const AdapterCliProgram *p, int argc, char **argv);

/*
 * adapter_cli_load_secret(): read the CURVE secret key file, when one was
 * given, into c->curve_secret_key (adapter_cli_run() wipes it), the node's
 * key from --curve-server-key-file, and derive this adapter's public key
 * unless --curve-public-key gave it. Logs a failure. Return: 0, or a
 * negative errno.
 */
int adapter_cli_load_secret(AdapterCli *c);

/*
 * adapter_cli_run(): fill in `o` from `c` (endpoint, name, workers, CURVE
 * keys; the rest is the caller's), run the adapter until it stops, wipe the
 * secret key and log the outcome. Return: the exit status, 0 or 1.
 */
int adapter_cli_run(AdapterCli *c, AdapterOptions *o, const AdapterHandler *h, void *userdata);

/* adapter_cli_forward_url(): the backend URL of `service` (owned by `f`), or NULL. */
const char *adapter_cli_forward_url(const AdapterCliForward *f, const char *service);
/* adapter_cli_forward_log(): log the routes and what is served, with how many workers. */
void adapter_cli_forward_log(const AdapterCliForward *f, const AdapterCli *c);
/* adapter_cli_forward_done(): free the routes. */
void adapter_cli_forward_done(AdapterCliForward *f);
