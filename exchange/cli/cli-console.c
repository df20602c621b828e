/* cli-console.c: `xbus console login`: mint a staff sign-in link for the web console */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <unistd.h>

#include "api/console-token.h"
#include "crypto/hash.h"
#include "cli/cli-audit.h"
#include "cli/cli-console.h"
#include "cli/cli-node.h"
#include "util/ini.h"
#include "util/macro.h"
#include "util/time-util.h"

typedef struct LoginArgs {
        const char *state, *key, *role, *actor, *url, *vkey, *valid, *jwk;
        bool no_vkey;
} LoginArgs;

/* The key file: --key, else STATE/console.key (made by the node at its first start). */
static int login_key(const LoginArgs *a, ConsoleKey *ret, char **ret_path)
{
        if (a->key)
                *ret_path = strdup(a->key);
        else if (asprintf(ret_path, "%s/console.key", a->state) < 0)
                *ret_path = NULL;
        if (!*ret_path)
                return -ENOMEM;
        return console_key_load(*ret_path, false, ret);
}

/*
 * The receipt key for the link: the public half of --jwk, else of
 * STATE/pki/signing.jwk when it exists, as base64url of {kty,crv,x,y}.
 * Return: 0 with *ret (malloc'd, or NULL: none), -errno.
 */
static int login_jwk(const LoginArgs *a, char **ret)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        _cleanup_(json_decrefp) json_t *j = NULL, *pub = NULL;

        *ret = NULL;
        if (a->jwk)
                path = strdup(a->jwk);
        else if (asprintf(&path, "%s/pki/signing.jwk", a->state) < 0)
                path = NULL;
        if (!path)
                return -ENOMEM;
        if (!a->jwk && access(path, F_OK) < 0)
                return 0;
        j = json_load_file(path, 0, NULL);
        pub = j ? json_pack("{s:O,s:O,s:O,s:O}", "kty", json_object_get(j, "kty"), "crv", json_object_get(j, "crv"),
                            "x", json_object_get(j, "x"), "y", json_object_get(j, "y"))
                : NULL;
        text = pub ? json_dumps(pub, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        if (!text)
                return -EINVAL;
        *ret = malloc(b64url_encoded_len(strlen(text)) + 1);
        if (!*ret)
                return -ENOMEM;
        b64url_encode(text, strlen(text), *ret);
        return 0;
}

static int cmd_login(const CliCommand *c, int argc, char **argv)
{
        LoginArgs a = { .state = CLI_NODE_DEFAULT_STATE, .url = CLI_NODE_DEFAULT_URL };
        _cleanup_free_ char *path = NULL, *vkey = NULL, *err = NULL, *jwk = NULL;
        char token[CONSOLE_TOKEN_MAX];
        uint64_t valid_ms = CLI_CONSOLE_DEFAULT_VALID_MS, now = now_usec(CLOCK_REALTIME);
        ConsoleLink l = {};
        ConsoleKey key;
        int r;

        r = cli_command_parse(c, &argc, &argv, NULL, &a);
        if (r != CLI_CONTINUE)
                return r;
        if (argc > 0)
                return cli_command_usage_error(c, "no operands expected");
        if (!a.role || console_role_from_name(a.role, &l.role) < 0 || l.role == CONSOLE_ROLE_CITIZEN)
                return cli_command_usage_error(c, "--role must be auditor or operator (citizens get their links "
                                                  "from the consent authority)");
        if (a.actor && !console_actor_valid(a.actor))
                return cli_command_usage_error(c, "--actor is 1..%d characters of A-Z a-z 0-9 . _ @ -",
                                               CONSOLE_ACTOR_MAX);
        if (a.valid && (ini_parse_duration(a.valid, &valid_ms) < 0 || valid_ms < 1000 || valid_ms > 3600 * 1000))
                return cli_command_usage_error(c, "--valid must be a duration from 1s to 1h");
        snprintf(l.actor, sizeof(l.actor), "%s", a.actor ? a.actor : "");
        r = login_key(&a, &key, &path);
        if (r < 0)
                return cli_command_failure(c, "cannot read the console key \"%s\": %s", path ? path : "?",
                                           r == -EPERM ? "group or others may access it" : strerror(-r));
        if (!a.no_vkey && !a.vkey) {
                r = cli_audit_vkey(a.state, NULL, &vkey, &err);
                if (r < 0)
                        return cli_command_failure(c, "%s (give --vkey, or --no-vkey)", err ? err : strerror(-r));
        }
        if (!a.no_vkey) {
                r = login_jwk(&a, &jwk);
                if (r < 0)
                        return cli_command_failure(c, "cannot read the receipt key (--jwk): %s", strerror(-r));
        }
        l.issued_usec = now;
        l.expires_usec = now + valid_ms * 1000;
        r = console_token_mint(&key, &l, true, token);
        explicit_bzero(&key, sizeof(key));
        if (r < 0)
                return cli_command_failure(c, "cannot sign the link: %s", strerror(-r));
        printf("%s/ui/#login=%s", a.url, token);
        if (a.vkey || vkey)
                printf("&vkey=%s", a.vkey ? a.vkey : vkey);
        if (jwk)
                printf("&jwk=%s", jwk);
        printf("\n");
        return EXIT_SUCCESS;
}

