/* registry-internal.h: what the pieces of the registry share (definitions as parsed, section table, loader) */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "registry.h"
#include "util/ini.h"
#include "validate/jsonschema.h"
#include "util/macro.h"

#define REGISTRY_FILES_MAX 1024U    /* files in one registry */
#define REGISTRY_SIZE_MAX MIB(64)   /* all files together */
#define REGISTRY_ID_SEGMENT_MAX 64U /* bytes in one identifier segment, and in local ids */
#define REGISTRY_CN_MAX 64U         /* X.509 upper bound for a common name */
#define REGISTRY_SCHEMA_PATH_MAX 255U
#define REGISTRY_TIMEOUT_MAX_MS (10U * 60U * 1000U)
#define REGISTRY_MESSAGE_SIZE_MAX MIB(1024)
#define REGISTRY_METASERVICES 4U /* the bits of RegistryMetaservice */

#define REGISTRY_METHODS_ALL                                                                       \
        (REGISTRY_METHOD_GET | REGISTRY_METHOD_HEAD | REGISTRY_METHOD_POST | REGISTRY_METHOD_PUT | \
         REGISTRY_METHOD_PATCH | REGISTRY_METHOD_DELETE | REGISTRY_METHOD_OPTIONS)

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
        char *schemas; /* its services' schema folder, relative to the folder of its file; or NULL */
} MemberDef;

typedef struct SubsystemDef {
        RegistrySubsystem pub;
        IniSection sec;
        size_t seq;
        FingerprintList fps;
        RefList keys; /* adapter-key values as given: keys and references */
} SubsystemDef;

/* The parameters a service declares, with the line of each (pub.parameters is the same array). */
typedef struct ParameterList {
        RegistryParameter *items;
        unsigned *lines;
        size_t n;
} ParameterList;

typedef struct ServiceDef {
        RegistryService pub;
        IniSection sec;
        size_t seq;
        ParameterList params;
        char *schemas; /* its schema folder, relative to the folder of its file; or NULL (its member's) */
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
        char *default_purpose;
} RightDef;

typedef struct NodeDef {
        RegistryNode pub;
        IniSection sec;
        size_t seq;
        char *member; /* as given */
        FingerprintList fps;
        char *tls_ca_path; /* as given: relative to the registry folder */
        RefList subsystems;
} NodeDef;

/* A subsystem and the node that hosts it (Registry.hosted, sorted by subsystem id). */
typedef struct HostedEntry {
        const char *subsystem;
        const RegistryNode *node;
} HostedEntry;

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
        T_NODE,
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
        const RegistryMember **members;
        const RegistrySubsystem **subsystems;
        const RegistryService **services;
        const RegistryRight **rights;
        const RegistryPurpose **purposes;
        const RegistryRight **rights_by_service; /* sorted by (service id, right id) */
        FingerprintEntry *fingerprints;          /* sorted by fingerprint */
        size_t n_fingerprints;
        const RegistrySubsystem **by_cn; /* subsystems with a tls-cn, sorted by it */
        size_t n_by_cn;
        RegistryService *metaservices; /* REGISTRY_METASERVICES per subsystem, in the order of `subsystems` */
        const RegistryNode **nodes;
        HostedEntry *hosted; /* which node hosts which subsystem */
        size_t n_hosted;
        struct RegistrySnapshot *snapshot; /* the signed snapshot it was loaded from, or NULL (registry-snapshot.h) */
};

/* ---- Section items: indexes into IniSection.lines, for checks that point at a key ----------- */

#define EXPECT_TEXT "a non-empty text"
#define EXPECT_TOKEN "letters, digits, '.', '_' or '-' (at most 64)"
#define EXPECT_ID "an identifier such as VN/GOV/BCA/population"
#define REGISTRY_KEY_REF "@state:" /* adapter-key = @state:PATH: the key in PATH under the node's state folder */

enum { INSTANCE_ID, INSTANCE_NAME, INSTANCE_SCHEMAS, INSTANCE_SCHEMA_BASE, INSTANCE_FORMATS };
enum { MEMBER_NAME, MEMBER_SCHEMAS };
enum {
        SUB_NAME,
        SUB_ROLES,
        SUB_TLS_CN,
        SUB_FINGERPRINT,
        SUB_ADAPTER_KEY,
        SUB_CONSENT_JWK,
        SUB_SOAP_SIGNED,
        SUB_ERROR_FORMAT,
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
        SVC_SUBJECT,
        SVC_RESPONSE_SUBJECT,
        SVC_PARAMETER,
        SVC_OPENAPI,
        SVC_SCHEMAS,
};
enum { GROUP_TITLE, GROUP_MEMBERS };
enum { PURPOSE_TITLE, PURPOSE_DESCRIPTION };
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
        RIGHT_DEFAULT_PURPOSE,
};
enum {
        NODE_MEMBER,
        NODE_ADDRESS,
        NODE_TLS_FINGERPRINT,
        NODE_TLS_CA,
        NODE_TLS_NAME,
        NODE_RECEIPT_KEY,
        NODE_CHECKPOINT_KEY,
        NODE_SUBSYSTEMS,
        _NODE_ITEM_MAX,
};

