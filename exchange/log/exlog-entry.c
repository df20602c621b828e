/* exlog-entry.c: rendering the fields of an exchange log entry
 *
 * Rendered directly, not through a jansson tree: json_dumps() was seen to
 * drop a key and still return text when one allocation failed (a partial,
 * unparsable entry), and a log entry is written once and kept forever. Here
 * every write goes to a memory stream whose error state is checked at the
 * end: the result is the whole entry or NULL. Strings are escaped as jansson
 * does (short escapes, \u00XX for other control characters, UTF-8 kept); a
 * string that is not valid UTF-8 is rendered as null, as jstr() did.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "consent/consent.h"
#include "log/exlog-entry.h"
#include "util/macro.h"
#include "util/utf8.h"

static void put_string(FILE *f, const char *s)
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

static void put_key(FILE *f, const char *key, bool first)
{
        fprintf(f, "%s\"%s\":", first ? "" : ",", key);
}

int exlog_entry_write(const ExlogEntry *e, FILE *f)
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
                put_key(f, strings[i].key, i == 0);
                put_string(f, strings[i].value);
        }
        put_key(f, "decision", false);
        put_string(f, e->allow && !refused ? "allow" : "deny");
        put_key(f, "status", false);
        fprintf(f, "%d", refused ? problem_status(PROBLEM_CONSENT_INVALID) : e->status);
        put_key(f, "error", false);
        put_string(f, refused ? problem_name(PROBLEM_CONSENT_INVALID) : e->error ? problem_name(e->error) : NULL);
        if (refused) {
                put_key(f, "reason", false);
                put_string(f, consent_reason(e->consent_refusal));
        }
        put_key(f, "request_hash", false);
        put_string(f, e->request_hash);
        put_key(f, "request_size", false);
        fprintf(f, "%" PRIu64, e->request_size);
        put_key(f, "response_hash", false);
        put_string(f, refused ? NULL : e->response_hash);
        put_key(f, "response_size", false);
        fprintf(f, "%" PRIu64, refused ? 0 : e->response_size);
        put_key(f, "duration_us", false);
        fprintf(f, "%" PRIu64, e->duration_us);
        /* added later: after the fields of the first format, so that older entries read as before */
        put_key(f, "query_hash", false);
        put_string(f, e->query_hash);
        put_key(f, "revealed_subject", false);
        put_string(f, refused ? NULL : e->revealed_subject);
        /* added for the X-Road profile (issue 11) */
        put_key(f, "xroad_request_hash", false);
        put_string(f, e->xroad_request_hash);
        put_key(f, "request_id", false);
        put_string(f, e->request_id);
        put_key(f, "represented_party", false);
        put_string(f, e->represented_party);
        put_key(f, "purpose_default", false);
        fputs(e->purpose_default ? "true" : "false", f);
        put_key(f, "error_id", false);
        put_string(f, e->error_id);
        if (e->peer_node) { /* a federation's node-to-node exchange: only then, so single nodes' entries stay */
                put_key(f, "peer_node", false);
                put_string(f, e->peer_node);
                put_key(f, "peer_role", false);
                put_string(f, e->peer_role);
                if (e->has_peer_seq) {
                        put_key(f, "peer_seq", false);
                        fprintf(f, "%" PRIu64, e->peer_seq);
                }
        }
        fputc('}', f);
        return fflush(f) == 0 && !ferror(f) ? 0 : -EIO;
}

char *exlog_entry_render(const ExlogEntry *e)
{
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        int r;

        if (!f)
                return NULL;
        r = exlog_entry_write(e, f);
        if ((fclose(f) != 0 || r < 0)) {
                free(text);
                return NULL;
        }
        return text;
}
