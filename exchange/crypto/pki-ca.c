/* pki-ca.c: a CA the operator names: requests, issuing, the index (issued.txt), revocation and the CRL, renewal */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/openssl-util.h"
#include "crypto/pki-ca.h"
#include "crypto/pki-internal.h"
#include "crypto/pki.h"
#include "util/fileio.h"
#include "util/macro.h"
#include "util/parse.h"

#define INDEX_NAME "issued.txt"
#define INDEX_MAX MIB(64)
#define INDEX_HEADER                                                    \
        "# xbus pki: the certificates this CA issued (xbus pki list)\n" \
        "# STATUS SERIAL NOT-AFTER REVOKED-AT REASON KIND NAME\n"
#define CRL_NAME "ca.crl"
#define TIME_TEXT_MAX 21 /* 2026-01-31T12:00:00Z and a NUL */
#define SAN_MAX 2048

DEFINE_TRIVIAL_CLEANUP_FUNC(X509_REQ *, X509_REQ_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(X509_CRL *, X509_CRL_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(ASN1_TIME *, ASN1_TIME_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(ASN1_INTEGER *, ASN1_INTEGER_free);

struct PkiCa {
        Pki p;
        char *dir;
        int dfd;
        Loc key_at, crt_at; /* the CA's files when named by path */
        int key_dfd, crt_dfd;
        char *key_dir, *crt_dir;
};

/* --- names --------------------------------------------------------------- */

static const char *const kind_names[_PKI_KIND_MAX] = {
        [PKI_KIND_CLIENT] = "client",
        [PKI_KIND_NODE] = "node",
        [PKI_KIND_ADAPTER] = "adapter",
};

static const CertKind cert_kinds[_PKI_KIND_MAX] = {
        [PKI_KIND_CLIENT] = CERT_CLIENT,
        [PKI_KIND_NODE] = CERT_NODE,
        [PKI_KIND_ADAPTER] = CERT_ADAPTER,
};

static const struct {
        PkiReason reason;
        const char *name;
} reasons[] = {
        { PKI_REASON_UNSPECIFIED, "unspecified" },
        { PKI_REASON_KEY_COMPROMISE, "keyCompromise" },
        { PKI_REASON_AFFILIATION_CHANGED, "affiliationChanged" },
        { PKI_REASON_SUPERSEDED, "superseded" },
        { PKI_REASON_CESSATION, "cessationOfOperation" },
};

const char *pki_kind_to_string(PkiKind k)
{
        return k >= 0 && k < _PKI_KIND_MAX ? kind_names[k] : NULL;
}

int pki_kind_from_string(const char *s)
{
        for (int k = 0; s && k < _PKI_KIND_MAX; k++)
                if (streq(s, kind_names[k]))
                        return k;
        return -EINVAL;
}

const char *pki_reason_to_string(PkiReason r)
{
        for (size_t i = 0; i < ELEMENTSOF(reasons); i++)
                if (reasons[i].reason == r)
                        return reasons[i].name;
        return NULL;
}

int pki_reason_from_string(const char *s)
{
        for (size_t i = 0; s && i < ELEMENTSOF(reasons); i++)
                if (streq(s, reasons[i].name))
                        return (int)reasons[i].reason;
        return -EINVAL;
}

static PkiKind kind_of(CertKind k)
{
        return k == CERT_NODE ? PKI_KIND_NODE : k == CERT_ADAPTER ? PKI_KIND_ADAPTER : PKI_KIND_CLIENT;
}

/* A host name (util/parse.h dns_name_valid()). */
static bool host_valid(const char *s)
{
        return s && dns_name_valid(s, strlen(s));
}

/* The name a certificate of `kind` may carry as its commonName. */
static bool name_valid(PkiKind kind, const char *name)
{
        if (kind == PKI_KIND_NODE)
                return name && strlen(name) <= PKI_ID_MAX && host_valid(name);
        return pki_id_valid(name);
}

/* subjectAltName in OpenSSL's form from checked names ("DNS:a,IP:1.2.3.4"); "" for none. */
static int san_build(Pki *p, const PkiIssue *w, const char *name, char *out, size_t size)
{
        size_t n = 0;

        out[0] = 0;
        if (w->kind == PKI_KIND_CLIENT)
                return (w->dns && w->dns[0]) || (w->addrs && w->addrs[0])
                               ? pki_fail(p, -EINVAL, NULL, "a client certificate carries no DNS or IP names")
                               : 0;
        for (const char *const *d = w->dns; d && *d; d++) {
                if (!host_valid(strneq(*d, "*.", 2) ? *d + 2 : *d))
                        return pki_fail(p, -EINVAL, NULL, "\"%.80s\" is not a DNS name", *d);
                n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%sDNS:%s", n ? "," : "", *d);
        }
        for (const char *const *a = w->addrs; a && *a; a++) {
                unsigned char buf[16];

                if (inet_pton(strchr(*a, ':') ? AF_INET6 : AF_INET, *a, buf) != 1)
                        return pki_fail(p, -EINVAL, NULL, "\"%.80s\" is not an IP address", *a);
                n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%sIP:%s", n ? "," : "", *a);
        }
        if (n == 0 && w->kind == PKI_KIND_NODE)
                n = (size_t)snprintf(out, size,
                                     streq(name, "localhost") ? "DNS:localhost,IP:127.0.0.1,IP:::1" : "DNS:%s", name);
        return n < size ? 0 : pki_fail(p, -E2BIG, NULL, "too many names");
}

/* The keys a certificate may be issued for. */
static bool key_acceptable(EVP_PKEY *k)
{
        char group[64] = "";
        size_t n;

        if (EVP_PKEY_is_a(k, "RSA"))
                return EVP_PKEY_get_bits(k) >= 2048;
        if (EVP_PKEY_is_a(k, "EC"))
                return EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &n) == 1 &&
                       (streq(group, "prime256v1") || streq(group, "secp384r1"));
        return EVP_PKEY_is_a(k, "ED25519");
}

/* --- times --------------------------------------------------------------- */

static int64_t asn1_time_unix(const ASN1_TIME *t)
{
        struct tm tm = {};

        if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
                return 0;
        return (int64_t)timegm(&tm);
}

static void time_text(int64_t t, char out[TIME_TEXT_MAX])
{
        time_t tt = (time_t)t;
        struct tm tm;

        if (t == 0 || !gmtime_r(&tt, &tm) || strftime(out, TIME_TEXT_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(out, TIME_TEXT_MAX, "-");
}

static int time_parse(const char *s, int64_t *ret)
{
        struct tm tm = {};
        const char *end;

        if (streq(s, "-")) {
                *ret = 0;
                return 0;
        }
        end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
        if (!end || *end)
                return -EINVAL;
        *ret = (int64_t)timegm(&tm);
        return 0;
}

/* --- the index ----------------------------------------------------------- */

static int issued_from_cert(X509 *x, CertKind kind, PkiIssued *ret)
{
        _cleanup_(BN_freep) BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
        char *hex = bn ? BN_bn2hex(bn) : NULL;

        if (!hex)
                return -ENOMEM;
        *ret = (PkiIssued){ .not_after = asn1_time_unix(X509_get0_notAfter(x)), .kind = kind_of(kind) };
        snprintf(ret->serial, sizeof(ret->serial), "%s", hex);
        OPENSSL_free(hex);
        pki_cert_cn(x, ret->name, sizeof(ret->name));
        return 0;
}

static void index_line(const PkiIssued *e, char *out, size_t size)
{
        char after[TIME_TEXT_MAX], revoked[TIME_TEXT_MAX];

        time_text(e->not_after, after);
        time_text(e->revoked ? e->revoked_at : 0, revoked);
        snprintf(out, size, "%c %s %s %s %s %s %s\n", e->revoked ? 'R' : 'V', e->serial, after, revoked,
                 e->revoked ? pki_reason_to_string(e->reason) : "-", kind_names[e->kind], e->name);
}

/* One line of the index into *e. Return: 0 or -EINVAL. */
static int index_parse_line(char *line, PkiIssued *e)
{
        char *f[7], *save = NULL;
        size_t n = 0;
        int k;

        for (char *t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
                if (n == ELEMENTSOF(f))
                        return -EINVAL;
                f[n++] = t;
        }
        if (n != ELEMENTSOF(f) || strlen(f[0]) != 1 || !strchr("VR", f[0][0]) || strlen(f[1]) >= sizeof(e->serial) ||
            strspn(f[1], "0123456789ABCDEF") != strlen(f[1]) || !pki_id_valid(f[6]))
                return -EINVAL;
        *e = (PkiIssued){ .revoked = f[0][0] == 'R' };
        snprintf(e->serial, sizeof(e->serial), "%s", f[1]);
        snprintf(e->name, sizeof(e->name), "%s", f[6]);
        if (time_parse(f[2], &e->not_after) < 0 || time_parse(f[3], &e->revoked_at) < 0)
                return -EINVAL;
        k = pki_kind_from_string(f[5]);
        if (k < 0)
                return -EINVAL;
        e->kind = (PkiKind)k;
        k = e->revoked ? pki_reason_from_string(f[4]) : streq(f[4], "-") ? 0 : -EINVAL;
        if (k < 0 || (e->revoked && e->revoked_at == 0))
                return -EINVAL;
        e->reason = (PkiReason)k;
        return 0;
}

/* The index of the CA folder; a last line without its newline (an append cut short) is left out. */
static int index_read(Pki *p, PkiIssued **ret, size_t *ret_n)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        _cleanup_free_ PkiIssued *v = NULL;
        size_t size = 0, n = 0, lineno = 0;
        char *line, *next;
        int r;

        if (asprintf(&path, "%s/%s", p->dir, INDEX_NAME) < 0)
                return -ENOMEM;
        r = read_full_file(path, INDEX_MAX, &text, &size);
        if (r == -ENOENT) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (r < 0)
                return pki_fail(p, r, NULL, "cannot read %s: %s", INDEX_NAME, strerror(-r));
        for (line = text; line && *line; line = next) {
                PkiIssued *grown;

                lineno++;
                next = strchr(line, '\n');
                if (!next)
                        break;
                *next++ = 0;
                if (line[0] == '#' || line[0] == 0)
                        continue;
                grown = reallocarray(v, n + 1, sizeof(*v));
                if (!grown)
                        return -ENOMEM;
                v = grown;
                if (index_parse_line(line, &v[n]) < 0)
                        return pki_fail(p, -EBADMSG, NULL, "%s:%zu: not an index line", INDEX_NAME, lineno);
                n++;
        }
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

/* The whole index again (revocations). */
static int index_write(Pki *p, const PkiIssued *v, size_t n)
{
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        Loc l;
        FILE *f = open_memstream(&text, &size);

        if (!f)
                return -ENOMEM;
        fputs(INDEX_HEADER, f);
        for (size_t i = 0; i < n; i++) {
                char line[256];

                index_line(&v[i], line, sizeof(line));
                fputs(line, f);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        pki_loc_init(&l, p->dfd, "", INDEX_NAME, "");
        return pki_loc_write(p, &l, text, size, PKI_MODE_PUBLIC, true);
}

int pki_index_add(Pki *p, X509 *x, CertKind kind)
{
        _cleanup_close_ int fd = -1;
        PkiIssued e;
        char line[256];
        struct stat st;
        Loc l;
        int r;

        pki_loc_init(&l, p->dfd, "", INDEX_NAME, "");
        r = issued_from_cert(x, kind, &e);
        if (r < 0)
                return r;
        index_line(&e, line, sizeof(line));
        fd = openat(p->dfd, INDEX_NAME, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
                    PKI_MODE_PUBLIC);
        if (fd < 0 || fstat(fd, &st) < 0 || (st.st_size == 0 && fchmod(fd, PKI_MODE_PUBLIC) < 0))
                return pki_fail(p, -errno, &l, "cannot open: %s", strerror(errno));
        /* one write each: an append is whole or, after a crash, a last line the reader leaves out */
        if ((st.st_size == 0 && write(fd, INDEX_HEADER, strlen(INDEX_HEADER)) != (ssize_t)strlen(INDEX_HEADER)) ||
            write(fd, line, strlen(line)) != (ssize_t)strlen(line) || fsync(fd) < 0)
                return pki_fail(p, errno ? -errno : -EIO, &l, "cannot append: %s", strerror(errno ? errno : EIO));
        return 0;
}

/* --- the CA -------------------------------------------------------------- */

/* An operation's errors go to a fresh message, handed to the caller at its end. */
static void op_begin(PkiCa *ca, char **error)
{
        *error = NULL;
        ca->p.ret_error = error;
}

static int op_end(PkiCa *ca, int r, char *error, char **ret_error)
{
        ca->p.ret_error = NULL;
        ERR_clear_error();
        if (r < 0 && ret_error) {
                if (!error && asprintf(&error, "%s: %s", ca->dir, strerror(-r)) < 0)
                        error = NULL;
                *ret_error = error;
        } else
                free(error);
        return r;
}

PkiCa *pki_ca_free(PkiCa *ca)
{
        if (!ca)
                return NULL;
        EVP_PKEY_free(ca->p.ca_key);
        X509_free(ca->p.ca_crt);
        if (ca->dfd >= 0)
                close(ca->dfd); /* and the lock with it */
        if (ca->key_dfd >= 0)
                close(ca->key_dfd);
        if (ca->crt_dfd >= 0)
                close(ca->crt_dfd);
        free(ca->key_dir);
        free(ca->crt_dir);
        free(ca->dir);
        free(ca);
        return NULL;
}

static int ca_setup(PkiCa *ca, const char *cert, const char *key)
{
        Loc crt;
        int r;

        r = ca->dfd = pki_dir_open_private(&ca->p, AT_FDCWD, ca->dir, NULL);
        if (r < 0)
                return r;
        ca->p.dfd = ca->dfd;
        if (flock(ca->dfd, LOCK_EX) < 0)
                return pki_fail(&ca->p, -errno, NULL, "cannot lock the folder: %s", strerror(errno));
        if (cert) {
                r = pki_loc_at_path(&ca->p, cert, &ca->crt_at, &ca->crt_dfd, &ca->crt_dir);
                if (r < 0)
                        return r;
                ca->p.ca_crt_at = &ca->crt_at;
        }
        if (key) {
                r = pki_loc_at_path(&ca->p, key, &ca->key_at, &ca->key_dfd, &ca->key_dir);
                if (r < 0)
                        return r;
                ca->p.ca_key_at = &ca->key_at;
        }
        pki_loc_init(&crt, ca->dfd, "", "ca", ".crt");
        r = pki_cert_load(&ca->p, cert ? &ca->crt_at : &crt, &ca->p.ca_crt);
        if (r < 0)
                return r;
        if (X509_check_ca(ca->p.ca_crt) < 1)
                return pki_fail(&ca->p, -EINVAL, cert ? &ca->crt_at : &crt, "not a CA certificate");
        return 0;
}

int pki_ca_open(PkiCa **ret, const char *dir, const char *cert, const char *key, char **ret_error)
{
        _cleanup_(pki_ca_freep) PkiCa *ca = NULL;
        char *error = NULL;
        int r;

        ca = calloc(1, sizeof(*ca));
        if (!ca)
                return -ENOMEM;
        ca->dfd = ca->key_dfd = ca->crt_dfd = -1;
        ca->dir = strdup(dir ? dir : "");
        if (!ca->dir)
                return -ENOMEM;
        ca->p = (Pki){ .dir = ca->dir, .dfd = -1, .clients_fd = -1, .authorities_fd = -1 };
        op_begin(ca, &error);
        r = isempty(dir) ? pki_fail(&ca->p, -EINVAL, NULL, "no CA folder") : ca_setup(ca, cert, key);
        r = op_end(ca, r, error, ret_error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(ca);
        return 0;
}

/* Sign a certificate for `pub` as `what` says (the request's commonName `csr_cn` when what->name is NULL). */
static int issue_for(PkiCa *ca, const PkiIssue *what, EVP_PKEY *pub, const char *csr_cn, const Loc *out, X509 **ret)
{
        const char *name = what->name ? what->name : csr_cn;
        char san[SAN_MAX];
        int r;

        if (what->kind < 0 || what->kind >= _PKI_KIND_MAX)
                return pki_fail(&ca->p, -EINVAL, NULL, "no such kind of certificate");
        if (!name_valid(what->kind, name))
                return pki_fail(&ca->p, -EINVAL, NULL,
                                what->kind == PKI_KIND_NODE ? "\"%.80s\" is not a host name"
                                                            : "\"%.80s\" is not a name of 1..64 characters of A-Z "
                                                              "a-z 0-9 - . _ / : (a subsystem id for a client)",
                                strempty(name));
        if (!key_acceptable(pub))
                return pki_fail(&ca->p, -EINVAL, NULL,
                                "the key is not EC P-256 or P-384, RSA of 2048 bits or more, or Ed25519");
        r = san_build(&ca->p, what, name, san, sizeof(san));
        if (r == 0)
                r = pki_ca_get(&ca->p, out);
        if (r < 0)
                return r;
        r = pki_cert_make(pub, name, cert_kinds[what->kind], what->days, san[0] ? san : NULL, ca->p.ca_crt,
                          ca->p.ca_key, ret);
        return r < 0 ? pki_fail(&ca->p, r, out, "cannot build the certificate") : 0;
}

/* Write the new certificate and record it. */
static int issued_write(PkiCa *ca, const Loc *out, X509 *x, CertKind kind, bool replace, PkiIssued *ret)
{
        int r = pki_cert_write(&ca->p, out, x, replace);

        if (r == 0)
                r = pki_index_add(&ca->p, x, kind);
        if (r == 0 && ret)
                r = issued_from_cert(x, kind, ret);
        return r;
}

static int csr_load(Pki *p, const Loc *l, X509_REQ **ret)
{
        _cleanup_free_ char *data = NULL;
        _cleanup_(BIO_freep) BIO *bio = NULL;
        _cleanup_(X509_REQ_freep) X509_REQ *req = NULL;
        EVP_PKEY *pub;
        size_t size;
        int r;

        r = pki_loc_read(p, l, false, &data, &size);
        if (r < 0)
                return r;
        bio = BIO_new_mem_buf(data, (int)size);
        if (!bio)
                return -ENOMEM;
        req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
        if (!req)
                return pki_fail(p, -EINVAL, l, "not a PEM certificate request");
        pub = X509_REQ_get0_pubkey(req);
        if (!pub || X509_REQ_verify(req, pub) != 1)
                return pki_fail(p, -EINVAL, l, "the request's signature does not verify");
        *ret = TAKE_PTR(req);
        return 0;
}

static int issue_csr(PkiCa *ca, const PkiIssue *what, const char *csr_path, const char *out_path, PkiIssued *ret)
{
        _cleanup_(X509_REQ_freep) X509_REQ *req = NULL;
        _cleanup_(X509_freep) X509 *x = NULL;
        _cleanup_close_ int in_fd = -1, out_fd = -1;
        _cleanup_free_ char *in_dir = NULL, *out_dir = NULL;
        char cn[PKI_NAME_MAX + 1] = "";
        Loc in, out;
        int r;

        r = pki_loc_at_path(&ca->p, csr_path, &in, &in_fd, &in_dir);
        if (r == 0)
                r = pki_loc_at_path(&ca->p, out_path, &out, &out_fd, &out_dir);
        if (r == 0)
                r = csr_load(&ca->p, &in, &req);
        if (r < 0)
                return r;
        if (pki_loc_exists(&ca->p, &out) != 0)
                return pki_fail(&ca->p, -EEXIST, &out, "exists: certificates are never replaced");
        if (X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_commonName, cn, sizeof(cn)) < 0)
                cn[0] = 0;
        r = issue_for(ca, what, X509_REQ_get0_pubkey(req), cn, &out, &x);
        return r < 0 ? r : issued_write(ca, &out, x, cert_kinds[what->kind], false, ret);
}

int pki_ca_issue(PkiCa *ca, const PkiIssue *what, const char *csr_path, const char *out_path, PkiIssued *ret,
                 char **ret_error)
{
        char *error;
        int r;

        op_begin(ca, &error);
        r = issue_csr(ca, what, csr_path, out_path, ret);
        return op_end(ca, r, error, ret_error);
}

static int issue_new_key(PkiCa *ca, const PkiIssue *what, const char *out_dir, PkiIssued *ret)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(X509_freep) X509 *x = NULL;
        _cleanup_close_ int dfd = -1;
        Pki out = { .dir = out_dir, .dfd = -1, .ret_error = ca->p.ret_error };
        char base[PKI_NAME_MAX];
        Loc kl, cl;
        int r;

        if (!what->name || what->kind < 0 || what->kind >= _PKI_KIND_MAX || !name_valid(what->kind, what->name))
                return pki_fail(&ca->p, -EINVAL, NULL, "\"%.80s\" is not a valid name for a %s certificate",
                                strempty(what->name), strempty(pki_kind_to_string(what->kind)));
        r = dfd = pki_dir_open_private(&out, AT_FDCWD, out_dir, NULL);
        if (r < 0)
                return r;
        pki_client_name(what->name, base, sizeof(base));
        pki_loc_init(&kl, dfd, "", base, ".key");
        pki_loc_init(&cl, dfd, "", base, ".crt");
        kl.dir = cl.dir = out_dir;
        if (pki_loc_exists(&ca->p, &kl) != 0 || pki_loc_exists(&ca->p, &cl) != 0)
                return pki_fail(&ca->p, -EEXIST, &cl, "or %s exists: keys and certificates are never replaced",
                                kl.name);
        /* everything that can be refused before a key is made */
        r = pki_ca_get(&ca->p, &cl);
        if (r == 0)
                r = pki_key_ensure(&ca->p, &kl, "EC", &key);
        if (r == 0)
                r = issue_for(ca, what, key, NULL, &cl, &x);
        return r < 0 ? r : issued_write(ca, &cl, x, cert_kinds[what->kind], false, ret);
}

int pki_ca_issue_new_key(PkiCa *ca, const PkiIssue *what, const char *out_dir, PkiIssued *ret, char **ret_error)
{
        char *error;
        int r;

        op_begin(ca, &error);
        r = issue_new_key(ca, what, out_dir, ret);
        return op_end(ca, r, error, ret_error);
}

static int renew(PkiCa *ca, const char *cert_path, const char *out_path, unsigned days, PkiIssued *ret)
{
        _cleanup_(X509_freep) X509 *old = NULL, *x = NULL;
        _cleanup_close_ int in_fd = -1, out_fd = -1;
        _cleanup_free_ char *in_dir = NULL, *out_dir = NULL;
        _cleanup_free_ PkiIssued *v = NULL;
        PkiIssued was;
        CertKind kind = CERT_CLIENT;
        Loc in, out;
        size_t n = 0;
        int r;

        r = pki_loc_at_path(&ca->p, cert_path, &in, &in_fd, &in_dir);
        if (r == 0 && out_path)
                r = pki_loc_at_path(&ca->p, out_path, &out, &out_fd, &out_dir);
        if (r == 0)
                r = pki_cert_load(&ca->p, &in, &old);
        if (r == 0)
                r = pki_ca_get(&ca->p, out_path ? &out : &in);
        if (r < 0)
                return r;
        if (X509_check_issued(ca->p.ca_crt, old) != X509_V_OK || X509_verify(old, X509_get0_pubkey(ca->p.ca_crt)) != 1)
                return pki_fail(&ca->p, -EINVAL, &in, "was not issued by this CA");
        if (out_path && pki_loc_exists(&ca->p, &out) != 0)
                return pki_fail(&ca->p, -EEXIST, &out, "exists: certificates are never replaced");
        /* the kind as recorded, else as the certificate's purpose says */
        if (X509_get_extended_key_usage(old) & XKU_SSL_SERVER)
                kind = CERT_NODE;
        r = issued_from_cert(old, kind, &was);
        if (r == 0)
                r = index_read(&ca->p, &v, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (streq(v[i].serial, was.serial))
                        kind = cert_kinds[v[i].kind];
        r = pki_cert_renew(old, days, ca->p.ca_crt, ca->p.ca_key, &x);
        if (r < 0)
                return pki_fail(&ca->p, r, &in, "cannot build the certificate");
        return issued_write(ca, out_path ? &out : &in, x, kind, !out_path, ret);
}

int pki_ca_renew(PkiCa *ca, const char *cert_path, const char *out_path, unsigned days, PkiIssued *ret,
                 char **ret_error)
{
        char *error;
        int r;

        op_begin(ca, &error);
        r = renew(ca, cert_path, out_path, days, ret);
        return op_end(ca, r, error, ret_error);
}

/* --- revocation ---------------------------------------------------------- */

static int crl_add(X509_CRL *crl, const PkiIssued *e)
{
        _cleanup_(BN_freep) BIGNUM *bn = NULL;
        _cleanup_(ASN1_INTEGER_freep) ASN1_INTEGER *serial = NULL;
        _cleanup_(ASN1_TIME_freep) ASN1_TIME *when = NULL;
        X509_REVOKED *rv;
        int ok;

        if (!BN_hex2bn(&bn, e->serial) || !(serial = BN_to_ASN1_INTEGER(bn, NULL)) ||
            !(when = ASN1_TIME_set(NULL, (time_t)e->revoked_at)))
                return -ENOMEM;
        rv = X509_REVOKED_new();
        if (!rv)
                return -ENOMEM;
        ok = X509_REVOKED_set_serialNumber(rv, serial) && X509_REVOKED_set_revocationDate(rv, when);
        if (ok && e->reason != PKI_REASON_UNSPECIFIED) {
                ASN1_ENUMERATED *code = ASN1_ENUMERATED_new();

                ok = code && ASN1_ENUMERATED_set(code, e->reason) &&
                     X509_REVOKED_add1_ext_i2d(rv, NID_crl_reason, code, 0, 0) == 1;
                ASN1_ENUMERATED_free(code);
        }
        if (!ok || !X509_CRL_add0_revoked(crl, rv)) {
                X509_REVOKED_free(rv);
                return -ENOMEM;
        }
        return 0;
}

/* The CRL of the revoked entries of `v`, signed now, valid `days`, as CA_DIR/ca.crl. */
static int crl_write(PkiCa *ca, const PkiIssued *v, size_t n, unsigned days)
{
        _cleanup_(X509_CRL_freep) X509_CRL *crl = NULL;
        _cleanup_(ASN1_TIME_freep) ASN1_TIME *t = NULL;
        _cleanup_(ASN1_INTEGER_freep) ASN1_INTEGER *number = NULL;
        _cleanup_(X509_EXTENSION_freep) X509_EXTENSION *aki = NULL;
        _cleanup_(BIO_freep) BIO *bio = NULL;
        time_t now = time(NULL);
        X509V3_CTX ctx;
        Loc l;
        int r;

        pki_loc_init(&l, ca->dfd, "", CRL_NAME, "");
        r = pki_ca_get(&ca->p, &l);
        if (r < 0)
                return r;
        crl = X509_CRL_new();
        t = ASN1_TIME_set(NULL, now);
        number = ASN1_INTEGER_new();
        if (!crl || !t || !number || !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
            !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->p.ca_crt)) || !X509_CRL_set1_lastUpdate(crl, t) ||
            !ASN1_TIME_adj(t, now, (int)(days ? days : PKI_CRL_DAYS), 0) || !X509_CRL_set1_nextUpdate(crl, t))
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (v[i].revoked && (r = crl_add(crl, &v[i])) < 0)
                        return r;
        X509_CRL_sort(crl);
        /* the CRL number only grows: the time of signing will do */
        X509V3_set_ctx(&ctx, ca->p.ca_crt, NULL, NULL, crl, 0);
        aki = X509V3_EXT_nconf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always");
        if (!aki || !X509_CRL_add_ext(crl, aki, -1) || !ASN1_INTEGER_set_int64(number, (int64_t)now) ||
            X509_CRL_add1_ext_i2d(crl, NID_crl_number, number, 0, 0) != 1)
                return -ENOMEM;
        if (X509_CRL_sign(crl, ca->p.ca_key, pki_sign_md(ca->p.ca_key)) <= 0)
                return pki_fail(&ca->p, -EIO, &l, "cannot sign the CRL");
        bio = BIO_new(BIO_s_mem());
        if (!bio || !PEM_write_bio_X509_CRL(bio, crl))
                return -ENOMEM;
        return pki_loc_write_bio(&ca->p, &l, bio, PKI_MODE_PUBLIC, true);
}

static int revoke_matching(PkiCa *ca, const char *what, PkiReason reason, unsigned crl_days, size_t *ret_count)
{
        _cleanup_free_ PkiIssued *v = NULL;
        size_t n = 0, count = 0, already = 0;
        int r;

        if (isempty(what))
                return pki_fail(&ca->p, -EINVAL, NULL, "which certificate?");
        if (!pki_reason_to_string(reason))
                return pki_fail(&ca->p, -EINVAL, NULL, "no such revocation reason");
        r = index_read(&ca->p, &v, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                if (!streq(v[i].name, what) && strcasecmp(v[i].serial, what) != 0)
                        continue;
                if (v[i].revoked) {
                        already++;
                        continue;
                }
                v[i].revoked = true;
                v[i].revoked_at = (int64_t)time(NULL);
                v[i].reason = reason;
                count++;
        }
        if (count == 0)
                return pki_fail(&ca->p, -ENOENT, NULL, "no valid certificate named or numbered \"%.80s\" in %s%s", what,
                                INDEX_NAME, already ? " (it is revoked already)" : "");
        /* the CRL first: an index that says "revoked" is never ahead of what the node can learn */
        r = crl_write(ca, v, n, crl_days);
        if (r == 0)
                r = index_write(&ca->p, v, n);
        if (r == 0 && ret_count)
                *ret_count = count;
        return r;
}

int pki_ca_revoke(PkiCa *ca, const char *what, PkiReason reason, unsigned crl_days, size_t *ret_count, char **ret_error)
{
        char *error;
        int r;

        op_begin(ca, &error);
        r = revoke_matching(ca, what, reason, crl_days, ret_count);
        return op_end(ca, r, error, ret_error);
}

int pki_ca_crl(PkiCa *ca, unsigned days, char **ret_error)
{
        _cleanup_free_ PkiIssued *v = NULL;
        size_t n = 0;
        char *error;
        int r;

        op_begin(ca, &error);
        r = index_read(&ca->p, &v, &n);
        if (r == 0)
                r = crl_write(ca, v, n, days);
        return op_end(ca, r, error, ret_error);
}

int pki_ca_list(PkiCa *ca, PkiIssued **ret, size_t *ret_n, char **ret_error)
{
        char *error;
        int r;

        op_begin(ca, &error);
        r = index_read(&ca->p, ret, ret_n);
        return op_end(ca, r, error, ret_error);
}

int pki_ca_describe(PkiCa *ca, PkiCaInfo *ret, char **ret_error)
{
        _cleanup_free_ char *data = NULL;
        _cleanup_(BIO_freep) BIO *bio = NULL;
        _cleanup_(X509_CRL_freep) X509_CRL *crl = NULL;
        char *error;
        size_t size;
        Loc l;
        int r;

        op_begin(ca, &error);
        *ret = (PkiCaInfo){ .not_after = asn1_time_unix(X509_get0_notAfter(ca->p.ca_crt)) };
        pki_cert_cn(ca->p.ca_crt, ret->subject, sizeof(ret->subject));
        pki_loc_init(&l, ca->dfd, "", CRL_NAME, "");
        r = pki_loc_exists(&ca->p, &l);
        if (r > 0)
                r = pki_loc_read(&ca->p, &l, false, &data, &size);
        if (r == 0 && data) {
                bio = BIO_new_mem_buf(data, (int)size);
                crl = bio ? PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL) : NULL;
                if (!crl)
                        r = pki_fail(&ca->p, -EINVAL, &l, "not a PEM CRL");
                else {
                        const STACK_OF(X509_REVOKED) *revoked = X509_CRL_get_REVOKED(crl);

                        ret->crl_next = asn1_time_unix(X509_CRL_get0_nextUpdate(crl));
                        ret->crl_entries = revoked ? (size_t)sk_X509_REVOKED_num(revoked) : 0;
                }
        }
        return op_end(ca, MIN(r, 0), error, ret_error);
}

/* --- requests ------------------------------------------------------------ */

static int request_make(Pki *p, EVP_PKEY *key, const char *name, const Loc *out)
{
        _cleanup_(X509_REQ_freep) X509_REQ *req = X509_REQ_new();
        _cleanup_(BIO_freep) BIO *bio = NULL;

        if (!req || !X509_REQ_set_version(req, X509_REQ_VERSION_1) ||
            !X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_UTF8,
                                        (const unsigned char *)name, -1, -1, 0) ||
            !X509_REQ_set_pubkey(req, key))
                return -ENOMEM;
        if (X509_REQ_sign(req, key, pki_sign_md(key)) <= 0)
                return pki_fail(p, -EIO, out, "cannot sign the request");
        bio = BIO_new(BIO_s_mem());
        if (!bio || !PEM_write_bio_X509_REQ(bio, req))
                return -ENOMEM;
        return pki_loc_write_bio(p, out, bio, PKI_MODE_PUBLIC, false);
}

static int request_new(Pki *p, const char *name, PkiKind kind, const char *key_path, char **ret_csr, char **ret_key)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_close_ int dfd = -1, key_dfd = -1;
        _cleanup_free_ char *key_dir = NULL, *csr_path = NULL, *new_key_path = NULL;
        char base[PKI_NAME_MAX];
        Loc csr, kl;
        int r = 0;

        if (kind < 0 || kind >= _PKI_KIND_MAX || !name_valid(kind, name))
                return pki_fail(p, -EINVAL, NULL, "\"%.80s\" is not a valid name for a %s certificate", strempty(name),
                                strempty(pki_kind_to_string(kind)));
        dfd = pki_dir_open_private(p, AT_FDCWD, p->dir, NULL);
        if (dfd < 0)
                return dfd;
        pki_client_name(name, base, sizeof(base));
        pki_loc_init(&csr, dfd, "", base, ".csr");
        pki_loc_init(&kl, dfd, "", base, ".key");
        if (key_path) {
                r = pki_loc_at_path(p, key_path, &kl, &key_dfd, &key_dir);
                if (r == 0)
                        r = pki_key_load(p, &kl, NULL, &key);
        } else if (pki_loc_exists(p, &kl) != 0)
                r = pki_fail(p, -EEXIST, &kl, "exists: keys are never replaced (--key names a key to reuse)");
        if (r == 0 && pki_loc_exists(p, &csr) != 0)
                r = pki_fail(p, -EEXIST, &csr, "exists: requests are never replaced");
        if (r == 0 && !key_path)
                r = pki_key_ensure(p, &kl, "EC", &key);
        if (r == 0 && !key_acceptable(key))
                r = pki_fail(p, -EINVAL, &kl, "not EC P-256 or P-384, RSA of 2048 bits or more, or Ed25519");
        if (r == 0)
                r = request_make(p, key, name, &csr);
        if (r < 0)
                return r;
        if ((asprintf(&csr_path, "%s/%s", p->dir, csr.name) < 0) ||
            (!key_path && asprintf(&new_key_path, "%s/%s", p->dir, kl.name) < 0))
                return -ENOMEM;
        if (ret_csr)
                *ret_csr = TAKE_PTR(csr_path);
        if (ret_key)
                *ret_key = key_path ? strdup(key_path) : TAKE_PTR(new_key_path);
        return 0;
}

int pki_request_new(const char *dir, const char *name, PkiKind kind, const char *key_path, char **ret_csr,
                    char **ret_key, char **ret_error)
{
        char *error = NULL;
        Pki p = { .dir = dir, .dfd = -1, .clients_fd = -1, .authorities_fd = -1, .ret_error = &error };
        int r;

        r = isempty(dir) ? -EINVAL : request_new(&p, name, kind, key_path, ret_csr, ret_key);
        ERR_clear_error();
        if (r < 0 && ret_error) {
                if (!error && asprintf(&error, "%s: %s", strempty(dir), strerror(-r)) < 0)
                        error = NULL;
                *ret_error = error;
        } else
                free(error);
        return r;
}
