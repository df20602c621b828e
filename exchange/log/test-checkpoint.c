/* test-checkpoint.c: signed checkpoints: round trip, tampering, strict parsing, keys, openssl cross-check */
#undef NDEBUG
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "log/checkpoint.h"
#include "util/macro.h"
#include "log/test-check.h"

#define NAME "xbus.test/log"

static char dir[] = "/tmp/test-checkpoint-XXXXXX";
static char key_path[256], pub_path[256], key2_path[256], pub2_path[256];
static const uint8_t root_a[MERKLE_HASH_LEN] = { 0x5d, 0xc9, 0xda, 0x79, 0xa7, 0x06, 0x59, 0xa9, 0xad, 0x55, 0x9c,
                                                 0xb7, 0x01, 0xde, 0xd9, 0xa2, 0xab, 0x9d, 0x82, 0x3a, 0xad, 0x2f,
                                                 0x49, 0x60, 0xcf, 0xe3, 0x70, 0xef, 0xf4, 0x60, 0x43, 0x28 };

static void write_file(const char *path, const void *data, size_t n, mode_t mode)
{
        FILE *f = fopen(path, "we");

        check(f);
        check(fwrite(data, 1, n, f) == n);
        check(fclose(f) == 0);
        check(chmod(path, mode) == 0);
}

static void write_key(EVP_PKEY *pkey, const char *priv_path, const char *public_path)
{
        FILE *f;

        f = fopen(priv_path, "we");
        check(f);
        check(PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) == 1);
        check(fclose(f) == 0);
        check(chmod(priv_path, 0600) == 0);
        f = fopen(public_path, "we");
        check(f);
        check(PEM_write_PUBKEY(f, pkey) == 1);
        check(fclose(f) == 0);
}

/* A copy of s with the first occurrence of `old` replaced by `new`. */
static char *replace(const char *s, const char *old, const char *new)
{
        const char *p = strstr(s, old);
        char *r;

        check(p);
        r = malloc(strlen(s) - strlen(old) + strlen(new) + 1);
        check(r);
        memcpy(r, s, (size_t)(p - s));
        strcpy(r + (p - s), new);
        strcat(r, p + strlen(old));
        return r;
}

static char *concat(const char *a, const char *b)
{
        char *r = malloc(strlen(a) + strlen(b) + 1);

        check(r);
        strcpy(r, a);
        strcat(r, b);
        return r;
}

static int parse_str(const char *note)
{
        Checkpoint *c = NULL;
        int r = checkpoint_parse(note, strlen(note), &c);

        check((r == 0) == (c != NULL));
        checkpoint_free(c);
        return r;
}

static int open_str(const char *note, const CheckpointVerifier *v)
{
        Checkpoint *c = NULL;
        int r = checkpoint_open(note, strlen(note), v, NULL, &c);

        check((r == 0) == (c != NULL));
        checkpoint_free(c);
        return r;
}

/* The signature line of a note signed by us ("— NAME <b64>\n"). */
static const char *sig_line(const char *note)
{
        const char *p = strstr(note, "\n\n");

        check(p);
        return p + 2;
}

static int b64_decode_std(const char *in, uint8_t *out)
{
        int n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)strlen(in));
        size_t len = strlen(in);

        check(n >= 0);
        if (len && in[len - 1] == '=')
                n--;
        if (len > 1 && in[len - 2] == '=')
                n--;
        return n;
}

