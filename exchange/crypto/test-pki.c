/* test-pki.c: the demo PKI (layout, idempotence, modes, openssl verify, recreation, refusals) and CAs (issue, revoke, CRL, renew) */
#include <ctype.h>
#include <dirent.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/hash.h"
#include "crypto/pki-ca.h"
#include "crypto/pki.h"
#include "crypto/pseudonym.h"
#include "crypto/signer.h"
#include "tests/support/test-util.h"

#define CLIENT_A "VN/GOV/HN-UBND/one-stop-shop"
#define CLIENT_B "VN/COM/0101234567/erp"
#define AUTHORITY "VN/GOV/MOJ/consent-portal"

static const char *const clients[] = { CLIENT_A, CLIENT_B };
static const char *const authorities[] = { AUTHORITY };

typedef struct Expect {
        const char *name;
        mode_t mode;
} Expect;

/* The layout of pki.h for the clients and authorities above, and nothing else. */
static const Expect layout[] = {
        { "ca.crt", 0644 },
        { "ca.key", 0600 },
        { "node.crt", 0644 },
        { "node.key", 0600 },
        { "signing.key", 0600 },
        { "signing.jwk", 0644 },
        { "issued.txt", 0644 },
        { "log.key", 0600 },
        { "log.pub", 0644 },
        { "pseudonym.key", 0600 },
        { "clients", 0700 | S_IFDIR },
        { "clients/VN_GOV_HN-UBND_one-stop-shop.crt", 0644 },
        { "clients/VN_GOV_HN-UBND_one-stop-shop.key", 0600 },
        { "clients/VN_COM_0101234567_erp.crt", 0644 },
        { "clients/VN_COM_0101234567_erp.key", 0600 },
        { "authorities", 0700 | S_IFDIR },
        { "authorities/VN_GOV_MOJ_consent-portal.key", 0600 },
        { "authorities/VN_GOV_MOJ_consent-portal.jwk", 0644 },
};

typedef struct FileState {
        char name[300];
        ino_t ino;
        struct timespec mtime;
        mode_t mode;
        char sha[HASH_SHA256_HEX_LEN + 1];
} FileState;

typedef struct Snapshot {
        FileState f[64];
        size_t n;
} Snapshot;

static char *dir;

static char *p(const char *name)
{
        return test_path(dir, name);
}

static void snap_dir(Snapshot *s, const char *sub)
{
        _cleanup_free_ char *path = NULL;
        DIR *d;
        struct dirent *de;

        assert(asprintf(&path, "%s%s%s", dir, *sub ? "/" : "", sub) > 0);
        d = opendir(path);
        assert(d);
        while ((de = readdir(d))) {
                _cleanup_free_ char *full = NULL;
                FileState *f;
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                assert(s->n < ELEMENTSOF(s->f));
                f = &s->f[s->n++];
                snprintf(f->name, sizeof(f->name), "%s%s%s", sub, *sub ? "/" : "", de->d_name);
                full = p(f->name);
                assert(lstat(full, &st) == 0);
                f->ino = st.st_ino;
                f->mtime = st.st_mtim;
                f->mode = st.st_mode & (07777 | S_IFDIR);
                if (S_ISDIR(st.st_mode)) {
                        snap_dir(s, f->name);
                } else {
                        _cleanup_free_ char *data = NULL;
                        uint8_t md[HASH_SHA256_LEN];
                        size_t size;

                        data = test_read_file(full, &size);
                        assert(data);
                        hash_sha256(data, size, md);
                        hex_encode(md, sizeof(md), f->sha);
                }
        }
        closedir(d);
}

static void snapshot(Snapshot *s)
{
        memset(s, 0, sizeof(*s));
        snap_dir(s, "");
}

static const FileState *snap_find(const Snapshot *s, const char *name)
{
        for (size_t i = 0; i < s->n; i++)
                if (streq(s->f[i].name, name))
                        return &s->f[i];
        return NULL;
}

/* Every file of `a` is in `b`, unchanged (same inode, time, mode, content), except `changed` and, when a
 * certificate was issued, the index that records it. */
static void snap_same(const Snapshot *a, const Snapshot *b, const char *changed)
{
        bool issued = changed && strstr(changed, ".crt") && !streq(changed, "ca.crt");

        assert(a->n == b->n);
        for (size_t i = 0; i < a->n; i++) {
                const FileState *x = &a->f[i], *y = snap_find(b, x->name);

                assert(y);
                assert(x->mode == y->mode);
                if ((changed && streq(x->name, changed)) || (issued && streq(x->name, "issued.txt")))
                        continue;
                if (S_ISDIR(x->mode))
                        continue;
                if (x->ino != y->ino || x->mtime.tv_sec != y->mtime.tv_sec || x->mtime.tv_nsec != y->mtime.tv_nsec ||
                    !streq(x->sha, y->sha)) {
                        fprintf(stderr, "%s changed\n", x->name);
                        assert(false);
                }
        }
}

