/* test-cli.c: the pure parts of the xbus tool (targets, URLs, tables, receipts, log rows, addresses, commands) */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli-command.h"
#include "cli/cli-exchange.h"
#include "cli/cli-log.h"
#include "cli/cli-node-state.h"
#include "cli/cli-node.h"
#include "cli/cli-receipt.h"
#include "cli/cli-table.h"
#include "cli/cli-target.h"
#include "crypto/hash.h"
#include "crypto/receipt.h"
#include "crypto/signer.h"
#include "log/batch-receipt.h"
#include "log/exlog.h"
#include "log/merkle.h"
#include "util/macro.h"

static unsigned n_checks;
#define CHECK(x)            \
        do {                \
                assert(x);  \
                n_checks++; \
        } while (0)

/* --- SERVICE[/path][?query] ---------------------------------------------- */

static void check_target(const char *text, const char *service, const char *path, const char *query)
{
        CliTarget t = {};
        const char *reason = NULL;

        CHECK(cli_target_parse(text, &t, &reason) == 0);
        CHECK(streq(t.service, service));
        CHECK(streq(t.path, path));
        CHECK(streq(t.query, query));
        cli_target_done(&t);
        CHECK(!t.service && !t.path && !t.query);
}

static void refuse_target(const char *text)
{
        CliTarget t = { .service = (char *)"untouched" };
        const char *reason = NULL;

        CHECK(cli_target_parse(text, &t, &reason) == -EINVAL);
        CHECK(reason && *reason);
        CHECK(streq(t.service, "untouched")); /* written only on success */
}

static void test_target(void)
{
        char *long_text;

        check_target("VN/GOV/BCA/population/citizen", "VN/GOV/BCA/population/citizen", "", "");
        check_target("VN/GOV/BKHDT/business-registry/enterprise/0100000001",
                     "VN/GOV/BKHDT/business-registry/enterprise", "/0100000001", "");
        check_target("VN/GOV/BTC/tax/tax-status?year=2025&x=1", "VN/GOV/BTC/tax/tax-status", "", "year=2025&x=1");
        check_target("VN/GOV/A/b/c/d/e?q=a/b?c", "VN/GOV/A/b/c", "/d/e", "q=a/b?c");
        check_target("VN/GOV/A/b/c/", "VN/GOV/A/b/c", "/", "");
        check_target("VN/GOV/A/b/c?", "VN/GOV/A/b/c", "", "");
        check_target("VN/GOV/A/b/c/a b", "VN/GOV/A/b/c", "/a b", "");

        refuse_target(NULL);
        refuse_target("");
        refuse_target("/VN/GOV/BCA/population/citizen");
        refuse_target("VN/GOV/BCA/population");
        refuse_target("VN/GOV/BCA/population/");
        refuse_target("VN//BCA/population/citizen");
        refuse_target("VN/GOV/BCA/population/citizen#frag");
        refuse_target("VN/GOV/BCA/population/cit\nizen");
        refuse_target("VN/GOV/BCA/population/citizen?a=\x1b[31m");
        refuse_target("VN/GOV/BCA/population?/citizen");
        long_text = malloc(CLI_TARGET_MAX + 2);
        assert(long_text);
        memset(long_text, 'a', CLI_TARGET_MAX + 1);
        memcpy(long_text, "VN/GOV/A/b/c/", 13);
        long_text[CLI_TARGET_MAX + 1] = 0;
        refuse_target(long_text);
        long_text[CLI_TARGET_MAX] = 0; /* exactly the limit */
        {
                CliTarget t = {};
                CHECK(cli_target_parse(long_text, &t, NULL) == 0);
                cli_target_done(&t);
        }
        free(long_text);
}

static void check_url(const char *base, const char *text, const char *want)
{
        _cleanup_free_ char *url = NULL;
        CliTarget t = {};

        CHECK(cli_target_parse(text, &t, NULL) == 0);
        CHECK(cli_target_url(base, &t, &url) == 0);
        if (!streq(url, want))
                fprintf(stderr, "url: got %s, want %s\n", url, want);
        CHECK(streq(url, want));
        cli_target_done(&t);
}

static void test_url(void)
{
        CliTarget t = {};
        char *url = NULL;

        check_url("https://127.0.0.1:8443", "VN/GOV/BCA/population/citizen",
                  "https://127.0.0.1:8443/r1/VN/GOV/BCA/population/citizen");
        check_url("https://127.0.0.1:8443///", "VN/GOV/BCA/population/citizen?a=1",
                  "https://127.0.0.1:8443/r1/VN/GOV/BCA/population/citizen?a=1");
        /* spaces and non-ASCII are encoded; an escape already there is kept; a lone '%' is encoded */
        check_url("https://h:1", "VN/GOV/A/b/c/a b/%41/%zz/100%?q=x y&r=%2F&s=é",
                  "https://h:1/r1/VN/GOV/A/b/c/a%20b/%41/%25zz/100%25?q=x%20y&r=%2F&s=%C3%A9");
        /* a service segment keeps only unreserved characters */
        check_url("https://h:1", "VN/GOV/A:B/b@x/c(d)", "https://h:1/r1/VN/GOV/A%3AB/b%40x/c%28d%29");
        /* path keeps sub-delims, ':' and '@'; query keeps '/' and '?' */
        check_url("https://h:1", "VN/GOV/A/b/c/x:y@z;w=1?a=/b?c", "https://h:1/r1/VN/GOV/A/b/c/x:y@z;w=1?a=/b?c");

        CHECK(cli_target_parse("VN/GOV/A/b/c", &t, NULL) == 0);
        CHECK(cli_target_url("ftp://h:1", &t, &url) == -EINVAL);
        CHECK(cli_target_url("127.0.0.1:8443", &t, &url) == -EINVAL);
        CHECK(cli_target_url(NULL, &t, &url) == -EINVAL);
        CHECK(url == NULL);
        cli_target_done(&t);
}

/* --- tables and text ----------------------------------------------------- */

static char *render(const CliTable *t)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert(f);
        CHECK(cli_table_print(t, f) == 0);
        assert(fclose(f) == 0);
        return buf;
}

