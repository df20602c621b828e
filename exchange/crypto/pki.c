/* pki.c: the demo PKI (CA, node, client certificates, signing, log and pseudonym keys) */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <zmq.h>

#include "crypto/openssl-util.h"
#include "util/error.h"
#include "crypto/hash.h"
#include "crypto/keyfile.h"
#include "crypto/pki.h"
#include "crypto/pseudonym.h"
#include "crypto/signer.h"
#include "util/macro.h"

/* X.509 limits a commonName to 64 characters (ub-common-name). */
#define PKI_ID_MAX 64
#define PKI_NAME_MAX (PKI_ID_MAX + 1)
#define PKI_ENTRIES_MAX 10000
/* Every file of the layout is a few KiB at most. */
#define PKI_FILE_MAX KIB(64)
#define PKI_CA_DAYS 3652 /* 10 years */
#define PKI_LEAF_DAYS 825
#define PKI_ORGANIZATION "xbus demo"
#define PKI_CA_CN "xbus demo CA"
#define PKI_NODE_CN "localhost"

#define MODE_SECRET 0600
#define MODE_PUBLIC 0644

typedef enum CertKind {
        CERT_CA,
        CERT_NODE,
        CERT_CLIENT,
} CertKind;

/* What the node itself needs to run, as opposed to keys that may be handed out. */
typedef enum KeyPolicy {
        KEY_REQUIRED,         /* a public part without its private key is an error */
        KEY_MAY_BE_ELSEWHERE, /* the private key may have been moved to its owner */
} KeyPolicy;

typedef struct Pki {
        const char *dir;
        int dfd;
        int clients_fd;
        int authorities_fd;
        char **ret_error;

        /* The CA, loaded the first time something must be issued. */
        EVP_PKEY *ca_key;
        X509 *ca_crt;
} Pki;

/* A file of the layout: the folder it lives in and its name there. */
typedef struct Loc {
        int dfd;
        const char *sub; /* "" or "clients/" or "authorities/", for messages */
        char name[PKI_NAME_MAX + 16];
} Loc;

_printf_(4, 5) static int pki_fail(Pki *p, int r, const Loc *l, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        ERR_clear_error();
        if (!p->ret_error || *p->ret_error)
                return r;

        va_start(ap, fmt);
        msg = error_vformat(fmt, ap);
        va_end(ap);

        if (asprintf(p->ret_error, "%s%s%s%s: %s", p->dir, l ? "/" : "", l ? l->sub : "", l ? l->name : "",
                     msg ? msg : strerror(r < 0 ? -r : r)) < 0)
                *p->ret_error = NULL;
        return r;
}

static void loc_init(Loc *l, int dfd, const char *sub, const char *base, const char *suffix)
{
        l->dfd = dfd;
        l->sub = sub;
        snprintf(l->name, sizeof(l->name), "%s%s", base, suffix);
}

/* Return: 1 if the file exists, 0 if not, or a negative errno (reported). */
static int loc_exists(Pki *p, const Loc *l)
{
        struct stat st;

        if (fstatat(l->dfd, l->name, &st, 0) < 0)
                return errno == ENOENT ? 0 : pki_fail(p, -errno, l, "cannot check: %s", strerror(errno));
        if (!S_ISREG(st.st_mode))
                return pki_fail(p, -EISDIR, l, "cannot check: %s", strerror(EISDIR));
        return 1;
}

/* The public part `pub` exists: so must its private key, unless `policy` lets it live with its owner. */
static int key_beside(Pki *p, const Loc *key, const Loc *pub, KeyPolicy policy)
{
        int r = loc_exists(p, key);

        if (r == 0 && policy == KEY_REQUIRED)
                return pki_fail(p, -ENOKEY, key, "missing while %s%s exists (remove both to have them recreated)",
                                pub->sub, pub->name);
        return MIN(r, 0);
}

