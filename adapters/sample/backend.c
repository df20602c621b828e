/* backend.c: xbus-sample-backend, the sample databases over plain HTTP/1.1 (no bus) */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <event2/util.h>

#include "sample/dataset.h"
#include "sample/sample-service.h"
#include "sample/sample-soap.h"
#include "soap/soap.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/parse.h"

/*
 * One event loop per thread, all accepting on the same listening socket;
 * each thread has its own dataset reader, so a request never waits for a
 * lock. Requests: METHOD /{service-id}[/{path}]?subject=ID (or the subject
 * in X-Bus-Subject; both must agree, and "subject" may not repeat), answered
 * by sample_service_answer(), the same function
 * the ZeroMQ adapter uses. This is the benchmarks' baseline (the same data
 * without the bus) and the REST adapter's test backend.
 */

#define MAX_THREADS 64
#define SERVICE_SEGMENTS 5 /* INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE */
#define MAX_URI 2048
#define IDLE_TIMEOUT_S 60

typedef struct Worker {
        struct event_base *base;
        struct evhttp *http;
        DatasetReader *reader;
        pthread_t thread;
        bool started;
} Worker;

static void help(void)
{
        printf("Usage: xbus-sample-backend [OPTIONS]\n"
               "Serve the sample national databases over plain HTTP/1.1:\n"
               "  GET /{service-id}?subject=ID, e.g. /VN/GOV/BCA/population/citizen?subject=001090000001\n\n"
               "  --listen HOST:PORT   address to listen on (default 127.0.0.1:8080; port 0 picks one)\n"
               "  --data DIR           dataset folder (default state/sample)\n"
               "  --people N           people to generate (default 10000)\n"
               "  --seed S             generator seed (default %llu)\n"
               "  --threads N          event loops (default: the number of CPUs, at most %d)\n"
               "  --help               this text\n"
               "Prints \"listening on HOST:PORT\" once ready.\n",
               (unsigned long long)DATASET_DEFAULT_SEED, MAX_THREADS);
}

static const char *method_name(enum evhttp_cmd_type cmd)
{
        switch (cmd) {
        case EVHTTP_REQ_GET:
                return "GET";
        case EVHTTP_REQ_POST:
                return "POST";
        case EVHTTP_REQ_PUT:
                return "PUT";
        case EVHTTP_REQ_DELETE:
                return "DELETE";
        case EVHTTP_REQ_HEAD:
                return "HEAD";
        case EVHTTP_REQ_PATCH:
                return "PATCH";
        default:
                return "OTHER";
        }
}

static void reply(struct evhttp_request *req, int status, const char *body, size_t size)
{
        struct evbuffer *out = evhttp_request_get_output_buffer(req);

        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
        evbuffer_add(out, body, size);
        evhttp_send_reply(req, status, NULL, NULL); /* libevent: the standard reason phrase */
}

/* POST /soap: the SOAP renderings of two services (sample-soap.h), for the soap adapter */
static void on_soap(struct evhttp_request *req, Worker *w)
{
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t n = evbuffer_get_length(in), size = 0;
        char *text = NULL;
        int status = 500, r;

        if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
                static const char e[] = "{\"error\":\"method_not_allowed\"}";
                reply(req, 405, e, strlen(e));
                return;
        }
        r = sample_soap_answer(w->reader, n ? (const char *)evbuffer_pullup(in, -1) : "", n, &text, &size, &status);
        if (r < 0) {
                static const char e[] = "{\"error\":\"internal\"}";
                reply(req, 500, e, strlen(e));
                return;
        }
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", SOAP_CONTENT_TYPE);
        evbuffer_add(evhttp_request_get_output_buffer(req), text, size);
        free(text);
        evhttp_send_reply(req, status, NULL, NULL);
}