static void b64_encode_std(const uint8_t *in, size_t n, char *out)
{
        EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

/* ------------------------------------------------------------------------ */

static void test_roundtrip(CheckpointSigner *s)
{
        static const char *const ext[] = { "time 2026-11-22T08:00:00Z", "xbus shard 1" };
        CheckpointVerifier *v = NULL, *v2 = NULL, *v3 = NULL;
        Checkpoint *c = NULL;
        char *note = NULL, *text = NULL, *vk = NULL, *vk2 = NULL;
        size_t text_len;

        check(streq(checkpoint_signer_name(s), NAME));
        check(checkpoint_sign(s, NAME, 12345, root_a, ext, 2, &note) == 0);
        check(checkpoint_format(NAME, 12345, root_a, ext, 2, &text) == 0);
        check(strncmp(note, text, strlen(text)) == 0);
        check(streq(text, NAME "\n12345\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
                               "time 2026-11-22T08:00:00Z\nxbus shard 1\n"));
        check(strncmp(sig_line(note), "\xe2\x80\x94 " NAME " ", strlen(NAME) + 5) == 0);

        check(checkpoint_parse(note, strlen(note), &c) == 0);
        check(streq(c->origin, NAME));
        check(c->size == 12345);
        check(memcmp(c->root, root_a, MERKLE_HASH_LEN) == 0);
        check(c->n_extensions == 2 && streq(c->extensions[0], ext[0]) && streq(c->extensions[1], ext[1]));
        check(c->text_len == strlen(text) && streq(c->text, text));
        check(c->n_signatures == 1 && streq(c->signatures[0].key_name, NAME));
        check(c->signatures[0].sig_len == CHECKPOINT_ED25519_SIG_LEN);

        /* three ways to the verifier, one vkey */
        check(checkpoint_signer_verifier(s, &v) == 0);
        check(checkpoint_verifier_load(&v2, NAME, pub_path) == 0);
        check(checkpoint_verifier_vkey(v, &vk) == 0);
        check(checkpoint_verifier_vkey(v2, &vk2) == 0);
        check(streq(vk, vk2));
        check(checkpoint_verifier_from_vkey(&v3, vk) == 0);
        check(checkpoint_verifier_key_hash(v3) == checkpoint_verifier_key_hash(v));
        check(c->signatures[0].key_hash == checkpoint_verifier_key_hash(v));
        check(streq(checkpoint_verifier_name(v3), NAME));
        check(checkpoint_verify(c, v) == 0);
        check(checkpoint_verify(c, v2) == 0);
        check(checkpoint_verify(c, v3) == 0);
        checkpoint_free(c);
        c = NULL;

        check(checkpoint_open(note, strlen(note), v3, NAME, &c) == 0);
        checkpoint_free(c);
        c = NULL;
        check(checkpoint_open(note, strlen(note), v3, "xbus.test/other", &c) == CHECKPOINT_E_ORIGIN && !c);
        check(checkpoint_note_verify(note, strlen(note), v3, &text_len) == 0 && text_len == strlen(text));
        free(note);
        free(text);

        /* the extremes of the size, no extension lines */
        check(checkpoint_sign(s, NAME, 0, root_a, NULL, 0, &note) == 0);
        check(checkpoint_open(note, strlen(note), v, NAME, &c) == 0);
        check(c->size == 0 && c->n_extensions == 0 && c->extensions == NULL);
        checkpoint_free(c);
        c = NULL;
        free(note);
        check(checkpoint_sign(s, NAME, UINT64_MAX, root_a, NULL, 0, &note) == 0);
        check(strstr(note, "\n18446744073709551615\n"));
        check(checkpoint_open(note, strlen(note), v, NAME, &c) == 0);
        check(c->size == UINT64_MAX);
        checkpoint_free(c);
        free(note);

        /* a non-ASCII origin other than the key name */
        check(checkpoint_sign(s, "xbus.gov.vn/nh\xe1\xba\xadt-k\xc3\xbd", 7, root_a, NULL, 0, &note) == 0);
        check(checkpoint_open(note, strlen(note), v, "xbus.gov.vn/nh\xe1\xba\xadt-k\xc3\xbd", &c) == 0);
        checkpoint_free(c);
        free(note);

        /* what we refuse to sign */
        check(checkpoint_sign(s, "bad origin", 1, root_a, NULL, 0, &note) == CHECKPOINT_E_KEY);
        check(checkpoint_sign(s, "", 1, root_a, NULL, 0, &note) == CHECKPOINT_E_KEY);
        {
                const char *bad1[] = { "" }, *bad2[] = { "a\nb" }, *bad3[] = { "tab\there" };
                const char *many[CHECKPOINT_EXTENSIONS_MAX + 1];

                check(checkpoint_sign(s, NAME, 1, root_a, bad1, 1, &note) == CHECKPOINT_E_FORMAT);
                check(checkpoint_sign(s, NAME, 1, root_a, bad2, 1, &note) == CHECKPOINT_E_FORMAT);
                check(checkpoint_sign(s, NAME, 1, root_a, bad3, 1, &note) == CHECKPOINT_E_FORMAT);
                for (size_t i = 0; i < ELEMENTSOF(many); i++)
                        many[i] = "x";
                check(checkpoint_sign(s, NAME, 1, root_a, many, ELEMENTSOF(many), &note) == CHECKPOINT_E_LIMIT);
                check(checkpoint_sign(s, NAME, 1, root_a, many, CHECKPOINT_EXTENSIONS_MAX, &note) == 0);
                check(open_str(note, v) == 0);
                free(note);
        }

        free(vk);
        free(vk2);
        checkpoint_verifier_free(v);
        checkpoint_verifier_free(v2);
        checkpoint_verifier_free(v3);
}

static void test_tamper(CheckpointSigner *s, CheckpointSigner *other_s)
{
        static const char *const ext[] = { "time 2026-11-22T08:00:00Z" };
        CheckpointVerifier *v = NULL, *other = NULL, *renamed = NULL;
        char *note = NULL, *note2 = NULL, *other_note = NULL, *t, *t2;
        uint8_t blob[128], pub[CHECKPOINT_ED25519_PUBLIC_LEN] = {};
        char line[512], b64[256];
        int n;

        check(checkpoint_signer_verifier(s, &v) == 0);
        check(checkpoint_signer_verifier(other_s, &other) == 0);
        check(checkpoint_sign(s, NAME, 12345, root_a, ext, 1, &note) == 0);
        check(checkpoint_sign(s, NAME, 12346, root_a, ext, 1, &note2) == 0);
        check(checkpoint_sign(other_s, "witness.example/w1", 12345, root_a, ext, 1, &other_note) == 0);
        check(open_str(note, v) == 0);

        /* the tree size */
        t = replace(note, "\n12345\n", "\n12346\n");
        check(parse_str(t) == 0 && open_str(t, v) == CHECKPOINT_E_SIGNATURE);
        free(t);
        /* the root (still valid base64) */
        t = replace(note, "\nXcna", "\nXcnb");
        check(parse_str(t) == 0 && open_str(t, v) == CHECKPOINT_E_SIGNATURE);
        free(t);
        /* the origin */
        t = replace(note, NAME "\n", "xbus.test/lug\n");
        check(parse_str(t) == 0 && open_str(t, v) == CHECKPOINT_E_SIGNATURE);
        free(t);
        /* an extension line added, removed, changed */
        t = replace(note, "Z\n\n", "Z\nextra\n\n");
        check(open_str(t, v) == CHECKPOINT_E_SIGNATURE);
        free(t);
        t = replace(note, "time 2026-11-22T08:00:00Z\n", "");
        check(parse_str(t) == 0 && open_str(t, v) == CHECKPOINT_E_SIGNATURE);
        free(t);
        t = replace(note, "08:00:00Z", "08:00:01Z");
        check(open_str(t, v) == CHECKPOINT_E_SIGNATURE);
        free(t);

        /* one byte of the signature, of the key hash */
        snprintf(b64, sizeof(b64), "%s", sig_line(note) + 4 + strlen(NAME) + 1);
        b64[strlen(b64) - 1] = 0; /* newline */
        n = b64_decode_std(b64, blob);
        check(n == 68);
        for (int i = 0; i < n; i += 7) {
                char mod[256];

                blob[i] ^= 0x20;
                b64_encode_std(blob, (size_t)n, mod);
                t = replace(note, b64, mod);
                check(parse_str(t) == 0);
                check(open_str(t, v) == (i < 4 ? CHECKPOINT_E_UNSIGNED : CHECKPOINT_E_SIGNATURE));
                free(t);
                blob[i] ^= 0x20;
        }
        /* a signature of the wrong length by our key: 63 bytes */
        {
                char mod[256];

                b64_encode_std(blob, 67, mod);
                t = replace(note, b64, mod);
                check(parse_str(t) == 0 && open_str(t, v) == CHECKPOINT_E_SIGNATURE);
                free(t);
        }

        /* the key name of the signature line */
        t = replace(note, "\xe2\x80\x94 " NAME " ", "\xe2\x80\x94 xbus.test/lug ");
        check(parse_str(t) == 0 && open_str(t, v) == CHECKPOINT_E_UNSIGNED);
        free(t);

        /* the signature line removed: not a signed note any more */
        t = strndup(note, (size_t)(sig_line(note) - note));
        check(parse_str(t) == CHECKPOINT_E_FORMAT && open_str(t, v) == CHECKPOINT_E_FORMAT);
        free(t);

        /* unknown signers are ignored, before or after ours */
        t = concat(note, sig_line(other_note));
        check(parse_str(t) == 0 && open_str(t, v) == 0);
        free(t);
        t = replace(note, sig_line(note), sig_line(other_note));
        t2 = concat(t, sig_line(note));
        check(open_str(t2, v) == 0);
        /* ... but a note signed only by them is not signed by us */
        check(open_str(t, v) == CHECKPOINT_E_UNSIGNED);
        check(open_str(t, other) == CHECKPOINT_E_SIGNATURE); /* the witness signed another text */
        free(t);
        free(t2);

        /* our key twice: both must verify */
        t = concat(note, sig_line(note));
        check(open_str(t, v) == 0);
        free(t);
        t = concat(note, sig_line(note2)); /* our signature over size 12346 */
        check(open_str(t, v) == CHECKPOINT_E_SIGNATURE);
        free(t);
        /* the signature of another checkpoint */
        t = replace(note, sig_line(note), sig_line(note2));
        check(open_str(t, v) == CHECKPOINT_E_SIGNATURE);
        free(t);

        /* the wrong verifier: another key under our name, our key under another name */
        check(checkpoint_verifier_new(&renamed, "xbus.test/other", pub) == 0);
        check(open_str(note, renamed) == CHECKPOINT_E_UNSIGNED);
        checkpoint_verifier_free(renamed);
        {
                char *vk = NULL;
                CheckpointVerifier *imposter = NULL;

                check(checkpoint_verifier_vkey(other, &vk) == 0);
                /* other's key under our name: a different key hash, so not our line */
                check(checkpoint_verifier_new(&imposter, NAME, pub) == 0);
                check(open_str(note, imposter) == CHECKPOINT_E_UNSIGNED);
                checkpoint_verifier_free(imposter);
                free(vk);
        }
        check(open_str(note, other) == CHECKPOINT_E_UNSIGNED);

        snprintf(line, sizeof(line), "%s", sig_line(note));
        checkpoint_verifier_free(v);
        checkpoint_verifier_free(other);
        free(note);
        free(note2);
        free(other_note);
}

static void test_strict(CheckpointSigner *s)
{
        static const char root64[] = "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=";
        char *note = NULL, *sig = NULL;
        char buf[8192];
        struct {
                const char *body;
                int want;
        } bodies[] = {
                { "o\n1\n%s\n", 0 },
                { "o\n0\n%s\n", 0 },
                { "o\n18446744073709551615\n%s\n", 0 },
                { "o\n18446744073709551616\n%s\n", CHECKPOINT_E_FORMAT },
                { "o\n99999999999999999999\n%s\n", CHECKPOINT_E_FORMAT },
                { "o\n01\n%s\n", CHECKPOINT_E_FORMAT },
                { "o\n00\n%s\n", CHECKPOINT_E_FORMAT },
                { "o\n+1\n%s\n", CHECKPOINT_E_FORMAT },
                { "o\n-1\n%s\n", CHECKPOINT_E_FORMAT },
                { "o\n1 \n%s\n", CHECKPOINT_E_FORMAT },
                { "o\n0x10\n%s\n", CHECKPOINT_E_FORMAT },
                { "o\n1\n%s\next\n", 0 },
                { "o\n1\n%s\n\next\n", CHECKPOINT_E_FORMAT }, /* empty line */
                { "o\n\n1\n%s\n", CHECKPOINT_E_FORMAT },
                { "\no\n1\n%s\n", CHECKPOINT_E_FORMAT },
                { "o\n1\n", CHECKPOINT_E_FORMAT }, /* two lines */
                { "o\n%s\n", CHECKPOINT_E_FORMAT },
                { "o\r\n1\r\n%s\r\n", CHECKPOINT_E_FORMAT },           /* CR */
                { "o\t\n1\n%s\n", CHECKPOINT_E_FORMAT },               /* tab */
                { "o\x7f\n1\n%s\n", CHECKPOINT_E_FORMAT },             /* DEL */
                { "o\xc2\x85\n1\n%s\n", CHECKPOINT_E_FORMAT },         /* U+0085, a C1 control */
                { "o\xff\n1\n%s\n", CHECKPOINT_E_FORMAT },             /* not UTF-8 */
                { "o\xc0\xaf\n1\n%s\n", CHECKPOINT_E_FORMAT },         /* overlong */
                { "o\xed\xa0\x80\n1\n%s\n", CHECKPOINT_E_FORMAT },     /* surrogate */
                { "o\xe2\x82\n1\n%s\n", CHECKPOINT_E_FORMAT },         /* truncated */
                { "o\xf4\x90\x80\x80\n1\n%s\n", CHECKPOINT_E_FORMAT }, /* beyond U+10FFFF */
                { "o o\n1\n%s\n", 0 },                                 /* origins may hold spaces */
                { "nh\xe1\xba\xadt-k\xc3\xbd\n1\n%s\n", 0 },
        };
        struct {
                const char *root;
                int want;
        } roots[] = {
                { "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", 0 },
                { "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyh=", CHECKPOINT_E_FORMAT }, /* unused bits */
                { "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg", CHECKPOINT_E_FORMAT },
                { "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg=", CHECKPOINT_E_FORMAT }, /* base64url */
                { "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQ===", CHECKPOINT_E_FORMAT },
                { "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg==", CHECKPOINT_E_FORMAT },
                { "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/Rg", CHECKPOINT_E_FORMAT },     /* 30 bytes */
                { "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQygA", CHECKPOINT_E_FORMAT }, /* 33 bytes */
                { "Xcna=acGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", CHECKPOINT_E_FORMAT },
                { " XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", CHECKPOINT_E_FORMAT },
                { "", CHECKPOINT_E_FORMAT },
        };
        const char *sigs_bad[] = {
                "-- " NAME " AAAA\n",
                "- " NAME " AAAA\n",
                "\xe2\x80\x94" NAME " AAAAAAAA\n", /* no space after the dash */
                "\xe2\x80\x94 " NAME "\n",         /* no signature */
                "\xe2\x80\x94 " NAME " \n",
                "\xe2\x80\x94  AAAAAAAA\n",         /* no name */
                "\xe2\x80\x94 " NAME " AAAA\n",     /* 3 bytes */
                "\xe2\x80\x94 " NAME " AAAAAA==\n", /* 4 bytes: key hash only */
                "\xe2\x80\x94 " NAME " AAAAAAAA AAAA\n",
                "\xe2\x80\x94 " NAME " AAAAAAAA\n\n", /* blank line after */
                "\xe2\x80\x94 " NAME " AAAAAAAA",     /* no final newline */
                "\xe2\x80\x94 a+b AAAAAAAA\n",        /* '+' in the name */
                "\xe2\x80\x94 a\xc2\xa0"
                "b AAAAAAAA\n", /* NBSP in the name */
                "\xe2\x80\x94 " NAME " AAAAAAAA\nextra\n",
                "",
        };
        Checkpoint *c = NULL;
        int r;

        check(checkpoint_sign(s, NAME, 1, root_a, NULL, 0, &note) == 0);
        sig = strdup(sig_line(note));
        check(sig);

        for (size_t i = 0; i < ELEMENTSOF(bodies); i++) {
                snprintf(buf, sizeof(buf), bodies[i].body, root64);
                strcat(buf, "\n");
                strcat(buf, sig);
                r = parse_str(buf);
                if (r != bodies[i].want)
                        fprintf(stderr, "body %zu: %d\n", i, r);
                check(r == bodies[i].want);
        }
        for (size_t i = 0; i < ELEMENTSOF(roots); i++) {
                snprintf(buf, sizeof(buf), "o\n1\n%s\n\n%s", roots[i].root, sig);
                check(parse_str(buf) == roots[i].want);
        }
        for (size_t i = 0; i < ELEMENTSOF(sigs_bad); i++) {
                snprintf(buf, sizeof(buf), "o\n1\n%s\n\n%s", root64, sigs_bad[i]);
                r = parse_str(buf);
                if (r != CHECKPOINT_E_FORMAT)
                        fprintf(stderr, "signature %zu: %d\n", i, r);
                check(r == CHECKPOINT_E_FORMAT);
        }
        /* well-formed signature lines by unknown keys, of any length from 1 byte */
        snprintf(buf, sizeof(buf), "o\n1\n%s\n\n\xe2\x80\x94 x AAAAAAA=\n\xe2\x80\x94 y AAAAAAAAAAAA\n%s", root64, sig);
        check(checkpoint_parse(buf, strlen(buf), &c) == 0);
        check(c->n_signatures == 3 && c->signatures[0].sig_len == 1 && c->signatures[1].sig_len == 5);
        checkpoint_free(c);
        c = NULL;

        /* NUL inside, and lengths that are not the string's */
        snprintf(buf, sizeof(buf), "o\n1\n%s\n\n%s", root64, sig);
        check(checkpoint_parse(buf, strlen(buf) - 1, &c) == CHECKPOINT_E_FORMAT);
        check(checkpoint_parse(buf, strlen(buf) + 1, &c) == CHECKPOINT_E_FORMAT);
        buf[1] = 0;
        check(checkpoint_parse(buf, strlen(buf + 2) + 2, &c) == CHECKPOINT_E_FORMAT);
        check(checkpoint_parse("", 0, &c) == CHECKPOINT_E_FORMAT);
        check(checkpoint_parse(NULL, 0, &c) == CHECKPOINT_E_FORMAT);
        check(checkpoint_parse("\n\n", 2, &c) == CHECKPOINT_E_FORMAT);
        check(!c);

        /* limits: origin length, extension count and length, signature count, note size */
        {
                char origin[CHECKPOINT_NAME_MAX + 2];
                char *big;

                memset(origin, 'o', sizeof(origin) - 1);
                origin[sizeof(origin) - 1] = 0;
                snprintf(buf, sizeof(buf), "%s\n1\n%s\n\n%s", origin, root64, sig);
                check(parse_str(buf) == CHECKPOINT_E_LIMIT);
                origin[CHECKPOINT_NAME_MAX] = 0;
                snprintf(buf, sizeof(buf), "%s\n1\n%s\n\n%s", origin, root64, sig);
                check(parse_str(buf) == 0);

                snprintf(buf, sizeof(buf), "o\n1\n%s\n", root64);
                for (int i = 0; i < CHECKPOINT_EXTENSIONS_MAX; i++)
                        strcat(buf, "e\n");
                strcat(buf, "\n");
                strcat(buf, sig);
                check(parse_str(buf) == 0);
                snprintf(buf, sizeof(buf), "o\n1\n%s\n", root64);
                for (int i = 0; i <= CHECKPOINT_EXTENSIONS_MAX; i++)
                        strcat(buf, "e\n");
                strcat(buf, "\n");
                strcat(buf, sig);
                check(parse_str(buf) == CHECKPOINT_E_LIMIT);

                snprintf(buf, sizeof(buf), "o\n1\n%s\n\n", root64);
                for (int i = 0; i < CHECKPOINT_SIGNATURES_MAX; i++)
                        strcat(buf, sig);
                check(parse_str(buf) == 0);
                strcat(buf, sig);
                check(parse_str(buf) == CHECKPOINT_E_LIMIT);

                /* one line too long */
                big = malloc(CHECKPOINT_NOTE_MAX + 4096);
                check(big);
                {
                        size_t o = (size_t)snprintf(big, CHECKPOINT_NOTE_MAX, "o\n1\n%s\n", root64);

                        memset(big + o, 'e', CHECKPOINT_LINE_MAX + 1);
                        big[o + CHECKPOINT_LINE_MAX + 1] = 0;
                        strcat(big, "\n\n");
                        strcat(big, sig);
                        check(parse_str(big) == CHECKPOINT_E_LIMIT);
                        /* the longest line is fine */
                        memmove(big + o + CHECKPOINT_LINE_MAX, big + o + CHECKPOINT_LINE_MAX + 1,
                                strlen(big + o + CHECKPOINT_LINE_MAX + 1) + 1);
                        check(parse_str(big) == 0);
                }

                /* a note over the size limit, however it is made */
                memset(big, 'x', CHECKPOINT_NOTE_MAX + 1);
                big[CHECKPOINT_NOTE_MAX + 1] = 0;
                check(checkpoint_parse(big, CHECKPOINT_NOTE_MAX + 1, &c) == CHECKPOINT_E_LIMIT);
                free(big);
        }
        free(sig);
        free(note);
}

static void test_names_and_vkeys(CheckpointSigner *s)
{
        static const char *const good[] = {
                "example.com/log",
                "a",
                "nh\xe1\xba\xadt-k\xc3\xbd",
                "x:y/z@1",
        };
        static const char *const bad[] = {
                "",
                "a b",
                "a+b",
                "a\tb",
                "a\nb",
                "a\xc2\xa0"
                "b",
                "a\xe3\x80\x80"
                "b",
                "a\xff",
                "a\x7f",
                "a\xe2\x80\xa8"
                "b",
        };
        char long_name[CHECKPOINT_NAME_MAX + 2];
        CheckpointVerifier *v = NULL;
        uint8_t pub[CHECKPOINT_ED25519_PUBLIC_LEN] = { 1 };
        char *vk = NULL, *t;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                check(checkpoint_name_valid(good[i]));
                check(checkpoint_verifier_new(&v, good[i], pub) == 0);
                v = checkpoint_verifier_free(v);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                check(!checkpoint_name_valid(bad[i]));
                check(checkpoint_verifier_new(&v, bad[i], pub) == CHECKPOINT_E_KEY && !v);
        }
        check(!checkpoint_name_valid(NULL));
        memset(long_name, 'n', sizeof(long_name) - 1);
        long_name[sizeof(long_name) - 1] = 0;
        check(!checkpoint_name_valid(long_name));
        long_name[CHECKPOINT_NAME_MAX] = 0;
        check(checkpoint_name_valid(long_name));

        /* vkeys */
        check(checkpoint_signer_verifier(s, &v) == 0);
        check(checkpoint_verifier_vkey(v, &vk) == 0);
        v = checkpoint_verifier_free(v);
        check(strlen(vk) == strlen(NAME) + 1 + 8 + 1 + 44);
        check(vk[strlen(NAME) + 9] == '+');
        {
                uint8_t raw[64];

                check(b64_decode_std(vk + strlen(NAME) + 10, raw) == 33 && raw[0] == 0x01);
        }
        {
                char hex[9], upper[9];
                const char *bads[16];
                char b_hash[128], b_alg[128], b_trail[128], b_short[128], b_upper[128];
                size_t nb = 0;

                memcpy(hex, vk + strlen(NAME) + 1, 8);
                hex[8] = 0;
                for (int i = 0; i < 9; i++)
                        upper[i] = (char)(hex[i] >= 'a' && hex[i] <= 'f' ? hex[i] - 32 : hex[i]);
                /* a different key hash */
                snprintf(b_hash, sizeof(b_hash), "%s", vk);
                b_hash[strlen(NAME) + 1] = hex[0] == '0' ? '1' : '0';
                /* another algorithm byte, same key */
                {
                        uint8_t raw[64];
                        char k64[64];

                        check(b64_decode_std(vk + strlen(NAME) + 10, raw) == 33);
                        raw[0] = 0x02;
                        b64_encode_std(raw, 33, k64);
                        snprintf(b_alg, sizeof(b_alg), "%.*s%s", (int)strlen(NAME) + 10, vk, k64);
                }
                snprintf(b_trail, sizeof(b_trail), "%s=", vk);
                snprintf(b_short, sizeof(b_short), "%.*s", (int)strlen(vk) - 4, vk);
                t = replace(vk, hex, upper);
                snprintf(b_upper, sizeof(b_upper), "%s", t);
                free(t);

                bads[nb++] = "";
                bads[nb++] = NAME;
                bads[nb++] = NAME "+";
                bads[nb++] = NAME "+1234567+AQ";
                bads[nb++] = NAME "+zzzzzzzz+AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
                bads[nb++] = "+00000000+AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
                bads[nb++] = b_hash;
                bads[nb++] = b_alg;
                bads[nb++] = b_trail;
                bads[nb++] = b_short;
                for (size_t i = 0; i < nb; i++) {
                        int r = checkpoint_verifier_from_vkey(&v, bads[i]);

                        if (r != CHECKPOINT_E_KEY)
                                fprintf(stderr, "vkey %zu: %d\n", i, r);
                        check(r == CHECKPOINT_E_KEY && !v);
                }
                check(checkpoint_verifier_from_vkey(&v, NULL) == CHECKPOINT_E_KEY);
                /* upper-case hex is the same key hash */
                check(checkpoint_verifier_from_vkey(&v, b_upper) == 0);
                v = checkpoint_verifier_free(v);
                /* a name with a space cannot be smuggled in */
                t = replace(vk, "xbus.test", "xbus test");
                check(checkpoint_verifier_from_vkey(&v, t) == CHECKPOINT_E_KEY);
                free(t);
        }
        free(vk);
}

