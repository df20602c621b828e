/* registry-schemas.c: find, read and compile the JSON Schema and XSD files the services name */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "registry-internal.h"
#include "util/error.h"
#include "validate/jsonschema.h"
#include "validate/xsd.h"

/* ---- Schemas: compiled once per load --------------------------------------------------------- */

#define SCHEMA_FILE_MAX MIB(4)
#define DEFAULT_SCHEMA_BASE_URI "https://schemas.xbus.invalid/"

/* Join and normalise "a/b" + "../c" -> "a/c"; refuses to climb above the start of a relative path. */
static char *path_join_normalize(const char *a, const char *b)
{
        _cleanup_free_ char *joined = NULL;
        char *out, *segs[256];
        size_t n = 0, len = 0;
        bool absolute;

        if (asprintf(&joined, "%s/%s", a, b) < 0)
                return NULL;
        absolute = joined[0] == '/';
        for (char *save = NULL, *t = strtok_r(joined, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
                if (streq(t, "."))
                        continue;
                if (streq(t, "..")) {
                        if (n > 0 && !streq(segs[n - 1], ".."))
                                n--;
                        else if (!absolute && n < ELEMENTSOF(segs))
                                segs[n++] = t;
                        continue;
                }
                if (n >= ELEMENTSOF(segs))
                        return NULL;
                segs[n++] = t;
        }
        out = malloc(strlen(a) + strlen(b) + 3);
        if (!out)
                return NULL;
        if (absolute)
                out[len++] = '/';
        for (size_t i = 0; i < n; i++) {
                size_t sl = strlen(segs[i]);
                if (i > 0)
                        out[len++] = '/';
                memcpy(out + len, segs[i], sl);
                len += sl;
        }
        out[len] = 0;
        return out;
}

/* The bytes of the schema file `path`: embedded, or read into *ret_text. Return: 0, or -errno with *ret_why. */
static int schema_text(const SchemaSource *src, const char *path, const char **ret_data, size_t *ret_size,
                       char **ret_text, char **ret_why)
{
        const EmbeddedFile *f = NULL;
        const RegistryFile *g = NULL;
        int k;

        if (!src->embedded) {
                k = read_full_file(path, SCHEMA_FILE_MAX, ret_text, ret_size);
                if (k < 0)
                        return error_set(ret_why, k, "cannot read schema file '%s': %s", path, strerror(-k));
                *ret_data = *ret_text;
                return 0;
        }
        if (src->files)
                g = registry_file_find(src->files, src->n_files, path);
        else
                f = embedded_find(path);
        if (!f && !g)
                return error_set(ret_why, -ENOENT, "no schema file '%s'", path);
        *ret_data = g ? g->text : f->data;
        *ret_size = g ? g->size : f->size;
        return 0;
}

/* The file `rel` of the schema folder or, when a provider's has none such, of the instance's: as schema_text(),
 * and *ret_path (malloc'd) the file read, or the provider's when neither has it. */
static int schema_find(const SchemaSource *src, const char *rel, const char **ret_data, size_t *ret_size,
                       char **ret_text, char **ret_path, char **ret_why)
{
        _cleanup_free_ char *second = NULL, *why = NULL;
        int k;

        *ret_path = path_join_normalize(src->root, rel);
        if (!*ret_path)
                return -ENOMEM;
        k = schema_text(src, *ret_path, ret_data, ret_size, ret_text, ret_why);
        if (k != -ENOENT || !src->fallback)
                return k;
        second = path_join_normalize(src->fallback, rel);
        if (!second)
                return -ENOMEM;
        k = schema_text(src, second, ret_data, ret_size, ret_text, &why);
        if (k == -ENOENT) /* the provider's file is the one to blame */
                return k;
        free(*ret_path);
        free(*ret_why);
        *ret_path = TAKE_PTR(second);
        *ret_why = TAKE_PTR(why);
        return k;
}

const RegistryFile *registry_file_find(const RegistryFile *files, size_t n_files, const char *name)
{
        size_t lo = 0, hi = n_files;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(name, files[mid].name);

                if (c == 0)
                        return &files[mid];
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return NULL;
}

int registry_loader_read(const Loader *l, const char *rel, size_t max, const char **ret_data, size_t *ret_size,
                         char **ret_text, char **ret_why)
{
        SchemaSource src = { .embedded = l->embedded, .files = l->files, .n_files = l->n_files };
        _cleanup_free_ char *path = NULL;
        int k;

        *ret_why = NULL;
        if (!l->dir)
                return -ENOENT;
        if (!registry_schema_path_valid(rel))
                return error_set(ret_why, -EINVAL, "'%s' is not a path inside the registry folder", rel);
        path = path_join_normalize(l->dir, rel);
        if (!path)
                return -ENOMEM;
        k = schema_text(&src, path, ret_data, ret_size, ret_text, ret_why);
        if (k == 0 && *ret_size > max) {
                *ret_text = mfree(*ret_text);
                return error_set(ret_why, -EFBIG, "'%s' is larger than %zu bytes", rel, max);
        }
        return k;
}

int registry_schema_file(const SchemaSource *src, const char *rel, const char **ret_data, size_t *ret_size,
                         char **ret_text, char **ret_why)
{
        _cleanup_free_ char *path = NULL;

        *ret_why = NULL;
        if (!registry_schema_path_valid(rel) || strstr(rel, ".."))
                return error_set(ret_why, -EINVAL, "'%s' is not a path inside the schema folder", rel);
        return schema_find(src, rel, ret_data, ret_size, ret_text, &path, ret_why);
}

json_t *registry_schema_read(const SchemaSource *src, const char *rel, char **ret_why)
{
        _cleanup_free_ char *text = NULL;
        json_error_t err;
        const char *data;
        size_t size = 0;
        json_t *doc;

        if (registry_schema_file(src, rel, &data, &size, &text, ret_why) < 0)
                return NULL;
        doc = json_loadb(data, size, JSON_REJECT_DUPLICATES, &err);
        if (!doc)
                error_set(ret_why, 0, "schema file '%s' is not JSON: line %d: %s", rel, err.line, err.text);
        return doc;
}

static json_t *schema_resolve(const char *uri, void *userdata)
{
        const SchemaSource *src = userdata;
        size_t n = strlen(src->base_uri);
        _cleanup_free_ char *why = NULL;

        if (strncmp(uri, src->base_uri, n) != 0)
                return NULL; /* never the network */
        return registry_schema_read(src, uri + n, &why);
}

/* An XSD (for SOAP payloads): read as text and compiled; includes resolve next to it (folders only). */
static int compile_xsd(Loader *l, const SchemaSource *src, ServiceDef *d, unsigned item, const char *rel, void **ret)
{
        _cleanup_free_ char *path = NULL, *text = NULL, *why = NULL;
        const char *data;
        size_t size = 0;
        int k;

        if (!rel)
                return 0;
        k = schema_find(src, rel, &data, &size, &text, &path, &why);
        if (k == -ENOMEM)
                return k;
        if (k < 0) {
                ini_errors_add(&l->errors, d->sec.file, d->sec.lines[item], "%s", why ? why : "out of memory");
                return 0;
        }
        k = xsd_schema_new((XsdSchema **)ret, data, size, src->embedded ? NULL : path, NULL, &why);
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                ini_errors_add(&l->errors, d->sec.file, d->sec.lines[item], "XSD '%s' refused: %s", rel,
                               why ? why : strerror(-k));
        return 0;
}

static int compile_one(Loader *l, const SchemaSource *src, const JsonSchemaOptions *opts, ServiceDef *d, unsigned item,
                       const char *rel, void **ret)
{
        _cleanup_free_ char *why = NULL, *uri = NULL;
        json_t *doc;
        int k;

        if (!rel)
                return 0;
        doc = registry_schema_read(src, rel, &why);
        if (!doc) {
                ini_errors_add(&l->errors, d->sec.file, d->sec.lines[item], "%s", why ? why : "out of memory");
                return 0;
        }
        if (asprintf(&uri, "%s%s", src->base_uri, rel) < 0) {
                json_decref(doc);
                return -ENOMEM;
        }
        why = mfree(why);
        k = json_schema_compile((JsonSchema **)ret, doc, uri, opts, &why);
        json_decref(doc);
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                ini_errors_add(&l->errors, d->sec.file, d->sec.lines[item], "schema '%s' refused: %s", rel,
                               why ? why : strerror(-k));
        return 0;
}

/* `rel` (a `schemas = DIR` key) against the folder of `file`, the registry fragment that says it. */
static char *folder_of_key(const char *file, const char *rel)
{
        _cleanup_free_ char *copy = strdup(file);

        return copy ? path_join_normalize(rel[0] == '/' ? "/" : dirname(copy), rel) : NULL;
}

/* The schema folder of the service `d` when it, or its provider's member, names one: *ret (malloc'd), else NULL.
 * Return: 0 or -ENOMEM. */
static int provider_root(const ServiceDef *d, char **ret)
{
        const MemberDef *m =
                d->pub.owner && d->pub.owner->member ? container_of(d->pub.owner->member, const MemberDef, pub) : NULL;

        *ret = NULL;
        if (d->schemas)
                *ret = folder_of_key(d->sec.file, d->schemas);
        else if (m && m->schemas)
                *ret = folder_of_key(m->sec.file, m->schemas);
        else
                return 0;
        return *ret ? 0 : -ENOMEM;
}

/* Each `schemas = DIR` of a member or service names a folder (reported at its line otherwise). */
static int provider_roots_check(Loader *l)
{
        static const size_t types[] = { T_MEMBER, T_SERVICE };

        for (size_t k = 0; k < ELEMENTSOF(types); k++) {
                size_t t = types[k];
                const DefVec *v = &l->r->defs[t];

                for (size_t i = 0; i < v->n; i++) {
                        const IniSection *sec = def_sec(t, v->items[i]);
                        const char *rel = t == T_MEMBER ? ((MemberDef *)v->items[i])->schemas
                                                        : ((ServiceDef *)v->items[i])->schemas;
                        _cleanup_free_ char *root = NULL;
                        struct stat st;

                        if (!rel)
                                continue;
                        root = folder_of_key(sec->file, rel);
                        if (!root)
                                return -ENOMEM;
                        if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode))
                                ini_errors_add(&l->errors, sec->file,
                                               sec->lines[t == T_MEMBER ? MEMBER_SCHEMAS : SVC_SCHEMAS],
                                               "schema folder '%s' (%s) is not a folder", rel, root);
                }
        }
        return 0;
}