/* The layout and its modes, exactly, and no temporary file left anywhere. */
static void check_layout(void)
{
        Snapshot s;
        struct stat st;

        snapshot(&s);
        for (size_t i = 0; i < ELEMENTSOF(layout); i++) {
                const FileState *f = snap_find(&s, layout[i].name);

                if (!f || f->mode != layout[i].mode) {
                        fprintf(stderr, "%s: %s mode %o, want %o\n", layout[i].name, f ? "has" : "missing",
                                f ? (unsigned)f->mode : 0, (unsigned)layout[i].mode);
                        assert(false);
                }
        }
        if (s.n != ELEMENTSOF(layout)) {
                for (size_t i = 0; i < s.n; i++)
                        fprintf(stderr, "found %s\n", s.f[i].name);
                assert(false);
        }
        assert(stat(dir, &st) == 0);
        assert((st.st_mode & 07777) == 0700);
}

static X509 *load_cert(const char *name)
{
        _cleanup_free_ char *path = p(name);
        FILE *f = fopen(path, "re");
        X509 *x;

        assert(f);
        x = PEM_read_X509(f, NULL, NULL, NULL);
        fclose(f);
        assert(x);
        return x;
}

static EVP_PKEY *load_key(const char *name)
{
        _cleanup_free_ char *path = p(name);
        FILE *f = fopen(path, "re");
        EVP_PKEY *k;

        assert(f);
        k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
        assert(k);
        return k;
}

static int openssl_verify(const char *cert, const char *purpose)
{
        _cleanup_free_ char *ca = p("ca.crt"), *c = p(cert);

        return test_run((char *const[]){ "openssl", "verify", "-CAfile", ca, "-purpose", (char *)purpose, c, NULL });
}

static void cn_of(X509 *x, bool subject, char *out, size_t size)
{
        assert(X509_NAME_get_text_by_NID(subject ? X509_get_subject_name(x) : X509_get_issuer_name(x), NID_commonName,
                                         out, (int)size) > 0);
}

