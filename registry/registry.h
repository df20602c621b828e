/* registry.h: who exists and who may ask what (the loaded, immutable registry)
 *
 * The registry is written as files under conf/registry/ (format: docs/registry.md),
 * parsed and checked at load time into this structure, and then never changed:
 * a reload builds a new Registry and swaps the pointer (registry_ref/unref).
 * Nothing on the request path reads a file.
 *
 * Ownership: every pointer returned by a lookup points into the Registry and
 * lives as long as the caller holds a reference to it.
 * Thread safety: a loaded Registry is read-only and may be shared by threads;
 * registry_ref()/registry_unref() are atomic.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/embedded.h"

/* Positive, module-specific results (negative values are -errno). */
enum {
        REGISTRY_E_INVALID = 1, /* the registry files have errors (see ret_errors) */
        REGISTRY_E_NO_RIGHT,    /* the client has no right on the service */
        REGISTRY_E_METHOD,      /* a right exists but not for this method */
        REGISTRY_E_PATH,        /* a right exists for this method but not this path */
};

/* HTTP methods as a bit mask. */
enum {
        REGISTRY_METHOD_GET = 1U << 0,
        REGISTRY_METHOD_HEAD = 1U << 1,
        REGISTRY_METHOD_POST = 1U << 2,
        REGISTRY_METHOD_PUT = 1U << 3,
        REGISTRY_METHOD_PATCH = 1U << 4,
        REGISTRY_METHOD_DELETE = 1U << 5,
        REGISTRY_METHOD_OPTIONS = 1U << 6,
};

/* Roles a subsystem may hold. */
enum {
        REGISTRY_ROLE_CLIENT = 1U << 0,
        REGISTRY_ROLE_PROVIDER = 1U << 1,
        REGISTRY_ROLE_CONSENT_AUTHORITY = 1U << 2,
        REGISTRY_ROLE_AUDITOR = 1U << 3,
        REGISTRY_ROLE_MONITOR = 1U << 4, /* may read /metrics and /health where xbusd.conf says so */
};

/* The error format a client gets by default (docs/registry.md, "error-format"; docs/protocol.md). */
typedef enum RegistryErrorFormat {
        REGISTRY_ERRORS_XROAD = 0, /* the X-Road profile: {"type","message","detail"}, 400/500 */
        REGISTRY_ERRORS_PROBLEM,   /* RFC 9457 problem+json with the xbus types */
} RegistryErrorFormat;

typedef enum RegistryBasis {
        REGISTRY_BASIS_STATUTE,
        REGISTRY_BASIS_CONSENT,
} RegistryBasis;

typedef struct RegistryMember {
        char *id; /* "VN/GOV/BCA" (instance/class/code) */
        char *name;
} RegistryMember;

typedef struct RegistrySubsystem {
        char *id; /* "VN/GOV/BCA/population" */
        char *name;
        const RegistryMember *member;
        unsigned roles;                  /* REGISTRY_ROLE_* */
        char *tls_cn;                    /* client cert subject CN (from a trusted client CA), or NULL */
        uint8_t (*tls_fingerprints)[32]; /* SHA-256 of the DER client certificate, pinned */
        size_t n_tls_fingerprints;
        char **adapter_keys;          /* CURVE public keys (Z85) of the adapters that may serve it, NULL-terminated */
        char *consent_jwk;            /* consent authority: public JWK (JSON text), or NULL */
        bool soap_signature_required; /* its SOAP requests must carry a valid XML signature */
        RegistryErrorFormat error_format; /* the error format its requests get unless they ask otherwise */
} RegistrySubsystem;

typedef struct RegistryPurpose {
        char *code; /* "public-service-delivery" */
        char *title;
        char *description;
} RegistryPurpose;

/* Where a personal-data service's requests carry the data subject (docs/registry.md, "subject"). */
typedef enum RegistrySubjectSource {
        REGISTRY_SUBJECT_HEADER, /* X-Bus-Subject only: the default */
        REGISTRY_SUBJECT_PATH,   /* a segment of the service path (a template such as /citizens/{subject}) */
        REGISTRY_SUBJECT_QUERY,  /* a query parameter */
        REGISTRY_SUBJECT_BODY,   /* a string member of the JSON request body */
} RegistrySubjectSource;

