/* fuzz-rest-request.c: the REST request decoding: path and identifiers, the subject's places, header bytes
 *
 * The input is "PATH\nQUERY\nX-BUS-SUBJECT\nX-ROAD-CLIENT\nBODY" (missing parts are absent). The
 * decision runs on the sample registry and on one whose services carry the subject in a path
 * template, a query parameter and the body; the whole input is also a connection's bytes for the
 * header scan, fed at once and byte by byte (the two must agree). The X-Road header parsers
 * (http/xroad.h) read X-ROAD-CLIENT as an identifier header and QUERY as an Accept value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http-internal.h"
#include "http/xroad.h"
#include "policy/policy.h"

static const char places_text[] = "[instance]\nid = VN\nname = T\n[member VN/GOV/A]\nname = A\n"
                                  "[subsystem VN/GOV/A/db]\nname = db\nroles = provider\n"
                                  "[subsystem VN/GOV/A/app]\nname = app\nroles = client\ntls-cn = VN/GOV/A/app\n"
                                  "[service VN/GOV/A/db/path]\ntitle = p\nmethods = GET, POST\n"
                                  "paths = /, /people/*/**\npersonal-data = yes\nadapter = rest\n"
                                  "subject = path /people/{subject}/**\n"
                                  "[service VN/GOV/A/db/query]\ntitle = q\nmethods = GET\npersonal-data = yes\n"
                                  "adapter = rest\nsubject = query id\n"
                                  "[service VN/GOV/A/db/body]\ntitle = b\nmethods = POST\npersonal-data = yes\n"
                                  "adapter = rest\nsubject = body /person/id\n"
                                  "[right r]\nclient = VN/GOV/A/app\nservice = VN/GOV/A/db/path\nmethods = GET\n"
                                  "basis = consent\n"
                                  "[right q]\nclient = VN/GOV/A/app\nservice = VN/GOV/A/db/query\nmethods = GET\n"
                                  "basis = consent\n"
                                  "[right b]\nclient = VN/GOV/A/app\nservice = VN/GOV/A/db/body\nmethods = POST\n"
                                  "basis = consent\n";

static Registry *sample, *places;

static void setup(void)
{
        RegistryFile f = { .name = "places.conf", .text = places_text, .size = sizeof(places_text) - 1 };

        if (sample)
                return;
        if (registry_load_embedded(&sample, NULL) != 0 || registry_load_files(&places, &f, 1, NULL) != 0)
                abort();
}

/* The next '\n'-terminated part of [*p, end) as a string, or NULL when the input ended before it. */
static char *part(const uint8_t **p, const uint8_t *end, bool rest)
{
        const uint8_t *nl = rest ? NULL : memchr(*p, '\n', (size_t)(end - *p));
        size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
        char *s;

        if (*p >= end && !rest)
                return NULL;
        s = strndup((const char *)*p, n);
        if (!s)
                abort();
        *p += n + (nl != NULL);
        return s;
}

static void decide(const Registry *reg, const char *cn, const char *method, const PolicyInput *base)
{
        PolicyInput in = *base;
        PolicyDecision d;
        Problem p = {};
        int r;

        in.cert_present = in.cert_trusted = true;
        in.cert_cn = cn;
        in.method = method;
        if (!in.client_header)
                in.client_header = cn;
        r = policy_decide(reg, &in, &d, &p);
        if ((r == 0) != (p.type == PROBLEM_NONE) || (r != 0 && r != 1))
                abort();
        if (r == 0 &&
            (!d.service || (d.subject[0] && !subject_valid(d.subject)) || (d.service->personal_data && !d.subject[0])))
                abort();
        /* what the header said is what was decided, or the request was refused */
        if (r == 0 && in.subject && !streq(in.subject, d.subject))
                abort();
        if (memchr(d.service_id, 0, sizeof(d.service_id)) == NULL || d.path[0] != '/')
                abort();
}

/* The X-Road header parsers: what they accept is what they promise. */
static void xroad_headers(const char *client, const char *accept)
{
        char out[XROAD_ID_MAX + 1], again[3 * XROAD_ID_MAX + 1], media[XROAD_ERROR_MEDIA_MAX + 1] = "";
        int n = xroad_id_decode(client, 1, 4, out, sizeof(out));

        if (n > 0 && (n > 4 || strlen(out) > XROAD_ID_MAX || xroad_id_encode(out, again, sizeof(again)) < 0))
                abort();
        if (n > 0 && n <= 2 && !xroad_represented_party_valid(client))
                abort();
        if (xroad_error_format(&accept, 1, media) == XROAD_ERRORS_XML && !streq(media, "text/xml") &&
            !streq(media, "application/xml"))
                abort();
}

static void scan(const uint8_t *data, size_t size)
{
        WireScan all = {}, bytes = {};

        wire_scan_feed(&all, data, size);
        for (size_t i = 0; i < size; i++)
                wire_scan_feed(&bytes, data + i, 1);
        if (memcmp(&all, &bytes, sizeof(all)) != 0)
                abort();
        if (all.bad && memchr(data, 0, size) == NULL && memchr(data, '\r', size) == NULL) {
                /* bad without a NUL or CR: some other control byte or a folded line must be in it */
                bool why = false;
                for (size_t i = 0; i < size && !why; i++)
                        why = (data[i] < 0x20 && data[i] != '\t' && data[i] != '\n') || data[i] == 0x7f ||
                              ((data[i] == ' ' || data[i] == '\t') && i > 0 && data[i - 1] == '\n');
                if (!why)
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const uint8_t *p = data, *end = data + size;
        char *path, *query, *subject, *client, *body;
        PolicyInput in = {};

        setup();
        scan(data, size);
        path = part(&p, end, false);
        query = part(&p, end, false);
        subject = part(&p, end, false);
        client = part(&p, end, false);
        body = part(&p, end, true);
        in = (PolicyInput){
                .r1_path = path,
                .query = query && *query ? query : NULL,
                .subject = subject && *subject ? subject : NULL,
                .client_header = client && *client ? client : NULL,
                .purpose = "health-insurance-enrolment",
                .consent = "c-1", /* the second registry's rights are consent-based */
                .body = *body ? body : NULL,
                .body_size = strlen(body),
        };
        if (client && query)
                xroad_headers(client, query);
        decide(sample, "VN/GOV/BYT/health-services", "GET", &in);
        decide(places, "VN/GOV/A/app", "GET", &in);
        decide(places, "VN/GOV/A/app", "POST", &in);
        free(path);
        free(query);
        free(subject);
        free(client);
        free(body);
        return 0;
}
