/* pki-file.c: the PKI's files written safely, keys and certificates as X.509 objects, ids, private folders */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
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

#include "crypto/hash.h"
#include "crypto/keyfile.h"
#include "crypto/openssl-util.h"
#include "crypto/pki-internal.h"
#include "util/error.h"
#include "util/macro.h"

int pki_fail(Pki *p, int r, const Loc *l, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        ERR_clear_error();
        if (!p->ret_error || *p->ret_error)
                return r;

        va_start(ap, fmt);
        msg = error_vformat(fmt, ap);
        va_end(ap);

        if (asprintf(p->ret_error, "%s%s%s%s: %s", l && l->dir ? l->dir : p->dir, l ? "/" : "", l ? l->sub : "",
                     l ? l->name : "", msg ? msg : strerror(r < 0 ? -r : r)) < 0)
                *p->ret_error = NULL;
        return r;
}

void pki_loc_init(Loc *l, int dfd, const char *sub, const char *base, const char *suffix)
{
        l->dfd = dfd;
        l->dir = NULL;
        l->sub = sub;
        snprintf(l->name, sizeof(l->name), "%s%s", base, suffix);
}

int pki_loc_at_path(Pki *p, const char *path, Loc *ret, int *ret_dfd, char **ret_dir)
{
        _cleanup_free_ char *a = strdup(path), *b = strdup(path), *dir = NULL;
        const char *base;
        int fd;

        if (!a || !b)
                return -ENOMEM;
        dir = strdup(dirname(a));
        base = basename(b);
        if (!dir)
                return -ENOMEM;
        if (isempty(base) || streq(base, ".") || streq(base, "..") || strlen(base) >= sizeof(ret->name))
                return pki_fail(p, -EINVAL, NULL, "\"%s\" does not name a file", path);
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return pki_fail(p, -errno, NULL, "cannot open the folder \"%s\": %s", dir, strerror(errno));
        pki_loc_init(ret, fd, "", base, "");
        ret->dir = dir;
        *ret_dfd = fd;
        *ret_dir = TAKE_PTR(dir);
        return 0;
}

/* Return: 1 if the file exists, 0 if not, or a negative errno (reported). */
int pki_loc_exists(Pki *p, const Loc *l)
{
        struct stat st;

        if (fstatat(l->dfd, l->name, &st, 0) < 0)
                return errno == ENOENT ? 0 : pki_fail(p, -errno, l, "cannot check: %s", strerror(errno));
        if (!S_ISREG(st.st_mode))
                return pki_fail(p, -EISDIR, l, "cannot check: %s", strerror(EISDIR));
        return 1;
}

int pki_loc_read(Pki *p, const Loc *l, bool secret, char **ret, size_t *ret_size)
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

        buf[n] = 0;
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
 * pki_loc_write(): create the file with `data`, atomically and without ever
 * replacing an existing one: the content goes to a temporary file created
 * with O_EXCL and its final mode (a key is never readable by others, not
 * even for a moment), is synced, and is then moved into place with
 * RENAME_NOREPLACE (or link(), which also refuses to replace).
 */