/* Signed notes made elsewhere (Go's golang.org/x/mod/sumdb/note documentation and examples). */
static void test_interop(void)
{
        static const struct {
                const char *vkey, *note;
        } vectors[] = {
                {
                        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
                        "If you think cryptography is the answer to your problem,\n"
                        "then you don't know what your problem is.\n"
                        "\n"
                        "\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
                },
                {
                        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
                        "This is an example message.\n"
                        "\n"
                        "\xe2\x80\x94 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n",
                },
        };

        for (size_t i = 0; i < ELEMENTSOF(vectors); i++) {
                CheckpointVerifier *v = NULL;
                char *vk = NULL, *t;
                size_t text_len = 0;

                /* the key hash is computed as Go computes it */
                check(checkpoint_verifier_from_vkey(&v, vectors[i].vkey) == 0);
                check(checkpoint_verifier_vkey(v, &vk) == 0);
                check(streq(vk, vectors[i].vkey));
                check(checkpoint_note_verify(vectors[i].note, strlen(vectors[i].note), v, &text_len) == 0);
                check(vectors[i].note[text_len] == '\n' && vectors[i].note[text_len - 1] == '\n');
                /* not checkpoints */
                check(parse_str(vectors[i].note) == CHECKPOINT_E_FORMAT ||
                      parse_str(vectors[i].note) == CHECKPOINT_E_LIMIT);
                t = replace(vectors[i].note, "is", "IS");
                check(checkpoint_note_verify(t, strlen(t), v, NULL) == CHECKPOINT_E_SIGNATURE);
                free(t);
                free(vk);
                checkpoint_verifier_free(v);
        }
}

