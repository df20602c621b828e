/* console-token.c: sign-in link tokens (HMAC-SHA256 with the console key) and the key file */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "api/console-token.h"
#include "crypto/hash.h"
#include "crypto/keyfile.h"
#include "util/macro.h"
#include "util/parse.h"

#define PAYLOAD_TAG "xbus-console-link/1"
#define PAYLOAD_MAX 220
#define KEY_FILE_MAX 128

static const char *const role_names[_CONSOLE_ROLE_MAX] = {
        [CONSOLE_ROLE_AUDITOR] = "auditor",
        [CONSOLE_ROLE_OPERATOR] = "operator",
        [CONSOLE_ROLE_CITIZEN] = "citizen",
};

const char *console_role_name(ConsoleRole r)
{
        return r < _CONSOLE_ROLE_MAX ? role_names[r] : NULL;
}

int console_role_from_name(const char *s, ConsoleRole *ret)
{
        for (ConsoleRole r = 0; r < _CONSOLE_ROLE_MAX; r++)
                if (s && streq(s, role_names[r])) {
                        *ret = r;
                        return 0;
                }
        return -EINVAL;
}

/* A new key file at `path`: O_EXCL, so that a file made meanwhile (another start) is never replaced. */
static int key_create(const char *path)
{
        uint8_t raw[CONSOLE_KEY_LEN];
        char text[2 * CONSOLE_KEY_LEN + 2];
        _cleanup_close_ int fd = -1;
        ssize_t n;
        int r = 0;

        if (RAND_bytes(raw, sizeof(raw)) != 1)
                return -EIO;
        hex_encode(raw, sizeof(raw), text);
        text[2 * CONSOLE_KEY_LEN] = '\n';
        text[2 * CONSOLE_KEY_LEN + 1] = 0;
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0)
                r = errno == EEXIST ? 0 : -errno;
        else if ((n = write(fd, text, strlen(text))) < 0 || (size_t)n != strlen(text) || fsync(fd) < 0)
                r = -EIO;
        OPENSSL_cleanse(raw, sizeof(raw));
        OPENSSL_cleanse(text, sizeof(text));
        if (r < 0 && fd >= 0)
                (void)unlink(path);
        return r;
}

int console_key_load(const char *path, bool create, ConsoleKey *ret)
{
        char buf[KEY_FILE_MAX + 1];
        size_t n = 0;
        int r;

        r = keyfile_read(path, true, buf, KEY_FILE_MAX, &n);
        if (r == -ENOENT && create) {
                r = key_create(path);
                if (r < 0)
                        return r;
                r = keyfile_read(path, true, buf, KEY_FILE_MAX, &n);
        }
        if (r < 0)
                return r;
        buf[n] = 0;
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
                buf[--n] = 0;
        r = n == 2 * CONSOLE_KEY_LEN && hex_decode(buf, ret->bytes, CONSOLE_KEY_LEN) == 0 ? 0 : -EINVAL;
        OPENSSL_cleanse(buf, sizeof(buf));
        return r;
}

bool console_actor_valid(const char *s)
{
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > CONSOLE_ACTOR_MAX)
                return false;
        for (const char *p = s; *p; p++)
                if (!(ascii_isalpha(*p) || ascii_isdigit(*p) || strchr("._@-", *p)))
                        return false;
        return true;
}

static int mac(const ConsoleKey *key, const char *payload, size_t size, uint8_t out[32])
{
        size_t len = 0;

        if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key->bytes, CONSOLE_KEY_LEN, (const unsigned char *)payload,
                       size, out, 32, &len) ||
            len != 32)
                return -ENOMEM;
        return 0;
}

