/* registry-node.c: [node] sections: the nodes of a federation, where they answer and the keys they sign with */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "registry-internal.h"
#include "crypto/hash.h"
#include "crypto/jws.h"
#include "crypto/openssl-util.h"
#include "util/parse.h"

#define report(l, sec, line, ...) ini_errors_add(&(l)->errors, (sec)->file, (line), __VA_ARGS__)

#define NODE_HOST_MAX 253U          /* a DNS name */
#define NODE_VKEY_NAME_MAX 255U     /* a C2SP note key name */
#define NODE_TLS_CA_MAX (64U << 10) /* a CA certificate (PEM) */
#define VKEY_ED25519 0x01           /* the signed-note algorithm byte of Ed25519 */

/* ---- Item parsers --------------------------------------------------------------------------- */

/* A DNS name (labels of letters, digits and '-'), an IPv4 address, or, with `brackets`, "[IPv6]". */
static bool host_valid(const char *s, size_t n, bool brackets)
{
        if (n == 0 || n > NODE_HOST_MAX)
                return false;
        if (s[0] == '[') {
                if (!brackets || n < 4 || s[n - 1] != ']')
                        return false;
                for (size_t i = 1; i + 1 < n; i++)
                        if (!(hex_digit(s[i]) >= 0 || s[i] == ':' || s[i] == '.'))
                                return false;
                return true;
        }
        return dns_name_valid(s, n);
}

/* "https://HOST[:PORT][/]": the node's front door. Kept without the trailing '/'. */
static int item_address(const char *value, unsigned line, void *dst)
{
        static const char scheme[] = "https://";
        const char *host = value + strlen(scheme), *end;
        _cleanup_free_ char *copy = NULL;
        size_t n;

        if (!strneq(value, scheme, strlen(scheme)))
                return -EINVAL;
        n = strlen(host);
        if (n > 0 && host[n - 1] == '/')
                n--;
        end = host[0] == '[' ? memchr(host, ']', n) : NULL;
        end = end ? end + 1 : host + strcspn(host, ":/");
        if (end > host + n || !host_valid(host, (size_t)(end - host), true))
                return -EINVAL;
        if (end < host + n) {
                unsigned long port;
                char *stop;

                if (*end != ':' || !ascii_isdigit(end[1]) || end[1] == '0')
                        return -EINVAL;
                errno = 0;
                port = strtoul(end + 1, &stop, 10);
                if (errno != 0 || stop != host + n || port == 0 || port > 65535)
                        return -EINVAL;
        }
        copy = strndup(value, (size_t)(host - value) + n);
        if (!copy)
                return -ENOMEM;
        return ini_item_string(copy, line, dst);
}

static int item_tls_name(const char *value, unsigned line, void *dst)
{
        if (!host_valid(value, strlen(value), false))
                return -EINVAL;
        return ini_item_string(value, line, dst);
}

static int item_relative_path(const char *value, unsigned line, void *dst)
{
        if (!registry_schema_path_valid(value))
                return -EINVAL;
        return ini_item_string(value, line, dst);
}

/* A public JWK that verifies ES256 receipts: an EC P-256 key without its private part. */
static int item_receipt_key(const char *value, unsigned line, void *dst)
{
        _cleanup_(jws_verifier_freep) JwsVerifier *v = NULL;
        json_auto_t *j = json_loads(value, JSON_REJECT_DUPLICATES, NULL);
        int r;

        if (!json_is_object(j) || json_object_get(j, "d"))
                return -EINVAL;
        r = jws_verifier_new(&v, j);
        if (r == -ENOMEM)
                return r;
        if (r != 0)
                return -EINVAL;
        return ini_item_string(value, line, dst);
}

/*
 * A C2SP signed-note verifier key for Ed25519, as `xbus audit key` prints
 * it: "NAME+HASH+KEY", HASH the 8 hex digits of the first 4 bytes of
 * SHA-256(NAME || "\n" || 0x01 || key), KEY the padded base64 of 0x01 and
 * the 32-byte public key (log/checkpoint.h).
 */
