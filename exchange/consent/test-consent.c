/* test-consent.c: consent records, artefacts, every refusal, use counting under the log writer, the API */
#include <assert.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include "tests/support/test-util.h"
#include "api/consent-api.h"
#include "consent/consent.h"
#include "crypto/hash.h"
#include "crypto/jws.h"
#include "crypto/signer.h"
#include "log/exlog.h"
#include "util/time-util.h"

static unsigned n_checks, n_failed;

#define CHECK(cond)                                                                        \
        do {                                                                               \
                n_checks++;                                                                \
                if (!(cond)) {                                                             \
                        n_failed++;                                                        \
                        fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); \
                }                                                                          \
        } while (0)

#define AUTH "VN/GOV/VPCP/portal"
#define AUTH2 "VN/GOV/VPCP/second-portal"
#define OSS "VN/GOV/HN/oss"
#define OSS2 "VN/GOV/HN/oss-2" /* same member as OSS */
#define BANK "VN/COM/BANK/kyc"
#define LAND "VN/GOV/BTNMT/land/parcels"
#define CITIZEN "VN/GOV/BTNMT/land/owners" /* category "land" too */
#define TAX "VN/GOV/BTNMT/land/tax"        /* category "tax" only */
#define PURPOSE "public-service-delivery"
#define SEC USEC_PER_SEC

static ExchangeLog *xlog;
static ConsentStore *store;
static PseudonymKey *pkey;
static Registry *reg;
static EVP_PKEY *auth_key, *rogue_key;
static Signer *auth_signer;
static uint64_t now;
static char subj[PSEUDONYM_HEX_LEN + 1], other_subj[PSEUDONYM_HEX_LEN + 1];

static void pseudo(const char *id, char out[PSEUDONYM_HEX_LEN + 1])
{
        assert(pseudonym_compute(pkey, id, strlen(id), out) == 0);
}

/* --- setup --------------------------------------------------------------- */

static void load_registry(void)
{
        _cleanup_(json_decrefp) json_t *jwk = signer_public_jwk(auth_signer);
        _cleanup_free_ char *jwk_text = json_dumps(jwk, JSON_COMPACT), *text = NULL, *errors = NULL;
        RegistryFile f;

        assert(jwk_text);
        assert(asprintf(&text,
                        "[instance]\nid = VN\nname = T\n"
                        "[member VN/GOV/HN]\nname = HN\n[member VN/COM/BANK]\nname = Bank\n"
                        "[member VN/GOV/BTNMT]\nname = Land\n[member VN/GOV/VPCP]\nname = Gov office\n"
                        "[subsystem " OSS "]\nname = oss\nroles = client\n"
                        "[subsystem " OSS2 "]\nname = oss2\nroles = client\n"
                        "[subsystem " BANK "]\nname = bank\nroles = client\n"
                        "[subsystem VN/GOV/BTNMT/land]\nname = land\nroles = provider\n"
                        "[subsystem " AUTH "]\nname = portal\nroles = consent-authority\nconsent-jwk = %s\n"
                        "[subsystem " AUTH2 "]\nname = portal without a key\nroles = consent-authority\n"
                        "[service " LAND "]\ntitle = parcels\nmethods = GET\npersonal-data = yes\n"
                        "categories = land, property\nadapter = sample\n"
                        "[service " CITIZEN "]\ntitle = owners\nmethods = GET\npersonal-data = yes\n"
                        "categories = land\nadapter = sample\n"
                        "[service " TAX "]\ntitle = tax\nmethods = GET\npersonal-data = yes\n"
                        "categories = tax\nadapter = sample\n"
                        "[purpose " PURPOSE "]\ntitle = P\n[purpose loan-application]\ntitle = L\n"
                        "[right r]\nclient = " OSS "\nservice = " LAND "\nmethods = GET\nbasis = consent\n",
                        jwk_text) > 0);
        f = (RegistryFile){ .name = "t.conf", .text = text, .size = strlen(text) };
        if (registry_load_files(&reg, &f, 1, &errors) != 0) {
                fprintf(stderr, "registry: %s\n", strempty(errors));
                abort();
        }
}

static const RegistrySubsystem *sub(const char *id)
{
        const RegistrySubsystem *s = registry_subsystem_lookup(reg, id);
        assert(s);
        return s;
}

static const RegistryService *svc(const char *id)
{
        const RegistryService *s = registry_service_lookup(reg, id);
        assert(s);
        return s;
}

/* A record for subject `subj` granted to OSS for LAND by AUTH, valid now for an hour. */
static ConsentRecord base(char **services, char **categories)
{
        return (ConsentRecord){ .subject = subj,
                                .grantee = (char *)OSS,
                                .services = services,
                                .categories = categories,
                                .purpose = (char *)PURPOSE,
                                .authority = (char *)AUTH,
                                .valid_from_usec = now - 60 * SEC,
                                .expires_usec = now + 3600 * SEC };
}

static char *land_only[] = { (char *)LAND, NULL };
static char *no_names[] = { NULL };
static char *cat_land[] = { (char *)"land", NULL };

static void create(const ConsentRecord *in, char id[CONSENT_ID_MAX])
{
        ConsentRecord out = {};
        int r = consent_create(store, in, now, &out);
        CHECK(r == 0);
        if (r == 0) {
                snprintf(id, CONSENT_ID_MAX, "%s", out.id);
                consent_record_done(&out);
        }
}

static int check_as(const char *consent, const char *client, const char *service, const char *subject,
                    const char *purpose, uint64_t at)
{
        char id[CONSENT_ID_MAX] = "";
        return consent_check(store, reg,
                             &(ConsentQuery){ .consent = consent,
                                              .subject_pseudonym = subject,
                                              .client = client ? sub(client) : NULL,
                                              .service = service ? svc(service) : NULL,
                                              .purpose = purpose,
                                              .now_usec = at },
                             id);
}

static int check(const char *consent)
{
        return check_as(consent, OSS, LAND, subj, PURPOSE, now);
}

/* One use in its own write transaction (as the log writer does in an entry's). */
static int use(const char *id, uint64_t at)
{
        MDB_txn *txn;
        int r;

        assert(mdb_txn_begin(exlog_env(xlog), NULL, 0, &txn) == 0);
        r = consent_use(store, txn, id, at, NULL);
        if (r == 0)
                assert(mdb_txn_commit(txn) == 0);
        else
                mdb_txn_abort(txn);
        return r;
}

/* --- records ------------------------------------------------------------- */