int pki_loc_write(Pki *p, const Loc *l, const void *data, size_t size, mode_t mode, bool replace)
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
        if (mode == PKI_MODE_PUBLIC && fchmod(fd, mode) < 0) {
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

        if (replace) {
                if (renameat(l->dfd, tmp, l->dfd, l->name) < 0) {
                        r = -errno;
                        goto fail;
                }
        } else if (renameat2(l->dfd, tmp, l->dfd, l->name, RENAME_NOREPLACE) < 0) {
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
int pki_loc_write_bio(Pki *p, const Loc *l, BIO *bio, mode_t mode, bool replace)
{
        char *data;
        long size;
        int r;

        size = BIO_get_mem_data(bio, &data);
        if (size <= 0)
                return pki_fail(p, -ENOMEM, l, "cannot encode");
        r = pki_loc_write(p, l, data, (size_t)size, mode, replace);
        if (mode == PKI_MODE_SECRET)
                OPENSSL_cleanse(data, (size_t)size);
        return r;
}

int pki_key_load(Pki *p, const Loc *l, const char *type, EVP_PKEY **ret)
{
        _cleanup_free_ char *data = NULL;
        _cleanup_(BIO_freep) BIO *bio = NULL;
        EVP_PKEY *pkey;
        size_t size;
        int r;

        r = pki_loc_read(p, l, true, &data, &size);
        if (r < 0)
                return r;

        bio = BIO_new_mem_buf(data, (int)size);
        if (!bio)
                return -ENOMEM;
        pkey = PEM_read_bio_PrivateKey(bio, NULL, keyfile_no_password, NULL);
        OPENSSL_cleanse(data, size);
        if (!pkey)
                return pki_fail(p, -EINVAL, l, "not an unencrypted PEM private key");
        if (type && !EVP_PKEY_is_a(pkey, type)) {
                EVP_PKEY_free(pkey);
                return pki_fail(p, -EINVAL, l, "not an %s key", type);
        }

        *ret = pkey;
        return 0;
}

int pki_key_write(Pki *p, const Loc *l, EVP_PKEY *pkey)
{
        _cleanup_(BIO_freep) BIO *bio = NULL;

        bio = BIO_new(BIO_s_secmem());
        if (!bio)
                return -ENOMEM;
        if (!PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL))
                return pki_fail(p, -ENOMEM, l, "cannot encode the key");
        return pki_loc_write_bio(p, l, bio, PKI_MODE_SECRET, false);
}

/*
 * pki_key_ensure(): load the private key file if it exists, or generate a key
 * (P-256 for "EC", Ed25519 for "ED25519") and create the file.
 */
int pki_key_ensure(Pki *p, const Loc *l, const char *type, EVP_PKEY **ret)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        int r;

        r = pki_loc_exists(p, l);
        if (r < 0)
                return r;
        if (r > 0)
                return pki_key_load(p, l, type, ret);

        if (streq(type, "EC"))
                pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        else
                pkey = EVP_PKEY_Q_keygen(NULL, NULL, type);
        if (!pkey)
                return pki_fail(p, -EIO, l, "cannot generate an %s key", type);

        r = pki_key_write(p, l, pkey);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(pkey);
        return 0;
}

int pki_cert_load(Pki *p, const Loc *l, X509 **ret)
{
        _cleanup_free_ char *data = NULL;
        _cleanup_(BIO_freep) BIO *bio = NULL;
        X509 *x;
        size_t size;
        int r;

        r = pki_loc_read(p, l, false, &data, &size);
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

/* The digest to sign with `key`: none for Ed25519, which signs the message itself. */
const EVP_MD *pki_sign_md(EVP_PKEY *key)
{
        return EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448") ? NULL : EVP_sha256();
}

/* A version 3 certificate with a random serial, valid from an hour ago for `days`, for `key`, issued by `issuer`
 * (NULL: itself); the caller sets the subject and extensions, then cert_finish(). */
static int cert_begin(EVP_PKEY *key, unsigned days, X509 **ret)
{
        _cleanup_(X509_freep) X509 *x = NULL;
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
            !X509_time_adj_ex(X509_getm_notAfter(x), (long)days, 0, NULL))
                return -EIO;
        if (!X509_set_pubkey(x, key))
                return -ENOMEM;
        *ret = TAKE_PTR(x);
        return 0;
}

/* The key identifiers, then the signature. */
static int cert_finish(X509 *x, X509V3_CTX *ctx, EVP_PKEY *signing_key)
{
        int r;

        /* the subject key id first: the CA's authority key id refers to it */
        if ((r = add_ext(x, ctx, NID_subject_key_identifier, "hash")) < 0 ||
            (r = add_ext(x, ctx, NID_authority_key_identifier, "keyid:always")) < 0)
                return r;
        if (X509_sign(x, signing_key, pki_sign_md(signing_key)) <= 0)
                return -EIO;
        return 0;
}

