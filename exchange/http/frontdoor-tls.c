/* frontdoor-tls.c: the front door's TLS context, built whole from files: certificate, key, client CAs, CRLs */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "crypto/openssl-util.h"
#include "http/frontdoor-tls.h"
#include "util/error.h"
#include "util/macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(X509_CRL *, X509_CRL_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(X509_STORE_CTX *, X509_STORE_CTX_free);

static int64_t asn1_unix(const ASN1_TIME *t)
{
        struct tm tm = {};

        return t && ASN1_TIME_to_tm(t, &tm) == 1 ? (int64_t)timegm(&tm) : 0;
}

static void cert_note(FrontdoorTls *t, const char *role, const X509_NAME *name, const ASN1_TIME *until)
{
        FrontDoorCert *c;

        if (t->n_certs >= ELEMENTSOF(t->certs))
                return;
        c = &t->certs[t->n_certs];
        snprintf(c->role, sizeof(c->role), "%s", role);
        if (X509_NAME_get_text_by_NID(name, NID_commonName, c->subject, sizeof(c->subject)) < 0)
                snprintf(c->subject, sizeof(c->subject), "?");
        /* a Prometheus label value as it is: no quote, backslash or control character */
        for (char *s = c->subject; *s; s++)
                if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20 || *s == 0x7f)
                        *s = '_';
        /* two of one name (an old and a new CA during a rotation) stay two series */
        for (size_t i = 0, k = 2; i < t->n_certs; i++)
                if (streq(t->certs[i].role, c->role) && streq(t->certs[i].subject, c->subject)) {
                        size_t len = strnlen(c->subject, sizeof(c->subject) - 6);

                        snprintf(c->subject + len, sizeof(c->subject) - len, " (%zu)", k++);
                        i = (size_t)-1;
                }
        c->not_after = asn1_unix(until);
        t->n_certs++;
}

/* The last OpenSSL error as text, the queue cleared. */
static const char *ssl_error(char *buf, size_t size)
{
        unsigned long e = ERR_get_error();

        ERR_error_string_n(e, buf, size);
        ERR_clear_error();
        return e ? buf : "unknown error";
}

/* The client CA among the store's certificates that issued `crl`, or NULL. */
static X509 *crl_issuer(STACK_OF(X509_OBJECT) * objs, X509_CRL *crl)
{
        for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
                X509 *ca = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));

                if (ca && X509_NAME_cmp(X509_get_subject_name(ca), X509_CRL_get_issuer(crl)) == 0 &&
                    X509_CRL_verify(crl, X509_get0_pubkey(ca)) == 1)
                        return ca;
        }
        return NULL;
}

/* The CRLs of `path` into the store, checked (see the header); every client CA must have one. */
static int crls_load(FrontdoorTls *t, const char *path, char **ret_error)
{
        X509_STORE *store = SSL_CTX_get_cert_store(t->ctx);
        STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(store);
        _cleanup_(BIO_freep) BIO *bio = BIO_new_file(path, "r");
        size_t n = 0;
        char ebuf[256];

        if (!bio)
                return error_set(ret_error, -errno ?: -EIO, "client CRL \"%s\": cannot read: %s", path,
                                 ssl_error(ebuf, sizeof(ebuf)));
        for (;;) {
                _cleanup_(X509_CRL_freep) X509_CRL *crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
                const ASN1_TIME *next;
                char who[64] = "?";

                if (!crl)
                        break;
                n++;
                X509_NAME_get_text_by_NID(X509_CRL_get_issuer(crl), NID_commonName, who, sizeof(who));
                if (!crl_issuer(objs, crl))
                        return error_set(ret_error, -EINVAL,
                                         "client CRL \"%s\": the CRL of \"%s\" is not signed by a client CA", path,
                                         who);
                next = X509_CRL_get0_nextUpdate(crl);
                if (!next || X509_cmp_current_time(next) <= 0)
                        return error_set(ret_error, -EINVAL,
                                         "client CRL \"%s\": the CRL of \"%s\" is past its next update: sign a new "
                                         "one (xbus pki crl) and reload",
                                         path, who);
                if (X509_STORE_add_crl(store, crl) != 1)
                        return error_set(ret_error, -EINVAL, "client CRL \"%s\": %s", path,
                                         ssl_error(ebuf, sizeof(ebuf)));
                cert_note(t, "client_crl", X509_CRL_get_issuer(crl), next);
        }
        ERR_clear_error(); /* the end of the file */
        if (n == 0)
                return error_set(ret_error, -EINVAL, "client CRL \"%s\": no PEM CRL in it", path);
        /* every client CA has its CRL: else its clients would all be refused */
        for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
                X509 *ca = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
                bool found = false;

                if (!ca)
                        continue;
                for (int j = 0; j < sk_X509_OBJECT_num(objs) && !found; j++) {
                        X509_CRL *crl = X509_OBJECT_get0_X509_CRL(sk_X509_OBJECT_value(objs, j));
                        /* by its key: two CAs may have one name (a rotation) */
                        found = crl && X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca)) == 0 &&
                                X509_CRL_verify(crl, X509_get0_pubkey(ca)) == 1;
                }
                if (!found) {
                        char who[64] = "?";

                        X509_NAME_get_text_by_NID(X509_get_subject_name(ca), NID_commonName, who, sizeof(who));
                        return error_set(ret_error, -EINVAL,
                                         "client CRL \"%s\" has no CRL of the client CA \"%s\": every client CA needs "
                                         "one, or each of its clients would be refused",
                                         path, who);
                }
        }
        X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
        t->crl = true;
        return 0;
}

