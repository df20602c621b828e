/* soap-dsig.c: XMLDSig signing and locked-down verification of SOAP envelopes (xmlsec1, OpenSSL) */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <xmlsec/xmlsec.h>
#include <xmlsec/keys.h>
#include <xmlsec/keysmngr.h>
#include <xmlsec/templates.h>
#include <xmlsec/transforms.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/crypto.h>
#include <xmlsec/openssl/x509.h>

#include "soap/soap-dsig.h"

/*
 * xmlsec's OpenSSL X509 store always adds the system's default CA file and
 * folder (/etc/ssl/certs) to what it trusts, which is not the registry's
 * trust. So xmlsec only takes the key from the message's one certificate
 * (XMLSEC_KEYINFO_FLAGS_X509DATA_DONT_VERIFY_CERTS) and that certificate is
 * verified here against `store`, which holds the given CAs and nothing else.
 */
struct SoapTrust {
        xmlSecKeysMngrPtr mngr; /* no keys; its X509 store is not consulted */
        X509_STORE *store;      /* the trusted CAs, no default paths */
};

struct SoapSigner {
        xmlSecKeyPtr key;         /* private key + its certificate (X509 data) */
        xmlSecTransformId method; /* ecdsa-sha256 or rsa-sha256 */
};

/* --- trust and signer -------------------------------------------------------- */

SoapTrust *soap_trust_free(SoapTrust *t)
{
        if (!t)
                return NULL;
        if (t->mngr)
                xmlSecKeysMngrDestroy(t->mngr);
        X509_STORE_free(t->store);
        free(t);
        return NULL;
}

int soap_trust_new(SoapTrust **ret, const char *pem, size_t size)
{
        _cleanup_(soap_trust_freep) SoapTrust *t = NULL;
        BIO *bio;
        X509 *x;
        unsigned n = 0;
        int r = 0;

        if (!ret || !pem || size == 0 || size > INT32_MAX)
                return -EINVAL;
        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->mngr = xmlSecKeysMngrCreate();
        if (!t->mngr)
                return -ENOMEM;
        if (xmlSecCryptoAppDefaultKeysMngrInit(t->mngr) < 0)
                return -EIO;
        t->store = X509_STORE_new();
        if (!t->store)
                return -ENOMEM;
        bio = BIO_new_mem_buf(pem, (int)size);
        if (!bio)
                return -ENOMEM;
        while (r == 0 && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
                if (++n > SOAP_MAX_TRUST_CERTS)
                        r = -E2BIG;
                else if (X509_STORE_add_cert(t->store, x) != 1)
                        r = -EINVAL;
                X509_free(x);
        }
        ERR_clear_error();
        BIO_free(bio);
        if (r < 0)
                return r;
        if (n == 0)
                return -EINVAL;
        *ret = TAKE_PTR(t);
        return 0;
}

SoapSigner *soap_signer_free(SoapSigner *s)
{
        if (!s)
                return NULL;
        if (s->key)
                xmlSecKeyDestroy(s->key);
        free(s);
        return NULL;
}

int soap_signer_new(SoapSigner **ret, const char *key_pem, size_t key_size, const char *cert_pem, size_t cert_size)
{
        _cleanup_(soap_signer_freep) SoapSigner *s = NULL;
        xmlSecKeyDataPtr x509;
        X509 *cert;
        EVP_PKEY *pub;
        xmlSecKeyDataId kind;
        EVP_PKEY *priv;

        if (!ret || !key_pem || !cert_pem || key_size == 0 || cert_size == 0 || key_size > INT32_MAX ||
            cert_size > INT32_MAX)
                return -EINVAL;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->key = xmlSecCryptoAppKeyLoadMemory((const xmlSecByte *)key_pem, (xmlSecSize)key_size, xmlSecKeyDataFormatPem,
                                              NULL, NULL, NULL);
        if (!s->key)
                return -EINVAL;
        kind = xmlSecKeyGetValue(s->key) ? xmlSecKeyGetValue(s->key)->id : xmlSecKeyDataIdUnknown;
        if (kind == xmlSecKeyDataEcdsaId)
                s->method = xmlSecTransformEcdsaSha256Id;
        else if (kind == xmlSecKeyDataRsaId)
                s->method = xmlSecTransformRsaSha256Id;
        else
                return -EINVAL;
        if (xmlSecCryptoAppKeyCertLoadMemory(s->key, (const xmlSecByte *)cert_pem, (xmlSecSize)cert_size,
                                             xmlSecKeyDataFormatPem) < 0)
                return -EINVAL;
        /* the certificate must be the key's */
        x509 = xmlSecKeyGetData(s->key, xmlSecOpenSSLKeyDataX509Id);
        if (!x509 || xmlSecOpenSSLKeyDataX509GetCertsSize(x509) != 1)
                return -EINVAL;
        cert = xmlSecOpenSSLKeyDataX509GetCert(x509, 0);
        pub = cert ? X509_get0_pubkey(cert) : NULL;
        priv = kind == xmlSecKeyDataEcdsaId ? xmlSecOpenSSLKeyDataEcdsaGetEvp(xmlSecKeyGetValue(s->key))
                                            : xmlSecOpenSSLKeyDataRsaGetEvp(xmlSecKeyGetValue(s->key));
        if (!pub || !priv || EVP_PKEY_eq(pub, priv) != 1)
                return -EINVAL;
        *ret = TAKE_PTR(s);
        return 0;
}

