/* jsonschema-uri.c: URIs and identifiers: RFC 3986 resolution, $id and anchors, documents, $ref targets */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/bytes.h"
#include "validate/jsonschema-internal.h"
#include "validate/metaschema.h"

/* ---- URIs (RFC 3986 reference resolution) ---- */

typedef struct UriParts {
        const char *scheme, *auth, *path, *query, *frag;
        size_t scheme_len, auth_len, path_len, query_len, frag_len;
        bool has_scheme, has_auth, has_query, has_frag;
} UriParts;

static void uri_parse(const char *s, UriParts *u)
{
        const char *p = s;

        *u = (UriParts){};
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) {
                const char *q = p + 1;
                while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || *q == '+' ||
                       *q == '-' || *q == '.')
                        q++;
                if (*q == ':') {
                        u->has_scheme = true;
                        u->scheme = p;
                        u->scheme_len = q - p;
                        p = q + 1;
                }
        }
        if (p[0] == '/' && p[1] == '/') {
                u->has_auth = true;
                u->auth = p + 2;
                u->auth_len = strcspn(u->auth, "/?#");
                p = u->auth + u->auth_len;
        }
        u->path = p;
        u->path_len = strcspn(p, "?#");
        p += u->path_len;
        if (*p == '?') {
                u->has_query = true;
                u->query = p + 1;
                u->query_len = strcspn(u->query, "#");
                p = u->query + u->query_len;
        }
        if (*p == '#') {
                u->has_frag = true;
                u->frag = p + 1;
                u->frag_len = strlen(u->frag);
        }
}

/* RFC 3986 5.2.4, into `out` (room for len+1 bytes). */
static void remove_dot_segments(const char *in, size_t len, char *out)
{
        size_t o = 0, i = 0;

        while (i < len) {
                if (len - i >= 3 && strneq(in + i, "../", 3))
                        i += 3;
                else if (len - i >= 2 && strneq(in + i, "./", 2))
                        i += 2;
                else if (len - i >= 3 && strneq(in + i, "/./", 3))
                        i += 2;
                else if (len - i == 2 && strneq(in + i, "/.", 2)) {
                        out[o++] = '/';
                        i += 2;
                } else if ((len - i >= 4 && strneq(in + i, "/../", 4)) || (len - i == 3 && strneq(in + i, "/..", 3))) {
                        while (o > 0 && out[o - 1] != '/')
                                o--;
                        if (o > 0)
                                o--;
                        if (len - i == 3) {
                                out[o++] = '/';
                                i += 3;
                        } else
                                i += 3;
                } else if ((len - i == 1 && in[i] == '.') || (len - i == 2 && strneq(in + i, "..", 2)))
                        i = len;
                else {
                        if (in[i] == '/')
                                out[o++] = in[i++];
                        while (i < len && in[i] != '/')
                                out[o++] = in[i++];
                }
        }
        out[o] = 0;
}