static int kind_extensions(X509 *x, X509V3_CTX *ctx, CertKind kind, const char *san)
{
        static const char *const eku[] = {
                [CERT_NODE] = "serverAuth",
                [CERT_CLIENT] = "clientAuth",
                [CERT_ADAPTER] = "clientAuth",
        };
        int r;

        if (kind == CERT_CA) {
                if ((r = add_ext(x, ctx, NID_basic_constraints, "critical,CA:TRUE")) < 0 ||
                    (r = add_ext(x, ctx, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature")) < 0)
                        return r;
                return 0;
        }
        if ((r = add_ext(x, ctx, NID_basic_constraints, "critical,CA:FALSE")) < 0 ||
            (r = add_ext(x, ctx, NID_key_usage, "critical,digitalSignature")) < 0 ||
            (r = add_ext(x, ctx, NID_ext_key_usage, eku[kind])) < 0)
                return r;
        if (kind == CERT_NODE && !san)
                san = "DNS:localhost,IP:127.0.0.1,IP:::1";
        if (san && kind != CERT_CLIENT && (r = add_ext(x, ctx, NID_subject_alt_name, san)) < 0)
                return r;
        return 0;
}

int pki_cert_make(EVP_PKEY *key, const char *cn, CertKind kind, unsigned days, const char *san, X509 *issuer,
                  EVP_PKEY *issuer_key, X509 **ret)
{
        _cleanup_(X509_freep) X509 *x = NULL;
        char org[PKI_NAME_MAX] = PKI_ORGANIZATION;
        X509V3_CTX ctx;
        X509_NAME *name;
        int r;

        r = cert_begin(key, days ? days : kind == CERT_CA ? PKI_CA_DAYS : PKI_LEAF_DAYS, &x);
        if (r < 0)
                return r;
        /* the organisation of the CA (the demo's is "xbus demo") */
        if (issuer &&
            X509_NAME_get_text_by_NID(X509_get_subject_name(issuer), NID_organizationName, org, sizeof(org)) <= 0)
                org[0] = 0;
        name = X509_get_subject_name(x);
        if ((org[0] && !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)org, -1, -1, 0)) ||
            !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0))
                return -EINVAL;
        if (!X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name))
                return -ENOMEM;

        X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
        r = kind_extensions(x, &ctx, kind, san);
        if (r == 0)
                r = cert_finish(x, &ctx, issuer_key ? issuer_key : key);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(x);
        return 0;
}

int pki_cert_renew(X509 *old, unsigned days, X509 *issuer, EVP_PKEY *issuer_key, X509 **ret)
{
        static const int copied[] = { NID_basic_constraints, NID_key_usage, NID_ext_key_usage, NID_subject_alt_name };
        _cleanup_(X509_freep) X509 *x = NULL;
        X509V3_CTX ctx;
        int r;

        r = cert_begin(X509_get0_pubkey(old), days ? days : PKI_LEAF_DAYS, &x);
        if (r < 0)
                return r;
        if (!X509_set_subject_name(x, X509_get_subject_name(old)) ||
            !X509_set_issuer_name(x, X509_get_subject_name(issuer)))
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(copied); i++) {
                int at = X509_get_ext_by_NID(old, copied[i], -1);

                if (at >= 0 && !X509_add_ext(x, X509_get_ext(old, at), -1))
                        return -ENOMEM;
        }
        X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
        r = cert_finish(x, &ctx, issuer_key);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(x);
        return 0;
}

void pki_cert_cn(X509 *x, char *out, size_t size)
{
        if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out, (int)size) < 0)
                out[0] = 0;
}

int pki_cert_write(Pki *p, const Loc *l, X509 *x, bool replace)
{
        _cleanup_(BIO_freep) BIO *bio = NULL;

        bio = BIO_new(BIO_s_mem());
        if (!bio)
                return -ENOMEM;
        if (!PEM_write_bio_X509(bio, x))
                return pki_fail(p, -ENOMEM, l, "cannot encode the certificate");
        return pki_loc_write_bio(p, l, bio, PKI_MODE_PUBLIC, replace);
}

int pki_ca_get(Pki *p, const Loc *for_what)
{
        Loc key, crt;
        const Loc *k = p->ca_key_at, *c = p->ca_crt_at;
        int r;

        if (p->ca_key)
                return 0;

        pki_loc_init(&key, p->dfd, "", "ca", ".key");
        pki_loc_init(&crt, p->dfd, "", "ca", ".crt");
        k = k ? k : &key;
        c = c ? c : &crt;
        r = pki_loc_exists(p, k);
        if (r < 0)
                return r;
        if (r == 0)
                return pki_fail(p, -ENOKEY, for_what, "cannot be issued: %s is missing", k->name);

        r = pki_key_load(p, k, NULL, &p->ca_key);
        if (r < 0)
                return r;
        r = p->ca_crt ? 0 : pki_cert_load(p, c, &p->ca_crt);
        if (r < 0)
                return r;
        if (X509_check_ca(p->ca_crt) < 1)
                return pki_fail(p, -EINVAL, c, "not a CA certificate");
        if (X509_check_private_key(p->ca_crt, p->ca_key) != 1)
                return pki_fail(p, -EINVAL, k, "does not match %s", c->name);
        return 0;
}

bool pki_id_valid(const char *id)
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

int pki_dir_open_private(Pki *p, int at, const char *path, const char *sub)
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