char *registry_schema_root(const Registry *r, const char *dir)
{
        InstanceDef *inst = r->defs[T_INSTANCE].n ? r->defs[T_INSTANCE].items[0] : NULL;
        const char *schemas = inst && inst->schemas ? inst->schemas : "schemas";

        if (schemas[0] == '/')
                return path_join_normalize("/", schemas);
        return path_join_normalize(dir, schemas);
}

/*
 * Compile every request and response schema the services name. A schema
 * that does not load, or uses a keyword the validator does not implement,
 * refuses the whole registry (with the service's file and line).
 * registry_load_files() has no folder to read schemas from: it keeps the
 * paths uncompiled (the daemon never loads a registry that way).
 */
int registry_schemas_compile(Loader *l)
{
        InstanceDef *inst = l->r->defs[T_INSTANCE].n ? l->r->defs[T_INSTANCE].items[0] : NULL;
        DefVec *v = &l->r->defs[T_SERVICE];
        JsonSchemaOptions opts = {};
        _cleanup_free_ char *root = NULL;
        SchemaSource src = {};
        int k;

        if (!l->dir || !inst)
                return 0;
        src.base_uri = inst->schema_base_uri ? inst->schema_base_uri : DEFAULT_SCHEMA_BASE_URI;
        if (!strstr(src.base_uri, "://") || src.base_uri[strlen(src.base_uri) - 1] != '/') {
                ini_errors_add(&l->errors, inst->sec.file, inst->sec.lines[INSTANCE_SCHEMA_BASE],
                               "schema-base-uri must be an absolute URI ending in '/'");
                return 0;
        }
        for (char **f = inst->assert_formats; f && *f; f++) {
                unsigned bit = json_schema_format_from_name(*f);
                if (!bit)
                        ini_errors_add(&l->errors, inst->sec.file, inst->sec.lines[INSTANCE_FORMATS],
                                       "format '%s' cannot be asserted", *f);
                opts.format_assert_mask |= bit;
        }
        root = l->schema_root ? strdup(l->schema_root) : registry_schema_root(l->r, l->dir);
        if (!root)
                return -ENOMEM;
        src.embedded = l->embedded;
        src.files = l->files;
        src.n_files = l->n_files;
        opts.resolver = schema_resolve;
        if (!l->embedded && (k = provider_roots_check(l)) < 0)
                return k;

        for (size_t i = 0; i < v->n; i++) {
                ServiceDef *d = v->items[i];
                _cleanup_free_ char *own = NULL;
                SchemaSource s = src;
                JsonSchemaOptions o = opts;

                /* a provider's folder first, then the instance's (docs/schemas.md) */
                if ((k = provider_root(d, &own)) < 0)
                        return k;
                s.root = own ? own : root;
                s.fallback = own ? root : NULL;
                o.userdata = &s;
                /* each one only when the service names it */
                if ((k = compile_one(l, &s, &o, d, SVC_REQUEST_SCHEMA, d->pub.request_schema,
                                     &d->pub.request_validator)) < 0 ||
                    (k = compile_one(l, &s, &o, d, SVC_RESPONSE_SCHEMA, d->pub.response_schema,
                                     &d->pub.response_validator)) < 0 ||
                    (k = compile_xsd(l, &s, d, SVC_SOAP_REQUEST_SCHEMA, d->pub.soap_request_schema,
                                     &d->pub.request_xsd)) < 0 ||
                    (k = compile_xsd(l, &s, d, SVC_SOAP_RESPONSE_SCHEMA, d->pub.soap_response_schema,
                                     &d->pub.response_xsd)) < 0 ||
                    (k = registry_describe_compile(l, &s, &o, d)) < 0)
                        return k;
        }
        return 0;
}
