/* registry-snapshot.c: signed registry snapshots: anchors, verification, the accept rules, loading and building */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "registry-internal.h"
#include "registry-snapshot.h"
#include "crypto/hash.h"
#include "crypto/keyfile.h"
#include "crypto/openssl-util.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/time-util.h"
#include "util/utf8.h"

#define SNAPSHOT_FORMAT 1
#define SNAPSHOT_TEXT_MAX MIB(32) /* all files' text together */
#define SNAPSHOT_FILE_MAX MIB(4)  /* one file (as INI_FILE_SIZE_MAX and the schema loader) */
#define SNAPSHOT_DEPTH_MAX 16U    /* folder depth gathered by registry_snapshot_build() */
#define ANCHOR_FILE_MAX KIB(16)

const char *registry_snapshot_strerror(int code)
{
        static const char *const table[_REGISTRY_SNAPSHOT_E_MAX] = {
                [0] = "accepted",
                [REGISTRY_SNAPSHOT_E_MALFORMED] = "not a well-formed registry snapshot",
                [REGISTRY_SNAPSHOT_E_TOO_LARGE] = "the snapshot is over a size limit",
                [REGISTRY_SNAPSHOT_E_UNKNOWN_KEY] = "signed by a key that is not an anchor",
                [REGISTRY_SNAPSHOT_E_SIGNATURE] = "the signature does not verify",
                [REGISTRY_SNAPSHOT_E_RETIRED] = "signed by a retired anchor",
                [REGISTRY_SNAPSHOT_E_UNRETIRED] = "it no longer lists an anchor retired before",
                [REGISTRY_SNAPSHOT_E_INSTANCE] = "a snapshot of another instance",
                [REGISTRY_SNAPSHOT_E_OLDER] = "older than the snapshot in force",
                [REGISTRY_SNAPSHOT_E_CONFLICT] = "the version in force, with other content",
                [REGISTRY_SNAPSHOT_E_NOT_YET] = "created in the future",
                [REGISTRY_SNAPSHOT_E_EXPIRED] = "expired",
                [REGISTRY_SNAPSHOT_E_CONTENT] = "its registry does not load",
                [REGISTRY_SNAPSHOT_UNCHANGED] = "the snapshot in force",
        };

        if (code >= 0 && code < _REGISTRY_SNAPSHOT_E_MAX)
                return table[code];
        return code < 0 ? strerror(-code) : "unknown error";
}

/* ---- Anchors ----------------------------------------------------------------------------------- */

struct RegistryAnchors {
        JwsVerifier **keys;
        size_t n;
};

int registry_anchors_new(RegistryAnchors **ret)
{
        *ret = calloc(1, sizeof(RegistryAnchors));
        return *ret ? 0 : -ENOMEM;
}

RegistryAnchors *registry_anchors_free(RegistryAnchors *a)
{
        if (!a)
                return NULL;
        for (size_t i = 0; i < a->n; i++)
                jws_verifier_free(a->keys[i]);
        free(a->keys);
        free(a);
        return NULL;
}

size_t registry_anchors_count(const RegistryAnchors *a)
{
        return a ? a->n : 0;
}

const char *registry_anchors_kid(const RegistryAnchors *a, size_t i)
{
        return a && i < a->n ? jws_verifier_kid(a->keys[i]) : NULL;
}

static const JwsVerifier *anchors_find(const RegistryAnchors *a, const char *kid)
{
        for (size_t i = 0; a && kid && i < a->n; i++)
                if (streq(jws_verifier_kid(a->keys[i]), kid))
                        return a->keys[i];
        return NULL;
}

int registry_anchors_add(RegistryAnchors *a, JwsVerifier *v)
{
        JwsVerifier **keys;

        if (anchors_find(a, jws_verifier_kid(v))) {
                jws_verifier_free(v);
                return 0;
        }
        keys = reallocarray(a->keys, a->n + 1, sizeof(JwsVerifier *));
        if (!keys) {
                jws_verifier_free(v);
                return -ENOMEM;
        }
        a->keys = keys;
        a->keys[a->n++] = v;
        return 0;
}

