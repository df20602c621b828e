#!/usr/bin/env python3
"""make-corpus.py: generate the SOAP test PKI, the signed SOAP samples and the attack corpus.

usage: tests/soap/make-corpus.py --out DIR   (needs the openssl and xmlsec1 commands)

Run by the build (tests/soap/meson.build) into the build directory; nothing it
writes is committed. DIR is made of:
  DIR/pki/        fresh test keys (*.key, mode 0600, never in the repository) and
                  their certificates: ca, node, rsa-node, client, other-client
                  (signed by ca), rogue-ca (same name as ca, another key) and
                  rogue-client (signed by rogue-ca)
  DIR/requests/   citizen.xml and citizen-template.xml (copied from
                  tests/soap/requests) and citizen-signed.xml (the template
                  signed by the test client with `xmlsec1 --sign`, the positive control)
  DIR/attacks/    one file per attack and manifest.txt: "<file> <stage> <problem type>",
                  where stage is `parse` (soap_request_parse refuses), `validate`
                  (the service's XSD refuses) or `verify` (soap_request_verify refuses)
  DIR/secret.txt  the secret the XXE attacks try to read: must never appear in any output
The keys are made for this corpus only and trusted nowhere else. Readers find
DIR through the environment variable XBUS_SOAP_FIXTURES.
"""
import argparse
import os
import secrets
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ENV = 'http://schemas.xmlsoap.org/soap/envelope/'
SECRET = 'XBUS-SOAP-SECRET-5b1f'          # tests/soap/secret.txt: must never appear in any output
DAYS = '36500'
PKI = REQ = ATT = OUT = None              # set by main() from --out


def sign(template, key, cert, out):
    subprocess.run(['xmlsec1', '--sign', '--privkey-pem', '%s,%s' % (key, cert),
                    '--id-attr:Id', ENV + ':Body', '--output', out, template], check=True)


def openssl(*args):
    r = subprocess.run(['openssl'] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        sys.exit('make-corpus.py: openssl %s failed:\n%s' % (args[0], r.stdout))


def subject(cn):
    return '/CN=' + cn.replace('/', '\\/')     # the subsystem names hold slashes


def new_key(name, algorithm):
    """A fresh private key in PKI/name.key, created with mode 0600 before any key byte is written."""
    path = os.path.join(PKI, name + '.key')
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))
    if algorithm == 'ec':
        openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path)
    else:
        openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', path)
    os.chmod(path, 0o600)
    return path


def make_ca(name, cn):
    key = new_key(name, 'ec')
    openssl('req', '-new', '-x509', '-key', key, '-subj', subject(cn), '-days', DAYS, '-sha256',
            '-addext', 'basicConstraints=critical,CA:TRUE', '-out', os.path.join(PKI, name + '.crt'))


def make_leaf(name, cn, ca, algorithm='ec'):
    key = new_key(name, algorithm)
    csr = os.path.join(PKI, name + '.csr')
    openssl('req', '-new', '-key', key, '-subj', subject(cn), '-out', csr)
    openssl('x509', '-req', '-in', csr, '-CA', os.path.join(PKI, ca + '.crt'), '-CAkey', os.path.join(PKI, ca + '.key'),
            '-set_serial', '0x' + secrets.token_hex(16), '-days', DAYS, '-sha256',
            '-out', os.path.join(PKI, name + '.crt'))
    os.unlink(csr)


def make_pki():
    os.mkdir(PKI, 0o700)
    make_ca('ca', 'xbus SOAP test CA')
    make_leaf('node', 'xbus node VN', 'ca')
    make_leaf('rsa-node', 'xbus node RSA', 'ca', 'rsa')
    make_leaf('client', 'VN/GOV/BYT/health-services', 'ca')
    make_leaf('other-client', 'VN/GOV/HN-UBND/one-stop-shop', 'ca')
    # a CA with the same name as the real one but another key, and a client it signed
    make_ca('rogue-ca', 'xbus SOAP test CA')
    make_leaf('rogue-client', 'VN/GOV/BYT/health-services', 'rogue-ca')


def read(p):
    return open(p, encoding='utf-8').read()


