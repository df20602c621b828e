/* checkpoint.c: signed tree heads as C2SP tlog-checkpoints in C2SP signed notes */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "crypto/openssl-util.h"
#include "crypto/hash.h"
#include "crypto/keyfile.h"
#include "log/checkpoint.h"
#include "util/macro.h"
#include "util/parse.h"
#include "util/utf8.h"

#define ALG_ED25519 0x01
#define KEY_HASH_LEN 4
/* "— ": U+2014 and a space */
#define SIG_PREFIX "\xe2\x80\x94 "
#define SIG_PREFIX_LEN 4
/* base64 of 0x01 || public key: 33 bytes */
#define VKEY_KEY_B64_LEN 44
#define VKEY_MAX (CHECKPOINT_NAME_MAX + 1 + 8 + 1 + VKEY_KEY_B64_LEN)
/* base64 of a 32-byte hash */
#define ROOT_B64_LEN 44

struct CheckpointSigner {
        char *name;
        uint32_t key_hash;
        uint8_t pub[CHECKPOINT_ED25519_PUBLIC_LEN];
        EVP_PKEY *pkey; /* private; read-only after creation */
};

struct CheckpointVerifier {
        char *name;
        uint32_t key_hash;
        uint8_t pub[CHECKPOINT_ED25519_PUBLIC_LEN];
        EVP_PKEY *pkey; /* public; read-only after creation */
};

const char *checkpoint_strerror(int code)
{
        static const char *const table[_CHECKPOINT_E_MAX] = {
                [CHECKPOINT_E_FORMAT] = "malformed checkpoint note",
                [CHECKPOINT_E_LIMIT] = "checkpoint note exceeds a size limit",
                [CHECKPOINT_E_UNSIGNED] = "no signature by the expected key",
                [CHECKPOINT_E_SIGNATURE] = "invalid signature by the expected key",
                [CHECKPOINT_E_ORIGIN] = "unexpected origin",
                [CHECKPOINT_E_KEY] = "malformed key name or verifier key",
        };

        if (code > 0 && code < _CHECKPOINT_E_MAX)
                return table[code];
        return "unknown";
}

/* ------------------------------------------------------------------------ */
/* Text */