static void test_reasons(void)
{
        CHECK(streq(consent_reason(CONSENT_E_EXPIRED), "expired"));
        CHECK(streq(consent_reason(CONSENT_E_REVOKED), "revoked"));
        CHECK(streq(consent_reason(CONSENT_E_EXHAUSTED), "exhausted"));
        CHECK(streq(consent_reason(CONSENT_E_SUBJECT), "wrong subject"));
        CHECK(streq(consent_reason(CONSENT_E_GRANTEE), "wrong grantee"));
        CHECK(streq(consent_reason(CONSENT_E_SCOPE), "out of scope"));
        CHECK(streq(consent_reason(CONSENT_E_PURPOSE), "wrong purpose"));
        CHECK(streq(consent_reason(CONSENT_E_SIGNATURE), "bad signature"));
        CHECK(streq(consent_reason(CONSENT_E_UNKNOWN), "unknown consent"));
        CHECK(streq(consent_reason(CONSENT_E_NOT_YET_VALID), "not yet valid"));
        CHECK(streq(consent_reason(0), "internal error"));
        CHECK(streq(consent_reason(-EIO), "internal error"));
        CHECK(streq(consent_reason(_CONSENT_E_MAX), "internal error"));
}

static void test_create_refusals(void)
{
        char *many[CONSENT_MAX_SCOPE + 2];
        ConsentRecord in;

        in = base(land_only, no_names);
        in.subject = (char *)"001090000001"; /* a raw id, not a pseudonym */
        CHECK(consent_create(store, &in, now, NULL) == -EINVAL);
        in = base(no_names, no_names);
        CHECK(consent_create(store, &in, now, NULL) == -EINVAL);
        in = base(land_only, no_names);
        in.expires_usec = now - SEC;
        in.valid_from_usec = now - 2 * SEC;
        CHECK(consent_create(store, &in, now, NULL) == -EINVAL);
        in = base(land_only, no_names);
        in.valid_from_usec = in.expires_usec;
        CHECK(consent_create(store, &in, now, NULL) == -EINVAL);
        in = base(land_only, no_names);
        in.expires_usec = in.valid_from_usec + CONSENT_MAX_VALIDITY_USEC + 1;
        CHECK(consent_create(store, &in, now, NULL) == -EINVAL);
        in = base(land_only, no_names);
        in.max_uses = CONSENT_MAX_USES + 1;
        CHECK(consent_create(store, &in, now, NULL) == -EINVAL);
        in = base(land_only, no_names);
        in.grantee = (char *)"VN/GOV/HN/oss with space";
        CHECK(consent_create(store, &in, now, NULL) == -EINVAL);
        in = base(land_only, no_names);
        in.purpose = NULL;
        CHECK(consent_create(store, &in, now, NULL) == -EINVAL);
        for (size_t i = 0; i < CONSENT_MAX_SCOPE + 1; i++)
                many[i] = (char *)LAND;
        many[CONSENT_MAX_SCOPE + 1] = NULL;
        in = base(many, no_names);
        CHECK(consent_create(store, &in, now, NULL) == -EINVAL);
        many[CONSENT_MAX_SCOPE] = NULL;
        in = base(many, no_names);
        CHECK(consent_create(store, &in, now, NULL) == 0);
}

