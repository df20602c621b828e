/* metrics.c: /health and /metrics (Prometheus text format), who may read them, and the counts they show */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include "http/frontdoor.h"
#include "http/http-internal.h"
#include "util/strv.h"
#include "util/time-util.h"

static const char *const cut_names[_CONN_CUT_MAX] = {
        [CONN_CUT_HANDSHAKE] = "handshake_timeout",
        [CONN_CUT_REQUEST] = "request_timeout",
        [CONN_CUT_EVICTED] = "evicted",
        [CONN_CUT_CLIENT_LIMIT] = "client_limit",
        [CONN_CUT_NODE_LIMIT] = "node_limit",
};

static const char *const stage_names[_NODE_STAGE_MAX] = {
        [NODE_STAGE_DECISION] = "decision",
        [NODE_STAGE_PROVIDER] = "provider",
        [NODE_STAGE_LOG_COMMIT] = "log_commit",
        [NODE_STAGE_TOTAL] = "total",
};

static const char *const class_names[] = { "other", "1xx", "2xx", "3xx", "4xx", "5xx" };

/* --- counting ---------------------------------------------------------------
 *
 * Once per exchange, on its worker, when it was answered: the stage
 * histograms (atomics) and the series of xbus_exchanges_total (util/series.h:
 * no lock unless the label set is new). The labels come from the registry
 * (the service and the client's member as resolved, never as sent) and from
 * two small vocabularies (outcome, class), so the overflow series, which
 * keep the outcome and the class, are at most NODE_OVERFLOW_SERIES.
 */

void metrics_count(Node *node, int status, uint64_t start_usec)
{
        if (status >= 100 && status < 600)
                atomic_fetch_add(&node->counters.by_status[status / 100], 1);
        series_histogram_observe(&node->counters.stages[NODE_STAGE_TOTAL], now_usec(CLOCK_MONOTONIC) - start_usec);
}

void metrics_exchange_done(Node *node, const Exchange *ex, int status)
{
        NodeCounters *c = &node->counters;
        const ExchangeTimes *t = &ex->t;
        const RegistrySubsystem *client = ex->decision.client;
        const char *class = class_names[status >= 100 && status < 600 ? status / 100 : 0];
        const char *outcome = ex->out.problem.type ? problem_name(ex->out.problem.type) : "ok";

        metrics_count(node, status, ex->start_usec);
        if (t->decided)
                series_histogram_observe(&c->stages[NODE_STAGE_DECISION], t->decided - ex->start_usec);
        if (t->decided && t->answered)
                series_histogram_observe(&c->stages[NODE_STAGE_PROVIDER], t->answered - t->decided);
        if (t->log_sent && t->logged)
                series_histogram_observe(&c->stages[NODE_STAGE_LOG_COMMIT], t->logged - t->log_sent);
        if (node->exchanges)
                (void)series_table_add(node->exchanges,
                                       (const char *[]){ ex->decision.service ? ex->decision.service->id : "none",
                                                         client && client->member ? client->member->id : "none",
                                                         outcome, class },
                                       (const char *[]){ "overflow", "overflow", outcome, class }, 1);
}

/* --- who may ask ----------------------------------------------------------- */

/* Whether `req` may read what `l` guards; refused: answered 403 access_denied. */
static bool metrics_admit(Worker *w, struct evhttp_request *req, const AccessList *l)
{
        struct evhttp_connection *evcon = evhttp_request_get_connection(req);
        const struct sockaddr *peer = evcon ? evhttp_connection_get_addr(evcon) : NULL;
        unsigned roles = 0;

        if (l->roles) {
                _cleanup_(registry_unrefp) Registry *reg = node_registry(w->node);
                const RegistrySubsystem *s;
                PolicyInput pin = {};
                WireIdentity id;

                wire_identify(req, &pin, &id);
                s = pin.cert_present && pin.cert_trusted
                            ? registry_subsystem_by_cert(reg, pin.cert_fingerprint, pin.cert_cn)
                            : NULL;
                roles = s ? s->roles : 0;
        }
        if (access_list_allows(l, peer, roles))
                return true;
        evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
        wire_api_problem(req, PROBLEM_ACCESS_DENIED, "not open to this client (xbusd.conf [metrics])");
        return false;
}