int registry_anchors_add_file(RegistryAnchors *a, const char *path, char **ret_why)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        _cleanup_free_ char *text = NULL;
        JwsVerifier *v = NULL;
        size_t size = 0, skip;
        int r;

        if (ret_why)
                *ret_why = NULL;
        r = read_full_file(path, ANCHOR_FILE_MAX, &text, &size);
        if (r < 0)
                return error_set(ret_why, r, "cannot read anchor \"%s\": %s", path, strerror(-r));
        skip = strspn(text, " \t\r\n");
        if (text[skip] == '{') {
                json_auto_t *jwk = json_loadb(text, size, JSON_REJECT_DUPLICATES, NULL);
                r = jwk && !json_object_get(jwk, "d") ? jws_verifier_new(&v, jwk) : JWS_E_KEY;
        } else {
                r = keyfile_pem_load(path, false, &pkey);
                if (r == 0)
                        r = jws_verifier_from_pkey(&v, pkey);
        }
        if (r == -ENOMEM)
                return r;
        if (r != 0)
                return error_set(ret_why, -EINVAL,
                                 "anchor \"%s\" holds no EC P-256 public key (PEM SubjectPublicKeyInfo or JWK)", path);
        return registry_anchors_add(a, v);
}

/* ---- Parsing --------------------------------------------------------------------------------- */

RegistrySnapshot *registry_snapshot_free(RegistrySnapshot *s)
{
        if (!s)
                return NULL;
        free(s->compact);
        free(s->instance);
        strv_free(s->retired);
        for (size_t i = 0; i < s->n_files; i++) {
                free((char *)s->files[i].name);
                free((char *)s->files[i].text);
        }
        free(s->files);
        free(s->source);
        free(s);
        return NULL;
}

static bool kid_valid(const char *s)
{
        if (strlen(s) != JWS_KID_LEN)
                return false;
        for (const char *c = s; *c; c++)
                if (!(ascii_isalpha(*c) || ascii_isdigit(*c) || *c == '-' || *c == '_'))
                        return false;
        return true;
}

/* "registry/REL" or "schemas/REL", REL a relative path of plain segments. */
static bool file_path_valid(const char *s)
{
        if (strneq(s, "registry/", 9))
                return registry_schema_path_valid(s + 9);
        if (strneq(s, "schemas/", 8))
                return registry_schema_path_valid(s + 8);
        return false;
}

static int parse_time(const json_t *j, uint64_t *ret)
{
        return json_is_string(j) && parse_rfc3339(json_string_value(j), ret) == 0 ? 0 : REGISTRY_SNAPSHOT_E_MALFORMED;
}

static int parse_retired(RegistrySnapshot *s, const json_t *a)
{
        const json_t *e;
        size_t i;

        if (!json_is_array(a))
                return REGISTRY_SNAPSHOT_E_MALFORMED;
        if (json_array_size(a) > REGISTRY_SNAPSHOT_RETIRED_MAX)
                return REGISTRY_SNAPSHOT_E_TOO_LARGE;
        s->retired = calloc(json_array_size(a) + 1, sizeof(char *));
        if (!s->retired)
                return -ENOMEM;
        json_array_foreach(a, i, e) {
                if (!json_is_string(e) || !kid_valid(json_string_value(e)))
                        return REGISTRY_SNAPSHOT_E_MALFORMED;
                s->retired[i] = strdup(json_string_value(e));
                if (!s->retired[i])
                        return -ENOMEM;
        }
        return 0;
}

