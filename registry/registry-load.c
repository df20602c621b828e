/* registry-load.c: registry files -> definitions (table-driven parsing with file:line errors) */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>

#include "registry-internal.h"
#include "crypto/keyfile.h"
#include "validate/jsonschema.h"
#include "util/bytes.h"
#include "validate/xsd.h"

/* ---- Reference lists (ids with the line each one came from) -------------------------------- */

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

/* ---- Item parsers (IniItemParser) ----------------------------------------------------------- */

static int item_token(const char *value, unsigned line, void *dst)
{
        if (!registry_token_valid(value))
                return -EINVAL;
        return ini_item_string(value, line, dst);
}

unsigned registry_role_from_string(const char *s)
{
        static const struct {
                const char *name;
                unsigned bit;
        } table[] = {
                { "client", REGISTRY_ROLE_CLIENT },
                { "provider", REGISTRY_ROLE_PROVIDER },
                { "consent-authority", REGISTRY_ROLE_CONSENT_AUTHORITY },
                { "auditor", REGISTRY_ROLE_AUDITOR },
                { "monitor", REGISTRY_ROLE_MONITOR },
        };

        for (size_t k = 0; k < ELEMENTSOF(table); k++)
                if (streq(table[k].name, s))
                        return table[k].bit;
        return 0;
}

/* A non-empty list of names, each one bit by `lookup` (0: unknown), or-ed into the unsigned at `dst`. */
static int item_bits(const char *value, void *dst, unsigned (*lookup)(const char *))
{
        _cleanup_(strv_freep) char **l = NULL;
        unsigned bits = 0;
        int r;

        r = ini_parse_list(value, &l);
        if (r < 0)
                return r;
        for (char **i = l; *i; i++) {
                unsigned b = lookup(*i);
                if (b == 0)
                        return -EINVAL;
                bits |= b;
        }
        if (bits == 0)
                return -EINVAL;
        *(unsigned *)dst = bits;
        return 0;
}

static int item_methods(const char *value, unsigned line, void *dst)
{
        return item_bits(value, dst, registry_method_from_string);
}

static int item_roles(const char *value, unsigned line, void *dst)
{
        return item_bits(value, dst, registry_role_from_string);
}