/* --- signing ------------------------------------------------------------------ */

static int set_id(xmlNode *n, const char *id)
{
        xmlNsPtr wsu = xmlSearchNsByHref(n->doc, n, (const xmlChar *)SOAP_NS_WSU);
        xmlAttrPtr a;

        if (!wsu)
                wsu = xmlNewNs(n, (const xmlChar *)SOAP_NS_WSU, (const xmlChar *)"wsu");
        if (!wsu)
                return -ENOMEM;
        a = xmlSetNsProp(n, wsu, (const xmlChar *)"Id", (const xmlChar *)id);
        if (!a)
                return -ENOMEM;
        if (xmlGetID(n->doc, (const xmlChar *)id) == a)
                return 0;
        return xmlAddID(NULL, n->doc, (const xmlChar *)id, a) ? 0 : -EEXIST;
}

int soap_dsig_sign(const SoapSigner *s, xmlDoc *doc, xmlNode *header, xmlNode *body)
{
        xmlNode *sig, *ref, *ki, *x509;
        xmlSecDSigCtxPtr ctx;
        int r;

        if (!s || !doc || !header || !body)
                return -EINVAL;
        r = set_id(body, SOAP_ID_BODY);
        if (r >= 0)
                r = set_id(header, SOAP_ID_HEADER);
        if (r < 0)
                return r;
        sig = xmlSecTmplSignatureCreateNsPref(doc, xmlSecTransformExclC14NId, s->method, NULL, (const xmlChar *)"ds");
        if (!sig)
                return -ENOMEM;
        if (!xmlAddChild(header, sig)) {
                xmlFreeNode(sig);
                return -ENOMEM;
        }
        ref = xmlSecTmplSignatureAddReference(sig, xmlSecTransformSha256Id, NULL, (const xmlChar *)"#" SOAP_ID_BODY,
                                              NULL);
        if (!ref || !xmlSecTmplReferenceAddTransform(ref, xmlSecTransformExclC14NId))
                return -ENOMEM;
        ref = xmlSecTmplSignatureAddReference(sig, xmlSecTransformSha256Id, NULL, (const xmlChar *)"#" SOAP_ID_HEADER,
                                              NULL);
        if (!ref || !xmlSecTmplReferenceAddTransform(ref, xmlSecTransformEnvelopedId) ||
            !xmlSecTmplReferenceAddTransform(ref, xmlSecTransformExclC14NId))
                return -ENOMEM;
        ki = xmlSecTmplSignatureEnsureKeyInfo(sig, NULL);
        x509 = ki ? xmlSecTmplKeyInfoAddX509Data(ki) : NULL;
        if (!x509 || !xmlSecTmplX509DataAddCertificate(x509))
                return -ENOMEM;

        ctx = xmlSecDSigCtxCreate(NULL);
        if (!ctx)
                return -ENOMEM;
        ctx->signKey = xmlSecKeyDuplicate(s->key);
        if (!ctx->signKey) {
                xmlSecDSigCtxDestroy(ctx);
                return -ENOMEM;
        }
        r = xmlSecDSigCtxSign(ctx, sig) < 0 ? -EIO : 0;
        xmlSecDSigCtxDestroy(ctx);
        return r;
}

/* --- verification: the profile, before xmlsec ------------------------------ */

