/* cli-node-state.c: the state file `xbus up` writes (STATE/node.json), and free ports */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/cli-http.h"
#include "cli/cli-node-state.h"
#include "cli/cli-table.h"
#include "daemon/config.h"
#include "util/error.h"
#include "util/macro.h"
#include "util/parse.h"

#define STATE_FILE_MAX 4096

/* --- addresses and /health ----------------------------------------------- */

static bool host_chars_ok(const char *h, size_t n, bool bracketed)
{
        if (n == 0 || n > 253)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = h[i];
                bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
                if (bracketed)
                        ok = ok || c == ':' || c == '.';
                else
                        ok = ok || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '-';
                if (!ok)
                        return false;
        }
        return true;
}

/* Split "HOST:PORT" / "[V6]:PORT"; *host points into a copy kept in *buf. */
static int split_hostport(const char *s, char **buf, const char **host, bool *bracketed, unsigned *port)
{
        char *copy, *colon;
        uint64_t v;

        if (isempty(s) || strlen(s) > 300)
                return -EINVAL;
        copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        colon = strrchr(copy, ':');
        if (!colon || parse_u64(colon + 1, 1, 65535, &v) < 0) {
                free(copy);
                return -EINVAL;
        }
        *port = (unsigned)v;
        *colon = 0;
        *bracketed = copy[0] == '[';
        if (*bracketed) {
                size_t n = strlen(copy);
                if (n < 3 || copy[n - 1] != ']' || !host_chars_ok(copy + 1, n - 2, true)) {
                        free(copy);
                        return -EINVAL;
                }
        } else if (copy[0] && !host_chars_ok(copy, strlen(copy), false)) {
                free(copy);
                return -EINVAL;
        }
        *host = copy;
        *buf = copy;
        return 0;
}

int cli_node_url_from_listen(const char *listen, char **ret)
{
        _cleanup_free_ char *buf = NULL;
        const char *host;
        bool bracketed;
        unsigned port;
        int r;

        r = split_hostport(listen, &buf, &host, &bracketed, &port);
        if (r < 0)
                return r;
        if (!*host || streq(host, "0.0.0.0"))
                host = "127.0.0.1";
        else if (streq(host, "[::]"))
                host = "[::1]";
        if (asprintf(ret, "https://%s:%u", host, port) < 0)
                return -ENOMEM;
        return 0;
}

int cli_node_listen_from_url(const char *url, char **ret)
{
        _cleanup_free_ char *hostport = NULL;
        const char *p, *end;
        size_t n;

        if (!url || strncmp(url, "https://", 8) != 0)
                return -EINVAL;
        p = url + 8;
        end = p + strcspn(p, "/?#");
        if (*end == '?' || *end == '#' || (*end == '/' && end[1]))
                return -EINVAL; /* a base URL: no path, query or fragment */
        n = (size_t)(end - p);
        if (n == 0 || n > 300 || memchr(p, '@', n))
                return -EINVAL;
        hostport = strndup(p, n);
        if (!hostport)
                return -ENOMEM;
        /* no port: 443 */
        if (hostport[n - 1] == ']' || !strchr(hostport, ':')) {
                char *with;
                if (asprintf(&with, "%s:443", hostport) < 0)
                        return -ENOMEM;
                free(hostport);
                hostport = with;
        }
        {
                _cleanup_free_ char *buf = NULL;
                const char *host;
                bool bracketed;
                unsigned port;
                int r = split_hostport(hostport, &buf, &host, &bracketed, &port);
                if (r < 0)
                        return r;
                if (!*host)
                        return -EINVAL;
        }
        *ret = TAKE_PTR(hostport);
        return 0;
}

