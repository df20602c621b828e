/* registry.c: load, check and query the registry (who exists and who may ask what) */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>

#include "registry.h"
#include "validate/jsonschema.h"
#include "validate/xsd.h"
#include "util/ini.h"
#include "util/macro.h"

#define REGISTRY_FILES_MAX 1024U    /* files in one registry */
#define REGISTRY_SIZE_MAX MIB(64)   /* all files together */
#define REGISTRY_ID_SEGMENT_MAX 64U /* bytes in one identifier segment, and in local ids */
#define REGISTRY_CN_MAX 64U         /* X.509 upper bound for a common name */
#define REGISTRY_SCHEMA_PATH_MAX 255U
#define REGISTRY_TIMEOUT_MAX_MS (10U * 60U * 1000U)
#define REGISTRY_MESSAGE_SIZE_MAX MIB(1024)

#define REGISTRY_METHODS_ALL                                                                       \
        (REGISTRY_METHOD_GET | REGISTRY_METHOD_HEAD | REGISTRY_METHOD_POST | REGISTRY_METHOD_PUT | \
         REGISTRY_METHOD_PATCH | REGISTRY_METHOD_DELETE)

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* ---- Definitions as parsed (the public struct first, then what the loader needs) ---------- */

/* A list of references with the line each one came from. */
typedef struct RefList {
        char **ids;
        unsigned *lines;
        size_t n;
} RefList;

typedef struct FingerprintList {
        uint8_t (*fp)[32];
        size_t n;
} FingerprintList;

typedef struct InstanceDef {
        IniSection sec;
        size_t seq;
        char *id;
        char *name;
        char *schemas;         /* schema root, relative to the registry folder */
        char *schema_base_uri; /* $id prefix that maps to the schema root */
        char **assert_formats; /* formats asserted, not just annotated */
} InstanceDef;

typedef struct MemberDef {
        RegistryMember pub;
        IniSection sec;
        size_t seq;
} MemberDef;

typedef struct SubsystemDef {
        RegistrySubsystem pub;
        IniSection sec;
        size_t seq;
        FingerprintList fps;
} SubsystemDef;

typedef struct ServiceDef {
        RegistryService pub;
        IniSection sec;
        size_t seq;
} ServiceDef;

typedef struct GroupDef {
        RegistryGroup pub;
        IniSection sec;
        size_t seq;
        RefList members;
} GroupDef;

typedef struct PurposeDef {
        RegistryPurpose pub;
        IniSection sec;
        size_t seq;
} PurposeDef;

typedef struct RightDef {
        RegistryRight pub;
        IniSection sec;
        size_t seq;
        char *client;
        char *group;
        char *service;
        RefList purposes;
} RightDef;

typedef struct FingerprintEntry {
        uint8_t fp[32];
        const SubsystemDef *subsystem;
} FingerprintEntry;

enum {
        T_INSTANCE,
        T_MEMBER,
        T_SUBSYSTEM,
        T_SERVICE,
        T_GROUP,
        T_PURPOSE,
        T_RIGHT,
        _T_MAX,
};

typedef struct DefVec {
        void **items; /* definitions of one type, sorted by (id, seq) after parsing */
        size_t n;
        size_t allocated;
} DefVec;

struct Registry {
        unsigned n_ref;
        char **files; /* names used in messages; the IniSections point here */
        size_t n_files;
        DefVec defs[_T_MAX];

        /* Views built once everything checked out. */
        const RegistrySubsystem **subsystems;
        const RegistryService **services;
        const RegistryRight **rights;
        const RegistryPurpose **purposes;
        const RegistryRight **rights_by_service; /* sorted by (service id, right id) */
        FingerprintEntry *fingerprints;          /* sorted by fingerprint */
        size_t n_fingerprints;
        const RegistrySubsystem **by_cn; /* subsystems with a tls-cn, sorted by it */
        size_t n_by_cn;
};

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

static bool token_valid(const char *s)
{
        return s && segment_valid(s, strlen(s));
}

/* Number of valid "/"-separated segments of `id`, or 0 when a segment is invalid. */
static size_t id_segments(const char *id)
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
static size_t id_prefix_len(const char *id, size_t k)
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

static int ref_list_append(RefList *l, const char *id, unsigned line)
{
        char **ids;
        unsigned *lines;

        if (l->n >= INI_LIST_MAX)
                return -E2BIG;
        ids = reallocarray(l->ids, l->n + 1, sizeof(char *));
        if (!ids)
                return -ENOMEM;
        l->ids = ids;
        lines = reallocarray(l->lines, l->n + 1, sizeof(unsigned));
        if (!lines)
                return -ENOMEM;
        l->lines = lines;
        l->ids[l->n] = strdup(id);
        if (!l->ids[l->n])
                return -ENOMEM;
        l->lines[l->n++] = line;
        return 0;
}

static void ref_list_done(RefList *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->ids[i]);
        free(l->ids);
        free(l->lines);
        *l = (RefList){};
}

static const struct {
        unsigned bit;
        const char *name;
} method_table[] = {
        { REGISTRY_METHOD_GET, "GET" }, { REGISTRY_METHOD_HEAD, "HEAD" },   { REGISTRY_METHOD_POST, "POST" },
        { REGISTRY_METHOD_PUT, "PUT" }, { REGISTRY_METHOD_PATCH, "PATCH" }, { REGISTRY_METHOD_DELETE, "DELETE" },
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
                if (pl == 1 && ps[0] == '*')
                        continue;
                if (pl != sl || memcmp(ps, ss, pl) != 0)
                        return false;
        }
}

static bool is_pattern_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               strchr("-._~!$&'()+;=:@*{}", c);
}

/* A path pattern: "/" or "/seg/seg..." with no empty, "." or ".." segment and '*' only as "*" or a final
 * "**". */
static bool pattern_valid(const char *pattern)
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
                if (segment_unsafe(seg, len))
                        return false;
                for (size_t i = 0; i < len; i++)
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
static bool json_pointer_valid(const char *s)
{
        if (s[0] != '/')
                return false;
        for (; *s; s++)
                if (*s == '~' && s[1] != '0' && s[1] != '1')
                        return false;
        return true;
}

/* A schema path relative to the schema root: "population/citizen.response.json". */
static bool schema_path_valid(const char *s)
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

/* ---- Item parsers (IniItemParser) ----------------------------------------------------------- */

static int item_token(const char *value, unsigned line, void *dst)
{
        if (!token_valid(value))
                return -EINVAL;
        return ini_item_string(value, line, dst);
}

static int item_methods(const char *value, unsigned line, void *dst)
{
        _cleanup_(ini_strv_freep) char **l = NULL;
        unsigned bits = 0;
        int r;

        r = ini_parse_list(value, &l);
        if (r < 0)
                return r;
        for (char **i = l; *i; i++) {
                unsigned m = registry_method_from_string(*i);
                if (m == 0)
                        return -EINVAL;
                bits |= m;
        }
        if (bits == 0)
                return -EINVAL;
        *(unsigned *)dst = bits;
        return 0;
}

static int item_roles(const char *value, unsigned line, void *dst)
{
        static const struct {
                const char *name;
                unsigned bit;
        } table[] = {
                { "client", REGISTRY_ROLE_CLIENT },
                { "provider", REGISTRY_ROLE_PROVIDER },
                { "consent-authority", REGISTRY_ROLE_CONSENT_AUTHORITY },
                { "auditor", REGISTRY_ROLE_AUDITOR },
        };
        _cleanup_(ini_strv_freep) char **l = NULL;
        unsigned bits = 0;
        int r;

        r = ini_parse_list(value, &l);
        if (r < 0)
                return r;
        for (char **i = l; *i; i++) {
                size_t k;

                for (k = 0; k < ELEMENTSOF(table); k++)
                        if (streq(table[k].name, *i))
                                break;
                if (k >= ELEMENTSOF(table))
                        return -EINVAL;
                bits |= table[k].bit;
        }
        if (bits == 0)
                return -EINVAL;
        *(unsigned *)dst = bits;
        return 0;
}