def main():
    global PKI, REQ, ATT, OUT
    ap = argparse.ArgumentParser(description='generate the SOAP test PKI, signed samples and attack corpus')
    ap.add_argument('--out', required=True, help='output directory (created; its pki, requests and attacks '
                    'folders are replaced)')
    args = ap.parse_args()
    OUT = os.path.abspath(args.out)
    PKI, REQ, ATT = (os.path.join(OUT, d) for d in ('pki', 'requests', 'attacks'))
    os.makedirs(OUT, exist_ok=True)
    for d in (PKI, REQ, ATT):
        if os.path.isdir(d):
            shutil.rmtree(d)
    if os.path.exists(os.path.join(OUT, 'secret.txt')):
        os.unlink(os.path.join(OUT, 'secret.txt'))
    make_pki()
    os.mkdir(REQ)
    os.mkdir(ATT)
    for f in ('citizen.xml', 'citizen-template.xml'):
        shutil.copyfile(os.path.join(HERE, 'requests', f), os.path.join(REQ, f))
    shutil.copyfile(os.path.join(HERE, 'secret.txt'), os.path.join(OUT, 'secret.txt'))

    tmpl = os.path.join(REQ, 'citizen-template.xml')
    signed_path = os.path.join(REQ, 'citizen-signed.xml')
    sign(tmpl, os.path.join(PKI, 'client.key'), os.path.join(PKI, 'client.crt'), signed_path)
    signed = read(signed_path)
    plain = read(os.path.join(REQ, 'citizen.xml'))
    attacks = []

    def add(name, text, stage, ptype):
        with open(os.path.join(ATT, name), 'w', encoding='utf-8') as f:
            f.write(text)
        attacks.append((name, stage, ptype))

    def doctype(decl):
        return plain.replace('<?xml version="1.0" encoding="UTF-8"?>\n',
                             '<?xml version="1.0" encoding="UTF-8"?>\n' + decl + '\n')

    secret = os.path.join(OUT, 'secret.txt')
    # --- parse stage: DTDs, entities, limits, structure
    add('xxe-file.xml', doctype('<!DOCTYPE e [<!ENTITY xxe SYSTEM "file://%s">]>' % secret)
        .replace('<pop:citizen/>', '<pop:citizen>&xxe;</pop:citizen>'), 'parse', 'bad_request')
    add('xxe-etc-passwd.xml', doctype('<!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>')
        .replace('<xroad:issue>HS-2026/118', '<xroad:issue>&xxe;'), 'parse', 'bad_request')
    add('xxe-network.xml', doctype('<!DOCTYPE e [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/xxe">]>')
        .replace('<pop:citizen/>', '<pop:citizen>&xxe;</pop:citizen>'), 'parse', 'bad_request')
    add('xxe-parameter-entity.xml',
        doctype('<!DOCTYPE e [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>'),
        'parse', 'bad_request')
    add('xxe-external-dtd.xml', doctype('<!DOCTYPE e SYSTEM "file://%s">' % secret), 'parse', 'bad_request')
    laughs = ['<!ENTITY lol "lol">'] + ['<!ENTITY lol%d "%s">' % (i, ('&lol%s;' % ('' if i == 1 else i - 1)) * 10)
                                       for i in range(1, 10)]
    add('billion-laughs.xml', doctype('<!DOCTYPE e [%s]>' % ''.join(laughs))
        .replace('<pop:citizen/>', '<pop:citizen>&lol9;</pop:citizen>'), 'parse', 'bad_request')
    add('undeclared-entity.xml', plain.replace('<pop:citizen/>', '<pop:citizen>&foo;</pop:citizen>'),
        'parse', 'bad_request')
    add('deep-nesting.xml', plain.replace('<pop:citizen/>', '<a>' * 5000 + '</a>' * 5000), 'parse',
        'bad_request')
    add('huge-text.xml', plain.replace('<pop:citizen/>', '<pop:citizen>%s</pop:citizen>' % ('A' * 200000)),
        'parse', 'bad_request')
    add('huge-attribute.xml', plain.replace('<pop:citizen/>', '<pop:citizen a="%s"/>' % ('A' * 100000)),
        'parse', 'bad_request')
    add('many-nodes.xml', plain.replace('<pop:citizen/>', '<pop:citizen>%s</pop:citizen>' % ('<x/>' * 30000)),
        'parse', 'bad_request')
    add('processing-instruction.xml', plain.replace('<pop:citizen/>', '<?evil data?><pop:citizen/>'),
        'parse', 'bad_request')
    add('soap12.xml', plain.replace(ENV, 'http://www.w3.org/2003/05/soap-envelope'), 'parse', 'bad_request')
    add('wrapping-second-body.xml', signed.replace('</SOAP-ENV:Envelope>',
        '<SOAP-ENV:Body><pop:citizen>forged</pop:citizen></SOAP-ENV:Body>\n</SOAP-ENV:Envelope>'),
        'parse', 'bad_request')
    # --- validate stage: XInclude is never processed, and the XSD refuses it
    add('xinclude.xml', plain.replace('<pop:citizen/>',
        '<pop:citizen xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="file://%s" parse="text"/>'
        '</pop:citizen>' % secret), 'validate', 'request_invalid')

    # --- verify stage: signatures outside the profile, wrapping, keys
    def ref_uri(new):
        return signed.replace('URI="#body"', 'URI="%s"' % new)
    add('ref-file-uri.xml', ref_uri('file://%s' % secret), 'verify', 'bad_request')
    add('ref-http-uri.xml', ref_uri('http://127.0.0.1:9/body'), 'verify', 'bad_request')
    add('ref-xpointer.xml', ref_uri('#xpointer(/)'), 'verify', 'bad_request')
    add('ref-empty-uri.xml', ref_uri(''), 'verify', 'bad_request')
    exc = '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
    add('xslt-transform.xml', signed.replace(exc,
        '<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116">'
        '<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0">'
        '<xsl:template match="/"><xsl:copy-of select="document(\'http://127.0.0.1:9/x\')"/>'
        '<xsl:copy-of select="document(\'file://%s\')"/></xsl:template></xsl:stylesheet></ds:Transform>' % secret
        + exc), 'verify', 'bad_request')
    add('xpath-transform.xml', signed.replace(exc,
        '<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116">'
        '<ds:XPath>count(//. | //@* | //namespace::*) &gt; 0</ds:XPath></ds:Transform>' + exc),
        'verify', 'bad_request')
    add('xpath-filter2-transform.xml', signed.replace(exc,
        '<ds:Transform Algorithm="http://www.w3.org/2002/06/xmldsig-filter2">'
        '<dsig-xpath:XPath xmlns:dsig-xpath="http://www.w3.org/2002/06/xmldsig-filter2" Filter="union">/'
        '</dsig-xpath:XPath></ds:Transform>' + exc), 'verify', 'bad_request')
    start = signed.index('<ds:KeyInfo>')
    end = signed.index('</ds:KeyInfo>') + len('</ds:KeyInfo>')
    add('retrieval-method-loop.xml', signed[:start] +
        '<ds:KeyInfo Id="ki"><ds:RetrievalMethod URI="#ki" Type="http://www.w3.org/2000/09/xmldsig#X509Data"/>'
        '</ds:KeyInfo>' + signed[end:], 'verify', 'client_unknown')
    add('no-keyinfo.xml', signed[:start] + signed[end:], 'verify', 'client_unknown')
    # KeyValue only: a genuine signature (RSA: xmlsec 1.2 writes no EC KeyValue) by a key whose
    # certificate the trust knows, but the message carries only the bare public key
    kv_tmpl = os.path.join(ATT, '.keyvalue-template.xml')
    with open(kv_tmpl, 'w', encoding='utf-8') as f:
        t = read(tmpl).replace('xmldsig-more#ecdsa-sha256', 'xmldsig-more#rsa-sha256')
        f.write(t[:t.index('<ds:KeyInfo>')] + '<ds:KeyInfo><ds:KeyValue/></ds:KeyInfo>' +
                t[t.index('</ds:KeyInfo>') + len('</ds:KeyInfo>'):])
    kv_out = os.path.join(ATT, 'keyvalue-only.xml')
    subprocess.run(['xmlsec1', '--sign', '--privkey-pem', os.path.join(PKI, 'rsa-node.key'),
                    '--id-attr:Id', ENV + ':Body', '--output', kv_out, kv_tmpl], check=True)
    os.unlink(kv_tmpl)
    attacks.append(('keyvalue-only.xml', 'verify', 'client_unknown'))
    out = os.path.join(ATT, 'untrusted-cert.xml')
    sign(tmpl, os.path.join(PKI, 'rogue-client.key'), os.path.join(PKI, 'rogue-client.crt'), out)
    attacks.append(('untrusted-cert.xml', 'verify', 'client_unknown'))
    out = os.path.join(ATT, 'wrong-signer.xml')
    sign(tmpl, os.path.join(PKI, 'other-client.key'), os.path.join(PKI, 'other-client.crt'), out)
    attacks.append(('wrong-signer.xml', 'verify', 'client_mismatch'))
    add('tampered-body.xml', signed.replace('<pop:citizen/>', '<pop:citizen><pop:x>1</pop:x></pop:citizen>'),
        'verify', 'bad_request')
    add('hmac-sha1-truncated.xml', signed.replace('http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"/>',
        'http://www.w3.org/2000/09/xmldsig#hmac-sha1"><ds:HMACOutputLength>0</ds:HMACOutputLength>'
        '</ds:SignatureMethod>'), 'verify', 'bad_request')
    # signature wrapping: the signed Body moved away, a forged Body in its place
    b0 = signed.index('<SOAP-ENV:Body wsu:Id="body">')
    b1 = signed.index('</SOAP-ENV:Body>') + len('</SOAP-ENV:Body>')
    orig_body = signed[b0:b1]
    forged = '<SOAP-ENV:Body><pop:citizen><pop:forged>1</pop:forged></pop:citizen></SOAP-ENV:Body>'
    forged_id = forged.replace('<SOAP-ENV:Body>', '<SOAP-ENV:Body wsu:Id="body">')
    wrapper = '<w:Wrapper xmlns:w="urn:attacker">%s</w:Wrapper>\n  </SOAP-ENV:Header>' % orig_body
    moved = signed[:b0] + forged + signed[b1:]
    add('wrapping-moved-body.xml', moved.replace('</SOAP-ENV:Header>', wrapper), 'verify', 'bad_request')
    moved = signed[:b0] + forged_id + signed[b1:]
    add('wrapping-moved-body-same-id.xml', moved.replace('</SOAP-ENV:Header>', wrapper), 'verify', 'bad_request')
    add('wrapping-body-in-payload.xml', signed[:b0] + forged.replace('</pop:citizen>', orig_body +
        '</pop:citizen>') + signed[b1:], 'verify', 'bad_request')
    add('duplicate-ids.xml', signed.replace('</SOAP-ENV:Header>',
        '<w:Note xmlns:w="urn:attacker" wsu:Id="body">x</w:Note>\n  </SOAP-ENV:Header>'), 'verify', 'bad_request')
    add('duplicate-xml-id.xml', signed.replace('</SOAP-ENV:Header>',
        '<w:Note xmlns:w="urn:attacker" xml:id="body">x</w:Note>\n  </SOAP-ENV:Header>'), 'verify', 'bad_request')
    s0 = signed.index('<ds:Signature')
    s1 = signed.index('</ds:Signature>') + len('</ds:Signature>')
    add('two-signatures.xml', signed.replace('</SOAP-ENV:Header>', signed[s0:s1] + '\n  </SOAP-ENV:Header>'),
        'parse', 'bad_request')
    add('signature-in-body.xml', (signed[:s0] + signed[s1:]).replace('<pop:citizen/>',
        '<pop:citizen>%s</pop:citizen>' % signed[s0:s1]), 'verify', 'bad_request')
    add('unsigned.xml', plain, 'verify', 'bad_request')

    with open(os.path.join(ATT, 'manifest.txt'), 'w') as f:
        f.write('# file stage type (generated by tests/soap/make-corpus.py)\n')
        for a in attacks:
            f.write('%s %s %s\n' % a)
    print('%s: %d attack files' % (OUT, len(attacks)))


if __name__ == '__main__':
    sys.exit(main())