static bool ext_critical(X509 *x, int nid)
{
        int i = X509_get_ext_by_NID(x, nid, -1);

        assert(i >= 0);
        return X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

/* notBefore about an hour ago, notAfter `days` ahead (within 10 minutes). */
static void check_validity(X509 *x, int days)
{
        int pday, psec;

        assert(ASN1_TIME_diff(&pday, &psec, NULL, X509_get0_notBefore(x)) == 1);
        assert(pday == 0 && psec <= -3600 + 600 && psec >= -3600 - 600);
        assert(ASN1_TIME_diff(&pday, &psec, NULL, X509_get0_notAfter(x)) == 1);
        assert((pday == days && psec <= 600) || (pday == days - 1 && psec >= 86400 - 600));
}

static void check_certs(void)
{
        X509 *ca = load_cert("ca.crt"), *node = load_cert("node.crt");
        X509 *ca_ = load_cert("clients/VN_GOV_HN-UBND_one-stop-shop.crt");
        X509 *cb = load_cert("clients/VN_COM_0101234567_erp.crt");
        EVP_PKEY *node_key = load_key("node.key"), *ca_key = load_key("ca.key");
        char cn[128];
        const ASN1_INTEGER *serials[4];

        /* CA */
        cn_of(ca, true, cn, sizeof(cn));
        assert(streq(cn, "xbus demo CA"));
        assert(X509_check_ca(ca) == 1);
        assert(ext_critical(ca, NID_basic_constraints));
        assert(X509_get_key_usage(ca) & KU_KEY_CERT_SIGN);
        assert(X509_check_private_key(ca, ca_key) == 1);
        assert(X509_verify(ca, X509_get0_pubkey(ca)) == 1);
        check_validity(ca, 3652);

        /* node: SAN, serverAuth, not a CA, issued by the CA */
        assert(X509_check_host(node, "localhost", 0, 0, NULL) == 1);
        assert(X509_check_ip_asc(node, "127.0.0.1", 0) == 1);
        assert(X509_check_ip_asc(node, "::1", 0) == 1);
        assert(X509_check_host(node, "example.org", 0, 0, NULL) == 0);
        assert(X509_check_ip_asc(node, "127.0.0.2", 0) == 0);
        assert(X509_get_extended_key_usage(node) & XKU_SSL_SERVER);
        assert(!(X509_get_extended_key_usage(node) & XKU_SSL_CLIENT));
        assert(X509_check_ca(node) == 0);
        assert(X509_check_private_key(node, node_key) == 1);
        assert(X509_verify(node, X509_get0_pubkey(ca)) == 1);
        assert(X509_check_issued(ca, node) == X509_V_OK);
        check_validity(node, 825);

        /* clients: CN = subsystem id, clientAuth */
        cn_of(ca_, true, cn, sizeof(cn));
        assert(streq(cn, CLIENT_A));
        cn_of(cb, true, cn, sizeof(cn));
        assert(streq(cn, CLIENT_B));
        cn_of(cb, false, cn, sizeof(cn));
        assert(streq(cn, "xbus demo CA"));
        assert(X509_get_extended_key_usage(ca_) & XKU_SSL_CLIENT);
        assert(!(X509_get_extended_key_usage(ca_) & XKU_SSL_SERVER));
        assert(X509_check_ca(ca_) == 0);
        assert(X509_verify(ca_, X509_get0_pubkey(ca)) == 1);
        assert(X509_check_issued(ca, cb) == X509_V_OK);
        check_validity(cb, 825);

        /* random serials: large and distinct */
        serials[0] = X509_get0_serialNumber(ca);
        serials[1] = X509_get0_serialNumber(node);
        serials[2] = X509_get0_serialNumber(ca_);
        serials[3] = X509_get0_serialNumber(cb);
        for (size_t i = 0; i < 4; i++) {
                BIGNUM *bn = ASN1_INTEGER_to_BN(serials[i], NULL);

                assert(bn && !BN_is_negative(bn) && BN_num_bits(bn) > 100);
                BN_free(bn);
                for (size_t j = 0; j < i; j++)
                        assert(ASN1_INTEGER_cmp(serials[i], serials[j]) != 0);
        }

        /* the openssl command agrees, and does not accept just anything */
        assert(openssl_verify("node.crt", "sslserver") == 0);
        assert(openssl_verify("clients/VN_GOV_HN-UBND_one-stop-shop.crt", "sslclient") == 0);
        assert(openssl_verify("clients/VN_COM_0101234567_erp.crt", "sslclient") == 0);
        assert(openssl_verify("node.crt", "sslclient") != 0);
        assert(openssl_verify("clients/VN_COM_0101234567_erp.crt", "sslserver") != 0);
        {
                _cleanup_free_ char *node_path = p("node.crt"), *client_path = p("clients/VN_COM_0101234567_erp.crt");

                assert(test_run((char *const[]){ "openssl", "verify", "-CAfile", node_path, client_path, NULL }) != 0);
        }

        X509_free(ca);
        X509_free(node);
        X509_free(ca_);
        X509_free(cb);
        EVP_PKEY_free(node_key);
        EVP_PKEY_free(ca_key);
}

static void check_keys(void)
{
        _cleanup_free_ char *signing = p("signing.key"), *jwk_path = p("signing.jwk"), *pseudo = p("pseudonym.key");
        _cleanup_free_ char *auth_key = p("authorities/VN_GOV_MOJ_consent-portal.key");
        _cleanup_free_ char *auth_jwk_path = p("authorities/VN_GOV_MOJ_consent-portal.jwk");
        _cleanup_free_ char *jwk_text = test_read_file(jwk_path, NULL),
                            *auth_text = test_read_file(auth_jwk_path, NULL);
        _cleanup_free_ char *pseudo_text = NULL, *log_pub_path = p("log.pub");
        _cleanup_(signer_freep) Signer *s = NULL, *a = NULL;
        _cleanup_(pseudonym_key_freep) PseudonymKey *pk = NULL;
        json_auto_t *jwk = NULL, *file_jwk = NULL, *auth_jwk = NULL, *auth_file_jwk = NULL;
        EVP_PKEY *log_key = load_key("log.key"), *log_pub;
        FILE *f;
        size_t size;

        assert(signer_load(&s, signing) == 0);
        jwk = signer_public_jwk(s);
        file_jwk = json_loads(jwk_text, 0, NULL);
        assert(file_jwk && json_equal(jwk, file_jwk));

        assert(signer_load(&a, auth_key) == 0);
        auth_jwk = signer_public_jwk(a);
        auth_file_jwk = json_loads(auth_text, 0, NULL);
        assert(auth_file_jwk && json_equal(auth_jwk, auth_file_jwk));
        assert(!streq(signer_kid(a), signer_kid(s)));

        assert(EVP_PKEY_is_a(log_key, "ED25519"));
        f = fopen(log_pub_path, "re");
        assert(f);
        log_pub = PEM_read_PUBKEY(f, NULL, NULL, NULL);
        fclose(f);
        assert(log_pub && EVP_PKEY_eq(log_key, log_pub) == 1);

        pseudo_text = test_read_file(pseudo, &size);
        assert(pseudo_text && size == 65 && pseudo_text[64] == '\n');
        assert(pseudonym_key_load(&pk, pseudo) == 0);

        EVP_PKEY_free(log_key);
        EVP_PKEY_free(log_pub);
}

static int ensure(char **ret_error)
{
        return pki_demo_ensure(dir, clients, ELEMENTSOF(clients), authorities, ELEMENTSOF(authorities), ret_error);
}

static void test_create_and_idempotence(void)
{
        Snapshot a, b;
        char *error = NULL;

        assert(ensure(&error) == 0);
        assert(!error);
        check_layout();
        check_certs();
        check_keys();

        snapshot(&a);
        assert(ensure(NULL) == 0);
        snapshot(&b);
        snap_same(&a, &b, NULL);
        printf("create, layout, modes, certificates, keys, second run changes nothing: ok\n");
}

/* Remove one file, run again: it is back, everything else untouched. */
static void recreate(const char *name, bool same_content)
{
        _cleanup_free_ char *path = p(name);
        Snapshot a, b;
        const FileState *x, *y;

        snapshot(&a);
        assert(unlink(path) == 0);
        assert(ensure(NULL) == 0);
        check_layout();
        snapshot(&b);
        snap_same(&a, &b, name);
        x = snap_find(&a, name);
        y = snap_find(&b, name);
        assert(x && y);
        assert(streq(x->sha, y->sha) == same_content);
}

static void test_recreate(void)
{
        /* public parts derived from the kept key: the same bytes */
        recreate("signing.jwk", true);
        recreate("log.pub", true);
        recreate("authorities/VN_GOV_MOJ_consent-portal.jwk", true);
        /* certificates re-issued for the kept key; the new one verifies */
        recreate("node.crt", false);
        recreate("clients/VN_COM_0101234567_erp.crt", false);
        recreate("ca.crt", false);
        /* a new random key */
        recreate("pseudonym.key", false);
        check_certs();
        check_keys();

        /* a key and its certificate both gone: both made anew */
        {
                _cleanup_free_ char *k = p("node.key"), *c = p("node.crt");

                assert(unlink(k) == 0 && unlink(c) == 0);
                assert(ensure(NULL) == 0);
                check_layout();
                check_certs();
        }
        printf("single missing files recreated, nothing else touched: ok\n");
}

static void expect_error(int want, const char *in_message)
{
        char *error = NULL;
        int r;

        r = ensure(&error);
        if (r != want || !error || !strstr(error, in_message)) {
                fprintf(stderr, "got %d \"%s\", want %d \"...%s...\"\n", r, strempty(error), want, in_message);
                assert(false);
        }
        free(error);
}

static void move(const char *from, const char *to)
{
        _cleanup_free_ char *a = p(from), *b = p(to);

        assert(rename(a, b) == 0);
}

static void test_refusals(void)
{
        _cleanup_free_ char *ca_key = p("ca.key"), *node_crt = p("node.crt");
        _cleanup_free_ char *client_key = p("clients/VN_COM_0101234567_erp.key");
        _cleanup_free_ char *client_crt = p("clients/VN_COM_0101234567_erp.crt");
        Snapshot a, b;

        /* a public part whose private key is gone, for the node's own keys */
        move("node.key", "node.key.bak");
        expect_error(-ENOKEY, "node.key");
        move("node.key.bak", "node.key");
        move("signing.key", "signing.key.bak");
        expect_error(-ENOKEY, "signing.key");
        move("signing.key.bak", "signing.key");
        move("log.key", "log.key.bak");
        expect_error(-ENOKEY, "log.key");
        move("log.key.bak", "log.key");

        /* a client's or an authority's key may live with its owner: fine, and not recreated */
        move("clients/VN_COM_0101234567_erp.key", "client.key.bak");
        move("authorities/VN_GOV_MOJ_consent-portal.key", "auth.key.bak");
        snapshot(&a);
        assert(ensure(NULL) == 0);
        snapshot(&b);
        snap_same(&a, &b, NULL);
        move("client.key.bak", "clients/VN_COM_0101234567_erp.key");
        move("auth.key.bak", "authorities/VN_GOV_MOJ_consent-portal.key");

        /* the CA key may be kept offline while nothing needs issuing */
        move("ca.key", "ca.key.bak");
        assert(ensure(NULL) == 0);
        assert(unlink(node_crt) == 0);
        expect_error(-ENOKEY, "node.crt: cannot be issued: ca.key is missing");
        move("ca.key.bak", "ca.key");

        /* a private key others can read is refused, not used */
        assert(chmod(ca_key, 0640) == 0);
        expect_error(-EPERM, "ca.key: private key is accessible by group or others");
        assert(chmod(ca_key, 0600) == 0);
        assert(ensure(NULL) == 0);

        /* a damaged key is refused, not replaced */
        assert(unlink(client_crt) == 0);
        test_write_file(client_key, "not a key\n", 10, 0600);
        expect_error(-EINVAL, "clients/VN_COM_0101234567_erp.key: not an unencrypted PEM private key");
        assert(unlink(client_key) == 0);

        /* a damaged pseudonym key is reported */
        {
                _cleanup_free_ char *pk = p("pseudonym.key");

                test_write_file(pk, "1234\n", 5, 0600);
                expect_error(-EINVAL, "pseudonym.key");
                assert(chmod(pk, 0644) == 0);
                expect_error(-EPERM, "pseudonym.key");
                assert(unlink(pk) == 0);
        }

        /* a folder others can enter is refused */
        assert(chmod(dir, 0750) == 0);
        expect_error(-EPERM, "folder is accessible by group or others");
        assert(chmod(dir, 0700) == 0);
        {
                _cleanup_free_ char *c = p("clients");

                assert(chmod(c, 0711) == 0);
                expect_error(-EPERM, "clients: folder is accessible");
                assert(chmod(c, 0700) == 0);
        }

        /* back to the whole layout, with nothing left over from the refusals */
        assert(ensure(NULL) == 0);
        check_layout();
        check_certs();
        printf("refusals (missing private keys, CA key offline, modes, damaged keys): ok\n");
}

static void test_ids(void)
{
        const char *bad[] = { "",
                              ".hidden",
                              "a b",
                              "a\nb",
                              "caf\xc3\xa9",
                              "a\\b",
                              "a*b",
                              "0123456789012345678901234567890123456789012345678901234567890123X" };
        const char *many[10001];
        const char *collide[] = { "VN/GOV/A/b", "VN_GOV_A_b" };
        char *error = NULL;
        char name[16];

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert(pki_demo_ensure(dir, &bad[i], 1, NULL, 0, &error) == -EINVAL);
                assert(error && strstr(error, "invalid client id"));
                error = mfree(error);
                assert(pki_demo_ensure(dir, NULL, 0, &bad[i], 1, &error) == -EINVAL);
                assert(error && strstr(error, "invalid authority id"));
                error = mfree(error);
        }
        assert(pki_demo_ensure(dir, (const char *[]){ NULL }, 1, NULL, 0, NULL) == -EINVAL);

        /* 64 chars is the longest commonName */
        assert(pki_demo_ensure(dir,
                               (const char *[]){ "0123456789012345678901234567890123456789012345678901234567890123" },
                               1, NULL, 0, NULL) == 0);

        for (size_t i = 0; i < ELEMENTSOF(many); i++)
                many[i] = CLIENT_A;
        assert(pki_demo_ensure(dir, many, ELEMENTSOF(many), NULL, 0, NULL) == -E2BIG);
        assert(pki_demo_ensure(dir, NULL, 0, many, ELEMENTSOF(many), NULL) == -E2BIG);
        /* the same id twice is one client */
        assert(pki_demo_ensure(dir, many, 3, NULL, 0, NULL) == 0);

        /* two ids, one file name: refused in one list, and across runs */
        assert(pki_demo_ensure(dir, collide, 2, NULL, 0, &error) == -EINVAL);
        assert(error && strstr(error, "map to the same file name"));
        error = mfree(error);
        assert(pki_demo_ensure(dir, NULL, 0, collide, 2, NULL) == -EINVAL);
        assert(pki_demo_ensure(dir, &collide[0], 1, NULL, 0, NULL) == 0);
        assert(pki_demo_ensure(dir, &collide[1], 1, NULL, 0, &error) == -EEXIST);
        assert(error && strstr(error, "belongs to \"VN/GOV/A/b\""));
        error = mfree(error);

        pki_client_name("VN/GOV/HN-UBND/one-stop-shop", name, sizeof(name));
        assert(streq(name, "VN_GOV_HN-UBND_"));
        pki_client_name("a/b", name, sizeof(name));
        assert(streq(name, "a_b"));
        printf("subsystem ids: refusals, limits, collisions: ok\n");
}

