// verify.js: checks the node's proofs in the browser (RFC 9162 Merkle proofs, C2SP signed-note checkpoints, Ed25519)
//
// Nothing here trusts the server that served the page for a verdict: the
// entry's bytes are hashed here, the proof is folded here into a root, and
// that root must be the one in a checkpoint whose Ed25519 signature verifies
// here against the verifier key the reader pinned (not one the server sends).
// SHA-256 and Ed25519 are WebCrypto's (crypto.subtle); docs/console.md.
'use strict';

const XbusVerify = (() => {
  const enc = new TextEncoder();

  function b64decode(s) {
    const bin = atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function hex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function concat(...parts) {
    const n = parts.reduce((a, p) => a + p.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  function equal(a, b) {
    if (a.length !== b.length) return false;
    let d = 0;
    for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
    return d === 0;
  }

  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  }

  // RFC 9162 2.1.1: leaf = SHA-256(0x00 || entry), node = SHA-256(0x01 || left || right)
  const leafHash = (entry) => sha256(concat(Uint8Array.of(0), entry));
  const nodeHash = (l, r) => sha256(concat(Uint8Array.of(1), l, r));

  // RFC 9162 2.1.3.2: the root that `path` makes of leaf `index` of a tree of `size` leaves, or null.
  async function rootFromInclusion(index, size, leaf, path) {
    let fn = BigInt(index);
    let sn = BigInt(size) - 1n;
    let r = leaf;
    if (fn > sn) return null;
    for (const p of path) {
      if (sn === 0n) return null;
      if ((fn & 1n) === 1n || fn === sn) {
        r = await nodeHash(p, r);
        if ((fn & 1n) === 0n) {
          while ((fn & 1n) === 0n && fn !== 0n) {
            fn >>= 1n;
            sn >>= 1n;
          }
        }
      } else {
        r = await nodeHash(r, p);
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    return sn === 0n ? r : null;
  }

  // RFC 9162 2.1.4.2: whether `path` proves the tree (size1, root1) a prefix of (size2, root2).
  async function verifyConsistency(size1, size2, root1, root2, path) {
    let s1 = BigInt(size1);
    const s2 = BigInt(size2);
    if (s1 < 1n || s1 > s2) return false; // from the empty tree nothing is proven (as transparency-dev's vectors say)
    if (s1 === s2) return path.length === 0 && equal(root1, root2);
    path = path.slice();
    if ((s1 & (s1 - 1n)) === 0n) path.unshift(root1); // a power of two: the first tree is a subtree
    if (path.length === 0) return false;
    let fn = s1 - 1n;
    let sn = s2 - 1n;
    while ((fn & 1n) === 1n) {
      fn >>= 1n;
      sn >>= 1n;
    }
    let fr = path[0];
    let sr = path[0];
    for (const c of path.slice(1)) {
      if (sn === 0n) return false;
      if ((fn & 1n) === 1n || fn === sn) {
        fr = await nodeHash(c, fr);
        sr = await nodeHash(c, sr);
        if ((fn & 1n) === 0n) {
          while ((fn & 1n) === 0n && fn !== 0n) {
            fn >>= 1n;
            sn >>= 1n;
          }
        }
      } else {
        sr = await nodeHash(sr, c);
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    return sn === 0n && equal(fr, root1) && equal(sr, root2);
  }

  // A C2SP vkey: NAME+HASH+base64(0x01 || Ed25519 public key). Throws on anything else.
  async function parseVkey(vkey) {
    // NAME and HASH hold no '+', the base64 key may: split at the first two only
    const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+=*)$/.exec(String(vkey || '').trim());
    if (!m) throw new Error('not a verifier key (vkey)');
    const parts = m.slice(1);
    const key = b64decode(parts[2]);
    if (key.length !== 33 || key[0] !== 1) throw new Error('not an Ed25519 verifier key');
    const name = parts[0];
    const h = await sha256(concat(enc.encode(name + '\n'), key));
    if (hex(h.slice(0, 4)) !== parts[1]) throw new Error('the key hash does not match the key');
    return { name, hash: h.slice(0, 4), pub: key.slice(1) };
  }

  // A C2SP tlog-checkpoint in a signed note: {text, origin, size, root, time, sigs: [{name, hash, sig}]}.
  function parseCheckpoint(note) {
    const cut = note.indexOf('\n\n');
    if (cut < 0) throw new Error('not a signed note');
    const text = note.slice(0, cut + 1);
    const lines = text.split('\n');
    if (lines.length < 4 || !/^[1-9][0-9]*$|^0$/.test(lines[1])) throw new Error('not a checkpoint');
    const root = b64decode(lines[2]);
    if (root.length !== 32) throw new Error('the root is not 32 bytes');
    const time = (lines.find((l) => l.startsWith('time ')) || '').slice(5);
    const sigs = [];
    for (const line of note.slice(cut + 2).split('\n')) {
      if (!line) continue;
      const m = /^\u2014 (\S+) (\S+)$/.exec(line);
      if (!m) throw new Error('a malformed signature line');
      const blob = b64decode(m[2]);
      if (blob.length < 5) throw new Error('a short signature');
      sigs.push({ name: m[1], hash: blob.slice(0, 4), sig: blob.slice(4) });
    }
    return { text, origin: lines[0], size: BigInt(lines[1]), root, time, sigs };
  }

  // Whether WebCrypto verifies Ed25519 here (Chromium 113+ behind a flag, on by default since 137).
  async function ed25519Available() {
    try {
      await crypto.subtle.importKey('raw', new Uint8Array(32).fill(1), { name: 'Ed25519' }, false, ['verify']);
      return true;
    } catch (e) {
      return false;
    }
  }

  // The checkpoint's signatures by the pinned key: at least one, every one valid (signed-note rules).
  async function verifyCheckpointSignature(cp, vk) {
    const mine = cp.sigs.filter((s) => s.name === vk.name && equal(s.hash, vk.hash));
    if (mine.length === 0) return { ok: false, why: 'no signature by the pinned key' };
    const key = await crypto.subtle.importKey('raw', vk.pub, { name: 'Ed25519' }, false, ['verify']);
    for (const s of mine) {
      if (s.sig.length !== 64) return { ok: false, why: 'a signature is not 64 bytes' };
      if (!(await crypto.subtle.verify({ name: 'Ed25519' }, key, s.sig, enc.encode(cp.text))))
        return { ok: false, why: 'the signature does not verify with the pinned key' };
    }
    return { ok: true };
  }

  // Run named checks in order; a check that throws or answers false fails, and so does everything after it.
  async function runChecks(checks) {
    const steps = [];
    let ok = true;
    for (const [name, fn] of checks) {
      if (!ok) {
        steps.push({ name, ok: false, why: 'not reached' });
        continue;
      }
      try {
        const r = await fn();
        const pass = r === true || (r && r.ok === true);
        steps.push({ name, ok: pass, why: pass ? '' : (r && r.why) || 'failed' });
        ok = pass;
      } catch (e) {
        steps.push({ name, ok: false, why: String(e.message || e) });
        ok = false;
      }
    }
    return { ok, steps };
  }

  // An entry as /audit/entries/SEQ answers it, against the pinned vkey (a string).
  async function verifyEntry(answer, vkey) {
    let vk, cp, leaf, entryBytes;
    return runChecks([
      ['key', async () => {
        vk = await parseVkey(vkey);
        return true;
      }],
      ['webcrypto', async () => ((await ed25519Available()) ? true : { ok: false, why: 'this browser lacks Ed25519' })],
      ['checkpoint', async () => {
        cp = parseCheckpoint(answer.checkpoint);
        return verifyCheckpointSignature(cp, vk);
      }],
      ['size', () => (cp.size === BigInt(answer.tree_size) ? true : { ok: false, why: 'the proof is for another tree size' })],
      ['seq', () => {
        entryBytes = enc.encode(answer.entry);
        const e = JSON.parse(answer.entry);
        return e.seq === answer.seq ? true : { ok: false, why: 'the entry says another sequence number' };
      }],
      ['inclusion', async () => {
        leaf = await leafHash(entryBytes);
        const path = (answer.inclusion_proof || []).map(b64decode);
        const root = await rootFromInclusion(answer.seq, answer.tree_size, leaf, path);
        return root && equal(root, cp.root) ? true : { ok: false, why: "the entry's hash and the proof do not make the checkpoint's root" };
      }],
    ]);
  }

  // Two checkpoints (signed notes) and the consistency proof between them, against the pinned vkey.
  async function verifyConsistencyProof(note1, note2, proof, vkey) {
    let vk, c1, c2;
    return runChecks([
      ['key', async () => {
        vk = await parseVkey(vkey);
        return true;
      }],
      ['checkpoint', async () => {
        c1 = parseCheckpoint(note1);
        return verifyCheckpointSignature(c1, vk);
      }],
      ['checkpoint2', async () => {
        c2 = parseCheckpoint(note2);
        return verifyCheckpointSignature(c2, vk);
      }],
      ['consistency', async () => {
        const ok = await verifyConsistency(c1.size, c2.size, c1.root, c2.root, (proof || []).map(b64decode));
        return ok ? true : { ok: false, why: 'the later tree does not contain the earlier one' };
      }],
    ]);
  }

  function b64urlDecode(s) {
    if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new Error('not base64url');
    const t = s.replace(/-/g, '+').replace(/_/g, '/');
    return b64decode(t + '='.repeat((4 - (t.length % 4)) % 4));
  }

  // The receipt's fields that must be the entry's (receipt.h; absent ones are null in the entry).
  const receiptFields = ['seq', 'time', 'xroad_id', 'client', 'service', 'request_hash', 'response_hash', 'subject', 'purpose', 'basis', 'xroad_request_hash', 'request_id'];

  // The pinned receipt key (a JWK, JSON) as a WebCrypto ECDSA P-256 key, or a failed step.
  async function importReceiptKey(jwkText) {
    const jwk = JSON.parse(jwkText || 'null');
    if (!jwk || jwk.kty !== 'EC' || jwk.crv !== 'P-256') return { ok: false, why: 'no P-256 key pinned' };
    return { ok: true, key: await crypto.subtle.importKey('jwk', { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']) };
  }

  // A compact JWS's parts, its header and payload decoded (throws on anything else).
  function splitJws(jws) {
    const parts = String(jws || '').trim().split('.');
    if (parts.length !== 3) throw new Error('not a compact JWS');
    const dec = (p) => JSON.parse(new TextDecoder().decode(b64urlDecode(p)));
    return { parts, header: dec(parts[0]), payload: dec(parts[1]) };
  }

  // ES256 over the JWS's signing input with `key`.
  function verifyEs256(key, parts) {
    return crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, b64urlDecode(parts[2]), enc.encode(parts[0] + '.' + parts[1]));
  }

  // A receipt (compact JWS, ES256, typ xbus-receipt+jws) against the pinned receipt key (a JWK, JSON) and
  // the entry's bytes: signed by that key, and every field it commits to is the entry's. A receipt of the
  // group-commit form (it holds a '~') goes to verifyBatchReceipt().
  async function verifyReceipt(jws, entryText, jwkText) {
    if (String(jws || '').includes('~')) return verifyBatchReceipt(jws, entryText, jwkText);
    let key, r;
    return runChecks([
      ['receipt_key', async () => {
        const k = await importReceiptKey(jwkText);
        key = k.key;
        return k;
      }],
      ['receipt_form', () => {
        r = splitJws(jws);
        return r.header.alg === 'ES256' && r.header.typ === 'xbus-receipt+jws' ? true : { ok: false, why: 'not an ES256 xbus receipt' };
      }],
      ['receipt_signature', async () => ((await verifyEs256(key, r.parts)) ? true : { ok: false, why: 'the signature does not verify with the pinned receipt key' })],
      ['receipt_entry', () => {
        const e = JSON.parse(entryText);
        for (const k of receiptFields) {
          const want = e[k] === undefined ? null : e[k];
          const got = r.payload[k] === undefined ? null : r.payload[k];
          if (want !== got) return { ok: false, why: k + ' differs' };
        }
        return true;
      }],
    ]);
  }

  // A receipt of the group-commit form (docs/console.md; exchange/log/batch-receipt.h):
  //   <tree head JWS>~<base64url(entry bytes)>~<base64url(inclusion path, 32 bytes a hash)>
  // The head (ES256, typ xbus-tree-head+jws, payload {origin, size, root, time}) is signed by the pinned
  // receipt key, once for a whole group commit; the entry's leaf hash SHA-256(0x00 || entry) is walked up
  // the path per RFC 9162 2.1.3.2 (index: the entry's seq, size: the head's) and must make the head's root;
  // the entry must be the one shown, byte for byte. The result carries `fields`: the head's and the entry's.
  async function verifyBatchReceipt(text, entryText, jwkText) {
    let key, head, entryBytes, entry, path, leaf;
    const result = await runChecks([
      ['receipt_key', async () => {
        const k = await importReceiptKey(jwkText);
        key = k.key;
        return k;
      }],
      ['receipt_form', () => {
        const parts = String(text).trim().split('~');
        if (parts.length !== 3) return { ok: false, why: 'not three parts joined by ~' };
        head = splitJws(parts[0]);
        if (head.header.alg !== 'ES256' || head.header.typ !== 'xbus-tree-head+jws') return { ok: false, why: 'the head is not an ES256 xbus tree head' };
        const p = head.payload;
        if (!Number.isSafeInteger(p.size) || p.size < 1 || typeof p.root !== 'string' || b64decode(p.root).length !== 32) return { ok: false, why: 'the head has no size or root' };
        entryBytes = b64urlDecode(parts[1]);
        entry = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(entryBytes));
        if (!entry || !Number.isSafeInteger(entry.seq) || entry.seq < 0) return { ok: false, why: 'the entry has no sequence number' };
        const raw = b64urlDecode(parts[2]);
        if (raw.length % 32 !== 0) return { ok: false, why: 'the path is not of whole hashes' };
        path = [];
        for (let i = 0; i < raw.length; i += 32) path.push(raw.slice(i, i + 32));
        return true;
      }],
      ['receipt_signature', async () => ((await verifyEs256(key, head.parts)) ? true : { ok: false, why: "the tree head's signature does not verify with the pinned receipt key" })],
      ['receipt_leaf', async () => {
        leaf = await leafHash(entryBytes);
        return entry.seq < head.payload.size ? true : { ok: false, why: 'the entry lies outside the tree head (seq ' + entry.seq + ', size ' + head.payload.size + ')' };
      }],
      ['receipt_inclusion', async () => {
        const root = await rootFromInclusion(entry.seq, head.payload.size, leaf, path);
        return root && equal(root, b64decode(head.payload.root)) ? true : { ok: false, why: "the entry's hash and the path do not make the tree head's root" };
      }],
      ['receipt_entry', () => (equal(entryBytes, enc.encode(String(entryText))) ? true : { ok: false, why: 'the receipt is for another entry than the one shown' })],
    ]);
    if (head && entry) result.fields = Object.assign({ head_origin: head.payload.origin, head_size: head.payload.size, head_time: head.payload.time, leaf_hash: leaf ? hex(leaf) : null }, entry);
    return result;
  }

  return { verifyReceipt, verifyBatchReceipt, verifyEntry, verifyConsistencyProof, parseVkey, parseCheckpoint, rootFromInclusion, verifyConsistency, leafHash, ed25519Available, hex, b64decode };
})();