static int read_loc(Pki *p, const Loc *l, bool secret, char **ret, size_t *ret_size)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t n = 0;

        fd = openat(l->dfd, l->name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return pki_fail(p, -errno, l, "cannot open: %s", strerror(errno));
        if (fstat(fd, &st) < 0)
                return pki_fail(p, -errno, l, "cannot stat: %s", strerror(errno));
        if (!S_ISREG(st.st_mode))
                return pki_fail(p, -EINVAL, l, "not a regular file");
        if (secret && (st.st_mode & 077))
                return pki_fail(p, -EPERM, l, "private key is accessible by group or others (mode %04o)",
                                (unsigned)(st.st_mode & 07777));

        buf = malloc(PKI_FILE_MAX + 1);
        if (!buf)
                return -ENOMEM;
        while (n <= PKI_FILE_MAX) {
                ssize_t k = read(fd, buf + n, PKI_FILE_MAX + 1 - n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return pki_fail(p, -errno, l, "cannot read: %s", strerror(errno));
                }
                if (k == 0)
                        break;
                n += (size_t)k;
        }
        if (n > PKI_FILE_MAX) {
                OPENSSL_cleanse(buf, PKI_FILE_MAX + 1);
                return pki_fail(p, -EFBIG, l, "larger than %zu bytes", PKI_FILE_MAX);
        }

        *ret = TAKE_PTR(buf);
        *ret_size = n;
        return 0;
}

static int write_all(int fd, const void *data, size_t size)
{
        const char *q = data;

        while (size > 0) {
                ssize_t k = write(fd, q, size);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                q += k;
                size -= (size_t)k;
        }
        return 0;
}

/*
 * write_loc(): create the file with `data`, atomically and without ever
 * replacing an existing one: the content goes to a temporary file created
 * with O_EXCL and its final mode (a key is never readable by others, not
 * even for a moment), is synced, and is then moved into place with
 * RENAME_NOREPLACE (or link(), which also refuses to replace).
 */
static int write_loc(Pki *p, const Loc *l, const void *data, size_t size, mode_t mode)
{
        char tmp[sizeof(l->name) + 32];
        uint8_t rnd[8];
        char rnd_hex[2 * sizeof(rnd) + 1];
        _cleanup_close_ int fd = -1;
        int r;

        if (RAND_bytes(rnd, sizeof(rnd)) != 1)
                return pki_fail(p, -EIO, l, "no randomness for a temporary name");
        hex_encode(rnd, sizeof(rnd), rnd_hex);
        snprintf(tmp, sizeof(tmp), ".%s.%s.tmp", l->name, rnd_hex);

        fd = openat(l->dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, mode);
        if (fd < 0)
                return pki_fail(p, -errno, l, "cannot create temporary file: %s", strerror(errno));

        /*
         * Public files (certificates, public keys) get exactly their mode
         * whatever the umask; this happens before any byte is written.
         * Secret files keep what open() gave them, which the umask can only
         * make stricter than 0600.
         */
        if (mode == MODE_PUBLIC && fchmod(fd, mode) < 0) {
                r = -errno;
                goto fail;
        }

        r = write_all(fd, data, size);
        if (r < 0)
                goto fail;
        if (fsync(fd) < 0) {
                r = -errno;
                goto fail;
        }
        r = close(TAKE_FD(fd));
        if (r < 0) {
                r = -errno;
                goto fail;
        }

        if (renameat2(l->dfd, tmp, l->dfd, l->name, RENAME_NOREPLACE) < 0) {
                if (errno != EINVAL && errno != ENOSYS) {
                        r = -errno;
                        goto fail;
                }
                /* file system without RENAME_NOREPLACE: link() does not replace either */
                if (linkat(l->dfd, tmp, l->dfd, l->name, 0) < 0) {
                        r = -errno;
                        goto fail;
                }
                (void)unlinkat(l->dfd, tmp, 0);
        }

        if (fsync(l->dfd) < 0)
                return pki_fail(p, -errno, l, "cannot sync folder: %s", strerror(errno));
        return 0;

fail:
        (void)unlinkat(l->dfd, tmp, 0);
        if (r == -EEXIST)
                return pki_fail(p, r, l, "created by someone else meanwhile");
        return pki_fail(p, r, l, "cannot write: %s", strerror(-r));
}

/* Write what `bio` holds (a memory BIO) to the file. */
static int write_bio(Pki *p, const Loc *l, BIO *bio, mode_t mode)
{
        char *data;
        long size;
        int r;

        size = BIO_get_mem_data(bio, &data);
        if (size <= 0)
                return pki_fail(p, -ENOMEM, l, "cannot encode");
        r = write_loc(p, l, data, (size_t)size, mode);
        if (mode == MODE_SECRET)
                OPENSSL_cleanse(data, (size_t)size);
        return r;
}