static int hex_digit(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* "sha256:" then 64 hex digits, or 32 colon-separated pairs (as `openssl x509 -fingerprint` prints). */
static int fingerprint_parse(const char *s, uint8_t ret[32])
{
        size_t n;

        if (strncasecmp(s, "sha256:", 7) != 0)
                return -EINVAL;
        s += 7;
        n = strlen(s);
        if (n != 64 && n != 95)
                return -EINVAL;
        for (size_t i = 0; i < 32; i++) {
                int hi, lo;

                if (n == 95 && i > 0) {
                        if (*s != ':')
                                return -EINVAL;
                        s++;
                }
                hi = hex_digit(s[0]);
                lo = hex_digit(s[1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                ret[i] = (uint8_t)(hi << 4 | lo);
                s += 2;
        }
        return 0;
}

static int item_fingerprints(const char *value, unsigned line, void *dst)
{
        _cleanup_(ini_strv_freep) char **l = NULL;
        FingerprintList *f = dst;
        uint8_t(*a)[32];
        size_t m;
        int r;

        r = ini_parse_list(value, &l);
        if (r < 0)
                return r;
        m = ini_strv_length(l);
        if (m == 0)
                return -EINVAL;
        if (f->n + m > INI_LIST_MAX)
                return -E2BIG;
        a = reallocarray(f->fp, f->n + m, sizeof(*a));
        if (!a)
                return -ENOMEM;
        f->fp = a;
        for (size_t i = 0; i < m; i++)
                if (fingerprint_parse(l[i], f->fp[f->n + i]) < 0)
                        return -EINVAL;
        f->n += m;
        return 0;
}

static int item_cn(const char *value, unsigned line, void *dst)
{
        if (strlen(value) > REGISTRY_CN_MAX)
                return -EINVAL;
        return ini_item_string(value, line, dst);
}

/* A CURVE public key in Z85: 40 characters of the Z85 alphabet. */
static int item_curve_key(const char *value, unsigned line, void *dst)
{
        static const char z85[] =
                "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

        if (strlen(value) != 40 || strspn(value, z85) != 40)
                return -EINVAL;
        return ini_item_string(value, line, dst);
}

/* A public JWK as inline JSON text: an object with a string "kty". */
static int item_jwk(const char *value, unsigned line, void *dst)
{
        json_t *j;
        bool ok;

        j = json_loads(value, JSON_REJECT_DUPLICATES, NULL);
        ok = json_is_object(j) && json_is_string(json_object_get(j, "kty")) && !json_object_get(j, "d");
        json_decref(j);
        if (!ok)
                return -EINVAL;
        return ini_item_string(value, line, dst);
}

/* A list whose every element satisfies `valid`. */
static int item_list_of(const char *value, unsigned line, void *dst, bool (*valid)(const char *))
{
        _cleanup_(ini_strv_freep) char **l = NULL;
        int r;

        r = ini_parse_list(value, &l);
        if (r < 0)
                return r;
        for (char **i = l; *i; i++)
                if (!valid(*i))
                        return -EINVAL;
        return ini_item_strv(value, line, dst);
}

static int item_patterns(const char *value, unsigned line, void *dst)
{
        return item_list_of(value, line, dst, pattern_valid);
}

static int item_json_pointers(const char *value, unsigned line, void *dst)
{
        return item_list_of(value, line, dst, json_pointer_valid);
}

static int item_tokens(const char *value, unsigned line, void *dst)
{
        return item_list_of(value, line, dst, token_valid);
}

static int item_schema(const char *value, unsigned line, void *dst)
{
        if (!schema_path_valid(value))
                return -EINVAL;
        return ini_item_string(value, line, dst);
}

static int item_timeout(const char *value, unsigned line, void *dst)
{
        uint64_t ms;

        if (ini_parse_duration(value, &ms) < 0 || ms == 0 || ms > REGISTRY_TIMEOUT_MAX_MS)
                return -EINVAL;
        *(uint64_t *)dst = ms;
        return 0;
}

static int item_message_size(const char *value, unsigned line, void *dst)
{
        uint64_t v;

        if (ini_parse_size(value, &v) < 0 || v == 0 || v > REGISTRY_MESSAGE_SIZE_MAX)
                return -EINVAL;
        *(size_t *)dst = (size_t)v;
        return 0;
}

static int item_basis(const char *value, unsigned line, void *dst)
{
        if (streq(value, "statute"))
                *(RegistryBasis *)dst = REGISTRY_BASIS_STATUTE;
        else if (streq(value, "consent"))
                *(RegistryBasis *)dst = REGISTRY_BASIS_CONSENT;
        else
                return -EINVAL;
        return 0;
}

static int item_refs(const char *value, unsigned line, void *dst)
{
        _cleanup_(ini_strv_freep) char **l = NULL;
        RefList *refs = dst;
        int r;

        r = ini_parse_list(value, &l);
        if (r < 0)
                return r;
        if (!l[0])
                return -EINVAL;
        if (refs->n + ini_strv_length(l) > INI_LIST_MAX)
                return -E2BIG;
        for (char **i = l; *i; i++) {
                r = ref_list_append(refs, *i, line);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- Section tables ------------------------------------------------------------------------- */

#define EXPECT_TEXT "a non-empty text"
#define EXPECT_TOKEN "letters, digits, '.', '_' or '-' (at most 64)"
#define EXPECT_ID "an identifier such as VN/GOV/BCA/population"

enum { INSTANCE_ID, INSTANCE_NAME, INSTANCE_SCHEMAS, INSTANCE_SCHEMA_BASE, INSTANCE_FORMATS };
static const IniItem instance_items[] = {
        [INSTANCE_ID] = { "id", item_token, offsetof(InstanceDef, id), INI_ITEM_REQUIRED, EXPECT_TOKEN },
        [INSTANCE_NAME] = { "name", ini_item_string, offsetof(InstanceDef, name), INI_ITEM_REQUIRED, EXPECT_TEXT },
        [INSTANCE_SCHEMAS] = { "schemas", ini_item_string, offsetof(InstanceDef, schemas), 0,
                               "a folder, relative to the registry folder" },
        [INSTANCE_SCHEMA_BASE] = { "schema-base-uri", ini_item_string, offsetof(InstanceDef, schema_base_uri), 0,
                                   "an absolute URI ending in '/'" },
        [INSTANCE_FORMATS] = { "assert-formats", ini_item_strv, offsetof(InstanceDef, assert_formats), INI_ITEM_MULTI,
                               "a list of formats such as date, date-time, email, uuid, ipv4, ipv6, uri" },
};

enum { MEMBER_NAME };
static const IniItem member_items[] = {
        [MEMBER_NAME] = { "name", ini_item_string, offsetof(MemberDef, pub.name), INI_ITEM_REQUIRED, EXPECT_TEXT },
};

enum { SUB_NAME, SUB_ROLES, SUB_TLS_CN, SUB_FINGERPRINT, SUB_ADAPTER_KEY, SUB_CONSENT_JWK, SUB_SOAP_SIGNED };
static const IniItem subsystem_items[] = {
        [SUB_NAME] = { "name", ini_item_string, offsetof(SubsystemDef, pub.name), INI_ITEM_REQUIRED, EXPECT_TEXT },
        [SUB_ROLES] = { "roles", item_roles, offsetof(SubsystemDef, pub.roles), INI_ITEM_REQUIRED,
                        "roles among client, provider, consent-authority, auditor" },
        [SUB_TLS_CN] = { "tls-cn", item_cn, offsetof(SubsystemDef, pub.tls_cn), 0,
                         "a certificate common name of at most 64 bytes" },
        [SUB_FINGERPRINT] = { "tls-fingerprint", item_fingerprints, offsetof(SubsystemDef, fps), INI_ITEM_MULTI,
                              "sha256: followed by 64 hex digits (pairs may be separated by ':')" },
        [SUB_ADAPTER_KEY] = { "adapter-key", item_curve_key, offsetof(SubsystemDef, pub.adapter_key), 0,
                              "a CURVE public key in Z85 (40 characters)" },
        [SUB_CONSENT_JWK] = { "consent-jwk", item_jwk, offsetof(SubsystemDef, pub.consent_jwk), 0,
                              "a public JWK as a JSON object with \"kty\" (no private part)" },
        [SUB_SOAP_SIGNED] = { "soap-signed-requests", ini_item_bool,
                              offsetof(SubsystemDef, pub.soap_signature_required), 0, "yes or no" },
};

enum {
        SVC_TITLE,
        SVC_METHODS,
        SVC_PATHS,
        SVC_PERSONAL,
        SVC_CATEGORIES,
        SVC_REQUEST_SCHEMA,
        SVC_RESPONSE_SCHEMA,
        SVC_TIMEOUT,
        SVC_MAX_REQUEST,
        SVC_MAX_RESPONSE,
        SVC_ADAPTER,
        SVC_SOAP_REQUEST_SCHEMA,
        SVC_SOAP_RESPONSE_SCHEMA,
};
#define EXPECT_METHODS "HTTP methods among GET, HEAD, POST, PUT, PATCH, DELETE"
#define EXPECT_PATHS "path patterns starting with '/' ('*' = one segment, a final '**' = any rest)"
#define EXPECT_SCHEMA "a relative path such as population/citizen.response.json"
#define EXPECT_SIZE "a size between 1 and 1GiB, such as 64KiB or 1MiB"
static const IniItem service_items[] = {
        [SVC_TITLE] = { "title", ini_item_string, offsetof(ServiceDef, pub.title), INI_ITEM_REQUIRED, EXPECT_TEXT },
        [SVC_METHODS] = { "methods", item_methods, offsetof(ServiceDef, pub.methods), INI_ITEM_REQUIRED,
                          EXPECT_METHODS },
        [SVC_PATHS] = { "paths", item_patterns, offsetof(ServiceDef, pub.paths), INI_ITEM_MULTI, EXPECT_PATHS },
        [SVC_PERSONAL] = { "personal-data", ini_item_bool, offsetof(ServiceDef, pub.personal_data), INI_ITEM_REQUIRED,
                           "yes or no" },
        [SVC_CATEGORIES] = { "categories", item_tokens, offsetof(ServiceDef, pub.categories), INI_ITEM_MULTI,
                             "a list of category names (" EXPECT_TOKEN ")" },
        [SVC_REQUEST_SCHEMA] = { "request-schema", item_schema, offsetof(ServiceDef, pub.request_schema), 0,
                                 EXPECT_SCHEMA },
        [SVC_RESPONSE_SCHEMA] = { "response-schema", item_schema, offsetof(ServiceDef, pub.response_schema), 0,
                                  EXPECT_SCHEMA },
        [SVC_TIMEOUT] = { "timeout", item_timeout, offsetof(ServiceDef, pub.timeout_ms), 0,
                          "a duration between 1ms and 10min, such as 500ms, 5s or 2min" },
        [SVC_MAX_REQUEST] = { "max-request-size", item_message_size, offsetof(ServiceDef, pub.max_request_size), 0,
                              EXPECT_SIZE },
        [SVC_MAX_RESPONSE] = { "max-response-size", item_message_size, offsetof(ServiceDef, pub.max_response_size), 0,
                               EXPECT_SIZE },
        [SVC_SOAP_REQUEST_SCHEMA] = { "soap-request-schema", item_schema, offsetof(ServiceDef, pub.soap_request_schema),
                                      0, "a relative path such as soap/population/citizen.request.xsd" },
        [SVC_SOAP_RESPONSE_SCHEMA] = { "soap-response-schema", item_schema,
                                       offsetof(ServiceDef, pub.soap_response_schema), 0,
                                       "a relative path such as soap/population/citizen.response.xsd" },
        [SVC_ADAPTER] = { "adapter", item_token, offsetof(ServiceDef, pub.adapter), INI_ITEM_REQUIRED,
                          "an adapter kind such as sample or rest" },
};

enum { GROUP_TITLE, GROUP_MEMBERS };
static const IniItem group_items[] = {
        [GROUP_TITLE] = { "title", ini_item_string, offsetof(GroupDef, pub.title), INI_ITEM_REQUIRED, EXPECT_TEXT },
        [GROUP_MEMBERS] = { "members", item_refs, offsetof(GroupDef, members), INI_ITEM_REQUIRED | INI_ITEM_MULTI,
                            "a list of subsystem identifiers" },
};

enum { PURPOSE_TITLE, PURPOSE_DESCRIPTION };
static const IniItem purpose_items[] = {
        [PURPOSE_TITLE] = { "title", ini_item_string, offsetof(PurposeDef, pub.title), INI_ITEM_REQUIRED, EXPECT_TEXT },
        [PURPOSE_DESCRIPTION] = { "description", ini_item_string, offsetof(PurposeDef, pub.description), 0,
                                  EXPECT_TEXT },
};

enum {
        RIGHT_CLIENT,
        RIGHT_GROUP,
        RIGHT_SERVICE,
        RIGHT_METHODS,
        RIGHT_PATHS,
        RIGHT_BASIS,
        RIGHT_LEGAL_REFERENCE,
        RIGHT_PURPOSES,
        RIGHT_FIELDS,
};
static const IniItem right_items[] = {
        [RIGHT_CLIENT] = { "client", ini_item_string, offsetof(RightDef, client), 0, EXPECT_ID },
        [RIGHT_GROUP] = { "group", ini_item_string, offsetof(RightDef, group), 0, "a group id" },
        [RIGHT_SERVICE] = { "service", ini_item_string, offsetof(RightDef, service), INI_ITEM_REQUIRED,
                            "a service identifier such as VN/GOV/BCA/population/citizen" },
        [RIGHT_METHODS] = { "methods", item_methods, offsetof(RightDef, pub.methods), INI_ITEM_REQUIRED,
                            EXPECT_METHODS },
        [RIGHT_PATHS] = { "paths", item_patterns, offsetof(RightDef, pub.paths), INI_ITEM_MULTI, EXPECT_PATHS },
        [RIGHT_BASIS] = { "basis", item_basis, offsetof(RightDef, pub.basis), INI_ITEM_REQUIRED, "statute or consent" },
        [RIGHT_LEGAL_REFERENCE] = { "legal-reference", ini_item_string, offsetof(RightDef, pub.legal_reference), 0,
                                    EXPECT_TEXT },
        [RIGHT_PURPOSES] = { "purposes", item_refs, offsetof(RightDef, purposes), INI_ITEM_MULTI,
                             "a list of purpose codes" },
        [RIGHT_FIELDS] = { "fields", item_json_pointers, offsetof(RightDef, pub.fields), INI_ITEM_MULTI,
                           "JSON pointers such as /full_name (RFC 6901)" },
};

static void instance_free(void *p)
{
        InstanceDef *d = p;

        free(d->id);
        free(d->name);
        free(d->schemas);
        free(d->schema_base_uri);
        ini_strv_free(d->assert_formats);
        free(d);
}

static void member_free(void *p)
{
        MemberDef *d = p;

        free(d->pub.id);
        free(d->pub.name);
        free(d);
}

static void subsystem_free(void *p)
{
        SubsystemDef *d = p;

        free(d->pub.id);
        free(d->pub.name);
        free(d->pub.tls_cn);
        free(d->fps.fp); /* pub.tls_fingerprints is the same array */
        free(d->pub.adapter_key);
        free(d->pub.consent_jwk);
        free(d);
}

static void service_free(void *p)
{
        ServiceDef *d = p;

        free(d->pub.id);
        free(d->pub.code);
        free(d->pub.title);
        ini_strv_free(d->pub.paths);
        ini_strv_free(d->pub.categories);
        free(d->pub.request_schema);
        free(d->pub.response_schema);
        free(d->pub.adapter);
        json_schema_free(d->pub.request_validator);
        json_schema_free(d->pub.response_validator);
        free(d->pub.soap_request_schema);
        free(d->pub.soap_response_schema);
        xsd_schema_free(d->pub.request_xsd);
        xsd_schema_free(d->pub.response_xsd);
        free(d);
}

static void group_free(void *p)
{
        GroupDef *d = p;

        free(d->pub.id);
        free(d->pub.title);
        free(d->pub.members);
        ref_list_done(&d->members);
        free(d);
}

static void purpose_free(void *p)
{
        PurposeDef *d = p;

        free(d->pub.code);
        free(d->pub.title);
        free(d->pub.description);
        free(d);
}

static void right_free(void *p)
{
        RightDef *d = p;

        free(d->pub.id);
        ini_strv_free(d->pub.paths);
        free(d->pub.legal_reference);
        free(d->pub.purposes);
        ini_strv_free(d->pub.fields);
        free(d->client);
        free(d->group);
        free(d->service);
        ref_list_done(&d->purposes);
        free(d);
}

typedef struct SectionType {
        const char *name;
        const IniItem *items;
        size_t n_items;
        size_t size;
        size_t offset_sec;
        size_t offset_seq;
        size_t offset_id; /* char *: the section argument */
        void (*free)(void *def);
} SectionType;

#define SECTION_TYPE(n, d, it, idfield, fr)                                                                           \
        {                                                                                                             \
                .name = n, .items = it, .n_items = ELEMENTSOF(it), .size = sizeof(d), .offset_sec = offsetof(d, sec), \
                .offset_seq = offsetof(d, seq), .offset_id = offsetof(d, idfield), .free = fr,                        \
        }

static const SectionType section_types[_T_MAX] = {
        [T_INSTANCE] = SECTION_TYPE("instance", InstanceDef, instance_items, id, instance_free),
        [T_MEMBER] = SECTION_TYPE("member", MemberDef, member_items, pub.id, member_free),
        [T_SUBSYSTEM] = SECTION_TYPE("subsystem", SubsystemDef, subsystem_items, pub.id, subsystem_free),
        [T_SERVICE] = SECTION_TYPE("service", ServiceDef, service_items, pub.id, service_free),
        [T_GROUP] = SECTION_TYPE("group", GroupDef, group_items, pub.id, group_free),
        [T_PURPOSE] = SECTION_TYPE("purpose", PurposeDef, purpose_items, pub.code, purpose_free),
        [T_RIGHT] = SECTION_TYPE("right", RightDef, right_items, pub.id, right_free),
};

static IniSection *def_sec(size_t type, void *def)
{
        return (IniSection *)((uint8_t *)def + section_types[type].offset_sec);
}

static size_t def_seq(size_t type, const void *def)
{
        return *(const size_t *)((const uint8_t *)def + section_types[type].offset_seq);
}

static const char *def_id(size_t type, const void *def)
{
        return *(char *const *)((const uint8_t *)def + section_types[type].offset_id);
}

/* ---- The object ----------------------------------------------------------------------------- */

static Registry *registry_free(Registry *r)
{
        if (!r)
                return NULL;
        for (size_t t = 0; t < _T_MAX; t++) {
                for (size_t i = 0; i < r->defs[t].n; i++)
                        section_types[t].free(r->defs[t].items[i]);
                free(r->defs[t].items);
        }
        for (size_t i = 0; i < r->n_files; i++)
                free(r->files[i]);
        free(r->files);
        free(r->subsystems);
        free(r->services);
        free(r->rights);
        free(r->purposes);
        free(r->rights_by_service);
        free(r->fingerprints);
        free(r->by_cn);
        free(r);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Registry *, registry_free);

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

/* Binary search of a sorted DefVec by id. */
static void *def_lookup(const Registry *r, size_t type, const char *id)
{
        const DefVec *v = &r->defs[type];
        size_t lo = 0, hi = v->n;

        if (!id)
                return NULL;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(id, strempty(def_id(type, v->items[mid])));

                if (c == 0)
                        return v->items[mid];
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return NULL;
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

static int fingerprint_entry_compare(const void *a, const void *b)
{
        const FingerprintEntry *x = a, *y = b;
        int c = memcmp(x->fp, y->fp, 32);

        if (c != 0)
                return c;
        return x->subsystem->seq < y->subsystem->seq ? -1 : x->subsystem->seq > y->subsystem->seq;
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

static int subsystem_ptr_compare(const void *a, const void *b)
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
                               subsystem_ptr_compare) != NULL;
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

int registry_authorize(const Registry *r, const RegistrySubsystem *client, const RegistryService *service,
                       unsigned method, const char *path, const RegistryRight **ret_right)
{
        const RegistryService *svc;
        size_t lo = 0, hi;
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

        /* Lower bound of the service's rights in rights_by_service. */
        hi = r->defs[T_RIGHT].n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (strcmp(r->rights_by_service[mid]->service->id, svc->id) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }

        for (size_t i = lo; i < r->defs[T_RIGHT].n && streq(r->rights_by_service[i]->service->id, svc->id); i++) {
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

size_t registry_subsystems(const Registry *r, const RegistrySubsystem *const **ret)
{
        if (!r) {
                *ret = NULL;
                return 0;
        }
        *ret = r->subsystems;
        return r->defs[T_SUBSYSTEM].n;
}

size_t registry_services(const Registry *r, const RegistryService *const **ret)
{
        if (!r) {
                *ret = NULL;
                return 0;
        }
        *ret = r->services;
        return r->defs[T_SERVICE].n;
}

size_t registry_rights(const Registry *r, const RegistryRight *const **ret)
{
        if (!r) {
                *ret = NULL;
                return 0;
        }
        *ret = r->rights;
        return r->defs[T_RIGHT].n;
}

size_t registry_purposes(const Registry *r, const RegistryPurpose *const **ret)
{
        if (!r) {
                *ret = NULL;
                return 0;
        }
        *ret = r->purposes;
        return r->defs[T_PURPOSE].n;
}

/* ---- Loading: parse ------------------------------------------------------------------------- */

typedef struct Loader {
        Registry *r;
        IniErrors errors;
        const char *dir; /* the registry folder (schemas are found from it), or NULL */
        bool embedded;   /* `dir` names embedded files */
        size_t cur_type;
        void *cur; /* the definition keys go to, or NULL to skip them */
        size_t seq;
} Loader;

static int loader_handler(const char *file, unsigned line, const char *section, const char *arg, const char *key,
                          const char *value, void *userdata)
{
        Loader *l = userdata;

        if (!key) {
                const SectionType *st = NULL;
                DefVec *v;
                IniSection *sec;
                void *def;
                size_t t;

                l->cur = NULL;
                for (t = 0; t < _T_MAX; t++)
                        if (streq(section_types[t].name, section)) {
                                st = &section_types[t];
                                break;
                        }
                if (!st) {
                        ini_errors_add(&l->errors, file, line, "unknown section type [%s]", section);
                        return 0;
                }
                if (t == T_INSTANCE && arg) {
                        ini_errors_add(&l->errors, file, line, "[instance] takes no argument (use 'id = %s')", arg);
                        return 0;
                }
                if (t != T_INSTANCE && !arg) {
                        ini_errors_add(&l->errors, file, line, "[%s] needs an identifier, as in [%s NAME]", section,
                                       section);
                        return 0;
                }

                v = &l->r->defs[t];
                if (v->n == v->allocated) {
                        size_t n = v->allocated ? v->allocated * 2 : 16;
                        void **a = reallocarray(v->items, n, sizeof(void *));
                        if (!a)
                                return -ENOMEM;
                        v->items = a;
                        v->allocated = n;
                }
                def = calloc(1, st->size);
                if (!def)
                        return -ENOMEM;
                v->items[v->n++] = def;

                sec = def_sec(t, def);
                sec->type = st->name;
                sec->file = file;
                sec->line = line;
                *(size_t *)((uint8_t *)def + st->offset_seq) = l->seq++;
                if (arg) {
                        char *id = strdup(arg);
                        if (!id)
                                return -ENOMEM;
                        *(char **)((uint8_t *)def + st->offset_id) = id;
                }
                if (t == T_SERVICE) {
                        ServiceDef *d = def;
                        d->pub.timeout_ms = 10000;
                        d->pub.max_request_size = MIB(1);
                        d->pub.max_response_size = MIB(1);
                }
                l->cur = def;
                l->cur_type = t;
                return 0;
        }

        if (!l->cur)
                return 0;
        return ini_section_apply(def_sec(l->cur_type, l->cur), section_types[l->cur_type].items,
                                 section_types[l->cur_type].n_items, l->cur, line, key, value, &l->errors);
}

/* Whether a subsystem's roles were given correctly (else role checks would only repeat that error). */
static bool roles_known(const RegistrySubsystem *s)
{
        return ini_section_has(&container_of(s, SubsystemDef, pub)->sec, SUB_ROLES);
}

/* ---- Loading: check ------------------------------------------------------------------------- */

#define report(l, sec, line, ...) ini_errors_add(&(l)->errors, (sec)->file, (line), __VA_ARGS__)

static int def_compare(const void *a, const void *b, void *userdata)
{
        size_t type = *(const size_t *)userdata;
        const void *x = *(void *const *)a, *y = *(void *const *)b;
        int c = strcmp(strempty(def_id(type, x)), strempty(def_id(type, y)));

        if (c != 0)
                return c;
        return def_seq(type, x) < def_seq(type, y) ? -1 : def_seq(type, x) > def_seq(type, y);
}

/* Sort every type by id and report duplicates (against the first definition). */
static void check_duplicates(Loader *l)
{
        for (size_t t = T_MEMBER; t < _T_MAX; t++) {
                DefVec *v = &l->r->defs[t];

                if (v->n > 1)
                        qsort_r(v->items, v->n, sizeof(void *), def_compare, &t);
                for (size_t i = 1, first = 0; i < v->n; i++) {
                        if (!streq(def_id(t, v->items[i]), def_id(t, v->items[first]))) {
                                first = i;
                                continue;
                        }
                        IniSection *s = def_sec(t, v->items[i]), *f = def_sec(t, v->items[first]);
                        report(l, s, s->line, "duplicate %s '%s' (first defined at %s:%u)", section_types[t].name,
                               def_id(t, v->items[i]), f->file, f->line);
                }
        }
}

static void check_required(Loader *l)
{
        for (size_t t = 0; t < _T_MAX; t++)
                for (size_t i = 0; i < l->r->defs[t].n; i++)
                        ini_section_check_required(def_sec(t, l->r->defs[t].items[i]), section_types[t].items,
                                                   section_types[t].n_items, &l->errors);
}

static const char *check_instance(Loader *l, const char *first_file)
{
        DefVec *v = &l->r->defs[T_INSTANCE];

        if (v->n == 0) {
                if (first_file)
                        ini_errors_add(&l->errors, first_file, 1, "missing [instance] section");
                return NULL;
        }
        for (size_t i = 1; i < v->n; i++) {
                IniSection *s = def_sec(T_INSTANCE, v->items[i]), *f = def_sec(T_INSTANCE, v->items[0]);
                report(l, s, s->line, "duplicate [instance] section (first defined at %s:%u)", f->file, f->line);
        }
        return ((InstanceDef *)v->items[0])->id; /* NULL when missing (already reported) */
}

static const char *const id_shapes[] = {
        [3] = "INSTANCE/CLASS/MEMBER",
        [4] = "INSTANCE/CLASS/MEMBER/SUBSYSTEM",
        [5] = "INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE",
};

/* Check an X-Road identifier of `want` segments. Return: whether it is well-formed. */
static bool check_xroad_id(Loader *l, const IniSection *s, const char *what, const char *id, size_t want,
                           const char *instance)
{
        size_t cls_len;
        const char *cls;

        if (id_segments(id) != want) {
                report(l, s, s->line, "invalid %s id '%s': expected %s (segments of letters, digits, '.', '_', '-')",
                       what, id, id_shapes[want]);
                return false;
        }
        cls = strchr(id, '/') + 1;
        cls_len = (size_t)(strchr(cls, '/') - cls);
        if (!((cls_len == 3 && (strneq(cls, "GOV", 3) || strneq(cls, "COM", 3) || strneq(cls, "ORG", 3))))) {
                report(l, s, s->line, "invalid member class '%.*s' in %s '%s': expected GOV, COM or ORG", (int)cls_len,
                       cls, what, id);
                return false;
        }
        if (instance && (strlen(instance) != id_prefix_len(id, 1) || !strneq(id, instance, strlen(instance)))) {
                report(l, s, s->line, "%s '%s' is not in instance '%s'", what, id, instance);
                return false;
        }
        return true;
}

static void check_local_id(Loader *l, const IniSection *s, const char *what, const char *id)
{
        if (!token_valid(id))
                report(l, s, s->line, "invalid %s '%s': expected " EXPECT_TOKEN, what, id);
}

static int check_members(Loader *l, const char *instance)
{
        DefVec *v = &l->r->defs[T_MEMBER];

        for (size_t i = 0; i < v->n; i++) {
                MemberDef *d = v->items[i];
                check_xroad_id(l, &d->sec, "member", d->pub.id, 3, instance);
        }
        return 0;
}

static int check_subsystems(Loader *l, const char *instance)
{
        DefVec *v = &l->r->defs[T_SUBSYSTEM];

        for (size_t i = 0; i < v->n; i++) {
                SubsystemDef *d = v->items[i];
                _cleanup_free_ char *member = NULL;

                d->pub.tls_fingerprints = d->fps.fp;
                d->pub.n_tls_fingerprints = d->fps.n;

                if (ini_section_has(&d->sec, SUB_ROLES) && ini_section_has(&d->sec, SUB_CONSENT_JWK) &&
                    !(d->pub.roles & REGISTRY_ROLE_CONSENT_AUTHORITY))
                        report(l, &d->sec, d->sec.lines[SUB_CONSENT_JWK],
                               "subsystem '%s': consent-jwk needs the consent-authority role", d->pub.id);
                if (ini_section_has(&d->sec, SUB_ROLES) && ini_section_has(&d->sec, SUB_ADAPTER_KEY) &&
                    !(d->pub.roles & REGISTRY_ROLE_PROVIDER))
                        report(l, &d->sec, d->sec.lines[SUB_ADAPTER_KEY],
                               "subsystem '%s': adapter-key needs the provider role", d->pub.id);

                if (!check_xroad_id(l, &d->sec, "subsystem", d->pub.id, 4, instance))
                        continue;
                member = strndup(d->pub.id, id_prefix_len(d->pub.id, 3));
                if (!member)
                        return -ENOMEM;
                d->pub.member = registry_member_lookup(l->r, member);
                if (!d->pub.member)
                        report(l, &d->sec, d->sec.line, "subsystem '%s': member '%s' is not defined", d->pub.id,
                               member);
        }
        return 0;
}

/* By CN, ties in definition order. */
static int cn_compare(const void *a, const void *b)
{
        const RegistrySubsystem *const *x = a, *const *y = b;
        int c = strcmp((*x)->tls_cn, (*y)->tls_cn);
        size_t sx = container_of(*x, SubsystemDef, pub)->seq, sy = container_of(*y, SubsystemDef, pub)->seq;

        if (c != 0)
                return c;
        return sx < sy ? -1 : sx > sy;
}

/* Pinned fingerprints and CNs must each name one subsystem. Builds the lookup indexes. */
static int check_identities(Loader *l)
{
        Registry *r = l->r;
        DefVec *v = &r->defs[T_SUBSYSTEM];
        size_t n = 0;

        for (size_t i = 0; i < v->n; i++)
                n += ((SubsystemDef *)v->items[i])->fps.n;
        r->fingerprints = calloc(MAX(n, 1U), sizeof(FingerprintEntry));
        r->by_cn = calloc(MAX(v->n, 1U), sizeof(RegistrySubsystem *));
        if (!r->fingerprints || !r->by_cn)
                return -ENOMEM;

        for (size_t i = 0; i < v->n; i++) {
                SubsystemDef *d = v->items[i];

                for (size_t k = 0; k < d->fps.n; k++) {
                        memcpy(r->fingerprints[r->n_fingerprints].fp, d->fps.fp[k], 32);
                        r->fingerprints[r->n_fingerprints++].subsystem = d;
                }
                if (d->pub.tls_cn)
                        r->by_cn[r->n_by_cn++] = &d->pub;
        }

        qsort(r->fingerprints, r->n_fingerprints, sizeof(FingerprintEntry), fingerprint_entry_compare);
        for (size_t i = 1; i < r->n_fingerprints; i++) {
                const SubsystemDef *a = r->fingerprints[i - 1].subsystem, *b = r->fingerprints[i].subsystem;
                char hex[65];

                if (memcmp(r->fingerprints[i - 1].fp, r->fingerprints[i].fp, 32) != 0)
                        continue;
                for (size_t k = 0; k < 32; k++)
                        sprintf(hex + 2 * k, "%02x", r->fingerprints[i].fp[k]);
                if (a == b)
                        report(l, &b->sec, b->sec.lines[SUB_FINGERPRINT],
                               "subsystem '%s': fingerprint sha256:%s listed twice", b->pub.id, hex);
                else
                        report(l, &b->sec, b->sec.lines[SUB_FINGERPRINT],
                               "subsystem '%s': fingerprint sha256:%s is already pinned for subsystem '%s'", b->pub.id,
                               hex, a->pub.id);
        }

        qsort(r->by_cn, r->n_by_cn, sizeof(RegistrySubsystem *), cn_compare);
        for (size_t i = 1; i < r->n_by_cn; i++) {
                const SubsystemDef *b = container_of(r->by_cn[i], SubsystemDef, pub);

                if (streq(r->by_cn[i - 1]->tls_cn, r->by_cn[i]->tls_cn))
                        report(l, &b->sec, b->sec.lines[SUB_TLS_CN],
                               "subsystem '%s': tls-cn '%s' is already used by subsystem '%s'", b->pub.id,
                               b->pub.tls_cn, r->by_cn[i - 1]->id);
        }
        return 0;
}

static int check_services(Loader *l, const char *instance)
{
        DefVec *v = &l->r->defs[T_SERVICE];

        for (size_t i = 0; i < v->n; i++) {
                ServiceDef *d = v->items[i];
                _cleanup_free_ char *owner = NULL;

                if (!d->pub.paths) {
                        d->pub.paths = calloc(2, sizeof(char *));
                        if (!d->pub.paths)
                                return -ENOMEM;
                        d->pub.paths[0] = strdup("/**");
                        if (!d->pub.paths[0])
                                return -ENOMEM;
                }

                if (!check_xroad_id(l, &d->sec, "service", d->pub.id, 5, instance))
                        continue;
                d->pub.code = strdup(strrchr(d->pub.id, '/') + 1);
                owner = strndup(d->pub.id, id_prefix_len(d->pub.id, 4));
                if (!d->pub.code || !owner)
                        return -ENOMEM;
                d->pub.owner = registry_subsystem_lookup(l->r, owner);
                if (!d->pub.owner)
                        report(l, &d->sec, d->sec.line, "service '%s': subsystem '%s' is not defined", d->pub.id,
                               owner);
                else if (roles_known(d->pub.owner) && !(d->pub.owner->roles & REGISTRY_ROLE_PROVIDER))
                        report(l, &d->sec, d->sec.line, "service '%s': subsystem '%s' does not have the provider role",
                               d->pub.id, owner);
        }
        return 0;
}

static void check_purposes(Loader *l)
{
        DefVec *v = &l->r->defs[T_PURPOSE];

        for (size_t i = 0; i < v->n; i++) {
                PurposeDef *d = v->items[i];
                check_local_id(l, &d->sec, "purpose code", d->pub.code);
        }
}

static int check_groups(Loader *l)
{
        DefVec *v = &l->r->defs[T_GROUP];

        for (size_t i = 0; i < v->n; i++) {
                GroupDef *d = v->items[i];

                check_local_id(l, &d->sec, "group id", d->pub.id);
                d->pub.members = calloc(MAX(d->members.n, 1U), sizeof(RegistrySubsystem *));
                if (!d->pub.members)
                        return -ENOMEM;
                for (size_t k = 0; k < d->members.n; k++) {
                        const char *id = d->members.ids[k];
                        const RegistrySubsystem *s = registry_subsystem_lookup(l->r, id);
                        bool twice = false;

                        if (!s) {
                                report(l, &d->sec, d->members.lines[k], "group '%s': subsystem '%s' is not defined",
                                       d->pub.id, id);
                                continue;
                        }
                        if (roles_known(s) && !(s->roles & REGISTRY_ROLE_CLIENT))
                                report(l, &d->sec, d->members.lines[k],
                                       "group '%s': subsystem '%s' does not have the client role", d->pub.id, id);
                        for (size_t j = 0; j < d->pub.n_members; j++)
                                if (d->pub.members[j] == s)
                                        twice = true;
                        if (twice) {
                                report(l, &d->sec, d->members.lines[k], "group '%s': subsystem '%s' listed twice",
                                       d->pub.id, id);
                                continue;
                        }
                        d->pub.members[d->pub.n_members++] = s;
                }
                qsort(d->pub.members, d->pub.n_members, sizeof(RegistrySubsystem *), subsystem_ptr_compare);
        }
        return 0;
}

static int check_rights(Loader *l)
{
        DefVec *v = &l->r->defs[T_RIGHT];

        for (size_t i = 0; i < v->n; i++) {
                RightDef *d = v->items[i];
                const char *id = d->pub.id;

                check_local_id(l, &d->sec, "right id", id);

                if (d->client && d->group)
                        report(l, &d->sec, d->sec.line, "right '%s': give either client or group, not both", id);
                else if (!d->client && !d->group)
                        report(l, &d->sec, d->sec.line, "right '%s': missing client or group", id);
                if (d->client) {
                        d->pub.client = registry_subsystem_lookup(l->r, d->client);
                        if (!d->pub.client)
                                report(l, &d->sec, d->sec.lines[RIGHT_CLIENT], "right '%s': client '%s' is not defined",
                                       id, d->client);
                        else if (roles_known(d->pub.client) && !(d->pub.client->roles & REGISTRY_ROLE_CLIENT))
                                report(l, &d->sec, d->sec.lines[RIGHT_CLIENT],
                                       "right '%s': subsystem '%s' does not have the client role", id, d->client);
                }
                if (d->group) {
                        d->pub.group = registry_group_lookup(l->r, d->group);
                        if (!d->pub.group)
                                report(l, &d->sec, d->sec.lines[RIGHT_GROUP], "right '%s': group '%s' is not defined",
                                       id, d->group);
                }
                if (d->service) {
                        d->pub.service = registry_service_lookup(l->r, d->service);
                        if (!d->pub.service)
                                report(l, &d->sec, d->sec.lines[RIGHT_SERVICE],
                                       "right '%s': service '%s' is not defined", id, d->service);
                }
                if (d->pub.service &&
                    ini_section_has(&container_of(d->pub.service, ServiceDef, pub)->sec, SVC_METHODS)) {
                        unsigned extra = d->pub.methods & ~d->pub.service->methods;

                        for (size_t k = 0; k < ELEMENTSOF(method_table); k++)
                                if (extra & method_table[k].bit)
                                        report(l, &d->sec, d->sec.lines[RIGHT_METHODS],
                                               "right '%s': method %s is not offered by service '%s'", id,
                                               method_table[k].name, d->service);
                }

                if (!d->pub.paths) {
                        d->pub.paths = calloc(2, sizeof(char *));
                        if (!d->pub.paths)
                                return -ENOMEM;
                        d->pub.paths[0] = strdup("/**");
                        if (!d->pub.paths[0])
                                return -ENOMEM;
                }

                d->pub.purposes = calloc(MAX(d->purposes.n, 1U), sizeof(RegistryPurpose *));
                if (!d->pub.purposes)
                        return -ENOMEM;
                for (size_t k = 0; k < d->purposes.n; k++) {
                        const RegistryPurpose *p = registry_purpose_lookup(l->r, d->purposes.ids[k]);
                        bool twice = false;

                        if (!p) {
                                report(l, &d->sec, d->purposes.lines[k], "right '%s': purpose '%s' is not defined", id,
                                       d->purposes.ids[k]);
                                continue;
                        }
                        for (size_t j = 0; j < d->pub.n_purposes; j++)
                                if (d->pub.purposes[j] == p)
                                        twice = true;
                        if (twice) {
                                report(l, &d->sec, d->purposes.lines[k], "right '%s': purpose '%s' listed twice", id,
                                       d->purposes.ids[k]);
                                continue;
                        }
                        d->pub.purposes[d->pub.n_purposes++] = p;
                }

                if (ini_section_has(&d->sec, RIGHT_BASIS) && d->pub.basis == REGISTRY_BASIS_STATUTE) {
                        if (!d->pub.legal_reference)
                                report(l, &d->sec, d->sec.line, "right '%s': a statute right needs a legal-reference",
                                       id);
                        if (d->purposes.n == 0)
                                report(l, &d->sec, d->sec.line,
                                       "right '%s': a statute right needs at least one purpose", id);
                }
        }
        return 0;
}

static int right_by_service_compare(const void *a, const void *b)
{
        const RegistryRight *const *x = a, *const *y = b;
        int c = strcmp((*x)->service->id, (*y)->service->id);

        return c != 0 ? c : strcmp((*x)->id, (*y)->id);
}

/* Build the views once the registry checked out. */
static int registry_finish(Registry *r)
{
        DefVec *v;

        r->subsystems = calloc(MAX(r->defs[T_SUBSYSTEM].n, 1U), sizeof(RegistrySubsystem *));
        r->services = calloc(MAX(r->defs[T_SERVICE].n, 1U), sizeof(RegistryService *));
        r->rights = calloc(MAX(r->defs[T_RIGHT].n, 1U), sizeof(RegistryRight *));
        r->rights_by_service = calloc(MAX(r->defs[T_RIGHT].n, 1U), sizeof(RegistryRight *));
        r->purposes = calloc(MAX(r->defs[T_PURPOSE].n, 1U), sizeof(RegistryPurpose *));
        if (!r->subsystems || !r->services || !r->rights || !r->rights_by_service || !r->purposes)
                return -ENOMEM;

        v = &r->defs[T_SUBSYSTEM];
        for (size_t i = 0; i < v->n; i++)
                r->subsystems[i] = &((SubsystemDef *)v->items[i])->pub;
        v = &r->defs[T_SERVICE];
        for (size_t i = 0; i < v->n; i++)
                r->services[i] = &((ServiceDef *)v->items[i])->pub;
        v = &r->defs[T_PURPOSE];
        for (size_t i = 0; i < v->n; i++)
                r->purposes[i] = &((PurposeDef *)v->items[i])->pub;
        v = &r->defs[T_RIGHT];
        for (size_t i = 0; i < v->n; i++)
                r->rights[i] = r->rights_by_service[i] = &((RightDef *)v->items[i])->pub;
        qsort(r->rights_by_service, v->n, sizeof(RegistryRight *), right_by_service_compare);
        return 0;
}

/* ---- Schemas: compiled once per load --------------------------------------------------------- */

#define SCHEMA_FILE_MAX MIB(4)
#define DEFAULT_SCHEMA_BASE_URI "https://schemas.xbus.invalid/"

typedef struct SchemaSource {
        char *root; /* normalised folder (embedded: a path prefix) */
        bool embedded;
        const char *base_uri;
} SchemaSource;

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

/* Read the JSON document `rel` (no ".." allowed) under the schema root. */
static json_t *schema_read(const SchemaSource *src, const char *rel, char **ret_why)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        json_error_t err;
        size_t size = 0;
        json_t *doc;

        *ret_why = NULL;
        if (!schema_path_valid(rel) || strstr(rel, "..")) {
                (void)!asprintf(ret_why, "'%s' is not a path inside the schema folder", rel);
                return NULL;
        }
        path = path_join_normalize(src->root, rel);
        if (!path)
                return NULL;
        if (src->embedded) {
                const EmbeddedFile *f = embedded_find(path);
                if (!f) {
                        (void)!asprintf(ret_why, "no schema file '%s'", path);
                        return NULL;
                }
                doc = json_loadb(f->data, f->size, JSON_REJECT_DUPLICATES, &err);
        } else {
                int k = ini_read_file(path, SCHEMA_FILE_MAX, &text, &size);
                if (k < 0) {
                        (void)!asprintf(ret_why, "cannot read schema file '%s': %s", path, strerror(-k));
                        return NULL;
                }
                doc = json_loadb(text, size, JSON_REJECT_DUPLICATES, &err);
        }
        if (!doc)
                (void)!asprintf(ret_why, "schema file '%s' is not JSON: line %d: %s", path, err.line, err.text);
        return doc;
}

static json_t *schema_resolve(const char *uri, void *userdata)
{
        const SchemaSource *src = userdata;
        size_t n = strlen(src->base_uri);
        _cleanup_free_ char *why = NULL;

        if (strncmp(uri, src->base_uri, n) != 0)
                return NULL; /* never the network */
        return schema_read(src, uri + n, &why);
}

/* An XSD (for SOAP payloads): read as text and compiled; includes resolve next to it (folders only). */
static int compile_xsd(Loader *l, const SchemaSource *src, ServiceDef *d, unsigned item, const char *rel, void **ret)
{
        _cleanup_free_ char *path = NULL, *text = NULL, *why = NULL;
        const char *data;
        size_t size = 0;
        int k;

        path = path_join_normalize(src->root, rel);
        if (!path)
                return -ENOMEM;
        if (src->embedded) {
                const EmbeddedFile *f = embedded_find(path);
                if (!f) {
                        ini_errors_add(&l->errors, d->sec.file, d->sec.lines[item], "no schema file '%s'", path);
                        return 0;
                }
                data = f->data;
                size = f->size;
        } else {
                k = ini_read_file(path, SCHEMA_FILE_MAX, &text, &size);
                if (k < 0) {
                        ini_errors_add(&l->errors, d->sec.file, d->sec.lines[item], "cannot read schema file '%s': %s",
                                       path, strerror(-k));
                        return 0;
                }
                data = text;
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

        doc = schema_read(src, rel, &why);
        if (!doc) {
                ini_errors_add(&l->errors, d->sec.file, d->sec.lines[item], "%s", why ? why : "out of memory");
                return 0;
        }
        if (asprintf(&uri, "%s%s", src->base_uri, rel) < 0) {
                json_decref(doc);
                return -ENOMEM;
        }
        free(why);
        why = NULL;
        k = json_schema_compile((JsonSchema **)ret, doc, uri, opts, &why);
        json_decref(doc);
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                ini_errors_add(&l->errors, d->sec.file, d->sec.lines[item], "schema '%s' refused: %s", rel,
                               why ? why : strerror(-k));
        return 0;
}

/*
 * Compile every request and response schema the services name. A schema
 * that does not load, or uses a keyword the validator does not implement,
 * refuses the whole registry (with the service's file and line).
 * registry_load_files() has no folder to read schemas from: it keeps the
 * paths uncompiled (the daemon never loads a registry that way).
 */
static int compile_schemas(Loader *l)
{
        InstanceDef *inst = l->r->defs[T_INSTANCE].n ? l->r->defs[T_INSTANCE].items[0] : NULL;
        DefVec *v = &l->r->defs[T_SERVICE];
        JsonSchemaOptions opts = {};
        _cleanup_free_ char *root = NULL;
        SchemaSource src;
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
        if (inst->schemas && inst->schemas[0] == '/')
                root = path_join_normalize("/", inst->schemas);
        else
                root = path_join_normalize(l->dir, inst->schemas ? inst->schemas : "schemas");
        if (!root)
                return -ENOMEM;
        src.root = root;
        src.embedded = l->embedded;
        opts.resolver = schema_resolve;
        opts.userdata = &src;

        for (size_t i = 0; i < v->n; i++) {
                ServiceDef *d = v->items[i];
                if (d->pub.request_schema) {
                        k = compile_one(l, &src, &opts, d, SVC_REQUEST_SCHEMA, d->pub.request_schema,
                                        &d->pub.request_validator);
                        if (k < 0)
                                return k;
                }
                if (d->pub.response_schema) {
                        k = compile_one(l, &src, &opts, d, SVC_RESPONSE_SCHEMA, d->pub.response_schema,
                                        &d->pub.response_validator);
                        if (k < 0)
                                return k;
                }
                if (d->pub.soap_request_schema) {
                        k = compile_xsd(l, &src, d, SVC_SOAP_REQUEST_SCHEMA, d->pub.soap_request_schema,
                                        &d->pub.request_xsd);
                        if (k < 0)
                                return k;
                }
                if (d->pub.soap_response_schema) {
                        k = compile_xsd(l, &src, d, SVC_SOAP_RESPONSE_SCHEMA, d->pub.soap_response_schema,
                                        &d->pub.response_xsd);
                        if (k < 0)
                                return k;
                }
        }
        return 0;
}

/* ---- Loading: entry points ------------------------------------------------------------------ */

/*
 * Parse and check `files`; errors found before (unreadable files, ...) may
 * already be in l->errors.
 */
static int load(Loader *l, const RegistryFile *files, size_t n_files, const char *where, Registry **ret,
                char **ret_errors)
{
        _cleanup_(registry_freep) Registry *r = NULL;
        const char *instance;
        size_t total = 0;
        int k;

        if (ret_errors)
                *ret_errors = NULL;

        r = calloc(1, sizeof(Registry));
        if (!r)
                return -ENOMEM;
        r->n_ref = 1;
        l->r = r;

        if (n_files > REGISTRY_FILES_MAX) {
                ini_errors_add(&l->errors, where, 0, "too many registry files (%zu, limit %u)", n_files,
                               REGISTRY_FILES_MAX);
                goto invalid;
        }
        for (size_t i = 0; i < n_files; i++)
                total += files[i].size;
        if (total > REGISTRY_SIZE_MAX) {
                ini_errors_add(&l->errors, where, 0, "registry files too large (%zu bytes, limit %zu)", total,
                               (size_t)REGISTRY_SIZE_MAX);
                goto invalid;
        }
        if (n_files == 0 && ini_errors_count(&l->errors) == 0) {
                ini_errors_add(&l->errors, where, 0, "no registry files");
                goto invalid;
        }

        r->files = calloc(MAX(n_files, 1U), sizeof(char *));
        if (!r->files)
                return -ENOMEM;
        for (size_t i = 0; i < n_files; i++) {
                r->files[i] = strdup(files[i].name ? files[i].name : "(unnamed)");
                if (!r->files[i])
                        return -ENOMEM;
                r->n_files++;
                k = ini_parse(r->files[i], files[i].text ? files[i].text : "", files[i].text ? files[i].size : 0,
                              loader_handler, l, &l->errors);
                if (k < 0)
                        return k;
        }

        check_required(l);
        instance = check_instance(l, n_files > 0 ? r->files[0] : NULL);
        if (instance && !token_valid(instance))
                instance = NULL; /* already reported by the item parser */
        check_duplicates(l);
        if ((k = check_members(l, instance)) < 0 || (k = check_subsystems(l, instance)) < 0 ||
            (k = check_identities(l)) < 0 || (k = check_services(l, instance)) < 0)
                return k;
        check_purposes(l);
        if ((k = check_groups(l)) < 0 || (k = check_rights(l)) < 0)
                return k;

        if (l->errors.oom)
                return -ENOMEM;
        if (ini_errors_count(&l->errors) > 0)
                goto invalid;
        k = compile_schemas(l);
        if (k < 0)
                return k;
        if (ini_errors_count(&l->errors) > 0)
                goto invalid;

        k = registry_finish(r);
        if (k < 0)
                return k;
        *ret = TAKE_PTR(r);
        return 0;

invalid:
        if (ret_errors) {
                k = ini_errors_to_string(&l->errors, ret_errors);
                if (k < 0)
                        return k;
        } else if (l->errors.oom)
                return -ENOMEM;
        return REGISTRY_E_INVALID;
}

int registry_load_files(Registry **ret, const RegistryFile *files, size_t n_files, char **ret_errors)
{
        Loader l = {};
        int r;

        if (!ret || (!files && n_files > 0))
                return -EINVAL;
        r = load(&l, files, n_files, "(registry)", ret, ret_errors);
        ini_errors_done(&l.errors);
        return r;
}

static int name_compare(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_conf_name(const char *name)
{
        size_t n = strlen(name);
        return name[0] != '.' && n > 5 && streq(name + n - 5, ".conf");
}

int registry_load_dir(Registry **ret, const char *dir, char **ret_errors)
{
        _cleanup_(ini_strv_freep) char **names = NULL;
        RegistryFile *files = NULL;
        size_t n = 0, n_files = 0, dir_len = dir ? strlen(dir) : 0;
        Loader l = {};
        DIR *d;
        int r = 0;

        if (ret_errors)
                *ret_errors = NULL;
        if (!ret || !dir)
                return -EINVAL;

        d = opendir(dir);
        if (!d)
                return -errno;
        /* "conf/registry/" names its files "conf/registry/a.conf" in messages. */
        while (dir_len > 1 && dir[dir_len - 1] == '/')
                dir_len--;
        names = calloc(1, sizeof(char *));
        if (!names) {
                closedir(d);
                return -ENOMEM;
        }
        for (;;) {
                struct dirent *de;
                struct stat st;
                char **a;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        r = -errno;
                        break;
                }
                if (!is_conf_name(de->d_name))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (n > REGISTRY_FILES_MAX)
                        continue; /* counted, reported below */
                a = reallocarray(names, n + 2, sizeof(char *));
                if (!a) {
                        r = -ENOMEM;
                        break;
                }
                names = a;
                if (asprintf(&names[n], "%.*s/%s", (int)dir_len, dir, de->d_name) < 0) {
                        names[n] = NULL;
                        r = -ENOMEM;
                        break;
                }
                names[++n] = NULL;
        }
        closedir(d);
        if (r < 0)
                return r;

        qsort(names, n, sizeof(char *), name_compare);
        files = calloc(MAX(n, 1U), sizeof(RegistryFile));
        if (!files)
                return -ENOMEM;
        for (size_t i = 0; i < n && i < REGISTRY_FILES_MAX; i++) {
                char *text = NULL;
                size_t size = 0;

                r = ini_read_file(names[i], INI_FILE_SIZE_MAX, &text, &size);
                if (r == -EFBIG) {
                        ini_errors_add(&l.errors, names[i], 1, "file too large (limit %zu bytes)",
                                       (size_t)INI_FILE_SIZE_MAX);
                        continue;
                }
                if (r < 0)
                        goto finish;
                files[n_files++] = (RegistryFile){ .name = names[i], .text = text, .size = size };
        }
        if (n > REGISTRY_FILES_MAX)
                ini_errors_add(&l.errors, dir, 0, "too many registry files (more than %u)", REGISTRY_FILES_MAX);
        else if (n == 0)
                ini_errors_add(&l.errors, dir, 0, "no *.conf files in the folder");

        l.dir = dir;
        r = load(&l, files, n_files, dir, ret, ret_errors);

finish:
        for (size_t i = 0; i < n_files; i++)
                free((char *)files[i].text);
        free(files);
        ini_errors_done(&l.errors);
        return r;
}

int registry_load_embedded(Registry **ret, char **ret_errors)
{
        static const char prefix[] = "conf/registry/";
        _cleanup_free_ RegistryFile *files = NULL;
        size_t n = 0, k = 0;

        if (!ret)
                return -EINVAL;
        for (const EmbeddedFile *f = embedded_files; f->path; f++)
                n++;
        files = calloc(MAX(n, 1U), sizeof(RegistryFile));
        if (!files)
                return -ENOMEM;
        for (const EmbeddedFile *f = embedded_files; f->path; f++) {
                size_t len = strlen(f->path);

                if (strneq(f->path, prefix, strlen(prefix)) && len > strlen(prefix) + 5 &&
                    streq(f->path + len - 5, ".conf"))
                        files[k++] = (RegistryFile){ .name = f->path, .text = f->data, .size = f->size };
        }
        {
                Loader l = { .dir = "conf/registry", .embedded = true };
                int r = load(&l, files, k, "(embedded registry)", ret, ret_errors);
                ini_errors_done(&l.errors);
                return r;
        }
}
