/* frontdoor-tls.h: the front door's TLS context: the node's certificate and key, the client CAs and their CRLs
 *
 * A FrontdoorTls is built whole from the files FrontDoorOptions names and is
 * never changed afterwards: a reload builds a new one and the front door
 * swaps the pointer (frontdoor.c, "TLS"), so a worker never sees half of
 * one. Client certificates are verified against the client CAs and, when
 * there is a client CRL, with X509_V_FLAG_CRL_CHECK: a revoked certificate
 * fails verification, and the request is then refused like any untrusted
 * one (policy.c). Every client CA must have a CRL in the file (its clients
 * would all fail otherwise), each CRL must verify against its CA, and none
 * may be past its nextUpdate: such a file is refused, not half used.
 *
 * Threads: a FrontdoorTls is read-only and shared; frontdoor_tls_ref() and
 * frontdoor_tls_unref() are atomic. Its SSL_CTX lives at least as long as
 * the connections made from it (OpenSSL counts them).
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

/* A certificate the node uses or trusts, or a CRL, and when it expires. */
typedef struct FrontDoorCert {
        char role[16];     /* "node", "client_ca" or "client_crl" */
        char subject[64];  /* its commonName (a CRL: its issuer's) */
        int64_t not_after; /* seconds since the epoch (a CRL: its nextUpdate) */
} FrontDoorCert;
#define FRONTDOOR_CERTS_MAX 64

/* The files a context is built from (FrontDoorOptions' TLS part). */
typedef struct FrontdoorTlsFiles {
        const char *cert, *key; /* PEM */
        const char *client_ca;  /* CAs whose client certificates are trusted */
        const char *client_crl; /* their CRLs, or NULL */
        bool crl_optional;      /* a missing client_crl file means no CRL yet */
} FrontdoorTlsFiles;

typedef struct FrontdoorTls {
        atomic_uint n_ref;
        unsigned generation; /* the front door's count of contexts, for connections made before a reload */
        SSL_CTX *ctx;
        bool crl; /* client certificates are checked against CRLs */
        FrontDoorCert certs[FRONTDOOR_CERTS_MAX];
        size_t n_certs;
} FrontdoorTls;

/*
 * frontdoor_tls_new(): a context from the files `f` names, with `verify` and
 * `info` as its callbacks.
 * Return: 0 with *ret (one reference), or -errno with *ret_error naming the
 * file and the cause.
 */
int frontdoor_tls_new(FrontdoorTls **ret, const FrontdoorTlsFiles *f, SSL_verify_cb verify,
                      void (*info)(const SSL *ssl, int where, int ret), char **ret_error);
FrontdoorTls *frontdoor_tls_ref(FrontdoorTls *t);
FrontdoorTls *frontdoor_tls_unref(FrontdoorTls *t); /* NULL in, NULL out */

/*
 * frontdoor_tls_verify(): whether the client certificate of the connection
 * `ssl` (made under another context) verifies against t's client CAs and
 * CRLs now. A connection without a client certificate, or with one that did
 * not verify at its handshake, has nothing to lose: true.
 */
bool frontdoor_tls_verify(const FrontdoorTls *t, SSL *ssl);
