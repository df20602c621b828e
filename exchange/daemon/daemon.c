/* daemon.c: node start and stop, in dependency order, and registry reloads */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "api/audit-api.h"
#include "api/consent-api.h"
#include "api/console.h"
#include "api/registry-api.h"
#include "crypto/keyfile.h"
#include "crypto/pki.h"
#include "daemon/daemon.h"
#include "daemon/fetcher.h"
#include "http/frontdoor.h"
#include "http/status.h"
#include "log/checkpoint.h"
#include "soap/soap-dsig.h"
#include "soap/soap.h"
#include "util/fileio.h"
#include "util/ini.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/strv.h"
#include "util/time-util.h"
#include "xbus-config.h"

/* The files a node uses: configured, or the demo PKI's under <state-dir>/pki. */
typedef struct DaemonPaths {
        char *cert, *key, *ca, *signing, *pseudonym, *log_key, *log_pub, *log_dir, *curve;
        char *crl;         /* the client CRLs, or NULL */
        bool crl_optional; /* the demo PKI's, which exists once a certificate was revoked */
} DaemonPaths;

/* A certificate the node uses or trusts this close to its expiry is warned about, once a day. */
#define CERT_WARN_S (30 * 86400)
#define CERT_CHECK_EVERY_S 86400

struct Daemon {
        const Config *config;
        DaemonPaths paths;
        Node node;
        bool node_lock;
        Signer *signer;
        PseudonymKey *pseudonyms;
        CheckpointSigner *checkpoints;
        SoapSigner *soap_signer;
        SoapTrust *soap_trust;
        char *log_vkey;
        char curve_public[KEYFILE_CURVE_LEN + 1]; /* the adapter endpoint's, for the log */
        ConsentApi consent_api;
        AuditApi audit_api;
        ConsoleApi console_api;
        StatusSource status;
        Endpoint endpoints[4];
        FrontDoor *frontdoor;
        uint64_t started_usec; /* CLOCK_MONOTONIC, once the node serves (0 before) */
        time_t next_cert_check;
        Fetcher *fetcher; /* [snapshot] url: the registry comes from signed snapshots */
};

int daemon_load_registry(const Config *c, const char *state_dir, Registry **ret)
{
        _cleanup_free_ char *errors = NULL;
        const char *name = c->registry ? c->registry : "embedded";
        int r;

        r = registry_load_node(ret, c->registry, state_dir, &errors);
        if (r == REGISTRY_E_INVALID) {
                if (log_get_format() == LOG_FORMAT_TEXT)
                        fprintf(stderr, "%s", strempty(errors)); /* as --test-config prints them */
                else /* one event each, rate-limited as one message; --test-config lists them all */
                        for (char *p = errors, *nl; p && *p; p = nl ? nl + 1 : NULL) {
                                nl = strchr(p, '\n');
                                log_error("Registry error: %.*s", nl ? (int)(nl - p) : (int)strlen(p), p);
                        }
                log_error("Registry \"%s\" is invalid.", name);
                return -EINVAL;
        }
        if (r < 0)
                return log_error_errno(r, "Cannot load registry \"%s\": %m", name);
        return 0;
}

