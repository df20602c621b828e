/* test-metrics.c: the /health decision (metrics_health_render()) */
#include <assert.h>
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "http/http-internal.h"
#include "tests/support/test-snapshot.h"
#include "util/macro.h"

static Registry *reg;

/* Render `f`, check the status, and return the parsed body (the caller frees it). */
static json_t *render(const HealthFacts *f, int want_status)
{
        char *body = NULL;
        json_t *j;

        assert(metrics_health_render(f, &body) == want_status);
        j = json_loads(body, 0, NULL);
        assert(j);
        free(body);
        return j;
}

/* The one reason of a 503 body. */
static json_t *only_reason(json_t *j)
{
        json_t *reasons = json_object_get(j, "reasons");

        assert(streq(json_string_value(json_object_get(j, "status")), "unavailable"));
        assert(json_array_size(reasons) == 1);
        return json_array_get(reasons, 0);
}

static void test_ok(void)
{
        char *none[] = { NULL };
        json_t *j = render(&(HealthFacts){ .registry = reg, .unserved = none, .adapters = 2, .log_entries = 5 }, 200);

        /* the shape `xbus up` and the monitors read: unchanged */
        assert(streq(json_string_value(json_object_get(j, "status")), "ok"));
        assert(json_integer_value(json_object_get(j, "adapters")) == 2);
        assert(json_integer_value(json_object_get(j, "log_entries")) == 5);
        assert(!json_object_get(j, "reasons"));
        json_decref(j);
}

static void test_log(void)
{
        json_t *j = render(&(HealthFacts){ .registry = reg, .log_result = -ENOSPC, .adapters = 1 }, 503), *r;

        r = only_reason(j);
        assert(streq(json_string_value(json_object_get(r, "check")), "log"));
        assert(strstr(json_string_value(json_object_get(r, "detail")), strerror(ENOSPC)));
        assert(json_integer_value(json_object_get(j, "adapters")) == 1);
        json_decref(j);

        /* a base that could not be made durable: the node says so until it restarts */
        j = render(&(HealthFacts){ .registry = reg, .log_base_failed = true, .adapters = 1 }, 503);
        r = only_reason(j);
        assert(streq(json_string_value(json_object_get(r, "check")), "log"));
        assert(strstr(json_string_value(json_object_get(r, "detail")), "data.mdb"));
        json_decref(j);
}

static void test_registry(void)
{
        json_t *j = render(&(HealthFacts){ .registry = NULL }, 503);

        assert(streq(json_string_value(json_object_get(only_reason(j), "check")), "registry"));
        json_decref(j);
}

static void test_adapters(void)
{
        /* a service of the registry that lost every adapter counts; one the registry no longer has does not */
        char *gone[] = { "VN/GOV/BCA/population/citizen", "VN/GOV/XX/retired/service", NULL };
        json_t *j = render(&(HealthFacts){ .registry = reg, .unserved = gone }, 503), *r;

        r = only_reason(j);
        assert(streq(json_string_value(json_object_get(r, "check")), "adapters"));
        assert(streq(json_string_value(json_object_get(r, "service")), "VN/GOV/BCA/population/citizen"));
        json_decref(j);
        j = render(&(HealthFacts){ .registry = reg, .unserved = gone + 1 }, 200);
        json_decref(j);
}

static void test_several(void)
{
        char *gone[] = { "VN/GOV/BCA/population/citizen", NULL };
        json_t *j =
                render(&(HealthFacts){ .stopping = true, .log_result = -EIO, .registry = reg, .unserved = gone }, 503);
        json_t *reasons = json_object_get(j, "reasons");

        assert(json_array_size(reasons) == 3);
        assert(streq(json_string_value(json_object_get(json_array_get(reasons, 0), "check")), "node"));
        assert(streq(json_string_value(json_object_get(json_array_get(reasons, 1), "check")), "log"));
        assert(streq(json_string_value(json_object_get(json_array_get(reasons, 2), "check")), "adapters"));
        json_decref(j);
}

/* A registry from a snapshot: its version, age and source, and the grace period that ends in a 503. */
static void test_snapshot(void)
{
        const uint64_t hour = 3600 * USEC_PER_SEC, now = now_usec(CLOCK_REALTIME) / USEC_PER_SEC * USEC_PER_SEC;
        Registry *snap = test_snapshot_registry(12, now - 2 * hour, hour); /* expired an hour ago */
        json_t *j, *s, *r;

        /* a registry from a folder shows no snapshot */
        j = render(&(HealthFacts){ .registry = reg, .now_usec = now }, 200);
        assert(!json_object_get(j, "snapshot"));
        json_decref(j);

        /* within the grace period: serving, and saying so */
        j = render(&(HealthFacts){ .registry = snap,
                                   .now_usec = now,
                                   .grace_usec = 2 * hour,
                                   .snapshot_checked_usec = now - 5 * USEC_PER_SEC },
                   200);
        s = json_object_get(j, "snapshot");
        assert(json_integer_value(json_object_get(s, "version")) == 12);
        assert(streq(json_string_value(json_object_get(s, "state")), "expired"));
        assert(json_integer_value(json_object_get(s, "age_seconds")) == 7200);
        assert(streq(json_string_value(json_object_get(s, "source")), "https://authority.test/snapshot.jws"));
        assert(json_integer_value(json_object_get(s, "grace_seconds")) == 7200);
        assert(json_is_string(json_object_get(s, "checked")) && json_is_string(json_object_get(s, "key")));
        json_decref(j);

        /* past it: 503, exchanges refused */
        j = render(&(HealthFacts){ .registry = snap, .now_usec = now, .grace_usec = hour }, 503);
        r = only_reason(j);
        assert(streq(json_string_value(json_object_get(r, "check")), "registry"));
        assert(strstr(json_string_value(json_object_get(r, "detail")), "version 12"));
        s = json_object_get(j, "snapshot");
        assert(streq(json_string_value(json_object_get(s, "state")), "outdated"));
        assert(json_is_null(json_object_get(s, "checked")));
        json_decref(j);

        /* before its expiry */
        j = render(&(HealthFacts){ .registry = snap, .now_usec = now - 90 * 60 * USEC_PER_SEC }, 200);
        assert(streq(json_string_value(json_object_get(json_object_get(j, "snapshot"), "state")), "valid"));
        json_decref(j);
        registry_unref(snap);
}

int main(void)
{
        char *errors = NULL;

        assert(registry_load_embedded(&reg, &errors) == 0);
        test_ok();
        test_log();
        test_registry();
        test_adapters();
        test_several();
        test_snapshot();
        registry_unref(reg);
        return 0;
}
