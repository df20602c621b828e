/* config.c: table-driven parsing of xbusd.conf */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"
#include "util/fileio.h"
#include "util/ini.h"
#include "util/macro.h"
#include "util/strv.h"

#define OFF(f) offsetof(Config, f)

/* INSTANCE/CLASS/MEMBER/CODE: four non-empty parts of letters, digits, '.', '_', ':' and '-'. */
static bool security_server_valid(const char *value)
{
        unsigned parts = 1;
        size_t len = 0;

        for (const char *c = value; *c; c++, len++) {
                if (*c == '/') {
                        if (len == 0 || c[1] == 0)
                                return false;
                        parts++;
                        len = (size_t)-1;
                } else if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                             strchr("._:-", *c)))
                        return false;
        }
        return parts == 4 && strlen(value) <= 255;
}

static int item_log_format(const char *value, unsigned line, void *dst)
{
        int f = log_format_from_string(value);

        if (f < 0)
                return f;
        *(LogFormat *)dst = f;
        return 0;
}

/* [log] receipts: per-batch (the default) or per-exchange. */
static int item_receipts(const char *value, unsigned line, void *dst)
{
        if (streq(value, "per-batch"))
                *(bool *)dst = false;
        else if (streq(value, "per-exchange"))
                *(bool *)dst = true;
        else
                return -EINVAL;
        return 0;
}

static int item_access(const char *value, unsigned line, void *dst)
{
        return access_list_parse(dst, value);
}

static const IniItem node_items[] = {
        { "state-dir", ini_item_string, OFF(state_dir), 0, "a folder" },
        { "registry", ini_item_string, OFF(registry), 0, "a registry folder, or 'embedded'" },
        { "name", ini_item_string, OFF(name), 0, "a node name" },
        { "security-server", ini_item_string, OFF(security_server), 0, "INSTANCE/CLASS/MEMBER/CODE" },
        { "log-format", item_log_format, OFF(log_format), 0, "auto, text, json or journal" },
};
static const IniItem http_items[] = {
        { "listen", ini_item_string, OFF(http_listen), 0, "HOST:PORT" },
        { "threads", ini_item_size, OFF(http_threads), 0, "a number of threads" },
        { "max-connections", ini_item_size, OFF(http_max_connections), 0, "a number" },
        { "max-header-size", ini_item_size, OFF(http_max_header_size), 0, "a size such as 16KiB" },
        { "max-body-size", ini_item_size, OFF(http_max_body_size), 0, "a size such as 4MiB" },
        { "timeout", ini_item_duration, OFF(http_timeout_ms), 0, "a duration such as 30s" },
        { "handshake-timeout", ini_item_duration, OFF(http_handshake_timeout_ms), 0, "a duration such as 5s" },
        { "request-timeout", ini_item_duration, OFF(http_request_timeout_ms), 0, "a duration such as 10s" },
        { "max-connections-per-client", ini_item_size, OFF(http_max_connections_per_client), 0, "a number" },
};
static const IniItem tls_items[] = {
        { "certificate", ini_item_string, OFF(tls_certificate), 0, "a PEM file" },
        { "key", ini_item_string, OFF(tls_key), 0, "a PEM file" },
        { "client-ca", ini_item_string, OFF(tls_client_ca), 0, "a PEM file" },
        { "client-crl", ini_item_string, OFF(tls_client_crl), 0, "a PEM file of CRLs" },
};
static const IniItem adapters_items[] = {
        { "listen", ini_item_string, OFF(adapters_listen), 0, "a ZeroMQ endpoint such as tcp://127.0.0.1:5560" },
        { "heartbeat", ini_item_duration, OFF(adapters_heartbeat_ms), 0, "a duration such as 1s" },
        { "liveness", ini_item_size, OFF(adapters_liveness), 0, "a number of heartbeats" },
};
static const IniItem log_items[] = {
        { "map-size", ini_item_size, OFF(log_map_size), 0, "a size such as 16GiB" },
        { "max-batch", ini_item_size, OFF(log_max_batch), 0, "a number of entries" },
        { "queue", ini_item_size, OFF(log_queue), 0, "a number of entries" },
        { "checkpoint-interval", ini_item_duration, OFF(log_checkpoint_interval_ms), 0, "a duration such as 10s" },
        { "receipts", item_receipts, OFF(log_receipts_per_exchange), 0, "per-batch or per-exchange" },
};
static const IniItem keys_items[] = {
        { "signing-key", ini_item_string, OFF(signing_key), 0, "a PEM file (EC P-256)" },
        { "pseudonym-key", ini_item_string, OFF(pseudonym_key), 0, "a key file" },
        { "log-key", ini_item_string, OFF(log_key), 0, "a PEM file (Ed25519)" },
        { "log-public-key", ini_item_string, OFF(log_public_key), 0, "a PEM file (Ed25519 public key)" },
        { "curve-key", ini_item_string, OFF(curve_key), 0, "a file holding a CURVE secret key (Z85)" },
};