typedef struct RegistrySubjectPlace {
        RegistrySubjectSource source;
        char *where;      /* path: the template as a pattern ("*" for "{subject}"); query: the parameter's
                           * name; body: a JSON pointer; NULL for the header */
        unsigned segment; /* path: which segment of the path is the subject (0 = the first) */
} RegistrySubjectPlace;

/*
 * The X-Road metaservices (PR-MREST, PR-META): every subsystem answers them under its own id,
 * as services of its own ("VN/GOV/BCA/population/listMethods"), which is why no registered
 * service may take their codes. Bits, so that a transport can say which ones it serves.
 */
typedef enum RegistryMetaservice {
        REGISTRY_META_NONE = 0,
        REGISTRY_META_LIST_METHODS = 1U << 0,    /* listMethods: the subsystem's services */
        REGISTRY_META_ALLOWED_METHODS = 1U << 1, /* allowedMethods: those the caller may call */
        REGISTRY_META_GET_OPENAPI = 1U << 2,     /* getOpenAPI?serviceCode=: a service's OpenAPI description */
        REGISTRY_META_GET_WSDL = 1U << 3,        /* getWsdl (SOAP) */
} RegistryMetaservice;

/* Where a declared request parameter is (docs/registry.md, "parameter"). */
typedef enum RegistryParameterPlace {
        REGISTRY_PARAMETER_PATH,  /* a {NAME} segment of the service's paths */
        REGISTRY_PARAMETER_QUERY, /* a query parameter */
} RegistryParameterPlace;

typedef struct RegistryParameter {
        RegistryParameterPlace in;
        char *name;
        bool required;   /* a path parameter always is */
        char *schema;    /* as written: a schema file[#JSON pointer] or an inline JSON Schema; NULL: any string */
        void *validator; /* compiled (validate/jsonschema.h), or NULL: any string, or not compiled */
} RegistryParameter;

typedef struct RegistryService {
        char *id;   /* "VN/GOV/BCA/population/citizen" */
        char *code; /* last segment: "citizen" */
        char *title;
        const RegistrySubsystem *owner; /* the provider subsystem (id prefix) */
        unsigned methods;               /* REGISTRY_METHOD_* the service accepts */
        char **paths;                   /* path patterns like "/", "/x/ *", NULL-terminated (see docs/registry.md) */
        bool personal_data;             /* requests must name a data subject */
        RegistrySubjectPlace subject;   /* where requests carry it besides X-Bus-Subject */
        char *response_subject;         /* JSON pointer to a person its answers name (also logged
                                         * under that person), or NULL */
        char **categories;              /* data categories, NULL-terminated */
        char *request_schema;           /* schema path relative to the schema root, or NULL */
        char *response_schema;
        uint64_t timeout_ms;     /* the adapter must answer within this */
        size_t max_request_size; /* bytes */
        size_t max_response_size;
        char *adapter;           /* adapter kind expected to serve it: "sample", "rest", ... */
        void *request_validator; /* compiled JSON Schema (validate/jsonschema.h), or NULL */
        void *response_validator;
        char *soap_request_schema; /* XSD of SOAP request payloads, or NULL: no SOAP rendering */
        char *soap_response_schema;
        void *request_xsd; /* compiled XSDs (validate/xsd.h), or NULL */
        void *response_xsd;
        RegistryParameter *parameters; /* declared path and query parameters, in the order written */
        size_t n_parameters;
        char *openapi;     /* the provider's OpenAPI document, relative to the schema root, or NULL */
        char *description; /* what getOpenAPI serves: that document (servers reduced to their path), or
                                       * one generated from this entry; NULL when schemas were not loaded */
        size_t description_size;
        const char *description_type; /* its media type (static storage) */
        RegistryMetaservice meta;     /* a metaservice (registry_metaservice_lookup()), else REGISTRY_META_NONE */
} RegistryService;

typedef struct RegistryGroup {
        char *id; /* "provincial-one-stop-shops" */
        char *title;
        const RegistrySubsystem **members;
        size_t n_members;
} RegistryGroup;

typedef struct RegistryRight {
        char *id;                        /* "hn-oss-population" */
        const RegistrySubsystem *client; /* exactly one of client / group is set */
        const RegistryGroup *group;
        const RegistryService *service;
        unsigned methods; /* subset of the service's */
        char **paths;     /* patterns, NULL-terminated */
        RegistryBasis basis;
        char *legal_reference; /* statute: the law and article; consent: may be NULL */
        const RegistryPurpose **purposes;
        size_t n_purposes;
        const RegistryPurpose *default_purpose; /* one of `purposes`, used when a request names none, or NULL */
        char **fields;                          /* response fields (JSON pointers) the client may receive; NULL = all */
} RegistryRight;