/* uri_resolve(): `ref` against `base`. Return: malloc()ed absolute reference, or NULL (ENOMEM). */
char *uri_resolve(const char *base, const char *ref)
{
        UriParts b, r;
        const char *scheme = NULL, *auth = NULL, *query = NULL;
        size_t scheme_len = 0, auth_len = 0, query_len = 0;
        bool has_auth = false, has_query = false;
        _cleanup_free_ char *merged = NULL, *path = NULL;
        size_t mlen;
        char *out;

        uri_parse(base, &b);
        uri_parse(ref, &r);
        merged = malloc(strlen(base) + strlen(ref) + 2);
        path = malloc(strlen(base) + strlen(ref) + 2);
        if (!merged || !path)
                return NULL;

        if (r.has_scheme) {
                scheme = r.scheme, scheme_len = r.scheme_len;
                has_auth = r.has_auth, auth = r.auth, auth_len = r.auth_len;
                remove_dot_segments(r.path, r.path_len, path);
                has_query = r.has_query, query = r.query, query_len = r.query_len;
        } else {
                if (r.has_auth) {
                        has_auth = true, auth = r.auth, auth_len = r.auth_len;
                        remove_dot_segments(r.path, r.path_len, path);
                        has_query = r.has_query, query = r.query, query_len = r.query_len;
                } else {
                        if (r.path_len == 0) {
                                memcpy(path, b.path, b.path_len);
                                path[b.path_len] = 0;
                                if (r.has_query)
                                        has_query = true, query = r.query, query_len = r.query_len;
                                else
                                        has_query = b.has_query, query = b.query, query_len = b.query_len;
                        } else {
                                if (r.path[0] == '/') {
                                        remove_dot_segments(r.path, r.path_len, path);
                                } else {
                                        if (b.has_auth && b.path_len == 0) {
                                                merged[0] = '/';
                                                mlen = 1;
                                        } else {
                                                mlen = b.path_len;
                                                while (mlen > 0 && b.path[mlen - 1] != '/')
                                                        mlen--;
                                                memcpy(merged, b.path, mlen);
                                        }
                                        memcpy(merged + mlen, r.path, r.path_len);
                                        mlen += r.path_len;
                                        remove_dot_segments(merged, mlen, path);
                                }
                                has_query = r.has_query, query = r.query, query_len = r.query_len;
                        }
                        has_auth = b.has_auth, auth = b.auth, auth_len = b.auth_len;
                }
                if (b.has_scheme)
                        scheme = b.scheme, scheme_len = b.scheme_len;
        }
        if (asprintf(&out, "%.*s%s%s%.*s%s%s%.*s%s%.*s", (int)scheme_len, scheme ? scheme : "", scheme ? ":" : "",
                     has_auth ? "//" : "", (int)auth_len, auth ? auth : "", path, has_query ? "?" : "", (int)query_len,
                     query ? query : "", r.has_frag ? "#" : "", (int)r.frag_len, r.has_frag ? r.frag : "") < 0)
                return NULL;
        return out;
}

char *json_schema_uri_resolve(const char *base, const char *ref)
{
        return uri_resolve(base, ref);
}

/* Splits "doc#frag" in place: returns the fragment (NULL when none) and cuts `uri` at '#'. */
char *uri_split_fragment(char *uri)
{
        char *h = strchr(uri, '#');
        if (!h)
                return NULL;
        *h = 0;
        return h + 1;
}

/* ---- identifiers: $id, $anchor, $dynamicAnchor ---- */

static bool is_anchor_name(const char *s)
{
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
                return false;
        for (s++; *s; s++)
                if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
                      *s == '_' || *s == '.'))
                        return false;
        return true;
}

static int register_anchor(Compiler *c, const Resource *res, const char *name, Node *n, const Scope *sc)
{
        _cleanup_free_ char *key = NULL;
        Node *old;

        if (asprintf(&key, "%s#%s", res->uri, name) < 0)
                return -ENOMEM;
        old = map_gets(&c->anchors, key);
        if (old && old != n)
                return cfail(c, -EINVAL, "anchor '%s' at %s is defined twice", name, WHERE(sc));
        return map_puts(&c->anchors, key, n);
}

Resource *new_resource(Compiler *c, const char *uri, Node *root, const Scope *sc, int *r)
{
        Resource *res;
        Node *old = map_gets(&c->resources, uri);

        if (old && old != root) {
                *r = cfail(c, -EINVAL, "$id '%s' at %s identifies two schemas", uri, WHERE(sc));
                return NULL;
        }
        res = arena_alloc(&c->s->arena, sizeof(*res));
        if (!res || !(res->uri = arena_strdup(&c->s->arena, uri))) {
                *r = -ENOMEM;
                return NULL;
        }
        *r = map_puts(&c->resources, uri, root);
        return *r < 0 ? NULL : res;
}