int daemon_test_config(const Config *c)
{
        _cleanup_(registry_unrefp) Registry *reg = NULL;
        const RegistrySubsystem *const *s;
        const RegistryService *const *v;
        const RegistryRight *const *rr;
        const char *files[] = { c->tls_certificate, c->tls_key, c->tls_client_ca,  c->tls_client_crl, c->signing_key,
                                c->pseudonym_key,   c->log_key, c->log_public_key, c->curve_key };
        _cleanup_free_ char *pki = config_pki_dir(c);
        /* before the first start there is no demo PKI, nor the key files it makes: references are checked for form */
        const char *state = c->demo_pki && pki && access(pki, F_OK) < 0 ? NULL : c->state_dir;
        size_t ns, nv, nr;
        int r = 0;

        if (c->snapshot_urls) {
                _cleanup_(fetcher_freep) Fetcher *f = NULL;

                if (fetcher_open(&f, c, false, &reg) < 0)
                        return -EINVAL;
                if (!reg) {
                        printf("configuration %s OK: the registry comes from signed snapshots (%zu URLs); none is "
                               "kept in the state folder yet: the node fetches one at start\n",
                               strempty(c->path), strv_length(c->snapshot_urls));
                        return 0;
                }
        } else if (daemon_load_registry(c, state, &reg) < 0)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                if (files[i] && access(files[i], R_OK) < 0) {
                        fprintf(stderr, "%s: cannot read \"%s\": %m\n", strempty(c->path), files[i]);
                        r = -errno;
                }
        if (r < 0)
                return r;
        ns = registry_subsystems(reg, &s);
        nv = registry_services(reg, &v);
        nr = registry_rights(reg, &rr);
        printf("configuration %s OK: instance %s, %zu subsystems, %zu services, %zu access rights (registry: %s)%s\n",
               c->path ? c->path : "(embedded default)", registry_instance(reg), ns, nv, nr,
               c->snapshot_urls ? "signed snapshot"
               : c->registry    ? c->registry
                                : "embedded",
               state ? "" : "; adapter key references not read: the demo PKI is made at first start");
        return 0;
}

static int ensure_demo_pki(const Config *c, const Registry *reg)
{
        const RegistrySubsystem *const *subs;
        size_t n = registry_subsystems(reg, &subs), nc = 0, na = 0;
        _cleanup_free_ const char **clients = calloc(n + 1, sizeof(char *));
        _cleanup_free_ const char **auths = calloc(n + 1, sizeof(char *));
        _cleanup_free_ char *dir = config_pki_dir(c), *error = NULL;
        int r;

        if (!clients || !auths || !dir)
                return log_error_errno(ENOMEM, "Out of memory.");
        for (size_t i = 0; i < n; i++) {
                if (subs[i]->tls_cn)
                        clients[nc++] = subs[i]->id;
                if (subs[i]->roles & REGISTRY_ROLE_CONSENT_AUTHORITY)
                        auths[na++] = subs[i]->id;
        }
        r = pki_demo_ensure(dir, clients, nc, auths, na, &error);
        if (r < 0)
                return log_error_errno(r, "Demo PKI in \"%s\" could not be completed: %s", dir,
                                       error ? error : strerror(-r));
        return 0;
}

/* The demo's CURVE key pairs (the adapter endpoint's unless configured, the sample adapter's), before the
 * registry reads them through key references. */
static int ensure_demo_curve(const Config *c)
{
        _cleanup_free_ char *pki = config_pki_dir(c), *adapters = NULL, *error = NULL;
        int r = 0;

        if (!pki || asprintf(&adapters, "%s/adapters", pki) < 0)
                return log_error_errno(ENOMEM, "Out of memory.");
        if (!c->curve_key)
                r = pki_curve_ensure(pki, "node-curve", &error);
        if (r >= 0)
                r = pki_curve_ensure(adapters, "sample", &error);
        if (r < 0)
                return log_error_errno(r, "Demo CURVE keys in \"%s\" could not be created: %s", pki,
                                       error ? error : strerror(-r));
        return 0;
}

static char *pki_path(const Config *c, const char *configured, const char *file)
{
        char *p;

        if (configured)
                return strdup(configured);
        if (asprintf(&p, "%s/pki/%s", c->state_dir, file) < 0)
                return NULL;
        return p;
}