/* One reason for a 503, into `reasons`. Return: 0 or -ENOMEM. */
static int health_reason(json_t *reasons, const char *check, const char *service, const char *detail)
{
        json_t *o = json_pack("{s:s,s:s}", "check", check, "detail", detail);

        if (o && service && json_object_set_new(o, "service", json_string(service)) < 0)
                o = (json_decref(o), NULL);
        return json_array_append_new(reasons, o) < 0 ? -ENOMEM : 0;
}

static const char *const snapshot_states[] = {
        [NODE_SNAPSHOT_VALID] = "valid",
        [NODE_SNAPSHOT_EXPIRED] = "expired",
        [NODE_SNAPSHOT_OUTDATED] = "outdated",
};

/* The registry snapshot in force: version, times, age, source and state (null when the registry has none). */
static json_t *health_snapshot(const HealthFacts *f, NodeSnapshotState state)
{
        const RegistrySnapshot *s = registry_snapshot(f->registry);
        char created[RFC3339_MAX], expires[RFC3339_MAX], checked[RFC3339_MAX];

        if (!s)
                return json_null();
        format_rfc3339(f->snapshot_checked_usec, checked);
        return json_pack("{s:I,s:s,s:s,s:s,s:I,s:s?,s:s,s:s?,s:I}", "version", (json_int_t)s->version, "state",
                         snapshot_states[state], "created", format_rfc3339(s->created_usec, created), "expires",
                         format_rfc3339(s->expires_usec, expires), "age_seconds",
                         (json_int_t)(f->now_usec > s->created_usec ? (f->now_usec - s->created_usec) / USEC_PER_SEC
                                                                    : 0),
                         "source", s->source, "key", s->kid, "checked", f->snapshot_checked_usec ? checked : NULL,
                         "grace_seconds", (json_int_t)(f->grace_usec / USEC_PER_SEC));
}

int metrics_health_render(const HealthFacts *f, char **ret_body)
{
        _cleanup_(json_decrefp) json_t *reasons = json_array(), *body = NULL;
        const RegistryService *const *services;
        NodeSnapshotState state;
        json_t *snapshot;
        char detail[256];
        int r = 0;

        if (!reasons)
                return -ENOMEM;
        if (f->stopping)
                r = health_reason(reasons, "node", NULL, "the node is shutting down");
        if (r == 0 && f->log_result < 0) {
                snprintf(detail, sizeof(detail), "the last exchange log commit failed (%s): exchanges are refused",
                         strerror(-f->log_result));
                r = health_reason(reasons, "log", NULL, detail);
        }
        if (r == 0 && f->log_base_failed)
                r = health_reason(reasons, "log", NULL,
                                  "data.mdb could not be made durable: consent changes are refused until the node "
                                  "restarts (exchanges stay durable in the segments)");
        if (r == 0 && (!f->registry || registry_services(f->registry, &services) == 0))
                r = health_reason(reasons, "registry", NULL, "no registry with services is loaded");
        state = node_snapshot_state(f->registry, f->grace_usec, f->now_usec);
        if (r == 0 && state == NODE_SNAPSHOT_OUTDATED) {
                char expires[RFC3339_MAX];

                snprintf(detail, sizeof(detail),
                         "the registry snapshot (version %" PRIu64 ") expired at %s and the grace period is over: "
                         "new exchanges are refused",
                         registry_snapshot(f->registry)->version,
                         format_rfc3339(registry_snapshot(f->registry)->expires_usec, expires));
                r = health_reason(reasons, "registry", NULL, detail);
        }
        for (size_t i = 0; r == 0 && f->registry && f->unserved && f->unserved[i]; i++)
                if (registry_service_lookup(f->registry, f->unserved[i]))
                        r = health_reason(reasons, "adapters", f->unserved[i], "every adapter of the service is gone");
        if (r < 0)
                return r;
        if (json_array_size(reasons) == 0)
                body = json_pack("{s:s,s:I,s:I}", "status", "ok", "adapters", (json_int_t)f->adapters, "log_entries",
                                 (json_int_t)f->log_entries);
        else
                body = json_pack("{s:s,s:O,s:I,s:I}", "status", "unavailable", "reasons", reasons, "adapters",
                                 (json_int_t)f->adapters, "log_entries", (json_int_t)f->log_entries);
        snapshot = body && state != NODE_SNAPSHOT_NONE ? health_snapshot(f, state) : NULL;
        if (snapshot && json_object_set_new(body, "snapshot", snapshot) < 0)
                body = (json_decref(body), NULL);
        *ret_body = body && (state == NODE_SNAPSHOT_NONE || snapshot) ? json_dumps(body, JSON_COMPACT) : NULL;
        if (!*ret_body)
                return -ENOMEM;
        return json_array_size(reasons) ? 503 : 200;
}