static void test_keys(void)
{
        CheckpointSigner *s = NULL;
        CheckpointVerifier *v = NULL;
        EVP_PKEY *ec = NULL, *pubonly = NULL;
        char path[512], ec_key[512], ec_pub[512];
        uint8_t raw[CHECKPOINT_ED25519_PUBLIC_LEN];
        size_t rawlen = sizeof(raw);

        /* modes: group or others may not read log.key */
        check(chmod(key_path, 0644) == 0);
        check(checkpoint_signer_load(&s, NAME, key_path, pub_path) == -EPERM && !s);
        check(chmod(key_path, 0640) == 0);
        check(checkpoint_signer_load(&s, NAME, key_path, pub_path) == -EPERM && !s);
        check(chmod(key_path, 0604) == 0);
        check(checkpoint_signer_load(&s, NAME, key_path, pub_path) == -EPERM && !s);
        check(chmod(key_path, 0400) == 0);
        check(checkpoint_signer_load(&s, NAME, key_path, pub_path) == 0);
        s = checkpoint_signer_free(s);
        check(chmod(key_path, 0600) == 0);
        check(checkpoint_signer_load(&s, NAME, key_path, NULL) == 0);
        s = checkpoint_signer_free(s);

        /* missing files, mismatched pair, bad names */
        snprintf(path, sizeof(path), "%s/missing.key", dir);
        check(checkpoint_signer_load(&s, NAME, path, NULL) == -ENOENT);
        check(checkpoint_signer_load(&s, NAME, key_path, path) == -ENOENT && !s);
        check(checkpoint_verifier_load(&v, NAME, path) == -ENOENT);
        check(checkpoint_signer_load(&s, NAME, key_path, pub2_path) == -EKEYREJECTED && !s);
        check(checkpoint_signer_load(&s, "bad name", key_path, pub_path) == CHECKPOINT_E_KEY && !s);
        check(checkpoint_verifier_load(&v, "bad name", pub_path) == CHECKPOINT_E_KEY && !v);
        check(checkpoint_signer_load(&s, NAME, dir, NULL) == -EINVAL); /* a folder */

        /* the public key where the private one belongs, and garbage */
        snprintf(path, sizeof(path), "%s/pub-as-key", dir);
        {
                FILE *f = fopen(pub_path, "re");
                char buf[1024];
                size_t n;

                check(f);
                n = fread(buf, 1, sizeof(buf), f);
                fclose(f);
                write_file(path, buf, n, 0600);
        }
        check(checkpoint_signer_load(&s, NAME, path, NULL) == -EINVAL);
        write_file(path, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", 58, 0600);
        check(checkpoint_signer_load(&s, NAME, path, NULL) == -EINVAL);
        check(checkpoint_verifier_load(&v, NAME, path) == -EINVAL);
        write_file(path, "", 0, 0600);
        check(checkpoint_signer_load(&s, NAME, path, NULL) == -EINVAL);
        /* a private key where the public one belongs */
        check(checkpoint_verifier_load(&v, NAME, key_path) == -EINVAL && !v);

        /* not Ed25519: a P-256 key */
        ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        check(ec);
        snprintf(ec_key, sizeof(ec_key), "%s/ec.key", dir);
        snprintf(ec_pub, sizeof(ec_pub), "%s/ec.pub", dir);
        write_key(ec, ec_key, ec_pub);
        check(checkpoint_signer_load(&s, NAME, ec_key, NULL) == -EINVAL);
        check(checkpoint_verifier_load(&v, NAME, ec_pub) == -EINVAL);
        check(checkpoint_signer_new(&s, NAME, ec) == -EINVAL && !s);
        check(checkpoint_signer_new(&s, NAME, NULL) == -EINVAL);
        EVP_PKEY_free(ec);

        /* a public key cannot sign */
        check(checkpoint_verifier_load(&v, NAME, pub_path) == 0);
        v = checkpoint_verifier_free(v);
        {
                FILE *f = fopen(pub_path, "re");
                EVP_PKEY *full = NULL;

                check(f);
                pubonly = PEM_read_PUBKEY(f, NULL, NULL, NULL);
                fclose(f);
                check(pubonly);
                check(EVP_PKEY_get_raw_public_key(pubonly, raw, &rawlen) == 1);
                check(checkpoint_signer_new(&s, NAME, pubonly) == -EINVAL && !s);
                /* the signer keeps its own reference */
                f = fopen(key_path, "re");
                check(f);
                full = PEM_read_PrivateKey(f, NULL, NULL, NULL);
                fclose(f);
                check(full);
                check(checkpoint_signer_new(&s, NAME, full) == 0);
                EVP_PKEY_free(full);
                {
                        char *note = NULL;
                        check(checkpoint_sign(s, NAME, 3, root_a, NULL, 0, &note) == 0);
                        check(checkpoint_verifier_new(&v, NAME, raw) == 0);
                        check(open_str(note, v) == 0);
                        free(note);
                }
                v = checkpoint_verifier_free(v);
                s = checkpoint_signer_free(s);
                EVP_PKEY_free(pubonly);
        }
        check(checkpoint_signer_free(NULL) == NULL);
        check(checkpoint_verifier_free(NULL) == NULL);
        check(checkpoint_free(NULL) == NULL);
        for (int c = 1; c < _CHECKPOINT_E_MAX; c++)
                check(!streq(checkpoint_strerror(c), "unknown"));
        check(streq(checkpoint_strerror(0), "unknown"));
}

static int run(const char *cmd)
{
        int r = system(cmd);

        return r < 0 || !WIFEXITED(r) ? -1 : WEXITSTATUS(r);
}

/* The openssl command agrees: it verifies our signatures and makes the same ones. */
static void test_openssl(CheckpointSigner *s)
{
        char text_path[512], sig_path[512], sig2_path[512], bad_path[512], cmd[4096];
        char gen_key[512], gen_pub[512];
        char *note = NULL, *text = NULL, b64[256];
        uint8_t blob[128], sig2[128];
        CheckpointSigner *gs = NULL;
        CheckpointVerifier *gv = NULL;
        FILE *f;
        int n;

        if (run("openssl version >/dev/null 2>&1") != 0) {
                printf("openssl command not found, skipping the cross-check\n");
                return;
        }

        check(checkpoint_sign(s, NAME, 987654321, root_a, NULL, 0, &note) == 0);
        check(checkpoint_format(NAME, 987654321, root_a, NULL, 0, &text) == 0);
        snprintf(b64, sizeof(b64), "%s", sig_line(note) + 4 + strlen(NAME) + 1);
        b64[strlen(b64) - 1] = 0;
        n = b64_decode_std(b64, blob);
        check(n == 68);

        snprintf(text_path, sizeof(text_path), "%s/body", dir);
        snprintf(sig_path, sizeof(sig_path), "%s/sig", dir);
        snprintf(sig2_path, sizeof(sig2_path), "%s/sig2", dir);
        snprintf(bad_path, sizeof(bad_path), "%s/bad-body", dir);
        write_file(text_path, text, strlen(text), 0644);
        write_file(sig_path, blob + 4, 64, 0644);
        text[0] ^= 1;
        write_file(bad_path, text, strlen(text), 0644);

        snprintf(cmd, sizeof(cmd), "openssl pkeyutl -verify -pubin -inkey %s -rawin -in %s -sigfile %s >/dev/null",
                 pub_path, text_path, sig_path);
        check(run(cmd) == 0);
        snprintf(cmd, sizeof(cmd), "openssl pkeyutl -verify -pubin -inkey %s -rawin -in %s -sigfile %s >/dev/null",
                 pub_path, bad_path, sig_path);
        check(run(cmd) != 0);
        snprintf(cmd, sizeof(cmd), "openssl pkeyutl -verify -pubin -inkey %s -rawin -in %s -sigfile %s >/dev/null",
                 pub2_path, text_path, sig_path);
        check(run(cmd) != 0);

        /* Ed25519 is deterministic: openssl's signature is ours, byte for byte */
        snprintf(cmd, sizeof(cmd), "openssl pkeyutl -sign -inkey %s -rawin -in %s -out %s", key_path, text_path,
                 sig2_path);
        check(run(cmd) == 0);
        f = fopen(sig2_path, "re");
        check(f);
        check(fread(sig2, 1, sizeof(sig2), f) == 64);
        fclose(f);
        check(memcmp(sig2, blob + 4, 64) == 0);

        /* a key made by the openssl command loads and signs */
        snprintf(gen_key, sizeof(gen_key), "%s/gen.key", dir);
        snprintf(gen_pub, sizeof(gen_pub), "%s/gen.pub", dir);
        snprintf(cmd, sizeof(cmd),
                 "umask 077 && openssl genpkey -algorithm ed25519 -out %s && openssl pkey -in %s -pubout -out %s",
                 gen_key, gen_key, gen_pub);
        check(run(cmd) == 0);
        check(checkpoint_signer_load(&gs, "gen.example/log", gen_key, gen_pub) == 0);
        check(checkpoint_verifier_load(&gv, "gen.example/log", gen_pub) == 0);
        free(note);
        check(checkpoint_sign(gs, "gen.example/log", 1, root_a, NULL, 0, &note) == 0);
        check(open_str(note, gv) == 0);
        checkpoint_signer_free(gs);
        checkpoint_verifier_free(gv);

        printf("openssl cross-check done\n");
        free(note);
        free(text);
}

int main(void)
{
        EVP_PKEY *k1, *k2;
        CheckpointSigner *s = NULL, *s2 = NULL;
        char cmd[512];

        check(mkdtemp(dir));
        snprintf(key_path, sizeof(key_path), "%s/log.key", dir);
        snprintf(pub_path, sizeof(pub_path), "%s/log.pub", dir);
        snprintf(key2_path, sizeof(key2_path), "%s/other.key", dir);
        snprintf(pub2_path, sizeof(pub2_path), "%s/other.pub", dir);
        k1 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        k2 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        check(k1 && k2);
        write_key(k1, key_path, pub_path);
        write_key(k2, key2_path, pub2_path);
        EVP_PKEY_free(k1);
        EVP_PKEY_free(k2);

        check(checkpoint_signer_load(&s, NAME, key_path, pub_path) == 0);
        check(checkpoint_signer_load(&s2, "witness.example/w1", key2_path, pub2_path) == 0);

        test_roundtrip(s);
        test_tamper(s, s2);
        test_strict(s);
        test_names_and_vkeys(s);
        test_interop();
        test_keys();
        test_openssl(s);

        checkpoint_signer_free(s);
        checkpoint_signer_free(s2);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        check(run(cmd) == 0);
        printf("test-checkpoint: %u checks passed\n", checks);
        return 0;
}
