/* test-exlog-entry.c: the log entry's bytes, compared with the first renderer's on many odd entries */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consent/consent.h"
#include "log/exlog-entry.h"
#include "util/macro.h"
#include "util/utf8.h"

/*
 * The renderer as it was until issue 14 (a memory stream, one fputc() per
 * byte; the federation's peer fields included), kept here as the reference:
 * the entry's bytes are hashed into the Merkle log, so the new renderer
 * must give exactly these.
 */
static void old_put_string(FILE *f, const char *s)
{
        if (!s || !utf8_valid(s, strlen(s))) {
                fputs("null", f);
                return;
        }
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                static const char shortcuts[] = { ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't' };
                if (*p == '"' || *p == '\\')
                        fprintf(f, "\\%c", *p);
                else if (*p < 0x20 && *p < sizeof(shortcuts) && shortcuts[*p])
                        fprintf(f, "\\%c", shortcuts[*p]);
                else if (*p < 0x20)
                        fprintf(f, "\\u%04x", *p);
                else
                        fputc(*p, f);
        }
        fputc('"', f);
}

static void old_put_key(FILE *f, const char *key, bool first)
{
        fprintf(f, "%s\"%s\":", first ? "" : ",", key);
}

static void old_write(const ExlogEntry *e, FILE *f)
{
        bool refused = e->consent_refusal > 0;
        const struct {
                const char *key, *value;
        } strings[] = {
                { "xroad_id", e->xroad_id }, { "client", e->client },   { "service", e->service },
                { "method", e->method },     { "path", e->path },       { "user_id", e->user_id },
                { "issue", e->issue },       { "subject", e->subject }, { "purpose", e->purpose },
                { "basis", e->basis },       { "right", e->right },     { "legal_reference", e->legal_reference },
                { "consent", e->consent },
        };

        fputc('{', f);
        for (size_t i = 0; i < ELEMENTSOF(strings); i++) {
                old_put_key(f, strings[i].key, i == 0);
                old_put_string(f, strings[i].value);
        }
        old_put_key(f, "decision", false);
        old_put_string(f, e->allow && !refused ? "allow" : "deny");
        old_put_key(f, "status", false);
        fprintf(f, "%d", refused ? problem_status(PROBLEM_CONSENT_INVALID) : e->status);
        old_put_key(f, "error", false);
        old_put_string(f, refused ? problem_name(PROBLEM_CONSENT_INVALID) : e->error ? problem_name(e->error) : NULL);
        if (refused) {
                old_put_key(f, "reason", false);
                old_put_string(f, consent_reason(e->consent_refusal));
        }
        old_put_key(f, "request_hash", false);
        old_put_string(f, e->request_hash);
        old_put_key(f, "request_size", false);
        fprintf(f, "%" PRIu64, e->request_size);
        old_put_key(f, "response_hash", false);
        old_put_string(f, refused ? NULL : e->response_hash);
        old_put_key(f, "response_size", false);
        fprintf(f, "%" PRIu64, refused ? 0 : e->response_size);
        old_put_key(f, "duration_us", false);
        fprintf(f, "%" PRIu64, e->duration_us);
        old_put_key(f, "query_hash", false);
        old_put_string(f, e->query_hash);
        old_put_key(f, "revealed_subject", false);
        old_put_string(f, refused ? NULL : e->revealed_subject);
        old_put_key(f, "xroad_request_hash", false);
        old_put_string(f, e->xroad_request_hash);
        old_put_key(f, "request_id", false);
        old_put_string(f, e->request_id);
        old_put_key(f, "represented_party", false);
        old_put_string(f, e->represented_party);
        old_put_key(f, "purpose_default", false);
        fputs(e->purpose_default ? "true" : "false", f);
        old_put_key(f, "error_id", false);
        old_put_string(f, e->error_id);
        if (e->peer_node) {
                old_put_key(f, "peer_node", false);
                old_put_string(f, e->peer_node);
                old_put_key(f, "peer_role", false);
                old_put_string(f, e->peer_role);
                if (e->has_peer_seq) {
                        old_put_key(f, "peer_seq", false);
                        fprintf(f, "%" PRIu64, e->peer_seq);
                }
        }
        fputc('}', f);
}

static char *old_render(const ExlogEntry *e)
{
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        assert(f);
        old_write(e, f);
        assert(fclose(f) == 0);
        return text;
}

/* ---- odd entries ---------------------------------------------------------------------------------- */