static int paths_resolve(const Config *c, DaemonPaths *p)
{
        p->cert = pki_path(c, c->tls_certificate, "node.crt");
        p->key = pki_path(c, c->tls_key, "node.key");
        p->ca = pki_path(c, c->tls_client_ca, "ca.crt");
        p->signing = pki_path(c, c->signing_key, "signing.key");
        p->pseudonym = pki_path(c, c->pseudonym_key, "pseudonym.key");
        p->log_key = pki_path(c, c->log_key, "log.key");
        p->log_pub = pki_path(c, c->log_public_key, "log.pub");
        p->curve = pki_path(c, c->curve_key, "node-curve.key");
        if (asprintf(&p->log_dir, "%s/log", c->state_dir) < 0)
                p->log_dir = NULL;
        /* the demo PKI's CRL once `xbus pki revoke` made one: with the demo client CA only */
        p->crl_optional = !c->tls_client_crl && !c->tls_client_ca;
        if (c->tls_client_crl || p->crl_optional) {
                p->crl = pki_path(c, c->tls_client_crl, "ca.crl");
                if (!p->crl)
                        return log_error_errno(ENOMEM, "Out of memory.");
        }
        if (!p->cert || !p->key || !p->ca || !p->signing || !p->pseudonym || !p->log_key || !p->log_pub ||
            !p->log_dir || !p->curve)
                return log_error_errno(ENOMEM, "Out of memory.");
        return 0;
}

static void paths_done(DaemonPaths *p)
{
        char **all[] = { &p->cert,    &p->key,     &p->ca,      &p->signing, &p->pseudonym,
                         &p->log_key, &p->log_pub, &p->log_dir, &p->curve,   &p->crl };

        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                *all[i] = mfree(*all[i]);
}

/* The receipt, pseudonym and checkpoint keys, loaded once. */
static int keys_load(Daemon *d)
{
        const DaemonPaths *p = &d->paths;
        CheckpointVerifier *cv = NULL;
        int r;

        r = signer_load(&d->signer, p->signing);
        if (r < 0)
                return log_error_errno(r, "Cannot load the signing key \"%s\": %m", p->signing);
        r = pseudonym_key_load(&d->pseudonyms, p->pseudonym);
        if (r < 0)
                return log_error_errno(r, "Cannot load the pseudonym key \"%s\": %m", p->pseudonym);
        r = checkpoint_signer_load(&d->checkpoints, d->config->name, p->log_key, p->log_pub);
        if (r != 0) {
                log_error_errno(r < 0 ? r : EINVAL, "Cannot load the log key \"%s\" (origin \"%s\"): %s", p->log_key,
                                d->config->name, r < 0 ? strerror(-r) : checkpoint_strerror(r));
                return r < 0 ? r : -EINVAL;
        }
        if (checkpoint_signer_verifier(d->checkpoints, &cv) == 0 && checkpoint_verifier_vkey(cv, &d->log_vkey) < 0)
                d->log_vkey = NULL;
        checkpoint_verifier_free(cv);
        return 0;
}

/* SOAP: the XML stack is set up (hardened) once, before any thread; the node signs answers
 * with its TLS key and certificate, and trusts the client CAs for signed requests. */
static int soap_load(Daemon *d)
{
        _cleanup_free_ char *kp = NULL, *cp = NULL, *cap = NULL;
        size_t kn = 0, cn = 0, can = 0;
        int r;

        r = soap_global_init();
        if (r < 0)
                return log_error_errno(r, "Cannot initialise the XML security library: %m");
        if (read_full_file(d->paths.key, KIB(64), &kp, &kn) < 0 ||
            read_full_file(d->paths.cert, KIB(64), &cp, &cn) < 0 || read_full_file(d->paths.ca, MIB(1), &cap, &can) < 0)
                return log_error_errno(EIO, "Cannot read the node's TLS key, certificate or client CA for SOAP.");
        r = soap_signer_new(&d->soap_signer, kp, kn, cp, cn);
        if (r == 0)
                r = soap_trust_new(&d->soap_trust, cap, can);
        explicit_bzero(kp, kn);
        if (r != 0) {
                log_error_errno(r < 0 ? r : EINVAL, "Cannot set up SOAP signing or trust: %s",
                                r < 0 ? strerror(-r) : "refused");
                return r < 0 ? r : -EINVAL;
        }
        return 0;
}

