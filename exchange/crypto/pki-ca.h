/* pki-ca.h: a certificate authority the operator names: requests, issuing, the index, revocation and the CRL, renewal
 *
 * A CA folder holds (keys mode 0600, folder 0700):
 *   ca.crt ca.key   the CA's certificate and key, unless they are named by path
 *                   (an organisation's CA kept elsewhere); the demo PKI's folder,
 *                   <state-dir>/pki, is a CA folder (pki.h)
 *   issued.txt      the index: one line per certificate issued, in the order issued:
 *                     STATUS SERIAL NOT-AFTER REVOKED-AT REASON KIND NAME
 *                   STATUS V (valid) or R (revoked), SERIAL in upper-case hex, times
 *                   as 2026-01-31T12:00:00Z, "-" for none; lines starting with '#'
 *                   are comments. Issuing appends a line; revoking rewrites the file.
 *   ca.crl          the CRL (PEM) of the revoked certificates, made by pki_ca_revoke() and
 *                   pki_ca_crl(): the node checks client certificates against it
 *                   ([tls] client-crl, reloaded on SIGHUP)
 *
 * Kinds of certificate: a client (a subsystem's mutual-TLS certificate,
 * clientAuth, CN = the subsystem id the registry's tls-cn names), a node (the
 * front door's server certificate, serverAuth, with DNS and IP names) and an
 * adapter (an adapter's client certificate towards its backend, clientAuth,
 * e.g. xbus-adapter-rest --cert).
 *
 * Every operation on a CA folder holds an exclusive lock on it (flock) from
 * pki_ca_open() to pki_ca_free(), and so does pki_demo_ensure() while it
 * issues: two operators, or an operator and a reloading node, never interleave.
 * Files are written as pki.h says (temporary file, final mode, sync, rename);
 * an existing file is never replaced, except the index, the CRL and, by
 * pki_ca_renew(), the certificate renewed. Private keys are never printed or
 * logged. Errors: 0 or -errno, with a malloc'd message naming the file in
 * *ret_error (when not NULL; not written on success).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum PkiKind {
        PKI_KIND_CLIENT,
        PKI_KIND_NODE,
        PKI_KIND_ADAPTER,
        _PKI_KIND_MAX,
} PkiKind;

/* CRL reason codes (RFC 5280 5.3.1) an operator gives. */
typedef enum PkiReason {
        PKI_REASON_UNSPECIFIED = 0,
        PKI_REASON_KEY_COMPROMISE = 1,
        PKI_REASON_AFFILIATION_CHANGED = 3,
        PKI_REASON_SUPERSEDED = 4,
        PKI_REASON_CESSATION = 5,
} PkiReason;

/* "client", "node", "adapter"; NULL for another value. */
const char *pki_kind_to_string(PkiKind k);
/* Return: the kind, or -EINVAL. */
int pki_kind_from_string(const char *s);
/* "unspecified", "keyCompromise", "affiliationChanged", "superseded", "cessationOfOperation". */
const char *pki_reason_to_string(PkiReason r);
/* Return: the reason, or -EINVAL. */
int pki_reason_from_string(const char *s);

#define PKI_SERIAL_MAX 41 /* hex digits of a 20-octet serial, and a NUL */
#define PKI_CRL_DAYS 90   /* the CRL's default validity (nextUpdate) */

/* One line of the index. */
typedef struct PkiIssued {
        bool revoked;
        char serial[PKI_SERIAL_MAX];
        int64_t not_after;  /* seconds since the epoch */
        int64_t revoked_at; /* 0 unless revoked */
        PkiReason reason;
        PkiKind kind;
        char name[65]; /* the subject's commonName */
} PkiIssued;

typedef struct PkiCa PkiCa;

/*
 * pki_ca_open(): the CA folder `dir` (created 0700 when missing, refused when
 * group or others may enter it), locked until pki_ca_free(). `cert` and
 * `key` name the CA's certificate and key elsewhere (NULL: DIR/ca.crt and
 * DIR/ca.key); the key is read only when something is signed, must be an
 * unencrypted PEM of mode 0600, and must match the certificate, which must
 * be a CA's. Return: 0 or -errno.
 */
int pki_ca_open(PkiCa **ret, const char *dir, const char *cert, const char *key, char **ret_error);
PkiCa *pki_ca_free(PkiCa *ca); /* NULL in, NULL out */
static inline void pki_ca_freep(PkiCa **ca)
{
        pki_ca_free(*ca);
}

