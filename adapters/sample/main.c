/* main.c: xbus-adapter-sample, the sample national databases behind the bus */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <time.h>

#include "runtime/adapter-cli.h"
#include "sample/dataset.h"
#include "sample/sample-service.h"
#include "sample/sample-soap.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/parse.h"

#define MAX_DELAYS 64
#define MAX_PROVIDERS 64
#define MAX_SERVED 256
#define MAX_DELAY_MS 600000

typedef struct Delay {
        const char *service;
        unsigned ms;
} Delay;

typedef struct Config {
        AdapterCli cli;
        const char *data;
        uint64_t people, seed;
        uint64_t print_ids;
        bool print;
        Delay delays[MAX_DELAYS];
        size_t n_delays;
        const char *providers[MAX_PROVIDERS]; /* --provider: serve only their services; none: all */
        size_t n_providers;
        const char *served[MAX_SERVED + 1]; /* the services announced, NULL-terminated */
} Config;

typedef struct Shared {
        const Config *cfg;
        Dataset *dataset;
} Shared;

static void help(void)
{
        printf("Usage: xbus-adapter-sample [OPTIONS]\n"
               "Serve the sample national databases (a generated dataset) to an xbus node.\n\n" ADAPTER_CLI_HELP_BUS
               "  --data DIR                dataset folder (default state/sample)\n"
               "  --people N                people to generate (default 10000, at most %llu)\n"
               "  --seed S                  generator seed (default %llu)\n"
               "  --workers N               worker connections (default 2, at most %d)\n"
               "  --name NAME               instance name announced to the bus (default sample)\n"
               "  --print-ids K             print the first K person ids and exit\n"
               "  --delay SERVICE=MS        sleep before answering SERVICE (test aid; repeatable)\n"
               "  --provider SUBSYSTEM      serve only this provider's databases (repeatable; default all):\n"
               "                            those its node hosts in a federation\n" ADAPTER_CLI_HELP_TAIL,
               (unsigned long long)DATASET_MAX_PEOPLE, (unsigned long long)DATASET_DEFAULT_SEED, ADAPTER_MAX_WORKERS);
}

static bool known_service(const char *id)
{
        for (const char *const *s = sample_service_ids(); *s; s++)
                if (streq(*s, id))
                        return true;
        return false;
}

enum { ARG_DATA = ADAPTER_CLI_ARG_PROGRAM, ARG_PEOPLE, ARG_SEED, ARG_PRINT_IDS, ARG_DELAY, ARG_PROVIDER };

static const struct option options[] = {
        { "data", required_argument, NULL, ARG_DATA },
        { "people", required_argument, NULL, ARG_PEOPLE },
        { "seed", required_argument, NULL, ARG_SEED },
        { "print-ids", required_argument, NULL, ARG_PRINT_IDS },
        { "delay", required_argument, NULL, ARG_DELAY },
        { "provider", required_argument, NULL, ARG_PROVIDER },
        {},
};

static int option(void *userdata, int opt, char *arg)
{
        Config *c = userdata;
        uint64_t v;

        switch (opt) {
        case ARG_DATA:
                c->data = arg;
                return 0;
        case ARG_PEOPLE:
                if (parse_u64(arg, 1, DATASET_MAX_PEOPLE, &c->people) < 0)
                        return log_error_errno(EINVAL, "--people '%s': want 1..%llu", arg,
                                               (unsigned long long)DATASET_MAX_PEOPLE);
                return 0;
        case ARG_SEED:
                if (parse_u64(arg, 0, UINT64_MAX, &c->seed) < 0)
                        return log_error_errno(EINVAL, "--seed '%s': want an unsigned integer", arg);
                return 0;
        case ARG_PRINT_IDS:
                if (parse_u64(arg, 0, DATASET_MAX_PEOPLE, &c->print_ids) < 0)
                        return log_error_errno(EINVAL, "--print-ids '%s': want 0..%llu", arg,
                                               (unsigned long long)DATASET_MAX_PEOPLE);
                c->print = true;
                return 0;
        case ARG_DELAY: {
                char *eq = strrchr(arg, '=');

                if (c->n_delays >= MAX_DELAYS)
                        return log_error_errno(E2BIG, "--delay: at most %d", MAX_DELAYS);
                if (!eq || parse_u64(eq + 1, 0, MAX_DELAY_MS, &v) < 0)
                        return log_error_errno(EINVAL, "--delay '%s': want SERVICE=MS (MS up to %d)", arg,
                                               MAX_DELAY_MS);
                *eq = '\0';
                if (!known_service(arg))
                        return log_error_errno(EINVAL, "--delay: unknown service '%s'", arg);
                c->delays[c->n_delays++] = (Delay){ arg, (unsigned)v };
                return 0;
        }
        case ARG_PROVIDER:
                if (c->n_providers >= MAX_PROVIDERS)
                        return log_error_errno(E2BIG, "--provider: at most %d", MAX_PROVIDERS);
                c->providers[c->n_providers++] = arg;
                return 0;
        default:
                return -EINVAL;
        }
}

/* The services to announce: all, or those of the --provider subsystems (SUBSYSTEM/code). Return: how many. */
static size_t select_services(Config *c)
{
        size_t n = 0;

        for (const char *const *s = sample_service_ids(); *s && n < MAX_SERVED; s++) {
                bool keep = c->n_providers == 0;

                for (size_t i = 0; i < c->n_providers && !keep; i++) {
                        size_t len = strlen(c->providers[i]);
                        keep = strncmp(*s, c->providers[i], len) == 0 && (*s)[len] == '/';
                }
                if (keep)
                        c->served[n++] = *s;
        }
        c->served[n] = NULL;
        return n;
}

