/* test-config.c: defaults, every key, relative paths, and refused configurations */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"
#include "util/macro.h"

static char dir[] = "/tmp/test-config-XXXXXX";

static int load_text(const char *text, Config **ret, char **errors)
{
        char path[256];
        FILE *f;

        snprintf(path, sizeof(path), "%s/xbusd.conf", dir);
        f = fopen(path, "w");
        assert(f);
        fputs(text, f);
        fclose(f);
        *errors = NULL;
        return config_load(ret, path, errors);
}

static void refused(const char *text, const char *expect)
{
        Config *c = NULL;
        char *errors;
        int r = load_text(text, &c, &errors);

        printf("refused: %s", strempty(errors));
        assert(r == CONFIG_E_INVALID);
        assert(!c);
        assert(errors && strstr(errors, expect));
        free(errors);
}

int main(void)
{
        Config *c;
        char *errors = NULL, expect[512];

        assert(mkdtemp(dir));

        /* no file: the embedded default */
        assert(config_load(&c, NULL, &errors) == 0);
        assert(streq(c->state_dir, "state"));
        assert(!c->registry);
        assert(streq(c->http_listen, "127.0.0.1:8443"));
        assert(c->http_threads == 2 && c->http_timeout_ms == 30000 && c->http_max_body_size == 4U << 20);
        assert(c->http_max_connections == 4096 && c->http_max_connections_per_client == 256);
        assert(c->http_handshake_timeout_ms == 5000 && c->http_request_timeout_ms == 10000);
        assert(c->demo_pki);
        assert(c->log_format == LOG_FORMAT_AUTO && c->metrics_max_series == 2000);
        assert(c->metrics_allow.loopback && !c->metrics_allow.roles && c->metrics_allow.n_networks == 0);
        assert(c->health_allow.loopback && !c->health_allow.roles && c->health_allow.n_networks == 0);
        config_free(c);

        /* every key, relative paths resolved against the file's folder */
        assert(load_text("[node]\nstate-dir = st\nregistry = reg\nname = n1\n"
                         "[http]\nlisten = 127.0.0.1:9443\nthreads = 3\nmax-connections = 10\n"
                         "max-header-size = 8KiB\nmax-body-size = 1MiB\ntimeout = 2s\n"
                         "handshake-timeout = 1500ms\nrequest-timeout = 3s\nmax-connections-per-client = 4\n"
                         "[tls]\ncertificate = a.crt\nkey = /abs/a.key\nclient-ca = ca.crt\n"
                         "[adapters]\nlisten = tcp://127.0.0.1:7000\nheartbeat = 200ms\nliveness = 2\n"
                         "[log]\nmap-size = 1GiB\nmax-batch = 10\nqueue = 100\n"
                         "[keys]\nsigning-key = s.key\npseudonym-key = p.key\nlog-key = l.key\nlog-public-key = l.pub\n"
                         "curve-key = c.key\n",
                         &c, &errors) == 0);
        snprintf(expect, sizeof(expect), "%s/st", dir);
        assert(streq(c->state_dir, expect));
        snprintf(expect, sizeof(expect), "%s/reg", dir);
        assert(streq(c->registry, expect));
        assert(streq(c->tls_key, "/abs/a.key"));
        snprintf(expect, sizeof(expect), "%s/c.key", dir);
        assert(streq(c->curve_key, expect));
        assert(c->http_threads == 3 && c->http_max_connections == 10 && c->http_max_header_size == 8192);
        assert(c->http_timeout_ms == 2000 && c->adapters_heartbeat_ms == 200 && c->adapters_liveness == 2);
        assert(c->http_handshake_timeout_ms == 1500 && c->http_request_timeout_ms == 3000);
        assert(c->http_max_connections_per_client == 4);
        assert(c->log_map_size == 1U << 30 && c->log_max_batch == 10 && c->log_queue == 100);
        assert(!c->demo_pki);
        config_free(c);

        /* [log] receipts: per-batch (the default) or per-exchange */
        assert(load_text("[log]\nreceipts = per-exchange\n", &c, &errors) == 0 && c->log_receipts_per_exchange);
        config_free(c);
        assert(load_text("[log]\nreceipts = per-batch\n", &c, &errors) == 0 && !c->log_receipts_per_exchange);
        config_free(c);
        assert(load_text("[log]\n", &c, &errors) == 0 && !c->log_receipts_per_exchange);
        config_free(c);
        assert(load_text("[log]\nreceipts = sometimes\n", &c, &errors) == CONFIG_E_INVALID &&
               strstr(errors, "receipts") && strstr(errors, "per-batch or per-exchange"));
        errors = mfree(errors);

        /* the X-Road security server id: four parts, or the default (NULL) */
        assert(load_text("[node]\nsecurity-server = EE/GOV/XBUS/node-1\n", &c, &errors) == 0);
        assert(streq(c->security_server, "EE/GOV/XBUS/node-1"));
        config_free(c);
        assert(load_text("[node]\n", &c, &errors) == 0 && !c->security_server);
        config_free(c);
        for (size_t i = 0; i < 4; i++) {
                static const char *const bad[] = { "EE/GOV/XBUS", "EE/GOV/XBUS/a/b", "EE//XBUS/a", "EE/GOV/X BUS/a" };
                char text[128];
                snprintf(text, sizeof(text), "[node]\nsecurity-server = %s\n", bad[i]);
                assert(load_text(text, &c, &errors) == CONFIG_E_INVALID && strstr(errors, "security-server"));
                errors = mfree(errors);
        }
        /* the operational log and the metrics (issue 12) */
        assert(load_text("[node]\nlog-format = json\n[metrics]\nallow = 10.0.0.0/8, role:monitor\n"
                         "health-allow = loopback 192.0.2.1\nmax-series = 50\n",
                         &c, &errors) == 0);
        assert(c->log_format == LOG_FORMAT_JSON && c->metrics_max_series == 50);
        assert(!c->metrics_allow.loopback && c->metrics_allow.n_networks == 1 && c->metrics_allow.roles);
        assert(c->health_allow.loopback && c->health_allow.n_networks == 1 && !c->health_allow.roles);
        config_free(c);
        refused("[node]\nlog-format = xml\n",
                "xbusd.conf:2: invalid value 'xml' for 'log-format': expected auto, text");
        refused("[metrics]\nallow = everyone\n", "xbusd.conf:2: invalid value 'everyone' for 'allow'");
        refused("[metrics]\nhealth-allow = role:root\n", "xbusd.conf:2: invalid value 'role:root'");
        refused("[metrics]\nmax-series = 2000000\n", "max-series must be between 1 and 1000000");

        /* "embedded" names the compiled-in registry */
        assert(load_text("[node]\nregistry = embedded\n", &c, &errors) == 0);
        assert(!c->registry);
        config_free(c);

        refused("[node]\nstate-dri = x\n", "xbusd.conf:2: unknown key 'state-dri'");
        refused("[nodes]\n", "xbusd.conf:1: unknown section [nodes]");
        refused("[http]\nmax-body-size = lots\n", "xbusd.conf:2:");
        refused("[http]\ntimeout = forever\n", "xbusd.conf:2:");
        refused("[http]\nthreads = 1000\n", "threads must be between 1 and 64");
        refused("[http]\n[http]\n", "given twice");
        refused("[http x]\n", "takes no argument");
        refused("listen = 1\n", "xbusd.conf:1:");

        /* [snapshot]: off by default; its keys, lists over repeated keys, paths resolved */
        assert(config_load(&c, NULL, &errors) == 0);
        assert(!c->snapshot_urls && !c->snapshot_anchors && !c->snapshot_ca);
        assert(c->snapshot_interval_ms == 60000 && c->snapshot_grace_ms == 600000 && c->snapshot_timeout_ms == 30000);
        config_free(c);
        assert(load_text("[snapshot]\nurl = https://a.example/s.jws, https://b.example/s.jws\n"
                         "url = https://c.example/s.jws\nanchor = old.pem\nanchor = /etc/xbus/new.pem\n"
                         "interval = 30s\ngrace = 0\ntimeout = 5s\nca = ca.pem\n",
                         &c, &errors) == 0);
        assert(c->snapshot_urls && streq(c->snapshot_urls[0], "https://a.example/s.jws") &&
               streq(c->snapshot_urls[2], "https://c.example/s.jws") && !c->snapshot_urls[3]);
        snprintf(expect, sizeof(expect), "%s/old.pem", dir);
        assert(streq(c->snapshot_anchors[0], expect) && streq(c->snapshot_anchors[1], "/etc/xbus/new.pem"));
        snprintf(expect, sizeof(expect), "%s/ca.pem", dir);
        assert(streq(c->snapshot_ca, expect));
        assert(c->snapshot_interval_ms == 30000 && c->snapshot_grace_ms == 0 && c->snapshot_timeout_ms == 5000);
        config_free(c);
        refused("[snapshot]\nurl = http://a.example/s.jws\nanchor = a.pem\n",
                "xbusd.conf:2: url \"http://a.example/s.jws\" is not an https:// URL");
        refused("[snapshot]\nurl = https://a.example/s.jws\n",
                "xbusd.conf:1: [snapshot] url needs at least one anchor");
        refused("[snapshot]\nanchor = a.pem\n", "xbusd.conf:2: [snapshot] anchor needs a url");
        refused("[node]\nregistry = reg\n[snapshot]\nurl = https://a.example/s.jws\nanchor = a.pem\n",
                "xbusd.conf:4: [snapshot] url and [node] registry exclude each other");
        refused("[snapshot]\nurl = https://a.example/s.jws\nanchor = a.pem\ninterval = 10ms\n",
                "xbusd.conf:4: interval must be at least 1s");

        assert(config_load(&c, "/nonexistent/xbusd.conf", &errors) == -ENOENT);

        {
                char cmd[128];
                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
                assert(system(cmd) == 0);
        }
        printf("config: ok\n");
        return 0;
}