static void test_umask(void)
{
        _cleanup_free_ char *saved = dir;
        mode_t old;

        /* whatever the umask, keys are 0600, certificates 0644, folders 0700 */
        for (size_t i = 0; i < 2; i++) {
                dir = test_tmpdir("pki-umask");
                assert(rmdir(dir) == 0);
                old = umask(i == 0 ? 0 : 077);
                assert(ensure(NULL) == 0);
                umask(old);
                check_layout();
                test_rm_rf(dir);
                free(dir);
        }
        dir = TAKE_PTR(saved);
        printf("umask 000 and 077: modes unchanged: ok\n");
}

/* --- a CA the operator names (pki-ca.h) -------------------------------------------------------- */

static bool file_has(const char *path, const char *text)
{
        _cleanup_free_ char *data = test_read_file(path, NULL);

        return data && strstr(data, text);
}

/* openssl verify against `ca`, with the CRL when `crl` is given. */
static int verify_with(const char *ca, const char *crl, const char *cert, const char *purpose)
{
        if (crl)
                return test_run((char *const[]){ "openssl", "verify", "-crl_check", "-CRLfile", (char *)crl, "-CAfile",
                                                 (char *)ca, "-purpose", (char *)purpose, (char *)cert, NULL });
        return test_run((char *const[]){ "openssl", "verify", "-CAfile", (char *)ca, "-purpose", (char *)purpose,
                                         (char *)cert, NULL });
}