void metrics_handle_health(Worker *w, struct evhttp_request *req)
{
        Node *node = w->node;
        _cleanup_(registry_unrefp) Registry *reg = node_registry(node);
        _cleanup_(strv_freep) char **unserved = NULL;
        _cleanup_free_ char *body = NULL;
        BrokerStats bs;
        int status;

        if (!metrics_admit(w, req, w->health_access))
                return;
        broker_stats(node->broker, &bs);
        status = broker_unserved(node->broker, &unserved);
        if (status == 0)
                status = metrics_health_render(&(HealthFacts){ .stopping = w->stopping,
                                                               .log_result = exlog_last_result(node->log),
                                                               .log_base_failed = exlog_base_failed(node->log),
                                                               .registry = reg,
                                                               .unserved = unserved,
                                                               .adapters = bs.adapters,
                                                               .log_entries = exlog_size(node->log),
                                                               .now_usec = now_usec(CLOCK_REALTIME),
                                                               .grace_usec = node->snapshot_grace_usec,
                                                               .snapshot_checked_usec =
                                                                       atomic_load(&node->snapshot_checked_usec) },
                                               &body);
        if (status < 0) {
                wire_problem(req, PROBLEM_INTERNAL_ERROR, "out of memory", NULL);
                return;
        }
        evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
        wire_send(req, status, "application/json", body, strlen(body));
}