static int worker_init(void *userdata, void **ret_state)
{
        Shared *sh = userdata;

        return dataset_reader_new(sh->dataset, (DatasetReader **)ret_state);
}

static void worker_done(void *userdata, void *state)
{
        dataset_reader_free(state);
}

static void sleep_ms(unsigned ms)
{
        struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static int handle(void *userdata, void *state, const AdapterRequest *req, AdapterResponse *resp)
{
        Shared *sh = userdata;
        SampleRequest sreq = {
                .service = req->service,
                .method = req->method,
                .path = req->path,
                .subject = req->subject,
                .body = req->body,
                .body_size = req->body_size,
        };
        SampleAnswer a;
        int r;

        for (size_t i = 0; i < sh->cfg->n_delays; i++)
                if (streq(sh->cfg->delays[i].service, req->service))
                        sleep_ms(sh->cfg->delays[i].ms);

        r = sample_service_answer(state, &sreq, &a);
        if (r < 0)
                return r;
        resp->status = a.status;
        resp->error = a.error;
        if (a.detail)
                snprintf(resp->detail, sizeof(resp->detail), "%s", a.detail);
        /* A SOAP exchange (the bus passes the Body's payload as text/xml): answer with the
         * service's XML rendering of the same record, or with this provider's own SOAP Fault,
         * which the node relays to the client unchanged. */
        if (a.status != 200 && req->content_type && strneq(req->content_type, "text/xml", 8)) {
                char *xml = NULL;
                size_t xml_size = 0;
                r = sample_soap_fault(a.error ? a.error : PROBLEM_PROVIDER_ERROR, a.detail, &xml, &xml_size);
                free(a.body);
                if (r < 0)
                        return r;
                resp->body = (uint8_t *)xml;
                resp->body_size = xml_size;
                snprintf(resp->content_type, sizeof(resp->content_type), "text/xml");
                return 0;
        }
        if (a.status == 200 && req->content_type && strneq(req->content_type, "text/xml", 8)) {
                char *xml = NULL;
                size_t xml_size = 0;
                r = sample_soap_render(req->service, (const char *)a.body, a.body_size, &xml, &xml_size);
                free(a.body);
                a.body = NULL;
                if (r == -ENOENT)
                        return adapter_response_error(resp, 404, PROBLEM_NOT_FOUND,
                                                      "this service has no SOAP rendering");
                if (r < 0)
                        return r;
                resp->body = (uint8_t *)xml;
                resp->body_size = xml_size;
                snprintf(resp->content_type, sizeof(resp->content_type), "text/xml");
                return 0;
        }
        resp->body = (uint8_t *)TAKE_PTR(a.body);
        resp->body_size = a.body_size;
        return 0;
}

int main(int argc, char **argv)
{
        Config cfg = {
                .cli = { .bus = ADAPTER_CLI_DEFAULT_BUS, .name = "sample", .workers = 2 },
                .data = "state/sample",
                .people = 10000,
                .seed = DATASET_DEFAULT_SEED,
        };
        static const AdapterHandler handler = { worker_init, worker_done, handle };
        _cleanup_(dataset_freep) Dataset *dataset = NULL;
        AdapterOptions o;
        Shared sh;
        struct timespec t0, t1;
        size_t n_services = 0;
        int r;

        log_set_ident("xbus-adapter-sample");
        r = adapter_cli_parse(&cfg.cli, &(AdapterCliProgram){ options, option, help, NULL, &cfg }, argc, argv);
        if (r != 0)
                return r < 0 ? 2 : 0;

        if (cfg.print) {
                char id[DATASET_ID_LEN + 1];

                if (cfg.print_ids > cfg.people) {
                        log_error("--print-ids %" PRIu64 " is more than --people %" PRIu64, cfg.print_ids, cfg.people);
                        return 2;
                }
                for (uint64_t i = 0; i < cfg.print_ids; i++) {
                        dataset_person_id(cfg.seed, i, id);
                        printf("%s\n", id);
                }
                return fflush(stdout) == 0 ? 0 : 1;
        }

        if (adapter_cli_load_secret(&cfg.cli) < 0)
                return 1;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        r = dataset_generate(cfg.data, cfg.people, cfg.seed);
        if (r < 0) {
                log_error_errno(r, "dataset '%s': cannot generate: %m", cfg.data);
                return 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (r == DATASET_UNCHANGED)
                log_info("dataset '%s': %" PRIu64 " people (seed %" PRIu64 ") present", cfg.data, cfg.people, cfg.seed);
        else
                log_info("dataset '%s': generated %" PRIu64 " people (seed %" PRIu64 ") in %.2f s", cfg.data,
                         cfg.people, cfg.seed,
                         (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
        r = dataset_open(&dataset, cfg.data);
        if (r < 0) {
                log_error_errno(r, "dataset '%s': cannot open: %m", cfg.data);
                return 1;
        }

        sh = (Shared){ .cfg = &cfg, .dataset = dataset };
        n_services = select_services(&cfg);
        if (n_services == 0) {
                log_error("--provider: no sample service belongs to the providers given");
                return 2;
        }
        o = (AdapterOptions){
                .kind = "sample",
                .services = cfg.served,
                .capacity = 0,                    /* the protocol default */
                .max_body = SAMPLE_MAX_BODY * 16, /* larger bodies get 413, up to this a 400 */
                /* lookups in a local LMDB never wait: answer on the I/O thread, unless a test
                 * delay makes a handler sleep (heartbeats must go on meanwhile) */
                .inline_handler = cfg.n_delays == 0,
        };
        log_info("serving %zu services on '%s' with %u workers", n_services, cfg.cli.bus, cfg.cli.workers);
        return adapter_cli_run(&cfg.cli, &o, &handler, &sh);
}