static void test_records(void)
{
        char id[CONSENT_ID_MAX], id2[CONSENT_ID_MAX], idm[CONSENT_ID_MAX], idc[CONSENT_ID_MAX];
        char got[CONSENT_ID_MAX] = "";
        ConsentRecord in, rec = {};

        in = base(land_only, no_names);
        create(&in, id);
        CHECK(strlen(id) == CONSENT_RECORD_ID_LEN && consent_valid_id(id));
        CHECK(consent_get(store, id, &rec) == 0);
        CHECK(rec.id && streq(rec.id, id) && streq(rec.subject, subj) && streq(rec.grantee, OSS) &&
              streq(rec.authority, AUTH) && rec.services && streq(rec.services[0], LAND) && !rec.services[1] &&
              rec.categories && !rec.categories[0] && rec.created_usec == now && rec.uses == 0 &&
              rec.status == CONSENT_STATUS_ACTIVE && !rec.artefact && !rec.signature);
        CHECK(streq(consent_record_status(&rec, now), "active"));
        CHECK(streq(consent_record_status(&rec, now + 7200 * SEC), "expired"));
        {
                _cleanup_(json_decrefp) json_t *j = consent_record_to_json(&rec, now);
                CHECK(j && streq(json_string_value(json_object_get(j, "status")), "active") &&
                      streq(json_string_value(json_object_get(j, "source")), "api") &&
                      json_is_null(json_object_get(j, "max_uses")) &&
                      json_integer_value(json_object_get(j, "uses")) == 0 &&
                      json_is_string(json_object_get(j, "expires")));
        }
        consent_record_done(&rec);

        /* allowed, and the id comes back */
        CHECK(consent_check(store, reg,
                            &(ConsentQuery){ .consent = id,
                                             .subject_pseudonym = subj,
                                             .client = sub(OSS),
                                             .service = svc(LAND),
                                             .purpose = PURPOSE,
                                             .now_usec = now },
                            got) == 0);
        CHECK(streq(got, id));

        /* every refusal, one fact wrong at a time */
        CHECK(check("0123456789abcdef0123456789abcdef01234567") == CONSENT_E_UNKNOWN);
        CHECK(check("not-an-id") == CONSENT_E_UNKNOWN);
        CHECK(check("") == CONSENT_E_UNKNOWN);
        CHECK(check(NULL) == CONSENT_E_UNKNOWN);
        CHECK(check_as(id, BANK, LAND, subj, PURPOSE, now) == CONSENT_E_GRANTEE);
        /* a refusal names the consent it identified; an unknown one leaves ret_id alone */
        got[0] = 0;
        CHECK(consent_check(store, reg,
                            &(ConsentQuery){ .consent = id,
                                             .subject_pseudonym = subj,
                                             .client = sub(BANK),
                                             .service = svc(LAND),
                                             .purpose = PURPOSE,
                                             .now_usec = now },
                            got) == CONSENT_E_GRANTEE &&
              streq(got, id));
        strcpy(got, "untouched");
        CHECK(consent_check(store, reg,
                            &(ConsentQuery){ .consent = "0123456789abcdef0123456789abcdef01234567",
                                             .subject_pseudonym = subj,
                                             .client = sub(OSS),
                                             .service = svc(LAND),
                                             .purpose = PURPOSE,
                                             .now_usec = now },
                            got) == CONSENT_E_UNKNOWN &&
              streq(got, "untouched"));
        CHECK(check_as(id, OSS2, LAND, subj, PURPOSE, now) == CONSENT_E_GRANTEE);
        CHECK(check_as(id, NULL, LAND, subj, PURPOSE, now) == CONSENT_E_GRANTEE);
        CHECK(check_as(id, OSS, LAND, other_subj, PURPOSE, now) == CONSENT_E_SUBJECT);
        CHECK(check_as(id, OSS, LAND, NULL, PURPOSE, now) == CONSENT_E_SUBJECT);
        CHECK(check_as(id, OSS, CITIZEN, subj, PURPOSE, now) == CONSENT_E_SCOPE);
        CHECK(check_as(id, OSS, NULL, subj, PURPOSE, now) == CONSENT_E_SCOPE);
        CHECK(check_as(id, OSS, LAND, subj, "loan-application", now) == CONSENT_E_PURPOSE);
        CHECK(check_as(id, OSS, LAND, subj, NULL, now) == CONSENT_E_PURPOSE);
        /* the validity window: [valid_from, expires) */
        CHECK(check_as(id, OSS, LAND, subj, PURPOSE, now - 60 * SEC - 1) == CONSENT_E_NOT_YET_VALID);
        CHECK(check_as(id, OSS, LAND, subj, PURPOSE, now - 60 * SEC) == 0);
        CHECK(check_as(id, OSS, LAND, subj, PURPOSE, now + 3600 * SEC - 1) == 0);
        CHECK(check_as(id, OSS, LAND, subj, PURPOSE, now + 3600 * SEC) == CONSENT_E_EXPIRED);
        CHECK(use(id, now + 3600 * SEC) == CONSENT_E_EXPIRED);
        CHECK(use(id, now - 61 * SEC) == CONSENT_E_NOT_YET_VALID);

        /* a member as grantee covers all its subsystems; categories cover services */
        in = base(no_names, cat_land);
        in.grantee = (char *)"VN/GOV/HN";
        create(&in, idc);
        CHECK(check_as(idc, OSS2, LAND, subj, PURPOSE, now) == 0);
        CHECK(check_as(idc, OSS, CITIZEN, subj, PURPOSE, now) == 0);
        CHECK(check_as(idc, OSS, TAX, subj, PURPOSE, now) == CONSENT_E_SCOPE);
        CHECK(check_as(idc, BANK, LAND, subj, PURPOSE, now) == CONSENT_E_GRANTEE);

        /* unlimited uses are counted too */
        CHECK(use(id, now) == 0 && use(id, now) == 0);
        CHECK(consent_get(store, id, &rec) == 0 && rec.uses == 2);
        consent_record_done(&rec);
        CHECK(use("0123456789abcdef0123456789abcdef01234567", now) == CONSENT_E_UNKNOWN);
        CHECK(use("garbage", now) == CONSENT_E_UNKNOWN);

        /* use limit */
        in = base(land_only, no_names);
        in.max_uses = 2;
        create(&in, idm);
        CHECK(check(idm) == 0 && use(idm, now) == 0);
        CHECK(check(idm) == 0 && use(idm, now) == 0);
        CHECK(check(idm) == CONSENT_E_EXHAUSTED);
        CHECK(use(idm, now) == CONSENT_E_EXHAUSTED);
        CHECK(consent_get(store, idm, &rec) == 0 && rec.uses == 2);
        CHECK(streq(consent_record_status(&rec, now), "exhausted"));
        consent_record_done(&rec);
        /* an aborted transaction does not count */
        {
                ConsentRecord in3 = base(land_only, no_names);
                char id3[CONSENT_ID_MAX];
                MDB_txn *txn;
                in3.max_uses = 1;
                create(&in3, id3);
                assert(mdb_txn_begin(exlog_env(xlog), NULL, 0, &txn) == 0);
                CHECK(consent_use(store, txn, id3, now, NULL) == 0);
                CHECK(consent_use(store, txn, id3, now, NULL) == CONSENT_E_EXHAUSTED); /* same transaction */
                mdb_txn_abort(txn);
                CHECK(check(id3) == 0);
        }

        /* revocation: only by the issuing authority; idempotent */
        in = base(land_only, no_names);
        create(&in, id2);
        CHECK(consent_revoke(store, id2, AUTH2, now, NULL) == CONSENT_E_UNKNOWN);
        CHECK(check(id2) == 0);
        CHECK(consent_revoke(store, id2, AUTH, now + SEC, &rec) == 0);
        CHECK(rec.status == CONSENT_STATUS_REVOKED && rec.revoked_usec == now + SEC);
        consent_record_done(&rec);
        CHECK(consent_revoke(store, id2, AUTH, now + 5 * SEC, &rec) == 0 && rec.revoked_usec == now + SEC);
        consent_record_done(&rec);
        CHECK(check(id2) == CONSENT_E_REVOKED);
        CHECK(use(id2, now) == CONSENT_E_REVOKED);
        CHECK(consent_get(store, id2, &rec) == 0 && streq(consent_record_status(&rec, now), "revoked"));
        consent_record_done(&rec);
        /* the match comes first: someone else's revoked consent is "wrong grantee", not "revoked" */
        CHECK(check_as(id2, BANK, LAND, subj, PURPOSE, now) == CONSENT_E_GRANTEE);
        CHECK(consent_revoke(store, "0123456789abcdef0123456789abcdef01234567", AUTH, now, NULL) == CONSENT_E_UNKNOWN);
        CHECK(consent_revoke(store, "bad id", AUTH, now, NULL) == -EINVAL);
        CHECK(consent_get(store, "0123456789abcdef0123456789abcdef01234567", &rec) == CONSENT_E_UNKNOWN);
}

static void test_list(void)
{
        char s3[PSEUDONYM_HEX_LEN + 1], ids[5][CONSENT_ID_MAX];
        ConsentRecord recs[3];
        size_t n = 0;

        pseudo("list-subject", s3);
        for (int i = 0; i < 5; i++) {
                ConsentRecord in = base(land_only, no_names);
                in.subject = s3;
                now++; /* distinct creation times: ids sort by time */
                create(&in, ids[i]);
        }
        CHECK(consent_list_subject(store, s3, NULL, recs, 3, &n) == 0 && n == 3);
        CHECK(n == 3 && streq(recs[0].id, ids[4]) && streq(recs[1].id, ids[3]) && streq(recs[2].id, ids[2]));
        for (size_t i = 0; i < n; i++)
                consent_record_done(&recs[i]);
        CHECK(consent_list_subject(store, s3, ids[2], recs, 3, &n) == 0 && n == 2);
        CHECK(n == 2 && streq(recs[0].id, ids[1]) && streq(recs[1].id, ids[0]));
        for (size_t i = 0; i < n; i++)
                consent_record_done(&recs[i]);
        CHECK(consent_list_subject(store, s3, ids[0], recs, 3, &n) == 0 && n == 0);
        pseudo("nobody", s3);
        CHECK(consent_list_subject(store, s3, NULL, recs, 3, &n) == 0 && n == 0);
        CHECK(consent_list_subject(store, "xyz", NULL, recs, 3, &n) == -EINVAL);
        CHECK(consent_list_subject(store, s3, NULL, recs, CONSENT_LIST_MAX + 1, &n) == -EINVAL);
}

/* --- artefacts ----------------------------------------------------------- */

static char *b64(const void *data, size_t size)
{
        char *s = malloc(b64url_encoded_len(size) + 1);
        assert(s);
        b64url_encode(data, size, s);
        return s;
}