int console_token_mint(const ConsoleKey *key, ConsoleLink *l, bool fresh_nonce, char out[CONSOLE_TOKEN_MAX])
{
        char payload[PAYLOAD_MAX], nonce[2 * CONSOLE_NONCE_LEN + 1];
        uint8_t tag[32];
        size_t n;
        int len, r;

        if (!console_role_name(l->role) || (l->actor[0] && !console_actor_valid(l->actor)) ||
            l->expires_usec <= l->issued_usec)
                return -EINVAL;
        if (fresh_nonce && RAND_bytes(l->nonce, CONSOLE_NONCE_LEN) != 1)
                return -EIO;
        hex_encode(l->nonce, CONSOLE_NONCE_LEN, nonce);
        len = snprintf(payload, sizeof(payload), PAYLOAD_TAG " %s %" PRIu64 " %" PRIu64 " %s %s",
                       console_role_name(l->role), l->issued_usec, l->expires_usec, nonce,
                       l->actor[0] ? l->actor : "-");
        if (len < 0 || (size_t)len >= sizeof(payload))
                return -EINVAL;
        r = mac(key, payload, (size_t)len, tag);
        if (r < 0)
                return r;
        n = b64url_encode(payload, (size_t)len, out);
        out[n++] = '.';
        b64url_encode(tag, sizeof(tag), out + n);
        return 0;
}

/* The next space-separated word of `*p` into `out` (size bytes). Return: false when none or too long. */
static bool next_word(const char **p, char *out, size_t size)
{
        const char *sp = strchr(*p, ' ');
        size_t n = sp ? (size_t)(sp - *p) : strlen(*p);

        if (n == 0 || n >= size)
                return false;
        memcpy(out, *p, n);
        out[n] = 0;
        *p += n + (sp ? 1 : 0);
        return true;
}

/* The fields of a payload whose MAC was verified. */
static int payload_read(const char *payload, ConsoleLink *ret)
{
        char tag[32], role[16], issued[24], expires[24], nonce[2 * CONSOLE_NONCE_LEN + 1], actor[CONSOLE_ACTOR_MAX + 1];
        const char *p = payload;
        ConsoleLink l = {};

        if (!next_word(&p, tag, sizeof(tag)) || !streq(tag, PAYLOAD_TAG) || !next_word(&p, role, sizeof(role)) ||
            !next_word(&p, issued, sizeof(issued)) || !next_word(&p, expires, sizeof(expires)) ||
            !next_word(&p, nonce, sizeof(nonce)) || !next_word(&p, actor, sizeof(actor)) || *p)
                return -EINVAL;
        if (console_role_from_name(role, &l.role) < 0 || parse_u64(issued, 0, UINT64_MAX, &l.issued_usec) < 0 ||
            parse_u64(expires, 0, UINT64_MAX, &l.expires_usec) < 0 || strlen(nonce) != 2 * CONSOLE_NONCE_LEN ||
            hex_decode(nonce, l.nonce, CONSOLE_NONCE_LEN) < 0)
                return -EINVAL;
        if (!streq(actor, "-")) {
                if (!console_actor_valid(actor))
                        return -EINVAL;
                snprintf(l.actor, sizeof(l.actor), "%s", actor);
        }
        *ret = l;
        return 0;
}

int console_token_parse(const ConsoleKey *key, const char *token, ConsoleLink *ret)
{
        uint8_t payload[PAYLOAD_MAX + 1], tag[40], want[32];
        const char *dot;
        size_t len;
        long pn, tn;

        if (!token)
                return -EINVAL;
        len = strnlen(token, CONSOLE_TOKEN_MAX);
        dot = memchr(token, '.', len);
        if (len >= CONSOLE_TOKEN_MAX || !dot || b64url_encoded_len(PAYLOAD_MAX) < (size_t)(dot - token) ||
            strlen(dot + 1) != b64url_encoded_len(32))
                return -EINVAL;
        pn = b64url_decode(token, (size_t)(dot - token), payload);
        tn = b64url_decode(dot + 1, strlen(dot + 1), tag);
        if (pn <= 0 || pn > PAYLOAD_MAX || tn != 32 || memchr(payload, 0, (size_t)pn))
                return -EINVAL;
        payload[pn] = 0;
        if (mac(key, (const char *)payload, (size_t)pn, want) < 0 || CRYPTO_memcmp(want, tag, 32) != 0)
                return -EINVAL;
        return payload_read((const char *)payload, ret);
}