/* How a type of section becomes a definition, and how that definition is freed. */
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

/* One entry per type, indexed by T_*: how a section becomes a definition (registry-load.c). */
extern const SectionType registry_section_types[_T_MAX];

static inline IniSection *def_sec(size_t type, void *def)
{
        return (IniSection *)((uint8_t *)def + registry_section_types[type].offset_sec);
}

static inline size_t def_seq(size_t type, const void *def)
{
        return *(const size_t *)((const uint8_t *)def + registry_section_types[type].offset_seq);
}

static inline const char *def_id(size_t type, const void *def)
{
        return *(char *const *)((const uint8_t *)def + registry_section_types[type].offset_id);
}

typedef struct Loader {
        Registry *r;
        IniErrors errors;
        const char *dir;           /* the registry folder (schemas are found from it), or NULL */
        bool embedded;             /* `dir` names embedded files, or files of `files` */
        const RegistryFile *files; /* a snapshot's files, sorted by name: read instead of the embedded ones */
        size_t n_files;
        const char *schema_root; /* where the schemas are, instead of [instance] schemas (a snapshot's), or NULL */
        const char *state_dir;   /* adapter key references are read under it; NULL: checked for form only */
        size_t cur_type;
        void *cur; /* the definition keys go to, or NULL to skip them */
        size_t seq;
} Loader;

/* ---- registry-load.c: shared item parsers, and the loader ------------------------------------ */

/*
 * registry_loader_run(): parse and check `files` with the loader `l` (its
 * source set: dir, embedded, files, schema_root, state_dir); errors found
 * before may already be in l->errors; `where` is blamed for errors about
 * the whole set. Return: as registry_load_files(). The caller releases
 * l->errors.
 */
int registry_loader_run(Loader *l, const RegistryFile *files, size_t n_files, const char *where, Registry **ret,
                        char **ret_errors);

/* The IniItem parser of tls-fingerprint: appends to the FingerprintList at `dst`. */
int registry_item_fingerprints(const char *value, unsigned line, void *dst);
/* The IniItem parser of a non-empty list of ids: appends them, with their line, to the RefList at `dst`. */
int registry_item_refs(const char *value, unsigned line, void *dst);

/* ---- registry-node.c: [node] sections ------------------------------------------------------- */

extern const IniItem registry_node_items[_NODE_ITEM_MAX];
void registry_node_free(void *def);
/*
 * Check the nodes against the members and subsystems (a subsystem is hosted
 * by one node at most) and read each node's tls-ca. Errors go to l->errors.
 * Return: 0 or -ENOMEM.
 */
int registry_check_nodes(Loader *l);
/* Build the node views (registry_nodes(), registry_node_hosting()) of a registry that checked out. */
int registry_finish_nodes(Registry *r);

/* ---- registry-snapshot.c: what a registry keeps of the snapshot it was loaded from ----------- */

struct RegistrySnapshot *registry_snapshot_free(struct RegistrySnapshot *s);

/* ---- registry.c: the object, and the grammar of identifiers and paths ---------------------- */