static int item_vkey(const char *value, unsigned line, void *dst)
{
        const char *plus = strchr(value, '+'), *b64;
        uint8_t raw[33], want[4], md[HASH_SHA256_LEN], buf[NODE_VKEY_NAME_MAX + 1 + sizeof(raw)];
        size_t name_len = plus ? (size_t)(plus - value) : 0;

        if (name_len == 0 || name_len > NODE_VKEY_NAME_MAX || strlen(plus) < 10 || plus[9] != '+')
                return -EINVAL;
        for (size_t i = 0; i < name_len; i++)
                if ((unsigned char)value[i] <= ' ' || value[i] == 0x7f)
                        return -EINVAL;
        b64 = plus + 10;
        if (hex_decode(plus + 1, want, sizeof(want)) < 0 ||
            b64_decode(b64, strlen(b64), raw, sizeof(raw)) != (long)sizeof(raw) || raw[0] != VKEY_ED25519)
                return -EINVAL;
        memcpy(buf, value, name_len);
        buf[name_len] = '\n';
        memcpy(buf + name_len + 1, raw, sizeof(raw));
        hash_sha256(buf, name_len + 1 + sizeof(raw), md);
        if (memcmp(md, want, sizeof(want)) != 0)
                return -EINVAL;
        return ini_item_string(value, line, dst);
}

const IniItem registry_node_items[_NODE_ITEM_MAX] = {
        [NODE_MEMBER] = { "member", ini_item_string, offsetof(NodeDef, member), INI_ITEM_REQUIRED,
                          "a member identifier such as VN/GOV/BCA" },
        [NODE_ADDRESS] = { "address", item_address, offsetof(NodeDef, pub.address), INI_ITEM_REQUIRED,
                           "https://HOST or https://HOST:PORT (a DNS name, an IPv4 address or [an IPv6 address])" },
        [NODE_TLS_FINGERPRINT] = { "tls-fingerprint", registry_item_fingerprints, offsetof(NodeDef, fps),
                                   INI_ITEM_MULTI,
                                   "sha256: followed by 64 hex digits (pairs may be separated by ':')" },
        [NODE_TLS_CA] = { "tls-ca", item_relative_path, offsetof(NodeDef, tls_ca_path), 0,
                          "a PEM file of CA certificates, relative to the registry folder (such as ca/national.pem)" },
        [NODE_TLS_NAME] = { "tls-name", item_tls_name, offsetof(NodeDef, pub.tls_name), 0,
                            "the DNS name or IPv4 address its TLS certificate carries" },
        [NODE_RECEIPT_KEY] = { "receipt-key", item_receipt_key, offsetof(NodeDef, pub.receipt_jwk), INI_ITEM_REQUIRED,
                               "a public JWK of an EC P-256 key, as JSON (the node's signing.jwk without \"d\")" },
        [NODE_CHECKPOINT_KEY] = { "checkpoint-key", item_vkey, offsetof(NodeDef, pub.checkpoint_vkey),
                                  INI_ITEM_REQUIRED, "the checkpoint verifier key, as `xbus audit key` prints it" },
        [NODE_SUBSYSTEMS] = { "subsystems", registry_item_refs, offsetof(NodeDef, subsystems),
                              INI_ITEM_REQUIRED | INI_ITEM_MULTI, "a list of subsystem identifiers" },
};

void registry_node_free(void *p)
{
        NodeDef *d = p;

        free(d->pub.id);
        free(d->pub.address);
        free(d->fps.fp); /* pub.tls_fingerprints is the same array */
        free(d->pub.tls_ca);
        free(d->pub.tls_name);
        free(d->pub.receipt_jwk);
        jws_verifier_free((JwsVerifier *)d->pub.receipt_verifier);
        free(d->pub.checkpoint_vkey);
        free(d->pub.subsystems);
        free(d->member);
        free(d->tls_ca_path);
        for (size_t i = 0; i < d->subsystems.n; i++)
                free(d->subsystems.ids[i]);
        free(d->subsystems.ids);
        free(d->subsystems.lines);
        free(d);
}

/* ---- Checks --------------------------------------------------------------------------------- */

