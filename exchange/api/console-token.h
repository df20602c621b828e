/* console-token.h: the web console's sign-in links: roles, the console key, tokens signed with it
 *
 * A sign-in link is https://NODE/ui/#login=TOKEN. The token says who may
 * sign in (a role, and for staff an actor name for the operational log),
 * when it was issued and until when it may be used, and a random nonce that
 * makes it single-use (api/console-session.h remembers used nonces):
 *
 *   TOKEN   = base64url(PAYLOAD) "." base64url(HMAC-SHA256(console key, PAYLOAD))
 *   PAYLOAD = "xbus-console-link/1" SP ROLE SP ISSUED SP EXPIRES SP NONCE SP ACTOR
 *
 * ROLE is auditor, operator or citizen; ISSUED and EXPIRES are microseconds
 * since the epoch (decimal); NONCE is 32 lower-case hex digits; ACTOR is
 * 1..64 characters of [A-Za-z0-9._@-] ("-" when there is none). The format
 * is public so that an organisation's own sign-in service (an identity
 * provider in front of the node, docs/console.md) can mint links with the
 * key; a citizen's token binds no subject itself: the node keeps the
 * subject of a citizen link by its nonce, so no personal id, not even a
 * pseudonym, is ever in a URL.
 *
 * The console key is 32 random bytes kept as 64 hex digits in a file that
 * only the node's user may read ([console] key, default
 * STATE/console.key); whoever can read it can sign in.
 *
 * Pure functions; thread-safe.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_KEY_LEN 32
#define CONSOLE_NONCE_LEN 16
#define CONSOLE_ACTOR_MAX 64
/* the longest token (with its NUL) */
#define CONSOLE_TOKEN_MAX 320

typedef enum ConsoleRole {
        CONSOLE_ROLE_AUDITOR,
        CONSOLE_ROLE_OPERATOR,
        CONSOLE_ROLE_CITIZEN,
        _CONSOLE_ROLE_MAX,
} ConsoleRole;

/* console_role_name(): "auditor", "operator", "citizen" (static), or NULL out of range. */
const char *console_role_name(ConsoleRole r);
/* console_role_from_name(): the role named `s`. Return: 0, or -EINVAL. */
int console_role_from_name(const char *s, ConsoleRole *ret);

typedef struct ConsoleKey {
        uint8_t bytes[CONSOLE_KEY_LEN];
} ConsoleKey;

/*
 * console_key_load(): the key in `path` (64 hex digits, a newline allowed);
 * with `create`, a missing file is made first (32 random bytes, mode 0600,
 * never replacing one that appears meanwhile). A file that group or others
 * may access is refused, like every private key of the node.
 * Return: 0, -EPERM (accessible to others), -EINVAL (not such a key),
 * -ENOENT (missing, without `create`), -errno.
 */
int console_key_load(const char *path, bool create, ConsoleKey *ret);

/* What a link token carries. */
typedef struct ConsoleLink {
        ConsoleRole role;
        uint64_t issued_usec, expires_usec; /* CLOCK_REALTIME */
        uint8_t nonce[CONSOLE_NONCE_LEN];
        char actor[CONSOLE_ACTOR_MAX + 1]; /* "" when none */
} ConsoleLink;

/* console_actor_valid(): 1..CONSOLE_ACTOR_MAX characters of [A-Za-z0-9._@-]. */
bool console_actor_valid(const char *s);

/*
 * console_token_mint(): the token for `l` (a fresh random nonce is written
 * into l->nonce first when `fresh_nonce`), into `out`.
 * Return: 0, -EINVAL (an actor not valid, expires not after issued), -EIO (no randomness).
 */
int console_token_mint(const ConsoleKey *key, ConsoleLink *l, bool fresh_nonce, char out[CONSOLE_TOKEN_MAX]);

/*
 * console_token_parse(): check the token's form and its MAC (in constant
 * time) and read what it carries into *ret. Times are not checked here.
 * Return: 0, or -EINVAL (malformed, or not signed with `key`).
 */
int console_token_parse(const ConsoleKey *key, const char *token, ConsoleLink *ret);