static uint64_t state = 0x9e3779b97f4a7c15u;

static uint64_t rnd(void)
{
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
}

/* One code point as UTF-8 (surrogates too, to make text that is not valid UTF-8). */
static size_t put_cp(char *p, uint32_t cp)
{
        if (cp < 0x80) {
                p[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                p[0] = (char)(0xc0 | cp >> 6);
                p[1] = (char)(0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                p[0] = (char)(0xe0 | cp >> 12);
                p[1] = (char)(0x80 | (cp >> 6 & 0x3f));
                p[2] = (char)(0x80 | (cp & 0x3f));
                return 3;
        }
        p[0] = (char)(0xf0 | cp >> 18);
        p[1] = (char)(0x80 | (cp >> 12 & 0x3f));
        p[2] = (char)(0x80 | (cp >> 6 & 0x3f));
        p[3] = (char)(0x80 | (cp & 0x3f));
        return 4;
}

/* A string of one of several kinds, in `buf` (room for 4 * 3000 + 1 bytes), or NULL. */
static const char *odd_string(char *buf)
{
        static const char *fixed[] = { "",
                                       "allow",
                                       "\"",
                                       "\\",
                                       "\\\"",
                                       "a\"b\\c\x01\n\t/",
                                       "Nguyễn 𝄞",
                                       "bad \xc3\x28",
                                       "\xed\xa0\x80",
                                       "\x7f",
                                       "\xf4\x90\x80\x80",
                                       "\xc0\xaf",
                                       "\xef\xbf\xbf",
                                       "\x1f\x0b\x0e\x0d\x08\x0c",
                                       "</script>&'",
                                       "\xe2\x80\xa8\xe2\x80\xa9" };
        size_t n = 0, len;
        unsigned kind = (unsigned)(rnd() % 32) / 4; /* 0-7 */

        switch (kind) {
        case 0:
                return NULL;
        case 1:
                return fixed[rnd() % ELEMENTSOF(fixed)];
        case 2: /* control characters and the two that are always escaped */
                len = rnd() % 40;
                for (size_t i = 0; i < len; i++)
                        buf[n++] = rnd() % 3 ? (char)(1 + rnd() % 0x1f) : "\"\\"[rnd() % 2];
                break;
        case 3: /* any bytes: mostly not UTF-8 */
                len = rnd() % 40;
                for (size_t i = 0; i < len; i++)
                        buf[n++] = (char)(1 + rnd() % 255);
                break;
        case 4: /* long text, once in 32: the renderer's second pass */
                if (rnd() % 4 != 0)
                        return NULL;
                len = 1000 + rnd() % 2000;
                for (size_t i = 0; i < len; i++)
                        buf[n++] = rnd() % 50 ? (char)('a' + rnd() % 26) : "\"\\\n\x01"[rnd() % 4];
                break;
        default: /* code points of every length, now and then a surrogate */
                len = rnd() % 30;
                for (size_t i = 0; i < len; i++) {
                        static const uint32_t top[] = { 0x80, 0x800, 0x10000, 0x110000 };
                        uint32_t cp = (uint32_t)(rnd() % top[rnd() % 4]);

                        if (cp == 0 || (cp >= 0xd800 && cp < 0xe000 && rnd() % 4))
                                cp = 'x';
                        n += put_cp(buf + n, cp);
                }
                break;
        }
        buf[n] = 0;
        return buf;
}

static void odd_entry(ExlogEntry *e, char bufs[][12001])
{
        const char **strings[] = { &e->xroad_id,
                                   &e->client,
                                   &e->service,
                                   &e->method,
                                   &e->path,
                                   &e->user_id,
                                   &e->issue,
                                   &e->subject,
                                   &e->purpose,
                                   &e->basis,
                                   &e->right,
                                   &e->legal_reference,
                                   &e->consent,
                                   &e->request_hash,
                                   &e->response_hash,
                                   &e->query_hash,
                                   &e->revealed_subject,
                                   &e->xroad_request_hash,
                                   &e->request_id,
                                   &e->represented_party,
                                   &e->error_id,
                                   &e->peer_node,
                                   &e->peer_role };
        static const uint64_t sizes[] = { 0, 1, 9, 10, 4294967295u, 4294967296u, UINT64_MAX };

        *e = (ExlogEntry){};
        for (size_t i = 0; i < ELEMENTSOF(strings); i++)
                *strings[i] = odd_string(bufs[i]);
        e->allow = rnd() % 2;
        e->status = rnd() % 3 ? (int)(100 + rnd() % 500) : (int)(int64_t)rnd();
        e->error = (ProblemType)(rnd() % _PROBLEM_TYPE_MAX);
        e->request_size = rnd() % 2 ? sizes[rnd() % ELEMENTSOF(sizes)] : rnd();
        e->response_size = rnd() % 2 ? sizes[rnd() % ELEMENTSOF(sizes)] : rnd();
        e->duration_us = rnd() % 2 ? sizes[rnd() % ELEMENTSOF(sizes)] : rnd();
        e->purpose_default = rnd() % 2;
        e->consent_refusal = rnd() % 3 ? 0 : (int)(1 + rnd() % (_CONSENT_E_MAX - 1));
        e->has_peer_seq = rnd() % 2;
        e->peer_seq = rnd() % 2 ? sizes[rnd() % ELEMENTSOF(sizes)] : rnd();
}

/* Byte for byte the first renderer's output, on entries of every odd kind. */
static void test_same_bytes(void)
{
        static char bufs[23][12001];
        unsigned long_ones = 0;

        for (unsigned i = 0; i < 10000; i++) {
                ExlogEntry e;
                char *want, *got;

                odd_entry(&e, bufs);
                want = old_render(&e);
                got = exlog_entry_render(&e);
                assert(got);
                if (strcmp(want, got) != 0) {
                        fprintf(stderr, "entry %u differs:\n old %s\n new %s\n", i, want, got);
                        assert(false);
                }
                long_ones += strlen(got) >= 2048;
                free(want);
                free(got);
        }
        assert(long_ones > 100); /* the second pass was taken */
}

/* A buffer too small, by any number of bytes, gets nothing of the entry: never a part that looks written. */
static void test_too_small(void)
{
        ExlogEntry e = { .xroad_id = "t-1",
                         .client = "VN/GOV/BYT/health-services",
                         .service = "VN/GOV/BCA/population/citizen",
                         .method = "GET",
                         .path = "/",
                         .purpose = "p\n\x01",
                         .basis = "statute",
                         .allow = true,
                         .status = 200,
                         .request_hash = "00",
                         .response_hash = "11",
                         .response_size = 7 };
        char *full = exlog_entry_render(&e), buf[2048];
        size_t len, got;

        assert(full);
        len = strlen(full);
        for (size_t size = 0; size <= len; size++) {
                memset(buf, 'x', sizeof(buf));
                assert(exlog_entry_write(&e, buf, size, &got) == -ENOBUFS);
                assert(got == len);
                assert(size == 0 ? buf[0] == 'x' : buf[0] == 0);
                assert(buf[size] == 'x'); /* nothing written past the buffer */
        }
        assert(exlog_entry_write(&e, buf, len + 1, &got) == 0 && got == len && strcmp(buf, full) == 0);
        free(full);
}

static bool ends_with(const char *s, const char *tail)
{
        size_t n = strlen(s), k = strlen(tail);

        return n >= k && streq(s + n - k, tail);
}

/* The client node's request entry and its answer's link to it (issue 13): after the peer fields, only with them. */
static void test_forward_stage(void)
{
        ExlogEntry e = {
                .xroad_id = "x-1", .allow = true, .peer_node = "bca", .peer_role = "provider", .stage = "request"
        };
        char *text = exlog_entry_render(&e);

        assert(text && ends_with(text, ",\"peer_node\":\"bca\",\"peer_role\":\"provider\",\"stage\":\"request\"}"));
        free(text);
        e = (ExlogEntry){ .xroad_id = "x-1",
                          .allow = true,
                          .status = 200,
                          .peer_node = "bca",
                          .peer_role = "provider",
                          .has_peer_seq = true,
                          .peer_seq = 42,
                          .has_request_seq = true,
                          .request_seq = 17 };
        text = exlog_entry_render(&e);
        assert(text && ends_with(text, ",\"peer_role\":\"provider\",\"peer_seq\":42,\"request_seq\":17}"));
        free(text);
        e.peer_node = NULL; /* a single node's entry stays as it was */
        text = exlog_entry_render(&e);
        assert(text && !strstr(text, "stage") && !strstr(text, "request_seq") && ends_with(text, "\"error_id\":null}"));
        free(text);
}

int main(void)
{
        test_same_bytes();
        test_too_small();
        test_forward_stage();
        return 0;
}