/*
 * A node of a federation (docs/registry.md "[node]", docs/federation.md):
 * the xbusd of one organisation, which hosts some subsystems (its clients
 * call it; the adapters of its providers connect to it). What another node
 * needs to reach it and to check what it signs. A registry without any
 * node is a single node's, the default.
 */
typedef struct RegistryNode {
        char *id;                        /* "bca": a local id, as in [node bca] */
        const RegistryMember *owner;     /* the member that runs it */
        char *address;                   /* its front door, "https://HOST[:PORT]" (no trailing '/') */
        uint8_t (*tls_fingerprints)[32]; /* SHA-256 of its TLS server certificate (DER), pinned */
        size_t n_tls_fingerprints;
        char *tls_ca;      /* with tls_name: PEM text of the CA that issues its TLS certificate */
        char *tls_name;    /* the DNS name (or IP address) its certificate must carry, or NULL */
        char *receipt_jwk; /* its receipt key: public JWK (EC P-256, JSON text) */
        const struct JwsVerifier *receipt_verifier; /* the same key, made once at load (crypto/jws.h) */
        char *checkpoint_vkey;                      /* its log's checkpoint key: a C2SP vkey (name+hash+key) */
        const RegistrySubsystem **subsystems;       /* the subsystems it hosts, sorted by id */
        size_t n_subsystems;
} RegistryNode;

typedef struct Registry Registry;

/* A source file for registry_load_files(): `name` is used in messages ("file:line: ..."). */
typedef struct RegistryFile {
        const char *name;
        const char *text;
        size_t size;
} RegistryFile;

/*
 * registry_load_dir(): load every "*.conf" file of `dir` (sorted by name).
 * registry_load_files(): the same from memory (the embedded default).
 * registry_load_embedded(): the sample registry compiled into the library.
 *
 * On success *ret holds a new Registry with one reference. On
 * REGISTRY_E_INVALID, *ret_errors (if not NULL) receives a malloc'd text, one
 * "file:line: message" per line, every error found (not just the first),
 * sorted by file name and line; the caller frees it. Otherwise *ret_errors is
 * set to NULL. Errors about a whole file or folder use line 1 or 0. At most
 * 1000 messages are kept, then "... and N more errors".
 * Files are read in the order given (registry_load_dir(): by name); for a
 * duplicate id, the definition read first is the one the error points to.
 * Limits: 1024 files, 4 MiB and 100000 lines per file, 64 MiB in all (see
 * util/ini.h for line limits). Schema files are not opened: only their paths
 * are stored.
 * Return: 0, REGISTRY_E_INVALID, or -errno (-ENOMEM, -ENOENT for a missing
 * dir, -EINVAL for bad arguments, -errno of a file that cannot be read).
 */
int registry_load_dir(Registry **ret, const char *dir, char **ret_errors);
int registry_load_files(Registry **ret, const RegistryFile *files, size_t n_files, char **ret_errors);
int registry_load_embedded(Registry **ret, char **ret_errors);

/*
 * registry_load_node(): what a node loads: registry_load_dir(), or the
 * embedded registry when `dir` is NULL, with the adapter key references
 * ("adapter-key = @state:PATH") read from PATH under `state_dir` (a file
 * that cannot be read, or holds no CURVE key, is an error at the key's
 * line). The other loaders check references for form only and leave them
 * out of adapter_keys. Return: as registry_load_dir().
 */
int registry_load_node(Registry **ret, const char *dir, const char *state_dir, char **ret_errors);

Registry *registry_ref(Registry *r);
Registry *registry_unref(Registry *r); /* NULL in, NULL out */
static inline void registry_unrefp(Registry **r)
{
        if (*r)
                registry_unref(*r);
}

const char *registry_instance(const Registry *r);

/* Lookups: NULL when absent. O(log n). */
const RegistryMember *registry_member_lookup(const Registry *r, const char *id);
const RegistrySubsystem *registry_subsystem_lookup(const Registry *r, const char *id);
const RegistryService *registry_service_lookup(const Registry *r, const char *id);
const RegistryPurpose *registry_purpose_lookup(const Registry *r, const char *code);
const RegistryGroup *registry_group_lookup(const Registry *r, const char *id);