/* The registry snapshot in force and what the fetcher made of its downloads ([snapshot]; docs/operations.md). */
static void metrics_snapshot(Node *node, struct evbuffer *buf)
{
        static const char *const results[_NODE_FETCH_MAX] = {
                [NODE_FETCH_ACCEPTED] = "accepted",
                [NODE_FETCH_UNCHANGED] = "unchanged",
                [NODE_FETCH_REFUSED] = "refused",
                [NODE_FETCH_FAILED] = "failed",
        };
        _cleanup_(registry_unrefp) Registry *reg = node_registry(node);
        const RegistrySnapshot *s = registry_snapshot(reg);
        uint64_t now = now_usec(CLOCK_REALTIME), checked = atomic_load(&node->snapshot_checked_usec);

        if (!s)
                return;
        evbuffer_add_printf(buf,
                            "# HELP xbus_registry_snapshot_version Version of the registry snapshot in force.\n"
                            "# TYPE xbus_registry_snapshot_version gauge\nxbus_registry_snapshot_version %" PRIu64 "\n"
                            "# HELP xbus_registry_snapshot_age_seconds Time since the snapshot in force was created.\n"
                            "# TYPE xbus_registry_snapshot_age_seconds gauge\n"
                            "xbus_registry_snapshot_age_seconds %" PRIu64 "\n"
                            "# HELP xbus_registry_snapshot_expiry_timestamp_seconds When the snapshot in force "
                            "expires.\n"
                            "# TYPE xbus_registry_snapshot_expiry_timestamp_seconds gauge\n"
                            "xbus_registry_snapshot_expiry_timestamp_seconds %" PRIu64 "\n"
                            "# HELP xbus_registry_snapshot_outdated Whether its grace period is over (exchanges "
                            "refused).\n"
                            "# TYPE xbus_registry_snapshot_outdated gauge\nxbus_registry_snapshot_outdated %d\n"
                            "# HELP xbus_registry_snapshot_checked_timestamp_seconds When a source last served it "
                            "(0: never).\n"
                            "# TYPE xbus_registry_snapshot_checked_timestamp_seconds gauge\n"
                            "xbus_registry_snapshot_checked_timestamp_seconds %" PRIu64 "\n"
                            "# HELP xbus_registry_snapshot_info Where the snapshot in force came from, and its "
                            "signing key.\n"
                            "# TYPE xbus_registry_snapshot_info gauge\n",
                            s->version, (uint64_t)(now > s->created_usec ? (now - s->created_usec) / USEC_PER_SEC : 0),
                            (uint64_t)(s->expires_usec / USEC_PER_SEC),
                            node_snapshot_state(reg, node->snapshot_grace_usec, now) == NODE_SNAPSHOT_OUTDATED,
                            (uint64_t)(checked / USEC_PER_SEC));
        /* the source is a configured URL or a state file: no quote, backslash or newline to escape */
        evbuffer_add_printf(buf, "xbus_registry_snapshot_info{source=\"%s\",key=\"%s\"} 1\n",
                            s->source ? s->source : "", s->kid);
        evbuffer_add_printf(buf, "# HELP xbus_registry_snapshot_fetches_total Snapshot downloads, by result.\n"
                                 "# TYPE xbus_registry_snapshot_fetches_total counter\n");
        for (int i = 0; i < _NODE_FETCH_MAX; i++)
                evbuffer_add_printf(buf, "xbus_registry_snapshot_fetches_total{result=\"%s\"} %" PRIu64 "\n",
                                    results[i], (uint64_t)atomic_load(&node->counters.snapshot_fetches[i]));
        evbuffer_add_printf(buf,
                            "# HELP xbus_registry_snapshot_not_modified_total Unchanged downloads answered 304 Not "
                            "Modified (no transfer, no verification).\n"
                            "# TYPE xbus_registry_snapshot_not_modified_total counter\n"
                            "xbus_registry_snapshot_not_modified_total %" PRIu64 "\n",
                            (uint64_t)atomic_load(&node->counters.snapshot_not_modified));
}

/* --- /metrics ---------------------------------------------------------------- */

#define COUNTER(buf, name, help, v)                                                                           \
        evbuffer_add_printf(buf, "# HELP " name " " help "\n# TYPE " name " counter\n" name " %" PRIu64 "\n", \
                            (uint64_t)(v))
#define GAUGE(buf, name, help, v)                                                                           \
        evbuffer_add_printf(buf, "# HELP " name " " help "\n# TYPE " name " gauge\n" name " %" PRIu64 "\n", \
                            (uint64_t)(v))

/* A label value in the exposition format (backslash, double quote and newline escaped). */
static void put_label(struct evbuffer *buf, const char *name, const char *value, bool first)
{
        evbuffer_add_printf(buf, "%s%s=\"", first ? "" : ",", name);
        for (const char *p = value; *p; p++) {
                if (*p == '\\' || *p == '"')
                        evbuffer_add_printf(buf, "\\%c", *p);
                else if (*p == '\n')
                        evbuffer_add(buf, "\\n", 2);
                else
                        evbuffer_add(buf, p, 1);
        }
        evbuffer_add(buf, "\"", 1);
}

/* Microseconds as seconds, shortest form ("0.00025", "2.5", "30"). */
static const char *seconds(uint64_t usec, char buf[32])
{
        int n = snprintf(buf, 32, "%" PRIu64 ".%06" PRIu64, usec / 1000000, usec % 1000000);

        while (n > 0 && buf[n - 1] == '0')
                buf[--n] = 0;
        if (n > 0 && buf[n - 1] == '.')
                buf[--n] = 0;
        return buf;
}