#define EXPECT_ACCESS "loopback, networks such as 10.0.0.0/8 or 2001:db8::/32, or role:NAME, in a list"
static const IniItem metrics_items[] = {
        { "allow", item_access, OFF(metrics_allow), 0, EXPECT_ACCESS },
        { "health-allow", item_access, OFF(health_allow), 0, EXPECT_ACCESS },
        { "max-series", ini_item_size, OFF(metrics_max_series), 0, "a number of series (1..1000000)" },
};
static const IniItem snapshot_items[] = {
        { "url", ini_item_strv, OFF(snapshot_urls), INI_ITEM_MULTI, "https:// URLs of the registry snapshot" },
        { "anchor", ini_item_strv, OFF(snapshot_anchors), INI_ITEM_MULTI,
          "files of the registry authority's public keys (PEM or JWK)" },
        { "interval", ini_item_duration, OFF(snapshot_interval_ms), 0, "a duration such as 1min" },
        { "grace", ini_item_duration, OFF(snapshot_grace_ms), 0, "a duration such as 10min, or 0" },
        { "timeout", ini_item_duration, OFF(snapshot_timeout_ms), 0, "a duration such as 30s" },
        { "ca", ini_item_string, OFF(snapshot_ca), 0, "a PEM file of CA certificates" },
};
enum { SNAPSHOT_URL, SNAPSHOT_ANCHOR, SNAPSHOT_INTERVAL };

static const IniItem console_items[] = {
        { "key", ini_item_string, OFF(console_key), 0, "a key file (64 hex digits)" },
        { "idle-timeout", ini_item_duration, OFF(console_idle_timeout_ms), 0, "a duration such as 15min" },
        { "session-timeout", ini_item_duration, OFF(console_session_timeout_ms), 0, "a duration such as 8h" },
};

static const struct {
        const char *name;
        const IniItem *items;
        size_t n;
} sections[] = {
        { "node", node_items, ELEMENTSOF(node_items) },
        { "http", http_items, ELEMENTSOF(http_items) },
        { "tls", tls_items, ELEMENTSOF(tls_items) },
        { "adapters", adapters_items, ELEMENTSOF(adapters_items) },
        { "log", log_items, ELEMENTSOF(log_items) },
        { "keys", keys_items, ELEMENTSOF(keys_items) },
        { "metrics", metrics_items, ELEMENTSOF(metrics_items) },
        { "console", console_items, ELEMENTSOF(console_items) },
        { "snapshot", snapshot_items, ELEMENTSOF(snapshot_items) },
};
#define SECTION_METRICS 6
#define SECTION_SNAPSHOT 8

typedef struct Parse {
        Config *c;
        IniErrors *errors;
        int current; /* index in sections[], -1 for an unknown section */
        IniSection state[ELEMENTSOF(sections)];
} Parse;

static int on_item(const char *file, unsigned line, const char *section, const char *arg, const char *key,
                   const char *value, void *userdata)
{
        Parse *p = userdata;

        if (!key) {
                p->current = -1;
                for (size_t i = 0; i < ELEMENTSOF(sections); i++)
                        if (streq(section, sections[i].name))
                                p->current = (int)i;
                if (p->current < 0)
                        ini_errors_add(p->errors, file, line, "unknown section [%s]", section);
                else if (arg)
                        ini_errors_add(p->errors, file, line, "section [%s] takes no argument", section);
                else if (p->state[p->current].line)
                        ini_errors_add(p->errors, file, line, "section [%s] given twice (first on line %u)", section,
                                       p->state[p->current].line);
                else
                        p->state[p->current] =
                                (IniSection){ .type = sections[p->current].name, .file = file, .line = line };
                return 0;
        }
        if (p->current < 0)
                return 0;
        return ini_section_apply(&p->state[p->current], sections[p->current].items, sections[p->current].n, p->c, line,
                                 key, value, p->errors);
}

