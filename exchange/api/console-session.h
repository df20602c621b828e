/* console-session.h: the web console's sessions, used sign-in links and pending citizen links
 *
 * Everything here lives in the node's memory only:
 *
 * - Sessions: a random 32-byte id (the cookie, 64 hex digits) with its
 *   role, the staff actor or the citizen's subject pseudonym, a CSRF token
 *   (64 hex digits, sent back in a header on every call), and two
 *   deadlines: idle (since the last call) and absolute (since sign-in).
 *   At most CONSOLE_SESSIONS_MAX; a new sign-in beyond evicts the least
 *   recently used session.
 * - Used links: the nonce of every link that opened a session, kept until
 *   the link expires, so a link works once. Because this memory does not
 *   survive a restart, a link issued before the node started is refused.
 * - Citizen links: the consent authority asks the node for a citizen's link
 *   (api/console.h); the node keeps the subject's pseudonym under the link's
 *   nonce until it is used or expires, so the link itself names nobody.
 *
 * Times are CLOCK_REALTIME microseconds passed by the caller. Thread-safe
 * (one mutex; every operation is a bounded scan).
 */
#pragma once

#include <stdint.h>

#include "api/console-token.h"
#include "crypto/pseudonym.h"

#define CONSOLE_SESSIONS_MAX 256
#define CONSOLE_USED_LINKS_MAX 4096
#define CONSOLE_CITIZEN_LINKS_MAX 1024
#define CONSOLE_ID_HEX 64
/* the longest a link may be valid (expires - issued) */
#define CONSOLE_LINK_LIFETIME_MAX_USEC (60ULL * 60 * 1000000)

typedef struct ConsoleSessions ConsoleSessions;

/* A session as callers see it (a copy). */
typedef struct ConsoleSession {
        ConsoleRole role;
        char actor[CONSOLE_ACTOR_MAX + 1];          /* staff: who, for the operational log; "" otherwise */
        char pseudonym[PSEUDONYM_HEX_LEN + 1];      /* citizen: the subject's pseudonym; "" otherwise */
        char csrf[CONSOLE_ID_HEX + 1];              /* the token every call must carry */
        char handle[17];                            /* a short name of the session for logs (not the id) */
        uint64_t idle_deadline_usec, deadline_usec; /* as of this call */
} ConsoleSession;

/* Why a sign-in was refused (positive codes; negative ones are -errno). */
enum {
        CONSOLE_E_EXPIRED = 1, /* the link's time has passed, or it was issued before the node started */
        CONSOLE_E_USED,        /* the link was used already */
        CONSOLE_E_UNKNOWN,     /* a citizen link the node did not issue (or forgot: it expired) */
        CONSOLE_E_FULL,        /* too many links in use at once */
};

/*
 * console_sessions_new(): an empty store. Links issued before `started_usec`
 * are refused; sessions end `idle_usec` after their last call and
 * `absolute_usec` after sign-in, whichever is first.
 * Return: 0 with *ret (console_sessions_free()), -ENOMEM.
 */
int console_sessions_new(ConsoleSessions **ret, uint64_t started_usec, uint64_t idle_usec, uint64_t absolute_usec);
/* console_sessions_free(): forget everything. Return: NULL. */
ConsoleSessions *console_sessions_free(ConsoleSessions *s);

/*
 * console_sessions_citizen_link(): remember that the citizen link with
 * nonce `l->nonce` signs in the subject `pseudonym` (hex), until l->expires_usec.
 * Return: 0, -EINVAL, CONSOLE_E_FULL.
 */
int console_sessions_citizen_link(ConsoleSessions *s, const ConsoleLink *l, const char *pseudonym, uint64_t now_usec);

/*
 * console_sessions_open(): spend the link `l` (its MAC already checked) and
 * open a session: its id into ret_id, the session into *ret.
 * Return: 0, CONSOLE_E_EXPIRED, CONSOLE_E_USED, CONSOLE_E_UNKNOWN, CONSOLE_E_FULL, -EIO (no randomness).
 */
int console_sessions_open(ConsoleSessions *s, const ConsoleLink *l, uint64_t now_usec, char ret_id[CONSOLE_ID_HEX + 1],
                          ConsoleSession *ret);

/*
 * console_sessions_get(): the live session with id `id` (a cookie value),
 * which this call keeps alive (its idle deadline moves on).
 * Return: 0, -ENOENT (none, or it expired: then it is forgotten).
 */
int console_sessions_get(ConsoleSessions *s, const char *id, uint64_t now_usec, ConsoleSession *ret);

/* console_sessions_close(): end the session `id`. Return: 0, -ENOENT. */
int console_sessions_close(ConsoleSessions *s, const char *id);
