/* params.c: the path segments and query parameters of a request, against its service's declared parameters */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/params.h"
#include "util/bytes.h"
#include "util/macro.h"
#include "validate/payload.h"

static const char *const places[] = { [REGISTRY_PARAMETER_PATH] = "path", [REGISTRY_PARAMETER_QUERY] = "query" };

/* The declared parameter `name` of `in`, the query's ignoring ASCII case. */
static const RegistryParameter *declared(const RegistryService *svc, RegistryParameterPlace in, const char *name,
                                         size_t len)
{
        for (size_t i = 0; i < svc->n_parameters; i++) {
                const RegistryParameter *p = &svc->parameters[i];

                if (p->in == in && strlen(p->name) == len &&
                    (in == REGISTRY_PARAMETER_PATH ? strneq(p->name, name, len) : !strncasecmp(p->name, name, len)))
                        return p;
        }
        return NULL;
}

/* Refuse: *p says why; the parameter's schema errors (or one error saying `why`) go to *ret_errors. */
static int refuse(const RegistryParameter *prm, RegistryParameterPlace in, const char *name, json_t *errors,
                  const char *why, json_t **ret_errors, Problem *p)
{
        json_t *e;
        size_t i;

        if (!errors)
                errors = json_pack("[{s:s,s:s,s:s}]", "instance", "", "keyword", "", "message", why);
        if (!errors)
                return -ENOMEM;
        json_array_foreach(errors, i, e)
                if (json_object_set_new(e, "in", json_string(places[in])) < 0 ||
                    json_object_set_new(e, "parameter", json_string(name)) < 0) {
                        json_decref(errors);
                        return -ENOMEM;
                }
        *ret_errors = errors;
        problem_set(p, PROBLEM_PARAMETER_INVALID, "the %s parameter '%.64s' %s", places[in], name,
                    prm && !why ? "does not match its schema (see errors)" : why);
        return 1;
}

/* The value of a declared parameter against its schema. Return: 0, 1 refused, -ENOMEM. */
static int check_value(const RegistryParameter *prm, const char *value, json_t **ret_errors, Problem *p)
{
        json_t *errors = NULL;
        int r;

        if (!prm->validator)
                return 0;
        r = payload_validate_text(prm->validator, value, &errors);
        if (r <= 0)
                return r;
        return refuse(prm, prm->in, prm->name, errors, NULL, ret_errors, p);
}

static int check_path(const RegistryService *svc, const char *path, json_t **ret_errors, Problem *p)
{
        const char *pattern = NULL, *s = path + (path[0] == '/');

        for (char **pp = svc->paths; pp && *pp && !pattern; pp++)
                if (registry_path_match(*pp, path))
                        pattern = *pp;
        if (!pattern)
                return 0; /* refused elsewhere, or the root */
        for (const char *q = pattern + 1; *q && *s;) {
                size_t ql = strcspn(q, "/"), sl = strcspn(s, "/"), nl;
                const RegistryParameter *prm;
                const char *name;
                int r;

                if (ql == 2 && strneq(q, "**", 2))
                        break;
                if (registry_pattern_segment_name(q, ql, &name, &nl) &&
                    (prm = declared(svc, REGISTRY_PARAMETER_PATH, name, nl))) {
                        _cleanup_free_ char *value = strndup(s, sl);
                        if (!value)
                                return -ENOMEM;
                        r = check_value(prm, value, ret_errors, p);
                        if (r != 0)
                                return r;
                }
                q += ql + (q[ql] == '/');
                s += sl + (s[sl] == '/');
        }
        return 0;
}

/* One "name=value" of the query: the name and the value, decoded (malloc'd). Return: 0, -EINVAL, -ENOMEM. */
static int query_pair(const char *pair, size_t len, char **ret_name, char **ret_value)
{
        size_t klen = strcspn(pair, "=&");
        char *name = malloc(klen + 1), *value = malloc(len + 1);

        if (!name || !value) {
                free(name);
                free(value);
                return -ENOMEM;
        }
        if (percent_decode(pair, MIN(klen, len), name) < 0 ||
            percent_decode(pair + klen + (klen < len), len - MIN(klen + 1, len), value) < 0) {
                free(name);
                free(value);
                return -EINVAL;
        }
        *ret_name = name;
        *ret_value = value;
        return 0;
}

static int check_query(const RegistryService *svc, const char *query, json_t **ret_errors, Problem *p)
{
        const char *subject = svc->subject.source == REGISTRY_SUBJECT_QUERY ? svc->subject.where : NULL;
        _cleanup_free_ bool *seen = calloc(MAX(svc->n_parameters, 1U), sizeof(bool));
        bool subject_seen = false;

        if (!seen)
                return -ENOMEM;
        for (const char *q = query; q && *q; q += *q == '&') {
                _cleanup_free_ char *name = NULL, *value = NULL;
                size_t len = strcspn(q, "&");
                const RegistryParameter *prm;
                int r;

                if (len == 0)
                        continue;
                r = query_pair(q, len, &name, &value);
                q += len;
                if (r == -EINVAL)
                        return refuse(NULL, REGISTRY_PARAMETER_QUERY, "?", NULL, "is not percent-encoded correctly",
                                      ret_errors, p);
                if (r < 0)
                        return r;
                prm = declared(svc, REGISTRY_PARAMETER_QUERY, name, strlen(name));
                if (!prm && subject && strcasecmp(name, subject) == 0 && !subject_seen) {
                        subject_seen = true; /* subject.c checks its value */
                        continue;
                }
                if (!prm || seen[prm - svc->parameters])
                        return refuse(NULL, REGISTRY_PARAMETER_QUERY, name, NULL,
                                      prm || subject_seen ? "is given twice" : "is not in the service's description",
                                      ret_errors, p);
                seen[prm - svc->parameters] = true;
                r = check_value(prm, value, ret_errors, p);
                if (r != 0)
                        return r;
        }
        for (size_t i = 0; i < svc->n_parameters; i++)
                if (svc->parameters[i].in == REGISTRY_PARAMETER_QUERY && svc->parameters[i].required && !seen[i])
                        return refuse(&svc->parameters[i], REGISTRY_PARAMETER_QUERY, svc->parameters[i].name, NULL,
                                      "is required", ret_errors, p);
        return 0;
}

int params_check(const RegistryService *svc, const char *path, const char *query, json_t **ret_errors, Problem *p)
{
        bool has_query = false;
        int r;

        *ret_errors = NULL;
        r = check_path(svc, path ? path : "/", ret_errors, p);
        if (r != 0)
                return r;
        for (size_t i = 0; i < svc->n_parameters; i++)
                has_query = has_query || svc->parameters[i].in == REGISTRY_PARAMETER_QUERY;
        return has_query ? check_query(svc, query, ret_errors, p) : 0;
}
