/* cli-node-state.c: the state file `xbus up` writes (STATE/node.json), and free ports */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/cli-node-state.h"
#include "cli/cli-node.h"
#include "daemon/config.h"
#include "util/error.h"
#include "util/macro.h"
#include "util/parse.h"

#define STATE_FILE_MAX 4096

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

static int up_config(CliUpRequest *u, CliNodeOptions *o, char **ret_error)
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
        if (!o->state_dir && !(o->state_dir = u->owned[0] = strdup(c->state_dir)))
                r = -ENOMEM;
        if (!o->listen && !streq(c->http_listen, CLI_NODE_DEFAULT_LISTEN) &&
            !(o->listen = u->owned[1] = strdup(c->http_listen)))
                r = -ENOMEM;
        if (!o->adapters && !streq(c->adapters_listen, CLI_NODE_DEFAULT_ADAPTERS) &&
            !(o->adapters = u->owned[2] = strdup(c->adapters_listen)))
                r = -ENOMEM;
        config_free(c);
        return r;
}

int cli_up_resolve(CliUpRequest *u, CliNodeOptions *o, char **ret_error)
{
        int r;

        o->state_dir = u->state;
        o->listen = u->listen;
        o->adapters = u->adapters;
        o->config = u->config;
        r = up_port(u, u->port, CLI_ENV_PORT, u->listen, "", 1, &o->listen, ret_error);
        if (r == 0)
                r = up_port(u, u->adapters_port, CLI_ENV_ADAPTERS_PORT, u->adapters, "tcp://", 2, &o->adapters,
                            ret_error);
        if (r == 0 && u->config)
                r = up_config(u, o, ret_error);
        if (r == 0 && !o->state_dir)
                o->state_dir = CLI_NODE_DEFAULT_STATE;
        return r;
}
