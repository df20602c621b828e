/* pki.c: the demo PKI (CA, node, client certificates, signing, log and pseudonym keys) */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/file.h>
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

#include "crypto/hash.h"
#include "crypto/keyfile.h"
#include "crypto/openssl-util.h"
#include "crypto/pki-internal.h"
#include "crypto/pki.h"
#include "crypto/pseudonym.h"
#include "crypto/signer.h"
#include "util/error.h"
#include "util/macro.h"

#define PKI_ENTRIES_MAX 10000
#define PKI_CA_CN "xbus demo CA"
#define PKI_NODE_CN "localhost"

/* What the node itself needs to run, as opposed to keys that may be handed out. */
typedef enum KeyPolicy {
        KEY_REQUIRED,         /* a public part without its private key is an error */
        KEY_MAY_BE_ELSEWHERE, /* the private key may have been moved to its owner */
} KeyPolicy;

/* The public part `pub` exists: so must its private key, unless `policy` lets it live with its owner. */
static int key_beside(Pki *p, const Loc *key, const Loc *pub, KeyPolicy policy)
{
        int r = pki_loc_exists(p, key);

        if (r == 0 && policy == KEY_REQUIRED)
                return pki_fail(p, -ENOKEY, key, "missing while %s%s exists (remove both to have them recreated)",
                                pub->sub, pub->name);
        return MIN(r, 0);
}

static int ensure_ca(Pki *p)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        _cleanup_(X509_freep) X509 *x = NULL;
        Loc key, crt;
        int r;

        pki_loc_init(&key, p->dfd, "", "ca", ".key");
        pki_loc_init(&crt, p->dfd, "", "ca", ".crt");

        r = pki_loc_exists(p, &crt);
        if (r < 0)
                return r;
        /*
         * A certificate without its key is fine as long as nothing needs to
         * be issued: operators may keep the demo CA key offline.
         */
        if (r > 0)
                return 0;

        r = pki_key_ensure(p, &key, "EC", &pkey);
        if (r < 0)
                return r;
        r = pki_cert_make(pkey, PKI_CA_CN, CERT_CA, 0, NULL, NULL, NULL, &x);
        if (r < 0)
                return pki_fail(p, r, &crt, "cannot build the certificate");
        return pki_cert_write(p, &crt, x, false);
}

/* Issue `crt` for the key in `key` (created if missing) when `crt` is missing. */
static int ensure_leaf(Pki *p, const Loc *key, const Loc *crt, const char *cn, CertKind kind, KeyPolicy policy)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        _cleanup_(X509_freep) X509 *x = NULL;
        int r;

        r = pki_loc_exists(p, crt);
        if (r < 0)
                return r;
        if (r > 0) {
                char existing[PKI_ID_MAX + 1] = "";

                if (kind == CERT_CLIENT) {
                        /*
                         * Two ids can map to one file name ("A/B" and "A_B"):
                         * never hand one subsystem another's certificate.
                         */
                        r = pki_cert_load(p, crt, &x);
                        if (r < 0)
                                return r;
                        if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, existing,
                                                      sizeof(existing)) < 0 ||
                            !streq(existing, cn))
                                return pki_fail(p, -EEXIST, crt, "belongs to \"%s\", not to \"%s\"", existing, cn);
                }

                return key_beside(p, key, crt, policy);
        }

        r = pki_ca_get(p, crt);
        if (r < 0)
                return r;
        r = pki_key_ensure(p, key, "EC", &pkey);
        if (r < 0)
                return r;
        r = pki_cert_make(pkey, cn, kind, 0, NULL, p->ca_crt, p->ca_key, &x);
        if (r < 0)
                return pki_fail(p, r, crt, "cannot build the certificate");
        r = pki_cert_write(p, crt, x, false);
        return r < 0 ? r : pki_index_add(p, x, kind);
}

/* A P-256 key and its public JWK (signing.key/.jwk, authorities/<name>.key/.jwk). */
static int ensure_jwk_pair(Pki *p, const Loc *key, const Loc *jwk, KeyPolicy policy)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        _cleanup_(signer_freep) Signer *s = NULL;
        _cleanup_(json_decrefp) json_t *j = NULL;
        _cleanup_free_ char *text = NULL, *line = NULL;
        int r;

        r = pki_loc_exists(p, jwk);
        if (r < 0)
                return r;
        if (r > 0)
                return key_beside(p, key, jwk, policy);

        r = pki_key_ensure(p, key, "EC", &pkey);
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
        return pki_loc_write(p, jwk, line, strlen(line), PKI_MODE_PUBLIC, false);
}

