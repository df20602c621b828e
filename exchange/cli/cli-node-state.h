/* cli-node-state.h: where a local node listens and whether it is ours: addresses, /health, the state file, free ports
 *
 * A node of a state folder is recognised by its certificate, which must
 * chain to STATE/pki/ca.crt (cli_node_health()).
 *
 * `xbus up` may start the node on other ports than the defaults (8443 for
 * HTTPS, 5560 for adapters) when those are taken; it then records where the
 * node listens in STATE/node.json:
 *
 *     {"url": "https://127.0.0.1:8444", "adapters": "tcp://127.0.0.1:5561"}
 *
 * so that `xbus call`, `demo`, `consent`, `subject` and `audit` of that
 * state folder find the node without --url, and `xbus up` finds it again.
 * `xbus down` removes the file. A file that does not parse is ignored.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define CLI_NODE_DEFAULT_STATE "state"
#define CLI_NODE_DEFAULT_LISTEN "127.0.0.1:8443"
#define CLI_NODE_DEFAULT_URL "https://127.0.0.1:8443"
#define CLI_NODE_DEFAULT_ADAPTERS "tcp://127.0.0.1:5560"

/* Positive codes. */
enum {
        CLI_NODE_E_DOWN = 1, /* nothing answers at the URL */
        CLI_NODE_E_FOREIGN,  /* something answers, but not a node of this state folder */
        CLI_NODE_E_TIMEOUT,  /* started, but not ready in time */
        CLI_NODE_E_EXITED,   /* a started program exited */
        /* a node of this state folder answers /health with 503 (its reasons in *ret_error) */
        CLI_NODE_E_UNHEALTHY,
        CLI_NODE_E_TAKEN, /* a port given is taken by another program */
};

/*
 * cli_node_url_from_listen(): "HOST:PORT" -> "https://HOST:PORT"; a wildcard
 * host (0.0.0.0, [::], empty) becomes the loopback address of its family.
 * Return: 0 with *ret (malloc'd), -EINVAL (not HOST:PORT with a port 1..65535), -ENOMEM.
 */
int cli_node_url_from_listen(const char *listen, char **ret);

/*
 * cli_node_listen_from_url(): "https://HOST:PORT[/]" -> "HOST:PORT" (the port
 * defaults to 443). Return: 0 with *ret (malloc'd), -EINVAL, -ENOMEM.
 */
int cli_node_listen_from_url(const char *url, char **ret);

/*
 * cli_health_parse(): the /health answer {"status":"ok","adapters":N,...}.
 * Return: 0 with *ret_adapters, 1 with it for "status":"unavailable", -EINVAL (not that shape).
 */
int cli_health_parse(const char *body, size_t size, unsigned *ret_adapters);

/*
 * cli_node_health(): ask /health at `url`, trusting STATE/pki/ca.crt (when
 * it does not exist yet, only whether anything answers is found out, and an
 * answer counts as CLI_NODE_E_FOREIGN). *ret_error as elsewhere.
 * Return: 0 with *ret_adapters, CLI_NODE_E_DOWN, CLI_NODE_E_FOREIGN, CLI_NODE_E_UNHEALTHY, -errno.
 */
int cli_node_health(const char *url, const char *state_dir, unsigned timeout_ms, unsigned *ret_adapters,
                    char **ret_error);

#define CLI_NODE_STATE_FILE "node.json"
/* After a taken default port, this many ports above it are tried before the kernel picks one. */
#define CLI_PORT_TRIES 20

typedef struct CliNodeState {
        char *url;      /* "https://HOST:PORT" */
        char *adapters; /* "tcp://HOST:PORT" */
} CliNodeState;

/* cli_node_state_read(): STATE/node.json into *ret (release with cli_node_state_done()). Return: 0, -ENOENT,
 * -EINVAL (not that shape), -ENOMEM. */
int cli_node_state_read(const char *state_dir, CliNodeState *ret);
/* cli_node_state_write(): write it (atomically, mode 0600). Return: 0 or -errno. */
int cli_node_state_write(const char *state_dir, const char *url, const char *adapters);
void cli_node_state_remove(const char *state_dir);
void cli_node_state_done(CliNodeState *s);

/*
 * cli_node_url(): the node a command of `state_dir` talks to: `given`
 * (--url), else the state file's, else CLI_NODE_DEFAULT_URL. Return: a
 * malloc'd URL, or NULL when out of memory.
 */
char *cli_node_url(const char *state_dir, const char *given);

/*
 * cli_port_free(): whether TCP `port` on `host` (an IPv4 or bracketed IPv6
 * address, "localhost", or "" for any) can be bound now.
 * Return: 1 free, 0 in use, -errno (the address cannot be bound at all);
 * for port 0, the port the kernel would give instead of 1.
 */
int cli_port_free(const char *host, unsigned port);

/*
 * cli_port_pick(): a free port on `host`: the first of port+1 ..
 * port+CLI_PORT_TRIES that is free and not `avoid`, else one the kernel
 * picks. Free when asked: another program may take it before it is used.
 * Return: 0 with *ret, or -errno.
 */
int cli_port_pick(const char *host, unsigned port, unsigned avoid, unsigned *ret);

/* The environment's ports for `xbus up` and `xbus demo` (options win). */
#define CLI_ENV_PORT "XBUS_PORT"
#define CLI_ENV_ADAPTERS_PORT "XBUS_ADAPTERS_PORT"

/* What `xbus up` was told, before the node is located. */
typedef struct CliUpRequest {
        const char *state, *listen, *adapters, *config; /* options as given, or NULL */
        unsigned port, adapters_port;                   /* --port, --adapters-port; 0: not given */
        /* cli_up_resolve()'s answer: the state folder, and the addresses given (NULL: the defaults, movable) */
        const char *state_dir, *listen_given, *adapters_given;
        char *owned[3]; /* strings made here */
} CliUpRequest;

/*
 * cli_up_resolve(): what `u` asks for: a port (--port, else
 * XBUS_PORT) is the loopback address 127.0.0.1:PORT, given (likewise the
 * adapters'); a configuration (--config) gives the state folder and its
 * addresses unless options do (its addresses count as given unless they are
 * the defaults). A configuration that names its own certificates or keys is
 * refused: `xbus up` runs nodes on the demo PKI. Return: 0, -EINVAL with
 * *ret_error (a usage error), -ENOMEM.
 */
int cli_up_resolve(CliUpRequest *u, char **ret_error);
void cli_up_request_done(CliUpRequest *u);

/*
 * cli_split_endpoint(): "tcp://HOST:PORT" or "HOST:PORT" into its host
 * (malloc'd, brackets kept) and port. Return: 0, -EINVAL, -ENOMEM.
 */
int cli_split_endpoint(const char *s, char **ret_host, unsigned *ret_port);