static void on_request(struct evhttp_request *req, void *arg)
{
        Worker *w = arg;
        const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
        const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
        const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
        struct evkeyvalq params;
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        char service[512];
        const char *rest, *subject, *header;
        size_t segments = 0, in_size, subjects = 0;
        struct evkeyval *kv;
        SampleRequest sreq = {};
        SampleAnswer a;
        int r;

        if (path && streq(path, "/soap")) {
                on_soap(req, w);
                return;
        }
        if (isempty(path) || path[0] != '/' || strlen(evhttp_request_get_uri(req)) > MAX_URI) {
                static const char e[] = "{\"error\":\"bad_request\",\"detail\":\"bad request target\"}";
                reply(req, 400, e, strlen(e));
                return;
        }
        /* split /{5 segments}{rest} */
        for (rest = path + 1; *rest; rest++)
                if (*rest == '/' && ++segments == SERVICE_SEGMENTS)
                        break;
        if ((size_t)(rest - path - 1) >= sizeof(service)) {
                static const char e[] = "{\"error\":\"service_unknown\"}";
                reply(req, 404, e, strlen(e));
                return;
        }
        memcpy(service, path + 1, (size_t)(rest - path - 1));
        service[rest - path - 1] = '\0';

        TAILQ_INIT(&params);
        if (query && evhttp_parse_query_str(query, &params) < 0) {
                static const char e[] = "{\"error\":\"bad_request\",\"detail\":\"malformed query\"}";
                reply(req, 400, e, strlen(e));
                return;
        }
        /* the subject once: a second "subject" (any case), or one the header contradicts, is refused */
        subject = evhttp_find_header(&params, "subject");
        header = evhttp_find_header(evhttp_request_get_input_headers(req), "X-Bus-Subject");
        TAILQ_FOREACH(kv, &params, next)
                subjects += strcasecmp(kv->key, "subject") == 0;
        if (subjects > 1 || (subject && header && !streq(subject, header))) {
                static const char e[] = "{\"error\":\"bad_request\",\"detail\":\"the subject is named twice\"}";
                evhttp_clear_headers(&params);
                reply(req, 400, e, strlen(e));
                return;
        }
        if (!subject)
                subject = header;

        in_size = evbuffer_get_length(in);
        sreq = (SampleRequest){
                .service = service,
                .method = method_name(evhttp_request_get_command(req)),
                .path = rest,
                .subject = subject,
                .body = in_size > 0 ? evbuffer_pullup(in, -1) : NULL,
                .body_size = in_size,
        };
        r = sample_service_answer(w->reader, &sreq, &a);
        evhttp_clear_headers(&params);
        if (r < 0) {
                static const char e[] = "{\"error\":\"internal\"}";
                reply(req, 500, e, strlen(e));
                return;
        }
        reply(req, a.status, a.body, a.body_size);
        sample_answer_done(&a);
}

static void *worker_thread(void *p)
{
        Worker *w = p;

        event_base_dispatch(w->base);
        return NULL;
}

static int listen_on(const char *spec, evutil_socket_t *ret_fd, char *actual, size_t actual_size)
{
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
        struct addrinfo *ai = NULL;
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        char host[256], port[16], h[NI_MAXHOST], s[NI_MAXSERV];
        const char *colon = strrchr(spec, ':');
        evutil_socket_t fd;
        int one = 1;

        if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof(host) || strlen(colon + 1) >= sizeof(port) ||
            !colon[1])
                return -EINVAL;
        memcpy(host, spec, (size_t)(colon - spec));
        host[colon - spec] = '\0';
        if (host[0] == '[' && host[strlen(host) - 1] == ']') {
                memmove(host, host + 1, strlen(host) - 2);
                host[strlen(host) - 2] = '\0';
        }
        strcpy(port, colon + 1);
        if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai)
                return -EADDRNOTAVAIL;
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
                freeaddrinfo(ai);
                return -errno;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1024) < 0 ||
            getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
                int r = -errno;
                freeaddrinfo(ai);
                close(fd);
                return r;
        }
        freeaddrinfo(ai);
        if (getnameinfo((struct sockaddr *)&ss, sl, h, sizeof(h), s, sizeof(s), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
                close(fd);
                return -EINVAL;
        }
        snprintf(actual, actual_size, strchr(h, ':') ? "[%s]:%s" : "%s:%s", h, s);
        *ret_fd = fd;
        return 0;
}

typedef struct Args {
        const char *listen_spec, *data;
        uint64_t people, seed, threads;
} Args;