/* The exchange log, the consent store in its environment, the adapter broker. */
static int node_open(Daemon *d)
{
        const Config *c = d->config;
        Node *n = &d->node;
        char secret[KEYFILE_CURVE_LEN + 1];
        int r;

        r = exlog_open(&n->log, d->paths.log_dir,
                       &(ExlogOptions){ .map_size = c->log_map_size,
                                        .max_batch = (unsigned)c->log_max_batch,
                                        .queue_capacity = c->log_queue,
                                        .checkpoints = d->checkpoints,
                                        .checkpoint_interval_ms = (unsigned)c->log_checkpoint_interval_ms,
                                        /* [log] receipts = per-batch: the writer signs them (origin: the
                                         * checkpoints' name, the node's) */
                                        .receipt_signer = n->receipts_per_batch ? d->signer : NULL });
        if (r < 0)
                return log_error_errno(r, "Cannot open the exchange log in \"%s\": %m", d->paths.log_dir);
        r = consent_store_open(&n->consents, exlog_env(n->log));
        if (r < 0)
                return log_error_errno(r, "Cannot open the consent store in \"%s\": %m", d->paths.log_dir);
        consent_store_set_pseudonym_key(n->consents, d->pseudonyms);
        r = keyfile_curve_load(d->paths.curve, true, secret);
        if (r < 0)
                return log_error_errno(r, "Cannot load the adapter endpoint's CURVE key \"%s\": %m", d->paths.curve);
        zmq_curve_public(d->curve_public, secret);
        r = broker_new(&n->broker, &(BrokerOptions){ .endpoint = c->adapters_listen,
                                                     .heartbeat_ms = (unsigned)c->adapters_heartbeat_ms,
                                                     .liveness = (unsigned)c->adapters_liveness,
                                                     .curve_secret_key = secret,
                                                     .registry = n->registry });
        explicit_bzero(secret, sizeof(secret));
        if (r < 0)
                return log_error_errno(r, "Cannot bind the adapter endpoint \"%s\": %m", c->adapters_listen);
        return 0;
}

/* The open-file limit: a descriptor per connection, for max-connections served and as many shed,
 * and a reserve for the log, the adapters' sockets and the rest. The soft limit (1,024 by default)
 * is raised to that; when the hard limit is lower, fewer connections are admitted, so that accept()
 * never fails for want of descriptors. Return: the connection limit to use. */
#define FD_RESERVE 2048U
static unsigned rlimit_fit(const Config *c)
{
        rlim_t want = (rlim_t)c->http_max_connections * 2 + FD_RESERVE;
        struct rlimit rl;
        unsigned max;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
                return (unsigned)c->http_max_connections;
        rl.rlim_cur = MIN(want, rl.rlim_max);
        if (setrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur >= want)
                return (unsigned)c->http_max_connections;
        (void)getrlimit(RLIMIT_NOFILE, &rl);
        max = (unsigned)MAX(rl.rlim_cur / 4, rl.rlim_cur > 2 * FD_RESERVE ? (rl.rlim_cur - FD_RESERVE) / 2 : 0);
        log_warning("The open-file limit %llu is below the %llu that max-connections %zu needs; admitting %u.",
                    (unsigned long long)rl.rlim_cur, (unsigned long long)want, c->http_max_connections, max);
        return max;
}

/* The web console (docs/console.md): its link key (made at first start when it is the default one), its sessions. */
static int console_open(Daemon *d)
{
        const Config *c = d->config;
        _cleanup_free_ char *path = NULL;
        int r;

        if (c->console_key)
                path = strdup(c->console_key);
        else if (asprintf(&path, "%s/console.key", c->state_dir) < 0)
                path = NULL;
        if (!path)
                return log_error_errno(ENOMEM, "Out of memory.");
        r = console_key_load(path, !c->console_key, &d->console_api.key);
        if (r < 0)
                return log_error_errno(r, "Cannot load the console key \"%s\": %m", path);
        r = console_sessions_new(&d->console_api.sessions, now_usec(CLOCK_REALTIME), c->console_idle_timeout_ms * 1000,
                                 c->console_session_timeout_ms * 1000);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the console: %m");
        d->console_api.audit = &d->audit_api;
        d->console_api.consent = &d->consent_api;
        d->status = (StatusSource){ .node = &d->node, .console = &d->console_api }; /* .frontdoor once it is open */
        d->console_api.status = status_json;
        d->console_api.status_userdata = &d->status;
        return 0;
}

