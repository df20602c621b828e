/* exlog-entry.c: rendering the fields of an exchange log entry */
#include <jansson.h>
#include <stdlib.h>

#include "consent/consent.h"
#include "log/exlog-entry.h"
#include "util/macro.h"

static json_t *jstr(const char *s)
{
        json_t *j = s ? json_string(s) : NULL;
        return j ? j : json_null();
}

char *exlog_entry_render(const ExlogEntry *e)
{
        bool refused = e->consent_refusal > 0;
        struct {
                const char *key;
                json_t *value;
        } f[] = {
                { "xroad_id", jstr(e->xroad_id) },
                { "client", jstr(e->client) },
                { "service", jstr(e->service) },
                { "method", jstr(e->method) },
                { "path", jstr(e->path) },
                { "user_id", jstr(e->user_id) },
                { "issue", jstr(e->issue) },
                { "subject", jstr(e->subject) },
                { "purpose", jstr(e->purpose) },
                { "basis", jstr(e->basis) },
                { "right", jstr(e->right) },
                { "legal_reference", jstr(e->legal_reference) },
                { "consent", jstr(e->consent) },
                { "decision", json_string(e->allow && !refused ? "allow" : "deny") },
                { "status", json_integer(refused ? problem_status(PROBLEM_CONSENT_INVALID) : e->status) },
                { "error", refused ? json_string(problem_name(PROBLEM_CONSENT_INVALID))
                                   : jstr(e->error ? problem_name(e->error) : NULL) },
                { "reason", refused ? json_string(consent_reason(e->consent_refusal)) : NULL },
                { "request_hash", jstr(e->request_hash) },
                { "request_size", json_integer((json_int_t)e->request_size) },
                { "response_hash", jstr(refused ? NULL : e->response_hash) },
                { "response_size", json_integer(refused ? 0 : (json_int_t)e->response_size) },
                { "duration_us", json_integer((json_int_t)e->duration_us) },
        };
        json_t *o = json_object();
        char *text = NULL;
        bool ok = o != NULL;

        /* every value ends in the object or is released, so nothing leaks when memory runs out */
        for (size_t i = 0; i < ELEMENTSOF(f); i++) {
                if (!f[i].value) {
                        if (refused || !streq(f[i].key, "reason")) /* "reason" is absent unless refused */
                                ok = false;
                } else if (!ok)
                        json_decref(f[i].value);
                else if (json_object_set_new(o, f[i].key, f[i].value) < 0) /* takes the value, even on error */
                        ok = false;
        }
        if (ok)
                text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
        return text;
}
