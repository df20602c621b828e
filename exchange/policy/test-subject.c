/* test-subject.c: the subject read from X-Bus-Subject, a path template, a query parameter or the body, and every refusal */
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "policy/subject.h"
#include "util/bytes.h"
#include "util/macro.h"

static Registry *reg;

static const char registry_text[] = "[instance]\nid = VN\nname = T\n"
                                    "[member VN/GOV/A]\nname = A\n"
                                    "[subsystem VN/GOV/A/db]\nname = db\nroles = provider\n"
                                    "[service VN/GOV/A/db/header]\ntitle = h\nmethods = GET\npersonal-data = yes\n"
                                    "adapter = rest\n"
                                    "[service VN/GOV/A/db/path]\ntitle = p\nmethods = GET\n"
                                    "paths = /, /people/*/**\npersonal-data = yes\nadapter = rest\n"
                                    "subject = path /people/{subject}/**\n"
                                    "[service VN/GOV/A/db/query]\ntitle = q\nmethods = GET\npersonal-data = yes\n"
                                    "adapter = rest\nsubject = query id\n"
                                    "[service VN/GOV/A/db/body]\ntitle = b\nmethods = POST\npersonal-data = yes\n"
                                    "adapter = rest\nsubject = body /person/id\n";

/* The subject found, or the name of the problem that refused the request. */
static const char *extract(const char *service, const char *header, const char *path, const char *query,
                           const char *body)
{
        static char out[SUBJECT_MAX + 1];
        char id[64];
        Problem p = {};
        int r;

        snprintf(id, sizeof(id), "VN/GOV/A/db/%s", service);
        r = subject_extract(registry_service_lookup(reg, id),
                            &(SubjectSources){ .header = header,
                                               .path = path,
                                               .query = query,
                                               .body = body,
                                               .body_size = body ? strlen(body) : 0 },
                            out, &p);
        assert((r == 0) == (p.type == PROBLEM_NONE));
        if (r != 0)
                printf("  %-16s %s\n", problem_name(p.type), p.detail);
        return r == 0 ? out : problem_name(p.type);
}

#define EQ(got, want)                                                                                  \
        do {                                                                                           \
                const char *g_ = (got);                                                                \
                if (!streq(g_, want)) {                                                                \
                        fprintf(stderr, "%s:%d: got '%s', want '%s'\n", __FILE__, __LINE__, g_, want); \
                        abort();                                                                       \
                }                                                                                      \
        } while (0)

static void test_percent_decode(void)
{
        char out[32];

        assert(percent_decode("a%2Fb%2fc", 9, out) == 5 && streq(out, "a/b/c"));
        assert(percent_decode("%C3%B6+", 7, out) == 3 && streq(out, "\xc3\xb6+"));
        assert(percent_decode("abc", 2, out) == 2 && streq(out, "ab"));
        assert(percent_decode("%", 1, out) == -EINVAL);
        assert(percent_decode("%4", 2, out) == -EINVAL);
        assert(percent_decode("%G1", 3, out) == -EINVAL);
        assert(percent_decode("a%00b", 5, out) == -EINVAL);
        assert(percent_decode("", 0, out) == 0 && streq(out, ""));
}

int main(void)
{
        RegistryFile f = { .name = "t.conf", .text = registry_text, .size = strlen(registry_text) };
        char *errors = NULL;

        test_percent_decode();
        assert(registry_load_files(&reg, &f, 1, &errors) == 0);

        /* X-Bus-Subject alone (the default place) */
        EQ(extract("header", "A1", "/", NULL, NULL), "A1");
        EQ(extract("header", NULL, "/", "subject=B", NULL), "");
        EQ(extract("header", "a b", "/", NULL, NULL), "bad_request");
        EQ(extract("header", "", "/", NULL, NULL), "bad_request");

        /* a path template: people/{subject}, then anything */
        EQ(extract("path", NULL, "/people/B", NULL, NULL), "B");
        EQ(extract("path", NULL, "/people/B/cases/7", NULL, NULL), "B");
        EQ(extract("path", "B", "/people/B", NULL, NULL), "B");
        EQ(extract("path", "A", "/people/B", NULL, NULL), "subject_conflict");
        EQ(extract("path", "A", "/", NULL, NULL), "A");
        EQ(extract("path", NULL, "/other/B", NULL, NULL), "");
        EQ(extract("path", NULL, "/people/B%41", NULL, NULL), "bad_request"); /* "%25" decoded: no escapes left */
        EQ(extract("path", NULL, "/people/B$", NULL, NULL), "bad_request");
        EQ(extract("path", NULL, NULL, NULL, NULL), "");

        /* a query parameter: matched by its decoded name, any case; never twice */
        EQ(extract("query", NULL, "/", "id=B", NULL), "B");
        EQ(extract("query", NULL, "/", "&&x=1&id=%42&", NULL), "B");
        EQ(extract("query", "B", "/", "id=B", NULL), "B");
        EQ(extract("query", "A", "/", "x=1&id=B", NULL), "subject_conflict");
        EQ(extract("query", "A", "/", "x=1", NULL), "A");
        EQ(extract("query", NULL, "/", "id=B&id=B", NULL), "subject_conflict");
        EQ(extract("query", NULL, "/", "id=B&ID=C", NULL), "subject_conflict");
        EQ(extract("query", NULL, "/", "%69d=B&id=C", NULL), "subject_conflict");
        EQ(extract("query", NULL, "/", "idx=B&xid=C&i%d=D", NULL), "");
        EQ(extract("query", NULL, "/", "id", NULL), "bad_request");
        EQ(extract("query", NULL, "/", "id=", NULL), "bad_request");
        EQ(extract("query", NULL, "/", "id=B%00", NULL), "bad_request");
        EQ(extract("query", NULL, "/", "id=B+C", NULL), "bad_request");
        EQ(extract("query", "A", "/", NULL, NULL), "A");

        /* a member of the JSON body */
        EQ(extract("body", NULL, "/", NULL, "{\"person\":{\"id\":\"B\"}}"), "B");
        EQ(extract("body", "B", "/", NULL, "{\"person\":{\"id\":\"B\"}}"), "B");
        EQ(extract("body", "A", "/", NULL, "{\"person\":{\"id\":\"B\"}}"), "subject_conflict");
        EQ(extract("body", "A", "/", NULL, "{\"person\":{}}"), "A");
        EQ(extract("body", NULL, "/", NULL, "{\"person\":{\"id\":\"B\"},\"person\":{\"id\":\"C\"}}"), "bad_request");
        EQ(extract("body", NULL, "/", NULL, "{\"person\":{\"id\":12}}"), "bad_request");
        EQ(extract("body", NULL, "/", NULL, "{\"person\":{\"id\":\"%42\"}}"), "bad_request");
        EQ(extract("body", NULL, "/", NULL, "not json"), "bad_request");
        EQ(extract("body", "A", "/", NULL, NULL), "A"); /* SOAP: the body is not read */

        registry_unref(reg);
        printf("subject: ok\n");
        return 0;
}