#define ALG_EXC_C14N "http://www.w3.org/2001/10/xml-exc-c14n#"
#define ALG_C14N "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
#define ALG_C14N11 "http://www.w3.org/2006/12/xml-c14n11"
#define ALG_ENVELOPED "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

static const char *const c14n_algs[] = { ALG_EXC_C14N, ALG_C14N, ALG_C14N11, NULL };
static const char *const sig_algs[] = { "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
                                        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", NULL };
static const char *const digest_algs[] = { "http://www.w3.org/2001/04/xmlenc#sha256",
                                           "http://www.w3.org/2001/04/xmldsig-more#sha384",
                                           "http://www.w3.org/2001/04/xmlenc#sha512", NULL };

static bool in_list(const char *v, const char *const *list)
{
        for (; v && *list; list++)
                if (streq(v, *list))
                        return true;
        return false;
}

/* The Algorithm attribute, copied into buf (truncated algorithms do not match any list). */
static const char *algorithm(xmlNode *n, char *buf, size_t size)
{
        xmlChar *a = xmlGetNoNsProp(n, (const xmlChar *)"Algorithm");

        if (!a)
                return NULL;
        snprintf(buf, size, "%s", (const char *)a);
        xmlFree(a);
        return buf;
}

static bool is_ds(const xmlNode *n, const char *name)
{
        return soap_node_is(n, SOAP_NS_DSIG, name);
}

/* A c14n method may carry ec:InclusiveNamespaces (exclusive only) and nothing else. */
static bool c14n_children_ok(xmlNode *n, const char *alg)
{
        for (xmlNode *c = soap_first_element(n); c; c = soap_next_element(c))
                if (!streq(alg, ALG_EXC_C14N) || !soap_node_is(c, ALG_EXC_C14N, "InclusiveNamespaces") ||
                    soap_first_element(c))
                        return false;
        return true;
}

/* "#" + an NCName-ish id: no xpointer, no other scheme, no empty URI. */
static bool same_document_id(const char *uri)
{
        if (!uri || uri[0] != '#' || !uri[1] || strlen(uri) > 128)
                return false;
        for (const char *c = uri + 1; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' ||
                      *c == '_' || *c == '.'))
                        return false;
        return !(uri[1] >= '0' && uri[1] <= '9') && uri[1] != '-' && uri[1] != '.';
}

typedef struct Walk {
        unsigned signatures;
        xmlNode *signature;
        const char *dup; /* a duplicated id value (points into the doc) */
        const xmlChar *ids[64];
        size_t n_ids;
        bool too_many_ids;
} Walk;

static bool id_attr_name(const xmlAttr *a)
{
        const char *n = (const char *)a->name;
        return streq(n, "Id") || streq(n, "ID") || streq(n, "id");
}

/* Count signatures; collect every Id/ID/id/xml:id value and find duplicates. */
static void walk(xmlNode *n, Walk *w)
{
        for (; n; n = n->next) {
                if (n->type != XML_ELEMENT_NODE)
                        continue;
                if (is_ds(n, "Signature")) {
                        w->signatures++;
                        w->signature = n;
                }
                for (xmlAttr *a = n->properties; a; a = a->next) {
                        xmlChar *v;
                        if (!id_attr_name(a))
                                continue;
                        v = a->children ? a->children->content : NULL;
                        if (!v)
                                continue;
                        for (size_t i = 0; i < w->n_ids; i++)
                                if (xmlStrEqual(w->ids[i], v))
                                        w->dup = (const char *)v;
                        if (w->n_ids < ELEMENTSOF(w->ids))
                                w->ids[w->n_ids++] = v;
                        else
                                w->too_many_ids = true;
                }
                walk(n->children, w);
        }
}

/* The wsu:Id of `n` registered as an ID of its document; its value or NULL. */
static const char *register_id(xmlNode *n)
{
        xmlAttrPtr a = xmlHasNsProp(n, (const xmlChar *)"Id", (const xmlChar *)SOAP_NS_WSU);
        const xmlChar *v = a && a->children && !a->children->next && a->children->type == XML_TEXT_NODE
                                   ? a->children->content
                                   : NULL;
        xmlAttrPtr have;

        if (!v || !*v)
                return NULL;
        have = xmlGetID(n->doc, v);
        if (have && have != a)
                return NULL;
        if (!have && !xmlAddID(NULL, n->doc, v, a))
                return NULL;
        return (const char *)v;
}

typedef struct Plan {
        const char *body_id, *header_id;
        bool body_ref, header_ref;
} Plan;