/* A compact JWS with any header, ES256-signed by `k`. */
static char *sign_with(EVP_PKEY *k, const char *hdr, const char *payload)
{
        _cleanup_free_ char *h = b64(hdr, strlen(hdr)), *p = b64(payload, strlen(payload)), *input = NULL, *s = NULL;
        uint8_t der[128], raw[64] = {};
        size_t n = sizeof(der);
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        const unsigned char *dp = der;
        ECDSA_SIG *sig;
        char *out;

        assert(asprintf(&input, "%s.%s", h, p) > 0);
        assert(ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k) == 1);
        assert(EVP_DigestSign(ctx, der, &n, (const uint8_t *)input, strlen(input)) == 1);
        EVP_MD_CTX_free(ctx);
        sig = d2i_ECDSA_SIG(NULL, &dp, (long)n);
        assert(sig);
        BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32);
        ECDSA_SIG_free(sig);
        s = b64(raw, 64);
        assert(asprintf(&out, "%s.%s", input, s) > 0);
        return out;
}

#define HDR "{\"alg\":\"ES256\",\"typ\":\"xbus-consent+jws\"}"

/* Claims with one member replaced/added ("extra" is inserted verbatim, may be ""). */
static char *claims(const char *iss, const char *jti, const char *subject, const char *grantee, const char *scope,
                    const char *purpose, int64_t nbf, int64_t exp, const char *extra)
{
        char *p;
        assert(asprintf(&p,
                        "{\"iss\":\"%s\",\"jti\":\"%s\",\"sub\":\"%s\",\"grantee\":\"%s\",%s,\"purpose\":\"%s\","
                        "\"nbf\":%" PRId64 ",\"exp\":%" PRId64 "%s}",
                        iss, jti, subject, grantee, scope, purpose, nbf, exp, extra) > 0);
        return p;
}

static char *artefact(const char *jti, const char *extra)
{
        _cleanup_free_ char *p = claims(AUTH, jti, "subject-1", OSS, "\"services\":[\"" LAND "\"]", PURPOSE,
                                        (int64_t)(now / SEC) - 60, (int64_t)(now / SEC) + 3600, extra);
        char *out = NULL;
        assert(signer_sign_compact(auth_signer, "xbus-consent+jws", p, strlen(p), &out) == 0);
        return out;
}

