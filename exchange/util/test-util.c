/* test-util.c: the shared helpers (bytes, parse, strv, error, lmdb-util, mailbox); the log is test-log.c */
#include <assert.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "util/bytes.h"
#include "util/error.h"
#include "util/lmdb-util.h"
#include "util/mailbox.h"
#include "util/parse.h"
#include "util/strv.h"
#include "util/utf8.h"

static void test_be64(void)
{
        uint8_t b[8];

        be64_put(b, 0x0102030405060708ULL);
        assert(memcmp(b, "\x01\x02\x03\x04\x05\x06\x07\x08", 8) == 0);
        assert(be64_get(b) == 0x0102030405060708ULL);
        be64_put(b, UINT64_MAX);
        assert(be64_get(b) == UINT64_MAX);
        /* the key format: byte order sorts numerically */
        uint8_t x[8], y[8];
        be64_put(x, 255);
        be64_put(y, 256);
        assert(memcmp(x, y, 8) < 0);
}

static void test_hex(void)
{
        uint8_t in[] = { 0x00, 0x7f, 0xab, 0xff }, out[4] = { 0 };
        char s[9];

        hex_encode(in, sizeof(in), s);
        assert(streq(s, "007fabff"));
        assert(hex_decode("007FABff", out, 4) == 0 && memcmp(in, out, 4) == 0);
        memset(out, 0x55, sizeof(out));
        assert(hex_decode("007fabfg", out, 4) == -EINVAL);
        assert(out[0] == 0x55); /* nothing written on failure */
        assert(hex_digit('0') == 0 && hex_digit('f') == 15 && hex_digit('F') == 15);
        assert(hex_digit('g') == -1 && hex_digit(' ') == -1 && hex_digit('\0') == -1);
}

static void test_utf8(void)
{
        static const char *const good[] = {
                "a", "\xc2\x80", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf"
        };
        static const char *const bad[] = { "\x80",
                                           "\xc0\x80",
                                           "\xc1\xbf",
                                           "\xe0\x9f\xbf",
                                           "\xed\xa0\x80",
                                           "\xf0\x8f\xbf\xbf",
                                           "\xf4\x90\x80\x80",
                                           "\xf5\x80\x80\x80",
                                           "\xc2",
                                           "\xe2\x82",
                                           "\xc2"
                                           "a" };
        uint32_t cp;

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                assert(utf8_decode(good[i], strlen(good[i]), NULL) == strlen(good[i]));
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert(utf8_decode(bad[i], strlen(bad[i]), NULL) == 0 && !utf8_valid(bad[i], strlen(bad[i])));
        assert(utf8_decode("\xe2\x82\xac", 3, &cp) == 3 && cp == 0x20ac);
        assert(utf8_decode("\xe2\x82\xac", 2, &cp) == 0 && utf8_decode("", 0, &cp) == 0);
        assert(utf8_valid("Vi\xe1\xbb\x87t Nam", 10) && utf8_valid("a\0b", 3));

        /* the same verdict as jansson's, which the front door's header check used before (wire_valid_text) */
        unsigned seed = 3629;
        for (int round = 0; round < 200000; round++) {
                static const unsigned char lead[] = { 0x41, 0x7f, 0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0,
                                                      0xe1, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf4, 0xf5, 0xff };
                char text[8];
                size_t n = 1 + (size_t)(rand_r(&seed) % sizeof(text));
                json_t *j;

                for (size_t k = 0; k < n; k++)
                        text[k] = (char)(rand_r(&seed) % 2 ? lead[rand_r(&seed) % sizeof(lead)]
                                                           : 0x80 + rand_r(&seed) % 0x40);
                j = json_stringn(text, n);
                assert(!j == !utf8_valid(text, n) || memchr(text, 0, n));
                json_decref(j);
        }
}

static void test_dns_name(void)
{
        static const char *good[] = { "a", "node-1.example.vn", "127.0.0.1", "xn--vit-nam-9za.vn", "a-b.c-d" };
        static const char *bad[] = { "", ".a", "a.", "a..b", "-a", "a-", "a-.b", "a.-b", "a_b", "a b", "[::1]" };
        char label[70], name[300];

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                assert(dns_name_valid(good[i], strlen(good[i])));
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert(!dns_name_valid(bad[i], strlen(bad[i])));
        assert(!dns_name_valid(NULL, 0));
        assert(dns_name_valid("ab", 1)); /* only the n bytes count */
        memset(label, 'a', 63);
        assert(dns_name_valid(label, 63));
        memset(label, 'a', 64);
        assert(!dns_name_valid(label, 64)); /* a label of 64 */
        for (size_t i = 0; i < sizeof(name); i++)
                name[i] = i % 2 ? '.' : 'a';
        assert(dns_name_valid(name, 253));
        assert(!dns_name_valid(name, 255)); /* over 253 */
        printf("dns names: ok\n");
}

