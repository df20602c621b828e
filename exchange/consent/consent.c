/* consent.c: consent records (LMDB), artefact verification, the consent decision and use counting */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/rand.h>

#include "consent/consent.h"
#include "crypto/hash.h"
#include "crypto/jws.h"
#include "util/bytes.h"
#include "util/lmdb-util.h"
#include "util/strv.h"
#include "util/time-util.h"

#define VERIFIER_CACHE_MAX 64 /* distinct (authority, key) pairs kept compiled */
#define PENDING_MAX 8192      /* artefacts checked and not yet used, remembered for consent_use() */
#define ARTEFACT_PREFIX "jws:"
#define RECORD_FORMAT_VERSION 1
#define RECORD_MAX_SIZE (64U * 1024U)

typedef struct VerifierEntry {
        char *authority;
        char *jwk; /* the JWK text it was compiled from */
        JwsVerifier *verifier;
} VerifierEntry;

struct ConsentStore {
        MDB_env *env;
        MDB_dbi records, subjects, uses;
        const PseudonymKey *pseudonyms;

        pthread_mutex_t verifiers_lock;
        VerifierEntry verifiers[VERIFIER_CACHE_MAX];
        size_t n_verifiers;

        /* A ring of artefacts that passed consent_check() (newest at pending_next - 1). */
        pthread_mutex_t pending_lock;
        ConsentRecord *pending;
        size_t pending_next;
};

static const char *const reasons[_CONSENT_E_MAX] = {
        [CONSENT_E_UNKNOWN] = "unknown consent",     [CONSENT_E_EXPIRED] = "expired",
        [CONSENT_E_NOT_YET_VALID] = "not yet valid", [CONSENT_E_REVOKED] = "revoked",
        [CONSENT_E_EXHAUSTED] = "exhausted",         [CONSENT_E_SUBJECT] = "wrong subject",
        [CONSENT_E_GRANTEE] = "wrong grantee",       [CONSENT_E_SCOPE] = "out of scope",
        [CONSENT_E_PURPOSE] = "wrong purpose",       [CONSENT_E_SIGNATURE] = "bad signature",
};

const char *consent_reason(int code)
{
        if (code > 0 && code < _CONSENT_E_MAX && reasons[code])
                return reasons[code];
        return "internal error";
}

/* --- names and ids ------------------------------------------------------- */

static bool valid_name(const char *s)
{
        size_t n;

        if (isempty(s))
                return false;
        n = strlen(s);
        if (n > CONSENT_MAX_NAME)
                return false;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (*p < 0x21 || *p == 0x7f)
                        return false; /* no controls, no spaces: names are identifiers */
        return true;
}

static bool valid_jti(const char *s)
{
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > CONSENT_MAX_JTI)
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
                      *p == '_' || *p == '.'))
                        return false;
        return true;
}

