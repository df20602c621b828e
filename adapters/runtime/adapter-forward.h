/* adapter-forward.h: the one program behind the forwarding adapters (xbus-adapter-rest, -soap)
 *
 * A forwarding adapter serves each service from a backend URL: --route
 * SERVICE=URL and the backend options of adapter-cli.h, one AdapterCurl
 * (adapter-curl.h) per worker, and each request handed to the kind's
 * forward function with its route's URL. What differs between the kinds is
 * a small table, AdapterForwardKind, kept beside each forwarder
 * (rest_forward_kind in rest/rest-forward.h, soap_forward_kind in
 * soap/soap-forward.h); a program's main() is adapter_forward_main().
 *
 * Exit status: 0 (clean stop, or --help), 1 (start-up or run failure), 2 (a
 * refused command line), as adapter_cli_parse() and adapter_cli_run() say.
 */
#pragma once

#include <stdint.h>

#include "runtime/adapter-curl.h"
#include "runtime/adapter.h"

typedef struct AdapterForwardKind {
        const char *kind;                   /* "rest": the adapter kind announced and the default --name */
        const char *ident;                  /* "xbus-adapter-rest": the program's log prefix */
        void (*help)(void);                 /* prints the usage text */
        uint64_t timeout_ms;                /* --timeout default */
        size_t max_response;                /* --max-response default */
        bool (*url_valid)(const char *url); /* which --route URLs are accepted */
        /* a library to set up before libcurl, or NULL; `libraries` names all of them for the failure message */
        int (*global_init)(void);
        const char *libraries;
        /* answer `req` from the backend at `url` (0, or -errno: answered provider_unavailable) */
        int (*forward)(AdapterCurl *f, const char *url, const AdapterRequest *req, AdapterResponse *resp);
} AdapterForwardKind;

/*
 * adapter_forward_main(): the whole forwarding adapter program of kind `k`:
 * parse argv, set up the libraries, serve until SIGINT/SIGTERM, clean up.
 * Return: the exit status (see above).
 */
int adapter_forward_main(const AdapterForwardKind *k, int argc, char **argv);
