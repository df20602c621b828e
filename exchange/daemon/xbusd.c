/* xbusd.c: the xbus daemon (thin main over the library)
 *
 * Start-up order: configuration -> registry -> demo PKI (if used) -> keys ->
 * exchange log -> adapter broker -> HTTPS front door. Then the main thread
 * only waits for signals: SIGHUP reloads the registry (a bad one is refused
 * and the old one keeps serving), SIGTERM/SIGINT stop the node after the
 * requests in flight are answered and logged.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "consent/consent.h"
#include "crypto/pki.h"
#include "daemon/config.h"
#include "log/checkpoint.h"
#include "soap/soap-dsig.h"
#include "soap/soap.h"
#include "util/ini.h"
#include "http/frontdoor.h"
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

static int load_registry(const Config *c, Registry **ret)
{
        _cleanup_free_ char *errors = NULL;
        int r;

        r = c->registry ? registry_load_dir(ret, c->registry, &errors) : registry_load_embedded(ret, &errors);
        if (r == REGISTRY_E_INVALID) {
                fprintf(stderr, "%s", strempty(errors));
                log_error("Registry \"%s\" is invalid.", c->registry ? c->registry : "embedded");
                return -EINVAL;
        }
        if (r < 0)
                return log_error_errno(r, "Cannot load registry \"%s\": %m", c->registry ? c->registry : "embedded");
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
                return log_error_errno(r, "Demo PKI in \"%s\" could not be created: %s", dir,
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

int main(int argc, char **argv)
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
        const char *config_path = NULL, *o_state = NULL, *o_registry = NULL, *o_listen = NULL, *o_adapters = NULL;
        bool test_config = false;
        Config *c = NULL;
        _cleanup_free_ char *errors = NULL, *cert = NULL, *key = NULL, *ca = NULL, *signing = NULL, *pseudo = NULL,
                            *logdir = NULL, *logkey = NULL, *logpub = NULL;
        Registry *reg = NULL;
        Signer *signer = NULL;
        PseudonymKey *pseudonyms = NULL;
        CheckpointSigner *cps = NULL;
        SoapSigner *soap_signer = NULL;
        SoapTrust *soap_trust = NULL;
        _cleanup_free_ char *vkey = NULL;
        Node node = {};
        FrontDoor *fd = NULL;
        sigset_t sigs;
        int opt, r, ret = EXIT_FAILURE;

        log_set_ident("xbusd");
        while ((opt = getopt_long(argc, argv, "c:ts:r:l:a:Vh", options, NULL)) >= 0) {
                switch (opt) {
                case 'c':
                        config_path = optarg;
                        break;
                case 't':
                        test_config = true;
                        break;
                case 's':
                        o_state = optarg;
                        break;
                case 'r':
                        o_registry = optarg;
                        break;
                case 'l':
                        o_listen = optarg;
                        break;
                case 'a':
                        o_adapters = optarg;
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
                if (config_path || optind + 1 < argc) {
                        fprintf(stderr, "xbusd: one configuration file at most (see --help)\n");
                        return EXIT_FAILURE;
                }
                config_path = argv[optind];
        }

        r = config_load(&c, config_path, &errors);
        if (r == CONFIG_E_INVALID) {
                fprintf(stderr, "%s", strempty(errors));
                fprintf(stderr, "xbusd: configuration \"%s\" is invalid\n", config_path);
                return EXIT_FAILURE;
        }
        if (r < 0) {
                log_error_errno(r, "Cannot read configuration \"%s\": %m", config_path);
                return EXIT_FAILURE;
        }
#define OVERRIDE(field, value)            \
        if (value) {                      \
                free(c->field);           \
                c->field = strdup(value); \
        }
        OVERRIDE(state_dir, o_state);
        OVERRIDE(registry, o_registry);
        OVERRIDE(http_listen, o_listen);
        OVERRIDE(adapters_listen, o_adapters);

        if (load_registry(c, &reg) < 0)
                goto out;

        if (test_config) {
                const RegistrySubsystem *const *s;
                const RegistryService *const *v;
                const RegistryRight *const *rr;
                size_t ns = registry_subsystems(reg, &s), nv = registry_services(reg, &v),
                       nr = registry_rights(reg, &rr);
                const char *files[] = { c->tls_certificate, c->tls_key, c->tls_client_ca, c->signing_key,
                                        c->pseudonym_key,   c->log_key, c->log_public_key };
                bool ok = true;
                for (size_t i = 0; i < ELEMENTSOF(files); i++)
                        if (files[i] && access(files[i], R_OK) < 0) {
                                fprintf(stderr, "%s: cannot read \"%s\": %m\n", strempty(c->path), files[i]);
                                ok = false;
                        }
                if (!ok)
                        goto out;
                printf("configuration %s OK: instance %s, %zu subsystems, %zu services, %zu access rights "
                       "(registry: %s)\n",
                       config_path ? config_path : "(embedded default)", registry_instance(reg), ns, nv, nr,
                       c->registry ? c->registry : "embedded");
                ret = EXIT_SUCCESS;
                goto out;
        }

        /* Signals go to the main thread only: block them before any thread starts. */
        sigemptyset(&sigs);
        sigaddset(&sigs, SIGHUP);
        sigaddset(&sigs, SIGTERM);
        sigaddset(&sigs, SIGINT);
        pthread_sigmask(SIG_BLOCK, &sigs, NULL);
        signal(SIGPIPE, SIG_IGN);

        if (mkdir(c->state_dir, 0700) < 0 && errno != EEXIST) {
                log_error_errno(errno, "Cannot create state folder \"%s\": %m", c->state_dir);
                goto out;
        }
        if (c->demo_pki && ensure_demo_pki(c, reg) < 0)
                goto out;
        cert = pki_path(c, c->tls_certificate, "node.crt");
        key = pki_path(c, c->tls_key, "node.key");
        ca = pki_path(c, c->tls_client_ca, "ca.crt");
        signing = pki_path(c, c->signing_key, "signing.key");
        pseudo = pki_path(c, c->pseudonym_key, "pseudonym.key");
        logkey = pki_path(c, c->log_key, "log.key");
        logpub = pki_path(c, c->log_public_key, "log.pub");
        if (asprintf(&logdir, "%s/log", c->state_dir) < 0)
                logdir = NULL;
        if (!cert || !key || !ca || !signing || !pseudo || !logdir || !logkey || !logpub) {
                log_error("Out of memory.");
                goto out;
        }
        r = signer_load(&signer, signing);
        if (r < 0) {
                log_error_errno(r, "Cannot load the signing key \"%s\": %m", signing);
                goto out;
        }
        r = pseudonym_key_load(&pseudonyms, pseudo);
        if (r < 0) {
                log_error_errno(r, "Cannot load the pseudonym key \"%s\": %m", pseudo);
                goto out;
        }

        r = checkpoint_signer_load(&cps, c->name, logkey, logpub);
        if (r != 0) {
                log_error_errno(r < 0 ? r : EINVAL, "Cannot load the log key \"%s\" (origin \"%s\"): %s", logkey,
                                c->name, r < 0 ? strerror(-r) : checkpoint_strerror(r));
                goto out;
        }

        /* SOAP: the XML stack is set up (hardened) once, before any thread; the node signs
         * answers with its TLS key and certificate, and trusts the client CAs for signed requests. */
        r = soap_global_init();
        if (r < 0) {
                log_error_errno(r, "Cannot initialise the XML security library: %m");
                goto out;
        }
        {
                _cleanup_free_ char *kp = NULL, *cp = NULL, *cap = NULL;
                size_t kn = 0, cn = 0, can = 0;
                if (ini_read_file(key, KIB(64), &kp, &kn) < 0 || ini_read_file(cert, KIB(64), &cp, &cn) < 0 ||
                    ini_read_file(ca, MIB(1), &cap, &can) < 0) {
                        log_error("Cannot read the node's TLS key, certificate or client CA for SOAP.");
                        goto out;
                }
                r = soap_signer_new(&soap_signer, kp, kn, cp, cn);
                if (r == 0)
                        r = soap_trust_new(&soap_trust, cap, can);
                explicit_bzero(kp, kn);
                if (r != 0) {
                        log_error_errno(r < 0 ? r : EINVAL, "Cannot set up SOAP signing or trust: %s",
                                        r < 0 ? strerror(-r) : "refused");
                        goto out;
                }
        }

        pthread_mutex_init(&node.registry_lock, NULL);
        node.registry = TAKE_PTR(reg);
        node.signer = signer;
        node.pseudonyms = pseudonyms;
        node.soap_signer = soap_signer;
        node.soap_trust = soap_trust;
        {
                CheckpointVerifier *cv = NULL;
                if (checkpoint_signer_verifier(cps, &cv) == 0 && checkpoint_verifier_vkey(cv, &vkey) == 0)
                        node.log_vkey = vkey;
                checkpoint_verifier_free(cv);
        }

        r = exlog_open(&node.log, logdir,
                       &(ExlogOptions){ .map_size = c->log_map_size,
                                        .max_batch = (unsigned)c->log_max_batch,
                                        .queue_capacity = c->log_queue,
                                        .checkpoints = cps,
                                        .checkpoint_interval_ms = (unsigned)c->log_checkpoint_interval_ms });
        if (r < 0) {
                log_error_errno(r, "Cannot open the exchange log in \"%s\": %m", logdir);
                goto out;
        }
        r = consent_store_open(&node.consents, exlog_env(node.log));
        if (r < 0) {
                log_error_errno(r, "Cannot open the consent store in \"%s\": %m", logdir);
                goto out;
        }
        consent_store_set_pseudonym_key(node.consents, pseudonyms);
        r = broker_new(&node.broker, &(BrokerOptions){ .endpoint = c->adapters_listen,
                                                       .heartbeat_ms = (unsigned)c->adapters_heartbeat_ms,
                                                       .liveness = (unsigned)c->adapters_liveness });
        if (r < 0) {
                log_error_errno(r, "Cannot bind the adapter endpoint \"%s\": %m", c->adapters_listen);
                goto out;
        }
        r = frontdoor_new(&fd,
                          &(FrontDoorOptions){ .listen = c->http_listen,
                                               .threads = (unsigned)c->http_threads,
                                               .max_header_size = c->http_max_header_size,
                                               .max_body_size = c->http_max_body_size,
                                               .timeout_ms = (unsigned)c->http_timeout_ms,
                                               .max_connections = (unsigned)c->http_max_connections,
                                               .tls_cert = cert,
                                               .tls_key = key,
                                               .client_ca = ca },
                          &node, &errors);
        if (r < 0) {
                log_error_errno(r, "Cannot start the front door: %s", errors ? errors : strerror(-r));
                goto out;
        }
        log_info("Ready: https://%s (port %d), adapters on %s, registry %s (instance %s), state in \"%s\", "
                 "%llu log entries.",
                 c->http_listen, frontdoor_port(fd), c->adapters_listen, c->registry ? c->registry : "embedded",
                 registry_instance(node.registry), c->state_dir, (unsigned long long)exlog_size(node.log));

        for (;;) {
                int sig;
                if (sigwait(&sigs, &sig) != 0)
                        continue;
                if (sig == SIGHUP) {
                        Registry *fresh = NULL;
                        if (load_registry(c, &fresh) < 0) {
                                atomic_fetch_add(&node.counters.reload_failures, 1);
                                log_warning("Registry reload refused; the previous registry keeps serving.");
                                continue;
                        }
                        node_registry_swap(&node, fresh);
                        atomic_fetch_add(&node.counters.reloads, 1);
                        log_info("Registry reloaded (instance %s).", registry_instance(fresh));
                        continue;
                }
                log_info("Stopping on signal %d: finishing requests in flight.", sig);
                break;
        }
        ret = EXIT_SUCCESS;
out:
        fd = frontdoor_free(fd);
        node.broker = broker_free(node.broker);
        node.log = exlog_close(node.log);
        node.consents = consent_store_free(node.consents); /* after the writer, whose hooks use it */
        if (node.registry) {
                registry_unref(node.registry);
                pthread_mutex_destroy(&node.registry_lock);
        }
        registry_unref(reg);
        signer_free(signer);
        pseudonym_key_free(pseudonyms);
        checkpoint_signer_free(cps);
        soap_signer_free(soap_signer);
        soap_trust_free(soap_trust);
        config_free(c);
        return ret;
}
