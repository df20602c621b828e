/* registry-check.c: cross-checks of the parsed definitions, and the indexes built from them */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry-internal.h"
#include "crypto/keyfile.h"
#include "util/bytes.h"

#define report(l, sec, line, ...) ini_errors_add(&(l)->errors, (sec)->file, (line), __VA_ARGS__)

/* Whether a subsystem's roles were given correctly (else role checks would only repeat that error). */
static bool roles_known(const RegistrySubsystem *s)
{
        return ini_section_has(&container_of(s, SubsystemDef, pub)->sec, SUB_ROLES);
}

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
                        report(l, s, s->line, "duplicate %s '%s' (first defined at %s:%u)",
                               registry_section_types[t].name, def_id(t, v->items[i]), f->file, f->line);
                }
        }
}

static void check_required(Loader *l)
{
        for (size_t t = 0; t < _T_MAX; t++)
                for (size_t i = 0; i < l->r->defs[t].n; i++)
                        ini_section_check_required(def_sec(t, l->r->defs[t].items[i]), registry_section_types[t].items,
                                                   registry_section_types[t].n_items, &l->errors);
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

        if (registry_id_segments(id) != want) {
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
        if (instance &&
            (strlen(instance) != registry_id_prefix_len(id, 1) || !strneq(id, instance, strlen(instance)))) {
                report(l, s, s->line, "%s '%s' is not in instance '%s'", what, id, instance);
                return false;
        }
        return true;
}

static void check_local_id(Loader *l, const IniSection *s, const char *what, const char *id)
{
        if (!registry_token_valid(id))
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

/* The subsystem's adapter keys: as given, or from the file a reference names (only with a state folder). */
static int resolve_adapter_keys(Loader *l, SubsystemDef *d)
{
        size_t n = 0, ref = strlen(REGISTRY_KEY_REF);

        d->pub.adapter_keys = calloc(d->keys.n + 1, sizeof(char *));
        if (!d->pub.adapter_keys)
                return -ENOMEM;
        for (size_t i = 0; i < d->keys.n; i++) {
                const char *k = d->keys.ids[i];
                _cleanup_free_ char *path = NULL;
                char key[KEYFILE_CURVE_LEN + 1];
                int r;

                if (!strneq(k, REGISTRY_KEY_REF, ref)) {
                        snprintf(key, sizeof(key), "%s", k);
                } else if (!l->state_dir) {
                        continue;
                } else {
                        if (asprintf(&path, "%s/%s", l->state_dir, k + ref) < 0)
                                return -ENOMEM;
                        r = keyfile_curve_load(path, false, key);
                        if (r < 0) {
                                report(l, &d->sec, d->keys.lines[i], "adapter-key '%s': \"%s\": %s", k, path,
                                       r == -EINVAL ? "not a CURVE public key (40 characters of Z85)" : strerror(-r));
                                continue;
                        }
                }
                d->pub.adapter_keys[n] = strdup(key);
                if (!d->pub.adapter_keys[n++])
                        return -ENOMEM;
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
                if (resolve_adapter_keys(l, d) < 0)
                        return -ENOMEM;

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
                member = strndup(d->pub.id, registry_id_prefix_len(d->pub.id, 3));
                if (!member)
                        return -ENOMEM;
                d->pub.member = registry_member_lookup(l->r, member);
                if (!d->pub.member)
                        report(l, &d->sec, d->sec.line, "subsystem '%s': member '%s' is not defined", d->pub.id,
                               member);
        }
        return 0;
}

static int fingerprint_entry_compare(const void *a, const void *b)
{
        const FingerprintEntry *x = a, *y = b;
        int c = memcmp(x->fp, y->fp, 32);

        if (c != 0)
                return c;
        return x->subsystem->seq < y->subsystem->seq ? -1 : x->subsystem->seq > y->subsystem->seq;
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
                hex_encode(r->fingerprints[i].fp, 32, hex);
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

/* Where a service's requests carry the subject, and the person its answers name, must make sense together. */
static void check_subject(Loader *l, ServiceDef *d)
{
        const RegistryService *s = &d->pub;
        unsigned line = d->sec.lines[SVC_SUBJECT];
        char **p = s->paths;

        if (ini_section_has(&d->sec, SVC_SUBJECT) && !s->personal_data)
                report(l, &d->sec, line, "service '%s': subject needs personal-data = yes", s->id);
        while (s->subject.source == REGISTRY_SUBJECT_PATH && *p && !registry_path_match(*p, s->subject.where))
                p++;
        if (!*p)
                report(l, &d->sec, line, "service '%s': the subject's path template is not covered by its paths",
                       s->id);
        if (s->subject.source == REGISTRY_SUBJECT_BODY && ini_section_has(&d->sec, SVC_METHODS) &&
            !(s->methods & (REGISTRY_METHOD_POST | REGISTRY_METHOD_PUT | REGISTRY_METHOD_PATCH)))
                report(l, &d->sec, line, "service '%s': a subject in the body needs POST, PUT or PATCH", s->id);
        if (s->response_subject && s->soap_response_schema)
                report(l, &d->sec, d->sec.lines[SVC_RESPONSE_SUBJECT],
                       "service '%s': response-subject reads JSON answers, so the service cannot also answer over "
                       "SOAP (soap-response-schema)",
                       s->id);
}

static int check_services(Loader *l, const char *instance)
{
        DefVec *v = &l->r->defs[T_SERVICE];

        for (size_t i = 0; i < v->n; i++) {
                ServiceDef *d = v->items[i];
                _cleanup_free_ char *owner = NULL;

                if (!d->pub.paths && !(d->pub.paths = strv_copy((char *const[]){ "/**", NULL })))
                        return -ENOMEM;
                check_subject(l, d);
                registry_describe_check(l, d);

                if (!check_xroad_id(l, &d->sec, "service", d->pub.id, 5, instance))
                        continue;
                d->pub.code = strdup(strrchr(d->pub.id, '/') + 1);
                owner = strndup(d->pub.id, registry_id_prefix_len(d->pub.id, 4));
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
                qsort(d->pub.members, d->pub.n_members, sizeof(RegistrySubsystem *), registry_subsystem_ptr_compare);
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

                        for (unsigned bit = 1; bit & REGISTRY_METHODS_ALL; bit <<= 1)
                                if (extra & bit)
                                        report(l, &d->sec, d->sec.lines[RIGHT_METHODS],
                                               "right '%s': method %s is not offered by service '%s'", id,
                                               registry_method_to_string(bit), d->service);
                }

                if (!d->pub.paths && !(d->pub.paths = strv_copy((char *const[]){ "/**", NULL })))
                        return -ENOMEM;

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

                if (d->default_purpose) {
                        for (size_t k = 0; k < d->pub.n_purposes; k++)
                                if (streq(d->pub.purposes[k]->code, d->default_purpose))
                                        d->pub.default_purpose = d->pub.purposes[k];
                        if (!d->pub.default_purpose)
                                report(l, &d->sec, d->sec.lines[RIGHT_DEFAULT_PURPOSE],
                                       "right '%s': default-purpose '%s' is not one of its purposes", id,
                                       d->default_purpose);
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

int registry_check(Loader *l, const char *first_file)
{
        const char *instance;
        int k;

        check_required(l);
        instance = check_instance(l, first_file);
        if (instance && !registry_token_valid(instance))
                instance = NULL; /* already reported by the item parser */
        check_duplicates(l);
        if ((k = check_members(l, instance)) < 0 || (k = check_subsystems(l, instance)) < 0 ||
            (k = check_identities(l)) < 0 || (k = check_services(l, instance)) < 0)
                return k;
        check_purposes(l);
        if ((k = check_groups(l)) < 0 || (k = check_rights(l)) < 0 || (k = registry_check_nodes(l)) < 0)
                return k;
        return 0;
}

static int right_by_service_compare(const void *a, const void *b)
{
        const RegistryRight *const *x = a, *const *y = b;
        int c = strcmp((*x)->service->id, (*y)->service->id);

        return c != 0 ? c : strcmp((*x)->id, (*y)->id);
}

/* Build the views once the registry checked out. */
int registry_finish(Registry *r)
{
        DefVec *v;
        int k;

        r->members = calloc(MAX(r->defs[T_MEMBER].n, 1U), sizeof(RegistryMember *));
        r->subsystems = calloc(MAX(r->defs[T_SUBSYSTEM].n, 1U), sizeof(RegistrySubsystem *));
        r->services = calloc(MAX(r->defs[T_SERVICE].n, 1U), sizeof(RegistryService *));
        r->rights = calloc(MAX(r->defs[T_RIGHT].n, 1U), sizeof(RegistryRight *));
        r->rights_by_service = calloc(MAX(r->defs[T_RIGHT].n, 1U), sizeof(RegistryRight *));
        r->purposes = calloc(MAX(r->defs[T_PURPOSE].n, 1U), sizeof(RegistryPurpose *));
        if (!r->members || !r->subsystems || !r->services || !r->rights || !r->rights_by_service || !r->purposes)
                return -ENOMEM;

        v = &r->defs[T_MEMBER];
        for (size_t i = 0; i < v->n; i++)
                r->members[i] = &((MemberDef *)v->items[i])->pub;
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
        k = registry_metaservices_build(r);
        if (k < 0)
                return k;
        return registry_finish_nodes(r);
}