/* Return: 0, 1 after --help (exit 0), or -EINVAL after logging why (exit 2). */
static int parse_args(int argc, char **argv, Args *a)
{
        enum { ARG_LISTEN = 0x100, ARG_DATA, ARG_PEOPLE, ARG_SEED, ARG_THREADS, ARG_HELP };
        static const struct option options[] = {
                { "listen", required_argument, NULL, ARG_LISTEN },
                { "data", required_argument, NULL, ARG_DATA },
                { "people", required_argument, NULL, ARG_PEOPLE },
                { "seed", required_argument, NULL, ARG_SEED },
                { "threads", required_argument, NULL, ARG_THREADS },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        int opt;

        while ((opt = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                switch (opt) {
                case ARG_LISTEN:
                        a->listen_spec = optarg;
                        break;
                case ARG_DATA:
                        a->data = optarg;
                        break;
                case ARG_PEOPLE:
                        if (parse_u64(optarg, 1, DATASET_MAX_PEOPLE, &a->people) < 0)
                                return log_error_errno(EINVAL, "--people '%s': want 1..%llu", optarg,
                                                       (unsigned long long)DATASET_MAX_PEOPLE);
                        break;
                case ARG_SEED:
                        if (parse_u64(optarg, 0, UINT64_MAX, &a->seed) < 0)
                                return log_error_errno(EINVAL, "--seed '%s': want an unsigned integer", optarg);
                        break;
                case ARG_THREADS:
                        if (parse_u64(optarg, 1, MAX_THREADS, &a->threads) < 0)
                                return log_error_errno(EINVAL, "--threads '%s': want 1..%d", optarg, MAX_THREADS);
                        break;
                case ARG_HELP:
                        help();
                        return 1;
                default:
                        return -EINVAL;
                }
        }
        if (optind < argc)
                return log_error_errno(EINVAL, "unexpected argument '%s'", argv[optind]);
        return 0;
}

/* One event loop with its own dataset reader, accepting on (a duplicate of) `fd`. Return: 0, or -1 after logging. */
static int worker_setup(Worker *w, Dataset *dataset, evutil_socket_t fd, const char *actual)
{
        evutil_socket_t dupfd;
        int r;

        w->base = event_base_new();
        w->http = w->base ? evhttp_new(w->base) : NULL;
        if (!w->http) {
                log_error("out of memory");
                return -1;
        }
        r = dataset_reader_new(dataset, &w->reader);
        if (r < 0) {
                log_error_errno(r, "dataset reader: %m");
                return -1;
        }
        evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
                                                    EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH);
        evhttp_set_max_body_size(w->http, SAMPLE_MAX_BODY * 4);
        evhttp_set_max_headers_size(w->http, 16 * 1024);
        evhttp_set_timeout(w->http, IDLE_TIMEOUT_S);
        evhttp_set_gencb(w->http, on_request, w);
        dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dupfd < 0 || !evhttp_accept_socket_with_handle(w->http, dupfd)) {
                log_error_errno(errno, "cannot accept on '%s': %m", actual);
                if (dupfd >= 0)
                        close(dupfd);
                return -1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        Args a = {
                .listen_spec = "127.0.0.1:8080", .data = "state/sample", .people = 10000, .seed = DATASET_DEFAULT_SEED
        };
        _cleanup_(dataset_freep) Dataset *dataset = NULL;
        Worker workers[MAX_THREADS] = {};
        evutil_socket_t fd = -1;
        char actual[300];
        sigset_t sigs;
        long ncpu;
        int r, sig, ret = 1;

        log_set_ident("xbus-sample-backend");
        ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        a.threads = ncpu < 1 ? 1 : (uint64_t)MIN(ncpu, (long)MAX_THREADS);
        r = parse_args(argc, argv, &a);
        if (r != 0)
                return r < 0 ? 2 : 0;

        if (soap_global_init() < 0) {
                log_error("XML security library initialisation failed");
                return 1;
        }
        r = dataset_generate(a.data, a.people, a.seed);
        if (r < 0) {
                log_error_errno(r, "dataset '%s': cannot generate: %m", a.data);
                return 1;
        }
        r = dataset_open(&dataset, a.data);
        if (r < 0) {
                log_error_errno(r, "dataset '%s': cannot open: %m", a.data);
                return 1;
        }
        r = listen_on(a.listen_spec, &fd, actual, sizeof(actual));
        if (r < 0) {
                log_error_errno(r, "cannot listen on '%s': %m", a.listen_spec);
                return 1;
        }

        /* SIGINT/SIGTERM are taken by sigwait() below; threads inherit the mask */
        sigemptyset(&sigs);
        sigaddset(&sigs, SIGINT);
        sigaddset(&sigs, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &sigs, NULL);
        signal(SIGPIPE, SIG_IGN);
        if (evthread_use_pthreads() < 0) {
                log_error("libevent without thread support");
                goto finish;
        }

        for (uint64_t i = 0; i < a.threads; i++)
                if (worker_setup(&workers[i], dataset, fd, actual) < 0)
                        goto finish;
        for (uint64_t i = 0; i < a.threads; i++) {
                r = pthread_create(&workers[i].thread, NULL, worker_thread, &workers[i]);
                if (r != 0) {
                        log_error_errno(r, "cannot start a thread: %m");
                        goto finish;
                }
                workers[i].started = true;
        }

        printf("listening on %s\n", actual);
        fflush(stdout);
        log_info("listening on %s with %" PRIu64 " threads, dataset '%s' (%" PRIu64 " people)", actual, a.threads,
                 a.data, dataset_people(dataset));
        do
                r = sigwait(&sigs, &sig);
        while (r != 0);
        log_info("stopping on signal %d", sig);
        ret = 0;

finish:
        for (uint64_t i = 0; i < a.threads; i++)
                if (workers[i].started)
                        event_base_loopbreak(workers[i].base);
        for (uint64_t i = 0; i < a.threads; i++) {
                if (workers[i].started)
                        pthread_join(workers[i].thread, NULL);
                if (workers[i].http)
                        evhttp_free(workers[i].http);
                if (workers[i].base)
                        event_base_free(workers[i].base);
                dataset_reader_free(workers[i].reader);
        }
        if (fd >= 0)
                close(fd);
        return ret;
}
