/* console-session.c: the console's sessions, used links and citizen links, in memory under one mutex */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "api/console-session.h"
#include "crypto/hash.h"
#include "util/macro.h"

typedef struct Slot {
        bool live;
        char id[CONSOLE_ID_HEX + 1];
        ConsoleSession s;
        uint64_t opened_usec, last_usec;
} Slot;

typedef struct Nonce {
        uint8_t nonce[CONSOLE_NONCE_LEN];
        uint64_t expires_usec; /* 0: a free place */
        char pseudonym[PSEUDONYM_HEX_LEN + 1];
} Nonce;

struct ConsoleSessions {
        pthread_mutex_t lock;
        uint64_t started_usec, idle_usec, absolute_usec;
        Slot sessions[CONSOLE_SESSIONS_MAX];
        Nonce used[CONSOLE_USED_LINKS_MAX];
        Nonce citizens[CONSOLE_CITIZEN_LINKS_MAX];
};

int console_sessions_new(ConsoleSessions **ret, uint64_t started_usec, uint64_t idle_usec, uint64_t absolute_usec)
{
        ConsoleSessions *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        pthread_mutex_init(&s->lock, NULL);
        s->started_usec = started_usec;
        s->idle_usec = idle_usec;
        s->absolute_usec = absolute_usec;
        *ret = s;
        return 0;
}

ConsoleSessions *console_sessions_free(ConsoleSessions *s)
{
        if (!s)
                return NULL;
        pthread_mutex_destroy(&s->lock);
        OPENSSL_cleanse(s, sizeof(*s));
        free(s);
        return NULL;
}

/* The place of `nonce` in `set` (n places), or -1. Expired places are freed on the way. */
static int nonce_find(Nonce *set, size_t n, const uint8_t nonce[CONSOLE_NONCE_LEN], uint64_t now_usec)
{
        int found = -1;

        for (size_t i = 0; i < n; i++) {
                if (set[i].expires_usec && set[i].expires_usec <= now_usec)
                        set[i] = (Nonce){};
                if (set[i].expires_usec && memcmp(set[i].nonce, nonce, CONSOLE_NONCE_LEN) == 0)
                        found = (int)i;
        }
        return found;
}

/* A free place in `set` (after nonce_find() freed the expired ones), or -1. */
static int nonce_free_place(const Nonce *set, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!set[i].expires_usec)
                        return (int)i;
        return -1;
}

int console_sessions_citizen_link(ConsoleSessions *s, const ConsoleLink *l, const char *pseudonym, uint64_t now_usec)
{
        int i, r = 0;

        if (l->role != CONSOLE_ROLE_CITIZEN || !pseudonym || strlen(pseudonym) != PSEUDONYM_HEX_LEN ||
            l->expires_usec <= now_usec)
                return -EINVAL;
        pthread_mutex_lock(&s->lock);
        if (nonce_find(s->citizens, CONSOLE_CITIZEN_LINKS_MAX, l->nonce, now_usec) >= 0)
                r = -EINVAL;
        else if ((i = nonce_free_place(s->citizens, CONSOLE_CITIZEN_LINKS_MAX)) < 0)
                r = CONSOLE_E_FULL;
        else {
                memcpy(s->citizens[i].nonce, l->nonce, CONSOLE_NONCE_LEN);
                s->citizens[i].expires_usec = l->expires_usec;
                memcpy(s->citizens[i].pseudonym, pseudonym, PSEUDONYM_HEX_LEN + 1);
        }
        pthread_mutex_unlock(&s->lock);
        return r;
}

static int random_hex(char out[CONSOLE_ID_HEX + 1])
{
        uint8_t raw[CONSOLE_ID_HEX / 2];

        if (RAND_bytes(raw, sizeof(raw)) != 1)
                return -EIO;
        hex_encode(raw, sizeof(raw), out);
        OPENSSL_cleanse(raw, sizeof(raw));
        return 0;
}

/* The place for a new session: a free one, else an expired one, else the least recently used. */
static Slot *slot_new(ConsoleSessions *s, uint64_t now_usec)
{
        Slot *lru = &s->sessions[0];

        for (size_t i = 0; i < CONSOLE_SESSIONS_MAX; i++) {
                Slot *t = &s->sessions[i];
                if (!t->live || t->s.idle_deadline_usec <= now_usec || t->s.deadline_usec <= now_usec)
                        return t;
                if (t->last_usec < lru->last_usec)
                        lru = t;
        }
        return lru;
}

