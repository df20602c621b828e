/* exlog-entry.c: rendering the fields of an exchange log entry
 *
 * Rendered directly, not through a jansson tree: json_dumps() was seen to
 * drop a key and still return text when one allocation failed (a partial,
 * unparsable entry), and a log entry is written once and kept forever.
 *
 * The bytes are those of the first renderer (a memory stream written one
 * fputc() at a time, the largest symbol in xbusd's profile; issue 14):
 * strings escaped as jansson escapes them (short escapes, \u00xx for other
 * control characters, UTF-8 kept) but with lower-case hex, and a string that
 * is not valid UTF-8 rendered as null. They are hashed into the Merkle log,
 * so they may never change: test-exlog-entry.c compares this renderer with
 * the stream one on many entries. jsontext.h writes upper-case hex and
 * fails on text that is not UTF-8, hence this writer of its own.
 *
 * The writer fills a buffer of a fixed size and never grows it: a render
 * that does not fit reports how much it needed and leaves an empty string,
 * so what the buffer holds is the whole entry or nothing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consent/consent.h"
#include "log/exlog-entry.h"
#include "util/macro.h"
#include "util/utf8.h"

/* The buffer being filled: `len` counts every byte asked for, also past `size`. */
typedef struct Out {
        char *buf;
        size_t size, len;
} Out;

static void put(Out *o, const char *s, size_t n)
{
        if (o->len < o->size && n <= o->size - o->len)
                memcpy(o->buf + o->len, s, n);
        o->len += n;
}

#define PUT_LITERAL(o, s) put((o), (s), sizeof(s) - 1)

static void put_u64(Out *o, uint64_t v)
{
        char num[24];

        put(o, num, (size_t)snprintf(num, sizeof(num), "%" PRIu64, v));
}

static void put_string(Out *o, const char *s)
{
        static const char shortcuts[0x20] = { ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't' };
        static const char hex[] = "0123456789abcdef";
        size_t n = s ? strlen(s) : 0, run = 0;

        if (!s || !utf8_valid(s, n)) {
                PUT_LITERAL(o, "null");
                return;
        }
        PUT_LITERAL(o, "\"");
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                char esc[6] = { '\\', 0, '0', '0', 0, 0 };

                if (c >= 0x20 && c != '"' && c != '\\')
                        continue;
                put(o, s + run, i - run);
                run = i + 1;
                if (c == '"' || c == '\\' || shortcuts[c]) {
                        esc[1] = c >= 0x20 ? (char)c : shortcuts[c];
                        put(o, esc, 2);
                } else {
                        esc[1] = 'u';
                        esc[4] = hex[c >> 4];
                        esc[5] = hex[c & 0xf];
                        put(o, esc, 6);
                }
        }
        put(o, s + run, n - run);
        PUT_LITERAL(o, "\"");
}

static void put_key(Out *o, const char *key, bool first)
{
        if (!first)
                PUT_LITERAL(o, ",");
        PUT_LITERAL(o, "\"");
        put(o, key, strlen(key));
        PUT_LITERAL(o, "\":");
}

static void put_fields(Out *o, const ExlogEntry *e)
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
        int status = refused ? problem_status(PROBLEM_CONSENT_INVALID) : e->status;
        char num[16];

        PUT_LITERAL(o, "{");
        for (size_t i = 0; i < ELEMENTSOF(strings); i++) {
                put_key(o, strings[i].key, i == 0);
                put_string(o, strings[i].value);
        }
        put_key(o, "decision", false);
        put_string(o, e->allow && !refused ? "allow" : "deny");
        put_key(o, "status", false);
        put(o, num, (size_t)snprintf(num, sizeof(num), "%d", status));
        put_key(o, "error", false);
        put_string(o, refused ? problem_name(PROBLEM_CONSENT_INVALID) : e->error ? problem_name(e->error) : NULL);
        if (refused) {
                put_key(o, "reason", false);
                put_string(o, consent_reason(e->consent_refusal));
        }
        put_key(o, "request_hash", false);
        put_string(o, e->request_hash);
        put_key(o, "request_size", false);
        put_u64(o, e->request_size);
        put_key(o, "response_hash", false);
        put_string(o, refused ? NULL : e->response_hash);
        put_key(o, "response_size", false);
        put_u64(o, refused ? 0 : e->response_size);
        put_key(o, "duration_us", false);
        put_u64(o, e->duration_us);
        /* added later: after the fields of the first format, so that older entries read as before */
        put_key(o, "query_hash", false);
        put_string(o, e->query_hash);
        put_key(o, "revealed_subject", false);
        put_string(o, refused ? NULL : e->revealed_subject);
        /* added for the X-Road profile (issue 11) */
        put_key(o, "xroad_request_hash", false);
        put_string(o, e->xroad_request_hash);
        put_key(o, "request_id", false);
        put_string(o, e->request_id);
        put_key(o, "represented_party", false);
        put_string(o, e->represented_party);
        put_key(o, "purpose_default", false);
        if (e->purpose_default)
                PUT_LITERAL(o, "true");
        else
                PUT_LITERAL(o, "false");
        put_key(o, "error_id", false);
        put_string(o, e->error_id);
        if (e->peer_node) { /* a federation's node-to-node exchange: only then, so single nodes' entries stay */
                put_key(o, "peer_node", false);
                put_string(o, e->peer_node);
                put_key(o, "peer_role", false);
                put_string(o, e->peer_role);
                if (e->has_peer_seq) {
                        put_key(o, "peer_seq", false);
                        put_u64(o, e->peer_seq);
                }
                if (e->stage) {
                        put_key(o, "stage", false);
                        put_string(o, e->stage);
                }
                if (e->has_request_seq) {
                        put_key(o, "request_seq", false);
                        put_u64(o, e->request_seq);
                }
        }
        PUT_LITERAL(o, "}");
}

int exlog_entry_write(const ExlogEntry *e, char *buf, size_t size, size_t *ret_len)
{
        Out o = { .buf = buf, .size = size };

        put_fields(&o, e);
        *ret_len = o.len;
        if (o.len >= size) {
                if (size > 0)
                        buf[0] = 0;
                return -ENOBUFS;
        }
        buf[o.len] = 0;
        return 0;
}

char *exlog_entry_render(const ExlogEntry *e)
{
        char first[2048], *text;
        size_t len, again;

        /* one pass into the stack for an entry of the usual size (~700 bytes), two for a larger one */
        if (exlog_entry_write(e, first, sizeof(first), &len) == 0) {
                text = malloc(len + 1);
                if (text)
                        memcpy(text, first, len + 1);
                return text;
        }
        text = malloc(len + 1);
        if (!text)
                return NULL;
        if (exlog_entry_write(e, text, len + 1, &again) < 0) {
                free(text); /* cannot happen: the same entry renders to the same length */
                return NULL;
        }
        return text;
}
