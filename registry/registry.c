/* registry.c: the loaded registry: lookups, authorisation, and the grammar of identifiers and paths */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "registry-internal.h"

/* ---- Small helpers ------------------------------------------------------------------------- */

static bool is_id_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
               c == '-';
}

/* A segment of an identifier, or a local id: [A-Za-z0-9._-]{1,64}, and not "." or "..". */
static bool segment_valid(const char *s, size_t n)
{
        if (n == 0 || n > REGISTRY_ID_SEGMENT_MAX)
                return false;
        if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_id_char(s[i]))
                        return false;
        return true;
}

bool registry_token_valid(const char *s)
{
        return s && segment_valid(s, strlen(s));
}

/* Number of valid "/"-separated segments of `id`, or 0 when a segment is invalid. */
size_t registry_id_segments(const char *id)
{
        size_t n = 0;

        for (;;) {
                const char *slash = strchr(id, '/');
                size_t len = slash ? (size_t)(slash - id) : strlen(id);

                if (!segment_valid(id, len))
                        return 0;
                n++;
                if (!slash)
                        return n;
                id = slash + 1;
        }
}

/* Length of the prefix of `id` made of its first `k` segments. */
size_t registry_id_prefix_len(const char *id, size_t k)
{
        const char *p = id;

        for (size_t i = 0; i < k; i++) {
                p = strchr(p, '/');
                if (!p)
                        return strlen(id);
                if (i + 1 < k)
                        p++;
        }
        return (size_t)(p - id);
}

static const struct {
        unsigned bit;
        const char *name;
} method_table[] = {
        { REGISTRY_METHOD_GET, "GET" },         { REGISTRY_METHOD_HEAD, "HEAD" },
        { REGISTRY_METHOD_POST, "POST" },       { REGISTRY_METHOD_PUT, "PUT" },
        { REGISTRY_METHOD_PATCH, "PATCH" },     { REGISTRY_METHOD_DELETE, "DELETE" },
        { REGISTRY_METHOD_OPTIONS, "OPTIONS" },
};

unsigned registry_method_from_string(const char *s)
{
        if (s)
                for (size_t i = 0; i < ELEMENTSOF(method_table); i++)
                        if (streq(method_table[i].name, s))
                                return method_table[i].bit;
        return 0;
}

const char *registry_method_to_string(unsigned method)
{
        for (size_t i = 0; i < ELEMENTSOF(method_table); i++)
                if (method_table[i].bit == method)
                        return method_table[i].name;
        return NULL;
}

const char *registry_basis_to_string(RegistryBasis b)
{
        switch (b) {
        case REGISTRY_BASIS_STATUTE:
                return "statute";
        case REGISTRY_BASIS_CONSENT:
                return "consent";
        }
        return NULL;
}

/* ---- Paths ---------------------------------------------------------------------------------- */

/* Next segment of a path after its leading "/" (a trailing "/" ends the path). */
static bool next_segment(const char **cur, const char **ret_seg, size_t *ret_len)
{
        const char *s = *cur, *slash;

        if (!*s)
                return false;
        slash = strchr(s, '/');
        *ret_seg = s;
        *ret_len = slash ? (size_t)(slash - s) : strlen(s);
        *cur = slash ? slash + 1 : s + *ret_len;
        return true;
}

/* Whether a path segment is empty, "." or ".." (also percent-encoded): such paths never match. */
static bool segment_unsafe(const char *s, size_t n)
{
        unsigned dots = 0;

        if (n == 0)
                return true;
        for (size_t i = 0; i < n;) {
                if (s[i] == '.')
                        i++;
                else if (n - i >= 3 && s[i] == '%' && s[i + 1] == '2' && (s[i + 2] == 'e' || s[i + 2] == 'E'))
                        i += 3;
                else
                        return false;
                dots++;
        }
        return dots <= 2;
}

bool registry_pattern_segment_name(const char *seg, size_t len, const char **ret_name, size_t *ret_len)
{
        if (len < 3 || seg[0] != '{' || seg[len - 1] != '}' || !segment_valid(seg + 1, len - 2))
                return false;
        *ret_name = seg + 1;
        *ret_len = len - 2;
        return true;
}

/* Whether a pattern segment matches any one segment: "*" or "{NAME}". */
static bool segment_any(const char *seg, size_t len)
{
        const char *name;
        size_t n;

        return (len == 1 && seg[0] == '*') || registry_pattern_segment_name(seg, len, &name, &n);
}

