/* hash.c: SHA-256 and SHA-512 (OpenSSL EVP), strict base64url and base64 */
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "crypto/hash.h"

/*
 * The digest is fetched once: EVP_sha256() and fetching by name look the
 * algorithm up in the provider store (with its lock) on every call, which
 * the Merkle tree and the request digests would pay per hash.
 */
static EVP_MD *sha256_md, *sha512_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
        sha256_md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
        sha512_md = EVP_MD_fetch(NULL, "SHA2-512", NULL);
}

void hash_sha256(const void *data, size_t size, uint8_t out[HASH_SHA256_LEN])
{
        const EVP_MD *md;

        pthread_once(&sha256_once, sha256_fetch);
        md = sha256_md ? sha256_md : EVP_sha256();

        /*
         * EVP_Digest() fails only when OpenSSL cannot allocate its small
         * context. The contract has no error return, and a wrong digest would
         * silently corrupt receipts and the log, so stop rather than go on.
         */
        if (!EVP_Digest(data, size, out, NULL, md, NULL))
                abort();
}

void hash_sha512(const void *data, size_t size, uint8_t out[HASH_SHA512_LEN])
{
        const EVP_MD *md;

        pthread_once(&sha256_once, sha256_fetch);
        md = sha512_md ? sha512_md : EVP_sha512();
        if (!EVP_Digest(data, size, out, NULL, md, NULL))
                abort(); /* as hash_sha256() */
}

void hash_sha512_b64(const void *data, size_t size, char out[HASH_SHA512_B64_LEN + 1])
{
        uint8_t d[HASH_SHA512_LEN];

        hash_sha512(data, size, d);
        b64_encode(d, sizeof(d), out);
}

void hash_sha256_hex(const void *data, size_t size, char *out)
{
        uint8_t digest[HASH_SHA256_LEN];

        hash_sha256(data, size, digest);
        hex_encode(digest, sizeof(digest), out);
}

static const char b64url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t b64url_encode(const void *in, size_t size, char *out)
{
        const uint8_t *p = in;
        size_t n = 0, i = 0;

        for (; i + 3 <= size; i += 3) {
                uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

                out[n++] = b64url_alphabet[(v >> 18) & 0x3f];
                out[n++] = b64url_alphabet[(v >> 12) & 0x3f];
                out[n++] = b64url_alphabet[(v >> 6) & 0x3f];
                out[n++] = b64url_alphabet[v & 0x3f];
        }

        if (size - i == 1) {
                uint32_t v = (uint32_t)p[i] << 16;

                out[n++] = b64url_alphabet[(v >> 18) & 0x3f];
                out[n++] = b64url_alphabet[(v >> 12) & 0x3f];
        } else if (size - i == 2) {
                uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;

                out[n++] = b64url_alphabet[(v >> 18) & 0x3f];
                out[n++] = b64url_alphabet[(v >> 12) & 0x3f];
                out[n++] = b64url_alphabet[(v >> 6) & 0x3f];
        }

        out[n] = '\0';
        return n;
}

/* The value of a base64 digit whose alphabet ends in c62, c63; -EINVAL for anything else. */
static int b64_digit(char c, char c62, char c63)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == c62)
                return 62;
        if (c == c63)
                return 63;
        return -EINVAL;
}

/* Each base64url digit's value plus one, by byte; 0 for any other byte ('=', '+', '/', space, NUL, ...). */
static const uint8_t b64url_values[256] = {
        ['A'] = 1,  ['B'] = 2,  ['C'] = 3,  ['D'] = 4,  ['E'] = 5,  ['F'] = 6,  ['G'] = 7,  ['H'] = 8,
        ['I'] = 9,  ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
        ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
        ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
        ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
        ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
        ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
        ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['-'] = 63, ['_'] = 64
};

static int b64url_value(char c)
{
        return (int)b64url_values[(unsigned char)c] - 1; /* -1: refused, as b64_digit(c, '-', '_') refuses it */
}