/* A node of a federation (signed snapshots, or a registry with [node] sections) forwards exchanges whose
 * provider another node hosts (node/exchange-internal.h), with its TLS certificate as its client certificate. */
static int forwarder_open(Daemon *d)
{
        const RegistryNode *const *nodes;
        int r;

        if (!d->config->snapshot_urls && registry_nodes(d->node.registry, &nodes) == 0)
                return 0;
        r = forwarder_new(&d->node.forwarder, &(ForwarderOptions){ .lanes = (unsigned)d->config->http_threads,
                                                                   .cert_file = d->paths.cert,
                                                                   .key_file = d->paths.key });
        if (r < 0)
                return log_error_errno(r, "Cannot start the forwarder to other nodes with \"%s\" and \"%s\": %m",
                                       d->paths.cert, d->paths.key);
        return 0;
}

/* The HTTPS front door, with the consent authority's and the auditors' APIs and the console as its endpoints. */
static int frontdoor_open(Daemon *d)
{
        const Config *c = d->config;
        Node *n = &d->node;
        _cleanup_free_ char *error = NULL;
        int r;

        d->consent_api = (ConsentApi){ .consents = n->consents,
                                       .pseudonyms = n->pseudonyms,
                                       .log = n->log,
                                       .nodes = { .forwarder = n->forwarder, .signer = n->signer } };
        d->audit_api = (AuditApi){ .log = n->log, .pseudonyms = n->pseudonyms, .log_vkey = n->log_vkey };
        r = console_open(d);
        if (r < 0)
                return r;
        d->endpoints[0] = (Endpoint){ AUDIT_API_PREFIX, audit_api_handle, &d->audit_api };
        d->endpoints[1] = (Endpoint){ CONSENT_API_PREFIX, consent_api_handle, &d->consent_api };
        d->endpoints[2] = (Endpoint){ CONSOLE_PREFIX, console_handle, &d->console_api };
        d->endpoints[3] = (Endpoint){ REGISTRY_API_PREFIX, registry_api_handle, NULL };
        r = frontdoor_new(&d->frontdoor,
                          &(FrontDoorOptions){ .listen = c->http_listen,
                                               .threads = (unsigned)c->http_threads,
                                               .max_header_size = c->http_max_header_size,
                                               .max_body_size = c->http_max_body_size,
                                               .timeout_ms = (unsigned)c->http_timeout_ms,
                                               .handshake_timeout_ms = (unsigned)c->http_handshake_timeout_ms,
                                               .request_timeout_ms = (unsigned)c->http_request_timeout_ms,
                                               .max_connections = rlimit_fit(c),
                                               .max_connections_per_client =
                                                       (unsigned)c->http_max_connections_per_client,
                                               .tls_cert = d->paths.cert,
                                               .tls_key = d->paths.key,
                                               .client_ca = d->paths.ca,
                                               .client_crl = d->paths.crl,
                                               .client_crl_optional = d->paths.crl_optional,
                                               .endpoints = d->endpoints,
                                               .n_endpoints = ELEMENTSOF(d->endpoints),
                                               .metrics_access = &c->metrics_allow,
                                               .console = &d->console_api,
                                               .health_access = &c->health_allow },
                          n, &error);
        if (r < 0)
                return log_error_errno(r, "Cannot start the front door: %s", error ? error : strerror(-r));
        atomic_store(&d->status.frontdoor, d->frontdoor);
        return 0;
}