static void test_artefacts(void)
{
        char got[CONSENT_ID_MAX] = "";
        int64_t t = (int64_t)(now / SEC);
        ConsentRecord rec = {};

        /* valid: allowed, id "jws:<authority>:<jti>", counted, remembered as a record */
        {
                _cleanup_free_ char *a = artefact("a-1", "");
                CHECK(consent_check(store, reg,
                                    &(ConsentQuery){ .consent = a,
                                                     .subject_pseudonym = subj,
                                                     .client = sub(OSS),
                                                     .service = svc(LAND),
                                                     .purpose = PURPOSE,
                                                     .now_usec = now },
                                    got) == 0);
                CHECK(streq(got, "jws:" AUTH ":a-1"));
                CHECK(consent_get(store, got, &rec) == CONSENT_E_UNKNOWN); /* not stored before its use */
                CHECK(use(got, now) == 0);
                CHECK(consent_get(store, got, &rec) == 0);
                CHECK(rec.artefact && rec.uses == 1 && streq(rec.subject, subj) && streq(rec.authority, AUTH) &&
                      rec.signature && streq(rec.signature, strrchr(a, '.') + 1) && rec.max_uses == 0);
                consent_record_done(&rec);
                CHECK(check(a) == 0 && use(got, now) == 0);
                /* the artefact id alone is not a credential */
                CHECK(check("jws:" AUTH ":a-1") == CONSENT_E_UNKNOWN);
                /* and the subject is the raw id's pseudonym */
                CHECK(check_as(a, OSS, LAND, other_subj, PURPOSE, now) == CONSENT_E_SUBJECT);
                CHECK(check_as(a, BANK, LAND, subj, PURPOSE, now) == CONSENT_E_GRANTEE);
                CHECK(check_as(a, OSS, CITIZEN, subj, PURPOSE, now) == CONSENT_E_SCOPE);
                CHECK(check_as(a, OSS, LAND, subj, "loan-application", now) == CONSENT_E_PURPOSE);
                CHECK(check_as(a, OSS, LAND, subj, PURPOSE, now + 3600 * SEC) == CONSENT_E_EXPIRED);
                CHECK(check_as(a, OSS, LAND, subj, PURPOSE, now - 61 * SEC) == CONSENT_E_NOT_YET_VALID);
                /* revoked by its authority: refused from then on */
                CHECK(consent_revoke(store, got, AUTH2, now, NULL) == CONSENT_E_UNKNOWN);
                CHECK(consent_revoke(store, got, AUTH, now, NULL) == 0);
                CHECK(check(a) == CONSENT_E_REVOKED);
                CHECK(use(got, now) == CONSENT_E_REVOKED);
        }
        /* single use: the second check and the second use are refused */
        {
                _cleanup_free_ char *a = artefact("a-2", ",\"max_uses\":1");
                CHECK(check(a) == 0);
                CHECK(use("jws:" AUTH ":a-2", now) == 0);
                CHECK(check(a) == CONSENT_E_EXHAUSTED);
                CHECK(use("jws:" AUTH ":a-2", now) == CONSENT_E_EXHAUSTED);
        }
        /* revoked in advance, before any use */
        {
                _cleanup_free_ char *a = artefact("a-3", "");
                CHECK(consent_revoke(store, "jws:" AUTH ":a-3", AUTH2, now, NULL) == CONSENT_E_UNKNOWN);
                CHECK(consent_revoke(store, "jws:" AUTH ":a-3", AUTH, now, NULL) == 0);
                CHECK(check(a) == CONSENT_E_REVOKED);
        }
        /* never checked: consent_use() knows nothing of it */
        CHECK(use("jws:" AUTH ":never-seen", now) == CONSENT_E_UNKNOWN);
        /* categories in an artefact */
        {
                _cleanup_free_ char *p = claims(AUTH, "a-4", "subject-1", "VN/GOV/HN", "\"categories\":[\"land\"]",
                                                PURPOSE, t - 10, t + 100, "");
                _cleanup_free_ char *a = sign_with(auth_key, HDR, p);
                CHECK(check_as(a, OSS2, CITIZEN, subj, PURPOSE, now) == 0);
                CHECK(check_as(a, OSS2, TAX, subj, PURPOSE, now) == CONSENT_E_SCOPE);
        }

        /* what is not an acceptable artefact: bad signature */
        {
                _cleanup_free_ char *a = artefact("b-1", ""), *p = NULL, *forged = NULL;
                char *dot;
                /* signed by another key */
                p = claims(AUTH, "b-2", "subject-1", OSS, "\"services\":[\"" LAND "\"]", PURPOSE, t - 10, t + 100, "");
                forged = sign_with(rogue_key, HDR, p);
                CHECK(check(forged) == CONSENT_E_SIGNATURE);
                free(forged);
                /* the right key's signature over another payload (claims edited) */
                dot = strrchr(a, '.');
                {
                        _cleanup_free_ char *q = claims(AUTH, "b-1", "subject-1", OSS, "\"services\":[\"" LAND "\"]",
                                                        PURPOSE, t - 10, t + 999999, "");
                        _cleanup_free_ char *pb = b64(q, strlen(q)), *h = strndup(a, (size_t)(strchr(a, '.') - a));
                        assert(asprintf(&forged, "%s.%s%s", h, pb, dot) > 0);
                }
                CHECK(check(forged) == CONSENT_E_SIGNATURE);
                free(forged);
                forged = NULL;
                /* signature bit flipped */
                dot[5] = dot[5] == 'A' ? 'B' : 'A';
                CHECK(check(a) == CONSENT_E_SIGNATURE);
        }
        {
                struct {
                        const char *hdr, *iss, *extra, *scope;
                        EVP_PKEY **key;
                        int64_t nbf, exp;
                } bad[] = {
                        /* algorithm from the header is never honoured */
                        { "{\"alg\":\"none\"}", AUTH, "", NULL, &auth_key, 0, 0 },
                        { "{\"alg\":\"ES384\"}", AUTH, "", NULL, &auth_key, 0, 0 },
                        { "{\"alg\":\"HS256\"}", AUTH, "", NULL, &auth_key, 0, 0 },
                        /* embedded keys are refused, even the right one */
                        { "{\"alg\":\"ES256\",\"jwk\":{\"kty\":\"EC\"}}", AUTH, "", NULL, &auth_key, 0, 0 },
                        { "{\"alg\":\"ES256\",\"jku\":\"https://evil.example/k\"}", AUTH, "", NULL, &auth_key, 0, 0 },
                        { "{\"alg\":\"ES256\",\"x5c\":[\"MIIB\"]}", AUTH, "", NULL, &auth_key, 0, 0 },
                        /* unknown crit */
                        { "{\"alg\":\"ES256\",\"crit\":[\"exp\"],\"exp\":1}", AUTH, "", NULL, &auth_key, 0, 0 },
                        /* unknown issuer, issuer without a key, issuer without the role */
                        { HDR, "VN/GOV/VPCP/nobody", "", NULL, &auth_key, 0, 0 },
                        { HDR, AUTH2, "", NULL, &auth_key, 0, 0 },
                        { HDR, OSS, "", NULL, &auth_key, 0, 0 },
                        /* malformed claims */
                        { HDR, AUTH, ",\"max_uses\":0", NULL, &auth_key, 0, 0 },
                        { HDR, AUTH, ",\"max_uses\":\"1\"", NULL, &auth_key, 0, 0 },
                        { HDR, AUTH, "", "\"services\":[]", &auth_key, 0, 0 },
                        { HDR, AUTH, "", "\"services\":\"" LAND "\"", &auth_key, 0, 0 },
                        { HDR, AUTH, "", NULL, &auth_key, 0, -1 },   /* no exp */
                        { HDR, AUTH, "", NULL, &auth_key, 100, 50 }, /* nbf after exp */
                };
                for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                        _cleanup_free_ char *p = NULL, *a = NULL;
                        int64_t nbf = bad[i].nbf ? t + bad[i].nbf : t - 10, exp = bad[i].exp ? t + bad[i].exp : t + 100;
                        if (bad[i].exp == -1) {
                                assert(asprintf(&p,
                                                "{\"iss\":\"%s\",\"jti\":\"c-%zu\",\"sub\":\"subject-1\","
                                                "\"grantee\":\"" OSS "\",\"services\":[\"" LAND "\"],"
                                                "\"purpose\":\"" PURPOSE "\"}",
                                                bad[i].iss, i) > 0);
                        } else {
                                char jti[16];
                                snprintf(jti, sizeof(jti), "c-%zu", i);
                                p = claims(bad[i].iss, jti, "subject-1", OSS,
                                           bad[i].scope ? bad[i].scope : "\"services\":[\"" LAND "\"]", PURPOSE, nbf,
                                           exp, bad[i].extra);
                        }
                        a = sign_with(*bad[i].key, bad[i].hdr, p);
                        if (check(a) != CONSENT_E_SIGNATURE)
                                fprintf(stderr, "bad artefact %zu accepted as %d\n", i, check(a));
                        CHECK(check(a) == CONSENT_E_SIGNATURE);
                }
        }
        CHECK(check("a.b.c") == CONSENT_E_SIGNATURE);
        CHECK(check("...") == CONSENT_E_SIGNATURE);
        {
                /* the limit on the whole artefact */
                char *huge = malloc(JWS_COMPACT_MAX + 10);
                assert(huge);
                memset(huge, 'A', JWS_COMPACT_MAX + 9);
                huge[10] = '.';
                huge[20] = '.';
                huge[JWS_COMPACT_MAX + 9] = 0;
                CHECK(check(huge) == CONSENT_E_SIGNATURE);
                free(huge);
        }
        /* without the pseudonym key, artefacts cannot be checked at all */
        {
                _cleanup_free_ char *a = artefact("a-9", "");
                consent_store_set_pseudonym_key(store, NULL);
                CHECK(check(a) == -ENOKEY);
                consent_store_set_pseudonym_key(store, pkey);
                CHECK(check(a) == 0);
        }
}

/* --- the race, through the real log writer ------------------------------- */

typedef struct RaceThread {
        const char *id;
        Mailbox replies;
        ExlogRecord recs[50];
        unsigned ok, exhausted, other;
} RaceThread;

/* The entry every racing exchange would write; the writer renders its refusal variant when the use is refused. */
static const ExlogEntry race_entry = { .allow = true, .status = 200 };

static void *race_thread(void *userdata)
{
        RaceThread *t = userdata;
        unsigned done = 0;

        for (size_t i = 0; i < ELEMENTSOF(t->recs); i++) {
                t->recs[i] = (ExlogRecord){ .reply_to = &t->replies,
                                            .body = "{\"decision\":\"allow\"}",
                                            .body_size = 20,
                                            .consents = store,
                                            .consent_id = t->id,
                                            .entry = &race_entry };
                memcpy(t->recs[i].subject, subj, sizeof(subj));
                while (exlog_append(xlog, &t->recs[i]) == -EAGAIN)
                        mailbox_wait(&t->replies, 10);
        }
        while (done < ELEMENTSOF(t->recs)) {
                mailbox_wait(&t->replies, 1000);
                for (MailboxItem *it = mailbox_drain(&t->replies), *next; it; it = next) {
                        ExlogRecord *rec = (ExlogRecord *)it;
                        next = it->next;
                        done++;
                        if (rec->result != 0)
                                t->other++;
                        else if (rec->consent_result == 0)
                                t->ok++;
                        else if (rec->consent_result == CONSENT_E_EXHAUSTED)
                                t->exhausted++;
                        else
                                t->other++;
                }
        }
        return NULL;
}

