/* pki-internal.h: what the pieces of the PKI share: a folder at work, its files written safely, keys, certificates
 *
 *   pki-file.c   the files (never replaced unless asked, keys 0600 from the first byte), keys and
 *                certificates as X.509 objects, ids, private folders
 *   pki.c        the demo layout under the state folder (pki.h)
 *   pki-ca.c     a CA the operator names: issue, index, revoke and CRL, renew (pki-ca.h)
 *
 * Errors: every function returns 0 or -errno and, through pki_fail(), leaves
 * one message naming the file in *Pki.ret_error (the first one only).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "util/macro.h"

/* X.509 limits a commonName to 64 characters (ub-common-name). */
#define PKI_ID_MAX 64
#define PKI_NAME_MAX (PKI_ID_MAX + 1)
/* Every file of the layout is a few KiB at most (a CRL of many revocations: more). */
#define PKI_FILE_MAX KIB(64)
#define PKI_CA_DAYS 3652 /* 10 years */
#define PKI_LEAF_DAYS 825
#define PKI_ORGANIZATION "xbus demo"

#define PKI_MODE_SECRET 0600
#define PKI_MODE_PUBLIC 0644

typedef enum CertKind {
        CERT_CA,
        CERT_NODE,
        CERT_CLIENT,
        CERT_ADAPTER,
} CertKind;

/* A file: the folder it lives in (an open descriptor) and its name there. */
typedef struct Loc {
        int dfd;
        const char *dir; /* the folder, for messages; NULL: the Pki's */
        const char *sub; /* "" or "clients/" or "authorities/", for messages */
        char name[256];
} Loc;

/* The folder at work and the CA that issues in it. */
typedef struct Pki {
        const char *dir;
        int dfd;
        int clients_fd;
        int authorities_fd;
        char **ret_error;

        /* Where the CA's files are (pki_ca_get(); default: ca.key and ca.crt in dfd) and the CA, loaded the
         * first time something must be issued. */
        const Loc *ca_key_at, *ca_crt_at;
        EVP_PKEY *ca_key;
        X509 *ca_crt;
} Pki;

/* pki_fail(): record "DIR/SUB NAME: MESSAGE" as the error (the first one only). Return: r. */
int pki_fail(Pki *p, int r, const Loc *l, const char *fmt, ...) _printf_(4, 5);

void pki_loc_init(Loc *l, int dfd, const char *sub, const char *base, const char *suffix);
/*
 * pki_loc_at_path(): `path` as a Loc: its folder opened (*ret_dfd, the
 * caller's to close) and its base name; `*ret_dir` (malloc'd) is the folder
 * for messages. Return: 0 or -errno (reported).
 */
int pki_loc_at_path(Pki *p, const char *path, Loc *ret, int *ret_dfd, char **ret_dir);
/* pki_loc_exists(): 1 if the file exists, 0 if not, or a negative errno (reported). */
int pki_loc_exists(Pki *p, const Loc *l);
/* pki_loc_read(): the whole file (at most PKI_FILE_MAX bytes, NUL-terminated); a `secret` one must be 0600. */
int pki_loc_read(Pki *p, const Loc *l, bool secret, char **ret, size_t *ret_size);
/*
 * pki_loc_write(): create the file with `data` atomically: a temporary
 * file created with O_EXCL and its final mode, synced, then moved into
 * place; without `replace` an existing file is never replaced (-EEXIST).
 */
int pki_loc_write(Pki *p, const Loc *l, const void *data, size_t size, mode_t mode, bool replace);
/* pki_loc_write_bio(): what the memory BIO holds, as pki_loc_write() (wiped after, for a secret). */
int pki_loc_write_bio(Pki *p, const Loc *l, BIO *bio, mode_t mode, bool replace);

/* pki_key_load(): an unencrypted PEM private key, of `type` ("EC", "ED25519"; NULL: any). */
int pki_key_load(Pki *p, const Loc *l, const char *type, EVP_PKEY **ret);
int pki_key_write(Pki *p, const Loc *l, EVP_PKEY *pkey);
/* pki_key_ensure(): load the key file if it exists, or generate one (P-256 for "EC") and create the file. */
int pki_key_ensure(Pki *p, const Loc *l, const char *type, EVP_PKEY **ret);

int pki_cert_load(Pki *p, const Loc *l, X509 **ret);
int pki_cert_write(Pki *p, const Loc *l, X509 *x, bool replace);
/* pki_cert_cn(): the subject's commonName into `out` ("" when it has none). */
void pki_cert_cn(X509 *x, char *out, size_t size);

/*
 * pki_cert_make(): a certificate for `key` with `cn`, valid `days` (0: the
 * kind's default), signed by `issuer_key` (the CA), or self-signed when
 * `issuer` is NULL (the CA itself). `san` is the subjectAltName in
 * OpenSSL's form ("DNS:a,IP:1.2.3.4", built from checked names) for a node
 * (NULL: localhost and the loopback addresses) or an adapter (NULL: none).
 */
int pki_cert_make(EVP_PKEY *key, const char *cn, CertKind kind, unsigned days, const char *san, X509 *issuer,
                  EVP_PKEY *issuer_key, X509 **ret);
/* pki_sign_md(): the digest to sign with `key` (SHA-256; none for Ed25519). */
const EVP_MD *pki_sign_md(EVP_PKEY *key);
/* pki_cert_renew(): a new certificate for the subject, key and extensions of `old`, valid `days`. */
int pki_cert_renew(X509 *old, unsigned days, X509 *issuer, EVP_PKEY *issuer_key, X509 **ret);

/* pki_ca_get(): the CA's key and certificate (loaded once), checked to match; `for_what` names the file
 * to be issued in the message when the key is missing (-ENOKEY). */
int pki_ca_get(Pki *p, const Loc *for_what);

/* pki_id_valid(): 1..64 characters of [A-Za-z0-9-._/:], not starting with '.'. */
bool pki_id_valid(const char *id);
/* pki_dir_open_private(): open (creating it 0700 if missing) a folder, refusing one others may enter. */
int pki_dir_open_private(Pki *p, int at, const char *path, const char *sub);

/* --- pki-ca.c, for the demo layout (pki.c) --- */

/* pki_index_add(): record `x`, just issued in the folder p->dfd, in its index (issued.txt). */
int pki_index_add(Pki *p, X509 *x, CertKind kind);