/* Warn about each certificate the node uses or trusts, and each CRL, within CERT_WARN_S of its end. */
static void certificates_check(Daemon *d)
{
        static const char *const what[][2] = {
                { "node", "The node's TLS certificate" },
                { "client_ca", "The client CA certificate" },
                { "client_crl", "The client CRL issued by" },
        };
        FrontDoorCert certs[FRONTDOOR_CERTS_MAX];
        size_t n = frontdoor_certificates(d->frontdoor, certs, ELEMENTSOF(certs));
        time_t now = time(NULL);

        d->next_cert_check = now + CERT_CHECK_EVERY_S;
        for (size_t i = 0; i < n; i++) {
                int64_t left = certs[i].not_after - (int64_t)now;
                const char *role = certs[i].role;
                char until[32];
                struct tm tm;
                time_t t = (time_t)certs[i].not_after;

                if (left >= CERT_WARN_S)
                        continue;
                for (size_t k = 0; k < ELEMENTSOF(what); k++)
                        if (streq(certs[i].role, what[k][0]))
                                role = what[k][1];
                if (!gmtime_r(&t, &tm) || !strftime(until, sizeof(until), "%Y-%m-%dT%H:%M:%SZ", &tm))
                        snprintf(until, sizeof(until), "?");
                log_warning("%s \"%s\" %s %s (%lld days): %s, then reload (docs/operations.md, \"Certificates\").",
                            role, certs[i].subject,
                            streq(certs[i].role, "client_crl") ? "needs its next update by" : "expires", until,
                            (long long)(left / 86400),
                            streq(certs[i].role, "client_crl") ? "sign a new one (xbus pki crl)"
                                                               : "renew it (xbus pki renew)");
        }
}

/*
 * After a flood of connections has gone (thousands of TLS states, buffers),
 * give the freed heap back to the system: glibc keeps freed memory in its
 * arenas, so the node's anonymous memory would stay at the flood's height
 * (issue 14: RssAnon <= 64 MiB after the connection floods). Only when the
 * connections held fell by DAEMON_TRIM_DROP since the last look: a trim
 * takes each arena's lock briefly, and the pages it returns are faulted in
 * again by the next flood.
 */
#define DAEMON_TRIM_DROP 256u

static void memory_trim(Daemon *d)
{
        unsigned now = atomic_load(&d->node.connections);
        unsigned peak = atomic_exchange(&d->node.connections_peak, now);

        if (peak >= now + DAEMON_TRIM_DROP)
                (void)malloc_trim(0);
}

void daemon_tick(Daemon *d)
{
        if (time(NULL) >= d->next_cert_check)
                certificates_check(d);
        memory_trim(d);
}

