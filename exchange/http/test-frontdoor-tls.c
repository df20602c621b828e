/* test-frontdoor-tls.c: the TLS context from files: client CAs and CRLs checked whole, what expires when */
#include <assert.h>
#include <stdio.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "crypto/pki-ca.h"
#include "crypto/pki.h"
#include "http/frontdoor-tls.h"
#include "tests/support/test-util.h"

static char *dir, *other;

static int verify_any(int ok, X509_STORE_CTX *ctx)
{
        return 1;
}

static void info_none(const SSL *ssl, int where, int ret)
{
}

/* A context from the demo PKI of `dir` with `client_ca` and `crl`; its error in *ret_error. */
static int build(const char *client_ca, const char *crl, bool optional, FrontdoorTls **ret, char **ret_error)
{
        _cleanup_free_ char *cert = test_path(dir, "node.crt"), *key = test_path(dir, "node.key");

        return frontdoor_tls_new(ret,
                                 &(FrontdoorTlsFiles){ .cert = cert,
                                                       .key = key,
                                                       .client_ca = client_ca,
                                                       .client_crl = crl,
                                                       .crl_optional = optional },
                                 verify_any, info_none, ret_error);
}

static const FrontDoorCert *find(const FrontdoorTls *t, const char *role)
{
        for (size_t i = 0; i < t->n_certs; i++)
                if (streq(t->certs[i].role, role))
                        return &t->certs[i];
        return NULL;
}

static void expect_refused(const char *client_ca, const char *crl, const char *message)
{
        FrontdoorTls *t = NULL;
        char *error = NULL;

        assert(build(client_ca, crl, false, &t, &error) < 0 && !t);
        if (!error || !strstr(error, message)) {
                fprintf(stderr, "got \"%s\", want \"...%s...\"\n", strempty(error), message);
                assert(false);
        }
        free(error);
}

/* Whether the client certificate `path` verifies against t's store, as the handshake would check it. */
static bool verifies(const FrontdoorTls *t, const char *path)
{
        FILE *f = fopen(path, "re");
        X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
        X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        bool ok;

        assert(x && ctx);
        fclose(f);
        assert(X509_STORE_CTX_init(ctx, SSL_CTX_get_cert_store(t->ctx), x, NULL) == 1);
        X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
        ok = X509_verify_cert(ctx) == 1;
        X509_STORE_CTX_free(ctx);
        X509_free(x);
        return ok;
}

static void cat(const char *out, const char *a, const char *b)
{
        _cleanup_free_ char *x = test_read_file(a, NULL), *y = test_read_file(b, NULL), *all = NULL;

        assert(x && y && asprintf(&all, "%s%s", x, y) > 0);
        test_write_file(out, all, strlen(all), 0644);
}

int main(void)
{
        _cleanup_free_ char *ca = NULL, *crl = NULL, *other_ca = NULL, *other_crl = NULL, *both = NULL,
                            *both_crl = NULL, *missing = NULL, *other2 = NULL, *revoked = NULL, *kept = NULL,
                            *from_other = NULL;
        const char *clients[] = { "VN/GOV/A/app" };
        const FrontDoorCert *c;
        FrontdoorTls *t = NULL;
        PkiCa *pca = NULL;
        char *error = NULL;
        int64_t now = (int64_t)time(NULL);

        dir = test_tmpdir("fd-tls");
        other = test_tmpdir("fd-tls-other");
        assert(rmdir(dir) == 0 && rmdir(other) == 0);
        assert(pki_demo_ensure(dir, clients, 1, NULL, 0, NULL) == 0);
        assert(pki_demo_ensure(other, NULL, 0, NULL, 0, NULL) == 0);
        ca = test_path(dir, "ca.crt");
        crl = test_path(dir, "ca.crl");
        other_ca = test_path(other, "ca.crt");
        other_crl = test_path(other, "ca.crl");
        both = test_path(dir, "both.pem");
        both_crl = test_path(dir, "both.crl");
        missing = test_path(dir, "no-such.crl");
        other2 = test_tmpdir("fd-tls-clients");
        revoked = test_path(dir, "clients/VN_GOV_A_app.crt");
        kept = test_path(other2, "VN_GOV_A_kept.crt");
        from_other = test_path(other2, "VN_GOV_B_app.crt");

        /* no CRL: nothing is checked; the node's certificate and the CA, with their expiry */
        assert(build(ca, NULL, false, &t, &error) == 0 && t && !t->crl);
        c = find(t, "node");
        assert(c && streq(c->subject, "localhost") && c->not_after > now + 800 * 86400);
        c = find(t, "client_ca");
        assert(c && streq(c->subject, "xbus demo CA") && c->not_after > now + 3600 * 86400);
        assert(!find(t, "client_crl"));
        t = frontdoor_tls_unref(t);
        /* the demo PKI's CRL, which does not exist until something is revoked */
        assert(build(ca, missing, true, &t, &error) == 0 && !t->crl);
        t = frontdoor_tls_unref(t);
        expect_refused(ca, missing, "no-such.crl");

        /* a CRL: checked, and its next update reported */
        assert(pki_ca_open(&pca, dir, NULL, NULL, NULL) == 0);
        assert(pki_ca_revoke(pca, "VN/GOV/A/app", PKI_REASON_KEY_COMPROMISE, 20, NULL, NULL) == 0);
        pca = pki_ca_free(pca);
        assert(build(ca, crl, false, &t, &error) == 0 && t->crl);
        c = find(t, "client_crl");
        assert(c && streq(c->subject, "xbus demo CA"));
        assert(c->not_after > now + 19 * 86400 && c->not_after <= now + 20 * 86400 + 60);
        t = frontdoor_tls_unref(t);

        /* a second client CA without its CRL: refused, not half used */
        cat(both, ca, other_ca);
        expect_refused(both, crl, "has no CRL of the client CA \"xbus demo CA\"");
        /* with both CRLs: fine */
        assert(pki_ca_open(&pca, other, NULL, NULL, NULL) == 0);
        assert(pki_ca_crl(pca, 0, NULL) == 0);
        assert(pki_ca_issue_new_key(pca, &(PkiIssue){ .kind = PKI_KIND_CLIENT, .name = "VN/GOV/B/app" }, other2, NULL,
                                    NULL) == 0);
        pca = pki_ca_free(pca);
        assert(pki_ca_open(&pca, dir, NULL, NULL, NULL) == 0);
        assert(pki_ca_issue_new_key(pca, &(PkiIssue){ .kind = PKI_KIND_CLIENT, .name = "VN/GOV/A/kept" }, other2, NULL,
                                    NULL) == 0);
        pca = pki_ca_free(pca);
        cat(both_crl, crl, other_crl);
        assert(build(both, both_crl, false, &t, &error) == 0 && t->crl);
        /* two CAs of one name stay two series */
        assert(t->n_certs == 5);
        assert(find(t, "client_ca") && streq(t->certs[2].subject, "xbus demo CA (2)"));
        /* and each client is checked against its own CA's CRL */
        assert(!verifies(t, revoked));
        assert(verifies(t, kept));
        assert(verifies(t, from_other));
        t = frontdoor_tls_unref(t);
        /* a CRL no client CA signed */
        expect_refused(ca, other_crl, "is not signed by a client CA");
        /* not a CRL */
        expect_refused(ca, ca, "no PEM CRL in it");

        test_rm_rf(dir);
        test_rm_rf(other);
        test_rm_rf(other2);
        free(dir);
        free(other);
        printf("client CAs and CRLs checked whole; expiry of the node, the CAs and the CRLs: ok\n");
        return 0;
}