long b64url_decode(const char *in, size_t len, uint8_t *out)
{
        size_t n = 0, i = 0;
        int v[4];

        /* One char left over carries only 6 bits: never a whole byte. */
        if (len % 4 == 1)
                return -EINVAL;
        /* The result must be representable in the return type. */
        if (len > (size_t)LONG_MAX / 3)
                return -EINVAL;

        for (; i + 4 <= len; i += 4) {
                for (size_t j = 0; j < 4; j++) {
                        v[j] = b64url_value(in[i + j]);
                        if (v[j] < 0)
                                return -EINVAL;
                }
                out[n++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
                out[n++] = (uint8_t)((v[1] & 0xf) << 4 | v[2] >> 2);
                out[n++] = (uint8_t)((v[2] & 0x3) << 6 | v[3]);
        }

        if (len - i >= 2) {
                size_t rest = len - i;

                for (size_t j = 0; j < rest; j++) {
                        v[j] = b64url_value(in[i + j]);
                        if (v[j] < 0)
                                return -EINVAL;
                }

                /*
                 * Canonical encodings leave the unused low bits of the last
                 * char zero; anything else would let two strings decode to
                 * the same bytes (a malleable signature or key id).
                 */
                if (rest == 2) {
                        if (v[1] & 0xf)
                                return -EINVAL;
                        out[n++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
                } else {
                        if (v[2] & 0x3)
                                return -EINVAL;
                        out[n++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
                        out[n++] = (uint8_t)((v[1] & 0xf) << 4 | v[2] >> 2);
                }
        }

        return (long)n;
}

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void b64_encode(const void *in, size_t size, char *out)
{
        const uint8_t *p = in;
        size_t o = 0;

        for (size_t i = 0; i < size; i += 3) {
                uint32_t v = (uint32_t)p[i] << 16;

                if (i + 1 < size)
                        v |= (uint32_t)p[i + 1] << 8;
                if (i + 2 < size)
                        v |= p[i + 2];
                out[o++] = b64_alphabet[(v >> 18) & 63];
                out[o++] = b64_alphabet[(v >> 12) & 63];
                out[o++] = i + 1 < size ? b64_alphabet[(v >> 6) & 63] : '=';
                out[o++] = i + 2 < size ? b64_alphabet[v & 63] : '=';
        }
        out[o] = 0;
}

long b64_decode(const char *in, size_t len, uint8_t *out, size_t max)
{
        size_t o = 0;

        if (len == 0 || len % 4 != 0 || len > (size_t)LONG_MAX / 3)
                return -EINVAL;
        for (size_t i = 0; i < len; i += 4) {
                bool last = i + 4 == len;
                int a = b64_digit(in[i], '+', '/'), b = b64_digit(in[i + 1], '+', '/'), c, d;
                uint32_t v;

                if (a < 0 || b < 0)
                        return -EINVAL;
                if (last && in[i + 2] == '=') {
                        if (in[i + 3] != '=' || (b & 15))
                                return -EINVAL;
                        if (o + 1 > max)
                                return -EINVAL;
                        out[o++] = (uint8_t)(a << 2 | b >> 4);
                        break;
                }
                c = b64_digit(in[i + 2], '+', '/');
                if (c < 0)
                        return -EINVAL;
                if (last && in[i + 3] == '=') {
                        if (c & 3)
                                return -EINVAL;
                        if (o + 2 > max)
                                return -EINVAL;
                        v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6;
                        out[o++] = (uint8_t)(v >> 16);
                        out[o++] = (uint8_t)(v >> 8);
                        break;
                }
                d = b64_digit(in[i + 3], '+', '/');
                if (d < 0 || o + 3 > max)
                        return -EINVAL;
                v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
                out[o++] = (uint8_t)(v >> 16);
                out[o++] = (uint8_t)(v >> 8);
                out[o++] = (uint8_t)v;
        }
        return (long)o;
}