static int set_default(char **field, const char *value)
{
        if (*field)
                return 0;
        *field = strdup(value);
        return *field ? 0 : -ENOMEM;
}

/* [snapshot]: checks across keys. A node takes its registry from a folder or from snapshots, not both. */
static void check_snapshot(Config *c, const char *path, const IniSection *sec, IniErrors *errors)
{
        for (char **u = c->snapshot_urls; u && *u; u++)
                if (!strneq(*u, "https://", 8) || !(*u)[8])
                        ini_errors_add(errors, path, sec->lines[SNAPSHOT_URL], "url \"%s\" is not an https:// URL", *u);
        if (c->snapshot_urls && !c->snapshot_anchors)
                ini_errors_add(errors, path, sec->line, "[snapshot] url needs at least one anchor");
        if (c->snapshot_anchors && !c->snapshot_urls)
                ini_errors_add(errors, path, sec->lines[SNAPSHOT_ANCHOR], "[snapshot] anchor needs a url");
        if (c->snapshot_urls && c->registry)
                ini_errors_add(errors, path, sec->lines[SNAPSHOT_URL],
                               "[snapshot] url and [node] registry exclude each other: the registry comes from one");
        if (c->snapshot_interval_ms < 1000)
                ini_errors_add(errors, path, sec->lines[SNAPSHOT_INTERVAL], "interval must be at least 1s");
}

/* Make a relative path absolute against `base` (the config file's folder). */
static int resolve(char **field, const char *base)
{
        char *p;

        if (!*field || (*field)[0] == '/' || !base)
                return 0;
        if (asprintf(&p, "%s/%s", base, *field) < 0)
                return -ENOMEM;
        free(*field);
        *field = p;
        return 0;
}

static int resolve_all(char **l, const char *base)
{
        for (; l && *l; l++)
                if (resolve(l, base) < 0)
                        return -ENOMEM;
        return 0;
}