static bool is_lower_hex(const char *s, size_t n)
{
        if (!s || strlen(s) != n)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

static bool valid_record_id(const char *id)
{
        return is_lower_hex(id, CONSENT_RECORD_ID_LEN);
}

/* "jws:<authority>:<jti>": authority a valid name without ':', jti as valid_jti(). */
static bool split_artefact_id(const char *id, char *authority, size_t size)
{
        const char *a, *colon;

        if (!id || strlen(id) >= CONSENT_ID_MAX || !strneq(id, ARTEFACT_PREFIX, strlen(ARTEFACT_PREFIX)))
                return false;
        a = id + strlen(ARTEFACT_PREFIX);
        colon = strrchr(a, ':');
        if (!colon || colon == a || (size_t)(colon - a) >= size || !valid_jti(colon + 1))
                return false;
        memcpy(authority, a, (size_t)(colon - a));
        authority[colon - a] = 0;
        return !strchr(authority, ':') && valid_name(authority);
}

bool consent_valid_id(const char *id)
{
        char authority[CONSENT_ID_MAX];

        return valid_record_id(id) || split_artefact_id(id, authority, sizeof(authority));
}

static int make_artefact_id(const char *authority, const char *jti, char out[CONSENT_ID_MAX])
{
        int n;

        if (!valid_name(authority) || strchr(authority, ':') || !valid_jti(jti))
                return -EINVAL;
        n = snprintf(out, CONSENT_ID_MAX, ARTEFACT_PREFIX "%s:%s", authority, jti);
        return n > 0 && n < CONSENT_ID_MAX ? 0 : -EINVAL;
}

/* 16 hex digits of the creation time (so ids sort by time) and 96 random bits. */
static int new_record_id(uint64_t now_usec, char out[CONSENT_RECORD_ID_LEN + 1])
{
        uint8_t b[20];

        be64_put(b, now_usec);
        if (RAND_bytes(b + 8, 12) != 1)
                return -EIO;
        hex_encode(b, sizeof(b), out);
        return 0;
}

/* --- records ------------------------------------------------------------- */

void consent_record_done(ConsentRecord *r)
{
        if (!r)
                return;
        free(r->id);
        free(r->subject);
        free(r->grantee);
        strv_free(r->services);
        strv_free(r->categories);
        free(r->purpose);
        free(r->authority);
        free(r->signature);
        *r = (ConsentRecord){};
}

static int dup_or_null(const char *s, char **ret)
{
        *ret = NULL;
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int record_copy(const ConsentRecord *in, ConsentRecord *ret)
{
        ConsentRecord c = *in;

        c.id = c.subject = c.grantee = c.purpose = c.authority = c.signature = NULL;
        c.services = c.categories = NULL;
        if (dup_or_null(in->id, &c.id) < 0 || dup_or_null(in->subject, &c.subject) < 0 ||
            dup_or_null(in->grantee, &c.grantee) < 0 || dup_or_null(in->purpose, &c.purpose) < 0 ||
            dup_or_null(in->authority, &c.authority) < 0 || dup_or_null(in->signature, &c.signature) < 0 ||
            !(c.services = strv_copy(in->services)) || !(c.categories = strv_copy(in->categories))) {
                consent_record_done(&c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

const char *consent_record_status(const ConsentRecord *r, uint64_t now_usec)
{
        if (r->status == CONSENT_STATUS_REVOKED)
                return "revoked";
        if (now_usec >= r->expires_usec)
                return "expired";
        if (r->max_uses && r->uses >= r->max_uses)
                return "exhausted";
        return "active";
}

static json_t *strv_to_json(char *const *l)
{
        json_t *a = json_array();

        for (; a && l && *l; l++)
                if (json_array_append_new(a, json_string(*l)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

static json_t *jstr(const char *s)
{
        return s ? json_string(s) : json_null();
}

static json_t *jtime(uint64_t usec)
{
        char buf[RFC3339_MAX];

        return usec ? json_string(format_rfc3339(usec, buf)) : json_null();
}

json_t *consent_record_to_json(const ConsentRecord *r, uint64_t now_usec)
{
        json_t *j = json_object();

        if (!j)
                return NULL;
        if (json_object_set_new(j, "id", jstr(r->id)) < 0 ||
            json_object_set_new(j, "status", json_string(consent_record_status(r, now_usec))) < 0 ||
            json_object_set_new(j, "subject_pseudonym", jstr(r->subject)) < 0 ||
            json_object_set_new(j, "grantee", jstr(r->grantee)) < 0 ||
            json_object_set_new(j, "services", strv_to_json(r->services)) < 0 ||
            json_object_set_new(j, "categories", strv_to_json(r->categories)) < 0 ||
            json_object_set_new(j, "purpose", jstr(r->purpose)) < 0 ||
            json_object_set_new(j, "authority", jstr(r->authority)) < 0 ||
            json_object_set_new(j, "created", jtime(r->created_usec)) < 0 ||
            json_object_set_new(j, "valid_from", jtime(r->valid_from_usec)) < 0 ||
            json_object_set_new(j, "expires", jtime(r->expires_usec)) < 0 ||
            json_object_set_new(j, "max_uses", r->max_uses ? json_integer((json_int_t)r->max_uses) : json_null()) < 0 ||
            json_object_set_new(j, "uses", json_integer((json_int_t)r->uses)) < 0 ||
            json_object_set_new(j, "revoked", jtime(r->revoked_usec)) < 0 ||
            json_object_set_new(j, "source", json_string(r->artefact ? "artefact" : "api")) < 0 ||
            json_object_set_new(j, "signature", jstr(r->signature)) < 0) {
                json_decref(j);
                return NULL;
        }
        return j;
}

/* The stored form (docs/consent.md): times as integer microseconds. */
static char *record_serialize(const ConsentRecord *r)
{
        _cleanup_(json_decrefp) json_t *j = json_object();

        if (!j)
                return NULL;
        if (json_object_set_new(j, "v", json_integer(RECORD_FORMAT_VERSION)) < 0 ||
            json_object_set_new(j, "id", jstr(r->id)) < 0 || json_object_set_new(j, "subject", jstr(r->subject)) < 0 ||
            json_object_set_new(j, "grantee", jstr(r->grantee)) < 0 ||
            json_object_set_new(j, "services", strv_to_json(r->services)) < 0 ||
            json_object_set_new(j, "categories", strv_to_json(r->categories)) < 0 ||
            json_object_set_new(j, "purpose", jstr(r->purpose)) < 0 ||
            json_object_set_new(j, "authority", jstr(r->authority)) < 0 ||
            json_object_set_new(j, "created_us", json_integer((json_int_t)r->created_usec)) < 0 ||
            json_object_set_new(j, "valid_from_us", json_integer((json_int_t)r->valid_from_usec)) < 0 ||
            json_object_set_new(j, "expires_us", json_integer((json_int_t)r->expires_usec)) < 0 ||
            json_object_set_new(j, "max_uses", json_integer((json_int_t)r->max_uses)) < 0 ||
            json_object_set_new(j, "status", json_string(r->status == CONSENT_STATUS_REVOKED ? "revoked" : "active")) <
                    0 ||
            json_object_set_new(j, "revoked_us", json_integer((json_int_t)r->revoked_usec)) < 0 ||
            json_object_set_new(j, "artefact", json_boolean(r->artefact)) < 0 ||
            json_object_set_new(j, "signature", jstr(r->signature)) < 0)
                return NULL;
        return json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

static int json_strv(json_t *a, char ***ret)
{
        size_t i;
        json_t *v;
        char **l;

        if (!json_is_array(a) || json_array_size(a) > CONSENT_MAX_SCOPE)
                return -EBADMSG;
        l = calloc(json_array_size(a) + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        json_array_foreach(a, i, v) {
                if (!json_is_string(v)) {
                        strv_free(l);
                        return -EBADMSG;
                }
                if (!(l[i] = strdup(json_string_value(v)))) {
                        strv_free(l);
                        return -ENOMEM;
                }
        }
        *ret = l;
        return 0;
}

static int json_opt_str(json_t *j, const char *key, char **ret)
{
        json_t *v = json_object_get(j, key);

        *ret = NULL;
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_string(v))
                return -EBADMSG;
        *ret = strdup(json_string_value(v));
        return *ret ? 0 : -ENOMEM;
}

static int json_u64(json_t *j, const char *key, uint64_t *ret)
{
        json_t *v = json_object_get(j, key);

        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return -EBADMSG;
        *ret = (uint64_t)json_integer_value(v);
        return 0;
}

static int record_parse(const void *data, size_t size, ConsentRecord *ret)
{
        _cleanup_(json_decrefp) json_t *j = json_loadb(data, size, JSON_REJECT_DUPLICATES, NULL);
        ConsentRecord r = {};
        const char *status;
        int e;

        if (!json_is_object(j))
                return -EBADMSG;
        status = json_string_value(json_object_get(j, "status"));
        if (!status)
                return -EBADMSG;
        r.status = streq(status, "revoked") ? CONSENT_STATUS_REVOKED : CONSENT_STATUS_ACTIVE;
        r.artefact = json_is_true(json_object_get(j, "artefact"));
        if ((e = json_opt_str(j, "id", &r.id)) < 0 || (e = json_opt_str(j, "subject", &r.subject)) < 0 ||
            (e = json_opt_str(j, "grantee", &r.grantee)) < 0 || (e = json_opt_str(j, "purpose", &r.purpose)) < 0 ||
            (e = json_opt_str(j, "authority", &r.authority)) < 0 ||
            (e = json_opt_str(j, "signature", &r.signature)) < 0 ||
            (e = json_strv(json_object_get(j, "services"), &r.services)) < 0 ||
            (e = json_strv(json_object_get(j, "categories"), &r.categories)) < 0 ||
            (e = json_u64(j, "created_us", &r.created_usec)) < 0 ||
            (e = json_u64(j, "valid_from_us", &r.valid_from_usec)) < 0 ||
            (e = json_u64(j, "expires_us", &r.expires_usec)) < 0 || (e = json_u64(j, "max_uses", &r.max_uses)) < 0 ||
            (e = json_u64(j, "revoked_us", &r.revoked_usec)) < 0 || !r.id) {
                consent_record_done(&r);
                return e < 0 ? e : -EBADMSG;
        }
        *ret = r;
        return 0;
}

/* --- the store ----------------------------------------------------------- */

/* The store's databases in `txn`, created when missing. */
static int txn_dbis(MDB_txn *txn, ConsentStore *s)
{
        int r = mdb_dbi_open(txn, "consents", MDB_CREATE, &s->records);

        if (!r)
                r = mdb_dbi_open(txn, "consent_subjects", MDB_CREATE, &s->subjects);
        if (!r)
                r = mdb_dbi_open(txn, "consent_uses", MDB_CREATE, &s->uses);
        return lmdb_to_errno(r);
}

int consent_store_open(ConsentStore **ret, MDB_env *env)
{
        _cleanup_(consent_store_freep) ConsentStore *s = NULL;
        MDB_txn *txn;
        int r;

        if (!ret || !env)
                return -EINVAL;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        pthread_mutex_init(&s->verifiers_lock, NULL);
        pthread_mutex_init(&s->pending_lock, NULL);
        s->env = env;
        s->pending = calloc(PENDING_MAX, sizeof(ConsentRecord));
        if (!s->pending)
                return -ENOMEM;
        r = mdb_txn_begin(env, NULL, 0, &txn);
        if (r)
                return lmdb_to_errno(r);
        r = txn_dbis(txn, s);
        if (r < 0) {
                mdb_txn_abort(txn);
                return r;
        }
        r = mdb_txn_commit(txn);
        if (r)
                return lmdb_to_errno(r);
        *ret = TAKE_PTR(s);
        return 0;
}

ConsentStore *consent_store_free(ConsentStore *s)
{
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_verifiers; i++) {
                free(s->verifiers[i].authority);
                free(s->verifiers[i].jwk);
                jws_verifier_free(s->verifiers[i].verifier);
        }
        if (s->pending)
                for (size_t i = 0; i < PENDING_MAX; i++)
                        consent_record_done(&s->pending[i]);
        free(s->pending);
        pthread_mutex_destroy(&s->verifiers_lock);
        pthread_mutex_destroy(&s->pending_lock);
        free(s);
        return NULL;
}

void consent_store_set_pseudonym_key(ConsentStore *s, const PseudonymKey *k)
{
        s->pseudonyms = k;
}

/* Read record `id` and its uses in `txn`. Return: 0, -ENOENT, -errno. */
static int txn_get_record(ConsentStore *s, MDB_txn *txn, const char *id, ConsentRecord *ret)
{
        MDB_val k = { .mv_size = strlen(id), .mv_data = (void *)id }, v;
        ConsentRecord rec;
        int r;

        r = mdb_get(txn, s->records, &k, &v);
        if (r)
                return lmdb_to_errno(r);
        r = record_parse(v.mv_data, v.mv_size, &rec);
        if (r < 0)
                return r;
        r = mdb_get(txn, s->uses, &k, &v);
        if (r == 0 && v.mv_size == 8)
                rec.uses = be64_get(v.mv_data);
        else if (r && r != MDB_NOTFOUND) {
                consent_record_done(&rec);
                return lmdb_to_errno(r);
        }
        *ret = rec;
        return 0;
}

/* Store `rec` (and index it under its subject); *ret_text (if not NULL) receives the stored text. */
static int txn_put_record(ConsentStore *s, MDB_txn *txn, const ConsentRecord *rec, bool index, char **ret_text)
{
        _cleanup_free_ char *text = record_serialize(rec);
        MDB_val k = { .mv_size = strlen(rec->id), .mv_data = rec->id }, v;
        uint8_t skey[32 + CONSENT_ID_MAX];
        int r;

        if (!text)
                return -ENOMEM;
        if (strlen(text) > RECORD_MAX_SIZE)
                return -E2BIG;
        v = (MDB_val){ .mv_size = strlen(text), .mv_data = text };
        r = mdb_put(txn, s->records, &k, &v, 0);
        if (r)
                return lmdb_to_errno(r);
        if (index && rec->subject) {
                if (hex_decode(rec->subject, skey, 32) < 0)
                        return -EINVAL;
                memcpy(skey + 32, rec->id, k.mv_size);
                k = (MDB_val){ .mv_size = 32 + k.mv_size, .mv_data = skey };
                v = (MDB_val){ .mv_size = 0, .mv_data = (void *)"" };
                r = mdb_put(txn, s->subjects, &k, &v, 0);
                if (r)
                        return lmdb_to_errno(r);
        }
        if (ret_text)
                *ret_text = TAKE_PTR(text);
        return 0;
}

static int txn_put_uses(ConsentStore *s, MDB_txn *txn, const char *id, uint64_t uses)
{
        MDB_val k = { .mv_size = strlen(id), .mv_data = (void *)id }, v;
        uint8_t b[8];

        be64_put(b, uses);
        v = (MDB_val){ .mv_size = 8, .mv_data = b };
        return lmdb_to_errno(mdb_put(txn, s->uses, &k, &v, 0));
}

/* How many records the subject has, counting up to `stop`. */
static int txn_count_subject(ConsentStore *s, MDB_txn *txn, const uint8_t pseudonym[32], size_t stop, size_t *ret)
{
        MDB_cursor *c;
        MDB_val k = { .mv_size = 32, .mv_data = (void *)pseudonym }, v;
        size_t n = 0;
        int r;

        r = mdb_cursor_open(txn, s->subjects, &c);
        if (r)
                return lmdb_to_errno(r);
        for (r = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); r == 0 && n < stop;
             r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
                if (k.mv_size < 32 || memcmp(k.mv_data, pseudonym, 32) != 0)
                        break;
                n++;
        }
        mdb_cursor_close(c);
        if (r && r != MDB_NOTFOUND)
                return lmdb_to_errno(r);
        *ret = n;
        return 0;
}

static bool valid_scope_list(char *const *l)
{
        for (; l && *l; l++)
                if (!valid_name(*l))
                        return false;
        return true;
}

int consent_create(ConsentStore *s, const ConsentRecord *in, uint64_t now_usec, ConsentRecord *ret)
{
        _cleanup_(lmdb_txn_abortp) MDB_txn *txn = NULL;
        ConsentRecord rec = {};
        char id[CONSENT_RECORD_ID_LEN + 1];
        uint8_t pseudonym[32];
        size_t n;
        int r;

        if (!s || !in)
                return -EINVAL;
        if (!is_lower_hex(in->subject, PSEUDONYM_HEX_LEN) || hex_decode(in->subject, pseudonym, 32) < 0 ||
            !valid_name(in->grantee) || !valid_name(in->purpose) || !valid_name(in->authority) ||
            strv_length(in->services) > CONSENT_MAX_SCOPE || strv_length(in->categories) > CONSENT_MAX_SCOPE ||
            strv_length(in->services) + strv_length(in->categories) == 0 || !valid_scope_list(in->services) ||
            !valid_scope_list(in->categories) || in->valid_from_usec >= in->expires_usec ||
            in->expires_usec <= now_usec || in->expires_usec - in->valid_from_usec > CONSENT_MAX_VALIDITY_USEC ||
            in->max_uses > CONSENT_MAX_USES)
                return -EINVAL;
        r = new_record_id(now_usec, id);
        if (r < 0)
                return r;

        r = record_copy(in, &rec);
        if (r < 0)
                return r;
        free(rec.id);
        rec.id = strdup(id);
        rec.signature = mfree(rec.signature);
        rec.created_usec = now_usec;
        rec.uses = 0;
        rec.status = CONSENT_STATUS_ACTIVE;
        rec.revoked_usec = 0;
        rec.artefact = false;
        if (!rec.id) {
                consent_record_done(&rec);
                return -ENOMEM;
        }

        r = lmdb_to_errno(mdb_txn_begin(s->env, NULL, 0, &txn));
        if (r == 0)
                r = txn_count_subject(s, txn, pseudonym, CONSENT_MAX_PER_SUBJECT, &n);
        if (r == 0 && n >= CONSENT_MAX_PER_SUBJECT)
                r = -E2BIG;
        if (r == 0)
                r = txn_put_record(s, txn, &rec, true, NULL);
        if (r == 0)
                r = lmdb_to_errno(mdb_txn_commit(TAKE_PTR(txn)));
        if (r < 0 || !ret)
                consent_record_done(&rec);
        else
                *ret = rec;
        return r;
}

int consent_get(ConsentStore *s, const char *id, ConsentRecord *ret)
{
        _cleanup_(lmdb_txn_abortp) MDB_txn *txn = NULL;
        int r;

        if (!consent_valid_id(id))
                return CONSENT_E_UNKNOWN;
        r = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
        if (r)
                return lmdb_to_errno(r);
        r = txn_get_record(s, txn, id, ret);
        return r == -ENOENT ? CONSENT_E_UNKNOWN : r;
}

int consent_revoke(ConsentStore *s, const char *id, const char *authority, uint64_t now_usec, ConsentRecord *ret)
{
        _cleanup_(lmdb_txn_abortp) MDB_txn *txn = NULL;
        char issuer[CONSENT_ID_MAX];
        ConsentRecord rec = {};
        int r;

        if (!consent_valid_id(id) || !valid_name(authority))
                return -EINVAL;
        r = mdb_txn_begin(s->env, NULL, 0, &txn);
        if (r)
                return lmdb_to_errno(r);
        r = txn_get_record(s, txn, id, &rec);
        if (r == -ENOENT) {
                /* An artefact not used yet: its authority may revoke it in advance. */
                if (!split_artefact_id(id, issuer, sizeof(issuer)) || !streq(issuer, authority))
                        return CONSENT_E_UNKNOWN;
                rec = (ConsentRecord){ .id = strdup(id),
                                       .authority = strdup(authority),
                                       .services = calloc(1, sizeof(char *)),
                                       .categories = calloc(1, sizeof(char *)),
                                       .artefact = true,
                                       .created_usec = now_usec };
                if (!rec.id || !rec.authority || !rec.services || !rec.categories) {
                        consent_record_done(&rec);
                        return -ENOMEM;
                }
        } else if (r < 0)
                return r;
        else if (!rec.authority || !streq(rec.authority, authority)) {
                consent_record_done(&rec);
                return CONSENT_E_UNKNOWN;
        }
        if (rec.status != CONSENT_STATUS_REVOKED) {
                rec.status = CONSENT_STATUS_REVOKED;
                rec.revoked_usec = now_usec;
                r = txn_put_record(s, txn, &rec, false, NULL);
                if (r == 0)
                        r = lmdb_to_errno(mdb_txn_commit(TAKE_PTR(txn)));
        } else
                r = 0;
        if (r < 0 || !ret)
                consent_record_done(&rec);
        else
                *ret = rec;
        return r;
}

int consent_list_subject(ConsentStore *s, const char *pseudonym, const char *after, ConsentRecord *ret, size_t max,
                         size_t *ret_n)
{
        _cleanup_(lmdb_txn_abortp) MDB_txn *txn = NULL;
        uint8_t key[32 + CONSENT_ID_MAX];
        MDB_cursor *c = NULL;
        MDB_val k, v;
        size_t n = 0;
        int r;

        if (!s || !ret || !ret_n || max > CONSENT_LIST_MAX || !is_lower_hex(pseudonym, PSEUDONYM_HEX_LEN) ||
            hex_decode(pseudonym, key, 32) < 0 || (after && !consent_valid_id(after)))
                return -EINVAL;
        r = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
        if (r)
                return lmdb_to_errno(r);
        r = mdb_cursor_open(txn, s->subjects, &c);
        if (r)
                return lmdb_to_errno(r);
        /* Start at the largest key below pseudonym||after (or pseudonym||0xff: the subject's last). */
        if (after) {
                memcpy(key + 32, after, strlen(after));
                k = (MDB_val){ .mv_size = 32 + strlen(after), .mv_data = key };
        } else {
                key[32] = 0xff;
                k = (MDB_val){ .mv_size = 33, .mv_data = key };
        }
        r = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
        if (r == 0)
                r = mdb_cursor_get(c, &k, &v, MDB_PREV);
        else if (r == MDB_NOTFOUND)
                r = mdb_cursor_get(c, &k, &v, MDB_LAST);
        for (; r == 0 && n < max; r = mdb_cursor_get(c, &k, &v, MDB_PREV)) {
                char id[CONSENT_ID_MAX];
                int e;

                if (k.mv_size <= 32 || k.mv_size - 32 >= CONSENT_ID_MAX || memcmp(k.mv_data, key, 32) != 0)
                        break;
                memcpy(id, (const uint8_t *)k.mv_data + 32, k.mv_size - 32);
                id[k.mv_size - 32] = 0;
                e = txn_get_record(s, txn, id, &ret[n]);
                if (e == -ENOENT)
                        continue;
                if (e < 0) {
                        r = 0;
                        mdb_cursor_close(c);
                        for (size_t i = 0; i < n; i++)
                                consent_record_done(&ret[i]);
                        return e;
                }
                n++;
        }
        mdb_cursor_close(c);
        if (r && r != MDB_NOTFOUND) {
                for (size_t i = 0; i < n; i++)
                        consent_record_done(&ret[i]);
                return lmdb_to_errno(r);
        }
        *ret_n = n;
        return 0;
}

/* --- artefacts ----------------------------------------------------------- */

/*
 * The verifier for `sub`'s registered key: compiled once per (authority, JWK
 * text) and kept until the store is freed, so a registry reload with a new
 * key simply adds an entry. Entries are never removed while the store lives,
 * so a borrowed pointer stays valid; past VERIFIER_CACHE_MAX keys a
 * temporary verifier is made (*ret_temp) and the caller frees it.
 */
static int get_verifier(ConsentStore *s, const RegistrySubsystem *sub, const JwsVerifier **ret, JwsVerifier **ret_temp)
{
        _cleanup_(json_decrefp) json_t *jwk = NULL;
        JwsVerifier *v = NULL;
        int r;

        *ret_temp = NULL;
        pthread_mutex_lock(&s->verifiers_lock);
        for (size_t i = 0; i < s->n_verifiers; i++)
                if (streq(s->verifiers[i].authority, sub->id) && streq(s->verifiers[i].jwk, sub->consent_jwk)) {
                        *ret = s->verifiers[i].verifier;
                        pthread_mutex_unlock(&s->verifiers_lock);
                        return 0;
                }
        pthread_mutex_unlock(&s->verifiers_lock);

        jwk = json_loads(sub->consent_jwk, JSON_REJECT_DUPLICATES, NULL);
        if (!jwk)
                return JWS_E_KEY;
        r = jws_verifier_new(&v, jwk);
        if (r != 0)
                return r;

        pthread_mutex_lock(&s->verifiers_lock);
        for (size_t i = 0; i < s->n_verifiers; i++)
                if (streq(s->verifiers[i].authority, sub->id) && streq(s->verifiers[i].jwk, sub->consent_jwk)) {
                        /* another thread compiled it meanwhile */
                        *ret = s->verifiers[i].verifier;
                        pthread_mutex_unlock(&s->verifiers_lock);
                        jws_verifier_free(v);
                        return 0;
                }
        if (s->n_verifiers < VERIFIER_CACHE_MAX) {
                VerifierEntry *e = &s->verifiers[s->n_verifiers];
                e->authority = strdup(sub->id);
                e->jwk = strdup(sub->consent_jwk);
                if (e->authority && e->jwk) {
                        e->verifier = v;
                        s->n_verifiers++;
                        *ret = v;
                        pthread_mutex_unlock(&s->verifiers_lock);
                        return 0;
                }
                e->authority = mfree(e->authority);
                e->jwk = mfree(e->jwk);
        }
        pthread_mutex_unlock(&s->verifiers_lock);
        *ret = v;
        *ret_temp = v;
        return 0;
}

/* "iss" of an artefact's payload, read before verification only to choose the key. */
static int peek_issuer(const char *jws, size_t len, char *out, size_t size)
{
        _cleanup_free_ uint8_t *buf = NULL;
        _cleanup_(json_decrefp) json_t *p = NULL;
        const char *d1 = memchr(jws, '.', len), *d2, *iss;
        long n;

        if (!d1)
                return -EINVAL;
        d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - jws));
        if (!d2 || d2 == d1 + 1)
                return -EINVAL;
        buf = malloc((size_t)(d2 - d1 - 1) * 3 / 4 + 1);
        if (!buf)
                return -ENOMEM;
        n = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), buf);
        if (n <= 0)
                return -EINVAL;
        p = json_loadb((const char *)buf, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
        iss = json_string_value(json_object_get(p, "iss"));
        if (!iss || strlen(iss) >= size)
                return -EINVAL;
        strcpy(out, iss);
        return 0;
}

/* A NumericDate claim (seconds, integer) as microseconds; `required` or absent (0). */
static int claim_time(json_t *payload, const char *name, bool required, uint64_t *ret)
{
        json_t *v = json_object_get(payload, name);

        if (!v) {
                *ret = 0;
                return required ? -EINVAL : 0;
        }
        if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
            (uint64_t)json_integer_value(v) > UINT64_MAX / USEC_PER_SEC / 2)
                return -EINVAL;
        *ret = (uint64_t)json_integer_value(v) * USEC_PER_SEC;
        return 0;
}

static int claim_strv(json_t *payload, const char *name, char ***ret)
{
        json_t *a = json_object_get(payload, name);
        int r;

        if (!a) {
                *ret = calloc(1, sizeof(char *));
                return *ret ? 0 : -ENOMEM;
        }
        r = json_strv(a, ret);
        if (r < 0)
                return r == -ENOMEM ? r : -EINVAL;
        if (!valid_scope_list(*ret)) {
                *ret = strv_free(*ret);
                return -EINVAL;
        }
        return 0;
}

/*
 * Verify an artefact and turn its claims into a record (docs/consent.md):
 * iss, jti, sub, grantee, services and/or categories, purpose, exp, and
 * optional nbf, iat, max_uses. Return: 0, CONSENT_E_SIGNATURE, -errno.
 */
static int artefact_verify(ConsentStore *s, const Registry *reg, const char *jws, ConsentRecord *ret)
{
        _cleanup_(json_decrefp) json_t *payload = NULL;
        _cleanup_(jws_verifier_freep) JwsVerifier *temp = NULL;
        const JwsVerifier *v = NULL;
        const RegistrySubsystem *auth;
        const char *jti, *sub, *grantee, *purpose, *iss, *sig;
        char issuer[CONSENT_ID_MAX], id[CONSENT_ID_MAX], pseudonym[PSEUDONYM_HEX_LEN + 1];
        ConsentRecord rec = {};
        json_t *mu;
        size_t len = strlen(jws);
        int r;

        if (len > JWS_COMPACT_MAX)
                return CONSENT_E_SIGNATURE;
        if (!s->pseudonyms)
                return -ENOKEY;
        r = peek_issuer(jws, len, issuer, sizeof(issuer));
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return CONSENT_E_SIGNATURE;
        auth = registry_subsystem_lookup(reg, issuer);
        if (!auth || !(auth->roles & REGISTRY_ROLE_CONSENT_AUTHORITY) || !auth->consent_jwk)
                return CONSENT_E_SIGNATURE;
        r = get_verifier(s, auth, &v, &temp);
        if (r < 0)
                return r;
        if (r > 0)
                return CONSENT_E_SIGNATURE; /* the registered key is unusable: nothing verifies */
        r = jws_verify_compact(v, jws, len, NULL, &payload);
        if (r < 0)
                return r;
        if (r > 0)
                return CONSENT_E_SIGNATURE;

        /* The verified claims. Anything malformed is an artefact the bus does not accept. */
        iss = json_string_value(json_object_get(payload, "iss"));
        jti = json_string_value(json_object_get(payload, "jti"));
        sub = json_string_value(json_object_get(payload, "sub"));
        grantee = json_string_value(json_object_get(payload, "grantee"));
        purpose = json_string_value(json_object_get(payload, "purpose"));
        mu = json_object_get(payload, "max_uses");
        if (!iss || !streq(iss, issuer) || !jti || !sub || strlen(sub) > 64 || !valid_name(grantee) ||
            !valid_name(purpose) || make_artefact_id(iss, jti, id) < 0 ||
            (mu && (!json_is_integer(mu) || json_integer_value(mu) < 1 ||
                    json_integer_value(mu) > (json_int_t)CONSENT_MAX_USES)))
                return CONSENT_E_SIGNATURE;
        r = pseudonym_compute(s->pseudonyms, sub, strlen(sub), pseudonym);
        if (r < 0)
                return r;
        sig = strrchr(jws, '.') + 1;
        rec = (ConsentRecord){ .id = strdup(id),
                               .subject = strdup(pseudonym),
                               .grantee = strdup(grantee),
                               .purpose = strdup(purpose),
                               .authority = strdup(iss),
                               .signature = strdup(sig),
                               .artefact = true,
                               .max_uses = mu ? (uint64_t)json_integer_value(mu) : 0 };
        if (!rec.id || !rec.subject || !rec.grantee || !rec.purpose || !rec.authority || !rec.signature) {
                consent_record_done(&rec);
                return -ENOMEM;
        }
        r = claim_strv(payload, "services", &rec.services);
        if (r == 0)
                r = claim_strv(payload, "categories", &rec.categories);
        if (r == 0 && strv_length(rec.services) + strv_length(rec.categories) == 0)
                r = -EINVAL;
        if (r == 0)
                r = claim_time(payload, "exp", true, &rec.expires_usec);
        if (r == 0)
                r = claim_time(payload, "nbf", false, &rec.valid_from_usec);
        if (r == 0)
                r = claim_time(payload, "iat", false, &rec.created_usec);
        if (r == 0 && (rec.valid_from_usec >= rec.expires_usec ||
                       rec.expires_usec - rec.valid_from_usec > CONSENT_MAX_VALIDITY_USEC))
                r = -EINVAL;
        if (r < 0) {
                consent_record_done(&rec);
                return r == -ENOMEM ? r : CONSENT_E_SIGNATURE;
        }
        *ret = rec;
        return 0;
}

/* Remember a verified artefact for consent_use() (a copy; the oldest is forgotten when full). */
static int pending_add(ConsentStore *s, const ConsentRecord *rec)
{
        ConsentRecord copy;
        int r;

        r = record_copy(rec, &copy);
        if (r < 0)
                return r;
        pthread_mutex_lock(&s->pending_lock);
        consent_record_done(&s->pending[s->pending_next]);
        s->pending[s->pending_next] = copy;
        s->pending_next = (s->pending_next + 1) % PENDING_MAX;
        pthread_mutex_unlock(&s->pending_lock);
        return 0;
}

/* The newest remembered artefact `id`, copied. Return: 0, -ENOENT, -ENOMEM. */
static int pending_find(ConsentStore *s, const char *id, ConsentRecord *ret)
{
        int r = -ENOENT;

        pthread_mutex_lock(&s->pending_lock);
        for (size_t i = 1; i <= PENDING_MAX; i++) {
                ConsentRecord *p = &s->pending[(s->pending_next + PENDING_MAX - i) % PENDING_MAX];
                if (!p->id)
                        break; /* never filled beyond here */
                if (streq(p->id, id)) {
                        r = record_copy(p, ret);
                        break;
                }
        }
        pthread_mutex_unlock(&s->pending_lock);
        return r;
}

/* --- the decision -------------------------------------------------------- */

static bool scope_matches(const ConsentRecord *rec, const RegistryService *svc)
{
        if (strv_contains(rec->services, svc->id))
                return true;
        for (char **c = svc->categories; c && *c; c++)
                if (strv_contains(rec->categories, *c))
                        return true;
        return false;
}

/* Status, window and uses at `now`. */
static int state_check(const ConsentRecord *rec, uint64_t now)
{
        if (rec->status == CONSENT_STATUS_REVOKED)
                return CONSENT_E_REVOKED;
        if (now < rec->valid_from_usec)
                return CONSENT_E_NOT_YET_VALID;
        if (now >= rec->expires_usec)
                return CONSENT_E_EXPIRED;
        if (rec->max_uses && rec->uses >= rec->max_uses)
                return CONSENT_E_EXHAUSTED;
        return 0;
}

static int match(const ConsentRecord *rec, const ConsentQuery *q)
{
        const RegistrySubsystem *c = q->client;

        if (!c || !rec->grantee ||
            !(streq(c->id, rec->grantee) || (c->member && c->member->id && streq(c->member->id, rec->grantee))))
                return CONSENT_E_GRANTEE;
        if (isempty(q->subject_pseudonym) || !rec->subject || strcasecmp(q->subject_pseudonym, rec->subject) != 0)
                return CONSENT_E_SUBJECT;
        if (!q->service || !scope_matches(rec, q->service))
                return CONSENT_E_SCOPE;
        if (isempty(q->purpose) || !rec->purpose || !streq(q->purpose, rec->purpose))
                return CONSENT_E_PURPOSE;
        return state_check(rec, q->now_usec);
}

int consent_check(ConsentStore *s, const Registry *reg, const ConsentQuery *q, char ret_id[CONSENT_ID_MAX])
{
        _cleanup_(lmdb_txn_abortp) MDB_txn *txn = NULL;
        ConsentRecord rec = {}, stored = {};
        bool artefact;
        int r;

        if (!s || !q)
                return -EINVAL;
        if (isempty(q->consent))
                return CONSENT_E_UNKNOWN;
        artefact = strchr(q->consent, '.') != NULL;
        if (artefact) {
                if (!reg)
                        return -EINVAL;
                r = artefact_verify(s, reg, q->consent, &rec);
                if (r != 0)
                        return r;
        } else if (!valid_record_id(q->consent))
                return CONSENT_E_UNKNOWN; /* artefact ids are not credentials: the artefact must be shown */

        r = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
        if (r) {
                consent_record_done(&rec);
                return lmdb_to_errno(r);
        }
        r = txn_get_record(s, txn, artefact ? rec.id : q->consent, &stored);
        if (r == -ENOENT && !artefact)
                return CONSENT_E_UNKNOWN;
        if (r < 0 && r != -ENOENT) {
                consent_record_done(&rec);
                return r;
        }
        if (artefact) {
                /* The artefact's own claims decide the match; the stored record (an earlier
                 * use, or a revocation in advance) adds its status and uses. */
                if (r == 0) {
                        rec.status = stored.status;
                        rec.revoked_usec = stored.revoked_usec;
                        rec.uses = stored.uses;
                        consent_record_done(&stored);
                }
        } else
                rec = stored;

        r = match(&rec, q);
        if (r == 0 && artefact)
                r = pending_add(s, &rec);
        /* Also on a refusal: the consent is identified (a record found, an artefact verified),
         * and the log entry should name it. */
        if (r >= 0)
                snprintf(ret_id, CONSENT_ID_MAX, "%s", rec.id);
        consent_record_done(&rec);
        return r;
}

int consent_use(ConsentStore *s, MDB_txn *txn, const char *id, uint64_t now_usec, ConsentUse *ret)
{
        ConsentRecord rec = {};
        _cleanup_free_ char *text = NULL;
        bool fresh = false;
        int r;

        if (!s || !txn || !consent_valid_id(id))
                return CONSENT_E_UNKNOWN;
        r = txn_get_record(s, txn, id, &rec);
        if (r == -ENOENT && !valid_record_id(id)) {
                r = pending_find(s, id, &rec);
                if (r == -ENOENT)
                        return CONSENT_E_UNKNOWN;
                fresh = true;
        } else if (r == -ENOENT)
                return CONSENT_E_UNKNOWN;
        if (r < 0)
                return r;
        if (fresh)
                rec.uses = 0;
        r = state_check(&rec, now_usec);
        if (r == 0 && fresh)
                r = txn_put_record(s, txn, &rec, true, ret ? &text : NULL);
        if (r == 0)
                r = txn_put_uses(s, txn, id, rec.uses + 1);
        if (r == 0 && ret)
                *ret = (ConsentUse){ .uses = rec.uses + 1, .record = TAKE_PTR(text) };
        consent_record_done(&rec);
        return r;
}

int consent_use_replay(MDB_txn *txn, const char *id, uint64_t uses, const char *record, size_t record_size)
{
        ConsentStore s = {};
        ConsentRecord rec = {};
        int r;

        if (!consent_valid_id(id))
                return -EBADMSG;
        r = txn_dbis(txn, &s);
        if (r < 0)
                return r;
        if (record) {
                r = record_parse(record, record_size, &rec);
                if (r < 0 || !rec.id || !streq(rec.id, id)) {
                        consent_record_done(&rec);
                        return r < 0 ? r : -EBADMSG;
                }
                r = txn_put_record(&s, txn, &rec, true, NULL);
                consent_record_done(&rec);
                if (r < 0)
                        return r;
        }
        return txn_put_uses(&s, txn, id, uses);
}