/* The node's certificate and each client CA, for their expiry. */
static void certs_note(FrontdoorTls *t)
{
        STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(SSL_CTX_get_cert_store(t->ctx));
        X509 *node = SSL_CTX_get0_certificate(t->ctx);

        if (node)
                cert_note(t, "node", X509_get_subject_name(node), X509_get0_notAfter(node));
        for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
                X509 *ca = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));

                if (ca)
                        cert_note(t, "client_ca", X509_get_subject_name(ca), X509_get0_notAfter(ca));
        }
}

static int ctx_setup(FrontdoorTls *t, const FrontdoorTlsFiles *o, SSL_verify_cb verify,
                     void (*info)(const SSL *, int, int), char **ret_error)
{
        static const unsigned char sid[] = "xbusd";
        STACK_OF(X509_NAME) * names;
        char ebuf[256];

        t->ctx = SSL_CTX_new(TLS_server_method());
        if (!t->ctx)
                return error_set(ret_error, -ENOMEM, "cannot create the TLS context");
        SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
        SSL_CTX_set_options(t->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
        SSL_CTX_set_session_id_context(t->ctx, sid, sizeof(sid) - 1);
        if (SSL_CTX_use_certificate_chain_file(t->ctx, o->cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(t->ctx, o->key, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(t->ctx) != 1 || SSL_CTX_load_verify_locations(t->ctx, o->client_ca, NULL) != 1)
                return error_set(ret_error, -EINVAL, "TLS setup failed (cert \"%s\", key \"%s\", client CA \"%s\"): %s",
                                 o->cert, o->key, o->client_ca, ssl_error(ebuf, sizeof(ebuf)));
        names = SSL_load_client_CA_file(o->client_ca);
        if (names)
                SSL_CTX_set_client_CA_list(t->ctx, names);
        SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, verify);
        SSL_CTX_set_verify_depth(t->ctx, 4);
        SSL_CTX_set_info_callback(t->ctx, info);
        certs_note(t);
        if (o->client_crl && !(o->crl_optional && access(o->client_crl, F_OK) < 0 && errno == ENOENT))
                return crls_load(t, o->client_crl, ret_error);
        return 0;
}

int frontdoor_tls_new(FrontdoorTls **ret, const FrontdoorTlsFiles *o, SSL_verify_cb verify,
                      void (*info)(const SSL *ssl, int where, int ret), char **ret_error)
{
        FrontdoorTls *t = calloc(1, sizeof(*t));
        int r;

        if (!t)
                return error_set(ret_error, -ENOMEM, "out of memory");
        atomic_init(&t->n_ref, 1);
        r = ctx_setup(t, o, verify, info, ret_error);
        ERR_clear_error();
        if (r < 0) {
                frontdoor_tls_unref(t);
                return r;
        }
        *ret = t;
        return 0;
}

FrontdoorTls *frontdoor_tls_ref(FrontdoorTls *t)
{
        if (t)
                atomic_fetch_add(&t->n_ref, 1);
        return t;
}

FrontdoorTls *frontdoor_tls_unref(FrontdoorTls *t)
{
        if (!t || atomic_fetch_sub(&t->n_ref, 1) > 1)
                return NULL;
        SSL_CTX_free(t->ctx); /* the connections made from it hold their own references */
        free(t);
        return NULL;
}

bool frontdoor_tls_verify(const FrontdoorTls *t, SSL *ssl)
{
        _cleanup_(X509_STORE_CTX_freep) X509_STORE_CTX *ctx = NULL;
        X509 *cert = SSL_get0_peer_certificate(ssl);
        bool ok;

        if (!cert || SSL_get_verify_result(ssl) != X509_V_OK)
                return true; /* nothing to lose: it was never trusted */
        ctx = X509_STORE_CTX_new();
        if (!ctx || X509_STORE_CTX_init(ctx, SSL_CTX_get_cert_store(t->ctx), cert, SSL_get_peer_cert_chain(ssl)) != 1)
                return false;
        /* as the handshake verifies a client: its purpose, and the depth the context allows */
        X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
        X509_STORE_CTX_set_depth(ctx, SSL_CTX_get_verify_depth(t->ctx));
        ok = X509_verify_cert(ctx) == 1;
        ERR_clear_error();
        return ok;
}