static int load_key(Pki *p, const Loc *l, const char *type, EVP_PKEY **ret)
{
        _cleanup_free_ char *data = NULL;
        _cleanup_(BIO_freep) BIO *bio = NULL;
        EVP_PKEY *pkey;
        size_t size;
        int r;

        r = read_loc(p, l, true, &data, &size);
        if (r < 0)
                return r;

        bio = BIO_new_mem_buf(data, (int)size);
        if (!bio)
                return -ENOMEM;
        pkey = PEM_read_bio_PrivateKey(bio, NULL, keyfile_no_password, NULL);
        OPENSSL_cleanse(data, size);
        if (!pkey)
                return pki_fail(p, -EINVAL, l, "not an unencrypted PEM private key");
        if (!EVP_PKEY_is_a(pkey, type)) {
                EVP_PKEY_free(pkey);
                return pki_fail(p, -EINVAL, l, "not an %s key", type);
        }

        *ret = pkey;
        return 0;
}

static int write_key(Pki *p, const Loc *l, EVP_PKEY *pkey)
{
        _cleanup_(BIO_freep) BIO *bio = NULL;

        bio = BIO_new(BIO_s_secmem());
        if (!bio)
                return -ENOMEM;
        if (!PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL))
                return pki_fail(p, -ENOMEM, l, "cannot encode the key");
        return write_bio(p, l, bio, MODE_SECRET);
}

/*
 * ensure_key(): load the private key file if it exists, or generate a key
 * (P-256 for "EC", Ed25519 for "ED25519") and create the file.
 */
static int ensure_key(Pki *p, const Loc *l, const char *type, EVP_PKEY **ret)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        int r;

        r = loc_exists(p, l);
        if (r < 0)
                return r;
        if (r > 0)
                return load_key(p, l, type, ret);

        if (streq(type, "EC"))
                pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        else
                pkey = EVP_PKEY_Q_keygen(NULL, NULL, type);
        if (!pkey)
                return pki_fail(p, -EIO, l, "cannot generate an %s key", type);

        r = write_key(p, l, pkey);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(pkey);
        return 0;
}

static int load_cert(Pki *p, const Loc *l, X509 **ret)
{
        _cleanup_free_ char *data = NULL;
        _cleanup_(BIO_freep) BIO *bio = NULL;
        X509 *x;
        size_t size;
        int r;

        r = read_loc(p, l, false, &data, &size);
        if (r < 0)
                return r;
        bio = BIO_new_mem_buf(data, (int)size);
        if (!bio)
                return -ENOMEM;
        x = PEM_read_bio_X509(bio, NULL, keyfile_no_password, NULL);
        if (!x)
                return pki_fail(p, -EINVAL, l, "not a PEM certificate");
        *ret = x;
        return 0;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
        _cleanup_(X509_EXTENSION_freep) X509_EXTENSION *ext = NULL;

        ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
        if (!ext)
                return -EIO;
        if (!X509_add_ext(x, ext, -1))
                return -ENOMEM;
        return 0;
}