static void test_table(void)
{
        _cleanup_(cli_table_freep) CliTable *t = NULL;
        _cleanup_free_ char *out = NULL, *out2 = NULL;
        const char *h[] = { "A", "BB", "C" };

        CHECK(cli_table_new(&t, h, 0) == -EINVAL);
        CHECK(cli_table_new(&t, h, CLI_TABLE_MAX_COLUMNS + 1) == -EINVAL);
        CHECK(cli_table_new(&t, h, 3) == 0);
        CHECK(cli_table_add_row(t, (const char *const[]){ "1", "2" }, 2) == -EINVAL);
        CHECK(cli_table_add_row(t, (const char *const[]){ "xyz", NULL, "last" }, 3) == 0);
        CHECK(cli_table_add_row(t, (const char *const[]){ "Nguyễn", "b", "" }, 3) == 0);
        CHECK(cli_table_rows(t) == 2);
        out = render(t);
        /* widths in code points, "-" for NULL, no trailing spaces */
        CHECK(streq(out, "A       BB  C\n"
                         "xyz     -   last\n"
                         "Nguyễn  b\n"));

        /* cut to a maximum width, with an ellipsis */
        CHECK(cli_table_set_max_width(t, 0, 1) == -EINVAL);
        CHECK(cli_table_set_max_width(t, 3, 4) == -EINVAL);
        CHECK(cli_table_set_max_width(t, 0, 4) == 0);
        out2 = render(t);
        CHECK(streq(out2, "A     BB  C\n"
                          "xyz   -   last\n"
                          "Ngu…  b\n"));
        t = cli_table_free(t);

        /* control characters (C0, DEL, C1) and invalid UTF-8 never reach the terminal */
        {
                _cleanup_free_ char *s = cli_sanitize("a\x1b[31mb\x7f\xc2\x9b"
                                                      "c\xff\xc3",
                                                      100);
                CHECK(streq(s, "a?[31mb??c??"));
        }
        {
                _cleanup_free_ char *s = cli_sanitize("éé", 3); /* cut on a code point boundary */
                CHECK(streq(s, "é"));
        }
        {
                _cleanup_free_ char *s = cli_sanitize(NULL, 10);
                CHECK(streq(s, ""));
        }
        CHECK(cli_text_width("Nguyễn Văn An") == 13);

        /* the row limit */
        CHECK(cli_table_new(&t, h, 1) == 0);
        for (unsigned i = 0; i < CLI_TABLE_MAX_ROWS; i++)
                assert(cli_table_add_row(t, (const char *const[]){ "x" }, 1) == 0);
        CHECK(cli_table_add_row(t, (const char *const[]){ "x" }, 1) == -E2BIG);
}