int cli_health_parse(const char *body, size_t size, unsigned *ret_adapters)
{
        _cleanup_(json_decrefp) json_t *j = NULL;
        json_t *a;
        const char *status;

        if (!body || size > 4096)
                return -EINVAL;
        j = json_loadb(body, size, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(j))
                return -EINVAL;
        status = json_string_value(json_object_get(j, "status"));
        a = json_object_get(j, "adapters");
        if (!status || !(streq(status, "ok") || streq(status, "unavailable")) || !json_is_integer(a) ||
            json_integer_value(a) < 0 || json_integer_value(a) > UINT_MAX)
                return -EINVAL;
        *ret_adapters = (unsigned)json_integer_value(a);
        return streq(status, "ok") ? 0 : 1;
}

static char *state_file(const char *state_dir, const char *name)
{
        char *p;

        if (asprintf(&p, "%s/%s", state_dir, name) < 0)
                return NULL;
        return p;
}

int cli_node_health(const char *url, const char *state_dir, unsigned timeout_ms, unsigned *ret_adapters,
                    char **ret_error)
{
        _cleanup_free_ char *ca = NULL, *health = NULL, *error = NULL;
        _cleanup_(cli_http_response_freep) CliHttpResponse *resp = NULL;
        size_t n;
        bool have_ca;
        int r;

        if (isempty(url) || isempty(state_dir))
                return error_set(ret_error, -EINVAL, "no URL or state folder");
        ca = state_file(state_dir, "pki/ca.crt");
        n = strlen(url);
        while (n > 0 && url[n - 1] == '/')
                n--;
        if (!ca || asprintf(&health, "%.*s/health", (int)n, url) < 0)
                return error_set(ret_error, -ENOMEM, "out of memory");
        have_ca = access(ca, R_OK) == 0;

        r = cli_http_request(&(CliHttpRequest){ .url = health,
                                                .ca_file = have_ca ? ca : NULL,
                                                .insecure = !have_ca,
                                                .timeout_ms = timeout_ms },
                             &resp, &error);
        if (r == CLI_HTTP_E_CONNECT)
                return error_set(ret_error, CLI_NODE_E_DOWN, "nothing answers at %s", url);
        if (r == CLI_HTTP_E_TLS)
                return error_set(ret_error, CLI_NODE_E_FOREIGN,
                                 "%s answers, but its certificate is not from \"%s\" (a node of another state "
                                 "folder?): %s",
                                 url, ca, strempty(error));
        if (r < 0)
                return error_set(ret_error, r, "%s", error ? error : strerror(-r));
        if (r > 0)
                return error_set(ret_error, CLI_NODE_E_FOREIGN, "%s does not answer /health properly: %s", url,
                                 strempty(error));
        if (!have_ca)
                return error_set(ret_error, CLI_NODE_E_FOREIGN,
                                 "something answers at %s, but \"%s\" does not exist: not a node of this state "
                                 "folder",
                                 url, ca);
        r = cli_health_parse(resp->body, resp->body_size, ret_adapters);
        if (r == 1 && resp->status == 503)
                return error_set(ret_error, CLI_NODE_E_UNHEALTHY, "%s is unavailable: %.*s", url,
                                 (int)MIN(resp->body_size, 1024U), resp->body);
        if (resp->status != 200 || r != 0)
                return error_set(ret_error, CLI_NODE_E_FOREIGN, "%s answers /health with %ld, not as an xbus node", url,
                                 resp->status);
        return 0;
}

/* --- the state file ------------------------------------------------------ */

static char *state_path(const char *state_dir)
{
        char *p;

        if (asprintf(&p, "%s/%s", state_dir ? state_dir : CLI_NODE_DEFAULT_STATE, CLI_NODE_STATE_FILE) < 0)
                return NULL;
        return p;
}

void cli_node_state_done(CliNodeState *s)
{
        free(s->url);
        free(s->adapters);
        *s = (CliNodeState){};
}