static int parse_files(RegistrySnapshot *s, const json_t *a)
{
        size_t i, total = 0, confs = 0;
        const json_t *e;

        if (!json_is_array(a))
                return REGISTRY_SNAPSHOT_E_MALFORMED;
        if (json_array_size(a) > REGISTRY_SNAPSHOT_FILES_MAX)
                return REGISTRY_SNAPSHOT_E_TOO_LARGE;
        s->files = calloc(MAX(json_array_size(a), 1U), sizeof(RegistryFile));
        if (!s->files)
                return -ENOMEM;
        json_array_foreach(a, i, e) {
                const json_t *path = json_object_get(e, "path"), *text = json_object_get(e, "text");
                RegistryFile *f = &s->files[s->n_files];
                const char *p;
                char *t;

                if (!json_is_object(e) || json_object_size(e) != 2 || !json_is_string(path) || !json_is_string(text))
                        return REGISTRY_SNAPSHOT_E_MALFORMED;
                p = json_string_value(path);
                /* strictly ascending: sorted, no name twice (registry_file_find() relies on it) */
                if (!file_path_valid(p) || (s->n_files > 0 && strcmp(s->files[s->n_files - 1].name, p) >= 0))
                        return REGISTRY_SNAPSHOT_E_MALFORMED;
                total += json_string_length(text);
                if (json_string_length(text) > SNAPSHOT_FILE_MAX || total > SNAPSHOT_TEXT_MAX)
                        return REGISTRY_SNAPSHOT_E_TOO_LARGE;
                f->name = strdup(p);
                t = malloc(json_string_length(text) + 1);
                if (!f->name || !t) {
                        free(t);
                        s->n_files++; /* so that the name is freed */
                        return -ENOMEM;
                }
                memcpy(t, json_string_value(text), json_string_length(text) + 1);
                f->text = t;
                f->size = json_string_length(text);
                s->n_files++;
                if (strneq(p, "registry/", 9) && !strchr(p + 9, '/') && strlen(p) > 14 &&
                    streq(p + strlen(p) - 5, ".conf"))
                        confs++;
        }
        return confs > 0 ? 0 : REGISTRY_SNAPSHOT_E_MALFORMED;
}