bool registry_path_match(const char *pattern, const char *path)
{
        const char *p, *s;

        if (!pattern || !path)
                return false;
        if (!*path)
                path = "/";
        if (pattern[0] != '/' || path[0] != '/')
                return false;
        p = pattern + 1;
        s = path + 1;

        for (;;) {
                const char *ps = NULL, *ss = NULL;
                size_t pl = 0, sl = 0;
                bool has_p, has_s;

                has_p = next_segment(&p, &ps, &pl);
                if (has_p && pl == 2 && ps[0] == '*' && ps[1] == '*') {
                        if (*p)
                                return false; /* "**" is only valid as the last segment */
                        while (next_segment(&s, &ss, &sl))
                                if (segment_unsafe(ss, sl))
                                        return false;
                        return true;
                }
                has_s = next_segment(&s, &ss, &sl);
                if (has_s && segment_unsafe(ss, sl))
                        return false;
                if (!has_p || !has_s)
                        return !has_p && !has_s;
                if (segment_any(ps, pl))
                        continue;
                if (pl != sl || memcmp(ps, ss, pl) != 0)
                        return false;
        }
}

bool registry_pattern_covers(const char *outer, const char *inner)
{
        const char *o = outer + 1, *i = inner + 1;

        if (outer[0] != '/' || inner[0] != '/')
                return false;
        for (;;) {
                const char *os = NULL, *is = NULL;
                size_t ol = 0, il = 0;
                bool has_o = next_segment(&o, &os, &ol), has_i = next_segment(&i, &is, &il);

                if (has_o && ol == 2 && memcmp(os, "**", 2) == 0)
                        return true; /* any rest, "**" included */
                if (!has_o || !has_i)
                        return !has_o && !has_i;
                if (il == 2 && memcmp(is, "**", 2) == 0)
                        return false; /* only "**" covers "**" */
                if (segment_any(os, ol))
                        continue;
                if (segment_any(is, il) || ol != il || memcmp(os, is, ol) != 0)
                        return false;
        }
}

static bool is_pattern_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               strchr("-._~!$&'()+;=:@*", c);
}

/* A path pattern: "/" or "/seg/seg..." with no empty, "." or ".." segment, '*' only as "*" or a final
 * "**", and braces only around a whole segment "{NAME}". */
bool registry_pattern_valid(const char *pattern)
{
        const char *p, *seg;
        size_t len;

        if (pattern[0] != '/')
                return false;
        if (streq(pattern, "/"))
                return true;
        if (strlen(pattern) > 1024)
                return false;
        p = pattern + 1;
        while (next_segment(&p, &seg, &len)) {
                const char *name;
                size_t n;

                if (segment_unsafe(seg, len))
                        return false;
                for (size_t i = 0; i < len && !registry_pattern_segment_name(seg, len, &name, &n); i++)
                        if (!is_pattern_char(seg[i]))
                                return false;
                if (memchr(seg, '*', len)) {
                        if (len == 2 && seg[0] == '*' && seg[1] == '*') {
                                if (*p)
                                        return false;
                        } else if (len != 1)
                                return false;
                }
                if (!*p && seg[len] == '/')
                        return false; /* trailing "/" */
        }
        return true;
}

/* A JSON pointer (RFC 6901) naming a field: "/a/b", "~0" and "~1" as the only escapes. */
bool registry_json_pointer_valid(const char *s)
{
        if (s[0] != '/')
                return false;
        for (; *s; s++)
                if (*s == '~' && s[1] != '0' && s[1] != '1')
                        return false;
        return true;
}

/* A schema path relative to the schema root: "population/citizen.response.json". */
bool registry_schema_path_valid(const char *s)
{
        const char *p = s, *seg;
        size_t len;

        if (!*s || s[0] == '/' || strlen(s) > REGISTRY_SCHEMA_PATH_MAX)
                return false;
        while (next_segment(&p, &seg, &len)) {
                if (!segment_valid(seg, len))
                        return false;
                if (!*p && seg[len] == '/')
                        return false;
        }
        return true;
}

/* ---- The object ----------------------------------------------------------------------------- */