/* The node's tls-ca, read from the registry folder: PEM certificates of a CA. */
static int read_tls_ca(Loader *l, NodeDef *d)
{
        _cleanup_free_ char *text = NULL, *why = NULL;
        _cleanup_(BIO_freep) BIO *bio = NULL;
        unsigned line = d->sec.lines[NODE_TLS_CA];
        const char *data;
        size_t size = 0, n = 0;
        int k;

        k = registry_loader_read(l, d->tls_ca_path, NODE_TLS_CA_MAX, &data, &size, &text, &why);
        if (k == -ENOMEM)
                return k;
        if (k == -ENOENT && !why)
                return 0; /* no folder (registry_load_files()): checked for form only */
        if (k < 0) {
                report(l, &d->sec, line, "node '%s': tls-ca: %s", d->pub.id, why ? why : strerror(-k));
                return 0;
        }
        bio = BIO_new_mem_buf(data, (int)size);
        if (!bio)
                return -ENOMEM;
        for (X509 *x; (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)); n++) {
                bool ca = X509_check_ca(x) > 0;

                X509_free(x);
                if (!ca) {
                        report(l, &d->sec, line, "node '%s': tls-ca '%s' holds a certificate that is not a CA",
                               d->pub.id, d->tls_ca_path);
                        ERR_clear_error();
                        return 0;
                }
        }
        ERR_clear_error();
        if (n == 0) {
                report(l, &d->sec, line, "node '%s': tls-ca '%s' holds no PEM certificate", d->pub.id, d->tls_ca_path);
                return 0;
        }
        d->pub.tls_ca = strndup(data, size);
        return d->pub.tls_ca ? 0 : -ENOMEM;
}

static int check_node(Loader *l, NodeDef *d)
{
        const char *id = d->pub.id;

        if (!registry_token_valid(id))
                report(l, &d->sec, d->sec.line, "invalid node id '%s': expected " EXPECT_TOKEN, id);
        d->pub.tls_fingerprints = d->fps.fp;
        d->pub.n_tls_fingerprints = d->fps.n;
        if (d->member) {
                d->pub.owner = registry_member_lookup(l->r, d->member);
                if (!d->pub.owner)
                        report(l, &d->sec, d->sec.lines[NODE_MEMBER], "node '%s': member '%s' is not defined", id,
                               d->member);
        }
        /* how other nodes recognise its certificate: pinned, or a CA and a name, or both */
        if (ini_section_has(&d->sec, NODE_TLS_CA) != ini_section_has(&d->sec, NODE_TLS_NAME))
                report(l, &d->sec, d->sec.line, "node '%s': tls-ca and tls-name go together", id);
        else if (!ini_section_has(&d->sec, NODE_TLS_CA) && d->fps.n == 0)
                report(l, &d->sec, d->sec.line,
                       "node '%s': its TLS certificate is not named: give tls-fingerprint, or tls-ca and tls-name", id);
        if (d->pub.receipt_jwk) { /* item_receipt_key() checked it: made once here, used per exchange */
                json_auto_t *j = json_loads(d->pub.receipt_jwk, JSON_REJECT_DUPLICATES, NULL);
                JwsVerifier *v = NULL;

                if (!j || jws_verifier_new(&v, j) != 0)
                        return -ENOMEM;
                d->pub.receipt_verifier = v;
        }
        if (d->tls_ca_path)
                return read_tls_ca(l, d);
        return 0;
}

static int hosted_compare(const void *a, const void *b)
{
        const HostedEntry *x = a, *y = b;
        int c = strcmp(x->subsystem, y->subsystem);
        size_t sx = container_of(x->node, NodeDef, pub)->seq, sy = container_of(y->node, NodeDef, pub)->seq;

        return c != 0 ? c : (sx < sy ? -1 : sx > sy);
}