/* `$id`: a new resource, or (draft-07) a plain-name fragment. */
static int compile_id(Compiler *c, json_t *json, Scope *sc, Node *n)
{
        json_t *v = json_object_get(json, "$id");
        _cleanup_free_ char *uri = NULL;
        char *frag;
        int r;

        if (!v || (sc->dialect == JSON_SCHEMA_DRAFT_07 && json_object_get(json, "$ref")))
                return 0;
        if (!json_is_string(v))
                return cfail(c, -EINVAL, "keyword '$id' at %s must be a string", WHERE(sc));
        uri = uri_resolve(sc->resource->uri, json_string_value(v));
        if (!uri)
                return -ENOMEM;
        frag = uri_split_fragment(uri);
        if (frag && *frag && sc->dialect != JSON_SCHEMA_DRAFT_07)
                return cfail(c, -EINVAL, "$id '%s' at %s must not have a fragment", json_string_value(v), WHERE(sc));
        if (json_string_value(v)[0] != '#') {
                sc->resource = new_resource(c, uri, n, sc, &r);
                if (!sc->resource)
                        return r;
                n->resource = sc->resource;
        }
        if (frag && *frag)
                return register_anchor(c, sc->resource, frag, n, sc);
        return 0;
}

/* `$dynamicAnchor`: also listed on its resource, under an interned name, for `$dynamicRef`. */
static int add_dynamic_anchor(Compiler *c, const char *value, Scope *sc, Node *n)
{
        const char *name = map_gets(&c->dyn_names, value);
        DynAnchor *d = arena_alloc(&c->s->arena, sizeof(*d));

        if (!d)
                return -ENOMEM;
        if (!name) {
                name = arena_strdup(&c->s->arena, value);
                if (!name || map_puts(&c->dyn_names, name, (void *)name) < 0)
                        return -ENOMEM;
        }
        d->name = name;
        d->node = n;
        d->next = sc->resource->dynamic_anchors;
        sc->resource->dynamic_anchors = d;
        return 0;
}