static int item_error_format(const char *value, unsigned line, void *dst)
{
        if (streq(value, "xroad"))
                *(RegistryErrorFormat *)dst = REGISTRY_ERRORS_XROAD;
        else if (streq(value, "problem"))
                *(RegistryErrorFormat *)dst = REGISTRY_ERRORS_PROBLEM;
        else
                return -EINVAL;
        return 0;
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

int registry_item_fingerprints(const char *value, unsigned line, void *dst)
{
        _cleanup_(strv_freep) char **l = NULL;
        FingerprintList *f = dst;
        uint8_t(*a)[32];
        size_t m;
        int r;

        r = ini_parse_list(value, &l);
        if (r < 0)
                return r;
        m = strv_length(l);
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
        _cleanup_(strv_freep) char **l = NULL;
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
        return item_list_of(value, line, dst, registry_pattern_valid);
}

static int item_json_pointers(const char *value, unsigned line, void *dst)
{
        return item_list_of(value, line, dst, registry_json_pointer_valid);
}

static int item_tokens(const char *value, unsigned line, void *dst)
{
        return item_list_of(value, line, dst, registry_token_valid);
}

static int item_json_pointer(const char *value, unsigned line, void *dst)
{
        if (!registry_json_pointer_valid(value))
                return -EINVAL;
        return ini_item_string(value, line, dst);
}

/* A path template with one "{subject}" segment: as a pattern ("*" there), and that segment's index. */
static int subject_template(const char *template, char **ret, unsigned *ret_segment)
{
        _cleanup_free_ char *p = strdup(template);
        char *at = p ? strstr(p, "/{subject}") : NULL;
        unsigned segment = 0;

        if (!p)
                return -ENOMEM;
        if (!at || (at[10] && at[10] != '/'))
                return -EINVAL;
        for (const char *c = p; c < at; c++)
                segment += *c == '/';
        at[1] = '*';
        memmove(at + 2, at + 10, strlen(at + 10) + 1);
        if (strpbrk(p, "{}") || !registry_pattern_valid(p))
                return -EINVAL;
        *ret = TAKE_PTR(p);
        *ret_segment = segment;
        return 0;
}

/* "header", "path /TEMPLATE/{subject}", "query NAME" or "body /JSON/POINTER" into a RegistrySubjectPlace. */
static int item_subject(const char *value, unsigned line, void *dst)
{
        static const char *const sources[] = { [REGISTRY_SUBJECT_HEADER] = "header",
                                               [REGISTRY_SUBJECT_PATH] = "path",
                                               [REGISTRY_SUBJECT_QUERY] = "query",
                                               [REGISTRY_SUBJECT_BODY] = "body" };
        RegistrySubjectPlace *place = dst;
        size_t n = strcspn(value, " \t");
        const char *arg = value + n + strspn(value + n, " \t");
        char *where = NULL;
        unsigned k, segment = 0;
        int r = 0;

        for (k = 0; k < ELEMENTSOF(sources) && !(strlen(sources[k]) == n && strneq(value, sources[k], n)); k++)
                ;
        if (k == ELEMENTSOF(sources) || (k == REGISTRY_SUBJECT_HEADER) != !*arg)
                return -EINVAL;
        if (k == REGISTRY_SUBJECT_PATH)
                r = subject_template(arg, &where, &segment);
        else if (k == REGISTRY_SUBJECT_QUERY ? !registry_token_valid(arg)
                                             : k == REGISTRY_SUBJECT_BODY && !registry_json_pointer_valid(arg))
                return -EINVAL;
        else if (k != REGISTRY_SUBJECT_HEADER && !(where = strdup(arg)))
                return -ENOMEM;
        if (r < 0)
                return r;
        free(place->where);
        *place = (RegistrySubjectPlace){ .source = k, .where = where, .segment = segment };
        return 0;
}

static int item_schema(const char *value, unsigned line, void *dst)
{
        if (!registry_schema_path_valid(value))
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

/* A non-empty list appended to a RefList with its line; each item must satisfy `valid` (if not NULL). */
static int refs_append(const char *value, unsigned line, RefList *refs, bool (*valid)(const char *))
{
        _cleanup_(strv_freep) char **l = NULL;
        int r;

        r = ini_parse_list(value, &l);
        if (r < 0)
                return r;
        if (!l[0])
                return -EINVAL;
        if (refs->n + strv_length(l) > INI_LIST_MAX)
                return -E2BIG;
        for (char **i = l; *i; i++) {
                if (valid && !valid(*i))
                        return -EINVAL;
                r = ref_list_append(refs, *i, line);
                if (r < 0)
                        return r;
        }
        return 0;
}

int registry_item_refs(const char *value, unsigned line, void *dst)
{
        return refs_append(value, line, dst, NULL);
}

/* A CURVE public key in Z85, or a reference "@state:PATH" to a file holding one. */
static bool adapter_key_valid(const char *s)
{
        if (strneq(s, REGISTRY_KEY_REF, strlen(REGISTRY_KEY_REF)))
                return registry_schema_path_valid(s + strlen(REGISTRY_KEY_REF));
        return keyfile_curve_valid(s);
}

static int item_adapter_keys(const char *value, unsigned line, void *dst)
{
        return refs_append(value, line, dst, adapter_key_valid);
}

/* ---- Section tables ------------------------------------------------------------------------- */

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

#define EXPECT_SCHEMA_FOLDER "a folder, relative to the folder of this file (or absolute)"
static const IniItem member_items[] = {
        [MEMBER_NAME] = { "name", ini_item_string, offsetof(MemberDef, pub.name), INI_ITEM_REQUIRED, EXPECT_TEXT },
        [MEMBER_SCHEMAS] = { "schemas", ini_item_string, offsetof(MemberDef, schemas), 0, EXPECT_SCHEMA_FOLDER },
};

static const IniItem subsystem_items[] = {
        [SUB_NAME] = { "name", ini_item_string, offsetof(SubsystemDef, pub.name), INI_ITEM_REQUIRED, EXPECT_TEXT },
        [SUB_ROLES] = { "roles", item_roles, offsetof(SubsystemDef, pub.roles), INI_ITEM_REQUIRED,
                        "roles among client, provider, consent-authority, auditor, monitor" },
        [SUB_TLS_CN] = { "tls-cn", item_cn, offsetof(SubsystemDef, pub.tls_cn), 0,
                         "a certificate common name of at most 64 bytes" },
        [SUB_FINGERPRINT] = { "tls-fingerprint", registry_item_fingerprints, offsetof(SubsystemDef, fps),
                              INI_ITEM_MULTI, "sha256: followed by 64 hex digits (pairs may be separated by ':')" },
        [SUB_ADAPTER_KEY] = { "adapter-key", item_adapter_keys, offsetof(SubsystemDef, keys), INI_ITEM_MULTI,
                              "a CURVE public key in Z85 (40 characters) or " REGISTRY_KEY_REF "PATH, in a list" },
        [SUB_CONSENT_JWK] = { "consent-jwk", item_jwk, offsetof(SubsystemDef, pub.consent_jwk), 0,
                              "a public JWK as a JSON object with \"kty\" (no private part)" },
        [SUB_SOAP_SIGNED] = { "soap-signed-requests", ini_item_bool,
                              offsetof(SubsystemDef, pub.soap_signature_required), 0, "yes or no" },
        [SUB_ERROR_FORMAT] = { "error-format", item_error_format, offsetof(SubsystemDef, pub.error_format), 0,
                               "xroad or problem" },
};

#define EXPECT_METHODS "HTTP methods among GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
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
        [SVC_SUBJECT] = { "subject", item_subject, offsetof(ServiceDef, pub.subject), 0,
                          "header, path /TEMPLATE with one {subject} segment, query NAME, or body /JSON/POINTER" },
        [SVC_RESPONSE_SUBJECT] = { "response-subject", item_json_pointer, offsetof(ServiceDef, pub.response_subject), 0,
                                   "a JSON pointer such as /owner/id (RFC 6901)" },
        [SVC_PARAMETER] = { "parameter", registry_item_parameter, offsetof(ServiceDef, params), INI_ITEM_MULTI,
                            "path NAME [SCHEMA] or query NAME [required] [SCHEMA], where SCHEMA is a schema file "
                            "(with an optional #/pointer) or an inline JSON Schema object" },
        [SVC_OPENAPI] = { "openapi", item_schema, offsetof(ServiceDef, pub.openapi), 0,
                          "a relative path such as population/citizen.openapi.yaml" },
        [SVC_SCHEMAS] = { "schemas", ini_item_string, offsetof(ServiceDef, schemas), 0, EXPECT_SCHEMA_FOLDER },
};

static const IniItem group_items[] = {
        [GROUP_TITLE] = { "title", ini_item_string, offsetof(GroupDef, pub.title), INI_ITEM_REQUIRED, EXPECT_TEXT },
        [GROUP_MEMBERS] = { "members", registry_item_refs, offsetof(GroupDef, members),
                            INI_ITEM_REQUIRED | INI_ITEM_MULTI, "a list of subsystem identifiers" },
};

static const IniItem purpose_items[] = {
        [PURPOSE_TITLE] = { "title", ini_item_string, offsetof(PurposeDef, pub.title), INI_ITEM_REQUIRED, EXPECT_TEXT },
        [PURPOSE_DESCRIPTION] = { "description", ini_item_string, offsetof(PurposeDef, pub.description), 0,
                                  EXPECT_TEXT },
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
        [RIGHT_PURPOSES] = { "purposes", registry_item_refs, offsetof(RightDef, purposes), INI_ITEM_MULTI,
                             "a list of purpose codes" },
        [RIGHT_FIELDS] = { "fields", item_json_pointers, offsetof(RightDef, pub.fields), INI_ITEM_MULTI,
                           "JSON pointers such as /full_name (RFC 6901)" },
        [RIGHT_DEFAULT_PURPOSE] = { "default-purpose", item_token, offsetof(RightDef, default_purpose), 0,
                                    "one of the right's purposes" },
};

static void instance_free(void *p)
{
        InstanceDef *d = p;

        free(d->id);
        free(d->name);
        free(d->schemas);
        free(d->schema_base_uri);
        strv_free(d->assert_formats);
        free(d);
}

static void member_free(void *p)
{
        MemberDef *d = p;

        free(d->pub.id);
        free(d->pub.name);
        free(d->schemas);
        free(d);
}

static void subsystem_free(void *p)
{
        SubsystemDef *d = p;

        free(d->pub.id);
        free(d->pub.name);
        free(d->pub.tls_cn);
        free(d->fps.fp); /* pub.tls_fingerprints is the same array */
        strv_free(d->pub.adapter_keys);
        ref_list_done(&d->keys);
        free(d->pub.consent_jwk);
        free(d);
}

static void service_free(void *p)
{
        ServiceDef *d = p;

        free(d->pub.id);
        free(d->pub.code);
        free(d->pub.title);
        strv_free(d->pub.paths);
        strv_free(d->pub.categories);
        free(d->pub.request_schema);
        free(d->pub.response_schema);
        free(d->pub.adapter);
        free(d->pub.subject.where);
        free(d->pub.response_subject);
        json_schema_free(d->pub.request_validator);
        json_schema_free(d->pub.response_validator);
        free(d->pub.soap_request_schema);
        free(d->pub.soap_response_schema);
        xsd_schema_free(d->pub.request_xsd);
        xsd_schema_free(d->pub.response_xsd);
        registry_parameters_done(&d->params);
        free(d->pub.openapi);
        free(d->pub.description);
        free(d->schemas);
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
        strv_free(d->pub.paths);
        free(d->pub.legal_reference);
        free(d->pub.purposes);
        strv_free(d->pub.fields);
        free(d->client);
        free(d->group);
        free(d->service);
        free(d->default_purpose);
        ref_list_done(&d->purposes);
        free(d);
}

#define SECTION_TYPE(n, d, it, idfield, fr)                                                                           \
        {                                                                                                             \
                .name = n, .items = it, .n_items = ELEMENTSOF(it), .size = sizeof(d), .offset_sec = offsetof(d, sec), \
                .offset_seq = offsetof(d, seq), .offset_id = offsetof(d, idfield), .free = fr,                        \
        }

const SectionType registry_section_types[_T_MAX] = {
        [T_INSTANCE] = SECTION_TYPE("instance", InstanceDef, instance_items, id, instance_free),
        [T_MEMBER] = SECTION_TYPE("member", MemberDef, member_items, pub.id, member_free),
        [T_SUBSYSTEM] = SECTION_TYPE("subsystem", SubsystemDef, subsystem_items, pub.id, subsystem_free),
        [T_SERVICE] = SECTION_TYPE("service", ServiceDef, service_items, pub.id, service_free),
        [T_GROUP] = SECTION_TYPE("group", GroupDef, group_items, pub.id, group_free),
        [T_PURPOSE] = SECTION_TYPE("purpose", PurposeDef, purpose_items, pub.code, purpose_free),
        [T_RIGHT] = SECTION_TYPE("right", RightDef, right_items, pub.id, right_free),
        [T_NODE] = SECTION_TYPE("node", NodeDef, registry_node_items, pub.id, registry_node_free),
};

/* ---- Loading: parse ------------------------------------------------------------------------- */

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
                        if (streq(registry_section_types[t].name, section)) {
                                st = &registry_section_types[t];
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
        return ini_section_apply(def_sec(l->cur_type, l->cur), registry_section_types[l->cur_type].items,
                                 registry_section_types[l->cur_type].n_items, l->cur, line, key, value, &l->errors);
}

/* ---- Loading: entry points ------------------------------------------------------------------ */

int registry_loader_run(Loader *l, const RegistryFile *files, size_t n_files, const char *where, Registry **ret,
                        char **ret_errors)
{
        _cleanup_(registry_freep) Registry *r = NULL;
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

        k = registry_check(l, n_files > 0 ? r->files[0] : NULL);
        if (k < 0)
                return k;

        if (l->errors.oom)
                return -ENOMEM;
        if (ini_errors_count(&l->errors) > 0)
                goto invalid;
        k = registry_schemas_compile(l);
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
        r = registry_loader_run(&l, files, n_files, "(registry)", ret, ret_errors);
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

static int load_dir(Registry **ret, const char *dir, const char *state_dir, char **ret_errors)
{
        _cleanup_(strv_freep) char **names = NULL;
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

                r = read_full_file(names[i], INI_FILE_SIZE_MAX, &text, &size);
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
        l.state_dir = state_dir;
        r = registry_loader_run(&l, files, n_files, dir, ret, ret_errors);

finish:
        for (size_t i = 0; i < n_files; i++)
                free((char *)files[i].text);
        free(files);
        ini_errors_done(&l.errors);
        return r;
}

int registry_load_dir(Registry **ret, const char *dir, char **ret_errors)
{
        return load_dir(ret, dir, NULL, ret_errors);
}

static int load_embedded(Registry **ret, const char *state_dir, char **ret_errors)
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
                Loader l = { .dir = "conf/registry", .embedded = true, .state_dir = state_dir };
                int r = registry_loader_run(&l, files, k, "(embedded registry)", ret, ret_errors);
                ini_errors_done(&l.errors);
                return r;
        }
}

int registry_load_embedded(Registry **ret, char **ret_errors)
{
        return load_embedded(ret, NULL, ret_errors);
}

int registry_load_node(Registry **ret, const char *dir, const char *state_dir, char **ret_errors)
{
        return dir ? load_dir(ret, dir, state_dir, ret_errors) : load_embedded(ret, state_dir, ret_errors);
}