int config_load(Config **ret, const char *path, char **ret_errors)
{
        IniErrors errors = {};
        Parse p = { .current = -1 };
        char *text = NULL, *base = NULL;
        size_t size = 0;
        Config *c;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        p.c = c;
        p.errors = &errors;
        /* defaults that 0 cannot stand for ([snapshot] grace = 0 means: refuse at expiry) */
        c->snapshot_interval_ms = 60000;
        c->snapshot_grace_ms = 600000;
        c->snapshot_timeout_ms = 30000;
        if (path) {
                char *copy;
                r = read_full_file(path, MIB(1), &text, &size);
                if (r < 0) {
                        config_free(c);
                        return r;
                }
                r = ini_parse(path, text, size, on_item, &p, &errors);
                free(text);
                if (r < 0 && r != -EINVAL) {
                        ini_errors_done(&errors);
                        config_free(c);
                        return r;
                }
                c->path = strdup(path);
                copy = strdup(path);
                if (!c->path || !copy) {
                        free(copy);
                        ini_errors_done(&errors);
                        config_free(c);
                        return -ENOMEM;
                }
                base = strdup(dirname(copy));
                free(copy);
        }

        /* value checks that the tables cannot express */
        if (c->http_threads > 64)
                ini_errors_add(&errors, path, p.state[1].lines[1], "threads must be between 1 and 64");
        if (c->adapters_liveness > 100)
                ini_errors_add(&errors, path, p.state[3].lines[2], "liveness must be between 1 and 100");
        if (c->security_server && !security_server_valid(c->security_server))
                ini_errors_add(&errors, path, p.state[0].lines[3],
                               "security-server must be INSTANCE/CLASS/MEMBER/CODE (letters, digits, '.', '_', ':', "
                               "'-')");
        if (c->metrics_max_series > 1000000)
                ini_errors_add(&errors, path, p.state[SECTION_METRICS].lines[2],
                               "max-series must be between 1 and 1000000");
        check_snapshot(c, path, &p.state[SECTION_SNAPSHOT], &errors);
        if (c->registry && streq(c->registry, "embedded"))
                c->registry = mfree(c->registry);

        if (ini_errors_count(&errors) > 0) {
                if (ret_errors)
                        ini_errors_to_string(&errors, ret_errors);
                ini_errors_done(&errors);
                free(base);
                config_free(c);
                return CONFIG_E_INVALID;
        }
        ini_errors_done(&errors);

        if (!c->http_threads)
                c->http_threads = 2;
        if (!c->http_max_connections)
                c->http_max_connections = 4096;
        if (!c->http_max_header_size)
                c->http_max_header_size = KIB(16);
        if (!c->http_max_body_size)
                c->http_max_body_size = MIB(4);
        if (!c->http_timeout_ms)
                c->http_timeout_ms = 30000;
        if (!c->http_handshake_timeout_ms)
                c->http_handshake_timeout_ms = 5000;
        if (!c->http_request_timeout_ms)
                c->http_request_timeout_ms = 10000;
        if (!c->http_max_connections_per_client)
                c->http_max_connections_per_client = 256;
        if (!c->adapters_heartbeat_ms)
                c->adapters_heartbeat_ms = 1000;
        if (!c->adapters_liveness)
                c->adapters_liveness = 3;
        if (!c->log_map_size)
                c->log_map_size = (size_t)16 << 30;
        if (!c->log_max_batch)
                c->log_max_batch = 1024;
        if (!c->log_queue)
                c->log_queue = 65536;
        if (!c->log_checkpoint_interval_ms)
                c->log_checkpoint_interval_ms = 10000;
        if (!c->metrics_max_series)
                c->metrics_max_series = 2000;
        if (!c->console_idle_timeout_ms)
                c->console_idle_timeout_ms = 15 * 60 * 1000;
        if (!c->console_session_timeout_ms)
                c->console_session_timeout_ms = 8 * 60 * 60 * 1000;
        if (access_list_empty(&c->metrics_allow))
                c->metrics_allow = access_list_loopback;
        if (access_list_empty(&c->health_allow))
                c->health_allow = access_list_loopback;
        r = 0;
        r = r ?: set_default(&c->state_dir, "state");
        r = r ?: set_default(&c->name, "xbus.local");
        r = r ?: set_default(&c->http_listen, "127.0.0.1:8443");
        r = r ?: set_default(&c->adapters_listen, "tcp://127.0.0.1:5560");
        r = r ?: resolve(&c->state_dir, base);
        r = r ?: resolve(&c->registry, base);
        r = r ?: resolve(&c->tls_certificate, base);
        r = r ?: resolve(&c->tls_key, base);
        r = r ?: resolve(&c->tls_client_ca, base);
        r = r ?: resolve(&c->tls_client_crl, base);
        r = r ?: resolve(&c->signing_key, base);
        r = r ?: resolve(&c->pseudonym_key, base);
        r = r ?: resolve(&c->log_key, base);
        r = r ?: resolve(&c->log_public_key, base);
        r = r ?: resolve(&c->console_key, base);
        r = r ?: resolve(&c->curve_key, base);
        r = r ?: resolve(&c->snapshot_ca, base);
        r = r ?: resolve_all(c->snapshot_anchors, base);
        free(base);
        if (r < 0) {
                config_free(c);
                return r;
        }
        c->demo_pki = !c->tls_certificate || !c->tls_key || !c->tls_client_ca || !c->signing_key || !c->pseudonym_key ||
                      !c->log_key || !c->log_public_key || !c->curve_key;
        *ret = c;
        return 0;
}

Config *config_free(Config *c)
{
        if (!c)
                return NULL;
        free(c->state_dir);
        free(c->registry);
        free(c->name);
        free(c->security_server);
        free(c->http_listen);
        free(c->tls_certificate);
        free(c->tls_key);
        free(c->tls_client_ca);
        free(c->tls_client_crl);
        free(c->adapters_listen);
        free(c->curve_key);
        free(c->signing_key);
        free(c->pseudonym_key);
        free(c->log_key);
        free(c->log_public_key);
        free(c->console_key);
        strv_free(c->snapshot_urls);
        strv_free(c->snapshot_anchors);
        free(c->snapshot_ca);
        free(c->path);
        free(c);
        return NULL;
}

char *config_pki_dir(const Config *c)
{
        char *p;

        if (asprintf(&p, "%s/pki", c->state_dir) < 0)
                return NULL;
        return p;
}