int cli_node_state_read(const char *state_dir, CliNodeState *ret)
{
        _cleanup_free_ char *path = state_path(state_dir), *listen = NULL;
        _cleanup_(json_decrefp) json_t *j = NULL;
        const char *url, *adapters;

        if (!path)
                return -ENOMEM;
        if (access(path, F_OK) < 0)
                return -errno;
        j = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
        url = json_string_value(json_object_get(j, "url"));
        adapters = json_string_value(json_object_get(j, "adapters"));
        if (!url || !adapters || strlen(url) > 300 || strlen(adapters) > 300 ||
            cli_node_listen_from_url(url, &listen) < 0)
                return -EINVAL;
        ret->url = strdup(url);
        ret->adapters = strdup(adapters);
        if (!ret->url || !ret->adapters) {
                cli_node_state_done(ret);
                return -ENOMEM;
        }
        return 0;
}

int cli_node_state_write(const char *state_dir, const char *url, const char *adapters)
{
        _cleanup_free_ char *path = state_path(state_dir), *tmp = NULL, *text = NULL;
        _cleanup_(json_decrefp) json_t *j = json_pack("{s:s,s:s}", "url", url, "adapters", adapters);
        int fd, r = 0;

        if (!path || !j || asprintf(&tmp, "%s.tmp", path) < 0 || !(text = json_dumps(j, JSON_COMPACT)))
                return -ENOMEM;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        if (dprintf(fd, "%s\n", text) < 0)
                r = -EIO;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                unlink(tmp);
        return r;
}

void cli_node_state_remove(const char *state_dir)
{
        _cleanup_free_ char *path = state_path(state_dir);

        if (path)
                unlink(path);
}

char *cli_node_url(const char *state_dir, const char *given)
{
        CliNodeState s = {};

        if (given)
                return strdup(given);
        if (cli_node_state_read(state_dir, &s) == 0) {
                char *url = TAKE_PTR(s.url);

                cli_node_state_done(&s);
                return url;
        }
        return strdup(CLI_NODE_DEFAULT_URL);
}

int cli_split_endpoint(const char *s, char **ret_host, unsigned *ret_port)
{
        const char *hp = s && strncmp(s, "tcp://", 6) == 0 ? s + 6 : s, *colon;
        uint64_t port;

        if (!hp || !(colon = strrchr(hp, ':')) || parse_u64(colon + 1, 1, 65535, &port) < 0)
                return -EINVAL;
        *ret_host = strndup(hp, (size_t)(colon - hp));
        if (!*ret_host)
                return -ENOMEM;
        *ret_port = (unsigned)port;
        return 0;
}

int cli_port_free(const char *host, unsigned port)
{
        struct sockaddr_storage ss = {};
        socklen_t len;
        char h[64];
        int fd, one = 1, r;

        snprintf(h, sizeof(h), "%s", host && *host && !streq(host, "*") ? host : "0.0.0.0");
        if (streq(h, "localhost"))
                snprintf(h, sizeof(h), "127.0.0.1");
        if (h[0] == '[') {
                struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

                h[strcspn(h, "]")] = 0;
                if (inet_pton(AF_INET6, h + 1, &s6->sin6_addr) != 1)
                        return -EINVAL;
                s6->sin6_family = AF_INET6;
                s6->sin6_port = htons((uint16_t)port);
                len = sizeof(*s6);
        } else {
                struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

                if (inet_pton(AF_INET, h, &s4->sin_addr) != 1)
                        return -EINVAL;
                s4->sin_family = AF_INET;
                s4->sin_port = htons((uint16_t)port);
                len = sizeof(*s4);
        }
        fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* as the node binds: TIME_WAIT left by an earlier run does not count */
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        r = bind(fd, (struct sockaddr *)&ss, len) == 0 ? 1 : errno == EADDRINUSE || errno == EACCES ? 0 : -errno;
        if (r == 1 && port == 0) {
                /* the kernel's pick: the caller wants to know which */
                if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
                        r = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                           : ((struct sockaddr_in *)&ss)->sin_port);
        }
        close(fd);
        return r;
}

