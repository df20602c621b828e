"""batch_receipt.py: verify a receipt of the group-commit form without the project's code.

The form (docs/ARCHITECTURE.md, issue 14 lever 3; exchange/log/batch-receipt.h):
    <tree head JWS>~<base64url(entry bytes)>~<base64url(inclusion path, 32 bytes a hash)>
The head is checked with the `cryptography` package and, when asked, with the
openssl command; the entry's leaf hash is walked up the path per RFC 9162
2.1.3.2 (written here from the RFC) to the head's root.

Used by test-batch-receipt (exchange/log): `python3 batch_receipt.py --check DIR`
reads DIR/pub.pem, DIR/origin and DIR/receipts (one receipt a line, then a line
"--" and receipts that must be refused); exit 0 when every verdict is right,
1 otherwise, 77 when `cryptography` is missing. The integration harness can
import verify() for receipts of a running node.
"""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def is_batch_receipt(receipt):
    """The older receipt is one compact JWS, which never holds a '~'."""
    return "~" in receipt


def path_root(leaf_hash, index, size, path):
    """RFC 9162 2.1.3.2: the root that `path` leads to from leaf `index` of a tree of `size`, or None."""
    if index >= size:
        return None
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            if not fn & 1:
                while fn != 0 and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_es256_cryptography(jws, pub_pem):
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    h, p, s = jws.split(".")
    sig = b64url_decode(s)
    if len(sig) != 64:
        return False
    key = serialization.load_pem_public_key(pub_pem)
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    try:
        key.verify(der, (h + "." + p).encode(), ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


def verify_es256_openssl(jws, pub_pem_path):
    """The head's signature with the openssl command (DER signature built here)."""
    h, p, s = jws.split(".")
    sig = b64url_decode(s)
    if len(sig) != 64:
        return False

    def der_int(v):
        b = v.to_bytes((v.bit_length() + 8) // 8 or 1, "big")
        return b"\x02" + bytes([len(b)]) + b

    seq = der_int(int.from_bytes(sig[:32], "big")) + der_int(int.from_bytes(sig[32:], "big"))
    d = tempfile.mkdtemp(prefix="xbus-brc-")
    try:
        with open(os.path.join(d, "in"), "wb") as f:
            f.write((h + "." + p).encode())
        with open(os.path.join(d, "sig"), "wb") as f:
            f.write(b"\x30" + bytes([len(seq)]) + seq)
        res = subprocess.run(["openssl", "dgst", "-sha256", "-verify", pub_pem_path, "-signature",
                              os.path.join(d, "sig"), os.path.join(d, "in")], capture_output=True)
        return res.returncode == 0
    finally:
        shutil.rmtree(d)


def verify(receipt, pub_pem, origin=None, pub_pem_path=None):
    """Return (head, entry) dicts when the receipt holds, else raise ValueError saying why."""
    parts = receipt.split("~")
    if len(parts) != 3:
        raise ValueError("not three parts")
    head_jws, entry_b64, path_b64 = parts
    segs = head_jws.split(".")
    if len(segs) != 3:
        raise ValueError("head is not a compact JWS")
    header = json.loads(b64url_decode(segs[0]))
    if header.get("alg") != "ES256" or header.get("typ") != "xbus-tree-head+jws":
        raise ValueError("head header: %r" % header)
    if not verify_es256_cryptography(head_jws, pub_pem):
        raise ValueError("head signature (cryptography)")
    if pub_pem_path and shutil.which("openssl") and not verify_es256_openssl(head_jws, pub_pem_path):
        raise ValueError("head signature (openssl)")
    head = json.loads(b64url_decode(segs[1]))
    if origin is not None and head.get("origin") != origin:
        raise ValueError("origin %r" % head.get("origin"))
    root = base64.b64decode(head["root"], validate=True)
    entry_bytes = b64url_decode(entry_b64)
    entry = json.loads(entry_bytes)
    path_bytes = b64url_decode(path_b64)
    if len(path_bytes) % 32:
        raise ValueError("path not of whole hashes")
    path = [path_bytes[i:i + 32] for i in range(0, len(path_bytes), 32)]
    seq, size = entry["seq"], head["size"]
    if not all(type(v) is int and v >= 0 for v in (seq, size)):
        raise ValueError("seq or size not a whole number")
    got = path_root(hashlib.sha256(b"\x00" + entry_bytes).digest(), seq, size, path)
    if got != root:
        raise ValueError("entry %d not under the root of %d entries" % (seq, size))
    return head, entry


def check(folder):
    try:
        import cryptography  # noqa: F401
    except ImportError:
        print("batch_receipt: python3 cryptography missing, skipping")
        return 77
    pem_path = os.path.join(folder, "pub.pem")
    with open(pem_path, "rb") as f:
        pem = f.read()
    with open(os.path.join(folder, "origin")) as f:
        origin = f.read().strip()
    good, bad, must_hold, wrong = 0, 0, True, 0
    with open(os.path.join(folder, "receipts")) as f:
        for line in f:
            line = line.strip()
            if line == "--":
                must_hold = False
                continue
            try:
                verify(line, pem, origin, pem_path)
                held = True
            except (ValueError, KeyError, TypeError, json.JSONDecodeError, UnicodeDecodeError) as e:
                held, why = False, e
            if held == must_hold:
                good += 1 if must_hold else 0
                bad += 0 if must_hold else 1
            else:
                wrong += 1
                print("WRONG: %s %s" % ("refused (%s):" % why if must_hold else "accepted:", line[:120]))
    print("batch_receipt (python3 cryptography, openssl): %d verified, %d refused as expected, %d wrong"
          % (good, bad, wrong))
    return 1 if wrong or good == 0 else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        sys.exit(check(sys.argv[2]))
    print("usage: batch_receipt.py --check DIR", file=sys.stderr)
    sys.exit(2)