/* What to issue. */
typedef struct PkiIssue {
        PkiKind kind;
        const char *name;         /* the commonName; NULL: the request's */
        const char *const *dns;   /* node, adapter: DNS names for subjectAltName, NULL-terminated, or NULL */
        const char *const *addrs; /* node, adapter: IP addresses, likewise */
        unsigned days;            /* validity; 0: 825 days */
} PkiIssue;

/*
 * pki_ca_issue(): a certificate for the key of the PEM certificate request
 * (CSR) in `csr_path` (its self-signature is checked; only its key and, when
 * what->name is NULL, its commonName are used: the kind and names come from
 * `what`), written to `out_path` (never replacing a file) and recorded in the
 * index. A client's name is a subsystem id (1..64 of [A-Za-z0-9-._/:]); a
 * node's a host name; a node without names gets DNS:<name>, and "localhost"
 * the loopback addresses too. Keys: EC P-256 or P-384, RSA of 2048 bits or
 * more, Ed25519. *ret (if not NULL) gets the index line. Return: 0 or -errno.
 */
int pki_ca_issue(PkiCa *ca, const PkiIssue *what, const char *csr_path, const char *out_path, PkiIssued *ret,
                 char **ret_error);

/*
 * pki_ca_issue_new_key(): a new key (EC P-256) and a certificate for it as
 * `out_dir`/FILE.key (0600) and FILE.crt, FILE being the name with '/' as
 * '_' (the demo layout: out_dir = the CA folder's clients/, where `xbus call`
 * finds them). `out_dir` is created 0700 when missing. Neither file may exist.
 * Return: 0 or -errno.
 */
int pki_ca_issue_new_key(PkiCa *ca, const PkiIssue *what, const char *out_dir, PkiIssued *ret, char **ret_error);

/*
 * pki_ca_renew(): a new certificate for the subject, key and extensions of
 * the one in `cert_path` (which this CA must have issued), valid `days` (0:
 * 825), written to `out_path` or, when NULL, in place of `cert_path`. The old
 * one stays valid until it expires or is revoked. Return: 0 or -errno.
 */
int pki_ca_renew(PkiCa *ca, const char *cert_path, const char *out_path, unsigned days, PkiIssued *ret,
                 char **ret_error);

/*
 * pki_ca_revoke(): mark the valid certificates whose name or serial is
 * `what` revoked (now, for `reason`), then write the CRL valid `crl_days`
 * (0: PKI_CRL_DAYS). *ret_count (if not NULL) gets how many were revoked.
 * Return: 0, -ENOENT when none matches, or -errno.
 */
int pki_ca_revoke(PkiCa *ca, const char *what, PkiReason reason, unsigned crl_days, size_t *ret_count,
                  char **ret_error);

/* pki_ca_crl(): write the CRL again (a new nextUpdate), valid `days` (0: PKI_CRL_DAYS). Return: 0 or -errno. */
int pki_ca_crl(PkiCa *ca, unsigned days, char **ret_error);

/*
 * pki_ca_list(): the index, in the order issued (*ret malloc'd, the
 * caller's; an empty or missing index gives n = 0). Return: 0 or -errno.
 */
int pki_ca_list(PkiCa *ca, PkiIssued **ret, size_t *ret_n, char **ret_error);

/* What pki_ca_describe() tells. */
typedef struct PkiCaInfo {
        char subject[256];  /* the CA's commonName */
        int64_t not_after;  /* the CA certificate's */
        int64_t crl_next;   /* the CRL's nextUpdate, or 0 without a CRL */
        size_t crl_entries; /* the certificates it lists */
} PkiCaInfo;

/* pki_ca_describe(): the CA's name and expiry, and its CRL's next update. Return: 0 or -errno. */
int pki_ca_describe(PkiCa *ca, PkiCaInfo *ret, char **ret_error);

/*
 * pki_request_new(): a certificate request for `name` (the commonName; the
 * same rules as pki_ca_issue()) as `dir`/FILE.csr, for the key in
 * `key_path` (an existing unencrypted PEM key, mode 0600), or for a new EC
 * P-256 key written as `dir`/FILE.key (0600) when `key_path` is NULL. `dir`
 * is created 0700 when missing. Neither file may exist. *ret_csr and
 * *ret_key (if not NULL; malloc'd) get the paths written.
 * Return: 0 or -errno.
 */
int pki_request_new(const char *dir, const char *name, PkiKind kind, const char *key_path, char **ret_csr,
                    char **ret_key, char **ret_error);