/* The node's fixed counters: requests, log, registry reloads, adapters, connections. */
static void render_counters(Worker *w, struct evbuffer *buf)
{
        Node *node = w->node;
        NodeCounters *c = &node->counters;
        BrokerStats bs;
        ExlogStats ls;

        broker_stats(node->broker, &bs);
        exlog_stats(node->log, &ls);
        COUNTER(buf, "xbus_requests_total", "Exchange requests received on /r1.", atomic_load(&c->requests));
        COUNTER(buf, "xbus_requests_allowed_total", "Requests that passed every check and were routed.",
                atomic_load(&c->allowed));
        COUNTER(buf, "xbus_requests_refused_total", "Requests refused by the bus.", atomic_load(&c->refused));
        COUNTER(buf, "xbus_receipts_total", "Responses delivered with a signed receipt.", atomic_load(&c->delivered));
        COUNTER(buf, "xbus_log_failures_total", "Exchanges withheld because the log write failed.",
                atomic_load(&c->log_failures));
        COUNTER(buf, "xbus_log_entries_total", "Entries in the exchange log.", ls.entries);
        COUNTER(buf, "xbus_log_batches_total", "Group-commit transactions.", ls.batches);
        GAUGE(buf, "xbus_log_max_batch", "Largest group commit seen.", ls.max_batch_seen);
        COUNTER(buf, "xbus_registry_reloads_total", "Successful registry reloads.", atomic_load(&c->reloads));
        COUNTER(buf, "xbus_registry_reload_failures_total", "Refused registry reloads.",
                atomic_load(&c->reload_failures));
        GAUGE(buf, "xbus_adapters", "Live adapter instances.", bs.adapters);
        GAUGE(buf, "xbus_provider_in_flight", "Requests waiting for an adapter.", bs.in_flight);
        COUNTER(buf, "xbus_provider_requests_total", "Requests routed to adapters.", bs.requests);
        COUNTER(buf, "xbus_provider_timeouts_total", "Requests the provider did not answer in time.", bs.timeouts);
        GAUGE(buf, "xbus_connections", "Open client connections.", atomic_load(&node->connections));
        /* adapter authentication: refused connections, announcements and services, by reason */
        evbuffer_add_printf(buf, "# HELP xbus_adapter_refusals_total Adapter connections and services refused.\n"
                                 "# TYPE xbus_adapter_refusals_total counter\n");
        for (int i = 0; i < _BROKER_REFUSED_MAX; i++)
                evbuffer_add_printf(buf, "xbus_adapter_refusals_total{reason=\"%s\"} %" PRIu64 "\n",
                                    broker_refusal_name(i), bs.refusals[i]);
        COUNTER(buf, "xbus_connections_shed_total", "Requests answered bus_busy for coming over max-connections.",
                atomic_load(&w->conns->shed));
        evbuffer_add_printf(buf, "# HELP xbus_connections_closed_total Connections the node closed, by reason.\n"
                                 "# TYPE xbus_connections_closed_total counter\n");
        for (int i = 0; i < _CONN_CUT_MAX; i++)
                evbuffer_add_printf(buf, "xbus_connections_closed_total{reason=\"%s\"} %" PRIu64 "\n", cut_names[i],
                                    (uint64_t)atomic_load(&w->conns->cut[i]));
        evbuffer_add_printf(buf, "# HELP xbus_responses_total Responses by status class.\n"
                                 "# TYPE xbus_responses_total counter\n");
        for (int i = 1; i <= 5; i++)
                evbuffer_add_printf(buf, "xbus_responses_total{class=\"%dxx\"} %" PRIu64 "\n", i,
                                    (uint64_t)atomic_load(&c->by_status[i]));
}

