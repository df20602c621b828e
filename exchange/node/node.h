/* node.h: what every part of a running node shares (registry, broker, log, keys, counters)
 *
 * The daemon creates one Node (daemon/daemon.c) and hands it to the front
 * door, which runs exchanges on it (node/exchange.h). Everything in
 * it is either immutable after start or thread-safe: the registry pointer
 * is swapped whole under a mutex (readers take a reference), the broker and
 * the log are reached through their mailboxes, counters are atomics.
 */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "bus/broker.h"
#include "crypto/pseudonym.h"
#include "consent/consent.h"
#include "crypto/signer.h"
#include "federation/forwarder.h"
#include "log/exlog.h"
#include "soap/soap-dsig.h"
#include "registry-snapshot.h"
#include "registry.h"
#include "util/series.h"
#include "util/time-util.h"

/* The stages of an exchange whose durations /metrics shows (xbus_exchange_duration_seconds{stage}). */
typedef enum NodeStage {
        NODE_STAGE_DECISION,   /* from the request to the decision (policy, consent, payload) */
        NODE_STAGE_PROVIDER,   /* from the decision to the adapter's answer (routed exchanges only) */
        NODE_STAGE_LOG_COMMIT, /* from the entry to the log writer to its durable commit */
        NODE_STAGE_TOTAL,      /* from the request to the answer */
        _NODE_STAGE_MAX,
} NodeStage;

/* The overflow series of Node.exchanges: every outcome (the problem types and "ok") by every class. */
#define NODE_OVERFLOW_SERIES ((size_t)_PROBLEM_TYPE_MAX * 6)

/* What the registry fetcher made of a download ([snapshot] url; counted for /metrics). */
typedef enum NodeFetchResult {
        NODE_FETCH_ACCEPTED,  /* a newer snapshot, swapped in */
        NODE_FETCH_UNCHANGED, /* the snapshot in force again (or 304 Not Modified) */
        NODE_FETCH_REFUSED,   /* downloaded and refused (registry-snapshot.h says why) */
        NODE_FETCH_FAILED,    /* no answer, an HTTP error, over the size limit */
        _NODE_FETCH_MAX,
} NodeFetchResult;

typedef struct NodeCounters {
        atomic_uint_fast64_t requests;  /* /r1 requests decided */
        atomic_uint_fast64_t allowed;   /* passed every check and routed */
        atomic_uint_fast64_t refused;   /* refused by the bus (any problem type) */
        atomic_uint_fast64_t delivered; /* answered with a receipt */
        atomic_uint_fast64_t log_failures;
        atomic_uint_fast64_t reloads, reload_failures;
        atomic_uint_fast64_t by_status[6]; /* 1xx..5xx, index status/100 */
        SeriesHistogram stages[_NODE_STAGE_MAX];
        atomic_uint_fast64_t snapshot_fetches[_NODE_FETCH_MAX]; /* by NodeFetchResult */
        atomic_uint_fast64_t snapshot_not_modified;             /* of the unchanged ones: answered 304 */
} NodeCounters;

typedef struct Node {
        pthread_mutex_t registry_lock;
        Registry *registry; /* current registry (own reference) */
        Broker *broker;
        ExchangeLog *log;
        const Signer *signer;
        bool receipts_per_batch; /* [log] receipts = per-batch: the log writer makes each receipt
                                  * (ExlogRecord.batch_receipt); else the worker signs one per exchange */
        const PseudonymKey *pseudonyms;
        ConsentStore *consents;        /* consent records (exchange/consent), or NULL */
        const SoapSigner *soap_signer; /* signs SOAP answers (node key and certificate), or NULL */
        const SoapTrust *soap_trust;   /* CAs trusted for signed SOAP requests, or NULL */
        const char *log_vkey;          /* the checkpoints' verifier key (C2SP vkey), or NULL */
        Forwarder *forwarder;          /* to other nodes of a federation (federation/forwarder.h), or NULL */
        const char *name;              /* the node's name ([node] name) */
        const char *security_server;   /* its X-Road security server id ([node] security-server), or NULL:
                                        * <registry instance>/GOV/XBUS/<name> */
        NodeCounters counters;
        atomic_uint connections;
        atomic_uint connections_peak; /* the most connections held since the daemon last looked (daemon_tick()) */
        SeriesTable *exchanges;       /* by service, client member, outcome, class; or NULL */
        size_t exchange_series_max;   /* its cap ([metrics] max-series) */
        atomic_uint_fast64_t registry_loaded_usec;  /* CLOCK_REALTIME: when the registry in force was loaded */
        uint64_t snapshot_grace_usec;               /* [snapshot] grace: how long an expired snapshot serves */
        atomic_uint_fast64_t snapshot_checked_usec; /* CLOCK_REALTIME: when a source last served the snapshot in
                                                     * force (or a newer one); 0 never */
} Node;

/* Where the registry a node serves under stands against its snapshot's expiry. */
typedef enum NodeSnapshotState {
        NODE_SNAPSHOT_NONE,     /* not from a snapshot (a folder, the embedded sample) */
        NODE_SNAPSHOT_VALID,    /* before its expiry */
        NODE_SNAPSHOT_EXPIRED,  /* past its expiry, within the grace period: still serving */
        NODE_SNAPSHOT_OUTDATED, /* past the grace period: new exchanges are refused (registry_outdated) */
} NodeSnapshotState;

/* node_snapshot_state(): the state of registry `r` at `now_usec` (CLOCK_REALTIME), with `grace_usec` of grace. */
static inline NodeSnapshotState node_snapshot_state(const Registry *r, uint64_t grace_usec, uint64_t now_usec)
{
        const RegistrySnapshot *s = registry_snapshot(r);

        if (!s)
                return NODE_SNAPSHOT_NONE;
        if (now_usec < s->expires_usec)
                return NODE_SNAPSHOT_VALID;
        return now_usec - s->expires_usec < grace_usec ? NODE_SNAPSHOT_EXPIRED : NODE_SNAPSHOT_OUTDATED;
}

/* node_registry(): a new reference to the current registry. */
static inline Registry *node_registry(Node *n)
{
        Registry *r;

        pthread_mutex_lock(&n->registry_lock);
        r = registry_ref(n->registry);
        pthread_mutex_unlock(&n->registry_lock);
        return r;
}

/*
 * node_security_server(): this node's X-Road security server id, which a
 * client's X-Road-Security-Server or xroad:securityServer must name: the
 * configured one, or <instance of `reg`>/GOV/XBUS/<node name>. Return: buf.
 */
static inline const char *node_security_server(const Node *n, const Registry *reg, char *buf, size_t size)
{
        if (n->security_server)
                snprintf(buf, size, "%s", n->security_server);
        else
                snprintf(buf, size, "%s/GOV/XBUS/%s", registry_instance(reg), n->name ? n->name : "xbus.local");
        return buf;
}

/* node_registry_swap(): install `r` (takes the caller's reference), drop the old one. */
static inline void node_registry_swap(Node *n, Registry *r)
{
        Registry *old;

        atomic_store(&n->registry_loaded_usec, now_usec(CLOCK_REALTIME));
        pthread_mutex_lock(&n->registry_lock);
        old = n->registry;
        n->registry = r;
        pthread_mutex_unlock(&n->registry_lock);
        registry_unref(old);
}