/* Free `r` and everything it owns, whatever its reference count. Return: NULL. */
Registry *registry_free(Registry *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(Registry *, registry_free);

/* Whether `s` is a local id or one identifier segment: [A-Za-z0-9._-]{1,64}, not "." or "..". */
bool registry_token_valid(const char *s);
/* Number of valid "/"-separated segments of `id`, or 0 when a segment is invalid. */
size_t registry_id_segments(const char *id);
/* Length of the prefix of `id` made of its first `k` segments. */
size_t registry_id_prefix_len(const char *id, size_t k);
/* Whether `pattern` is a path pattern registry_path_match() accepts. */
bool registry_pattern_valid(const char *pattern);
/* Whether `s` is a JSON pointer (RFC 6901) naming a field. */
bool registry_json_pointer_valid(const char *s);
/* Whether `s` is a schema path relative to the schema root. */
bool registry_schema_path_valid(const char *s);
/* qsort()/bsearch() order of RegistrySubsystem pointers, by id. */
int registry_subsystem_ptr_compare(const void *a, const void *b);
/* Build the metaservices of every subsystem (registry_metaservice_lookup()). Return: 0 or -ENOMEM. */
int registry_metaservices_build(Registry *r);

/* ---- registry-check.c: cross-checks once every file is parsed ------------------------------ */

/*
 * Check the definitions parsed into l->r against each other and resolve their
 * references; `first_file` is blamed for a missing [instance]. Errors go to
 * l->errors. Return: 0 (even with errors reported) or -ENOMEM.
 */
int registry_check(Loader *l, const char *first_file);
/* Build the views of a registry that checked out. Return: 0 or -ENOMEM. */
int registry_finish(Registry *r);

/* ---- registry-schemas.c: JSON Schema and XSD files of the services ------------------------- */

/* Where a registry's schema files are, and the base URI their $ids and $refs use. */
typedef struct SchemaSource {
        const char *root;     /* normalised folder (embedded: a path prefix) */
        const char *fallback; /* the instance's folder, searched second when `root` is a provider's; or NULL */
        bool embedded;
        const RegistryFile *files; /* embedded: a snapshot's files instead of the compiled-in ones */
        size_t n_files;
        const char *base_uri;
} SchemaSource;

/*
 * registry_schema_file(): the bytes of the file `rel` (no ".." allowed) under the schema root (a
 * provider's folder, then the instance's):
 * *ret_data points into the embedded copy or into *ret_text (read; the caller frees it).
 * Return: 0, or -errno with *ret_why (a message; the caller frees it).
 */
int registry_schema_file(const SchemaSource *src, const char *rel, const char **ret_data, size_t *ret_size,
                         char **ret_text, char **ret_why);
/* registry_schema_read(): the JSON document `rel` under the schema root, or NULL with *ret_why. */
json_t *registry_schema_read(const SchemaSource *src, const char *rel, char **ret_why);

/*
 * Compile every schema the services name, found from l->dir. Errors go to
 * l->errors with the service's file and line. Return: 0 or -ENOMEM.
 */
int registry_schemas_compile(Loader *l);

/* ---- registry-describe.c: declared parameters, and the OpenAPI description of each service ---- */

/*
 * The IniItem parser of a service's "parameter" key: "path NAME [SCHEMA]" or "query NAME
 * [required] [SCHEMA]", appended to the ParameterList at `dst`. Return: 0, -EINVAL, -E2BIG, -ENOMEM.
 */
int registry_item_parameter(const char *value, unsigned line, void *dst);
/* Free what a ParameterList holds (the compiled schemas too); it is empty afterwards. */
void registry_parameters_done(ParameterList *l);
/* Check a service's paths, parameters and code against each other (before schemas are read). */
void registry_describe_check(Loader *l, ServiceDef *d);
/*
 * Compile the service's parameter schemas and make its description: the provider's OpenAPI
 * document (registry-openapi.c), or one generated from the entry. Errors go to l->errors.
 * Return: 0 or -ENOMEM.
 */
int registry_describe_compile(Loader *l, const SchemaSource *src, const JsonSchemaOptions *opts, ServiceDef *d);

/* ---- registry-openapi.c: the provider's own OpenAPI document ---------------------------------- */

/*
 * Read the document the service's `openapi` key names (JSON or YAML), check it (OpenAPI 3.0 or
 * 3.1, info, paths that the service serves with its methods), reduce every servers[].url to its
 * path, and keep it as the service's description in its own syntax. Errors go to l->errors.
 * Return: 0 or -ENOMEM.
 */
int registry_openapi_load(Loader *l, const SchemaSource *src, ServiceDef *d);
/*
 * registry_loader_read(): the bytes of the file `rel` (a relative path
 * without "..") of the registry folder, from where the loader reads: the
 * folder, the embedded files or a snapshot's files. *ret_data points into
 * the embedded or snapshot copy, or into *ret_text (read; the caller frees
 * it). Return: 0, or -errno with *ret_why (a message; the caller frees it);
 * -ENOENT with no message when the loader has no folder (registry_load_files()).
 */
int registry_loader_read(const Loader *l, const char *rel, size_t max, const char **ret_data, size_t *ret_size,
                         char **ret_text, char **ret_why);

/* registry_schema_root(): the schema folder of `r` loaded from the folder `dir` ([instance] schemas), malloc'd. */
char *registry_schema_root(const Registry *r, const char *dir);

/* registry_file_find(): the file named `name` in `files` (sorted by name, as a snapshot's), or NULL. */
const RegistryFile *registry_file_find(const RegistryFile *files, size_t n_files, const char *name);