static int ensure_log_key(Pki *p)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        _cleanup_(BIO_freep) BIO *bio = NULL;
        Loc key, pub;
        int r;

        pki_loc_init(&key, p->dfd, "", "log", ".key");
        pki_loc_init(&pub, p->dfd, "", "log", ".pub");
        r = pki_loc_exists(p, &pub);
        if (r < 0)
                return r;
        if (r > 0)
                return key_beside(p, &key, &pub, KEY_REQUIRED);

        r = pki_key_ensure(p, &key, "ED25519", &pkey);
        if (r < 0)
                return r;
        bio = BIO_new(BIO_s_mem());
        if (!bio)
                return -ENOMEM;
        if (!PEM_write_bio_PUBKEY(bio, pkey))
                return pki_fail(p, -ENOMEM, &pub, "cannot encode the public key");
        return pki_loc_write_bio(p, &pub, bio, PKI_MODE_PUBLIC, false);
}

static int ensure_pseudonym_key(Pki *p)
{
        _cleanup_(pseudonym_key_freep) PseudonymKey *k = NULL;
        uint8_t raw[32];
        char text[2 * sizeof(raw) + 2];
        Loc l;
        int r;

        pki_loc_init(&l, p->dfd, "", "pseudonym", ".key");
        r = pki_loc_exists(p, &l);
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
        r = pki_loc_write(p, &l, text, strlen(text), PKI_MODE_SECRET, false);
        OPENSSL_cleanse(raw, sizeof(raw));
        OPENSSL_cleanse(text, sizeof(text));
        return r;
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
                if (!pki_id_valid(ids[i]))
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

/* A CURVE key pair as Z85 text: NAME.key (secret) and NAME.pub; a kept NAME.key gets its public half made again. */
static int curve_pair_write(Pki *p, const Loc *key, const Loc *pub)
{
        char pub_text[KEYFILE_CURVE_LEN + 2], secret[KEYFILE_CURVE_LEN + 2] = "";
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = pki_loc_exists(p, key);
        if (r > 0) {
                r = pki_loc_read(p, key, true, &data, &size);
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
                        r = pki_loc_write(p, key, secret, strlen(secret), PKI_MODE_SECRET, false);
        }
        OPENSSL_cleanse(secret, sizeof(secret));
        if (r < 0)
                return r;
        strcat(pub_text, "\n");
        return pki_loc_write(p, pub, pub_text, strlen(pub_text), PKI_MODE_PUBLIC, false);
}

int pki_curve_ensure(const char *dir, const char *name, char **ret_error)
{
        _cleanup_close_ int dfd = -1;
        Pki p = { .dir = dir, .dfd = -1, .clients_fd = -1, .authorities_fd = -1, .ret_error = ret_error };
        Loc key, pub;
        int r;

        if (!pki_id_valid(name) || strchr(name, '/'))
                return pki_fail(&p, -EINVAL, NULL, "invalid key name \"%.80s\"", strempty(name));
        r = dfd = pki_dir_open_private(&p, AT_FDCWD, dir, NULL);
        if (r < 0)
                return r;
        pki_loc_init(&key, dfd, "", name, ".key");
        pki_loc_init(&pub, dfd, "", name, ".pub");
        r = pki_loc_exists(&p, &pub);
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

        r = dfd = pki_dir_open_private(&p, AT_FDCWD, dir, NULL);
        if (r < 0)
                goto out;
        p.dfd = dfd;
        /* `xbus pki` on the same folder waits, and so do we (pki-ca.h) */
        if (flock(dfd, LOCK_EX) < 0) {
                r = pki_fail(&p, -errno, NULL, "cannot lock the folder: %s", strerror(errno));
                goto out;
        }
        if (n_clients > 0) {
                r = clients_fd = pki_dir_open_private(&p, dfd, "clients", "clients");
                if (r < 0)
                        goto out;
                p.clients_fd = clients_fd;
        }
        if (n_authorities > 0) {
                r = authorities_fd = pki_dir_open_private(&p, dfd, "authorities", "authorities");
                if (r < 0)
                        goto out;
                p.authorities_fd = authorities_fd;
        }

        r = ensure_ca(&p);
        if (r < 0)
                goto out;

        pki_loc_init(&key, dfd, "", "node", ".key");
        pki_loc_init(&crt, dfd, "", "node", ".crt");
        r = ensure_leaf(&p, &key, &crt, PKI_NODE_CN, CERT_NODE, KEY_REQUIRED);
        if (r < 0)
                goto out;

        pki_loc_init(&key, dfd, "", "signing", ".key");
        pki_loc_init(&crt, dfd, "", "signing", ".jwk");
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
                pki_loc_init(&key, clients_fd, "clients/", name, ".key");
                pki_loc_init(&crt, clients_fd, "clients/", name, ".crt");
                /* the client system may hold its key itself: then only the certificate stays here */
                r = ensure_leaf(&p, &key, &crt, clients[i], CERT_CLIENT, KEY_MAY_BE_ELSEWHERE);
                if (r < 0)
                        goto out;
        }

        for (size_t i = 0; i < n_authorities; i++) {
                char name[PKI_NAME_MAX];

                pki_client_name(authorities[i], name, sizeof(name));
                pki_loc_init(&key, authorities_fd, "authorities/", name, ".key");
                pki_loc_init(&crt, authorities_fd, "authorities/", name, ".jwk");
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