static int check_reference(xmlNode *ref, Plan *p, Problem *ret_problem)
{
        xmlChar *uri = xmlGetNoNsProp(ref, (const xmlChar *)"URI");
        xmlNode *c = soap_first_element(ref);
        bool header = false, enveloped = false;
        char alg[256];
        const char *a;

        if (!uri || !same_document_id((const char *)uri)) {
                xmlFree(uri);
                return soap_refuse(ret_problem, PROBLEM_BAD_REQUEST,
                                   "a signature Reference must point into the message (URI=\"#id\")");
        }
        if (p->body_id && streq((const char *)uri + 1, p->body_id) && !p->body_ref)
                p->body_ref = true;
        else if (p->header_id && streq((const char *)uri + 1, p->header_id) && !p->header_ref)
                p->header_ref = header = true;
        else {
                xmlFree(uri);
                return soap_refuse(ret_problem, PROBLEM_BAD_REQUEST,
                                   "a signature Reference must point to the SOAP Body or Header, once");
        }
        xmlFree(uri);
        if (is_ds(c, "Transforms")) {
                for (xmlNode *t = soap_first_element(c); t; t = soap_next_element(t)) {
                        if (!is_ds(t, "Transform") || !(a = algorithm(t, alg, sizeof(alg))))
                                return soap_refuse(ret_problem, PROBLEM_BAD_REQUEST,
                                                   "a signature Transform is malformed");
                        if (streq(a, ALG_ENVELOPED) && !soap_first_element(t))
                                enveloped = true;
                        else if (!in_list(a, c14n_algs) || !c14n_children_ok(t, a))
                                return soap_refuse(ret_problem, PROBLEM_BAD_REQUEST,
                                                   "signature transforms are limited to enveloped-signature and c14n");
                }
                c = soap_next_element(c);
        }
        if (header && !enveloped)
                return soap_refuse(ret_problem, PROBLEM_BAD_REQUEST,
                                   "the Header reference needs the enveloped-signature transform");
        if (!is_ds(c, "DigestMethod") || !in_list(algorithm(c, alg, sizeof(alg)), digest_algs) || soap_first_element(c))
                return soap_refuse(ret_problem, PROBLEM_BAD_REQUEST, "the digest must be SHA-256, SHA-384 or SHA-512");
        c = soap_next_element(c);
        if (!is_ds(c, "DigestValue") || soap_next_element(c))
                return soap_refuse(ret_problem, PROBLEM_BAD_REQUEST, "a signature Reference is malformed");
        return 0;
}

static int check_profile(xmlNode *sig, Plan *p, Problem *ret_problem)
{
        xmlNode *si = soap_first_element(sig), *c, *ki, *x;
        char alg[256];
        const char *a;
        unsigned refs = 0;
        int k;

        if (!is_ds(si, "SignedInfo"))
                return soap_refuse(ret_problem, PROBLEM_BAD_REQUEST, "the Signature has no SignedInfo");
        c = soap_first_element(si);
        if (!is_ds(c, "CanonicalizationMethod") || !(a = algorithm(c, alg, sizeof(alg))) || !in_list(a, c14n_algs) ||
            !c14n_children_ok(c, a))
                return soap_refuse(ret_problem, PROBLEM_BAD_REQUEST, "the canonicalization must be (exclusive) c14n");
        c = soap_next_element(c);
        if (!is_ds(c, "SignatureMethod") || !in_list(algorithm(c, alg, sizeof(alg)), sig_algs) || soap_first_element(c))
                return soap_refuse(ret_problem, PROBLEM_BAD_REQUEST,
                                   "the signature method must be ecdsa-sha256 or rsa-sha256");
        for (c = soap_next_element(c); c; c = soap_next_element(c)) {
                if (!is_ds(c, "Reference"))
                        return soap_refuse(ret_problem, PROBLEM_BAD_REQUEST, "SignedInfo has unexpected content");
                if (++refs > 2)
                        return soap_refuse(ret_problem, PROBLEM_BAD_REQUEST, "too many signature References");
                k = check_reference(c, p, ret_problem);
                if (k != 0)
                        return k;
        }
        if (!p->body_ref)
                return soap_refuse(ret_problem, PROBLEM_BAD_REQUEST, "the signature does not cover the SOAP Body");

        c = soap_next_element(si);
        if (!is_ds(c, "SignatureValue"))
                return soap_refuse(ret_problem, PROBLEM_BAD_REQUEST, "the Signature has no SignatureValue");
        ki = soap_next_element(c);
        if (!is_ds(ki, "KeyInfo"))
                return soap_refuse(ret_problem, PROBLEM_CLIENT_UNKNOWN,
                                   "the Signature must carry the signer's X.509 certificate in KeyInfo");
        if (soap_next_element(ki))
                return soap_refuse(ret_problem, PROBLEM_BAD_REQUEST, "the Signature has content after KeyInfo");
        x = soap_first_element(ki);
        if (!x)
                return soap_refuse(ret_problem, PROBLEM_CLIENT_UNKNOWN,
                                   "the Signature must carry the signer's X.509 certificate in KeyInfo");
        if (!is_ds(x, "X509Data") || soap_next_element(x))
                return soap_refuse(ret_problem, PROBLEM_CLIENT_UNKNOWN,
                                   "KeyInfo may hold only one X509Data (no KeyValue, KeyName or RetrievalMethod)");
        x = soap_first_element(x);
        if (!is_ds(x, "X509Certificate") || soap_next_element(x))
                return soap_refuse(ret_problem, PROBLEM_CLIENT_UNKNOWN,
                                   "X509Data must hold exactly the signer's X509Certificate");
        return 0;
}