/*
 * registry_metaservice_lookup(): the metaservice `id` names ("SUBSYSTEM-ID/listMethods", ...):
 * a RegistryService with `meta` set, `owner` the subsystem, methods GET, no schema, right or
 * subject. Never in registry_services(), and registry_authorize() knows no right on it (the
 * metaservices are open to every registered client). NULL when the subsystem or the code is unknown.
 * registry_metaservice_from_code(): the metaservice a service code names, or REGISTRY_META_NONE.
 * registry_metaservice_name(): the code of one metaservice bit ("listMethods"), NULL otherwise.
 */
const RegistryService *registry_metaservice_lookup(const Registry *r, const char *id);
RegistryMetaservice registry_metaservice_from_code(const char *code);
const char *registry_metaservice_name(RegistryMetaservice m);

/*
 * registry_subsystem_by_cert(): the subsystem a verified TLS client
 * certificate identifies: first by pinned fingerprint, then by subject CN
 * (`cn` may be NULL). NULL when none matches.
 */
const RegistrySubsystem *registry_subsystem_by_cert(const Registry *r, const uint8_t fingerprint[32], const char *cn);

/*
 * registry_authorize(): find the access right that lets `client` call
 * `method` (a single REGISTRY_METHOD_* bit) on `path` ("/" when empty) of `service`,
 * directly or through a group. The path must match one of the service's
 * paths and one of the right's (registry_path_match()); pass it decoded and
 * without the query. Clients and services are compared by id, so pointers
 * from an older snapshot are safe. When several rights match, the first by
 * right id wins. `ret_right` may be NULL.
 * Return: 0 with *ret_right set, or REGISTRY_E_NO_RIGHT / REGISTRY_E_METHOD /
 * REGISTRY_E_PATH saying how close the nearest right came, or -EINVAL (no
 * client or service, or `method` not exactly one known bit).
 */
int registry_authorize(const Registry *r, const RegistrySubsystem *client, const RegistryService *service,
                       unsigned method, const char *path, const RegistryRight **ret_right);

/*
 * registry_right_allows_purpose(): whether the right lists `purpose`. A
 * consent right that lists no purpose allows any (the consent record's own
 * purpose then decides); a statute right always lists at least one.
 */
bool registry_right_allows_purpose(const RegistryRight *right, const char *purpose);

/*
 * registry_client_rights(): the rights `client` holds on `service`, directly or through a
 * group, by right id. *ret is a malloc'd array of pointers into `r` (free() it), NULL when
 * there is none. Return: the count, or -ENOMEM.
 */
ssize_t registry_client_rights(const Registry *r, const RegistrySubsystem *client, const RegistryService *service,
                               const RegistryRight ***ret);

/*
 * registry_path_match(): "/a/b" against a pattern ("*" or "{NAME}" one non-empty
 * segment, a final "**" zero or more segments; other segments compare exactly).
 * An empty path is "/", a trailing "/" is ignored. A path with an empty, "." or
 * ".." segment (also as %2e) never matches.
 */
bool registry_path_match(const char *pattern, const char *path);

/*
 * registry_pattern_covers(): whether every path `inner` matches, `outer` matches too
 * (both patterns; "{NAME}" is "*").
 */
bool registry_pattern_covers(const char *outer, const char *inner);

/*
 * registry_pattern_segment_name(): whether the segment of `len` bytes at `seg` is
 * a path parameter "{NAME}" (NAME an identifier segment); *ret_name points at NAME
 * and *ret_len is its length.
 */
bool registry_pattern_segment_name(const char *seg, size_t len, const char **ret_name, size_t *ret_len);

/*
 * registry_method_from_string(): "GET" -> REGISTRY_METHOD_GET, 0 when unknown
 * (case-sensitive, as HTTP). registry_method_to_string(): the reverse, NULL
 * unless exactly one known bit. registry_basis_to_string(): "statute", "consent".
 */
unsigned registry_method_from_string(const char *s);
const char *registry_method_to_string(unsigned method);
const char *registry_basis_to_string(RegistryBasis b);

/*
 * registry_adapter_key_known(): whether some subsystem lists the adapter key
 * `key` (Z85). registry_adapter_may_serve(): whether `service` exists and
 * its provider subsystem lists `key`. What the broker allows adapters.
 */