int cli_port_pick(const char *host, unsigned port, unsigned avoid, unsigned *ret)
{
        int r;

        for (unsigned p = port + 1; p <= port + CLI_PORT_TRIES && p <= 65535; p++) {
                if (p == avoid)
                        continue;
                r = cli_port_free(host, p);
                if (r < 0)
                        return r;
                if (r == 1) {
                        *ret = p;
                        return 0;
                }
        }
        for (int tries = 0; tries < 5; tries++) {
                r = cli_port_free(host, 0);
                if (r < 0)
                        return r;
                if (r > 1 && (unsigned)r != avoid) {
                        *ret = (unsigned)r;
                        return 0;
                }
        }
        return -EADDRINUSE;
}

void cli_up_request_done(CliUpRequest *u)
{
        for (size_t i = 0; i < ELEMENTSOF(u->owned); i++)
                u->owned[i] = mfree(u->owned[i]);
}

/* A port from the option, else the environment, into "PREFIX127.0.0.1:PORT" (owned[k]); NULL when neither. */
static int up_port(CliUpRequest *u, unsigned port, const char *env, const char *given, const char *prefix, size_t k,
                   const char **ret, char **ret_error)
{
        const char *e = getenv(env);
        uint64_t v = port;

        if (!port && !isempty(e) && parse_u64(e, 1, 65535, &v) < 0)
                return error_set(ret_error, -EINVAL, "%s must be a port number (1..65535), not \"%s\"", env, e);
        if (!v)
                return 0;
        if (given && port)
                return error_set(ret_error, -EINVAL, "give the address or the port, not both");
        if (given)
                return 0; /* the option wins over the environment */
        if (asprintf(&u->owned[k], "%s127.0.0.1:%u", prefix, (unsigned)v) < 0)
                return -ENOMEM;
        *ret = u->owned[k];
        return 0;
}

static int up_config(CliUpRequest *u, char **ret_error)
{
        _cleanup_free_ char *errors = NULL;
        Config *c = NULL;
        int r;

        r = config_load(&c, u->config, &errors);
        if (r == CONFIG_E_INVALID)
                return error_set(ret_error, -EINVAL, "the configuration \"%s\" is invalid:\n%s", u->config,
                                 strempty(errors));
        if (r < 0)
                return error_set(ret_error, -EINVAL, "cannot read the configuration \"%s\": %s", u->config,
                                 strerror(-r));
        if (c->tls_certificate || c->tls_key || c->tls_client_ca || c->curve_key) {
                config_free(c);
                return error_set(ret_error, -EINVAL,
                                 "\"%s\" names its own certificates or keys ([tls], [keys] curve-key): xbus up runs "
                                 "nodes on the demo PKI; start this one with xbusd --config (or systemd)",
                                 u->config);
        }
        r = 0;
        if (!u->state_dir && !(u->state_dir = u->owned[0] = strdup(c->state_dir)))
                r = -ENOMEM;
        if (!u->listen_given && !streq(c->http_listen, CLI_NODE_DEFAULT_LISTEN) &&
            !(u->listen_given = u->owned[1] = strdup(c->http_listen)))
                r = -ENOMEM;
        if (!u->adapters_given && !streq(c->adapters_listen, CLI_NODE_DEFAULT_ADAPTERS) &&
            !(u->adapters_given = u->owned[2] = strdup(c->adapters_listen)))
                r = -ENOMEM;
        config_free(c);
        return r;
}

int cli_up_resolve(CliUpRequest *u, char **ret_error)
{
        int r;

        u->state_dir = u->state;
        u->listen_given = u->listen;
        u->adapters_given = u->adapters;
        r = up_port(u, u->port, CLI_ENV_PORT, u->listen, "", 1, &u->listen_given, ret_error);
        if (r == 0)
                r = up_port(u, u->adapters_port, CLI_ENV_ADAPTERS_PORT, u->adapters, "tcp://", 2, &u->adapters_given,
                            ret_error);
        if (r == 0 && u->config)
                r = up_config(u, ret_error);
        if (r == 0 && !u->state_dir)
                u->state_dir = CLI_NODE_DEFAULT_STATE;
        return r;
}