Registry *registry_free(Registry *r)
{
        if (!r)
                return NULL;
        for (size_t t = 0; t < _T_MAX; t++) {
                for (size_t i = 0; i < r->defs[t].n; i++)
                        registry_section_types[t].free(r->defs[t].items[i]);
                free(r->defs[t].items);
        }
        for (size_t i = 0; i < r->n_files; i++)
                free(r->files[i]);
        free(r->files);
        for (size_t i = 0; r->metaservices && i < r->defs[T_SUBSYSTEM].n * REGISTRY_METASERVICES; i++)
                free(r->metaservices[i].id);
        free(r->metaservices);
        free(r->members);
        free(r->subsystems);
        free(r->services);
        free(r->rights);
        free(r->purposes);
        free(r->rights_by_service);
        free(r->fingerprints);
        free(r->by_cn);
        free(r->nodes);
        free(r->hosted);
        registry_snapshot_free(r->snapshot);
        free(r);
        return NULL;
}

Registry *registry_ref(Registry *r)
{
        if (r)
                __atomic_add_fetch(&r->n_ref, 1, __ATOMIC_RELAXED);
        return r;
}

Registry *registry_unref(Registry *r)
{
        if (r && __atomic_sub_fetch(&r->n_ref, 1, __ATOMIC_ACQ_REL) == 0)
                registry_free(r);
        return NULL;
}

const char *registry_instance(const Registry *r)
{
        InstanceDef *d;

        if (!r || r->defs[T_INSTANCE].n == 0)
                return NULL;
        d = r->defs[T_INSTANCE].items[0];
        return d->id;
}

/* Binary search of a sorted DefVec by id. Return: the index, or -1. */
static ssize_t def_index(const Registry *r, size_t type, const char *id)
{
        const DefVec *v = &r->defs[type];
        size_t lo = 0, hi = v->n;

        if (!id)
                return -1;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(id, strempty(def_id(type, v->items[mid])));

                if (c == 0)
                        return (ssize_t)mid;
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return -1;
}

static void *def_lookup(const Registry *r, size_t type, const char *id)
{
        ssize_t i = def_index(r, type, id);

        return i < 0 ? NULL : r->defs[type].items[i];
}

const RegistryMember *registry_member_lookup(const Registry *r, const char *id)
{
        MemberDef *d = r ? def_lookup(r, T_MEMBER, id) : NULL;
        return d ? &d->pub : NULL;
}

const RegistrySubsystem *registry_subsystem_lookup(const Registry *r, const char *id)
{
        SubsystemDef *d = r ? def_lookup(r, T_SUBSYSTEM, id) : NULL;
        return d ? &d->pub : NULL;
}

const RegistryService *registry_service_lookup(const Registry *r, const char *id)
{
        ServiceDef *d = r ? def_lookup(r, T_SERVICE, id) : NULL;
        return d ? &d->pub : NULL;
}

/* The metaservices: a subsystem's group in Registry.metaservices holds them in this order. */
static const struct {
        RegistryMetaservice bit;
        const char *name;
} metaservice_table[REGISTRY_METASERVICES] = {
        { REGISTRY_META_LIST_METHODS, "listMethods" },
        { REGISTRY_META_ALLOWED_METHODS, "allowedMethods" },
        { REGISTRY_META_GET_OPENAPI, "getOpenAPI" },
        { REGISTRY_META_GET_WSDL, "getWsdl" },
};

RegistryMetaservice registry_metaservice_from_code(const char *code)
{
        for (size_t i = 0; code && i < ELEMENTSOF(metaservice_table); i++)
                if (streq(metaservice_table[i].name, code))
                        return metaservice_table[i].bit;
        return REGISTRY_META_NONE;
}

const char *registry_metaservice_name(RegistryMetaservice m)
{
        for (size_t i = 0; i < ELEMENTSOF(metaservice_table); i++)
                if (metaservice_table[i].bit == m)
                        return metaservice_table[i].name;
        return NULL;
}

int registry_metaservices_build(Registry *r)
{
        size_t n = r->defs[T_SUBSYSTEM].n;

        r->metaservices = calloc(MAX(n, 1U) * REGISTRY_METASERVICES, sizeof(RegistryService));
        if (!r->metaservices)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < REGISTRY_METASERVICES; k++) {
                        RegistryService *m = &r->metaservices[i * REGISTRY_METASERVICES + k];
                        const RegistrySubsystem *sub = r->subsystems[i];

                        m->meta = metaservice_table[k].bit;
                        m->owner = sub;
                        m->methods = REGISTRY_METHOD_GET;
                        m->timeout_ms = 10000; /* a service's defaults (answered by the node itself) */
                        m->max_request_size = m->max_response_size = MIB(1);
                        if (asprintf(&m->id, "%s/%s", sub->id, metaservice_table[k].name) < 0) {
                                m->id = NULL;
                                return -ENOMEM;
                        }
                        m->code = strrchr(m->id, '/') + 1;
                        m->title = (char *)metaservice_table[k].name;
                }
        return 0;
}

