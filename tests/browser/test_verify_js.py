#!/usr/bin/env python3
"""test_verify_js.py: the console's own proof code (ui/verify.js) in headless Chromium, against outside vectors.

The page's RFC 9162 inclusion and consistency checks run on every vector of transparency-dev/merkle's
testdata (../shared/conformance/merkle: happy paths and each kind of damage, wantErr says which must
fail). Only inclusion/ and consistency/ are the page's business; subtree vectors are counted and left to
the C runner (tests/conformance/merkle.c). The page is served by a real node, as users get it.
"""
import glob
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import Check, Node  # noqa: E402

from browser import Browser  # noqa: E402

CONF = os.environ.get("XBUS_CONFORMANCE_DIR", "")
DATA = os.path.join(CONF, "merkle", "testdata")
if not CONF or not os.path.isdir(DATA):
    print("SKIP: no merkle testdata under XBUS_CONFORMANCE_DIR (%r)" % CONF)
    sys.exit(77)

t = Check("verify-js")
vectors = {"inclusion": [], "consistency": []}
for kind in vectors:
    for path in sorted(glob.glob(os.path.join(DATA, kind, "**", "*.json"), recursive=True)):
        vectors[kind].append((os.path.relpath(path, DATA), json.load(open(path))))
others = [p for p in glob.glob(os.path.join(DATA, "**", "*.json"), recursive=True)
          if os.path.relpath(p, DATA).split(os.sep)[0] not in vectors]
t.ok(len(vectors["inclusion"]) > 50 and len(vectors["consistency"]) > 50,
     "vectors: %d inclusion, %d consistency (%d subtree ones left to the C runner)" %
     (len(vectors["inclusion"]), len(vectors["consistency"]), len(others)))

node = Node().start()
b = Browser(os.path.join(node.pki, "node.crt"))
b.get(node.url + "/ui/")
b.wait(lambda: b.script("return typeof XbusVerify === 'object'"), what="verify.js")

# Each vector through the page's functions: [name, error?] back. Anything malformed is an error.
RUN = """
const [kind, cases] = [arguments[0], arguments[1]];
const done = arguments[arguments.length - 1];
const V = XbusVerify;
const h = (s) => (typeof s === 'string' ? V.b64decode(s) : null);
const eq = (a, b) => a && b && a.length === b.length && a.every((x, i) => x === b[i]);
(async () => {
  const out = [];
  for (const [name, c] of cases) {
    let ok = false;
    try {
      const proof = (c.proof || []).map(h);
      if (proof.some((p) => !p || p.length !== 32)) throw new Error('a malformed hash');
      if (kind === 'inclusion') {
        const leaf = h(c.leafHash);
        if (!leaf || leaf.length !== 32) throw new Error('no leaf');
        const root = await V.rootFromInclusion(c.leafIdx, c.treeSize, leaf, proof);
        ok = eq(root, h(c.root));
      } else {
        ok = await V.verifyConsistency(c.size1, c.size2, h(c.root1), h(c.root2), proof);
      }
    } catch (e) {
      ok = false;
    }
    out.push([name, !ok]);
  }
  done(out);
})();
"""
b.driver.set_script_timeout(120)
for kind, cases in vectors.items():
    got = dict((n, err) for n, err in b.driver.execute_async_script(RUN, kind, cases))
    wrong = [n for n, c in cases if got.get(n) != bool(c.get("wantErr"))]
    happy = sum(1 for n, c in cases if not c.get("wantErr"))
    t.ok(len(got) == len(cases) and not wrong,
         "%s: the page agrees with wantErr on all %d vectors (%d that must verify, %d that must not)" %
         (kind, len(cases), happy, len(cases) - happy), wrong[:10])

# the check can fail: a happy path with its expectation turned round is reported
name, case = next((n, c) for n, c in vectors["inclusion"] if not c.get("wantErr") and c.get("proof"))
got = b.driver.execute_async_script(RUN, "inclusion", [[name, dict(case, root=case["leafHash"])]])
t.ok(got[0][1] is True, "a happy inclusion vector with another root fails in the page")
b.quit()
t.eq(node.stop(), 0, "xbusd stops cleanly")
t.finish()
