/* metrics.c: /health and /metrics (Prometheus text format), and the counters they read */
#include <inttypes.h>
#include <stdio.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include "http/http-internal.h"
#include "util/time-util.h"

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

void metrics_handle_health(Worker *w, struct evhttp_request *req)
{
        Node *node = w->node;
        struct evbuffer *buf = evbuffer_new();
        BrokerStats bs;

        broker_stats(node->broker, &bs);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
        evbuffer_add_printf(buf, "{\"status\":\"ok\",\"adapters\":%u,\"log_entries\":%" PRIu64 "}\n", bs.adapters,
                            exlog_size(node->log));
        evhttp_send_reply(req, 200, "OK", buf);
        evbuffer_free(buf);
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