static X509 *load_cert_at(const char *path)
{
        FILE *f = fopen(path, "re");
        X509 *x;

        assert(f);
        x = PEM_read_X509(f, NULL, NULL, NULL);
        fclose(f);
        assert(x);
        return x;
}

static const PkiIssued *find_issued(const PkiIssued *v, size_t n, const char *serial)
{
        for (size_t i = 0; i < n; i++)
                if (streq(v[i].serial, serial))
                        return &v[i];
        return NULL;
}

static void test_ca_issue_revoke(void)
{
        _cleanup_free_ char *req = test_tmpdir("pki-req"), *out = test_tmpdir("pki-out");
        _cleanup_free_ char *ca_crt = p("ca.crt"), *crl = p("ca.crl"), *csr = NULL, *key = NULL, *cert = NULL;
        _cleanup_free_ char *node_dir = NULL, *node_crt = NULL, *other = p("clients/VN_COM_0101234567_erp.crt");
        _cleanup_free_ PkiIssued *v = NULL;
        const char *dns[] = { "xbus.example.org", "*.bus.example.org", NULL }, *addrs[] = { "10.0.0.1", "::2", NULL };
        PkiCa *ca = NULL;
        PkiIssued e, node;
        PkiCaInfo info;
        char *error = NULL;
        struct stat st;
        size_t n = 0, count = 0;
        X509 *x;
        int days, secs;

        assert(pki_ca_open(&ca, dir, NULL, NULL, &error) == 0 && !error);

        /* the client's side: a key (0600) and a request; never replaced */
        assert(pki_request_new(req, "VN/GOV/NEW/app", PKI_KIND_CLIENT, NULL, &csr, &key, &error) == 0 && !error);
        assert(stat(key, &st) == 0 && (st.st_mode & 07777) == 0600);
        assert(test_run((char *const[]){ "openssl", "req", "-verify", "-noout", "-in", csr, NULL }) == 0);
        assert(pki_request_new(req, "VN/GOV/NEW/app", PKI_KIND_CLIENT, NULL, NULL, NULL, &error) == -EEXIST);
        assert(error && strstr(error, "never replaced"));
        error = mfree(error);
        assert(pki_request_new(req, "bad name", PKI_KIND_CLIENT, NULL, NULL, NULL, NULL) == -EINVAL);

        /* the CA's side: a certificate for the request, recorded */
        assert(asprintf(&cert, "%s/app.crt", out) > 0);
        assert(pki_ca_issue(ca, &(PkiIssue){ .kind = PKI_KIND_CLIENT }, csr, cert, &e, &error) == 0 && !error);
        assert(streq(e.name, "VN/GOV/NEW/app") && e.kind == PKI_KIND_CLIENT && !e.revoked);
        assert(verify_with(ca_crt, NULL, cert, "sslclient") == 0);
        assert(verify_with(ca_crt, NULL, cert, "sslserver") != 0);
        assert(test_run((char *const[]){ "sh", "-c",
                                         "test \"$(openssl x509 -noout -pubkey -in \"$0\")\" = "
                                         "\"$(openssl pkey -pubout -in \"$1\")\"",
                                         cert, key, NULL }) == 0);
        x = load_cert_at(cert);
        assert(ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)) == 1 && (days == 825 || days == 824));
        X509_free(x);
        assert(pki_ca_issue(ca, &(PkiIssue){ .kind = PKI_KIND_CLIENT }, csr, cert, NULL, &error) == -EEXIST);
        error = mfree(error);
        /* refused: names a client cannot have, a node name that is no host, a tampered request */
        assert(pki_ca_issue(ca, &(PkiIssue){ .kind = PKI_KIND_CLIENT, .dns = dns }, csr, "/tmp/x.crt", NULL, NULL) ==
               -EINVAL);
        assert(pki_ca_issue(ca, &(PkiIssue){ .kind = PKI_KIND_NODE, .name = "no_host" }, csr, "/tmp/x.crt", NULL,
                            NULL) == -EINVAL);
        {
                _cleanup_free_ char *text = test_read_file(csr, NULL), *bad = NULL;
                char *body = strchr(text, '\n') + 20;

                *body = *body == 'A' ? 'B' : 'A';
                assert(asprintf(&bad, "%s/bad.csr", req) > 0);
                test_write_file(bad, text, strlen(text), 0644);
                assert(pki_ca_issue(ca, &(PkiIssue){ .kind = PKI_KIND_CLIENT }, bad, "/tmp/x.crt", NULL, &error) < 0);
                error = mfree(error);
        }

        /* a node with its own names, key and certificate made at once */
        assert(asprintf(&node_dir, "%s/node", out) > 0 && asprintf(&node_crt, "%s/xbus.example.org.crt", node_dir) > 0);
        assert(pki_ca_issue_new_key(ca,
                                    &(PkiIssue){ .kind = PKI_KIND_NODE,
                                                 .name = "xbus.example.org",
                                                 .dns = dns,
                                                 .addrs = addrs,
                                                 .days = 30 },
                                    node_dir, &node, &error) == 0);
        x = load_cert_at(node_crt);
        assert(X509_check_host(x, "xbus.example.org", 0, 0, NULL) == 1);
        assert(X509_check_host(x, "a.bus.example.org", 0, 0, NULL) == 1);
        assert(X509_check_ip_asc(x, "10.0.0.1", 0) == 1 && X509_check_ip_asc(x, "::2", 0) == 1);
        assert(X509_check_host(x, "localhost", 0, 0, NULL) == 0);
        assert(ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)) == 1 && (days == 30 || days == 29));
        X509_free(x);
        assert(verify_with(ca_crt, NULL, node_crt, "sslserver") == 0);

        /* the index lists the demo's certificates and these */
        assert(pki_ca_list(ca, &v, &n, &error) == 0);
        assert(find_issued(v, n, e.serial) && find_issued(v, n, node.serial));
        assert(find_issued(v, n, node.serial)->kind == PKI_KIND_NODE);
        v = mfree(v);

        /* revoke by name: the CRL says so, and only for it */
        assert(pki_ca_revoke(ca, "VN/GOV/NEW/app", PKI_REASON_KEY_COMPROMISE, 0, &count, &error) == 0 && count == 1);
        assert(test_run((char *const[]){ "openssl", "crl", "-noout", "-CAfile", ca_crt, "-in", crl, NULL }) == 0);
        assert(verify_with(ca_crt, crl, cert, "sslclient") != 0);
        assert(verify_with(ca_crt, crl, other, "sslclient") == 0);
        assert(verify_with(ca_crt, NULL, cert, "sslclient") == 0); /* only the CRL knows */
        assert(pki_ca_list(ca, &v, &n, &error) == 0);
        assert(find_issued(v, n, e.serial)->revoked &&
               find_issued(v, n, e.serial)->reason == PKI_REASON_KEY_COMPROMISE);
        assert(!find_issued(v, n, node.serial)->revoked);
        v = mfree(v);
        assert(pki_ca_revoke(ca, "VN/GOV/NEW/app", PKI_REASON_KEY_COMPROMISE, 0, NULL, &error) == -ENOENT);
        assert(error && strstr(error, "revoked already"));
        error = mfree(error);
        assert(pki_ca_revoke(ca, "VN/GOV/NO/such", 0, 0, NULL, NULL) == -ENOENT);
        /* by serial, in any case; a new CRL with both */
        for (char *c = node.serial; *c; c++)
                *c = (char)tolower(*c);
        assert(pki_ca_revoke(ca, node.serial, PKI_REASON_SUPERSEDED, 7, NULL, &error) == 0);
        assert(verify_with(ca_crt, crl, node_crt, "sslserver") != 0 &&
               verify_with(ca_crt, crl, cert, "sslclient") != 0);
        assert(pki_ca_describe(ca, &info, &error) == 0 && info.crl_entries == 2 && streq(info.subject, "xbus demo CA"));
        assert(info.crl_next > time(NULL) + 6 * 86400 && info.crl_next <= time(NULL) + 7 * 86400 + 60);
        assert(pki_ca_crl(ca, 120, &error) == 0);
        assert(pki_ca_describe(ca, &info, &error) == 0 && info.crl_entries == 2);
        assert(info.crl_next > time(NULL) + 119 * 86400);
        ca = pki_ca_free(ca);
        test_rm_rf(req);
        test_rm_rf(out);
        printf("request, issue (client, node with names), list, revoke (name, serial), CRL: ok\n");
}

