/* bytes.h: fixed byte layouts shared by the on-disk formats (big-endian 64-bit keys), hex, percent-decoding
 *
 * The big-endian helpers define the key format of every LMDB database the
 * node writes (log sequence numbers, tree node indexes, consent counters):
 * sorted byte-wise, a big-endian number sorts numerically. Change them and
 * every existing store becomes unreadable.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* be64_put(): `v` as 8 big-endian bytes at `out`. */
static inline void be64_put(uint8_t out[8], uint64_t v)
{
        for (int i = 7; i >= 0; i--, v >>= 8)
                out[i] = (uint8_t)v;
}

/* be64_get(): the big-endian number in the 8 bytes at `in`. */
static inline uint64_t be64_get(const uint8_t in[8])
{
        uint64_t v = 0;

        for (int i = 0; i < 8; i++)
                v = (v << 8) | in[i];
        return v;
}

/* hex_digit(): the value of one hex digit (either case). Return: 0..15, or -1. */
static inline int hex_digit(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* hex_encode(): lower-case hex of `in` into `out` (2*size+1 bytes, NUL-terminated). */
void hex_encode(const uint8_t *in, size_t size, char *out);

/*
 * hex_decode(): exactly `size` bytes from the first 2*size hex digits of `in`
 * (either case). `out` is written only when every digit is valid.
 * Return: 0, or -EINVAL.
 */
int hex_decode(const char *in, uint8_t *out, size_t size);

/*
 * percent_decode(): the `n` bytes at `in` with every %XX replaced by its byte
 * (RFC 3986; "+" stays "+"), NUL-terminated into `out` (n + 1 bytes; may be
 * `in`). Return: the decoded length, or -EINVAL for a malformed escape or an
 * encoded NUL (a C string would cut the value there).
 */
ssize_t percent_decode(const char *in, size_t n, char *out);
