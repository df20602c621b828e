/* config.h: the node configuration (one INI file, docs/configuration.md)
 *
 * Every key has a default, so an empty file (or none) is the embedded
 * default: state under ./state, the embedded sample registry, a demo PKI
 * generated at first start, loopback listeners. Relative paths are resolved
 * against the folder of the configuration file (the current folder when
 * there is none).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/access.h"
#include "util/log.h"

typedef struct Config {
        /* [node] */
        char *state_dir;       /* default "state" */
        char *registry;        /* registry folder, or NULL for the embedded sample */
        char *name;            /* node name (log origin), default "xbus.local" */
        char *security_server; /* the X-Road security server id this node answers to (X-Road-Security-Server),
                                * or NULL: <registry instance>/GOV/XBUS/<name> */
        LogFormat log_format;  /* the operational log's; default auto */
        /* [http] */
        char *http_listen;           /* default "127.0.0.1:8443" */
        size_t http_threads;         /* default 2 */
        size_t http_max_connections; /* default 4096 */
        size_t http_max_header_size; /* default 16 KiB */
        size_t http_max_body_size;   /* default 4 MiB */
        uint64_t http_timeout_ms;    /* default 30 s */
        /* [http] what a connection may hold (docs/configuration.md) */
        size_t http_max_connections_per_client; /* default 256 */
        uint64_t http_handshake_timeout_ms;     /* default 5 s */
        uint64_t http_request_timeout_ms;       /* default 10 s */
        /* [tls] (NULL: the demo PKI under <state-dir>/pki) */
        char *tls_certificate;
        char *tls_key;
        char *tls_client_ca;
        char *tls_client_crl; /* NULL: the demo PKI's ca.crl when client_ca is the demo's, else none */
        /* [adapters] */
        char *adapters_listen;          /* default "tcp://127.0.0.1:5560" */
        uint64_t adapters_heartbeat_ms; /* default 1 s */
        size_t adapters_liveness;       /* default 3 */
        /* [log] */
        size_t log_map_size;                 /* default 16 GiB */
        size_t log_max_batch;                /* default 1024 */
        size_t log_queue;                    /* default 65536 */
        uint64_t log_checkpoint_interval_ms; /* default 10 s */
        bool log_receipts_per_exchange;      /* receipts = per-exchange (one ES256 signature per exchange);
                                              * default per-batch (one per group commit, log/batch-receipt.h) */
        /* [keys] (NULL: the demo PKI) */
        char *signing_key;
        char *pseudonym_key;
        char *log_key; /* Ed25519 checkpoint key (PEM), and its public half */
        char *log_public_key;
        char *curve_key; /* the adapter endpoint's CURVE secret key (Z85) */
        /* [metrics] */
        AccessList metrics_allow;  /* who may read /metrics; default loopback */
        AccessList health_allow;   /* who may read /health; default loopback */
        size_t metrics_max_series; /* series of xbus_exchanges_total before overflow; default 2000 */
        /* [console] (docs/console.md) */
        char *console_key;                   /* the key that signs sign-in links; default <state-dir>/console.key */
        uint64_t console_idle_timeout_ms;    /* a session ends this long after its last call; default 15 min */
        uint64_t console_session_timeout_ms; /* and this long after sign-in in any case; default 8 h */
        /* [snapshot]: with urls, the registry comes from signed snapshots (docs/federation.md) */
        char **snapshot_urls;          /* https:// URLs tried in order, or NULL */
        char **snapshot_anchors;       /* files of the authority keys trusted */
        char *snapshot_ca;             /* CA certificates for the HTTPS fetch, or NULL: the system's */
        uint64_t snapshot_interval_ms; /* default 1 min */
        uint64_t snapshot_grace_ms;    /* how long an expired snapshot keeps serving; default 10 min */
        uint64_t snapshot_timeout_ms;  /* one download; default 30 s */

        char *path;    /* the file this came from, or NULL */
        bool demo_pki; /* some key or certificate comes from the demo PKI */
} Config;

/*
 * config_load(): parse `path` (NULL: defaults only) into a new Config.
 * On CONFIG_E_INVALID, *ret_errors holds every "file:line: message".
 * Return: 0, CONFIG_E_INVALID (1), or -errno.
 */
enum { CONFIG_E_INVALID = 1 };
int config_load(Config **ret, const char *path, char **ret_errors);
Config *config_free(Config *c);

/* config_pki_dir(): "<state-dir>/pki" (malloc'd). */
char *config_pki_dir(const Config *c);