static void test_parse(void)
{
        uint64_t v = 7;
        const char *s;

        assert(parse_u64("0", 0, 10, &v) == 0 && v == 0);
        assert(parse_u64("10", 0, 10, &v) == 0 && v == 10);
        assert(parse_u64("18446744073709551615", 0, UINT64_MAX, &v) == 0 && v == UINT64_MAX);
        v = 7;
        assert(parse_u64("18446744073709551616", 0, UINT64_MAX, &v) == -ERANGE && v == 7);
        assert(parse_u64("11", 0, 10, &v) == -ERANGE);
        assert(parse_u64("4", 5, 10, &v) == -ERANGE);
        /* one meaning: digits only (strtoull would take all of these) */
        const char *bad[] = { "", " 1", "1 ", "+1", "-1", "0x10", "1e3", "1.0", "\t5", "5\n", "007", "00" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert(parse_u64(bad[i], 0, UINT64_MAX, &v) == -EINVAL);
        assert(parse_u64(NULL, 0, 1, &v) == -EINVAL);

        s = "30s";
        assert(parse_digits(&s, &v) == 2 && v == 30 && streq(s, "s"));
        s = "x";
        assert(parse_digits(&s, &v) == 0 && v == 0 && streq(s, "x"));
        s = "99999999999999999999";
        assert(parse_digits(&s, &v) == -ERANGE);
}

static void test_strv(void)
{
        char **l = calloc(3, sizeof(char *));

        assert(l);
        l[0] = strdup("a");
        l[1] = strdup("bc");
        assert(l[0] && l[1]);
        assert(strv_length(l) == 2 && strv_length(NULL) == 0);
        assert(strv_contains(l, "bc") && !strv_contains(l, "b") && !strv_contains(NULL, "a"));
        char **c = strv_copy(l), **e = strv_copy(NULL);
        assert(c && c != l && c[0] != l[0] && streq(c[1], "bc") && !c[2] && e && !e[0]);
        strv_free(c);
        strv_free(e);
        assert(strv_free(l) == NULL);
        assert(strv_free(NULL) == NULL);

        char **n = calloc(2, sizeof(char *));
        assert(n);
        n[0] = strdup("x");
        n[1] = strdup("y");
        strv_free_n(n, 2); /* not NULL-terminated: ASan would see a leak or overrun */
        strv_free_n(NULL, 0);

        char **x = NULL;
        assert(strv_extend(&x, "a") == 0 && strv_extend(&x, "b") == 0);
        assert(strv_length(x) == 2 && streq(x[0], "a") && streq(x[1], "b") && !x[2]);
        strv_free(x);
}

static void test_error(void)
{
        char *e = NULL;

        assert(error_set(&e, -EINVAL, "bad %s at %d", "thing", 3) == -EINVAL);
        assert(e && streq(e, "bad thing at 3"));
        free(e);
        assert(error_set(NULL, -ENOENT, "ignored %d", 1) == -ENOENT);
}

static void test_lmdb(void)
{
        assert(lmdb_to_errno(MDB_SUCCESS) == 0);
        assert(lmdb_to_errno(MDB_NOTFOUND) == -ENOENT);
        assert(lmdb_to_errno(MDB_KEYEXIST) == -EEXIST);
        assert(lmdb_to_errno(MDB_MAP_FULL) == -ENOSPC);
        assert(lmdb_to_errno(MDB_READERS_FULL) == -EBUSY);
        assert(lmdb_to_errno(MDB_TXN_FULL) == -EBUSY);
        assert(lmdb_to_errno(MDB_BAD_VALSIZE) == -EINVAL);
        assert(lmdb_to_errno(EACCES) == -EACCES);
        assert(lmdb_to_errno(MDB_CORRUPTED) == -EIO);
}

/* A MAILBOX_NULL mailbox is left alone by mailbox_deinit(): a failed start that
 * deinits mailboxes it never initialised must not close fd 0 (or any other). */
static void test_mailbox_null(void)
{
        Mailbox mb = MAILBOX_NULL;
        int keep = dup(0);

        assert(keep >= 0);
        mailbox_deinit(&mb);
        mailbox_deinit(&mb);
        assert(fcntl(0, F_GETFD) >= 0);
        assert(mailbox_init(&mb, 2) == 0 && mb.fd >= 0);
        mailbox_deinit(&mb);
        assert(mb.fd == -1);
        mailbox_deinit(&mb); /* twice is harmless */
        assert(fcntl(0, F_GETFD) >= 0);
        close(keep);
}

int main(void)
{
        test_be64();
        test_hex();
        test_parse();
        test_dns_name();
        test_utf8();
        test_strv();
        test_error();
        test_lmdb();
        test_mailbox_null();
        printf("util: ok\n");
        return 0;
}