/* xbus_exchanges_total{service,client,outcome,class}, and how full its table is. */
static void render_exchanges(Node *node, struct evbuffer *buf)
{
        static const char *const labels[] = { "service", "client", "outcome", "class" };
        SeriesTable *t = node->exchanges;

        if (!t)
                return;
        evbuffer_add_printf(buf, "# HELP xbus_exchanges_total Exchanges answered, by service, client member, "
                                 "outcome (ok or the problem type) and status class; past [metrics] max-series, "
                                 "new label sets count under service and client \"overflow\".\n"
                                 "# TYPE xbus_exchanges_total counter\n");
        for (size_t i = 0; i < series_table_slots(t); i++) {
                const char *v[ELEMENTSOF(labels)];
                uint64_t count;

                if (!series_table_get(t, i, v, &count))
                        continue;
                evbuffer_add(buf, "xbus_exchanges_total{", 21);
                for (size_t k = 0; k < ELEMENTSOF(labels); k++)
                        put_label(buf, labels[k], v[k], k == 0);
                evbuffer_add_printf(buf, "} %" PRIu64 "\n", count);
        }
        GAUGE(buf, "xbus_exchange_series", "Series of xbus_exchanges_total, overflow series included.",
              series_table_size(t));
        GAUGE(buf, "xbus_exchange_series_limit", "[metrics] max-series.", node->exchange_series_max);
}

/* xbus_exchange_duration_seconds{stage}: one histogram per stage, with _sum and _count. */
static void render_stages(Node *node, struct evbuffer *buf)
{
        char s[32];

        evbuffer_add_printf(buf, "# HELP xbus_exchange_duration_seconds Time an exchange spent in each stage: decision "
                                 "(checks), provider (adapter), log_commit (durable log entry), total.\n"
                                 "# TYPE xbus_exchange_duration_seconds histogram\n");
        for (int st = 0; st < _NODE_STAGE_MAX; st++) {
                uint64_t cum[SERIES_BUCKETS + 1], sum;

                series_histogram_read(&node->counters.stages[st], cum, &sum);
                for (int b = 0; b < SERIES_BUCKETS; b++)
                        evbuffer_add_printf(buf,
                                            "xbus_exchange_duration_seconds_bucket{stage=\"%s\",le=\"%s\"} %" PRIu64
                                            "\n",
                                            stage_names[st], seconds(series_bucket_usec[b], s), cum[b]);
                evbuffer_add_printf(buf,
                                    "xbus_exchange_duration_seconds_bucket{stage=\"%s\",le=\"+Inf\"} %" PRIu64 "\n"
                                    "xbus_exchange_duration_seconds_sum{stage=\"%s\"} %s\n"
                                    "xbus_exchange_duration_seconds_count{stage=\"%s\"} %" PRIu64 "\n",
                                    stage_names[st], cum[SERIES_BUCKETS], stage_names[st], seconds(sum, s),
                                    stage_names[st], cum[SERIES_BUCKETS]);
        }
}

/* The registry in force (instance, version, age) and the live adapters of each of its services. */
static void render_registry(Node *node, struct evbuffer *buf)
{
        _cleanup_(registry_unrefp) Registry *reg = node_registry(node);
        const RegistryService *const *services;
        uint64_t loaded = atomic_load(&node->registry_loaded_usec), now = now_usec(CLOCK_REALTIME);
        size_t n = reg ? registry_services(reg, &services) : 0;
        char s[32];

        if (!reg)
                return;
        evbuffer_add_printf(buf, "# HELP xbus_registry_info The registry in force: its instance and version (a "
                                 "digest of its definitions).\n# TYPE xbus_registry_info gauge\nxbus_registry_info{");
        put_label(buf, "instance", registry_instance(reg), true);
        evbuffer_add_printf(buf, ",version=\"%016" PRIx64 "\"} 1\n", registry_version(reg));
        evbuffer_add_printf(buf,
                            "# HELP xbus_registry_loaded_timestamp_seconds When the registry in force was "
                            "loaded (Unix time).\n# TYPE xbus_registry_loaded_timestamp_seconds gauge\n"
                            "xbus_registry_loaded_timestamp_seconds %s\n",
                            seconds(loaded, s));
        evbuffer_add_printf(buf,
                            "# HELP xbus_registry_age_seconds Seconds since the registry in force was loaded.\n"
                            "# TYPE xbus_registry_age_seconds gauge\nxbus_registry_age_seconds %s\n",
                            seconds(now > loaded ? now - loaded : 0, s));
        evbuffer_add_printf(buf, "# HELP xbus_service_adapters Live adapter instances serving each service of the "
                                 "registry (0: none).\n# TYPE xbus_service_adapters gauge\n");
        for (size_t i = 0; i < n; i++) {
                evbuffer_add(buf, "xbus_service_adapters{", 22);
                put_label(buf, "service", services[i]->id, true);
                evbuffer_add_printf(buf, "} %u\n", broker_service_adapters(node->broker, services[i]->id));
        }
}