const RegistryService *registry_metaservice_lookup(const Registry *r, const char *id)
{
        const char *slash = id ? strrchr(id, '/') : NULL;
        RegistryMetaservice m = slash ? registry_metaservice_from_code(slash + 1) : REGISTRY_META_NONE;
        _cleanup_free_ char *sub = NULL;
        size_t k = 0;
        ssize_t i;

        if (!r || !r->metaservices || m == REGISTRY_META_NONE || !(sub = strndup(id, (size_t)(slash - id))))
                return NULL;
        /* the subsystems' view is in the order of their definitions */
        i = def_index(r, T_SUBSYSTEM, sub);
        if (i < 0)
                return NULL;
        while (metaservice_table[k].bit != m)
                k++;
        return &r->metaservices[(size_t)i * REGISTRY_METASERVICES + k];
}

bool registry_adapter_key_known(const Registry *r, const char *key)
{
        for (size_t i = 0; r && i < r->defs[T_SUBSYSTEM].n; i++)
                if (strv_contains(r->subsystems[i]->adapter_keys, key))
                        return true;
        return false;
}

bool registry_adapter_may_serve(const Registry *r, const char *key, const char *service)
{
        const RegistryService *s = registry_service_lookup(r, service);

        return s && s->owner && strv_contains(s->owner->adapter_keys, key);
}

const RegistryPurpose *registry_purpose_lookup(const Registry *r, const char *code)
{
        PurposeDef *d = r ? def_lookup(r, T_PURPOSE, code) : NULL;
        return d ? &d->pub : NULL;
}

const RegistryGroup *registry_group_lookup(const Registry *r, const char *id)
{
        GroupDef *d = r ? def_lookup(r, T_GROUP, id) : NULL;
        return d ? &d->pub : NULL;
}
const RegistrySubsystem *registry_subsystem_by_cert(const Registry *r, const uint8_t fingerprint[32], const char *cn)
{
        if (!r)
                return NULL;
        if (fingerprint) {
                size_t lo = 0, hi = r->n_fingerprints;

                while (lo < hi) {
                        size_t mid = lo + (hi - lo) / 2;
                        int c = memcmp(fingerprint, r->fingerprints[mid].fp, 32);

                        if (c == 0)
                                return &r->fingerprints[mid].subsystem->pub;
                        if (c < 0)
                                hi = mid;
                        else
                                lo = mid + 1;
                }
        }
        if (cn) {
                size_t lo = 0, hi = r->n_by_cn;

                while (lo < hi) {
                        size_t mid = lo + (hi - lo) / 2;
                        int c = strcmp(cn, r->by_cn[mid]->tls_cn);

                        if (c == 0)
                                return r->by_cn[mid];
                        if (c < 0)
                                hi = mid;
                        else
                                lo = mid + 1;
                }
        }
        return NULL;
}

int registry_subsystem_ptr_compare(const void *a, const void *b)
{
        const RegistrySubsystem *const *x = a, *const *y = b;
        return strcmp((*x)->id, (*y)->id);
}

static bool right_applies(const RegistryRight *right, const RegistrySubsystem *client)
{
        if (right->client)
                return streq(right->client->id, client->id);
        if (right->group) {
                const RegistrySubsystem key = { .id = client->id }, *k = &key;
                return bsearch(&k, right->group->members, right->group->n_members, sizeof(RegistrySubsystem *),
                               registry_subsystem_ptr_compare) != NULL;
        }
        return false;
}

static bool patterns_match(char *const *patterns, const char *path)
{
        if (patterns)
                for (; *patterns; patterns++)
                        if (registry_path_match(*patterns, path))
                                return true;
        return false;
}