static void test_ca_renew(void)
{
        _cleanup_free_ char *crt = p("clients/VN_GOV_HN-UBND_one-stop-shop.crt"), *ca_crt = p("ca.crt");
        _cleanup_free_ char *other = test_tmpdir("pki-other"), *copy = NULL, *foreign = NULL;
        _cleanup_free_ PkiIssued *v = NULL;
        X509 *before = load_cert_at(crt), *after;
        PkiIssued e;
        PkiCa *ca = NULL;
        char *error = NULL, cn[128];
        size_t n;
        int days, secs;

        assert(pki_ca_open(&ca, dir, NULL, NULL, NULL) == 0);
        assert(asprintf(&copy, "%s/renewed.crt", other) > 0);
        assert(pki_ca_renew(ca, crt, copy, 10, &e, &error) == 0); /* to another file */
        assert(pki_ca_renew(ca, crt, NULL, 40, &e, &error) == 0); /* in place */
        after = load_cert_at(crt);
        assert(ASN1_INTEGER_cmp(X509_get0_serialNumber(before), X509_get0_serialNumber(after)) != 0);
        assert(EVP_PKEY_eq(X509_get0_pubkey(before), X509_get0_pubkey(after)) == 1);
        assert(X509_NAME_cmp(X509_get_subject_name(before), X509_get_subject_name(after)) == 0);
        cn_of(after, true, cn, sizeof(cn));
        assert(streq(cn, CLIENT_A) && streq(e.name, CLIENT_A) && e.kind == PKI_KIND_CLIENT);
        assert(X509_get_extended_key_usage(after) & XKU_SSL_CLIENT);
        assert(ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(after)) == 1 && (days == 40 || days == 39));
        assert(verify_with(ca_crt, NULL, crt, "sslclient") == 0);
        assert(pki_ca_list(ca, &v, &n, NULL) == 0 && find_issued(v, n, e.serial));
        X509_free(before);
        X509_free(after);
        ca = pki_ca_free(ca);

        /* another CA's certificate is not renewed */
        assert(asprintf(&foreign, "%s/pki/node.crt", other) > 0);
        {
                _cleanup_free_ char *pki2 = NULL;

                assert(asprintf(&pki2, "%s/pki", other) > 0);
                assert(pki_demo_ensure(pki2, NULL, 0, NULL, 0, NULL) == 0);
        }
        assert(pki_ca_open(&ca, dir, NULL, NULL, NULL) == 0);
        assert(pki_ca_renew(ca, foreign, NULL, 0, NULL, &error) == -EINVAL);
        assert(error && strstr(error, "not issued by this CA"));
        error = mfree(error);
        ca = pki_ca_free(ca);
        test_rm_rf(other);
        printf("renew (same key and subject, new serial and validity; not another CA's): ok\n");
}

