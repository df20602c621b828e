/* subject.c: the data subject of a request, from X-Bus-Subject and the place its service declares */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "policy/minimise.h"
#include "policy/subject.h"
#include "util/bytes.h"

bool subject_valid(const char *s)
{
        size_t n = 0;

        if (!s)
                return false;
        for (; s[n]; n++) {
                char c = s[n];
                if (n >= SUBJECT_MAX)
                        return false;
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-'))
                        return false;
        }
        return n > 0;
}

/* Copy `n` bytes as the subject. Return: 1, or -EINVAL when they are not a valid one. */
static int take(const char *s, size_t n, char ret[SUBJECT_MAX + 1])
{
        char v[3 * SUBJECT_MAX + 1];

        if (n >= sizeof(v) || percent_decode(s, n, v) < 0 || !subject_valid(v))
                return -EINVAL;
        strcpy(ret, v);
        return 1;
}

/* The segment of `path` the template puts the subject in ('%' there was "%25": decoded already). */
static int from_path(const char *path, const RegistrySubjectPlace *at, char ret[SUBJECT_MAX + 1])
{
        const char *seg;

        if (!path || !registry_path_match(at->where, path))
                return 0;
        seg = path + 1;
        for (unsigned i = 0; i < at->segment; i++)
                seg = strchr(seg, '/') + 1;
        return memchr(seg, '%', strcspn(seg, "/")) ? -EINVAL : take(seg, strcspn(seg, "/"), ret);
}

/* Every parameter whose decoded name is `name` (any case). Return: 0 none, 1 one, -ENOTUNIQ, -EINVAL. */
static int from_query(const char *query, const char *name, char ret[SUBJECT_MAX + 1])
{
        int found = 0, r = 0;

        for (const char *p = query; p && *p; p += *p == '&') {
                size_t len = strcspn(p, "&"), klen = strcspn(p, "=&");
                char key[3 * SUBJECT_MAX + 1];

                if (klen < sizeof(key) && percent_decode(p, klen, key) >= 0 && strcasecmp(key, name) == 0) {
                        found++;
                        r = take(p + klen + (klen < len), len - klen - (klen < len), ret);
                }
                p += len;
        }
        return found > 1 ? -ENOTUNIQ : r;
}

/* The string at the JSON pointer `ptr` of the body (-EBADMSG: not JSON, or a member twice). */
static int from_body(const void *body, size_t size, const char *ptr, char ret[SUBJECT_MAX + 1])
{
        json_t *doc = size ? json_loadb(body, size, JSON_REJECT_DUPLICATES, NULL) : NULL;
        json_t *v = doc ? minimise_pointer_get(doc, ptr) : NULL;
        const char *s = json_string_value(v);
        int r = !size ? 0 : !doc ? -EBADMSG : v && !subject_valid(s) ? -EINVAL : v ? take(s, strlen(s), ret) : 0;

        json_decref(doc);
        return r;
}

int subject_extract(const RegistryService *svc, const SubjectSources *in, char ret[SUBJECT_MAX + 1], Problem *p)
{
        static const char *const places[] = { [REGISTRY_SUBJECT_HEADER] = "X-Bus-Subject",
                                              [REGISTRY_SUBJECT_PATH] = "the path, segment",
                                              [REGISTRY_SUBJECT_QUERY] = "the query parameter",
                                              [REGISTRY_SUBJECT_BODY] = "the body at" };
        const RegistrySubjectPlace *at = &svc->subject;
        char found[SUBJECT_MAX + 1] = "", where[64];
        int r = 0;

        if (in->header && !subject_valid(in->header))
                return problem_set(p, PROBLEM_BAD_REQUEST, "X-Bus-Subject must be 1 to %d letters, digits or '-'",
                                   SUBJECT_MAX);
        if (at->source == REGISTRY_SUBJECT_PATH)
                r = from_path(in->path, at, found);
        else if (at->source == REGISTRY_SUBJECT_QUERY)
                r = from_query(in->query, at->where, found);
        else if (at->source == REGISTRY_SUBJECT_BODY && in->body)
                r = from_body(in->body, in->body_size, at->where, found);
        snprintf(where, sizeof(where), "'%.60s'", strempty(at->where));
        if (r == -ENOTUNIQ)
                return problem_set(p, PROBLEM_SUBJECT_CONFLICT, "the query parameter '%s' names the subject twice",
                                   at->where);
        if (at->source == REGISTRY_SUBJECT_PATH)
                snprintf(where, sizeof(where), "%u", at->segment + 1);
        if (r == -EBADMSG)
                return problem_set(p, PROBLEM_BAD_REQUEST,
                                   "the body names the subject: it must be JSON, without duplicate members");
        if (r < 0)
                return problem_set(p, PROBLEM_BAD_REQUEST,
                                   "the subject in %s %s must be 1 to %d letters, digits or '-'", places[at->source],
                                   where, SUBJECT_MAX);
        if (r > 0 && in->header && !streq(in->header, found))
                return problem_set(p, PROBLEM_SUBJECT_CONFLICT, "X-Bus-Subject and %s %s name different subjects",
                                   places[at->source], where);
        strcpy(ret, r > 0 ? found : strempty(in->header));
        return 0;
}