/* --- verification: xmlsec ------------------------------------------------------ */

static int enable(xmlSecDSigCtxPtr ctx)
{
        const xmlSecTransformId ref[] = {
                xmlSecTransformInclC14NId,  xmlSecTransformExclC14NId, xmlSecTransformInclC14N11Id,
                xmlSecTransformEnvelopedId, xmlSecTransformSha256Id,   xmlSecTransformSha384Id,
                xmlSecTransformSha512Id,
        };
        const xmlSecTransformId sig[] = {
                xmlSecTransformInclC14NId,    xmlSecTransformExclC14NId,  xmlSecTransformInclC14N11Id,
                xmlSecTransformEcdsaSha256Id, xmlSecTransformRsaSha256Id,
        };

        for (size_t i = 0; i < ELEMENTSOF(ref); i++)
                if (xmlSecDSigCtxEnableReferenceTransform(ctx, ref[i]) < 0)
                        return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(sig); i++)
                if (xmlSecDSigCtxEnableSignatureTransform(ctx, sig[i]) < 0)
                        return -ENOMEM;
        if (xmlSecPtrListAdd(&ctx->keyInfoReadCtx.enabledKeyData, (void *)xmlSecKeyDataX509Id) < 0)
                return -ENOMEM;
        ctx->enabledReferenceUris = xmlSecTransformUriTypeSameDocument;
        ctx->flags = XMLSEC_DSIG_FLAGS_IGNORE_MANIFESTS;
        /* the certificate is verified against the trust by cert_trusted(), not by xmlsec (see SoapTrust) */
        ctx->keyInfoReadCtx.flags |= XMLSEC_KEYINFO_FLAGS_STOP_ON_UNKNOWN_CHILD |
                                     XMLSEC_KEYINFO_FLAGS_X509DATA_STOP_ON_UNKNOWN_CHILD |
                                     XMLSEC_KEYINFO_FLAGS_X509DATA_DONT_VERIFY_CERTS;
        ctx->keyInfoReadCtx.maxRetrievalMethodLevel = 0;
        ctx->keyInfoReadCtx.certsVerificationDepth = 4;
        return 0;
}

static X509 *key_cert(xmlSecKeyPtr key)
{
        xmlSecKeyDataPtr data = key ? xmlSecKeyGetData(key, xmlSecOpenSSLKeyDataX509Id) : NULL;
        return data ? xmlSecOpenSSLKeyDataX509GetKeyCert(data) : NULL;
}

/* `cert` chains to one of the trust's CAs, now. */
static bool cert_trusted(const SoapTrust *t, X509 *cert)
{
        X509_STORE_CTX *c = X509_STORE_CTX_new();
        bool ok;

        if (!c)
                return false;
        ok = X509_STORE_CTX_init(c, t->store, cert, NULL) == 1 && X509_verify_cert(c) == 1;
        X509_STORE_CTX_free(c);
        ERR_clear_error();
        return ok;
}