static void test_shell_quote(void)
{
        const struct {
                const char *in, *out;
        } cases[] = {
                { "state", "state" }, { "/tmp/xbus-cli-state", "/tmp/xbus-cli-state" },
                { "a b", "'a b'" },   { "it's", "'it'\\''s'" },
                { "", "''" },         { "$(rm -rf /)", "'$(rm -rf /)'" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *q = cli_shell_quote(cases[i].in);
                CHECK(q && streq(q, cases[i].out));
        }
}

/* --- numbers and addresses ----------------------------------------------- */

static void test_numbers_and_addresses(void)
{
        const char *bad_seq[] = { "", "-1", "+1", "01", "1a", " 1", "9223372036854775808", "99999999999999999999" };
        const char *bad_listen[] = {
                "",         "8443",      "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:84a3",
                "::1:8443", "[::1:8443", "[zz]:1",    "a b:1"
        };
        const char *bad_url[] = { "http://127.0.0.1:8443", "127.0.0.1:8443", "https://",
                                  "https://:8443",         "https://h:0",    "https://h:1/path",
                                  "https://u@h:1",         "https://h:1?x",  "https://h:99999" };
        unsigned adapters = 99;
        uint64_t v = 7;

        CHECK(cli_parse_seq("0", &v) == 0 && v == 0);
        CHECK(cli_parse_seq("42", &v) == 0 && v == 42);
        CHECK(cli_parse_seq("9223372036854775807", &v) == 0 && v == INT64_MAX);
        for (size_t i = 0; i < ELEMENTSOF(bad_seq); i++) {
                v = 7;
                CHECK(cli_parse_seq(bad_seq[i], &v) == -EINVAL && v == 7);
        }
        CHECK(cli_parse_seq(NULL, &v) == -EINVAL);

        {
                const struct {
                        const char *listen, *url;
                } ok[] = {
                        { "127.0.0.1:8443", "https://127.0.0.1:8443" }, { "0.0.0.0:18443", "https://127.0.0.1:18443" },
                        { ":8443", "https://127.0.0.1:8443" },          { "[::]:1", "https://[::1]:1" },
                        { "[::1]:443", "https://[::1]:443" },           { "localhost:8443", "https://localhost:8443" },
                };
                for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                        _cleanup_free_ char *url = NULL;
                        CHECK(cli_node_url_from_listen(ok[i].listen, &url) == 0 && streq(url, ok[i].url));
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(bad_listen); i++) {
                char *url = NULL;
                CHECK(cli_node_url_from_listen(bad_listen[i], &url) == -EINVAL && !url);
        }
        {
                const struct {
                        const char *url, *listen;
                } ok[] = {
                        { "https://127.0.0.1:18443", "127.0.0.1:18443" },
                        { "https://127.0.0.1:18443/", "127.0.0.1:18443" },
                        { "https://localhost", "localhost:443" },
                        { "https://[::1]:8443", "[::1]:8443" },
                        { "https://[::1]", "[::1]:443" },
                };
                for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                        _cleanup_free_ char *listen = NULL;
                        CHECK(cli_node_listen_from_url(ok[i].url, &listen) == 0 && streq(listen, ok[i].listen));
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(bad_url); i++) {
                char *listen = NULL;
                CHECK(cli_node_listen_from_url(bad_url[i], &listen) == -EINVAL && !listen);
        }

        /* /health answers */
#define HEALTH(s) cli_health_parse(s, strlen(s), &adapters)
        CHECK(HEALTH("{\"status\":\"ok\",\"adapters\":2,\"log_entries\":5}") == 0 && adapters == 2);
        CHECK(HEALTH("{\"status\":\"ok\",\"adapters\":0}") == 0 && adapters == 0);
        CHECK(HEALTH("{\"status\":\"unavailable\",\"reasons\":[],\"adapters\":3}") == 1 && adapters == 3);
        adapters = 99;
        CHECK(HEALTH("{\"status\":\"down\",\"adapters\":2}") == -EINVAL);
        CHECK(HEALTH("{\"status\":\"ok\",\"adapters\":-1}") == -EINVAL);
        CHECK(HEALTH("{\"status\":\"ok\",\"adapters\":\"2\"}") == -EINVAL);
        CHECK(HEALTH("{\"status\":\"ok\",\"adapters\":99999999999}") == -EINVAL);
        CHECK(HEALTH("{\"status\":\"ok\"}") == -EINVAL);
        CHECK(HEALTH("[1]") == -EINVAL);
        CHECK(HEALTH("<html>") == -EINVAL);
        CHECK(HEALTH("{\"status\":\"ok\",\"status\":\"ok\",\"adapters\":1}") == -EINVAL);
        CHECK(adapters == 99);
#undef HEALTH
        {
                char *big = malloc(8192);
                assert(big);
                memset(big, ' ', 8191);
                big[8191] = 0;
                memcpy(big, "{\"status\":\"ok\",\"adapters\":1}", 28);
                CHECK(cli_health_parse(big, 8191, &adapters) == -EINVAL);
                free(big);
        }
}

/* --- receipts ------------------------------------------------------------ */

static Signer *new_signer(void)
{
        EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        Signer *s = NULL;

        assert(pkey);
        assert(signer_new(&s, pkey) == 0);
        EVP_PKEY_free(pkey);
        return s;
}

static void sha_hex(const char *data, char out[HASH_SHA256_HEX_LEN + 1])
{
        uint8_t d[HASH_SHA256_LEN];

        hash_sha256(data, strlen(data), d);
        hex_encode(d, sizeof(d), out);
}

static char *reason_of(int want, const json_t *jwk, const char *jws, const CliReceiptExpect *e)
{
        char *reason = NULL;
        json_t *payload = NULL;
        int r = cli_receipt_verify(jwk, jws, e, &payload, &reason);

        if (r != want)
                fprintf(stderr, "receipt: got %d (%s), want %d\n", r, strempty(reason), want);
        CHECK(r == want);
        CHECK(payload == NULL);
        CHECK(reason && *reason);
        return reason;
}

/* Receipts of a group commit ("<head>~<entry>~<path>", log/batch-receipt.h): a tree of two entries, each with a
 * receipt under one signed head; the verifier walks the path and matches the entry as it does a payload. */
static void test_batch_receipt(void)
{
        _cleanup_(signer_freep) Signer *s = new_signer(), *other = new_signer();
        _cleanup_(json_decrefp) json_t *jwk = signer_public_jwk(s), *payload = NULL;
        _cleanup_free_ char *head = NULL, *other_head = NULL, *rc0 = NULL, *rc1 = NULL, *bad = NULL;
        const char *body = "{\"id\":\"001090000001\"}";
        char req_hash[65], resp_hash[65], entry[2][1024];
        uint8_t leaf[2][MERKLE_HASH_LEN];
        BatchHead h = { .origin = "xbus.local", .size = 2, .time = "2026-12-06T09:00:00.000001Z" };
        CliReceiptExpect e;
        char *reason = NULL;

        sha_hex("", req_hash);
        sha_hex(body, resp_hash);
        for (int i = 0; i < 2; i++) {
                snprintf(entry[i], sizeof(entry[i]),
                         "{\"v\":1,\"seq\":%d,\"time\":\"2026-12-06T09:00:00.00000%dZ\",\"xroad_id\":\"x-%d\","
                         "\"client\":\"VN/GOV/BYT/health-services\",\"service\":\"VN/GOV/BCA/population/citizen\","
                         "\"subject\":null,\"status\":200,\"request_hash\":\"%s\",\"response_hash\":\"%s\"}",
                         i, i, i, req_hash, resp_hash);
                assert(merkle_leaf_hash(entry[i], strlen(entry[i]), leaf[i]) == 0);
        }
        assert(merkle_node_hash(leaf[0], leaf[1], h.root) == 0);
        assert(batch_receipt_head_sign(s, &h, &head) == 0);
        assert(batch_receipt_head_sign(other, &h, &other_head) == 0);
        assert(batch_receipt_format(head, entry[0], strlen(entry[0]), (const uint8_t(*)[MERKLE_HASH_LEN])leaf[1], 1,
                                    &rc0) == 0);
        assert(batch_receipt_format(head, entry[1], strlen(entry[1]), (const uint8_t(*)[MERKLE_HASH_LEN])leaf[0], 1,
                                    &rc1) == 0);
        e = (CliReceiptExpect){ .xroad_id = "x-1",
                                .client = "VN/GOV/BYT/health-services",
                                .service = "VN/GOV/BCA/population/citizen",
                                .request_hash = req_hash,
                                .body = body,
                                .body_size = strlen(body),
                                .has_seq = true,
                                .seq = 1 };

        CHECK(cli_receipt_verify(jwk, rc1, &e, &payload, &reason) == 0);
        CHECK(!reason && json_integer_value(json_object_get(payload, "seq")) == 1);
        /* the receipt of another exchange (valid by itself) */
        free(reason_of(CLI_RECEIPT_E_CONTENT, jwk, rc0, &e));
        /* a tampered entry: its leaf is no longer under the root */
        {
                _cleanup_free_ char *e1 = strdup(entry[1]);
                memcpy(strstr(e1, "\"status\":200"), "\"status\":201", 12);
                assert(batch_receipt_format(head, e1, strlen(e1), (const uint8_t(*)[MERKLE_HASH_LEN])leaf[0], 1,
                                            &bad) == 0);
                free(reason_of(CLI_RECEIPT_E_SIGNATURE, jwk, bad, &e));
                bad = mfree(bad);
        }
        /* a tampered path */
        {
                uint8_t p[MERKLE_HASH_LEN];
                memcpy(p, leaf[0], sizeof(p));
                p[7] ^= 1;
                assert(batch_receipt_format(head, entry[1], strlen(entry[1]), (const uint8_t(*)[MERKLE_HASH_LEN])p, 1,
                                            &bad) == 0);
                free(reason_of(CLI_RECEIPT_E_SIGNATURE, jwk, bad, &e));
                bad = mfree(bad);
        }
        /* the head signed by another key */
        assert(batch_receipt_format(other_head, entry[1], strlen(entry[1]), (const uint8_t(*)[MERKLE_HASH_LEN])leaf[0],
                                    1, &bad) == 0);
        reason = reason_of(CLI_RECEIPT_E_SIGNATURE, jwk, bad, &e);
        CHECK(strstr(reason, "not signed by the node's key"));
        free(reason);
        /* not three parts */
        free(reason_of(CLI_RECEIPT_E_SIGNATURE, jwk, "a.b.c~x", &e));
}

static void test_receipt(const char *dir)
{
        _cleanup_(signer_freep) Signer *s = new_signer(), *other = new_signer();
        _cleanup_(json_decrefp) json_t *jwk = signer_public_jwk(s), *other_jwk = signer_public_jwk(other);
        _cleanup_free_ char *jws = NULL, *not_receipt = NULL, *payload_text = NULL;
        const char *body = "{\"id\":\"001090000001\",\"full_name\":\"Nguyễn Văn An\"}";
        char req_hash[65], resp_hash[65];
        Receipt rc;
        CliReceiptExpect e;
        json_t *payload = NULL;
        char *reason = NULL;

        sha_hex("", req_hash);
        sha_hex(body, resp_hash);
        rc = (Receipt){ .seq = 17,
                        .time = "2026-01-02T03:04:05.000006Z",
                        .xroad_id = "5f0c6f0e-8a1b-4c6e-9d7e-0123456789ab",
                        .client = "VN/GOV/BYT/health-services",
                        .service = "VN/GOV/BCA/population/citizen",
                        .request_hash = req_hash,
                        .response_hash = resp_hash,
                        .purpose = "health-insurance-enrolment",
                        .basis = "statute" };
        assert(receipt_sign(s, &rc, &jws) == 0);
        e = (CliReceiptExpect){ .xroad_id = rc.xroad_id,
                                .client = rc.client,
                                .service = rc.service,
                                .request_hash = req_hash,
                                .body = body,
                                .body_size = strlen(body),
                                .has_seq = true,
                                .seq = 17 };

        CHECK(cli_receipt_verify(jwk, jws, &e, &payload, &reason) == 0);
        CHECK(!reason);
        CHECK(json_integer_value(json_object_get(payload, "seq")) == 17);
        CHECK(streq(json_string_value(json_object_get(payload, "basis")), "statute"));
        json_decref(payload);

        /* the body received is not the one signed */
        {
                CliReceiptExpect x = e;
                x.body = "{\"id\":\"001090000002\"}";
                x.body_size = strlen(x.body);
                free(reason_of(CLI_RECEIPT_E_CONTENT, jwk, jws, &x));
                x.body_size = strlen(body) - 1; /* one byte missing */
                x.body = body;
                free(reason_of(CLI_RECEIPT_E_CONTENT, jwk, jws, &x));
        }
        /* another exchange's id, client, service, request */
        {
                CliReceiptExpect x = e;
                x.xroad_id = "5f0c6f0e-8a1b-4c6e-9d7e-0123456789ac";
                free(reason_of(CLI_RECEIPT_E_CONTENT, jwk, jws, &x));
                x = e;
                x.client = "VN/COM/VCB/kyc";
                free(reason_of(CLI_RECEIPT_E_CONTENT, jwk, jws, &x));
                x = e;
                x.service = "VN/GOV/BTC/tax/tax-status";
                free(reason_of(CLI_RECEIPT_E_CONTENT, jwk, jws, &x));
                x = e;
                sha_hex("{}", req_hash);
                free(reason_of(CLI_RECEIPT_E_CONTENT, jwk, jws, &x));
                sha_hex("", req_hash);
                x = e;
                x.seq = 18;
                reason = reason_of(CLI_RECEIPT_E_CONTENT, jwk, jws, &x);
                CHECK(strstr(reason, "17") && strstr(reason, "18"));
                reason = mfree(reason);
                x.has_seq = false; /* no X-Bus-Log-Seq to compare with: the receipt alone decides */
                CHECK(cli_receipt_verify(jwk, jws, &x, NULL, NULL) == 0);
        }
        /* another key, a tampered payload, a tampered signature, garbage */
        free(reason_of(CLI_RECEIPT_E_SIGNATURE, other_jwk, jws, &e));
        {
                _cleanup_free_ char *t = strdup(jws);
                char *dot = strchr(t, '.');
                dot[3] = dot[3] == 'A' ? 'B' : 'A';
                free(reason_of(CLI_RECEIPT_E_SIGNATURE, jwk, t, &e));
                free(t);
                t = strdup(jws);
                t[strlen(t) - 2] = t[strlen(t) - 2] == 'A' ? 'B' : 'A';
                free(reason_of(CLI_RECEIPT_E_SIGNATURE, jwk, t, &e));
        }
        free(reason_of(CLI_RECEIPT_E_SIGNATURE, jwk, "", &e));
        free(reason_of(CLI_RECEIPT_E_SIGNATURE, jwk, "a.b.c", &e));
        free(reason_of(CLI_RECEIPT_E_SIGNATURE, jwk, "eyJhbGciOiJub25lIn0.e30.", &e));
        /* a valid JWS by the node's key that is not a receipt */
        assert(receipt_payload(&rc, &payload_text) == 0);
        assert(signer_sign_compact(s, "xbus-consent+jws", payload_text, strlen(payload_text), &not_receipt) == 0);
        free(reason_of(CLI_RECEIPT_E_SIGNATURE, jwk, not_receipt, &e));
        /* a receipt that lacks fields */
        {
                _cleanup_free_ char *partial = NULL;
                const char *p = "{\"seq\":17,\"xroad_id\":\"5f0c6f0e-8a1b-4c6e-9d7e-0123456789ab\"}";
                assert(signer_sign_compact(s, "xbus-receipt+jws", p, strlen(p), &partial) == 0);
                free(reason_of(CLI_RECEIPT_E_CONTENT, jwk, partial, &e));
        }
        /* a negative seq */
        {
                _cleanup_free_ char *neg = NULL, *p = NULL;
                char *at;
                p = strdup(payload_text);
                at = strstr(p, "\"seq\":17");
                memcpy(at, "\"seq\":-1", 8);
                assert(signer_sign_compact(s, "xbus-receipt+jws", p, strlen(p), &neg) == 0);
                CliReceiptExpect x = e;
                x.has_seq = false;
                free(reason_of(CLI_RECEIPT_E_CONTENT, jwk, neg, &x));
        }
        /* keys that are not usable */
        {
                _cleanup_(json_decrefp) json_t *bad = json_pack("{s:s}", "kty", "oct");
                free(reason_of(CLI_RECEIPT_E_KEY, bad, jws, &e));
        }
        CHECK(cli_receipt_verify(NULL, jws, &e, NULL, NULL) == -EINVAL);
        CHECK(cli_receipt_verify(jwk, NULL, &e, NULL, NULL) == -EINVAL);

        /* loading the JWK file */
        {
                _cleanup_free_ char *path = NULL, *text = json_dumps(jwk, 0);
                json_t *loaded = NULL;
                FILE *f;

                assert(asprintf(&path, "%s/signing.jwk", dir) > 0);
                CHECK(cli_receipt_load_jwk(path, &loaded, &reason) == CLI_RECEIPT_E_KEY && !loaded);
                reason = mfree(reason);
                f = fopen(path, "we");
                assert(f);
                fputs(text, f);
                fclose(f);
                CHECK(cli_receipt_load_jwk(path, &loaded, NULL) == 0);
                CHECK(cli_receipt_verify(loaded, jws, &e, NULL, NULL) == 0);
                json_decref(loaded);
                loaded = NULL;
                f = fopen(path, "we");
                fputs("[1,2]", f);
                fclose(f);
                CHECK(cli_receipt_load_jwk(path, &loaded, &reason) == CLI_RECEIPT_E_KEY && !loaded);
                reason = mfree(reason);
                f = fopen(path, "we");
                fputs("{\"kty\":\"EC\",\"kty\":\"EC\"}", f);
                fclose(f);
                CHECK(cli_receipt_load_jwk(path, &loaded, &reason) == CLI_RECEIPT_E_KEY && !loaded);
                reason = mfree(reason);
                CHECK(cli_receipt_load_jwk(dir, &loaded, &reason) == CLI_RECEIPT_E_KEY && !loaded);
                reason = mfree(reason);
                unlink(path);
        }
}

/* --- exchanges refused before any connection ----------------------------- */

static void test_exchange_refusals(const char *dir)
{
        CliExchange base = { .state_dir = dir,
                             .base_url = "https://127.0.0.1:1",
                             .client = "VN/GOV/BYT/health-services",
                             .target = "VN/GOV/BCA/population/citizen" };
        CliExchangeResult res = {};
        char *error = NULL, *cert = NULL, *key = NULL;

#define REFUSED_WITH(code, x)                                          \
        do {                                                           \
                CliExchange _x = base;                                 \
                x;                                                     \
                CHECK(cli_exchange_call(&_x, &res, &error) == (code)); \
                CHECK(error &&*error);                                 \
                CHECK(res.response == NULL);                           \
                error = mfree(error);                                  \
        } while (0)
#define REFUSED(x) REFUSED_WITH(-EINVAL, x)
        REFUSED(_x.client = NULL);
        REFUSED(_x.client = "");
        REFUSED(_x.client = "VN/GOV/BYT/health\r\nX-Evil: 1");
        REFUSED(_x.purpose = "a\nb");
        REFUSED(_x.subject = "");
        REFUSED(_x.target = "VN/GOV/BCA/population");
        REFUSED(_x.target = NULL);
        REFUSED(_x.base_url = "ftp://x");
        REFUSED(_x.method = "GET /x HTTP/1.1");
        REFUSED(_x.state_dir = NULL);
        /* the PKI files are missing in this folder: refused with a hint, before connecting */
        REFUSED_WITH(-ENOENT, (void)0);
#undef REFUSED
#undef REFUSED_WITH

        CHECK(cli_exchange_client_files("st", "VN/GOV/BYT/health-services", &cert, &key) == 0);
        CHECK(streq(cert, "st/pki/clients/VN_GOV_BYT_health-services.crt"));
        CHECK(streq(key, "st/pki/clients/VN_GOV_BYT_health-services.key"));
        free(cert);
        free(key);
}

/* --- the exchange log ---------------------------------------------------- */

static void append_entries(const char *logdir, const char *const *bodies, size_t n)
{
        ExchangeLog *log = NULL;
        ExlogRecord recs[8];
        Mailbox mb;
        size_t done = 0;

        assert(n <= ELEMENTSOF(recs));
        assert(mailbox_init(&mb, 0) == 0);
        assert(exlog_open(&log, logdir, &(ExlogOptions){ .map_size = MIB(16) }) == 0);
        for (size_t i = 0; i < n; i++) {
                recs[i] = (ExlogRecord){ .reply_to = &mb, .body = bodies[i], .body_size = strlen(bodies[i]) };
                assert(exlog_append(log, &recs[i]) == 0);
        }
        while (done < n) {
                mailbox_wait(&mb, 1000);
                for (MailboxItem *it = mailbox_drain(&mb); it; it = it->next) {
                        assert(((ExlogRecord *)it)->result == 0);
                        done++;
                }
        }
        exlog_close(log);
        mailbox_deinit(&mb);
}

static char *print_log(const char *state, uint64_t last, bool json, int want)
{
        char *buf = NULL, *error = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        int r;

        assert(f);
        r = cli_log_print_last(state, last, json, f, &error);
        assert(fclose(f) == 0);
        if (r != want)
                fprintf(stderr, "log: got %d (%s), want %d\n", r, strempty(error), want);
        CHECK(r == want);
        CHECK(want == 0 ? !error : error && *error);
        free(error);
        return buf;
}

static void test_log(const char *dir)
{
        _cleanup_free_ char *state = NULL, *logdir = NULL, *out = NULL;
        const char *bodies[] = {
                "{\"xroad_id\":\"id-0\",\"client\":\"VN/GOV/BYT/health-services\",\"service\":"
                "\"VN/GOV/BCA/population/"
                "citizen\",\"purpose\":\"health-insurance-enrolment\",\"basis\":\"statute\","
                "\"decision\":\"allow\",\"status\":200,\"error\":null}",
                "{\"xroad_id\":\"id-1\",\"client\":\"VN/COM/VCB/kyc\",\"service\":\"VN/GOV/BCA/population/"
                "citizen\","
                "\"purpose\":\"loan-application\",\"basis\":null,\"decision\":\"deny\",\"status\":403,"
                "\"error\":\"access_denied\"}",
                "{\"xroad_id\":\"id-2\",\"client\":\"VN/GOV/X/"
                "\\u001b[2Jevil\",\"service\":null,\"decision\":\"deny\","
                "\"status\":404,\"error\":\"service_unknown\"}",
        };

        state = strdup(dir);
        assert(state);
        assert(asprintf(&logdir, "%s/log", state) > 0);

        /* no log yet */
        free(print_log(state, 20, false, -ENOENT));
        free(print_log("/nonexistent/xbus-state", 20, true, -ENOENT));

        assert(mkdir(logdir, 0700) == 0);
        append_entries(logdir, bodies, 0);
        out = print_log(state, 20, false, 0);
        CHECK(streq(out, "The exchange log is empty.\n"));
        out = mfree(out);

        append_entries(logdir, bodies, ELEMENTSOF(bodies));
        out = print_log(state, 20, false, 0);
        CHECK(strncmp(out, "SEQ  TIME (UTC)", 15) == 0);
        CHECK(strstr(out, "\n0    20"));
        CHECK(strstr(out, "VN/GOV/BYT/health-services"));
        CHECK(strstr(out, "allow     200 "));
        CHECK(strstr(out, "403 access_denied"));
        CHECK(strstr(out, "health-insurance-enrolment  statute\n"));
        CHECK(strstr(out, "VN/GOV/X/?[2Jevil")); /* the escape is neutralised */
        CHECK(!strchr(out, '\x1b'));
        CHECK(strstr(out, "404 service_unknown"));
        out = mfree(out);

        /* --last: only the newest entries */
        out = print_log(state, 1, false, 0);
        CHECK(!strstr(out, "access_denied") && strstr(out, "service_unknown"));
        CHECK(strstr(out, "\n2 "));
        out = mfree(out);

        /* --json: the stored bytes, one entry per line */
        out = print_log(state, 2, true, 0);
        {
                char *nl = strchr(out, '\n');
                json_t *e;
                assert(nl);
                CHECK(strncmp(out, "{\"v\":1,\"seq\":1,\"time\":\"", 23) == 0);
                CHECK(strstr(out, bodies[1] + 1));
                e = json_loadb(out, (size_t)(nl - out), 0, NULL);
                CHECK(json_is_object(e));
                json_decref(e);
                CHECK(strstr(nl + 1, "\"seq\":2"));
                CHECK(strchr(nl + 1, '\n')[1] == 0);
        }
        out = mfree(out);

        /* limits */
        free(print_log(state, 0, false, -EINVAL));
        free(print_log(state, CLI_LOG_MAX_LAST + 1, false, -EINVAL));
        out = print_log(state, CLI_LOG_MAX_LAST, false, 0);
        out = mfree(out);

        /* status text */
        {
                char buf[64];
                json_t *e = json_pack("{s:i, s:s}", "status", 403, "error", "consent_required");
                CHECK(streq(cli_log_status_text(e, buf, sizeof(buf)), "403 consent_required"));
                json_decref(e);
                e = json_pack("{s:s}", "error", "bus_busy");
                CHECK(streq(cli_log_status_text(e, buf, sizeof(buf)), "bus_busy"));
                json_decref(e);
                e = json_pack("{s:i, s:n}", "status", 200, "error");
                CHECK(streq(cli_log_status_text(e, buf, sizeof(buf)), "200"));
                json_decref(e);
                e = json_object();
                CHECK(streq(cli_log_status_text(e, buf, sizeof(buf)), "-"));
                json_decref(e);
        }
        /* a row from an entry with fields of the wrong type shows "-" */
        {
                _cleanup_(cli_table_freep) CliTable *t = NULL;
                _cleanup_free_ char *s = NULL;
                json_t *e = json_pack("{s:s, s:i, s:[]}", "seq", "x", "client", 5, "time", "2026-01-02T03:04:05Z");
                CHECK(cli_log_table_new(&t) == 0);
                CHECK(cli_log_table_add(t, e) == 0);
                CHECK(cli_log_table_add(t, NULL) == -EINVAL);
                s = render(t);
                CHECK(strstr(s, "\n-    -           -       -        -         -       -        -\n"));
                json_decref(e);
        }
}

/* --- command tables (cli-command) ----------------------------------------- */

typedef struct TestArgs {
        const char *state;
        bool json;
        uint64_t count;
        unsigned calls; /* of the handler */
} TestArgs;

static int test_option(const CliCommand *c, int key, const char *arg, void *userdata)
{
        TestArgs *a = userdata;

        a->calls++;
        if (key != 'n' || parse_u64(arg, 1, 9, &a->count) < 0)
                return cli_command_usage_error(c, "--count must be a number from 1 to 9");
        return 0;
}

static int test_run(const CliCommand *c, int argc, char **argv)
{
        return streq(argv[0], "xbus test") && argc == 2 ? 42 : 1;
}

static const CliOption test_options[] = {
        CLI_STRING('s', "state", "DIR", "state folder\nsecond line", TestArgs, state),
        CLI_FLAG(0, "json", "JSON Lines", TestArgs, json),
        { 'n', "count", "N", "how many" },
        CLI_STRING(0, "folder", "DIR", NULL, TestArgs, state),
        {},
};

static const CliCommand test_command = {
        .name = "xbus test",
        .summary = "a command to test",
        .description = "Tests.\n",
        .options = test_options,
        .epilogue = "Example:\n  xbus test\n",
        .run = test_run,
};

/* Parse the words (the command first) into *a. Return: what cli_command_parse() returns; *ret_left the operands. */
static int test_parse(TestArgs *a, int *ret_left, const char *const *words)
{
        char *argv[16];
        char **args = argv;
        int argc = 0, r;

        while (words[argc]) {
                argv[argc] = (char *)words[argc];
                argc++;
        }
        argv[argc] = NULL;
        *a = (TestArgs){};
        r = cli_command_parse(&test_command, &argc, &args, test_option, a);
        *ret_left = argc;
        return r;
}

static char *test_help_text(void)
{
        char path[] = "/tmp/xbus-test-cli-help-XXXXXX", *text = NULL;
        int fd = mkstemp(path), saved = dup(STDOUT_FILENO);
        size_t n = 0;
        FILE *f;

        assert(fd >= 0 && saved >= 0);
        fflush(stdout);
        dup2(fd, STDOUT_FILENO);
        cli_command_help(&test_command);
        fflush(stdout);
        dup2(saved, STDOUT_FILENO);
        close(saved);
        close(fd);
        f = fopen(path, "re");
        assert(f);
        text = calloc(1, 4096);
        assert(text);
        n = fread(text, 1, 4095, f);
        text[n] = 0;
        fclose(f);
        unlink(path);
        return text;
}

static void test_command_table(void)
{
        static const char *const help = "Usage: xbus test [OPTIONS]\n\n"
                                        "Tests.\n\n"
                                        "  -s, --state DIR  state folder\n"
                                        "                   second line\n"
                                        "      --json       JSON Lines\n"
                                        "  -n, --count N    how many\n"
                                        "  -h, --help       this help\n\n"
                                        "Example:\n  xbus test\n";
        const CliCommand *list[] = { &test_command };
        char *argv[] = { (char *)"test", (char *)"x", NULL };
        _cleanup_free_ char *text = NULL;
        TestArgs a;
        int r, left;

        /* stored options, a flag, the handler for the rest, an alias */
        r = test_parse(&a, &left, (const char *const[]){ "xbus test", "-s", "d", "--json", "-n", "3", NULL });
        CHECK(r == CLI_CONTINUE && left == 0);
        CHECK(a.state && streq(a.state, "d") && a.json && a.count == 3 && a.calls == 1);
        r = test_parse(&a, &left, (const char *const[]){ "xbus test", "--folder=e", "--count=4", NULL });
        CHECK(r == CLI_CONTINUE && a.state && streq(a.state, "e") && !a.json && a.count == 4);
        /* usage errors: the handler's, an unknown option, a missing argument, an operand */
        r = test_parse(&a, &left, (const char *const[]){ "xbus test", "--count", "10", NULL });
        CHECK(r == CLI_EXIT_USAGE && a.count == 0);
        r = test_parse(&a, &left, (const char *const[]){ "xbus test", "--nope", NULL });
        CHECK(r == CLI_EXIT_USAGE && a.calls == 0);
        r = test_parse(&a, &left, (const char *const[]){ "xbus test", "--state", NULL });
        CHECK(r == CLI_EXIT_USAGE);
        r = test_parse(&a, &left, (const char *const[]){ "xbus test", "operand", NULL });
        CHECK(r == CLI_EXIT_USAGE);
        /* --help: generated from the table, aligned, and the command stops there */
        text = test_help_text();
        CHECK(streq(text, help));
        /* finding and running a command by its last word */
        CHECK(cli_command_find(list, ELEMENTSOF(list), "test") == &test_command);
        CHECK(!cli_command_find(list, ELEMENTSOF(list), "xbus"));
        r = cli_command_run(&test_command, 2, argv);
        CHECK(r == 42 && streq(argv[0], "xbus test"));
}

static int rm_rf(const char *path)
{
        char *cmd = NULL;
        int r;

        assert(asprintf(&cmd, "rm -rf '%s'", path) > 0);
        r = system(cmd);
        free(cmd);
        return r;
}

/* --- where a node listens: the state file, ports, what `xbus up` was told (cli-node-state.h) --- */

static void test_node_state(const char *dir)
{
        _cleanup_free_ char *state = NULL, *url = NULL, *host = NULL, *conf = NULL, *error = NULL;
        CliNodeState s = {};
        CliUpRequest u;
        unsigned port = 0, picked = 0;
        int fd, r;
        FILE *f;

        CHECK(asprintf(&state, "%s/state", dir) > 0 && mkdir(state, 0700) == 0);
        /* endpoints */
        CHECK(cli_split_endpoint("tcp://127.0.0.1:5560", &host, &port) == 0 && streq(host, "127.0.0.1") &&
              port == 5560);
        host = mfree(host);
        CHECK(cli_split_endpoint("[::1]:8443", &host, &port) == 0 && streq(host, "[::1]") && port == 8443);
        host = mfree(host);
        CHECK(cli_split_endpoint("ipc:///tmp/x", &host, &port) == -EINVAL);
        CHECK(cli_split_endpoint("tcp://h:0", &host, &port) == -EINVAL);

        /* the state file: none, then written, read, and what commands use; a damaged one is ignored */
        CHECK(cli_node_state_read(state, &s) == -ENOENT);
        url = cli_node_url(state, NULL);
        CHECK(url && streq(url, CLI_NODE_DEFAULT_URL));
        url = mfree(url);
        CHECK(cli_node_state_write(state, "https://127.0.0.1:8444", "tcp://127.0.0.1:5561") == 0);
        CHECK(cli_node_state_read(state, &s) == 0 && streq(s.url, "https://127.0.0.1:8444") &&
              streq(s.adapters, "tcp://127.0.0.1:5561"));
        cli_node_state_done(&s);
        url = cli_node_url(state, NULL);
        CHECK(url && streq(url, "https://127.0.0.1:8444"));
        url = mfree(url);
        url = cli_node_url(state, "https://127.0.0.1:9999");
        CHECK(url && streq(url, "https://127.0.0.1:9999")); /* --url wins */
        url = mfree(url);
        {
                _cleanup_free_ char *path = NULL;

                CHECK(asprintf(&path, "%s/node.json", state) > 0);
                f = fopen(path, "we");
                CHECK(f && fputs("{\"url\": \"ftp://x\", \"adapters\": \"tcp://a:1\"}\n", f) >= 0 && fclose(f) == 0);
                CHECK(cli_node_state_read(state, &s) == -EINVAL);
                url = cli_node_url(state, NULL);
                CHECK(url && streq(url, CLI_NODE_DEFAULT_URL));
                url = mfree(url);
        }
        cli_node_state_remove(state);
        CHECK(cli_node_state_read(state, &s) == -ENOENT);

        /* ports: a port that is listened on is taken; a pick skips it and what it must avoid */
        r = cli_port_free("127.0.0.1", 0);
        CHECK(r > 1);
        port = (unsigned)r;
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        {
                struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

                a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(fd, 1) == 0);
        }
        CHECK(cli_port_free("127.0.0.1", port) == 0);
        CHECK(cli_port_free("localhost", port) == 0);
        CHECK(cli_port_pick("127.0.0.1", port - 1, port + 1, &picked) == 0 && picked != port && picked != port + 1);
        CHECK(cli_port_free("not-an-address", port) == -EINVAL);
        close(fd);
        CHECK(cli_port_free("127.0.0.1", port) == 1);

        /* what `xbus up` was told: ports from options or the environment, a configuration's */
        unsetenv(CLI_ENV_PORT);
        unsetenv(CLI_ENV_ADAPTERS_PORT);
        u = (CliUpRequest){};
        CHECK(cli_up_resolve(&u, &error) == 0 && streq(u.state_dir, CLI_NODE_DEFAULT_STATE) && !u.listen_given &&
              !u.adapters_given);
        cli_up_request_done(&u);
        u = (CliUpRequest){ .port = 9443, .adapters_port = 9560 };
        CHECK(cli_up_resolve(&u, &error) == 0 && streq(u.listen_given, "127.0.0.1:9443") &&
              streq(u.adapters_given, "tcp://127.0.0.1:9560"));
        cli_up_request_done(&u);
        setenv(CLI_ENV_PORT, "7443", 1);
        u = (CliUpRequest){};
        CHECK(cli_up_resolve(&u, &error) == 0 && streq(u.listen_given, "127.0.0.1:7443") && !u.adapters_given);
        cli_up_request_done(&u);
        u = (CliUpRequest){ .port = 9443 }; /* the option wins */
        CHECK(cli_up_resolve(&u, &error) == 0 && streq(u.listen_given, "127.0.0.1:9443"));
        cli_up_request_done(&u);
        u = (CliUpRequest){ .listen = "127.0.0.1:1234" };
        CHECK(cli_up_resolve(&u, &error) == 0 && streq(u.listen_given, "127.0.0.1:1234"));
        cli_up_request_done(&u);
        setenv(CLI_ENV_PORT, "http", 1);
        u = (CliUpRequest){};
        CHECK(cli_up_resolve(&u, &error) == -EINVAL && error && strstr(error, "XBUS_PORT must be a port number"));
        error = mfree(error);
        cli_up_request_done(&u);
        unsetenv(CLI_ENV_PORT);
        u = (CliUpRequest){ .listen = "127.0.0.1:1", .port = 2 };
        CHECK(cli_up_resolve(&u, &error) == -EINVAL && error && strstr(error, "not both"));
        error = mfree(error);
        cli_up_request_done(&u);
        /* a configuration: its state folder, its addresses unless they are the defaults */
        CHECK(asprintf(&conf, "%s/node.conf", dir) > 0);
        f = fopen(conf, "we");
        CHECK(f &&
              fputs("[node]\nstate-dir = /srv/xbus\n[http]\nlisten = 127.0.0.1:8443\n[adapters]\nlisten = "
                    "tcp://127.0.0.1:6000\n",
                    f) >= 0 &&
              fclose(f) == 0);
        u = (CliUpRequest){ .config = conf };
        CHECK(cli_up_resolve(&u, &error) == 0 && streq(u.state_dir, "/srv/xbus") && !u.listen_given &&
              streq(u.adapters_given, "tcp://127.0.0.1:6000"));
        cli_up_request_done(&u);
        u = (CliUpRequest){ .config = conf, .state = "mine" };
        CHECK(cli_up_resolve(&u, &error) == 0 && streq(u.state_dir, "mine"));
        cli_up_request_done(&u);
        f = fopen(conf, "we");
        CHECK(f && fputs("[tls]\ncertificate = /etc/ssl/x.crt\n", f) >= 0 && fclose(f) == 0);
        u = (CliUpRequest){ .config = conf };
        CHECK(cli_up_resolve(&u, &error) == -EINVAL && error && strstr(error, "demo PKI"));
        error = mfree(error);
        cli_up_request_done(&u);
}

int main(void)
{
        char dir[] = "/tmp/xbus-test-cli-XXXXXX";

        assert(mkdtemp(dir));
        test_target();
        test_url();
        test_table();
        test_shell_quote();
        test_numbers_and_addresses();
        test_receipt(dir);
        test_batch_receipt();
        test_exchange_refusals(dir);
        test_log(dir);
        test_command_table();
        test_node_state(dir);
        rm_rf(dir);
        printf("test-cli: %u checks passed\n", n_checks);
        return 0;
}
