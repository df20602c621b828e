/* xbusd.c: the xbus daemon (thin main over the library)
 *
 * The command line and the configuration, then daemon_start() (daemon.c: the
 * start-up order). Then the main thread only waits for signals (and every
 * 10 s reports rate-limited log messages, util/log.h, and once a day warns
 * about certificates near their expiry, daemon_tick()): SIGHUP
 * reloads the registry (a bad one is refused and the old one keeps serving)
 * and the TLS files (certificate, client CAs, CRLs),
 * SIGTERM/SIGINT stop the node after the requests in flight are answered and
 * logged. Under systemd (Type=notify) each of these steps is told to the
 * service manager: READY=1 once the node serves, RELOADING=1 then READY=1
 * around a reload, STOPPING=1 when it stops (daemon/notify.h).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/config.h"
#include "daemon/daemon.h"
#include "daemon/notify.h"
#include "util/log.h"
#include "util/macro.h"
#include "xbus-config.h"

static void help(void)
{
        printf("Usage: xbusd [OPTIONS] [CONFIG]\n\n"
               "The xbus data exchange node. Without CONFIG it runs on the embedded default:\n"
               "state under ./state, the sample registry, a demo PKI generated at first start.\n\n"
               "  -c, --config FILE     configuration file (docs/configuration.md)\n"
               "  -t, --test-config     check the configuration and the registry it names, then exit\n"
               "  -s, --state-dir DIR   override [node] state-dir\n"
               "  -r, --registry DIR    override [node] registry (a folder of *.conf files)\n"
               "  -l, --listen ADDR     override [http] listen (HOST:PORT)\n"
               "  -a, --adapters EP     override [adapters] listen (ZeroMQ endpoint)\n"
               "  -V, --version         print the version\n"
               "  -h, --help            this help\n");
}

typedef struct Args {
        const char *config, *state, *registry, *listen, *adapters;
        bool test_config;
} Args;

/* Return: -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, Args *a)
{
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "test-config", no_argument, NULL, 't' },
                { "state-dir", required_argument, NULL, 's' },
                { "registry", required_argument, NULL, 'r' },
                { "listen", required_argument, NULL, 'l' },
                { "adapters", required_argument, NULL, 'a' },
                { "version", no_argument, NULL, 'V' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int opt;

        while ((opt = getopt_long(argc, argv, "c:ts:r:l:a:Vh", options, NULL)) >= 0) {
                switch (opt) {
                case 'c':
                        a->config = optarg;
                        break;
                case 't':
                        a->test_config = true;
                        break;
                case 's':
                        a->state = optarg;
                        break;
                case 'r':
                        a->registry = optarg;
                        break;
                case 'l':
                        a->listen = optarg;
                        break;
                case 'a':
                        a->adapters = optarg;
                        break;
                case 'V':
                        printf("xbusd %s\n", XBUS_VERSION);
                        return EXIT_SUCCESS;
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                default:
                        return EXIT_FAILURE;
                }
        }
        if (optind < argc) {
                if (a->config || optind + 1 < argc) {
                        fprintf(stderr, "xbusd: one configuration file at most (see --help)\n");
                        return EXIT_FAILURE;
                }
                a->config = argv[optind];
        }
        return -1;
}

/* A notification to systemd (notify_send() and friends) that failed is only worth a warning. */
static void notify_warn(int r)
{
        if (r < 0)
                log_warning_errno(r, "Cannot notify the service manager: %m, ignoring");
}

/* The configuration file with the command line's overrides. Return: 0 or -errno (reported). */
static int load_config(const Args *a, Config **ret)
{
        _cleanup_free_ char *errors = NULL;
        const char *overrides[] = { a->state, a->registry, a->listen, a->adapters };
        Config *c = NULL;
        char **fields[4];
        int r;

        r = config_load(&c, a->config, &errors);
        if (r == CONFIG_E_INVALID) {
                fprintf(stderr, "%s", strempty(errors));
                fprintf(stderr, "xbusd: configuration \"%s\" is invalid\n", a->config);
                return -EINVAL;
        }
        if (r < 0)
                return log_error_errno(r, "Cannot read configuration \"%s\": %m", a->config);
        fields[0] = &c->state_dir;
        fields[1] = &c->registry;
        fields[2] = &c->http_listen;
        fields[3] = &c->adapters_listen;
        for (size_t i = 0; i < ELEMENTSOF(overrides); i++) {
                char *v;
                if (!overrides[i])
                        continue;
                v = strdup(overrides[i]);
                if (!v) {
                        config_free(c);
                        return log_error_errno(ENOMEM, "Out of memory.");
                }
                free(*fields[i]);
                *fields[i] = v;
        }
        *ret = c;
        return 0;
}

int main(int argc, char **argv)
{
        Args a = {};
        Config *c = NULL;
        Daemon *d = NULL;
        sigset_t sigs;
        int r;

        log_set_ident("xbusd");
        r = parse_args(argc, argv, &a);
        if (r >= 0)
                return r;
        if (load_config(&a, &c) < 0)
                return EXIT_FAILURE;
        if (a.test_config) {
                r = daemon_test_config(c);
                config_free(c);
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        }
        if (c->log_format != LOG_FORMAT_AUTO) /* else $XBUS_LOG_FORMAT, or the journal under systemd */
                log_set_format(c->log_format);

        /* Signals go to the main thread only: block them before any thread starts. */
        sigemptyset(&sigs);
        sigaddset(&sigs, SIGHUP);
        sigaddset(&sigs, SIGTERM);
        sigaddset(&sigs, SIGINT);
        pthread_sigmask(SIG_BLOCK, &sigs, NULL);
        signal(SIGPIPE, SIG_IGN);

        if (daemon_start(&d, c) < 0) {
                config_free(c);
                return EXIT_FAILURE;
        }
        notify_warn(notify_send("READY=1"));
        for (;;) {
                int sig = sigtimedwait(&sigs, NULL, &(struct timespec){ 10, 0 });
                if (sig < 0) {
                        log_flush_suppressed(false); /* the counts of a storm of messages that has ended */
                        daemon_tick(d);
                        continue;
                }
                if (sig == SIGHUP) {
                        notify_warn(notify_reloading());
                        (void)daemon_reload(d);
                        notify_warn(notify_send("READY=1"));
                        continue;
                }
                log_debug("Stopping on signal %d: finishing requests in flight.", sig);
                break;
        }
        notify_warn(notify_send("STOPPING=1"));
        daemon_stop(d);
        config_free(c);
        log_flush_suppressed(true);
        return EXIT_SUCCESS;
}
