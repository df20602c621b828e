/* status.c: the node's status for the operator's console page (the facts of /health and /metrics) */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http/http-internal.h"
#include "http/status.h"
#include "log/exlog.h"
#include "util/macro.h"
#include "util/strv.h"
#include "util/time-util.h"
#include "xbus-config.h"

/* the entries at the log's end that "recent refusals" looks at */
#define STATUS_RECENT 1000

/* [{"what","subject","not_after","expires_in_days"}]: the node's certificate, its client CAs and CRLs (their next
 * update), from the front door's current TLS context: what xbus_certificate_expiry_seconds shows. */
static json_t *certificates(FrontDoor *fd)
{
        FrontDoorCert certs[FRONTDOOR_CERTS_MAX];
        size_t n = fd ? frontdoor_certificates(fd, certs, ELEMENTSOF(certs)) : 0;
        int64_t now = (int64_t)time(NULL);
        json_t *arr = json_array();

        for (size_t i = 0; arr && i < n; i++) {
                time_t t = (time_t)certs[i].not_after;
                struct tm tm;
                char when[32] = "";

                if (gmtime_r(&t, &tm))
                        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
                if (json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:I}", "what", certs[i].role, "subject",
                                                         certs[i].subject, "not_after", when, "expires_in_days",
                                                         (json_int_t)((certs[i].not_after - now) / 86400))) < 0)
                        arr = (json_decref(arr), NULL);
        }
        return arr;
}

