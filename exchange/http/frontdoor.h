/* frontdoor.h: the HTTPS front door (libevent + OpenSSL, N worker threads)
 *
 * Each worker thread has its own event base, evhttp and listening socket
 * (SO_REUSEPORT: the kernel spreads connections), its own mailbox for the
 * broker's and the log writer's answers, and no shared mutable state other
 * than the Node. Serves:
 *   /r1/...     the X-Road REST exchange (mutual TLS)
 *   POST /      the X-Road SOAP exchange
 *   /health     200 when the node can serve, else 503 with the reasons (no client certificate needed)
 *   /metrics    Prometheus text format
 *   (both to the peers their access lists admit: loopback by default, http/access.h)
 *   the prefixes of the endpoints in FrontDoorOptions (node/endpoint.h)
 * http-internal.h is the map of the pieces.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/console.h"
#include "http/access.h"
#include "http/frontdoor-tls.h" /* FrontDoorCert */
#include "node/endpoint.h"
#include "node/node.h"

typedef struct FrontDoorOptions {
        const char *listen;       /* "127.0.0.1:8443" or "[::1]:8443" */
        unsigned threads;         /* worker threads, >= 1 */
        size_t max_header_size;   /* total request header bytes */
        size_t max_body_size;     /* absolute cap; services may set lower limits */
        unsigned timeout_ms;      /* idle/read/write timeout per connection */
        unsigned max_connections; /* per node; as many again are admitted only to be shed (503) */
        const char *tls_cert;     /* PEM paths */
        const char *tls_key;
        const char *client_ca;     /* CAs whose client certificates are trusted */
        const char *client_crl;    /* CRLs of those CAs (PEM), checked for every client certificate; or NULL */
        bool client_crl_optional;  /* a missing client_crl file means no CRL yet (the demo PKI's) */
        const Endpoint *endpoints; /* the node's other APIs, by path prefix (borrowed) */
        size_t n_endpoints;
        /* what one connection may hold (frontdoor.c, "connections"); 0: no cap, 5 s, 10 s */
        unsigned max_connections_per_client; /* per client address (IPv6: per /64) */
        unsigned handshake_timeout_ms;       /* the TLS handshake, from accept */
        unsigned request_timeout_ms;         /* one request, header and body, from its first byte */
        /* who may read /metrics and /health (borrowed); NULL: loopback only */
        const AccessList *metrics_access, *health_access;
        const ConsoleApi *console; /* the web console, whose counters /metrics shows, or NULL */
} FrontDoorOptions;

typedef struct FrontDoor FrontDoor;

/*
 * frontdoor_new(): load TLS material, bind, start the worker threads.
 * `node` must outlive the FrontDoor. On failure *ret_error (if given) holds
 * a malloc'd message naming the cause.
 * Return: 0 or -errno.
 */
int frontdoor_new(FrontDoor **ret, const FrontDoorOptions *opts, Node *node, char **ret_error);

/*
 * frontdoor_free(): stop accepting, finish requests in flight (they are
 * bounded by the service timeouts), stop the threads. NULL in, NULL out.
 */
FrontDoor *frontdoor_free(FrontDoor *fd);

/* frontdoor_port(): the bound port (useful with port 0). */
int frontdoor_port(const FrontDoor *fd);

/*
 * frontdoor_reload_tls(): read the certificate, key, client CAs and CRLs
 * again (the same paths) into a new TLS context and swap it in whole while
 * the workers run: new connections use it at once; a connection made before
 * has its client certificate checked again against it at its next request
 * (one that no longer verifies, revoked for instance, is answered
 * client_unknown and closed); sessions of the old context do not resume.
 * Nothing changes when anything is wrong (*ret_error says what).
 * Return: 0 or -errno.
 */
int frontdoor_reload_tls(FrontDoor *fd, char **ret_error);

/* frontdoor_certificates(): those of the current TLS context, at most `max`, into `out`. Thread-safe.
 * Return: how many. */
size_t frontdoor_certificates(FrontDoor *fd, FrontDoorCert *out, size_t max);