/* Spend the link's nonce (under the lock). Return: 0, or a CONSOLE_E_* code. */
static int link_spend(ConsoleSessions *s, const ConsoleLink *l, uint64_t now_usec,
                      char pseudonym[PSEUDONYM_HEX_LEN + 1])
{
        int i, c = -1;

        if (l->issued_usec < s->started_usec || l->expires_usec <= now_usec ||
            l->expires_usec - l->issued_usec > CONSOLE_LINK_LIFETIME_MAX_USEC)
                return CONSOLE_E_EXPIRED;
        if (nonce_find(s->used, CONSOLE_USED_LINKS_MAX, l->nonce, now_usec) >= 0)
                return CONSOLE_E_USED;
        if (l->role == CONSOLE_ROLE_CITIZEN) {
                c = nonce_find(s->citizens, CONSOLE_CITIZEN_LINKS_MAX, l->nonce, now_usec);
                if (c < 0)
                        return CONSOLE_E_UNKNOWN;
        }
        i = nonce_free_place(s->used, CONSOLE_USED_LINKS_MAX);
        if (i < 0)
                return CONSOLE_E_FULL;
        memcpy(s->used[i].nonce, l->nonce, CONSOLE_NONCE_LEN);
        s->used[i].expires_usec = l->expires_usec;
        if (c >= 0) {
                memcpy(pseudonym, s->citizens[c].pseudonym, PSEUDONYM_HEX_LEN + 1);
                s->citizens[c] = (Nonce){};
        } else
                pseudonym[0] = 0;
        return 0;
}

int console_sessions_open(ConsoleSessions *s, const ConsoleLink *l, uint64_t now_usec, char ret_id[CONSOLE_ID_HEX + 1],
                          ConsoleSession *ret)
{
        char pseudonym[PSEUDONYM_HEX_LEN + 1];
        uint8_t digest[HASH_SHA256_LEN];
        Slot *t;
        int r;

        pthread_mutex_lock(&s->lock);
        r = link_spend(s, l, now_usec, pseudonym);
        if (r == 0) {
                t = slot_new(s, now_usec);
                *t = (Slot){ .live = true, .opened_usec = now_usec, .last_usec = now_usec };
                if (random_hex(t->id) < 0 || random_hex(t->s.csrf) < 0) {
                        *t = (Slot){};
                        r = -EIO;
                } else {
                        t->s.role = l->role;
                        memcpy(t->s.actor, l->actor, sizeof(t->s.actor));
                        memcpy(t->s.pseudonym, pseudonym, sizeof(t->s.pseudonym));
                        hash_sha256(t->id, CONSOLE_ID_HEX, digest);
                        hex_encode(digest, 8, t->s.handle);
                        t->s.deadline_usec = now_usec + s->absolute_usec;
                        t->s.idle_deadline_usec = MIN(now_usec + s->idle_usec, t->s.deadline_usec);
                        memcpy(ret_id, t->id, CONSOLE_ID_HEX + 1);
                        *ret = t->s;
                }
        }
        pthread_mutex_unlock(&s->lock);
        OPENSSL_cleanse(pseudonym, sizeof(pseudonym));
        return r;
}

/* The live slot of `id` (constant-time comparisons), or NULL. */
static Slot *slot_find(ConsoleSessions *s, const char *id)
{
        Slot *found = NULL;

        if (!id || strlen(id) != CONSOLE_ID_HEX)
                return NULL;
        for (size_t i = 0; i < CONSOLE_SESSIONS_MAX; i++)
                if (s->sessions[i].live && CRYPTO_memcmp(s->sessions[i].id, id, CONSOLE_ID_HEX) == 0)
                        found = &s->sessions[i];
        return found;
}

int console_sessions_get(ConsoleSessions *s, const char *id, uint64_t now_usec, ConsoleSession *ret)
{
        Slot *t;
        int r = -ENOENT;

        pthread_mutex_lock(&s->lock);
        t = slot_find(s, id);
        if (t && (t->s.idle_deadline_usec <= now_usec || t->s.deadline_usec <= now_usec))
                *t = (Slot){};
        else if (t) {
                t->last_usec = now_usec;
                t->s.idle_deadline_usec = MIN(now_usec + s->idle_usec, t->s.deadline_usec);
                *ret = t->s;
                r = 0;
        }
        pthread_mutex_unlock(&s->lock);
        return r;
}

int console_sessions_close(ConsoleSessions *s, const char *id)
{
        Slot *t;
        int r = -ENOENT;

        pthread_mutex_lock(&s->lock);
        t = slot_find(s, id);
        if (t) {
                OPENSSL_cleanse(t, sizeof(*t));
                *t = (Slot){};
                r = 0;
        }
        pthread_mutex_unlock(&s->lock);
        return r;
}