int daemon_start(Daemon **ret, const Config *c)
{
        _cleanup_(registry_unrefp) Registry *reg = NULL;
        _cleanup_(fetcher_freep) Fetcher *fetcher = NULL;
        Daemon *d;
        int r;

        if (mkdir(c->state_dir, 0700) < 0 && errno != EEXIST)
                return log_error_errno(errno, "Cannot create state folder \"%s\": %m", c->state_dir);
        r = c->demo_pki ? ensure_demo_curve(c) : 0;
        if (r == 0)
                r = c->snapshot_urls ? fetcher_open(&fetcher, c, true, &reg)
                                     : daemon_load_registry(c, c->state_dir, &reg);
        if (r < 0)
                return r;
        if (c->demo_pki) {
                r = ensure_demo_pki(c, reg);
                if (r < 0)
                        return r;
        }
        d = calloc(1, sizeof(*d));
        if (!d)
                return log_error_errno(ENOMEM, "Out of memory.");
        d->config = c;
        d->fetcher = TAKE_PTR(fetcher);
        d->node.snapshot_grace_usec = c->snapshot_grace_ms * USEC_PER_MSEC;
        r = paths_resolve(c, &d->paths);
        if (r == 0)
                r = keys_load(d);
        if (r == 0)
                r = soap_load(d);
        if (r < 0)
                goto fail;
        d->node.registry = TAKE_PTR(reg);
        d->node.signer = d->signer;
        d->node.receipts_per_batch = !c->log_receipts_per_exchange;
        d->node.pseudonyms = d->pseudonyms;
        d->node.soap_signer = d->soap_signer;
        d->node.soap_trust = d->soap_trust;
        d->node.log_vkey = d->log_vkey;
        d->node.name = c->name;
        d->node.security_server = c->security_server;
        pthread_mutex_init(&d->node.registry_lock, NULL);
        d->node_lock = true;
        atomic_store(&d->node.registry_loaded_usec, now_usec(CLOCK_REALTIME));
        d->node.exchange_series_max = c->metrics_max_series;
        r = series_table_new(&d->node.exchanges, 4, c->metrics_max_series, NODE_OVERFLOW_SERIES);
        if (r < 0) {
                log_error_errno(r, "Cannot make the table of metric series: %m");
                goto fail;
        }
        r = node_open(d);
        if (r == 0)
                r = forwarder_open(d);
        if (r == 0)
                r = frontdoor_open(d);
        if (r == 0 && d->fetcher)
                r = fetcher_start(d->fetcher, &d->node);
        if (r < 0)
                goto fail;
        d->started_usec = now_usec(CLOCK_MONOTONIC);
        log_info("xbusd %s started: https://%s (port %d), adapters on %s (CURVE key %s), registry %s (instance %s, "
                 "version %016" PRIx64 "), state in \"%s\", %llu log entries.",
                 XBUS_VERSION, c->http_listen, frontdoor_port(d->frontdoor), c->adapters_listen, d->curve_public,
                 c->snapshot_urls ? "from signed snapshots"
                 : c->registry    ? c->registry
                                  : "embedded",
                 registry_instance(d->node.registry), registry_version(d->node.registry), c->state_dir,
                 (unsigned long long)exlog_size(d->node.log));
        if (d->paths.crl && access(d->paths.crl, F_OK) == 0)
                log_info("Client certificates are checked against the CRLs in \"%s\".", d->paths.crl);
        certificates_check(d);
        *ret = d;
        return 0;
fail:
        daemon_stop(d);
        return r;
}

/* "a, b, c", or the first ones and "and N more" when that would not fit in `size`. */
static const char *ids_join(char *const *ids, char *buf, size_t size)
{
        size_t n = 0, k = 0, total = strv_length(ids);

        buf[0] = 0;
        for (; ids && ids[k]; k++) {
                size_t len = strlen(ids[k]);
                if (n + len + 2 + 32 >= size)
                        break;
                n += (size_t)snprintf(buf + n, size - n, "%s%s", k ? ", " : "", ids[k]);
        }
        if (k < total)
                snprintf(buf + n, size - n, "%sand %zu more", k ? ", " : "", total - k);
        return buf;
}

/* A reload's log: one line with the version and a count per kind, then one line per kind that changed. */
static void reload_log(const Registry *old, const Registry *fresh)
{
        RegistryDiff diff;
        char summary[512] = "", lists[3][600];
        size_t n = 0;

        if (registry_diff(old, fresh, &diff) < 0) {
                log_info("Registry reloaded (instance %s, version %016" PRIx64 ").", registry_instance(fresh),
                         registry_version(fresh));
                return;
        }
        for (RegistryKind k = 0; k < _REGISTRY_KIND_MAX; k++) {
                const RegistryChanges *c = &diff.kinds[k];
                if ((c->added || c->removed || c->changed) && n < sizeof(summary))
                        n += (size_t)snprintf(summary + n, sizeof(summary) - n,
                                              "%s%s %zu added, %zu removed, %zu changed", n ? "; " : "",
                                              registry_kind_name(k), strv_length(c->added), strv_length(c->removed),
                                              strv_length(c->changed));
        }
        log_info("Registry reloaded (instance %s, version %016" PRIx64 ", was %016" PRIx64 "): %s.",
                 registry_instance(fresh), registry_version(fresh), registry_version(old),
                 diff.n ? summary : "nothing changed");
        for (RegistryKind k = 0; k < _REGISTRY_KIND_MAX; k++) {
                const RegistryChanges *c = &diff.kinds[k];
                if (c->added || c->removed || c->changed)
                        log_info("Registry %s: added: %s; removed: %s; changed: %s.", registry_kind_name(k),
                                 c->added ? ids_join(c->added, lists[0], sizeof(lists[0])) : "none",
                                 c->removed ? ids_join(c->removed, lists[1], sizeof(lists[1])) : "none",
                                 c->changed ? ids_join(c->changed, lists[2], sizeof(lists[2])) : "none");
        }
        registry_diff_done(&diff);
}