static void race(const char *id, unsigned want_ok)
{
        RaceThread th[8];
        pthread_t p[8];
        unsigned ok = 0, exhausted = 0, other = 0;

        for (size_t i = 0; i < 8; i++) {
                th[i] = (RaceThread){ .id = id };
                assert(mailbox_init(&th[i].replies, 0) == 0);
                assert(pthread_create(&p[i], NULL, race_thread, &th[i]) == 0);
        }
        for (size_t i = 0; i < 8; i++) {
                pthread_join(p[i], NULL);
                ok += th[i].ok;
                exhausted += th[i].exhausted;
                other += th[i].other;
                mailbox_deinit(&th[i].replies);
        }
        printf("race on %s: %u allowed, %u exhausted, %u other (of 400)\n", id, ok, exhausted, other);
        CHECK(ok == want_ok && exhausted == 400 - want_ok && other == 0);
}

static void test_race(void)
{
        ConsentRecord in = base(land_only, no_names);
        char id1[CONSENT_ID_MAX], id5[CONSENT_ID_MAX], got[CONSENT_ID_MAX];
        _cleanup_free_ char *a = artefact("race-1", ",\"max_uses\":1");
        uint64_t size0 = exlog_size(xlog);

        in.max_uses = 1;
        create(&in, id1);
        in.max_uses = 5;
        create(&in, id5);
        /* every request passed the read-only check before any use was counted */
        CHECK(check(id1) == 0 && check(id5) == 0 && check(a) == 0);
        race(id1, 1);
        race(id5, 5);
        CHECK(consent_check(store, reg,
                            &(ConsentQuery){ .consent = a,
                                             .subject_pseudonym = subj,
                                             .client = sub(OSS),
                                             .service = svc(LAND),
                                             .purpose = PURPOSE,
                                             .now_usec = now },
                            got) == 0);
        race(got, 1);
        CHECK(check(id1) == CONSENT_E_EXHAUSTED && check(id5) == CONSENT_E_EXHAUSTED &&
              check(a) == CONSENT_E_EXHAUSTED);
        /* every attempt is in the log, the refused ones as refusals (deny, consent_invalid, the reason) */
        {
                ExlogReader *r = NULL;
                unsigned allow = 0, deny = 0;
                assert(exlog_reader_new(&r, xlog) == 0);
                for (uint64_t s = size0; s < size0 + 1200; s++) {
                        _cleanup_free_ char *e = NULL;
                        if (exlog_reader_get(r, s, &e, NULL) != 0)
                                continue;
                        allow += strstr(e, "\"decision\":\"allow\"") != NULL;
                        deny += strstr(e, "\"decision\":\"deny\"") && strstr(e, "\"error\":\"consent_invalid\"") &&
                                strstr(e, "\"reason\":\"exhausted\"");
                }
                exlog_reader_close(r);
                CHECK(allow == 7 && deny == 1193);
        }
}

/* --- the citizen's view -------------------------------------------------- */

static void append_wait(ExlogRecord *recs, size_t n, Mailbox *mb)
{
        size_t done = 0;

        for (size_t i = 0; i < n; i++) {
                recs[i].reply_to = mb;
                assert(exlog_append(xlog, &recs[i]) == 0);
        }
        while (done < n) {
                mailbox_wait(mb, 1000);
                for (MailboxItem *it = mailbox_drain(mb), *next; it; it = next) {
                        next = it->next;
                        assert(((ExlogRecord *)it)->result == 0);
                        done++;
                }
        }
}

static void test_accesses(void)
{
        char s4[PSEUDONYM_HEX_LEN + 1], body[8][400];
        ExlogRecord recs[8];
        _cleanup_(json_decrefp) json_t *page = NULL, *page2 = NULL;
        ExlogReader *r = NULL;
        Mailbox mb;
        json_t *items;
        uint64_t first;

        pseudo("history-subject", s4);
        assert(mailbox_init(&mb, 0) == 0);
        for (int i = 0; i < 8; i++) {
                int n = snprintf(body[i], sizeof(body[i]),
                                 "{\"client\":\"%s\",\"service\":\"" LAND "\",\"purpose\":\"" PURPOSE
                                 "\",\"basis\":\"consent\",\"consent\":\"c%d\",\"decision\":\"%s\",\"status\":%d,"
                                 "\"error\":%s}",
                                 i % 2 ? OSS : BANK, i, i % 2 ? "allow" : "deny", i % 2 ? 200 : 403,
                                 i % 2 ? "null" : "\"consent_required\"");
                recs[i] = (ExlogRecord){ .body = body[i], .body_size = (size_t)n };
                /* every other entry is about someone else */
                memcpy(recs[i].subject, i < 6 ? s4 : other_subj, sizeof(s4));
        }
        append_wait(recs, 8, &mb);
        first = recs[0].seq;
        mailbox_deinit(&mb);

        assert(exlog_reader_new(&r, xlog) == 0);
        CHECK(consent_api_accesses(r, s4, UINT64_MAX, 4, &page) == 0);
        items = json_object_get(page, "accesses");
        CHECK(json_array_size(items) == 4);
        CHECK(json_integer_value(json_object_get(json_array_get(items, 0), "seq")) == (json_int_t)first + 5);
        CHECK(streq(json_string_value(json_object_get(json_array_get(items, 0), "consent")), "c5"));
        CHECK(streq(json_string_value(json_object_get(json_array_get(items, 0), "decision")), "allow"));
        CHECK(streq(json_string_value(json_object_get(json_array_get(items, 1), "error")), "consent_required"));
        CHECK(json_is_string(json_object_get(json_array_get(items, 1), "time")));
        CHECK(json_integer_value(json_object_get(page, "next_cursor")) == (json_int_t)first + 2);
        CHECK(consent_api_accesses(r, s4, first + 2, 4, &page2) == 0);
        items = json_object_get(page2, "accesses");
        CHECK(json_array_size(items) == 2 && json_is_null(json_object_get(page2, "next_cursor")));
        CHECK(json_integer_value(json_object_get(json_array_get(items, 1), "seq")) == (json_int_t)first);
        CHECK(consent_api_accesses(r, "zz", UINT64_MAX, 4, &page2) == -EINVAL);
        CHECK(consent_api_accesses(r, s4, UINT64_MAX, CONSENT_API_ACCESSES_MAX + 1, &page2) == -EINVAL);
        CHECK(consent_api_accesses(r, s4, UINT64_MAX, 0, &page2) == -EINVAL);
        exlog_reader_close(r);
}

/* --- the API ------------------------------------------------------------- */

static ConsentApi capi;