/* The registry in force, and each of its services with its live adapters. */
static int registry_facts(Node *node, json_t *out)
{
        _cleanup_(registry_unrefp) Registry *reg = node_registry(node);
        const RegistryService *const *services;
        uint64_t loaded = atomic_load(&node->registry_loaded_usec), now = now_usec(CLOCK_REALTIME);
        size_t n = reg ? registry_services(reg, &services) : 0;
        char version[17];
        json_t *arr = json_array();

        if (!arr || json_object_set_new(out, "services", arr) < 0)
                return -ENOMEM;
        if (!reg)
                return json_object_set_new(out, "registry", json_null());
        snprintf(version, sizeof(version), "%016" PRIx64, registry_version(reg));
        if (json_object_set_new(out, "registry",
                                json_pack("{s:s,s:s,s:I,s:I}", "instance", registry_instance(reg), "version", version,
                                          "loaded", (json_int_t)(loaded / 1000000), "age_seconds",
                                          (json_int_t)((now > loaded ? now - loaded : 0) / 1000000))) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (json_array_append_new(arr, json_pack("{s:s,s:i}", "id", services[i]->id, "adapters",
                                                         (int)broker_service_adapters(node->broker, services[i]->id))) <
                    0)
                        return -ENOMEM;
        return 0;
}

/* Refusals since start by problem type, summed over xbus_exchanges_total's series (outcome != ok). */
static int refusal_facts(Node *node, json_t *out)
{
        json_t *by = json_object();

        if (!by || json_object_set_new(out, "refusals", by) < 0)
                return -ENOMEM;
        for (size_t i = 0; node->exchanges && i < series_table_slots(node->exchanges); i++) {
                const char *v[4];
                uint64_t count;

                if (!series_table_get(node->exchanges, i, v, &count) || streq(v[2], "ok"))
                        continue;
                count += (uint64_t)json_integer_value(json_object_get(by, v[2]));
                if (json_object_set_new(by, v[2], json_integer((json_int_t)count)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* Refusals among the last STATUS_RECENT entries of the log, by problem type: what went wrong lately. */
static int recent_refusals(ExlogReader *r, uint64_t size, json_t *out)
{
        json_t *by = json_object();
        uint64_t from = size > STATUS_RECENT ? size - STATUS_RECENT : 0;

        if (!by || json_object_set_new(out, "recent_refusals",
                                       json_pack("{s:I,s:o}", "entries", (json_int_t)(size - from), "by_type", by)) < 0)
                return -ENOMEM;
        for (uint64_t seq = from; seq < size; seq++) {
                _cleanup_free_ char *text = NULL;
                _cleanup_(json_decrefp) json_t *e = NULL;
                const char *type;
                size_t len;

                if (exlog_reader_get(r, seq, &text, &len) < 0)
                        continue;
                e = json_loadb(text, len, 0, NULL);
                type = json_string_value(json_object_get(e, "error"));
                if (type &&
                    json_object_set_new(by, type, json_integer(json_integer_value(json_object_get(by, type)) + 1)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* The log's size and its last checkpoint (size, time line). */
static int log_facts(Node *node, json_t *out)
{
        _cleanup_(exlog_reader_closep) ExlogReader *r = NULL;
        _cleanup_free_ char *note = NULL;
        uint64_t size = 0;
        json_t *cp = json_null();
        const char *t;

        if (exlog_reader_new(&r, node->log) < 0)
                return -ENOMEM;
        if (exlog_reader_checkpoint(r, 0, &note, &size) == 0) {
                t = strstr(note, "\ntime ");
                cp = json_pack("{s:I,s:s%}", "size", (json_int_t)size, "time", t ? t + 6 : "",
                               t ? strcspn(t + 6, "\n") : 0);
        }
        if (exlog_reader_size(r, &size) == 0 && recent_refusals(r, size, out) < 0) {
                json_decref(cp);
                return -ENOMEM;
        }
        return json_object_set_new(out, "log",
                                   json_pack("{s:I,s:o,s:I}", "entries", (json_int_t)exlog_size(node->log),
                                             "last_checkpoint", cp, "last_commit_result",
                                             (json_int_t)exlog_last_result(node->log)));
}

/* The health verdict as /health gives it. */
static int health_facts(Node *node, json_t *out)
{
        _cleanup_(registry_unrefp) Registry *reg = node_registry(node);
        _cleanup_(strv_freep) char **unserved = NULL;
        _cleanup_free_ char *body = NULL;
        BrokerStats bs;
        int r;

        broker_stats(node->broker, &bs);
        r = broker_unserved(node->broker, &unserved);
        if (r < 0)
                return r;
        r = metrics_health_render(&(HealthFacts){ .log_result = exlog_last_result(node->log),
                                                  .registry = reg,
                                                  .unserved = unserved,
                                                  .adapters = bs.adapters,
                                                  .log_entries = exlog_size(node->log) },
                                  &body);
        if (r < 0)
                return r;
        return json_object_set_new(out, "health", json_loads(body, 0, NULL));
}

int status_json(void *userdata, json_t **ret)
{
        StatusSource *src = userdata;
        Node *node = src->node;
        const ConsoleCounters *cc = src->console ? &src->console->counters : NULL;
        _cleanup_(json_decrefp) json_t *out = NULL;
        json_t *signins;
        int r;

        out = json_pack("{s:s,s:s,s:I,s:{s:I,s:I,s:I,s:I},s:o}", "version", XBUS_VERSION, "node", strempty(node->name),
                        "now", (json_int_t)(now_usec(CLOCK_REALTIME) / 1000000), "requests", "total",
                        (json_int_t)atomic_load(&node->counters.requests), "allowed",
                        (json_int_t)atomic_load(&node->counters.allowed), "refused",
                        (json_int_t)atomic_load(&node->counters.refused), "log_failures",
                        (json_int_t)atomic_load(&node->counters.log_failures), "certificates",
                        certificates(atomic_load(&src->frontdoor)));
        if (!out)
                return -ENOMEM;
        r = registry_facts(node, out);
        r = r ?: refusal_facts(node, out);
        r = r ?: log_facts(node, out);
        r = r ?: health_facts(node, out);
        if (r < 0)
                return r;
        if (cc) {
                signins = json_pack("{s:I,s:I,s:I,s:I}", "auditor",
                                    (json_int_t)atomic_load(&cc->signins[CONSOLE_ROLE_AUDITOR]), "operator",
                                    (json_int_t)atomic_load(&cc->signins[CONSOLE_ROLE_OPERATOR]), "citizen",
                                    (json_int_t)atomic_load(&cc->signins[CONSOLE_ROLE_CITIZEN]), "refused",
                                    (json_int_t)atomic_load(&cc->refused));
                if (json_object_set_new(out, "console_signins", signins) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(out);
        return 0;
}
