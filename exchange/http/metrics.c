/* metrics.c: /health and /metrics (Prometheus text format), and the counters they read */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

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

void metrics_count(Node *node, int status, uint64_t start)
{
        uint64_t us = now_usec(CLOCK_MONOTONIC) - start;
        unsigned b = 0;

        if (status >= 100 && status < 600)
                atomic_fetch_add(&node->counters.by_status[status / 100], 1);
        /* bucket 0: <= 250 us; bucket k: <= 250 us * 2^k */
        while (b < 15 && us > (250ULL << b))
                b++;
        atomic_fetch_add(&node->counters.latency_buckets[b], 1);
}

/* One reason for a 503, into `reasons`. Return: 0 or -ENOMEM. */
static int health_reason(json_t *reasons, const char *check, const char *service, const char *detail)
{
        json_t *o = json_pack("{s:s,s:s}", "check", check, "detail", detail);

        if (o && service && json_object_set_new(o, "service", json_string(service)) < 0)
                o = (json_decref(o), NULL);
        return json_array_append_new(reasons, o) < 0 ? -ENOMEM : 0;
}

int metrics_health_render(const HealthFacts *f, char **ret_body)
{
        _cleanup_(json_decrefp) json_t *reasons = json_array(), *body = NULL;
        const RegistryService *const *services;
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
        if (r == 0 && (!f->registry || registry_services(f->registry, &services) == 0))
                r = health_reason(reasons, "registry", NULL, "no registry with services is loaded");
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
        *ret_body = body ? json_dumps(body, JSON_COMPACT) : NULL;
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

        broker_stats(node->broker, &bs);
        status = broker_unserved(node->broker, &unserved);
        if (status == 0)
                status = metrics_health_render(&(HealthFacts){ .stopping = w->stopping,
                                                               .log_result = exlog_last_result(node->log),
                                                               .registry = reg,
                                                               .unserved = unserved,
                                                               .adapters = bs.adapters,
                                                               .log_entries = exlog_size(node->log) },
                                               &body);
        if (status < 0) {
                wire_problem(req, PROBLEM_INTERNAL_ERROR, "out of memory", NULL);
                return;
        }
        evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
        wire_send(req, status, "application/json", body, strlen(body));
}

void metrics_handle_metrics(Worker *w, struct evhttp_request *req)
{
        Node *node = w->node;
        NodeCounters *c = &node->counters;
        struct evbuffer *buf = evbuffer_new();
        BrokerStats bs;
        ExlogStats ls;
        uint64_t cum = 0;

        broker_stats(node->broker, &bs);
        exlog_stats(node->log, &ls);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain; version=0.0.4");
#define COUNTER(name, help, v)                                                                                \
        evbuffer_add_printf(buf, "# HELP " name " " help "\n# TYPE " name " counter\n" name " %" PRIu64 "\n", \
                            (uint64_t)(v))
#define GAUGE(name, help, v)                                                                                \
        evbuffer_add_printf(buf, "# HELP " name " " help "\n# TYPE " name " gauge\n" name " %" PRIu64 "\n", \
                            (uint64_t)(v))
        COUNTER("xbus_requests_total", "Exchange requests received on /r1.", atomic_load(&c->requests));
        COUNTER("xbus_requests_allowed_total", "Requests that passed every check and were routed.",
                atomic_load(&c->allowed));
        COUNTER("xbus_requests_refused_total", "Requests refused by the bus.", atomic_load(&c->refused));
        COUNTER("xbus_receipts_total", "Responses delivered with a signed receipt.", atomic_load(&c->delivered));
        COUNTER("xbus_log_failures_total", "Exchanges withheld because the log write failed.",
                atomic_load(&c->log_failures));
        COUNTER("xbus_log_entries_total", "Entries in the exchange log.", ls.entries);
        COUNTER("xbus_log_batches_total", "Group-commit transactions.", ls.batches);
        GAUGE("xbus_log_max_batch", "Largest group commit seen.", ls.max_batch_seen);
        COUNTER("xbus_registry_reloads_total", "Successful registry reloads.", atomic_load(&c->reloads));
        COUNTER("xbus_registry_reload_failures_total", "Refused registry reloads.", atomic_load(&c->reload_failures));
        GAUGE("xbus_adapters", "Live adapter instances.", bs.adapters);
        GAUGE("xbus_provider_in_flight", "Requests waiting for an adapter.", bs.in_flight);
        COUNTER("xbus_provider_requests_total", "Requests routed to adapters.", bs.requests);
        COUNTER("xbus_provider_timeouts_total", "Requests the provider did not answer in time.", bs.timeouts);
        GAUGE("xbus_connections", "Open client connections.", atomic_load(&node->connections));
        /* adapter authentication: refused connections, announcements and services, by reason */
        evbuffer_add_printf(buf, "# HELP xbus_adapter_refusals_total Adapter connections and services refused.\n"
                                 "# TYPE xbus_adapter_refusals_total counter\n");
        for (int i = 0; i < _BROKER_REFUSED_MAX; i++)
                evbuffer_add_printf(buf, "xbus_adapter_refusals_total{reason=\"%s\"} %" PRIu64 "\n",
                                    broker_refusal_name(i), bs.refusals[i]);
        COUNTER("xbus_connections_shed_total", "Requests answered bus_busy for coming over max-connections.",
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
        evbuffer_add_printf(buf, "# HELP xbus_request_duration_seconds Time from request to response.\n"
                                 "# TYPE xbus_request_duration_seconds histogram\n");
        for (int b = 0; b < 16; b++) {
                cum += atomic_load(&c->latency_buckets[b]);
                if (b < 15)
                        evbuffer_add_printf(buf, "xbus_request_duration_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
                                            (250.0 * (1 << b)) / 1e6, cum);
        }
        evbuffer_add_printf(buf, "xbus_request_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", cum);
        evbuffer_add_printf(buf, "xbus_request_duration_seconds_count %" PRIu64 "\n", cum);
        evhttp_send_reply(req, 200, "OK", buf);
        evbuffer_free(buf);
}