bool registry_adapter_key_known(const Registry *r, const char *key);
bool registry_adapter_may_serve(const Registry *r, const char *key, const char *service);

/* What registry_service_list() keeps (bits). */
enum {
        REGISTRY_LIST_SOAP = 1U << 0, /* only services offered over SOAP (soap-request-schema) */
};

/*
 * registry_service_list(): the services of the provider subsystem `provider` (an id), sorted
 * by id, as the metaservices list them: with `client` (may be NULL) only those it holds a
 * right on, directly or through a group, for any method or path (allowedMethods); `flags`
 * REGISTRY_LIST_*. *ret is a malloc'd array of pointers into `r` (free() it; the services
 * live while `r` is referenced), NULL when the list is empty.
 * Return: the count, or -ENOMEM.
 */
ssize_t registry_service_list(const Registry *r, const char *provider, const RegistrySubsystem *client, unsigned flags,
                              const RegistryService ***ret);

/*
 * registry_node_lookup(): the node [node ID]. registry_node_hosting(): the
 * node that hosts the subsystem `subsystem_id` (a subsystem has at most one),
 * NULL when none does (a single node's registry names no node).
 */
const RegistryNode *registry_node_lookup(const Registry *r, const char *id);
const RegistryNode *registry_node_hosting(const Registry *r, const char *subsystem_id);
/*
 * registry_node_by_fingerprint(): the node that pins the TLS certificate whose
 * SHA-256 (DER) is `fp` (32 bytes) in its tls-fingerprint, or NULL.
 * registry_node_by_kid(): the node whose receipt key has the RFC 7638
 * thumbprint `kid` (jws_verifier_kid()), or NULL: how a node finds itself.
 */
const RegistryNode *registry_node_by_fingerprint(const Registry *r, const uint8_t *fp);
const RegistryNode *registry_node_by_kid(const Registry *r, const char *kid);

/* Iteration, for the CLI and the demo: arrays sorted by id, valid while referenced. */
size_t registry_members(const Registry *r, const RegistryMember *const **ret);
size_t registry_subsystems(const Registry *r, const RegistrySubsystem *const **ret);
size_t registry_services(const Registry *r, const RegistryService *const **ret);
size_t registry_rights(const Registry *r, const RegistryRight *const **ret);
size_t registry_purposes(const Registry *r, const RegistryPurpose *const **ret);

/* registry_role_from_string(): "client" -> REGISTRY_ROLE_CLIENT, ...; 0 when unknown. */
unsigned registry_role_from_string(const char *s);

/*
 * What a reload changed (registry-diff.c), per kind of definition: the ids
 * added, removed, and changed (a definition with the same id whose keys or
 * values differ, in any order; what files it names, schemas and key files,
 * are not read again). The lists are malloc'd NULL-terminated strvs, sorted.
 */
typedef enum RegistryKind {
        REGISTRY_KIND_INSTANCE,
        REGISTRY_KIND_MEMBER,
        REGISTRY_KIND_SUBSYSTEM,
        REGISTRY_KIND_SERVICE,
        REGISTRY_KIND_GROUP,
        REGISTRY_KIND_PURPOSE,
        REGISTRY_KIND_RIGHT,
        REGISTRY_KIND_NODE,
        _REGISTRY_KIND_MAX,
} RegistryKind;

typedef struct RegistryChanges {
        char **added, **removed, **changed;
} RegistryChanges;

typedef struct RegistryDiff {
        RegistryChanges kinds[_REGISTRY_KIND_MAX];
        size_t n; /* ids listed in all */
} RegistryDiff;

/* registry_diff(): what changed from `old` to `new` into *ret (release with registry_diff_done()). Return: 0, -ENOMEM. */
int registry_diff(const Registry *old, const Registry *new, RegistryDiff *ret);
void registry_diff_done(RegistryDiff *d);
/* registry_kind_name(): "instance", "members", "subsystems", "services", "groups", "purposes", "rights", "nodes" (static). */
const char *registry_kind_name(RegistryKind k);

/*
 * registry_version(): a digest of every definition (its kind, id, keys and
 * values): the same for registries that define the same things, whatever
 * their files, comments or key order; different (but for a 2^-64 chance)
 * otherwise. Shown as 16 hex digits in the log and the metrics.
 */
uint64_t registry_version(const Registry *r);
size_t registry_nodes(const Registry *r, const RegistryNode *const **ret);