int compile_identifiers(Compiler *c, json_t *json, Scope *sc, Node *n)
{
        static const char *const anchor_kws[] = { "$anchor", "$dynamicAnchor" };
        int r;

        r = compile_id(c, json, sc, n);
        if (r < 0)
                return r;
        if (!(sc->dialect == JSON_SCHEMA_DRAFT_2020_12 && (sc->vocab & VOCAB_CORE)))
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(anchor_kws); i++) {
                json_t *v = json_object_get(json, anchor_kws[i]);

                if (!v)
                        continue;
                if (!json_is_string(v) || !is_anchor_name(json_string_value(v)))
                        return cfail(c, -EINVAL, "keyword '%s' at %s must be a plain name", anchor_kws[i], WHERE(sc));
                r = register_anchor(c, sc->resource, json_string_value(v), n, sc);
                if (r < 0)
                        return r;
                if (i == 1) {
                        r = add_dynamic_anchor(c, json_string_value(v), sc, n);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}
/* ---- documents and $ref targets ---- */

/* Fetches a document by absolute URI: already loaded, built in, or through the resolver. */
json_t *fetch_document(Compiler *c, const char *uri, int *ret_r)
{
        json_t *doc = map_gets(&c->loaded, uri);
        const char *text;
        int r;

        if (doc)
                return doc;
        text = metaschema_find(uri);
        if (text) {
                json_error_t jerr;
                doc = json_loads(text, 0, &jerr);
                if (!doc) {
                        *ret_r = -ENOMEM;
                        return NULL;
                }
        } else {
                if (!c->opts->resolver) {
                        *ret_r = -ENOENT;
                        return NULL;
                }
                if (c->n_fetched >= c->limits->max_documents) {
                        *ret_r = cfail(c, -E2BIG, "more than %u documents referenced", c->limits->max_documents);
                        return NULL;
                }
                c->n_fetched++;
                doc = c->opts->resolver(uri, c->opts->userdata);
                if (!doc) {
                        *ret_r = -ENOENT;
                        return NULL;
                }
        }
        r = hold_doc(c->s, doc);
        if (r < 0) {
                json_decref(doc);
                *ret_r = r;
                return NULL;
        }
        r = map_puts(&c->loaded, uri, doc);
        if (r < 0) {
                *ret_r = r;
                return NULL;
        }
        return doc;
}

/* Resolves a JSON pointer (already percent-decoded) from `start`. */
static json_t *pointer_get(json_t *start, char *ptr)
{
        json_t *cur = start;

        if (*ptr == 0)
                return cur;
        if (*ptr != '/')
                return NULL;
        while (cur && *ptr == '/') {
                char *tok = ptr + 1, *end = strchr(tok, '/'), *o = tok;
                size_t len;
                if (!end)
                        end = tok + strlen(tok);
                ptr = end;
                /* unescape ~1 and ~0 in place */
                for (char *p = tok; p < end; p++) {
                        if (*p == '~' && p + 1 < end && (p[1] == '0' || p[1] == '1')) {
                                *o++ = p[1] == '0' ? '~' : '/';
                                p++;
                        } else if (*p == '~')
                                return NULL;
                        else
                                *o++ = *p;
                }
                len = o - tok;
                if (json_is_object(cur))
                        cur = json_object_getn(cur, tok, len);
                else if (json_is_array(cur)) {
                        size_t idx = 0;
                        if (len == 0 || (len > 1 && tok[0] == '0'))
                                return NULL;
                        for (size_t i = 0; i < len; i++) {
                                if (tok[i] < '0' || tok[i] > '9' || idx > 100000000)
                                        return NULL;
                                idx = idx * 10 + (tok[i] - '0');
                        }
                        cur = json_array_get(cur, idx);
                } else
                        return NULL;
        }
        return cur;
}

int resolve_pending(Compiler *c, PendingRef *p)
{
        _cleanup_free_ char *uri = strdup(p->uri);
        char *frag;
        Node *res_root, *target = NULL;
        const char *kw = p->dynamic ? "$dynamicRef" : "$ref";
        int r;

        if (!uri)
                return -ENOMEM;
        frag = uri_split_fragment(uri);
        res_root = map_gets(&c->resources, uri);
        if (!res_root) {
                json_t *doc = fetch_document(c, uri, &r);
                if (!doc) {
                        if (r == -ENOENT)
                                return cfail(c, -ENOENT, "%s '%s' at %s#%s cannot be resolved", kw, p->uri,
                                             p->node->doc_uri, p->location);
                        return r;
                }
                const char *doc_uri = arena_strdup(&c->s->arena, uri);
                if (!doc_uri)
                        return -ENOMEM;
                res_root = compile_document(c, doc, uri, doc_uri, &r);
                if (!res_root)
                        return r;
        }
        if (!frag || !*frag)
                target = res_root;
        else if (*frag == '/') {
                ssize_t len = percent_decode(frag, strlen(frag), frag);
                json_t *j = len < 0 ? NULL : pointer_get(res_root->json, frag);
                if (j)
                        target = map_get(&c->nodes, &j, sizeof(j));
        } else {
                _cleanup_free_ char *key = NULL;
                if (asprintf(&key, "%s#%s", res_root->resource->uri, frag) < 0)
                        return -ENOMEM;
                target = map_gets(&c->anchors, key);
                if (!target) {
                        free(key);
                        key = NULL;
                        if (asprintf(&key, "%s#%s", uri, frag) < 0)
                                return -ENOMEM;
                        target = map_gets(&c->anchors, key);
                }
        }
        if (!target)
                return cfail(c, -ENOENT, "%s '%s' at %s#%s does not point to a schema", kw, p->uri, p->node->doc_uri,
                             p->location);
        if (!p->dynamic) {
                p->node->ref = target;
                return 0;
        }
        p->node->dynref = target;
        /* dynamic only when the fragment is a name and the target carries the same $dynamicAnchor */
        if (frag && *frag && *frag != '/') {
                json_t *da = json_is_object(target->json) ? json_object_get(target->json, "$dynamicAnchor") : NULL;
                if (json_is_string(da) && streq(json_string_value(da), frag))
                        p->node->dynref_anchor = map_gets(&c->dyn_names, frag);
        }
        return 0;
}