/* The certificate, key, client CAs and CRLs, read again: a revoked client is refused from now on. */
static void reload_tls(Daemon *d)
{
        _cleanup_free_ char *error = NULL;
        int r = frontdoor_reload_tls(d->frontdoor, &error);

        if (r < 0)
                log_warning("TLS not reloaded, the previous certificate, client CAs and CRLs stay in use: %s",
                            error ? error : strerror(-r));
        else
                log_info("TLS reloaded (certificate, client CAs%s).",
                         d->paths.crl && access(d->paths.crl, F_OK) == 0 ? ", CRLs" : "");
        certificates_check(d);
}

int daemon_reload(Daemon *d)
{
        _cleanup_(registry_unrefp) Registry *old = node_registry(&d->node);
        Registry *fresh = NULL;

        if (d->fetcher) { /* the registry comes from snapshots: fetch one now (the fetcher swaps and counts) */
                log_info("Fetching the registry snapshot now.");
                fetcher_wake(d->fetcher);
                reload_tls(d);
                return 0;
        }

        if (daemon_load_registry(d->config, d->config->state_dir, &fresh) < 0) {
                atomic_fetch_add(&d->node.counters.reload_failures, 1);
                log_warning("Registry reload refused; the previous registry keeps serving.");
                return -EINVAL;
        }
        /* the demo PKI issues certificates for the subsystems the new registry adds (logged if it cannot) */
        if (d->config->demo_pki)
                (void)ensure_demo_pki(d->config, fresh);
        broker_set_registry(d->node.broker, fresh); /* whose adapter keys may serve what */
        node_registry_swap(&d->node, fresh);
        reload_log(old, fresh);
        reload_tls(d);
        /* counted last: whoever waits for the count sees the whole reload, the TLS files included */
        atomic_fetch_add(&d->node.counters.reloads, 1);
        return 0;
}

Daemon *daemon_stop(Daemon *d)
{
        Node *n;

        if (!d)
                return NULL;
        n = &d->node;
        d->fetcher = fetcher_free(d->fetcher); /* no swap from now on */
        d->frontdoor = frontdoor_free(d->frontdoor);
        n->forwarder = forwarder_free(n->forwarder); /* after the front door: nothing is forwarded any more */
        n->broker = broker_free(n->broker);
        if (d->started_usec) /* the requests in flight are answered: the last line of a node that served */
                log_info("xbusd %s stopped after %" PRIu64 " s: %" PRIu64 " requests, %llu log entries.", XBUS_VERSION,
                         (uint64_t)((now_usec(CLOCK_MONOTONIC) - d->started_usec) / USEC_PER_SEC),
                         (uint64_t)atomic_load(&n->counters.requests), (unsigned long long)exlog_size(n->log));
        n->log = exlog_close(n->log);
        n->consents = consent_store_free(n->consents); /* after the writer, which counts consent uses */
        n->registry = registry_unref(n->registry);
        n->exchanges = series_table_free(n->exchanges);
        d->console_api.sessions = console_sessions_free(d->console_api.sessions);
        if (d->node_lock)
                pthread_mutex_destroy(&n->registry_lock);
        signer_free(d->signer);
        pseudonym_key_free(d->pseudonyms);
        checkpoint_signer_free(d->checkpoints);
        soap_signer_free(d->soap_signer);
        soap_trust_free(d->soap_trust);
        free(d->log_vkey);
        paths_done(&d->paths);
        free(d);
        return NULL;
}