int registry_snapshot_parse(RegistrySnapshot **ret, const void *payload, size_t size)
{
        static const char *const members[] = { "v", "instance", "version", "created", "expires", "retired", "files" };
        _cleanup_(registry_snapshot_freep) RegistrySnapshot *s = NULL;
        json_auto_t *j = NULL;
        const json_t *v;
        int r;

        if (!ret || (!payload && size > 0))
                return -EINVAL;
        if (size > REGISTRY_SNAPSHOT_MAX)
                return REGISTRY_SNAPSHOT_E_TOO_LARGE;
        /* no NUL in strings (the default), no name twice */
        j = json_loadb(payload, size, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(j) || json_object_size(j) != ELEMENTSOF(members))
                return REGISTRY_SNAPSHOT_E_MALFORMED;
        for (size_t i = 0; i < ELEMENTSOF(members); i++)
                if (!json_object_get(j, members[i]))
                        return REGISTRY_SNAPSHOT_E_MALFORMED;
        v = json_object_get(j, "v");
        if (!json_is_integer(v) || json_integer_value(v) != SNAPSHOT_FORMAT)
                return REGISTRY_SNAPSHOT_E_MALFORMED;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        v = json_object_get(j, "instance");
        if (!json_is_string(v) || !registry_token_valid(json_string_value(v)))
                return REGISTRY_SNAPSHOT_E_MALFORMED;
        s->instance = strdup(json_string_value(v));
        if (!s->instance)
                return -ENOMEM;
        v = json_object_get(j, "version");
        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
            (uint64_t)json_integer_value(v) > REGISTRY_SNAPSHOT_VERSION_MAX)
                return REGISTRY_SNAPSHOT_E_MALFORMED;
        s->version = (uint64_t)json_integer_value(v);
        if ((r = parse_time(json_object_get(j, "created"), &s->created_usec)) != 0 ||
            (r = parse_time(json_object_get(j, "expires"), &s->expires_usec)) != 0)
                return r;
        if (s->expires_usec <= s->created_usec)
                return REGISTRY_SNAPSHOT_E_MALFORMED;
        if ((r = parse_retired(s, json_object_get(j, "retired"))) != 0 ||
            (r = parse_files(s, json_object_get(j, "files"))) != 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

/* The "kid" of the protected header (before any verification: it only picks the anchor to try). */
static int header_kid(const char *compact, size_t size, char ret[JWS_KID_LEN + 1])
{
        const char *dot = memchr(compact, '.', size);
        _cleanup_free_ uint8_t *raw = NULL;
        json_auto_t *h = NULL;
        const json_t *kid;
        long n;

        if (!dot)
                return REGISTRY_SNAPSHOT_E_MALFORMED;
        raw = malloc((size_t)(dot - compact) / 4 * 3 + 3);
        if (!raw)
                return -ENOMEM;
        n = b64url_decode(compact, (size_t)(dot - compact), raw);
        if (n < 0)
                return REGISTRY_SNAPSHOT_E_MALFORMED;
        h = json_loadb((const char *)raw, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
        kid = json_object_get(h, "kid");
        if (!json_is_object(h))
                return REGISTRY_SNAPSHOT_E_MALFORMED;
        if (!json_is_string(kid) || !kid_valid(json_string_value(kid)))
                return REGISTRY_SNAPSHOT_E_UNKNOWN_KEY;
        memcpy(ret, json_string_value(kid), JWS_KID_LEN + 1);
        return 0;
}

int registry_snapshot_open(RegistrySnapshot **ret, const RegistryAnchors *anchors, const char *compact, size_t size,
                           const char *source)
{
        _cleanup_(registry_snapshot_freep) RegistrySnapshot *s = NULL;
        _cleanup_free_ uint8_t *payload = NULL;
        json_auto_t *header = NULL;
        const JwsVerifier *key;
        char kid[JWS_KID_LEN + 1];
        const json_t *typ;
        size_t payload_size = 0;
        int r;

        if (!ret || !anchors || (!compact && size > 0))
                return -EINVAL;
        if (size > REGISTRY_SNAPSHOT_MAX)
                return REGISTRY_SNAPSHOT_E_TOO_LARGE;
        r = header_kid(compact, size, kid);
        if (r != 0)
                return r;
        key = anchors_find(anchors, kid);
        if (!key)
                return REGISTRY_SNAPSHOT_E_UNKNOWN_KEY;
        r = jws_verify_compact_limit(key, compact, size, REGISTRY_SNAPSHOT_MAX, &header, &payload, &payload_size);
        if (r < 0)
                return r;
        if (r != 0)
                return r == JWS_E_SIGNATURE   ? REGISTRY_SNAPSHOT_E_SIGNATURE
                       : r == JWS_E_TOO_LARGE ? REGISTRY_SNAPSHOT_E_TOO_LARGE
                                              : REGISTRY_SNAPSHOT_E_MALFORMED;
        /* signed, so the header is the authority's: a receipt or a consent artefact is not a snapshot */
        typ = json_object_get(header, "typ");
        if (!json_is_string(typ) || !streq(json_string_value(typ), REGISTRY_SNAPSHOT_TYP))
                return REGISTRY_SNAPSHOT_E_MALFORMED;
        r = registry_snapshot_parse(&s, payload, payload_size);
        if (r != 0)
                return r;
        s->compact = malloc(size + 1);
        if (!s->compact || (source && !(s->source = strdup(source))))
                return -ENOMEM;
        memcpy(s->compact, compact, size);
        s->compact[size] = 0;
        s->size = size;
        hash_sha256_hex(compact, size, s->digest);
        memcpy(s->kid, kid, sizeof(kid));
        *ret = TAKE_PTR(s);
        return 0;
}

/* ---- What a node does with a verified snapshot ----------------------------------------------- */

int registry_snapshot_accept(const RegistrySnapshot *current, const RegistrySnapshot *candidate, uint64_t now_usec)
{
        if (current && !streq(current->instance, candidate->instance))
                return REGISTRY_SNAPSHOT_E_INSTANCE;
        /* retirement is permanent: the key the snapshot in force retires, and every later one */
        if (strv_contains(candidate->retired, candidate->kid))
                return REGISTRY_SNAPSHOT_E_RETIRED;
        for (char **k = current ? current->retired : NULL; k && *k; k++)
                if (streq(*k, candidate->kid))
                        return REGISTRY_SNAPSHOT_E_RETIRED;
        for (char **k = current ? current->retired : NULL; k && *k; k++)
                if (!strv_contains(candidate->retired, *k))
                        return REGISTRY_SNAPSHOT_E_UNRETIRED;
        if (current && candidate->version < current->version)
                return REGISTRY_SNAPSHOT_E_OLDER;
        if (current && candidate->version == current->version)
                return streq(candidate->digest, current->digest) ? REGISTRY_SNAPSHOT_UNCHANGED
                                                                 : REGISTRY_SNAPSHOT_E_CONFLICT;
        if (candidate->created_usec > now_usec + REGISTRY_SNAPSHOT_SKEW_USEC)
                return REGISTRY_SNAPSHOT_E_NOT_YET;
        if (candidate->expires_usec <= now_usec)
                return REGISTRY_SNAPSHOT_E_EXPIRED;
        return 0;
}

int registry_snapshot_load(Registry **ret, RegistrySnapshot **s, const char *state_dir, char **ret_errors)
{
        _cleanup_(registry_unrefp) Registry *r = NULL;
        _cleanup_free_ RegistryFile *confs = NULL;
        RegistrySnapshot *snap;
        size_t n = 0;
        int k;

        if (ret_errors)
                *ret_errors = NULL;
        if (!ret || !s || !*s)
                return -EINVAL;
        snap = *s;
        confs = calloc(MAX(snap->n_files, 1U), sizeof(RegistryFile));
        if (!confs)
                return -ENOMEM;
        /* the registry is the *.conf files at the top of registry/, in name order (as registry_load_dir()) */
        for (size_t i = 0; i < snap->n_files; i++) {
                const char *name = snap->files[i].name, *rel = name + 9;
                size_t len = strlen(name);

                if (strneq(name, "registry/", 9) && !strchr(rel, '/') && rel[0] != '.' && len > 14 &&
                    streq(name + len - 5, ".conf"))
                        confs[n++] = snap->files[i];
        }
        {
                Loader l = { .dir = "registry",
                             .embedded = true,
                             .files = snap->files,
                             .n_files = snap->n_files,
                             .schema_root = "schemas",
                             .state_dir = state_dir };
                k = registry_loader_run(&l, confs, n, "(snapshot)", &r, ret_errors);
                ini_errors_done(&l.errors);
        }
        if (k == REGISTRY_E_INVALID)
                return REGISTRY_SNAPSHOT_E_CONTENT;
        if (k < 0)
                return k;
        if (!streq(registry_instance(r), snap->instance)) {
                if (ret_errors &&
                    asprintf(ret_errors, "(snapshot): the snapshot says instance '%s', its registry '%s'\n",
                             snap->instance, registry_instance(r)) < 0)
                        *ret_errors = NULL;
                return REGISTRY_SNAPSHOT_E_CONTENT;
        }
        /* what the registry keeps of the snapshot: not its files (loaded now), the rest for the node */
        for (size_t i = 0; i < snap->n_files; i++) {
                free((char *)snap->files[i].name);
                free((char *)snap->files[i].text);
        }
        snap->files = mfree(snap->files);
        snap->n_files = 0;
        r->snapshot = TAKE_PTR(*s);
        *ret = TAKE_PTR(r);
        return 0;
}

const RegistrySnapshot *registry_snapshot(const Registry *r)
{
        return r ? r->snapshot : NULL;
}

/* ---- Building (the authority's side) --------------------------------------------------------- */

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

typedef struct Gather {
        RegistryFile *files;
        size_t n, total;
        const char *skip; /* a folder not to descend into (the schema folder, gathered apart), or NULL */
        char *errors;     /* one problem a line */
        size_t n_errors;
} Gather;

static int gather_error(Gather *g, const char *fmt, ...) _printf_(2, 3);
static int gather_error(Gather *g, const char *fmt, ...)
{
        _cleanup_free_ char *line = NULL, *joined = NULL;
        va_list ap;

        va_start(ap, fmt);
        line = error_vformat(fmt, ap);
        va_end(ap);
        if (!line || asprintf(&joined, "%s%s\n", strempty(g->errors), line) < 0)
                return -ENOMEM;
        free(g->errors);
        g->errors = TAKE_PTR(joined);
        g->n_errors++;
        return 0;
}

static int gather_file(Gather *g, const char *path, const char *name)
{
        _cleanup_free_ char *text = NULL, *copy = NULL;
        RegistryFile *a;
        size_t size = 0;
        int r;

        if (!file_path_valid(name))
                return gather_error(g, "%s: the name cannot go in a snapshot (letters, digits, '.', '_', '-')", path);
        r = read_full_file(path, SNAPSHOT_FILE_MAX, &text, &size);
        if (r == -EFBIG)
                return gather_error(g, "%s: larger than %zu bytes", path, (size_t)SNAPSHOT_FILE_MAX);
        if (r < 0)
                return gather_error(g, "%s: %s", path, strerror(-r));
        if (memchr(text, 0, size) || !utf8_valid(text, size))
                return gather_error(g, "%s: not UTF-8 text (a snapshot carries text files only)", path);
        if (g->n >= REGISTRY_SNAPSHOT_FILES_MAX || (g->total += size) > SNAPSHOT_TEXT_MAX)
                return gather_error(g, "%s: too many files, or too much text, for one snapshot", path);
        copy = strdup(name);
        a = reallocarray(g->files, g->n + 1, sizeof(RegistryFile));
        if (!copy || !a)
                return -ENOMEM;
        g->files = a;
        g->files[g->n++] = (RegistryFile){ .name = TAKE_PTR(copy), .text = TAKE_PTR(text), .size = size };
        return 0;
}

/* Every file under `dir` as PREFIX/REL; dot files and "examples" folders (test data) are left out. */
static int gather_dir(Gather *g, const char *dir, const char *prefix, unsigned depth)
{
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int r = 0;

        if (depth > SNAPSHOT_DEPTH_MAX)
                return gather_error(g, "%s: folders nested too deep", dir);
        d = opendir(dir);
        if (!d)
                return gather_error(g, "%s: %m", dir);
        while ((errno = 0, de = readdir(d))) {
                _cleanup_free_ char *path = NULL, *name = NULL;
                struct stat st;

                if (de->d_name[0] == '.')
                        continue;
                if (asprintf(&path, "%s/%s", dir, de->d_name) < 0 || asprintf(&name, "%s/%s", prefix, de->d_name) < 0)
                        return -ENOMEM;
                if (stat(path, &st) < 0) {
                        r = gather_error(g, "%s: %m", path);
                } else if (S_ISDIR(st.st_mode)) {
                        char real[PATH_MAX];

                        if (streq(de->d_name, "examples") || (g->skip && realpath(path, real) && streq(real, g->skip)))
                                continue;
                        r = gather_dir(g, path, name, depth + 1);
                } else if (S_ISREG(st.st_mode))
                        r = gather_file(g, path, name);
                if (r < 0)
                        return r;
        }
        return errno > 0 ? -errno : 0;
}

static int file_compare(const void *a, const void *b)
{
        return strcmp(((const RegistryFile *)a)->name, ((const RegistryFile *)b)->name);
}

static void format_time(uint64_t usec, char out[32])
{
        time_t t = (time_t)(usec / USEC_PER_SEC);
        struct tm tm;

        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
}

/* The payload of the snapshot: registry_snapshot_parse()'s format, members in its order. */
static int payload_render(const Registry *reg, const RegistrySnapshotParams *p, const Gather *g, char **ret)
{
        json_auto_t *j = NULL, *files = json_array(), *retired = json_array();
        char created[32], expires[32];
        uint64_t c = p->created_usec / USEC_PER_SEC * USEC_PER_SEC;

        if (!files || !retired)
                return -ENOMEM;
        for (char *const *k = p->retired; k && *k; k++)
                if (json_array_append_new(retired, json_string(*k)) < 0)
                        return -ENOMEM;
        for (size_t i = 0; i < g->n; i++)
                if (json_array_append_new(files, json_pack("{s:s,s:s%}", "path", g->files[i].name, "text",
                                                           g->files[i].text, g->files[i].size)) < 0)
                        return -ENOMEM;
        format_time(c, created);
        format_time(c + p->lifetime_usec / USEC_PER_SEC * USEC_PER_SEC, expires);
        j = json_pack("{s:i,s:s,s:I,s:s,s:s,s:O,s:O}", "v", SNAPSHOT_FORMAT, "instance", registry_instance(reg),
                      "version", (json_int_t)p->version, "created", created, "expires", expires, "retired", retired,
                      "files", files);
        if (!j)
                return -ENOMEM;
        *ret = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        return *ret ? 0 : -ENOMEM;
}

/* The signed snapshot must open with the signer's key and load from its own files. */
static int build_check(const Signer *signer, const char *compact, size_t size, char **ret_errors)
{
        _cleanup_(registry_anchors_freep) RegistryAnchors *a = NULL;
        _cleanup_(registry_snapshot_freep) RegistrySnapshot *s = NULL;
        _cleanup_(registry_unrefp) Registry *r = NULL;
        _cleanup_free_ char *errors = NULL;
        JwsVerifier *v = NULL;
        json_auto_t *jwk = signer_public_jwk(signer);
        int k;

        if (!jwk || registry_anchors_new(&a) < 0)
                return -ENOMEM;
        k = jws_verifier_new(&v, jwk);
        if (k == 0)
                k = registry_anchors_add(a, v);
        if (k == 0)
                k = registry_snapshot_open(&s, a, compact, size, NULL);
        if (k == 0)
                k = registry_snapshot_load(&r, &s, NULL, &errors);
        if (k == REGISTRY_SNAPSHOT_E_CONTENT)
                return error_set(ret_errors, k,
                                 "%sthe registry does not load from the snapshot's own files: does a schema sit "
                                 "outside the schema folder?\n",
                                 strempty(errors));
        if (k > 0)
                return error_set(ret_errors, k, "the snapshot made does not verify: %s\n",
                                 registry_snapshot_strerror(k));
        return k;
}

int registry_snapshot_build(const char *dir, const Signer *signer, const RegistrySnapshotParams *p, char **ret,
                            size_t *ret_size, char **ret_errors)
{
        _cleanup_(registry_unrefp) Registry *reg = NULL;
        _cleanup_free_ char *schemas = NULL, *payload = NULL, *compact = NULL;
        char skip[PATH_MAX];
        Gather g = {};
        struct stat st;
        int r;

        if (ret_errors)
                *ret_errors = NULL;
        if (!dir || !signer || !p || !ret || !ret_size || p->version < 1 ||
            p->version > REGISTRY_SNAPSHOT_VERSION_MAX || p->lifetime_usec < USEC_PER_SEC)
                return -EINVAL;
        for (char *const *k = p->retired; k && *k; k++)
                if (!kid_valid(*k) || streq(*k, signer_kid(signer)))
                        return -EINVAL;
        r = registry_load_dir(&reg, dir, ret_errors);
        if (r == REGISTRY_E_INVALID)
                return REGISTRY_SNAPSHOT_E_CONTENT;
        if (r < 0)
                return r;
        schemas = registry_schema_root(reg, dir);
        if (!schemas)
                return -ENOMEM;
        g.skip = realpath(schemas, skip) ? skip : NULL;
        r = gather_dir(&g, dir, "registry", 0);
        if (r == 0 && g.skip && stat(schemas, &st) == 0 && S_ISDIR(st.st_mode))
                r = gather_dir(&g, schemas, "schemas", 0);
        if (r == 0 && g.n_errors == 0) {
                qsort(g.files, g.n, sizeof(RegistryFile), file_compare);
                r = payload_render(reg, p, &g, &payload);
        }
        if (r == 0 && g.n_errors > 0) {
                r = REGISTRY_SNAPSHOT_E_CONTENT;
                if (ret_errors)
                        *ret_errors = TAKE_PTR(g.errors);
        }
        for (size_t i = 0; i < g.n; i++) {
                free((char *)g.files[i].name);
                free((char *)g.files[i].text);
        }
        free(g.files);
        free(g.errors);
        if (r != 0)
                return r;
        r = signer_sign_compact(signer, REGISTRY_SNAPSHOT_TYP, payload, strlen(payload), &compact);
        if (r < 0)
                return r;
        if (strlen(compact) > REGISTRY_SNAPSHOT_MAX)
                return REGISTRY_SNAPSHOT_E_TOO_LARGE;
        r = build_check(signer, compact, strlen(compact), ret_errors);
        if (r != 0)
                return r;
        *ret_size = strlen(compact);
        *ret = TAKE_PTR(compact);
        return 0;
}
