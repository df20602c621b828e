/* test-hash.c: SHA-256 vectors, hex and strict base64url */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "crypto/hash.h"
#include "util/macro.h"

static void check_sha256(const void *data, size_t size, const char *expected_hex)
{
        uint8_t md[HASH_SHA256_LEN];
        char hex[HASH_SHA256_HEX_LEN + 1];

        hash_sha256(data, size, md);
        hex_encode(md, sizeof(md), hex);
        if (!streq(hex, expected_hex)) {
                fprintf(stderr, "sha256 mismatch: got %s want %s\n", hex, expected_hex);
                assert(false);
        }
}

static void test_sha256(void)
{
        static char million_a[1000000];

        /* FIPS 180-2 / NIST examples */
        check_sha256("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        check_sha256("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        check_sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
                     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        check_sha256("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
                     112, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
        memset(million_a, 'a', sizeof(million_a));
        check_sha256(million_a, sizeof(million_a), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
        /* embedded NUL bytes are data, not terminators */
        check_sha256("\0", 1, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
        /* a NULL pointer with size 0 is the empty message */
        check_sha256(NULL, 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        printf("sha256: 7 vectors ok\n");
}

static void test_hex(void)
{
        const uint8_t in[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
        uint8_t out[sizeof(in)], canary[4] = { 0xaa, 0xaa, 0xaa, 0xaa };
        char hex[2 * sizeof(in) + 1];

        hex_encode(in, sizeof(in), hex);
        assert(streq(hex, "00017f80abff"));
        hex_encode(in, 0, hex);
        assert(streq(hex, ""));

        assert(hex_decode("00017f80abff", out, sizeof(out)) == 0);
        assert(memcmp(out, in, sizeof(in)) == 0);
        assert(hex_decode("00017F80ABFF", out, sizeof(out)) == 0);
        assert(memcmp(out, in, sizeof(in)) == 0);
        assert(hex_decode("", out, 0) == 0);

        /* refusals leave the output untouched */
        memcpy(out, canary, sizeof(canary));
        assert(hex_decode("0g", out, 1) == -EINVAL);
        assert(hex_decode("g0", out, 1) == -EINVAL);
        assert(hex_decode(" 0", out, 1) == -EINVAL);
        assert(hex_decode("0", out, 1) == -EINVAL); /* NUL where a digit should be */
        assert(hex_decode("00x1", out, 2) == -EINVAL);
        assert(hex_decode("-1", out, 1) == -EINVAL);
        assert(hex_decode("0x", out, 1) == -EINVAL);
        assert(memcmp(out, canary, sizeof(canary)) == 0);
        printf("hex: ok\n");
}

static void check_b64(const char *data, size_t size, const char *expected)
{
        char enc[64];
        uint8_t dec[64];
        size_t n;
        long m;

        n = b64url_encode(data, size, enc);
        assert(n == b64url_encoded_len(size));
        assert(n == strlen(expected));
        if (!streq(enc, expected)) {
                fprintf(stderr, "b64url mismatch: got %s want %s\n", enc, expected);
                assert(false);
        }
        m = b64url_decode(expected, strlen(expected), dec);
        assert(m == (long)size);
        assert(memcmp(dec, data, size) == 0);
}

static void test_b64url(void)
{
        uint8_t out[256];
        char enc[400];

        /* RFC 4648 section 10, without padding */
        check_b64("", 0, "");
        check_b64("f", 1, "Zg");
        check_b64("fo", 2, "Zm8");
        check_b64("foo", 3, "Zm9v");
        check_b64("foob", 4, "Zm9vYg");
        check_b64("fooba", 5, "Zm9vYmE");
        check_b64("foobar", 6, "Zm9vYmFy");
        /* the URL-safe alphabet: 0xfb 0xff -> "-_8" (standard would be "+/8") */
        check_b64("\xfb\xff", 2, "-_8");
        check_b64("\xff\xff\xff", 3, "____");
        check_b64("\x00\x00\x00", 3, "AAAA");
        /* RFC 7515 appendix C */
        check_b64("\x03\xec\xff\xe0", 4, "A-z_4A");

        /* every byte value round-trips at every length */
        for (size_t len = 0; len <= 256; len++) {
                uint8_t in[256];
                size_t n;

                for (size_t i = 0; i < len; i++)
                        in[i] = (uint8_t)(i * 7 + len);
                n = b64url_encode(in, len, enc);
                assert(n == b64url_encoded_len(len));
                assert(b64url_decode(enc, n, out) == (long)len);
                assert(memcmp(in, out, len) == 0);
        }

        /* refusals: padding, white space, the standard alphabet, junk */
        assert(b64url_decode("Zg==", 4, out) == -EINVAL);
        assert(b64url_decode("Zm8=", 4, out) == -EINVAL);
        assert(b64url_decode("Zg=", 3, out) == -EINVAL);
        assert(b64url_decode("Zm9v\n", 5, out) == -EINVAL);
        assert(b64url_decode("Zm9 v", 5, out) == -EINVAL);
        assert(b64url_decode(" Zm9v", 5, out) == -EINVAL);
        assert(b64url_decode("Zm\r\n9v", 6, out) == -EINVAL);
        assert(b64url_decode("+/8", 3, out) == -EINVAL);
        assert(b64url_decode("ab+d", 4, out) == -EINVAL);
        assert(b64url_decode("ab/d", 4, out) == -EINVAL);
        assert(b64url_decode("Zm9v\0Zm9", 8, out) == -EINVAL);
        assert(b64url_decode("Zm9\xc3\xa9", 5, out) == -EINVAL);
        assert(b64url_decode("Zm9.", 4, out) == -EINVAL);
        /* a single char left over cannot encode a byte */
        assert(b64url_decode("Z", 1, out) == -EINVAL);
        assert(b64url_decode("Zm9vY", 5, out) == -EINVAL);
        /* non-canonical trailing bits: "Zh" and "Zm9" vs "Zm8" decode to the same bytes */
        assert(b64url_decode("Zg", 2, out) == 1);
        assert(b64url_decode("Zh", 2, out) == -EINVAL);
        assert(b64url_decode("Zv", 2, out) == -EINVAL);
        assert(b64url_decode("Zm8", 3, out) == 2);
        assert(b64url_decode("Zm9", 3, out) == -EINVAL);
        assert(b64url_decode("Zm-", 3, out) == -EINVAL);
        assert(b64url_decode("A-z_4B", 6, out) == -EINVAL);
        /* every non-canonical last char of a 2-char tail is refused */
        for (const char *c = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"; *c; c++) {
                char s[3] = { 'Q', *c, 0 };
                long want = (strchr("AQgw", *c)) ? 1 : -EINVAL;

                assert(b64url_decode(s, 2, out) == want);
        }
        /* decoding the first `len` chars only: what follows is not read */
        assert(b64url_decode("Zm9v====", 4, out) == 3);
        assert(memcmp(out, "foo", 3) == 0);
        printf("b64url: ok\n");
}

/* RFC 4648 section 10 vectors, padded; then the strictness checkpoints rely on. */
static void test_b64(void)
{
        static const char *const vectors[][2] = {
                { "", "" },
                { "f", "Zg==" },
                { "fo", "Zm8=" },
                { "foo", "Zm9v" },
                { "foob", "Zm9vYg==" },
                { "fooba", "Zm9vYmE=" },
                { "foobar", "Zm9vYmFy" },
        };
        const uint8_t bin[] = { 0xfb, 0xff, 0xfe };
        char enc[16];
        uint8_t out[16];

        for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
                size_t n = strlen(vectors[i][0]);

                assert(b64_encoded_len(n) == strlen(vectors[i][1]));
                b64_encode(vectors[i][0], n, enc);
                assert(strcmp(enc, vectors[i][1]) == 0);
                if (n == 0)
                        continue;
                assert(b64_decode(enc, strlen(enc), out, sizeof(out)) == (long)n);
                assert(memcmp(out, vectors[i][0], n) == 0);
                /* one byte of room too few */
                assert(b64_decode(enc, strlen(enc), out, n - 1) == -EINVAL);
        }
        b64_encode(bin, sizeof(bin), enc);
        assert(strcmp(enc, "+//+") == 0);
        assert(b64_decode("+//+", 4, out, sizeof(out)) == 3 && memcmp(out, bin, 3) == 0);

        assert(b64_decode("", 0, out, sizeof(out)) == -EINVAL);
        assert(b64_decode("Zg", 2, out, sizeof(out)) == -EINVAL);   /* padding is required */
        assert(b64_decode("Zh==", 4, out, sizeof(out)) == -EINVAL); /* non-zero unused bits */
        assert(b64_decode("Zm9=", 4, out, sizeof(out)) == -EINVAL);
        assert(b64_decode("Zg==Zg==", 8, out, sizeof(out)) == -EINVAL); /* padding only at the end */
        assert(b64_decode("Zg=v", 4, out, sizeof(out)) == -EINVAL);
        assert(b64_decode("-_8A", 4, out, sizeof(out)) == -EINVAL); /* the url alphabet */
        assert(b64_decode("Zm9 ", 4, out, sizeof(out)) == -EINVAL);
        assert(b64_decode("Zm9v\n", 5, out, sizeof(out)) == -EINVAL);
        printf("b64: ok\n");
}

int main(void)
{
        test_sha256();
        test_hex();
        test_b64url();
        test_b64();
        return 0;
}