static int api(const char *client, const char *method, const char *path, const char *query, const char *body,
               EndpointResponse *resp, json_t **ret)
{
        int r;

        *resp = (EndpointResponse){ .status = 200 };
        r = consent_api_handle(&(EndpointRequest){ .userdata = &capi,
                                                   .registry = reg,
                                                   .client = client ? sub(client) : NULL,
                                                   .method = method,
                                                   .path = path,
                                                   .query = query ? query : "",
                                                   .body = (const uint8_t *)(body ? body : ""),
                                                   .body_size = body ? strlen(body) : 0 },
                               resp);
        if (ret)
                *ret = resp->body ? json_loadb(resp->body, resp->body_size, 0, NULL) : NULL;
        free(resp->body);
        resp->body = NULL;
        return r;
}

static bool problem(int r, const EndpointResponse *resp, const char *type)
{
        bool ok = r == 0 && resp->problem && streq(problem_name(resp->problem), type);
        if (!ok)
                fprintf(stderr, "expected %s, got %d %s (%s)\n", type, r,
                        resp->problem ? problem_name(resp->problem) : "", resp->detail);
        return ok;
}

static void test_api(void)
{
        EndpointResponse resp;
        _cleanup_(json_decrefp) json_t *j = NULL;
        char id[CONSENT_ID_MAX], path[256], exp[RFC3339_MAX], body[1024];
        int r;

        capi = (ConsentApi){ .log = xlog, .consents = store, .pseudonyms = pkey };
        format_rfc3339(now + 3600 * SEC, exp);
#define BODY(extra)                                                                                   \
        (snprintf(body, sizeof(body),                                                                 \
                  "{\"subject\":\"api-subject\",\"grantee\":\"" OSS "\",\"services\":[\"" LAND "\"]," \
                  "\"purpose\":\"" PURPOSE "\",\"expires\":\"%s\"%s}",                                \
                  exp, extra),                                                                        \
         body)

        /* who may call */
        CHECK(problem(api(NULL, "GET", "/consent/consents/x", NULL, NULL, &resp, NULL), &resp, "client_unknown"));
        CHECK(problem(api(OSS, "POST", "/consent/consents", NULL, BODY(""), &resp, NULL), &resp, "access_denied"));

        /* create */
        r = api(AUTH, "POST", "/consent/consents", NULL, BODY(",\"max_uses\":3"), &resp, &j);
        CHECK(r == 0 && !resp.problem && resp.status == 201 && j);
        snprintf(id, sizeof(id), "%s", strempty(json_string_value(json_object_get(j, "id"))));
        CHECK(strlen(id) == CONSENT_RECORD_ID_LEN);
        CHECK(streq(strempty(json_string_value(json_object_get(j, "authority"))), AUTH));
        CHECK(json_integer_value(json_object_get(j, "max_uses")) == 3);
        {
                char ps[PSEUDONYM_HEX_LEN + 1];
                pseudo("api-subject", ps);
                CHECK(streq(strempty(json_string_value(json_object_get(j, "subject_pseudonym"))), ps));
                {
                        _cleanup_free_ char *text = json_dumps(j, 0);
                        CHECK(text && !strstr(text, "api-subject")); /* the raw id is never shown */
                }
                CHECK(check_as(id, OSS, LAND, ps, PURPOSE, now_usec(CLOCK_REALTIME)) == 0);
        }
        json_decref(j);
        j = NULL;

        /* create refusals */
        static const char *const bad[] = {
                "[]",
                "{",
                "{\"subject\":\"x y\"}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                CHECK(problem(api(AUTH, "POST", "/consent/consents", NULL, bad[i], &resp, NULL), &resp, "bad_request"));
        CHECK(problem(api(AUTH, "POST", "/consent/consents", NULL, BODY(",\"colour\":1"), &resp, NULL), &resp,
                      "bad_request"));
        CHECK(problem(api(AUTH, "POST", "/consent/consents", NULL, BODY(",\"max_uses\":0"), &resp, NULL), &resp,
                      "bad_request"));
        CHECK(problem(api(AUTH, "POST", "/consent/consents", NULL, BODY(",\"valid_from\":\"yesterday\""), &resp, NULL),
                      &resp, "bad_request"));
        CHECK(problem(api(AUTH, "POST", "/consent/consents", NULL, BODY(",\"valid_from\":\"2999-01-01T00:00:00Z\""),
                          &resp, NULL),
                      &resp, "bad_request"));
        CHECK(problem(api(AUTH, "POST", "/consent/consents", NULL,
                          "{\"subject\":\"s\",\"grantee\":\"VN/GOV/NOPE/x\",\"services\":[\"" LAND
                          "\"],\"purpose\":\"" PURPOSE "\",\"expires\":\"2999-01-01T00:00:00Z\"}",
                          &resp, NULL),
                      &resp, "bad_request"));
        CHECK(problem(api(AUTH, "POST", "/consent/consents", NULL,
                          "{\"subject\":\"s\",\"grantee\":\"" OSS
                          "\",\"services\":[\"VN/GOV/X/y/z\"],\"purpose\":\"" PURPOSE
                          "\",\"expires\":\"2999-01-01T00:00:00Z\"}",
                          &resp, NULL),
                      &resp, "bad_request"));
        CHECK(problem(api(AUTH, "POST", "/consent/consents", NULL,
                          "{\"subject\":\"s\",\"grantee\":\"" OSS
                          "\",\"categories\":[\"weather\"],\"purpose\":\"" PURPOSE
                          "\",\"expires\":\"2999-01-01T00:00:00Z\"}",
                          &resp, NULL),
                      &resp, "bad_request"));
        CHECK(problem(api(AUTH, "POST", "/consent/consents", NULL,
                          "{\"subject\":\"s\",\"grantee\":\"" OSS "\",\"categories\":[\"land\"],\"purpose\":\"gossip\","
                          "\"expires\":\"2999-01-01T00:00:00Z\"}",
                          &resp, NULL),
                      &resp, "bad_request"));
        CHECK(problem(api(AUTH, "POST", "/consent/consents", NULL,
                          "{\"subject\":\"s\",\"grantee\":\"" OSS "\",\"purpose\":\"" PURPOSE
                          "\",\"expires\":\"2999-01-01T00:00:00Z\"}",
                          &resp, NULL),
                      &resp, "bad_request"));
        CHECK(problem(api(AUTH, "POST", "/consent/consents", NULL,
                          "{\"subject\":\"s\",\"grantee\":\"" OSS "\",\"categories\":[\"land\"],\"purpose\":\"" PURPOSE
                          "\",\"expires\":\"2999-01-01T00:00:00Z\"}",
                          &resp, NULL),
                      &resp, "bad_request")); /* more than ten years */
        {
                char *big = malloc(CONSENT_API_BODY_MAX + 2);
                assert(big);
                memset(big, ' ', CONSENT_API_BODY_MAX + 1);
                big[CONSENT_API_BODY_MAX + 1] = 0;
                CHECK(problem(api(AUTH, "POST", "/consent/consents", NULL, big, &resp, NULL), &resp,
                              "payload_too_large"));
                free(big);
        }
        CHECK(problem(api(AUTH, "GET", "/consent/consents", NULL, NULL, &resp, NULL), &resp, "method_not_allowed"));

        /* read */
        snprintf(path, sizeof(path), "/consent/consents/%s", id);
        CHECK(api(AUTH, "GET", path, NULL, NULL, &resp, &j) == 0 && !resp.problem);
        CHECK(streq(strempty(json_string_value(json_object_get(j, "status"))), "active"));
        json_decref(j);
        j = NULL;
        CHECK(problem(api(AUTH, "GET", "/consent/consents/0123456789abcdef0123456789abcdef01234567", NULL, NULL, &resp,
                          NULL),
                      &resp, "not_found"));
        CHECK(problem(api(AUTH, "PUT", path, NULL, NULL, &resp, NULL), &resp, "method_not_allowed"));

        /* list */
        CHECK(api(AUTH, "GET", "/consent/subjects/api-subject/consents", NULL, NULL, &resp, &j) == 0 && !resp.problem);
        CHECK(json_array_size(json_object_get(j, "consents")) == 1 &&
              streq(strempty(json_string_value(
                            json_object_get(json_array_get(json_object_get(j, "consents"), 0), "id"))),
                    id));
        json_decref(j);
        j = NULL;
        CHECK(problem(api(AUTH, "GET", "/consent/subjects/api-subject/consents", "limit=0", NULL, &resp, NULL), &resp,
                      "bad_request"));
        CHECK(problem(api(AUTH, "GET", "/consent/subjects/api-subject/consents", "cursor=bad", NULL, &resp, NULL),
                      &resp, "bad_request"));
        CHECK(problem(api(AUTH, "GET", "/consent/subjects/bad%20id/consents", NULL, NULL, &resp, NULL), &resp,
                      "bad_request"));
        CHECK(problem(api(AUTH, "GET", "/consent/subjects/api-subject/other", NULL, NULL, &resp, NULL), &resp,
                      "not_found"));
        CHECK(problem(api(AUTH, "GET", "/consent/subjects/api-subject", NULL, NULL, &resp, NULL), &resp, "not_found"));
        CHECK(problem(api(AUTH, "POST", "/consent/subjects/api-subject/consents", NULL, NULL, &resp, NULL), &resp,
                      "method_not_allowed"));
        CHECK(problem(api(AUTH, "GET", "/consent/elsewhere", NULL, NULL, &resp, NULL), &resp, "not_found"));

        /* accesses */
        CHECK(api(AUTH, "GET", "/consent/subjects/history-subject/accesses", "limit=2", NULL, &resp, &j) == 0 &&
              !resp.problem);
        CHECK(json_array_size(json_object_get(j, "accesses")) == 2 &&
              json_is_integer(json_object_get(j, "next_cursor")));
        json_decref(j);
        j = NULL;
        CHECK(problem(api(AUTH, "GET", "/consent/subjects/history-subject/accesses", "limit=501", NULL, &resp, NULL),
                      &resp, "bad_request"));
        CHECK(problem(api(AUTH, "GET", "/consent/subjects/history-subject/accesses", "cursor=-1", NULL, &resp, NULL),
                      &resp, "bad_request"));

        /* revoke: only the issuer; POST .../revoke and DELETE */
        snprintf(path, sizeof(path), "/consent/consents/%s/revoke", id);
        CHECK(problem(api(AUTH2, "POST", path, NULL, NULL, &resp, NULL), &resp, "not_found"));
        CHECK(problem(api(AUTH, "GET", path, NULL, NULL, &resp, NULL), &resp, "method_not_allowed"));
        CHECK(api(AUTH, "POST", path, NULL, NULL, &resp, &j) == 0 && !resp.problem);
        CHECK(streq(strempty(json_string_value(json_object_get(j, "status"))), "revoked"));
        json_decref(j);
        j = NULL;
        snprintf(path, sizeof(path), "/consent/consents/%s", id);
        CHECK(api(AUTH, "DELETE", path, NULL, NULL, &resp, NULL) == 0 && !resp.problem);
        /* an artefact id (with slashes in the authority) revoked in advance */
        CHECK(api(AUTH, "POST", "/consent/consents/jws:" AUTH ":api-1/revoke", NULL, NULL, &resp, &j) == 0 &&
              !resp.problem);
        CHECK(streq(strempty(json_string_value(json_object_get(j, "id"))), "jws:" AUTH ":api-1"));
        json_decref(j);
        j = NULL;
        CHECK(problem(api(AUTH, "POST", "/consent/consents/jws:" AUTH2 ":api-1/revoke", NULL, NULL, &resp, NULL), &resp,
                      "not_found"));
        CHECK(api(AUTH, "GET", "/consent/consents/jws:" AUTH ":api-1", NULL, NULL, &resp, NULL) == 0 && !resp.problem);

        /* no store: an internal error, not a decision */
        capi.consents = NULL;
        CHECK(api(AUTH, "GET", path, NULL, NULL, &resp, NULL) == -ENOTCONN);
        capi.consents = store;
#undef BODY
}

int main(void)
{
        _cleanup_free_ char *dir = test_tmpdir("consent");
        uint8_t key[32];

        memset(key, 7, sizeof(key));
        assert(pseudonym_key_new(&pkey, key, sizeof(key)) == 0);
        auth_key = EVP_EC_gen("P-256");
        rogue_key = EVP_EC_gen("P-256");
        assert(auth_key && rogue_key && signer_new(&auth_signer, auth_key) == 0);
        load_registry();
        assert(exlog_open(&xlog, dir, &(ExlogOptions){ .max_batch = 16 }) == 0);
        assert(consent_store_open(&store, exlog_env(xlog)) == 0);
        consent_store_set_pseudonym_key(store, pkey);
        now = now_usec(CLOCK_REALTIME);
        pseudo("subject-1", subj);
        pseudo("subject-2", other_subj);

        test_reasons();
        test_create_refusals();
        test_records();
        test_list();
        test_artefacts();
        test_race();
        test_accesses();
        test_api();

        /* the store reopens over the same databases */
        store = consent_store_free(store);
        assert(consent_store_open(&store, exlog_env(xlog)) == 0);
        {
                ConsentRecord rec = {};
                CHECK(consent_get(store, "jws:" AUTH ":a-2", &rec) == 0 && rec.uses == 1);
                consent_record_done(&rec);
        }
        CHECK(consent_store_open(NULL, exlog_env(xlog)) == -EINVAL);
        CHECK(consent_store_free(NULL) == NULL);

        store = consent_store_free(store);
        xlog = exlog_close(xlog);
        registry_unref(reg);
        signer_free(auth_signer);
        EVP_PKEY_free(auth_key);
        EVP_PKEY_free(rogue_key);
        pseudonym_key_free(pkey);
        test_rm_rf(dir);
        printf("%u checks, %u failed\n", n_checks, n_failed);
        return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
