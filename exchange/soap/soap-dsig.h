/* soap-dsig.h: XMLDSig for SOAP messages with xmlsec1 (OpenSSL), signing and locked-down verification
 *
 * The profile, both ways (requests signed by clients, responses signed by the bus):
 *   - one ds:Signature, a direct child of the SOAP Header;
 *   - SignedInfo: CanonicalizationMethod exc-c14n (or c14n 1.0/1.1),
 *     SignatureMethod ecdsa-sha256 or rsa-sha256;
 *   - References "#ID" only, to the SOAP Body's wsu:Id (required) and
 *     optionally the Header's wsu:Id (with the enveloped-signature
 *     transform); transforms: enveloped-signature and the c14n family;
 *     DigestMethod sha256, sha384 or sha512;
 *   - KeyInfo/X509Data/X509Certificate: the signer's certificate, which must
 *     chain to the trust (SoapTrust). Nothing else in KeyInfo (no KeyValue,
 *     KeyName, RetrievalMethod); no ds:Object, no Manifest.
 * The bus signs with that same profile: exc-c14n, ecdsa-sha256 (EC keys) or
 * rsa-sha256 (RSA keys), Body and Header referenced, its certificate in KeyInfo.
 *
 * Verification refuses (before xmlsec sees the message) anything outside
 * the profile: other URIs (file:, http:, "", xpointer), other transforms
 * (XSLT, XPath, ...), several Signatures, a Signature elsewhere, references
 * that do not land exactly on the envelope's own Body or Header (signature
 * wrapping), and any two Id/ID/id/xml:id attributes with the same value.
 * xmlsec then runs with the same restrictions (same-document URIs, enabled
 * transform and key-data lists, no RetrievalMethod, no I/O callbacks), and
 * both the return code and the status of the signature and of every
 * reference are checked.
 *
 * Threads: a SoapTrust and a SoapSigner are built once and then only read:
 * they may be shared by threads (each call makes its own xmlsec context;
 * the signer's key is duplicated per signature). A document is used by one
 * thread at a time. soap_global_init() must have run.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "soap/soap-xml.h"
#include "util/macro.h"

#define SOAP_ID_BODY "xbus-body"
#define SOAP_ID_HEADER "xbus-header"
#define SOAP_MAX_TRUST_CERTS 64

typedef struct SoapTrust SoapTrust;
typedef struct SoapSigner SoapSigner;

/*
 * soap_trust_new(): a trust store of the CA certificates in `pem` (one or
 * more PEM certificates, `size` bytes; at most SOAP_MAX_TRUST_CERTS).
 * Return: 0; -EINVAL when there is no certificate or one is malformed,
 * -E2BIG for too many, -ENOMEM, -EIO (xmlsec).
 */
int soap_trust_new(SoapTrust **ret, const char *pem, size_t size);
SoapTrust *soap_trust_free(SoapTrust *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(SoapTrust *, soap_trust_free);

/*
 * soap_signer_new(): the bus's signing key (PEM, EC P-256 or RSA) and its
 * certificate (PEM), loaded once. Return: 0, -EINVAL (malformed, or the key
 * type is not EC/RSA, or the certificate is not the key's), -ENOMEM.
 */
int soap_signer_new(SoapSigner **ret, const char *key_pem, size_t key_size, const char *cert_pem, size_t cert_size);
SoapSigner *soap_signer_free(SoapSigner *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(SoapSigner *, soap_signer_free);

/*
 * soap_dsig_sign(): give `body` and `header` (of `doc`) the wsu:Ids
 * SOAP_ID_BODY and SOAP_ID_HEADER and append an enveloped signature over both
 * to `header`. Return: 0, -ENOMEM, -EIO (xmlsec failed).
 */
int soap_dsig_sign(const SoapSigner *s, xmlDoc *doc, xmlNode *header, xmlNode *body);

typedef struct SoapSignerInfo {
        char cn[256];            /* subject CN of the signing certificate ("" when none) */
        uint8_t fingerprint[32]; /* SHA-256 of its DER */
        bool header_signed;      /* the Header was referenced as well as the Body */
} SoapSignerInfo;

/*
 * soap_dsig_verify(): check the one signature of the envelope `doc`
 * (`header` and `body` are its Header and Body) with the profile above.
 * The document gains ID registrations, nothing else. `info` may be NULL.
 * On SOAP_E_REFUSED *ret_problem is bad_request (no signature, outside the
 * profile, wrapped, tampered with) or client_unknown (no certificate, or
 * one that does not chain to the trust), with one line of detail.
 * Return: 0, SOAP_E_REFUSED, -ENOMEM.
 */
int soap_dsig_verify(xmlDoc *doc, xmlNode *header, xmlNode *body, const SoapTrust *t, SoapSignerInfo *info,
                     Problem *ret_problem);