/* Resolve the subsystems each node hosts; each subsystem is hosted by one node at most. */
static int check_hosted(Loader *l)
{
        Registry *r = l->r;
        DefVec *v = &r->defs[T_NODE];
        size_t n = 0;

        for (size_t i = 0; i < v->n; i++)
                n += ((NodeDef *)v->items[i])->subsystems.n;
        r->hosted = calloc(MAX(n, 1U), sizeof(HostedEntry));
        if (!r->hosted)
                return -ENOMEM;
        for (size_t i = 0; i < v->n; i++) {
                NodeDef *d = v->items[i];

                d->pub.subsystems = calloc(MAX(d->subsystems.n, 1U), sizeof(RegistrySubsystem *));
                if (!d->pub.subsystems)
                        return -ENOMEM;
                for (size_t k = 0; k < d->subsystems.n; k++) {
                        const RegistrySubsystem *s = registry_subsystem_lookup(r, d->subsystems.ids[k]);

                        if (!s) {
                                report(l, &d->sec, d->subsystems.lines[k], "node '%s': subsystem '%s' is not defined",
                                       d->pub.id, d->subsystems.ids[k]);
                                continue;
                        }
                        d->pub.subsystems[d->pub.n_subsystems++] = s;
                        r->hosted[r->n_hosted++] = (HostedEntry){ .subsystem = s->id, .node = &d->pub };
                }
                qsort(d->pub.subsystems, d->pub.n_subsystems, sizeof(RegistrySubsystem *),
                      registry_subsystem_ptr_compare);
        }
        qsort(r->hosted, r->n_hosted, sizeof(HostedEntry), hosted_compare);
        for (size_t i = 1; i < r->n_hosted; i++) {
                const HostedEntry *a = &r->hosted[i - 1], *b = &r->hosted[i];
                NodeDef *d = container_of(b->node, NodeDef, pub);

                if (!streq(a->subsystem, b->subsystem))
                        continue;
                for (size_t k = 0; k < d->subsystems.n; k++)
                        if (streq(d->subsystems.ids[k], b->subsystem)) {
                                if (a->node == b->node)
                                        report(l, &d->sec, d->subsystems.lines[k],
                                               "node '%s': subsystem '%s' listed twice", d->pub.id, b->subsystem);
                                else
                                        report(l, &d->sec, d->subsystems.lines[k],
                                               "node '%s': subsystem '%s' is already hosted by node '%s'", d->pub.id,
                                               b->subsystem, a->node->id);
                                break;
                        }
        }
        return 0;
}

int registry_check_nodes(Loader *l)
{
        DefVec *v = &l->r->defs[T_NODE];
        int k;

        for (size_t i = 0; i < v->n; i++) {
                k = check_node(l, v->items[i]);
                if (k < 0)
                        return k;
        }
        return check_hosted(l);
}

int registry_finish_nodes(Registry *r)
{
        DefVec *v = &r->defs[T_NODE];

        r->nodes = calloc(MAX(v->n, 1U), sizeof(RegistryNode *));
        if (!r->nodes)
                return -ENOMEM;
        for (size_t i = 0; i < v->n; i++)
                r->nodes[i] = &((NodeDef *)v->items[i])->pub;
        return 0;
}

/* ---- Lookups -------------------------------------------------------------------------------- */

const RegistryNode *registry_node_lookup(const Registry *r, const char *id)
{
        size_t lo = 0, hi = r && r->nodes ? r->defs[T_NODE].n : 0;

        while (id && lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(id, r->nodes[mid]->id);

                if (c == 0)
                        return r->nodes[mid];
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return NULL;
}

const RegistryNode *registry_node_hosting(const Registry *r, const char *subsystem_id)
{
        size_t lo = 0, hi = r ? r->n_hosted : 0;

        while (subsystem_id && lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(subsystem_id, r->hosted[mid].subsystem);

                if (c == 0)
                        return r->hosted[mid].node;
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return NULL;
}

const RegistryNode *registry_node_by_fingerprint(const Registry *r, const uint8_t *fp)
{
        size_t n = r && r->nodes && fp ? r->defs[T_NODE].n : 0;

        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < r->nodes[i]->n_tls_fingerprints; k++)
                        if (memcmp(r->nodes[i]->tls_fingerprints[k], fp, 32) == 0)
                                return r->nodes[i];
        return NULL;
}

const RegistryNode *registry_node_by_kid(const Registry *r, const char *kid)
{
        size_t n = r && r->nodes && kid ? r->defs[T_NODE].n : 0;

        for (size_t i = 0; i < n; i++)
                if (r->nodes[i]->receipt_verifier && streq(jws_verifier_kid(r->nodes[i]->receipt_verifier), kid))
                        return r->nodes[i];
        return NULL;
}

size_t registry_nodes(const Registry *r, const RegistryNode *const **ret)
{
        *ret = r ? r->nodes : NULL;
        return r && r->nodes ? r->defs[T_NODE].n : 0;
}