static const CliOption login_options[] = {
        CLI_STRING('r', "role", "ROLE", "auditor or operator (required)", LoginArgs, role),
        CLI_STRING('a', "actor", "NAME", "who signs in, for the node's operational log (a staff account name)",
                   LoginArgs, actor),
        CLI_STRING(0, "valid", "DURATION", "how long the link may be used (default 5min, at most 1h)", LoginArgs,
                   valid),
        CLI_STRING('s', "state", "DIR", "state folder of the node (default ./state)", LoginArgs, state),
        CLI_STRING('k', "key", "FILE", "the console key (default STATE/console.key)", LoginArgs, key),
        CLI_STRING('u', "url", "URL", "the node's address as the browser reaches it (default " CLI_NODE_DEFAULT_URL ")",
                   LoginArgs, url),
        CLI_STRING(0, "vkey", "VKEY", "the checkpoint verifier key the page pins (default: `xbus audit key`'s)",
                   LoginArgs, vkey),
        CLI_STRING(0, "jwk", "FILE", "the receipt key the page pins (default STATE/pki/signing.jwk, if any)", LoginArgs,
                   jwk),
        CLI_FLAG(0, "no-vkey", "put no keys in the link", LoginArgs, no_vkey),
        {},
};

static const CliCommand login_command = {
        .name = "xbus console login",
        .summary = "print a single-use sign-in link for the auditor or the operator",
        .description = "Print a sign-in link for the web console (docs/console.md): it works once, within --valid,\n"
                       "and only if the node was running when it was made. Open it in a browser; the page trades it\n"
                       "for a session cookie. The link carries the checkpoint verifier key the page pins, so that\n"
                       "what the page verifies does not rest on what the node's server says.\n",
        .options = login_options,
        .epilogue = "Example:\n"
                    "  xbus console login --role auditor --actor nguyen.an --state /var/lib/xbus \\\n"
                    "      --url https://xbus.example.gov.vn:8443\n",
        .run = cmd_login,
};

static void console_help(void)
{
        printf("Usage: xbus console login [OPTIONS]\n\nThe web console's sign-in links (docs/console.md).\n\n"
               "Commands:\n");
        cli_command_list((const CliCommand *const[]){ &login_command }, 1);
}

static int console_run(const CliCommand *c, int argc, char **argv)
{
        if (argc < 2)
                return cli_command_usage_error(c, "which command?");
        if (streq(argv[1], "-h") || streq(argv[1], "--help") || streq(argv[1], "help")) {
                console_help();
                return EXIT_SUCCESS;
        }
        if (!streq(argv[1], "login"))
                return cli_command_usage_error(c, "no command \"%s\"", argv[1]);
        return cli_command_run(&login_command, argc - 1, argv + 1);
}

const CliCommand cli_console_command = {
        .name = "xbus console",
        .summary = "sign-in links for the web console (auditors, operators)",
        .run = console_run,
        .help = console_help,
};