/* The index of the first right on the service `id` in rights_by_service (the lower bound). */
static size_t rights_first(const Registry *r, const char *id)
{
        size_t lo = 0, hi = r->defs[T_RIGHT].n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (strcmp(r->rights_by_service[mid]->service->id, id) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

int registry_authorize(const Registry *r, const RegistrySubsystem *client, const RegistryService *service,
                       unsigned method, const char *path, const RegistryRight **ret_right)
{
        const RegistryService *svc;
        int best = REGISTRY_E_NO_RIGHT;

        if (!r || !client || !client->id || !service || !service->id)
                return -EINVAL;
        if (method == 0 || (method & (method - 1)) != 0 || (method & ~(unsigned)REGISTRY_METHODS_ALL))
                return -EINVAL;
        if (isempty(path))
                path = "/";

        /* Decide on this registry's copy of the service, so that a pointer kept from an older snapshot
         * cannot mix two registries. */
        svc = registry_service_lookup(r, service->id);
        if (!svc)
                return REGISTRY_E_NO_RIGHT;

        for (size_t i = rights_first(r, svc->id);
             i < r->defs[T_RIGHT].n && streq(r->rights_by_service[i]->service->id, svc->id); i++) {
                const RegistryRight *right = r->rights_by_service[i];

                if (!right_applies(right, client))
                        continue;
                if (!(right->methods & svc->methods & method)) {
                        best = MAX(best, REGISTRY_E_METHOD);
                        continue;
                }
                if (!patterns_match(svc->paths, path) || !patterns_match(right->paths, path)) {
                        best = MAX(best, REGISTRY_E_PATH);
                        continue;
                }
                if (ret_right)
                        *ret_right = right;
                return 0;
        }
        return best;
}

bool registry_right_allows_purpose(const RegistryRight *right, const char *purpose)
{
        if (!right || isempty(purpose))
                return false;
        if (right->n_purposes == 0)
                return right->basis == REGISTRY_BASIS_CONSENT;
        for (size_t i = 0; i < right->n_purposes; i++)
                if (streq(right->purposes[i]->code, purpose))
                        return true;
        return false;
}

ssize_t registry_client_rights(const Registry *r, const RegistrySubsystem *client, const RegistryService *service,
                               const RegistryRight ***ret)
{
        const RegistryRight **list = NULL;
        size_t n = 0;

        *ret = NULL;
        for (size_t i = rights_first(r, service->id);
             i < r->defs[T_RIGHT].n && streq(r->rights_by_service[i]->service->id, service->id); i++) {
                if (!right_applies(r->rights_by_service[i], client))
                        continue;
                if (!list && !(list = calloc(r->defs[T_RIGHT].n, sizeof(*list))))
                        return -ENOMEM;
                list[n++] = r->rights_by_service[i];
        }
        *ret = list;
        return (ssize_t)n;
}

size_t registry_members(const Registry *r, const RegistryMember *const **ret)
{
        *ret = r ? r->members : NULL;
        return r ? r->defs[T_MEMBER].n : 0;
}

size_t registry_subsystems(const Registry *r, const RegistrySubsystem *const **ret)
{
        *ret = r ? r->subsystems : NULL;
        return r ? r->defs[T_SUBSYSTEM].n : 0;
}

size_t registry_services(const Registry *r, const RegistryService *const **ret)
{
        *ret = r ? r->services : NULL;
        return r ? r->defs[T_SERVICE].n : 0;
}

size_t registry_rights(const Registry *r, const RegistryRight *const **ret)
{
        *ret = r ? r->rights : NULL;
        return r ? r->defs[T_RIGHT].n : 0;
}

size_t registry_purposes(const Registry *r, const RegistryPurpose *const **ret)
{
        *ret = r ? r->purposes : NULL;
        return r ? r->defs[T_PURPOSE].n : 0;
}

/* --- listings, for the metaservices -------------------------------------------------------------- */

/* Whether `client` holds any right on `svc` (directly or through a group), whatever its methods and paths. */
static bool has_any_right(const Registry *r, const RegistrySubsystem *client, const RegistryService *svc)
{
        for (size_t i = rights_first(r, svc->id);
             i < r->defs[T_RIGHT].n && streq(r->rights_by_service[i]->service->id, svc->id); i++)
                if (right_applies(r->rights_by_service[i], client))
                        return true;
        return false;
}

ssize_t registry_service_list(const Registry *r, const char *provider, const RegistrySubsystem *client, unsigned flags,
                              const RegistryService ***ret)
{
        const RegistryService **list = NULL;
        size_t n = 0;

        *ret = NULL;
        for (size_t i = 0; r && provider && i < r->defs[T_SERVICE].n; i++) {
                const RegistryService *svc = r->services[i];

                if (!svc->owner || !streq(svc->owner->id, provider))
                        continue;
                if ((flags & REGISTRY_LIST_SOAP) && !svc->soap_request_schema)
                        continue;
                if (client && !has_any_right(r, client, svc))
                        continue;
                if (!list) {
                        list = calloc(r->defs[T_SERVICE].n, sizeof(*list));
                        if (!list)
                                return -ENOMEM;
                }
                list[n++] = svc;
        }
        *ret = list;
        return (ssize_t)n;
}