/* An organisation's CA made with the openssl command, named by path; its folder keeps the index and CRL. */
static void test_ca_by_path(void)
{
        _cleanup_free_ char *org = test_tmpdir("pki-org"), *ca_dir = NULL, *key = NULL, *crt = NULL, *out = NULL;
        _cleanup_free_ char *issued = NULL, *index = NULL;
        PkiCa *ca = NULL;
        char *error = NULL;

        assert(asprintf(&key, "%s/org-ca.key", org) > 0 && asprintf(&crt, "%s/org-ca.crt", org) > 0);
        assert(asprintf(&ca_dir, "%s/ca", org) > 0 && asprintf(&out, "%s/clients", org) > 0);
        assert(test_run((char *const[]){ "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                                         "-out", crt, "-days", "30", "-subj", "/O=Org/CN=Org Issuing CA", NULL }) == 0);
        assert(chmod(key, 0644) == 0);
        assert(pki_ca_open(&ca, ca_dir, crt, key, &error) == 0);
        assert(pki_ca_issue_new_key(ca, &(PkiIssue){ .kind = PKI_KIND_CLIENT, .name = "VN/GOV/ORG/app" }, out, NULL,
                                    &error) == -EPERM);
        assert(error && strstr(error, "org-ca.key") && strstr(error, "group or others"));
        error = mfree(error);
        assert(chmod(key, 0600) == 0);
        ca = pki_ca_free(ca);
        assert(pki_ca_open(&ca, ca_dir, crt, key, &error) == 0);
        assert(pki_ca_issue_new_key(ca, &(PkiIssue){ .kind = PKI_KIND_CLIENT, .name = "VN/GOV/ORG/app" }, out, NULL,
                                    &error) == 0);
        assert(asprintf(&issued, "%s/VN_GOV_ORG_app.crt", out) > 0 && asprintf(&index, "%s/issued.txt", ca_dir) > 0);
        assert(verify_with(crt, NULL, issued, "sslclient") == 0);
        assert(file_has(index, " client VN/GOV/ORG/app\n"));
        {
                X509 *x = load_cert_at(issued);
                char o[64];

                assert(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_organizationName, o, sizeof(o)) > 0);
                assert(streq(o, "Org"));
                X509_free(x);
        }
        ca = pki_ca_free(ca);

        /* not a CA: refused */
        assert(pki_ca_open(&ca, ca_dir, issued, key, &error) == -EINVAL);
        assert(error && strstr(error, "not a CA certificate"));
        error = mfree(error);

        /* the index: a line cut short by a crash is left out; a damaged one is an error */
        {
                _cleanup_free_ char *text = test_read_file(index, NULL), *cut = NULL;
                PkiIssued *v = NULL;
                size_t n = 0;

                assert(asprintf(&cut, "%sV 0123 2030-01-01T00:00:00Z - - client VN/GO", text) > 0);
                test_write_file(index, cut, strlen(cut), 0644);
                assert(pki_ca_open(&ca, ca_dir, crt, key, NULL) == 0);
                assert(pki_ca_list(ca, &v, &n, NULL) == 0 && n == 1 && streq(v[0].name, "VN/GOV/ORG/app"));
                free(v);
                test_write_file(index, "V zz\n", 5, 0644);
                assert(pki_ca_list(ca, &v, &n, &error) == -EBADMSG);
                assert(error && strstr(error, "issued.txt:1"));
                error = mfree(error);
                ca = pki_ca_free(ca);
        }
        test_rm_rf(org);
        printf("an organisation's CA by path (key mode checked, its O kept), index damage: ok\n");
}

int main(void)
{
        dir = test_tmpdir("pki");
        /* the generator creates the folder itself */
        assert(rmdir(dir) == 0);

        test_create_and_idempotence();
        test_recreate();
        test_refusals();
        test_ids();
        test_umask();
        test_ca_issue_revoke();
        test_ca_renew();
        test_ca_by_path();

        test_rm_rf(dir);
        free(dir);
        return 0;
}