static bool is_control(uint32_t cp)
{
        return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/* Unicode White_Space */
static bool is_space(uint32_t cp)
{
        return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
               (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
               cp == 0x3000;
}

/* Valid UTF-8 with no control characters (except newlines, if allowed). */
static bool text_valid(const char *s, size_t n, bool newlines)
{
        for (size_t i = 0, l; i < n; i += l) {
                uint32_t cp;

                l = utf8_decode(s + i, n - i, &cp);
                if (l == 0 || (is_control(cp) && !(newlines && cp == '\n')))
                        return false;
        }
        return true;
}

static bool name_valid_n(const char *s, size_t n)
{
        if (n == 0 || n > CHECKPOINT_NAME_MAX)
                return false;
        for (size_t i = 0, l; i < n; i += l) {
                uint32_t cp;

                l = utf8_decode(s + i, n - i, &cp);
                if (l == 0 || is_control(cp) || is_space(cp) || cp == '+')
                        return false;
        }
        return true;
}

bool checkpoint_name_valid(const char *name)
{
        return name && name_valid_n(name, strnlen(name, CHECKPOINT_NAME_MAX + 1));
}

/* ------------------------------------------------------------------------ */
/* Keys */

/* First 4 bytes (big-endian) of SHA-256(name || "\n" || 0x01 || public key). */
static int key_hash(const char *name, const uint8_t pub[CHECKPOINT_ED25519_PUBLIC_LEN], uint32_t *ret)
{
        uint8_t buf[CHECKPOINT_NAME_MAX + 2 + CHECKPOINT_ED25519_PUBLIC_LEN], md[32];
        size_t n = strlen(name);

        if (n > CHECKPOINT_NAME_MAX)
                return -EINVAL;
        memcpy(buf, name, n);
        buf[n++] = '\n';
        buf[n++] = ALG_ED25519;
        memcpy(buf + n, pub, CHECKPOINT_ED25519_PUBLIC_LEN);
        n += CHECKPOINT_ED25519_PUBLIC_LEN;
        if (!EVP_Digest(buf, n, md, NULL, EVP_sha256(), NULL)) {
                ERR_clear_error();
                return -ENOMEM;
        }
        *ret = (uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 | (uint32_t)md[2] << 8 | md[3];
        return 0;
}

static int ed25519_sign(EVP_PKEY *pkey, const void *msg, size_t n, uint8_t sig[CHECKPOINT_ED25519_SIG_LEN])
{
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        size_t len = CHECKPOINT_ED25519_SIG_LEN;

        if (!ctx)
                return -ENOMEM;
        if (EVP_DigestSignInit_ex(ctx, NULL, NULL, NULL, NULL, pkey, NULL) != 1 ||
            EVP_DigestSign(ctx, sig, &len, msg, n) != 1 || len != CHECKPOINT_ED25519_SIG_LEN) {
                ERR_clear_error();
                return -EIO;
        }
        return 0;
}

/* Return: 1 valid, 0 not, -ENOMEM. */
static int ed25519_verify(EVP_PKEY *pkey, const void *msg, size_t n, const uint8_t *sig, size_t sig_len)
{
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
        int r;

        if (sig_len != CHECKPOINT_ED25519_SIG_LEN)
                return 0;
        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return -ENOMEM;
        if (EVP_DigestVerifyInit_ex(ctx, NULL, NULL, NULL, NULL, pkey, NULL) != 1) {
                ERR_clear_error();
                return -ENOMEM;
        }
        r = EVP_DigestVerify(ctx, sig, sig_len, msg, n);
        ERR_clear_error();
        return r == 1;
}

static int raw_public(EVP_PKEY *pkey, uint8_t pub[CHECKPOINT_ED25519_PUBLIC_LEN])
{
        size_t len = CHECKPOINT_ED25519_PUBLIC_LEN;

        if (!EVP_PKEY_is_a(pkey, "ED25519") || EVP_PKEY_get_raw_public_key(pkey, pub, &len) != 1 ||
            len != CHECKPOINT_ED25519_PUBLIC_LEN) {
                ERR_clear_error();
                return -EINVAL;
        }
        return 0;
}

CheckpointSigner *checkpoint_signer_free(CheckpointSigner *s)
{
        if (!s)
                return NULL;
        EVP_PKEY_free(s->pkey);
        free(s->name);
        free(s);
        return NULL;
}

CheckpointVerifier *checkpoint_verifier_free(CheckpointVerifier *v)
{
        if (!v)
                return NULL;
        EVP_PKEY_free(v->pkey);
        free(v->name);
        free(v);
        return NULL;
}

int checkpoint_signer_new(CheckpointSigner **ret, const char *name, EVP_PKEY *pkey)
{
        static const char probe[] = "xbus checkpoint signer self-test\n";
        _cleanup_(checkpoint_signer_freep) CheckpointSigner *s = NULL;
        uint8_t sig[CHECKPOINT_ED25519_SIG_LEN];
        int r;

        if (!checkpoint_name_valid(name))
                return CHECKPOINT_E_KEY;
        if (!pkey)
                return -EINVAL;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->name = strdup(name);
        if (!s->name)
                return -ENOMEM;
        r = raw_public(pkey, s->pub);
        if (r < 0)
                return r;
        if (!EVP_PKEY_up_ref(pkey))
                return -ENOMEM;
        s->pkey = pkey;

        /* a public key alone cannot sign: find out now, not at the first checkpoint */
        r = ed25519_sign(s->pkey, probe, sizeof(probe) - 1, sig);
        if (r < 0)
                return -EINVAL;
        r = ed25519_verify(s->pkey, probe, sizeof(probe) - 1, sig, sizeof(sig));
        if (r < 0)
                return r;
        if (r == 0)
                return -EINVAL;

        r = key_hash(s->name, s->pub, &s->key_hash);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

const char *checkpoint_signer_name(const CheckpointSigner *s)
{
        return s->name;
}

int checkpoint_verifier_new(CheckpointVerifier **ret, const char *name,
                            const uint8_t pubkey[CHECKPOINT_ED25519_PUBLIC_LEN])
{
        _cleanup_(checkpoint_verifier_freep) CheckpointVerifier *v = NULL;
        int r;

        if (!checkpoint_name_valid(name))
                return CHECKPOINT_E_KEY;

        v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        v->name = strdup(name);
        if (!v->name)
                return -ENOMEM;
        memcpy(v->pub, pubkey, CHECKPOINT_ED25519_PUBLIC_LEN);
        v->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, v->pub, CHECKPOINT_ED25519_PUBLIC_LEN);
        if (!v->pkey) {
                ERR_clear_error();
                return -EINVAL;
        }
        r = key_hash(v->name, v->pub, &v->key_hash);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        return 0;
}

int checkpoint_signer_verifier(const CheckpointSigner *s, CheckpointVerifier **ret)
{
        return checkpoint_verifier_new(ret, s->name, s->pub);
}

const char *checkpoint_verifier_name(const CheckpointVerifier *v)
{
        return v->name;
}

uint32_t checkpoint_verifier_key_hash(const CheckpointVerifier *v)
{
        return v->key_hash;
}

int checkpoint_verifier_vkey(const CheckpointVerifier *v, char **ret)
{
        uint8_t raw[1 + CHECKPOINT_ED25519_PUBLIC_LEN];
        char b64[VKEY_KEY_B64_LEN + 1];
        char *s;

        raw[0] = ALG_ED25519;
        memcpy(raw + 1, v->pub, CHECKPOINT_ED25519_PUBLIC_LEN);
        b64_encode(raw, sizeof(raw), b64);
        if (asprintf(&s, "%s+%08" PRIx32 "+%s", v->name, v->key_hash, b64) < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int checkpoint_verifier_from_vkey(CheckpointVerifier **ret, const char *vkey)
{
        _cleanup_(checkpoint_verifier_freep) CheckpointVerifier *v = NULL;
        char name[CHECKPOINT_NAME_MAX + 1];
        uint8_t raw[1 + CHECKPOINT_ED25519_PUBLIC_LEN];
        const char *plus, *hash, *key;
        uint8_t want_be[4];
        uint32_t want;
        size_t len;
        int r;

        if (!vkey)
                return CHECKPOINT_E_KEY;
        len = strnlen(vkey, VKEY_MAX + 1);
        if (len > VKEY_MAX)
                return CHECKPOINT_E_KEY;

        /* <name>+<8 hex>+<base64>; the name holds no '+', the base64 may */
        plus = memchr(vkey, '+', len);
        if (!plus || (size_t)(plus - vkey) > CHECKPOINT_NAME_MAX)
                return CHECKPOINT_E_KEY;
        memcpy(name, vkey, (size_t)(plus - vkey));
        name[plus - vkey] = 0;
        hash = plus + 1;
        if ((size_t)(hash - vkey) + 9 > len || hash[8] != '+')
                return CHECKPOINT_E_KEY;
        if (hex_decode(hash, want_be, sizeof(want_be)) < 0)
                return CHECKPOINT_E_KEY;
        want = (uint32_t)want_be[0] << 24 | (uint32_t)want_be[1] << 16 | (uint32_t)want_be[2] << 8 | want_be[3];
        key = hash + 9;
        if (b64_decode(key, len - (size_t)(key - vkey), raw, sizeof(raw)) != (ssize_t)sizeof(raw) ||
            raw[0] != ALG_ED25519)
                return CHECKPOINT_E_KEY;

        r = checkpoint_verifier_new(&v, name, raw + 1);
        if (r != 0)
                return r == -EINVAL ? CHECKPOINT_E_KEY : r;
        if (v->key_hash != want)
                return CHECKPOINT_E_KEY;
        *ret = TAKE_PTR(v);
        return 0;
}

/* Read a PEM file into an Ed25519 key; `private` files must not be readable by group or others. */
static int load_pem(const char *path, bool private, EVP_PKEY **ret)
{
        EVP_PKEY *pkey = NULL;
        int r;

        r = keyfile_pem_load(path, private, &pkey);
        if (r < 0)
                return r;
        if (!EVP_PKEY_is_a(pkey, "ED25519")) {
                EVP_PKEY_free(pkey);
                return -EINVAL;
        }
        *ret = pkey;
        return 0;
}

int checkpoint_signer_load(CheckpointSigner **ret, const char *name, const char *key_path, const char *pub_path)
{
        _cleanup_(checkpoint_signer_freep) CheckpointSigner *s = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *priv = NULL, *pub = NULL;
        uint8_t raw[CHECKPOINT_ED25519_PUBLIC_LEN];
        int r;

        if (!checkpoint_name_valid(name))
                return CHECKPOINT_E_KEY;
        r = load_pem(key_path, true, &priv);
        if (r < 0)
                return r;
        r = checkpoint_signer_new(&s, name, priv);
        if (r != 0)
                return r;
        if (pub_path) {
                r = load_pem(pub_path, false, &pub);
                if (r < 0)
                        return r;
                r = raw_public(pub, raw);
                if (r < 0)
                        return r;
                if (memcmp(raw, s->pub, sizeof(raw)) != 0)
                        return -EKEYREJECTED;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

int checkpoint_verifier_load(CheckpointVerifier **ret, const char *name, const char *pub_path)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pub = NULL;
        uint8_t raw[CHECKPOINT_ED25519_PUBLIC_LEN];
        int r;

        if (!checkpoint_name_valid(name))
                return CHECKPOINT_E_KEY;
        r = load_pem(pub_path, false, &pub);
        if (r < 0)
                return r;
        r = raw_public(pub, raw);
        if (r < 0)
                return r;
        return checkpoint_verifier_new(ret, name, raw);
}

/* ------------------------------------------------------------------------ */
/* Writing */

int checkpoint_format(const char *origin, uint64_t size, const uint8_t root[MERKLE_HASH_LEN],
                      const char *const *extensions, size_t n_extensions, char **ret)
{
        char root64[ROOT_B64_LEN + 1];
        size_t total, o;
        char *s;
        int n;

        if (!checkpoint_name_valid(origin))
                return CHECKPOINT_E_KEY;
        if (n_extensions > CHECKPOINT_EXTENSIONS_MAX)
                return CHECKPOINT_E_LIMIT;
        if (n_extensions > 0 && !extensions)
                return -EINVAL;

        b64_encode(root, MERKLE_HASH_LEN, root64);
        total = strlen(origin) + 1 + 20 + 1 + ROOT_B64_LEN + 1 + 1;
        for (size_t i = 0; i < n_extensions; i++) {
                size_t l;

                if (!extensions[i])
                        return -EINVAL;
                l = strnlen(extensions[i], CHECKPOINT_LINE_MAX + 1);
                if (l > CHECKPOINT_LINE_MAX)
                        return CHECKPOINT_E_LIMIT;
                if (l == 0 || !text_valid(extensions[i], l, false))
                        return CHECKPOINT_E_FORMAT;
                total += l + 1;
        }
        if (total > CHECKPOINT_NOTE_MAX)
                return CHECKPOINT_E_LIMIT;

        s = malloc(total);
        if (!s)
                return -ENOMEM;
        n = snprintf(s, total, "%s\n%" PRIu64 "\n%s\n", origin, size, root64);
        if (n < 0 || (size_t)n >= total) {
                free(s);
                return -EINVAL;
        }
        o = (size_t)n;
        for (size_t i = 0; i < n_extensions; i++) {
                size_t l = strlen(extensions[i]);

                memcpy(s + o, extensions[i], l);
                o += l;
                s[o++] = '\n';
        }
        s[o] = 0;
        *ret = s;
        return 0;
}

int checkpoint_sign(const CheckpointSigner *s, const char *origin, uint64_t size, const uint8_t root[MERKLE_HASH_LEN],
                    const char *const *extensions, size_t n_extensions, char **ret)
{
        _cleanup_free_ char *text = NULL;
        uint8_t blob[KEY_HASH_LEN + CHECKPOINT_ED25519_SIG_LEN];
        char blob64[b64_encoded_len(sizeof(blob)) + 1];
        size_t text_len, total;
        char *note;
        int r;

        r = checkpoint_format(origin, size, root, extensions, n_extensions, &text);
        if (r != 0)
                return r;
        text_len = strlen(text);

        blob[0] = (uint8_t)(s->key_hash >> 24);
        blob[1] = (uint8_t)(s->key_hash >> 16);
        blob[2] = (uint8_t)(s->key_hash >> 8);
        blob[3] = (uint8_t)s->key_hash;
        r = ed25519_sign(s->pkey, text, text_len, blob + KEY_HASH_LEN);
        if (r < 0)
                return r;
        b64_encode(blob, sizeof(blob), blob64);

        total = text_len + 1 + SIG_PREFIX_LEN + strlen(s->name) + 1 + strlen(blob64) + 1;
        if (total > CHECKPOINT_NOTE_MAX)
                return CHECKPOINT_E_LIMIT;
        note = malloc(total + 1);
        if (!note)
                return -ENOMEM;
        snprintf(note, total + 1, "%s\n" SIG_PREFIX "%s %s\n", text, s->name, blob64);
        *ret = note;
        return 0;
}

/* ------------------------------------------------------------------------ */
/* Reading */

static void signatures_free(CheckpointSignature *sigs, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(sigs[i].key_name);
                free(sigs[i].sig);
        }
        free(sigs);
}

Checkpoint *checkpoint_free(Checkpoint *c)
{
        if (!c)
                return NULL;
        free(c->origin);
        for (size_t i = 0; i < c->n_extensions; i++)
                free(c->extensions[i]);
        free(c->extensions);
        free(c->text);
        signatures_free(c->signatures, c->n_signatures);
        free(c);
        return NULL;
}

/* "— <name> <base64>" (without its newline) */
static int signature_line_parse(const char *line, size_t len, CheckpointSignature *ret)
{
        uint8_t blob[CHECKPOINT_LINE_MAX];
        const char *name, *sp, *b64;
        ssize_t n;

        if (len < SIG_PREFIX_LEN || memcmp(line, SIG_PREFIX, SIG_PREFIX_LEN) != 0)
                return CHECKPOINT_E_FORMAT;
        name = line + SIG_PREFIX_LEN;
        sp = memchr(name, ' ', len - SIG_PREFIX_LEN);
        if (!sp || !name_valid_n(name, (size_t)(sp - name)))
                return CHECKPOINT_E_FORMAT;
        b64 = sp + 1;
        n = b64_decode(b64, len - (size_t)(b64 - line), blob, sizeof(blob));
        if (n < KEY_HASH_LEN + 1)
                return CHECKPOINT_E_FORMAT;

        ret->key_name = strndup(name, (size_t)(sp - name));
        ret->sig_len = (size_t)n - KEY_HASH_LEN;
        ret->sig = malloc(ret->sig_len);
        if (!ret->key_name || !ret->sig) {
                free(ret->key_name);
                free(ret->sig);
                return -ENOMEM;
        }
        ret->key_hash = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 | blob[3];
        memcpy(ret->sig, blob + KEY_HASH_LEN, ret->sig_len);
        return 0;
}

/*
 * Split a signed note into its text (up to and including the newline before
 * the last blank line) and its signature lines, checking the whole note.
 */
static int note_split(const char *note, size_t size, size_t *ret_text_len, CheckpointSignature **ret_sigs,
                      size_t *ret_n_sigs)
{
        CheckpointSignature *sigs = NULL;
        size_t n = 0, text_len = 0, p;
        bool found = false;
        int r;

        if (size > CHECKPOINT_NOTE_MAX)
                return CHECKPOINT_E_LIMIT;
        if (!note || !text_valid(note, size, true))
                return CHECKPOINT_E_FORMAT;

        for (size_t i = size; i >= 2; i--)
                if (note[i - 2] == '\n' && note[i - 1] == '\n') {
                        text_len = i - 1;
                        found = true;
                        break;
                }
        if (!found)
                return CHECKPOINT_E_FORMAT;

        p = text_len + 1;
        if (p >= size || note[size - 1] != '\n')
                return CHECKPOINT_E_FORMAT; /* no signature lines, or the last one unterminated */

        sigs = calloc(CHECKPOINT_SIGNATURES_MAX, sizeof(*sigs));
        if (!sigs)
                return -ENOMEM;
        while (p < size) {
                const char *nl = memchr(note + p, '\n', size - p);
                size_t len = (size_t)(nl - (note + p));

                if (len > CHECKPOINT_LINE_MAX) {
                        r = CHECKPOINT_E_LIMIT;
                        goto fail;
                }
                if (n >= CHECKPOINT_SIGNATURES_MAX) {
                        r = CHECKPOINT_E_LIMIT;
                        goto fail;
                }
                r = signature_line_parse(note + p, len, &sigs[n]);
                if (r != 0)
                        goto fail;
                n++;
                p += len + 1;
        }

        *ret_text_len = text_len;
        *ret_sigs = sigs;
        *ret_n_sigs = n;
        return 0;

fail:
        signatures_free(sigs, n);
        return r;
}

/* The size line (s, n bytes, followed by a newline): canonical decimal, as parse_u64() wants it. */
static int size_parse(const char *s, size_t n, uint64_t *ret)
{
        const char *p = s;

        if ((n > 1 && s[0] == '0') || parse_digits(&p, ret) != (int)n)
                return CHECKPOINT_E_FORMAT;
        return 0;
}

/* The note text: origin, size, root, extension lines; each non-empty and newline-terminated. */
static int body_parse(Checkpoint *c)
{
        const char *t = c->text;
        size_t p = 0, line = 0;

        while (p < c->text_len) {
                const char *nl = memchr(t + p, '\n', c->text_len - p);
                size_t len;

                if (!nl)
                        return CHECKPOINT_E_FORMAT; /* cannot happen: the text ends with a newline */
                len = (size_t)(nl - (t + p));
                if (len == 0)
                        return CHECKPOINT_E_FORMAT;
                if (len > CHECKPOINT_LINE_MAX)
                        return CHECKPOINT_E_LIMIT;

                if (line == 0) {
                        if (len > CHECKPOINT_NAME_MAX)
                                return CHECKPOINT_E_LIMIT;
                        c->origin = strndup(t + p, len);
                        if (!c->origin)
                                return -ENOMEM;
                } else if (line == 1) {
                        if (size_parse(t + p, len, &c->size) != 0)
                                return CHECKPOINT_E_FORMAT;
                } else if (line == 2) {
                        if (len != ROOT_B64_LEN || b64_decode(t + p, len, c->root, sizeof(c->root)) != MERKLE_HASH_LEN)
                                return CHECKPOINT_E_FORMAT;
                } else {
                        char *e;

                        if (c->n_extensions >= CHECKPOINT_EXTENSIONS_MAX)
                                return CHECKPOINT_E_LIMIT;
                        if (!c->extensions) {
                                c->extensions = calloc(CHECKPOINT_EXTENSIONS_MAX, sizeof(char *));
                                if (!c->extensions)
                                        return -ENOMEM;
                        }
                        e = strndup(t + p, len);
                        if (!e)
                                return -ENOMEM;
                        c->extensions[c->n_extensions++] = e;
                }
                line++;
                p += len + 1;
        }
        return line >= 3 ? 0 : CHECKPOINT_E_FORMAT;
}

int checkpoint_parse(const char *note, size_t size, Checkpoint **ret)
{
        _cleanup_(checkpoint_freep) Checkpoint *c = NULL;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        r = note_split(note, size, &c->text_len, &c->signatures, &c->n_signatures);
        if (r != 0)
                return r;
        c->text = strndup(note, c->text_len);
        if (!c->text)
                return -ENOMEM;
        r = body_parse(c);
        if (r != 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

static int signatures_verify(const char *text, size_t text_len, const CheckpointSignature *sigs, size_t n,
                             const CheckpointVerifier *v)
{
        bool found = false;
        int r;

        for (size_t i = 0; i < n; i++) {
                /* lines by other keys (witnesses, rotated keys) are ignored */
                if (sigs[i].key_hash != v->key_hash || !streq(sigs[i].key_name, v->name))
                        continue;
                r = ed25519_verify(v->pkey, text, text_len, sigs[i].sig, sigs[i].sig_len);
                if (r < 0)
                        return r;
                if (r == 0)
                        return CHECKPOINT_E_SIGNATURE;
                found = true;
        }
        return found ? 0 : CHECKPOINT_E_UNSIGNED;
}

int checkpoint_verify(const Checkpoint *c, const CheckpointVerifier *v)
{
        return signatures_verify(c->text, c->text_len, c->signatures, c->n_signatures, v);
}

int checkpoint_open(const char *note, size_t size, const CheckpointVerifier *v, const char *origin, Checkpoint **ret)
{
        _cleanup_(checkpoint_freep) Checkpoint *c = NULL;
        int r;

        r = checkpoint_parse(note, size, &c);
        if (r != 0)
                return r;
        r = checkpoint_verify(c, v);
        if (r != 0)
                return r;
        if (origin && !streq(c->origin, origin))
                return CHECKPOINT_E_ORIGIN;
        *ret = TAKE_PTR(c);
        return 0;
}

int checkpoint_note_verify(const char *note, size_t size, const CheckpointVerifier *v, size_t *ret_text_len)
{
        CheckpointSignature *sigs = NULL;
        size_t n = 0, text_len = 0;
        int r;

        r = note_split(note, size, &text_len, &sigs, &n);
        if (r != 0)
                return r;
        r = signatures_verify(note, text_len, sigs, n, v);
        signatures_free(sigs, n);
        if (r != 0)
                return r;
        if (ret_text_len)
                *ret_text_len = text_len;
        return 0;
}