/* xbus_certificate_expiry_seconds{certificate,subject}: the node's certificate, each client CA and each CRL's next
 * update, as the front door's current TLS context has them (frontdoor_certificates()). */
static void render_certificates(Worker *w, struct evbuffer *buf)
{
        FrontDoorCert certs[FRONTDOOR_CERTS_MAX];
        size_t n = frontdoor_certificates(w->fd, certs, ELEMENTSOF(certs));
        int64_t now = (int64_t)time(NULL);

        evbuffer_add_printf(buf, "# HELP xbus_certificate_expiry_seconds Seconds until a certificate the node uses or "
                                 "trusts expires (a CRL: until its next update).\n"
                                 "# TYPE xbus_certificate_expiry_seconds gauge\n");
        for (size_t i = 0; i < n; i++) {
                evbuffer_add(buf, "xbus_certificate_expiry_seconds{", 32);
                put_label(buf, "certificate", certs[i].role, true);
                put_label(buf, "subject", certs[i].subject, false);
                evbuffer_add_printf(buf, "} %lld\n", (long long)(certs[i].not_after - now));
        }
}

/* The web console's sign-ins and calls (api/console.h). */
static void render_console(const ConsoleApi *c, struct evbuffer *buf)
{
        static const char *const roles[] = { "auditor", "operator", "citizen" };

        if (!c)
                return;
        evbuffer_add_printf(buf, "# HELP xbus_console_signins_total Web console sign-ins, by role and result.\n"
                                 "# TYPE xbus_console_signins_total counter\n");
        for (int i = 0; i < _CONSOLE_ROLE_MAX; i++)
                evbuffer_add_printf(buf, "xbus_console_signins_total{role=\"%s\",result=\"ok\"} %" PRIu64 "\n",
                                    roles[i], (uint64_t)atomic_load(&c->counters.signins[i]));
        evbuffer_add_printf(buf, "xbus_console_signins_total{role=\"unknown\",result=\"refused\"} %" PRIu64 "\n",
                            (uint64_t)atomic_load(&c->counters.refused));
        evbuffer_add_printf(buf, "# HELP xbus_console_calls_total Web console calls, by role (refused: no session, "
                                 "wrong role or CSRF token).\n# TYPE xbus_console_calls_total counter\n");
        for (int i = 0; i < _CONSOLE_ROLE_MAX; i++)
                evbuffer_add_printf(buf, "xbus_console_calls_total{role=\"%s\"} %" PRIu64 "\n", roles[i],
                                    (uint64_t)atomic_load(&c->counters.calls[i]));
        evbuffer_add_printf(buf, "xbus_console_calls_total{role=\"refused\"} %" PRIu64 "\n",
                            (uint64_t)atomic_load(&c->counters.denied));
}

void metrics_handle_metrics(Worker *w, struct evhttp_request *req)
{
        struct evbuffer *buf;

        if (!metrics_admit(w, req, w->metrics_access))
                return;
        buf = evbuffer_new();
        if (!buf) {
                wire_api_problem(req, PROBLEM_INTERNAL_ERROR, "out of memory");
                return;
        }
        render_counters(w, buf);
        render_exchanges(w->node, buf);
        render_stages(w->node, buf);
        render_registry(w->node, buf);
        render_certificates(w, buf);
        render_console(w->console, buf);
        metrics_snapshot(w->node, buf);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain; version=0.0.4");
        evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
        wire_reply(req, 200, "OK", buf);
        evbuffer_free(buf);
}