static void signer_info(X509 *cert, SoapSignerInfo *info)
{
        unsigned len = sizeof(info->fingerprint);

        info->cn[0] = 0;
        memset(info->fingerprint, 0, sizeof(info->fingerprint));
        if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, info->cn, sizeof(info->cn)) < 0 ||
            strlen(info->cn) >= sizeof(info->cn) - 1)
                info->cn[0] = 0;
        if (X509_digest(cert, EVP_sha256(), info->fingerprint, &len) != 1)
                memset(info->fingerprint, 0, sizeof(info->fingerprint));
}

int soap_dsig_verify(xmlDoc *doc, xmlNode *header, xmlNode *body, const SoapTrust *t, SoapSignerInfo *info,
                     Problem *ret_problem)
{
        Walk w = {};
        Plan p = {};
        xmlSecDSigCtxPtr ctx;
        xmlSecSize refs;
        X509 *cert;
        int k;

        if (!doc || !body || !t)
                return -EINVAL;
        walk(xmlDocGetRootElement(doc), &w);
        if (w.signatures == 0)
                return soap_refuse(ret_problem, PROBLEM_BAD_REQUEST, "the message is not signed");
        if (w.signatures > 1)
                return soap_refuse(ret_problem, PROBLEM_BAD_REQUEST, "the message has more than one Signature");
        if (!header || w.signature->parent != header)
                return soap_refuse(ret_problem, PROBLEM_BAD_REQUEST,
                                   "the Signature must be a child of the SOAP Header");
        if (w.dup)
                return soap_refuse(ret_problem, PROBLEM_BAD_REQUEST, "the message has duplicate ids");
        if (w.too_many_ids)
                return soap_refuse(ret_problem, PROBLEM_BAD_REQUEST, "the message has too many ids");
        p.body_id = register_id(body);
        p.header_id = register_id(header);
        if (!p.body_id)
                return soap_refuse(ret_problem, PROBLEM_BAD_REQUEST, "the SOAP Body has no wsu:Id to sign");
        k = check_profile(w.signature, &p, ret_problem);
        if (k != 0)
                return k;

        ctx = xmlSecDSigCtxCreate(t->mngr);
        if (!ctx)
                return -ENOMEM;
        k = enable(ctx);
        if (k < 0)
                goto finish;
        if (xmlSecDSigCtxVerify(ctx, w.signature) < 0 || ctx->status != xmlSecDSigStatusSucceeded) {
                /* which of the two: no usable certificate, or a signature that does not match */
                if (!key_cert(ctx->signKey))
                        k = soap_refuse(ret_problem, PROBLEM_CLIENT_UNKNOWN, "the signing certificate is not usable");
                else
                        k = soap_refuse(ret_problem, PROBLEM_BAD_REQUEST, "the signature does not verify");
                goto finish;
        }
        cert = key_cert(ctx->signKey);
        if (!cert || !cert_trusted(t, cert)) {
                k = soap_refuse(ret_problem, PROBLEM_CLIENT_UNKNOWN, "the signing certificate is not trusted");
                goto finish;
        }
        refs = xmlSecPtrListGetSize(&ctx->signedInfoReferences);
        if (refs != (p.header_ref ? 2U : 1U)) {
                k = soap_refuse(ret_problem, PROBLEM_BAD_REQUEST, "the signature's references were not all checked");
                goto finish;
        }
        for (xmlSecSize i = 0; i < refs; i++) {
                xmlSecDSigReferenceCtxPtr r = xmlSecPtrListGetItem(&ctx->signedInfoReferences, i);
                const char *want;

                if (!r || r->status != xmlSecDSigStatusSucceeded || !r->uri) {
                        k = soap_refuse(ret_problem, PROBLEM_BAD_REQUEST, "a signature reference does not verify");
                        goto finish;
                }
                want = streq((const char *)r->uri + (r->uri[0] == '#'), p.body_id) ? p.body_id : p.header_id;
                /* the id still names the envelope's own Body or Header (nothing re-registered it) */
                if (!want || !streq((const char *)r->uri + (r->uri[0] == '#'), want) ||
                    xmlGetID(doc, (const xmlChar *)want) != xmlHasNsProp(want == p.body_id ? body : header,
                                                                         (const xmlChar *)"Id",
                                                                         (const xmlChar *)SOAP_NS_WSU)) {
                        k = soap_refuse(ret_problem, PROBLEM_BAD_REQUEST,
                                        "a signature reference is not the Body or Header");
                        goto finish;
                }
        }
        if (info) {
                signer_info(cert, info);
                info->header_signed = p.header_ref;
        }
        k = 0;
finish:
        xmlSecDSigCtxDestroy(ctx);
        return k;
}