static int random_serial(X509 *x)
{
        _cleanup_(BN_freep) BIGNUM *bn = NULL;
        uint8_t b[16];

        /* 127 random bits, positive and never zero (RFC 5280: at most 20 octets) */
        if (RAND_bytes(b, sizeof(b)) != 1)
                return -EIO;
        b[0] = (uint8_t)((b[0] & 0x7f) | 0x40);
        bn = BN_bin2bn(b, sizeof(b), NULL);
        if (!bn)
                return -ENOMEM;
        if (!BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
                return -ENOMEM;
        return 0;
}

/*
 * make_cert(): a certificate for `key` with `cn`, signed by `issuer_key`
 * (the CA), or self-signed when `issuer` is NULL (the CA itself).
 */
static int make_cert(EVP_PKEY *key, const char *cn, CertKind kind, X509 *issuer, EVP_PKEY *issuer_key, X509 **ret)
{
        _cleanup_(X509_freep) X509 *x = NULL;
        X509V3_CTX ctx;
        X509_NAME *name;
        int r;

        x = X509_new();
        if (!x)
                return -ENOMEM;
        if (!X509_set_version(x, X509_VERSION_3))
                return -ENOMEM;
        r = random_serial(x);
        if (r < 0)
                return r;

        /* an hour back, so that a peer whose clock is a little behind accepts it */
        if (!X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
            !X509_time_adj_ex(X509_getm_notAfter(x), kind == CERT_CA ? PKI_CA_DAYS : PKI_LEAF_DAYS, 0, NULL))
                return -EIO;

        name = X509_get_subject_name(x);
        if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)PKI_ORGANIZATION, -1, -1, 0) ||
            !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0))
                return -EINVAL;
        if (!X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name))
                return -ENOMEM;
        if (!X509_set_pubkey(x, key))
                return -ENOMEM;

        X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
        switch (kind) {
        case CERT_CA:
                if ((r = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE")) < 0 ||
                    (r = add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature")) < 0)
                        return r;
                break;
        case CERT_NODE:
                if ((r = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE")) < 0 ||
                    (r = add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature")) < 0 ||
                    (r = add_ext(x, &ctx, NID_ext_key_usage, "serverAuth")) < 0 ||
                    (r = add_ext(x, &ctx, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1")) < 0)
                        return r;
                break;
        case CERT_CLIENT:
                if ((r = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE")) < 0 ||
                    (r = add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature")) < 0 ||
                    (r = add_ext(x, &ctx, NID_ext_key_usage, "clientAuth")) < 0)
                        return r;
                break;
        }
        /* the subject key id first: the CA's authority key id refers to it */
        if ((r = add_ext(x, &ctx, NID_subject_key_identifier, "hash")) < 0 ||
            (r = add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always")) < 0)
                return r;

        if (X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) <= 0)
                return -EIO;

        *ret = TAKE_PTR(x);
        return 0;
}

static int write_cert(Pki *p, const Loc *l, X509 *x)
{
        _cleanup_(BIO_freep) BIO *bio = NULL;

        bio = BIO_new(BIO_s_mem());
        if (!bio)
                return -ENOMEM;
        if (!PEM_write_bio_X509(bio, x))
                return pki_fail(p, -ENOMEM, l, "cannot encode the certificate");
        return write_bio(p, l, bio, MODE_PUBLIC);
}

/* The CA key and certificate, loaded once, when a certificate must be issued. */
static int get_ca(Pki *p, const Loc *for_what)
{
        Loc key, crt;
        int r;

        if (p->ca_key)
                return 0;

        loc_init(&key, p->dfd, "", "ca", ".key");
        loc_init(&crt, p->dfd, "", "ca", ".crt");
        r = loc_exists(p, &key);
        if (r < 0)
                return r;
        if (r == 0)
                return pki_fail(p, -ENOKEY, for_what, "cannot be issued: ca.key is missing");

        r = load_key(p, &key, "EC", &p->ca_key);
        if (r < 0)
                return r;
        r = load_cert(p, &crt, &p->ca_crt);
        if (r < 0)
                return r;
        if (X509_check_private_key(p->ca_crt, p->ca_key) != 1)
                return pki_fail(p, -EINVAL, &key, "does not match ca.crt");
        return 0;
}

static int ensure_ca(Pki *p)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        _cleanup_(X509_freep) X509 *x = NULL;
        Loc key, crt;
        int r;

        loc_init(&key, p->dfd, "", "ca", ".key");
        loc_init(&crt, p->dfd, "", "ca", ".crt");

        r = loc_exists(p, &crt);
        if (r < 0)
                return r;
        /*
         * A certificate without its key is fine as long as nothing needs to
         * be issued: operators may keep the demo CA key offline.
         */
        if (r > 0)
                return 0;

        r = ensure_key(p, &key, "EC", &pkey);
        if (r < 0)
                return r;
        r = make_cert(pkey, PKI_CA_CN, CERT_CA, NULL, NULL, &x);
        if (r < 0)
                return pki_fail(p, r, &crt, "cannot build the certificate");
        return write_cert(p, &crt, x);
}

/* Issue `crt` for the key in `key` (created if missing) when `crt` is missing. */
static int ensure_leaf(Pki *p, const Loc *key, const Loc *crt, const char *cn, CertKind kind, KeyPolicy policy)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        _cleanup_(X509_freep) X509 *x = NULL;
        int r;

        r = loc_exists(p, crt);
        if (r < 0)
                return r;
        if (r > 0) {
                char existing[PKI_ID_MAX + 1] = "";

                if (kind == CERT_CLIENT) {
                        /*
                         * Two ids can map to one file name ("A/B" and "A_B"):
                         * never hand one subsystem another's certificate.
                         */
                        r = load_cert(p, crt, &x);
                        if (r < 0)
                                return r;
                        if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, existing,
                                                      sizeof(existing)) < 0 ||
                            !streq(existing, cn))
                                return pki_fail(p, -EEXIST, crt, "belongs to \"%s\", not to \"%s\"", existing, cn);
                }

                return key_beside(p, key, crt, policy);
        }

        r = get_ca(p, crt);
        if (r < 0)
                return r;
        r = ensure_key(p, key, "EC", &pkey);
        if (r < 0)
                return r;
        r = make_cert(pkey, cn, kind, p->ca_crt, p->ca_key, &x);
        if (r < 0)
                return pki_fail(p, r, crt, "cannot build the certificate");
        return write_cert(p, crt, x);
}

/* A P-256 key and its public JWK (signing.key/.jwk, authorities/<name>.key/.jwk). */
static int ensure_jwk_pair(Pki *p, const Loc *key, const Loc *jwk, KeyPolicy policy)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        _cleanup_(signer_freep) Signer *s = NULL;
        _cleanup_(json_decrefp) json_t *j = NULL;
        _cleanup_free_ char *text = NULL, *line = NULL;
        int r;

        r = loc_exists(p, jwk);
        if (r < 0)
                return r;
        if (r > 0)
                return key_beside(p, key, jwk, policy);

        r = ensure_key(p, key, "EC", &pkey);
        if (r < 0)
                return r;
        r = signer_new(&s, pkey);
        if (r < 0)
                return pki_fail(p, r, key, "not a P-256 private key");
        j = signer_public_jwk(s);
        if (!j)
                return -ENOMEM;
        text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!text)
                return -ENOMEM;
        if (asprintf(&line, "%s\n", text) < 0)
                return -ENOMEM;
        return write_loc(p, jwk, line, strlen(line), MODE_PUBLIC);
}

static int ensure_log_key(Pki *p)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        _cleanup_(BIO_freep) BIO *bio = NULL;
        Loc key, pub;
        int r;

        loc_init(&key, p->dfd, "", "log", ".key");
        loc_init(&pub, p->dfd, "", "log", ".pub");
        r = loc_exists(p, &pub);
        if (r < 0)
                return r;
        if (r > 0)
                return key_beside(p, &key, &pub, KEY_REQUIRED);

        r = ensure_key(p, &key, "ED25519", &pkey);
        if (r < 0)
                return r;
        bio = BIO_new(BIO_s_mem());
        if (!bio)
                return -ENOMEM;
        if (!PEM_write_bio_PUBKEY(bio, pkey))
                return pki_fail(p, -ENOMEM, &pub, "cannot encode the public key");
        return write_bio(p, &pub, bio, MODE_PUBLIC);
}

static int ensure_pseudonym_key(Pki *p)
{
        _cleanup_(pseudonym_key_freep) PseudonymKey *k = NULL;
        uint8_t raw[32];
        char text[2 * sizeof(raw) + 2];
        Loc l;
        int r;

        loc_init(&l, p->dfd, "", "pseudonym", ".key");
        r = loc_exists(p, &l);
        if (r < 0)
                return r;
        if (r > 0) {
                _cleanup_free_ char *path = NULL;

                /* check what is there, so that a bad key is reported now and not at first use */
                if (asprintf(&path, "%s/%s", p->dir, l.name) < 0)
                        return -ENOMEM;
                r = pseudonym_key_load(&k, path);
                if (r == -EPERM)
                        return pki_fail(p, r, &l, "key is accessible by group or others");
                if (r < 0)
                        return pki_fail(p, r, &l, "not a pseudonym key (64 hex digits): %s", strerror(-r));
                return 0;
        }

        if (RAND_bytes(raw, sizeof(raw)) != 1)
                return pki_fail(p, -EIO, &l, "no randomness");
        hex_encode(raw, sizeof(raw), text);
        text[2 * sizeof(raw)] = '\n';
        text[2 * sizeof(raw) + 1] = '\0';
        r = write_loc(p, &l, text, strlen(text), MODE_SECRET);
        OPENSSL_cleanse(raw, sizeof(raw));
        OPENSSL_cleanse(text, sizeof(text));
        return r;
}

static bool id_is_valid(const char *id)
{
        size_t n;

        if (!id)
                return false;
        n = strlen(id);
        if (n == 0 || n > PKI_ID_MAX || id[0] == '.')
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = id[i];

                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._/:", c)))
                        return false;
        }
        return true;
}

void pki_client_name(const char *subsystem_id, char *out, size_t size)
{
        size_t i = 0;

        if (size == 0)
                return;
        for (; subsystem_id[i] && i + 1 < size; i++)
                out[i] = subsystem_id[i] == '/' ? '_' : subsystem_id[i];
        out[i] = '\0';
}

typedef struct NamedId {
        char name[PKI_NAME_MAX];
        const char *id;
} NamedId;

static int named_id_compare(const void *a, const void *b)
{
        return strcmp(((const NamedId *)a)->name, ((const NamedId *)b)->name);
}

/* Refuse ids that are malformed or that map to the same file name as another. */
static int check_ids(Pki *p, const char *const *ids, size_t n, const char *what)
{
        _cleanup_free_ NamedId *v = NULL;

        if (n > PKI_ENTRIES_MAX)
                return pki_fail(p, -E2BIG, NULL, "more than %d %s", PKI_ENTRIES_MAX, what);
        if (n == 0)
                return 0;

        v = calloc(n, sizeof(*v));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (!id_is_valid(ids[i]))
                        return pki_fail(
                                p, -EINVAL, NULL,
                                "invalid %s id \"%.80s\" (1..%d chars of A-Z a-z 0-9 - . _ / :, not starting with '.')",
                                what, strempty(ids[i]), PKI_ID_MAX);
                pki_client_name(ids[i], v[i].name, sizeof(v[i].name));
                v[i].id = ids[i];
        }
        qsort(v, n, sizeof(*v), named_id_compare);
        for (size_t i = 1; i < n; i++)
                if (streq(v[i - 1].name, v[i].name) && !streq(v[i - 1].id, v[i].id))
                        return pki_fail(p, -EINVAL, NULL, "%s ids \"%s\" and \"%s\" map to the same file name", what,
                                        v[i - 1].id, v[i].id);
        return 0;
}

/* Open (creating it 0700 if missing) a private folder, refusing one others can enter. */
static int open_private_dir(Pki *p, int at, const char *path, const char *sub)
{
        _cleanup_close_ int fd = -1;
        struct stat st;
        Loc l = { .dfd = at, .sub = "" };

        snprintf(l.name, sizeof(l.name), "%s", sub ? sub : "");
        if (mkdirat(at, path, 0700) < 0 && errno != EEXIST)
                return pki_fail(p, -errno, sub ? &l : NULL, "cannot create folder: %s", strerror(errno));
        fd = openat(at, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return pki_fail(p, -errno, sub ? &l : NULL, "cannot open folder: %s", strerror(errno));
        if (fstat(fd, &st) < 0)
                return pki_fail(p, -errno, sub ? &l : NULL, "cannot stat folder: %s", strerror(errno));
        if (st.st_mode & 077)
                return pki_fail(p, -EPERM, sub ? &l : NULL, "folder is accessible by group or others (mode %04o)",
                                (unsigned)(st.st_mode & 07777));
        return TAKE_FD(fd);
}

/* A CURVE key pair as Z85 text: NAME.key (secret) and NAME.pub; a kept NAME.key gets its public half made again. */
static int curve_pair_write(Pki *p, const Loc *key, const Loc *pub)
{
        char pub_text[KEYFILE_CURVE_LEN + 2], secret[KEYFILE_CURVE_LEN + 2] = "";
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = loc_exists(p, key);
        if (r > 0) {
                r = read_loc(p, key, true, &data, &size);
                if (r < 0)
                        return r;
                data[size] = 0;
                snprintf(secret, KEYFILE_CURVE_LEN + 1, "%s", data + strspn(data, " \t\r\n"));
                OPENSSL_cleanse(data, size);
                r = keyfile_curve_valid(secret) && zmq_curve_public(pub_text, secret) == 0
                            ? 0
                            : pki_fail(p, -EINVAL, key, "not a CURVE secret key (40 characters of Z85)");
        } else if (r == 0) {
                r = zmq_curve_keypair(pub_text, secret) == 0 ? 0 : pki_fail(p, -EIO, key, "cannot generate a key");
                strcat(secret, "\n");
                if (r == 0)
                        r = write_loc(p, key, secret, strlen(secret), MODE_SECRET);
        }
        OPENSSL_cleanse(secret, sizeof(secret));
        if (r < 0)
                return r;
        strcat(pub_text, "\n");
        return write_loc(p, pub, pub_text, strlen(pub_text), MODE_PUBLIC);
}

int pki_curve_ensure(const char *dir, const char *name, char **ret_error)
{
        _cleanup_close_ int dfd = -1;
        Pki p = { .dir = dir, .dfd = -1, .clients_fd = -1, .authorities_fd = -1, .ret_error = ret_error };
        Loc key, pub;
        int r;

        if (!id_is_valid(name) || strchr(name, '/'))
                return pki_fail(&p, -EINVAL, NULL, "invalid key name \"%.80s\"", strempty(name));
        r = dfd = open_private_dir(&p, AT_FDCWD, dir, NULL);
        if (r < 0)
                return r;
        loc_init(&key, dfd, "", name, ".key");
        loc_init(&pub, dfd, "", name, ".pub");
        r = loc_exists(&p, &pub);
        return r == 0 ? curve_pair_write(&p, &key, &pub) : MIN(r, 0);
}

int pki_demo_ensure(const char *dir, const char *const *clients, size_t n_clients, const char *const *authorities,
                    size_t n_authorities, char **ret_error)
{
        _cleanup_close_ int dfd = -1, clients_fd = -1, authorities_fd = -1;
        Pki p = {
                .dir = dir,
                .dfd = -1,
                .clients_fd = -1,
                .authorities_fd = -1,
        };
        char *error = NULL;
        Loc key, crt;
        int r;

        p.ret_error = &error;

        r = check_ids(&p, clients, n_clients, "client");
        if (r < 0)
                goto out;
        r = check_ids(&p, authorities, n_authorities, "authority");
        if (r < 0)
                goto out;

        r = dfd = open_private_dir(&p, AT_FDCWD, dir, NULL);
        if (r < 0)
                goto out;
        p.dfd = dfd;
        if (n_clients > 0) {
                r = clients_fd = open_private_dir(&p, dfd, "clients", "clients");
                if (r < 0)
                        goto out;
                p.clients_fd = clients_fd;
        }
        if (n_authorities > 0) {
                r = authorities_fd = open_private_dir(&p, dfd, "authorities", "authorities");
                if (r < 0)
                        goto out;
                p.authorities_fd = authorities_fd;
        }

        r = ensure_ca(&p);
        if (r < 0)
                goto out;

        loc_init(&key, dfd, "", "node", ".key");
        loc_init(&crt, dfd, "", "node", ".crt");
        r = ensure_leaf(&p, &key, &crt, PKI_NODE_CN, CERT_NODE, KEY_REQUIRED);
        if (r < 0)
                goto out;

        loc_init(&key, dfd, "", "signing", ".key");
        loc_init(&crt, dfd, "", "signing", ".jwk");
        r = ensure_jwk_pair(&p, &key, &crt, KEY_REQUIRED);
        if (r < 0)
                goto out;

        r = ensure_log_key(&p);
        if (r < 0)
                goto out;
        r = ensure_pseudonym_key(&p);
        if (r < 0)
                goto out;

        for (size_t i = 0; i < n_clients; i++) {
                char name[PKI_NAME_MAX];

                pki_client_name(clients[i], name, sizeof(name));
                loc_init(&key, clients_fd, "clients/", name, ".key");
                loc_init(&crt, clients_fd, "clients/", name, ".crt");
                /* the client system may hold its key itself: then only the certificate stays here */
                r = ensure_leaf(&p, &key, &crt, clients[i], CERT_CLIENT, KEY_MAY_BE_ELSEWHERE);
                if (r < 0)
                        goto out;
        }

        for (size_t i = 0; i < n_authorities; i++) {
                char name[PKI_NAME_MAX];

                pki_client_name(authorities[i], name, sizeof(name));
                loc_init(&key, authorities_fd, "authorities/", name, ".key");
                loc_init(&crt, authorities_fd, "authorities/", name, ".jwk");
                /* likewise, the consent authority may hold its signing key itself */
                r = ensure_jwk_pair(&p, &key, &crt, KEY_MAY_BE_ELSEWHERE);
                if (r < 0)
                        goto out;
        }
        r = 0;

out:
        EVP_PKEY_free(p.ca_key);
        X509_free(p.ca_crt);
        ERR_clear_error();
        if (r < 0 && ret_error) {
                if (!error)
                        (void)asprintf(&error, "%s: %s", dir, strerror(-r));
                *ret_error = error;
        } else
                free(error);
        return r;
}
