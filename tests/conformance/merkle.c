/* merkle.c: the transparency-dev/merkle proof vectors against log/merkle
 *
 * $XBUS_CONFORMANCE_DIR/merkle/testdata (default: the source root's
 * ../shared/conformance) holds one JSON file per case, in a folder per kind:
 *   inclusion/           {leafIdx, treeSize, root, leafHash, proof, wantErr}
 *   consistency/         {size1, size2, root1, root2, proof, wantErr}
 *   subtreeinclusion/    {leafIdx, start, end, root, leafHash, proof, wantErr}
 *   subtreeconsistency/  {start, end, size, root1, root2, proof, wantErr}
 * Every case is verified; a case passes when verification fails exactly
 * when wantErr is set. A kind this runner does not know is a failure, never
 * a silent skip.
 *
 * The valid proofs come from the RFC 6962 reference tree of 8 leaves; where
 * a case's tree is that tree (its roots match), the proof is also generated
 * with merkle.c from an in-memory store and compared byte for byte. An
 * inclusion proof is also made by merkle-batch.c as the log writer makes it,
 * from the frontier of the first s entries and the batch of the others, for
 * every s up to the leaf's index, and compared the same way.
 *
 * Hash values that are not 32 bytes (the error cases use "" and short
 * strings): merkle.c only takes 32-byte hashes. A leaf hash of another size
 * is refused before verification, as the reference implementation does. A
 * root or proof hash of another size is replaced by SHA-256 of a tagged copy
 * of its bytes: equal values stay equal (one valid case compares two equal
 * 12-byte "roots" of trees of the same size), and a replaced value never
 * equals a real hash.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "log/merkle-batch.h"
#include "log/merkle.h"
#include "util/macro.h"
#include "xbus-config.h"

#define H MERKLE_HASH_LEN
#define CASE_FILE_MAX MIB(1)
#define PROOF_INPUT_MAX 1024

typedef struct Tally {
        const char *kind;
        unsigned passed, failed;
        unsigned gen_matched, gen_differed;
        unsigned batch_matched, batch_differed; /* inclusion: paths from a batch over a frontier */
} Tally;

static Tally tallies[] = {
        { "inclusion" },
        { "consistency" },
        { "subtreeinclusion" },
        { "subtreeconsistency" },
};
static unsigned unknown_failed;

/* The RFC 6962 reference entries. */
static const char *const rfc_entries_hex[] = {
        "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
};
static uint8_t rfc_leaf[8][H];

static void fail(const char *path, const char *fmt, const char *detail)
{
        printf("FAIL %s: ", path);
        printf(fmt, detail);
        printf("\n");
}

/* Read a file, quoting integers too large for json_int_t so jansson can load it. */
static json_t *load_case(const char *path)
{
        _cleanup_free_ char *text = NULL, *out = NULL;
        FILE *f = fopen(path, "re");
        size_t n, o = 0;
        bool in_string = false, escaped = false;
        json_error_t err;
        json_t *j;

        if (!f)
                return NULL;
        text = malloc(CASE_FILE_MAX + 1);
        out = malloc(2 * CASE_FILE_MAX + 1);
        if (!text || !out) {
                fclose(f);
                return NULL;
        }
        n = fread(text, 1, CASE_FILE_MAX + 1, f);
        fclose(f);
        if (n > CASE_FILE_MAX)
                return NULL;

        for (size_t i = 0; i < n;) {
                char c = text[i];

                if (in_string) {
                        if (escaped)
                                escaped = false;
                        else if (c == '\\')
                                escaped = true;
                        else if (c == '"')
                                in_string = false;
                        out[o++] = text[i++];
                } else if (c == '"') {
                        in_string = true;
                        out[o++] = text[i++];
                } else if (c >= '0' && c <= '9') {
                        size_t s = i;

                        while (i < n && text[i] >= '0' && text[i] <= '9')
                                i++;
                        if (i - s >= 18) {
                                out[o++] = '"';
                                memcpy(out + o, text + s, i - s);
                                o += i - s;
                                out[o++] = '"';
                        } else {
                                memcpy(out + o, text + s, i - s);
                                o += i - s;
                        }
                } else
                        out[o++] = text[i++];
        }
        j = json_loadb(out, o, 0, &err);
        return j;
}

static bool get_u64(json_t *obj, const char *key, uint64_t *ret)
{
        json_t *v = json_object_get(obj, key);

        if (json_is_integer(v)) {
                if (json_integer_value(v) < 0)
                        return false;
                *ret = (uint64_t)json_integer_value(v);
                return true;
        }
        if (json_is_string(v)) {
                const char *s = json_string_value(v);
                char *end;

                errno = 0;
                *ret = strtoull(s, &end, 10);
                return !errno && *s && !*end;
        }
        return false;
}

static void map_odd_hash(const uint8_t *b, size_t n, uint8_t out[H])
{
        static const char tag[] = "xbus-conformance: not a 32-byte hash";
        _cleanup_free_ uint8_t *buf = malloc(sizeof(tag) + n + 1);

        if (!buf)
                abort();
        memcpy(buf, tag, sizeof(tag));
        if (n > 0)
                memcpy(buf + sizeof(tag), b, n);
        SHA256(buf, sizeof(tag) + n, out);
}

/*
 * Base64 (standard, padded) to a 32-byte hash, or the stand-in for any other
 * value (*ret_exact, if set, says which).
 */
static bool get_hash_full(json_t *v, uint8_t out[H], bool *ret_exact)
{
        const char *s;
        size_t len;
        uint8_t buf[PROOF_INPUT_MAX];
        int n;

        if (!json_is_string(v))
                return false;
        s = json_string_value(v);
        len = strlen(s);
        if (ret_exact)
                *ret_exact = false;
        if (len % 4 != 0 || len / 4 * 3 > sizeof(buf)) {
                map_odd_hash((const uint8_t *)s, len, out);
                return true;
        }
        n = len ? EVP_DecodeBlock(buf, (const unsigned char *)s, (int)len) : 0;
        if (n < 0) {
                map_odd_hash((const uint8_t *)s, len, out);
                return true;
        }
        if (len >= 1 && s[len - 1] == '=')
                n--;
        if (len >= 2 && s[len - 2] == '=')
                n--;
        if (n == H) {
                memcpy(out, buf, H);
                if (ret_exact)
                        *ret_exact = true;
        } else
                map_odd_hash(buf, (size_t)n, out);
        return true;
}

static bool get_hash(json_t *v, uint8_t out[H])
{
        return get_hash_full(v, out, NULL);
}

/*
 * A leaf hash is an input the verifier's caller computes, not part of the
 * proof: one that is not 32 bytes cannot be passed to merkle.c at all, so
 * the case is rejected before verification (as the reference does).
 */
#define LEAF_HASH_REJECTED _MERKLE_E_MAX

/* "proof": null or a list of hashes. Return: the count, or -1. */
static ssize_t get_proof(json_t *obj, uint8_t (**ret)[H])
{
        json_t *p = json_object_get(obj, "proof");
        uint8_t(*proof)[H];
        size_t n;

        *ret = NULL;
        if (!p || json_is_null(p))
                return 0;
        if (!json_is_array(p) || json_array_size(p) > PROOF_INPUT_MAX)
                return -1;
        n = json_array_size(p);
        proof = calloc(n ? n : 1, H);
        if (!proof)
                return -1;
        for (size_t i = 0; i < n; i++)
                if (!get_hash(json_array_get(p, i), proof[i])) {
                        free(proof);
                        return -1;
                }
        *ret = proof;
        return (ssize_t)n;
}

/* A store of `end` leaves whose [start, end) are the RFC entries 0, 1, ...; the rest filler. */
static MerkleMemStore *rfc_store(uint64_t start, uint64_t end)
{
        MerkleMemStore *s = NULL;

        if (end - start > 8 || end > 64 || merkle_mem_store_new(&s) < 0)
                return NULL;
        for (uint64_t i = 0; i < end; i++) {
                uint8_t filler[H];

                if (i >= start) {
                        if (merkle_mem_store_append(s, rfc_leaf[i - start]) < 0)
                                return merkle_mem_store_free(s);
                } else {
                        if (merkle_leaf_hash(&i, sizeof(i), filler) < 0 || merkle_mem_store_append(s, filler) < 0)
                                return merkle_mem_store_free(s);
                }
        }
        return s;
}

static void compare_generated(Tally *t, const char *path, int r, const uint8_t (*got)[H], size_t got_len,
                              const uint8_t (*want)[H], size_t want_len)
{
        if (r == 0 && got_len == want_len && (want_len == 0 || memcmp(got, want, want_len * H) == 0))
                t->gen_matched++;
        else {
                t->gen_differed++;
                fail(path, "%s", "the proof generated from the RFC 6962 tree differs from the given one");
        }
}

/* The inclusion proof of leaf idx in the RFC tree of `size` leaves, from every batch that holds the leaf. */
static void compare_batches(Tally *t, const char *path, uint64_t idx, uint64_t size, const uint8_t (*want)[H],
                            size_t want_len)
{
        for (uint64_t s = 0; s <= idx; s++) {
                _cleanup_(merkle_batch_freep) MerkleBatch *b = NULL;
                MerkleAppender a;
                uint8_t got[MERKLE_PROOF_MAX][H];
                size_t got_len = 0;
                int r;

                merkle_appender_init(&a);
                for (uint64_t i = 0; i < s; i++) {
                        MerkleNode nodes[MERKLE_MAX_LEVELS];
                        size_t k;

                        if (merkle_appender_append(&a, rfc_leaf[i], nodes, &k) < 0)
                                abort();
                }
                r = merkle_batch_new(&b, &a, (const uint8_t(*)[H])rfc_leaf + s, size - s);
                if (r == 0)
                        r = merkle_batch_path(b, idx, got, &got_len);
                if (r == 0 && got_len == want_len && (want_len == 0 || memcmp(got, want, want_len * H) == 0))
                        t->batch_matched++;
                else {
                        t->batch_differed++;
                        fail(path, "%s", "the proof made from a batch over the frontier differs from the given one");
                }
        }
}

static int run_case(Tally *t, const char *path)
{
        _cleanup_free_ uint8_t(*proof)[H] = NULL;
        json_t *j = load_case(path);
        json_t *want_err_v;
        uint64_t a = 0, b = 0, c = 0, idx = 0;
        uint8_t h1[H], h2[H], gen[MERKLE_PROOF_MAX][H];
        size_t gen_len = 0;
        ssize_t n;
        bool want_err, ok, leaf_ok = false;
        int r = -EINVAL, gen_r;
        MerkleMemStore *s = NULL;

        if (!j) {
                fail(path, "%s", "cannot load the case");
                t->failed++;
                return 0;
        }
        want_err_v = json_object_get(j, "wantErr");
        n = get_proof(j, &proof);
        if (!json_is_boolean(want_err_v) || n < 0)
                goto malformed;
        want_err = json_is_true(want_err_v);

        /*
         * Verify; for a valid proof over (a prefix or an aligned copy of) the
         * RFC 6962 tree, also generate it from a store and compare.
         */
        if (streq(t->kind, "inclusion")) {
                uint8_t root[H];

                if (!get_u64(j, "leafIdx", &idx) || !get_u64(j, "treeSize", &a) ||
                    !get_hash(json_object_get(j, "root"), h1) ||
                    !get_hash_full(json_object_get(j, "leafHash"), h2, &leaf_ok))
                        goto malformed;
                r = leaf_ok ? merkle_verify_inclusion(h2, idx, a, (const uint8_t(*)[H])proof, (size_t)n, h1)
                            : LEAF_HASH_REJECTED;
                if (r == 0 && a <= 8 && (s = rfc_store(0, a)) && merkle_root(merkle_mem_store_get, s, a, root) == 0 &&
                    memcmp(root, h1, H) == 0) {
                        gen_r = merkle_inclusion_proof(merkle_mem_store_get, s, idx, a, gen, &gen_len);
                        compare_generated(t, path, gen_r, (const uint8_t(*)[H])gen, gen_len, (const uint8_t(*)[H])proof,
                                          (size_t)n);
                        compare_batches(t, path, idx, a, (const uint8_t(*)[H])proof, (size_t)n);
                }
        } else if (streq(t->kind, "consistency")) {
                uint8_t root1[H], root2[H];

                if (!get_u64(j, "size1", &a) || !get_u64(j, "size2", &b) ||
                    !get_hash(json_object_get(j, "root1"), h1) || !get_hash(json_object_get(j, "root2"), h2))
                        goto malformed;
                r = merkle_verify_consistency(a, b, h1, h2, (const uint8_t(*)[H])proof, (size_t)n);
                if (r == 0 && b <= 8 && (s = rfc_store(0, b)) && merkle_root(merkle_mem_store_get, s, a, root1) == 0 &&
                    merkle_root(merkle_mem_store_get, s, b, root2) == 0 && memcmp(root1, h1, H) == 0 &&
                    memcmp(root2, h2, H) == 0) {
                        gen_r = merkle_consistency_proof(merkle_mem_store_get, s, a, b, gen, &gen_len);
                        compare_generated(t, path, gen_r, (const uint8_t(*)[H])gen, gen_len, (const uint8_t(*)[H])proof,
                                          (size_t)n);
                }
        } else if (streq(t->kind, "subtreeinclusion")) {
                uint8_t sub[H];

                if (!get_u64(j, "leafIdx", &idx) || !get_u64(j, "start", &a) || !get_u64(j, "end", &b) ||
                    !get_hash(json_object_get(j, "root"), h1) ||
                    !get_hash_full(json_object_get(j, "leafHash"), h2, &leaf_ok))
                        goto malformed;
                r = leaf_ok ? merkle_verify_subtree_inclusion(h2, idx, a, b, (const uint8_t(*)[H])proof, (size_t)n, h1)
                            : LEAF_HASH_REJECTED;
                if (r == 0 && (s = rfc_store(a, b)) && merkle_subtree_hash(merkle_mem_store_get, s, a, b, sub) == 0 &&
                    memcmp(sub, h1, H) == 0) {
                        gen_r = merkle_subtree_inclusion_proof(merkle_mem_store_get, s, idx, a, b, gen, &gen_len);
                        compare_generated(t, path, gen_r, (const uint8_t(*)[H])gen, gen_len, (const uint8_t(*)[H])proof,
                                          (size_t)n);
                }
        } else if (streq(t->kind, "subtreeconsistency")) {
                uint8_t sub[H], root[H];

                if (!get_u64(j, "start", &a) || !get_u64(j, "end", &b) || !get_u64(j, "size", &c) ||
                    !get_hash(json_object_get(j, "root1"), h1) || !get_hash(json_object_get(j, "root2"), h2))
                        goto malformed;
                r = merkle_verify_subtree_consistency(a, b, c, h1, h2, (const uint8_t(*)[H])proof, (size_t)n);
                if (r == 0 && a < b && c <= 8 && (s = rfc_store(0, c)) &&
                    merkle_subtree_hash(merkle_mem_store_get, s, a, b, sub) == 0 &&
                    merkle_root(merkle_mem_store_get, s, c, root) == 0 && memcmp(sub, h1, H) == 0 &&
                    memcmp(root, h2, H) == 0) {
                        gen_r = merkle_subtree_consistency_proof(merkle_mem_store_get, s, a, b, c, gen, &gen_len);
                        compare_generated(t, path, gen_r, (const uint8_t(*)[H])gen, gen_len, (const uint8_t(*)[H])proof,
                                          (size_t)n);
                }
        }
        merkle_mem_store_free(s);

        if (r < 0) {
                fail(path, "internal error %s", strerror(-r));
                t->failed++;
        } else {
                ok = (r != 0) == want_err;
                if (ok)
                        t->passed++;
                else {
                        t->failed++;
                        if (want_err)
                                fail(path, "%s", "accepted, but the case expects an error");
                        else
                                fail(path, "rejected: %s",
                                     r == LEAF_HASH_REJECTED ? "leaf hash not 32 bytes" : merkle_strerror(r));
                }
        }
        json_decref(j);
        return 0;

malformed:
        fail(path, "%s", "malformed case");
        t->failed++;
        json_decref(j);
        return 0;
}

static int walk(Tally *t, const char *dir)
{
        struct dirent **names;
        int n = scandir(dir, &names, NULL, alphasort);

        if (n < 0) {
                printf("FAIL %s: cannot read: %s\n", dir, strerror(errno));
                return -1;
        }
        for (int i = 0; i < n; i++) {
                char sub[4096];
                struct stat st;

                if (names[i]->d_name[0] != '.') {
                        snprintf(sub, sizeof(sub), "%s/%s", dir, names[i]->d_name);
                        if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
                                walk(t, sub);
                        else if (strlen(names[i]->d_name) > 5 &&
                                 streq(names[i]->d_name + strlen(names[i]->d_name) - 5, ".json")) {
                                if (t)
                                        run_case(t, sub);
                                else {
                                        printf("FAIL %s: unknown kind of test\n", sub);
                                        unknown_failed++;
                                }
                        }
                }
                free(names[i]);
        }
        free(names);
        return 0;
}

int main(void)
{
        const char *base = getenv("XBUS_CONFORMANCE_DIR");
        char root[2048], dirpath[4096];
        struct dirent **names;
        unsigned failed = 0;
        int n;

        if (isempty(base))
                snprintf(root, sizeof(root), "%s/../shared/conformance/merkle/testdata", XBUS_SOURCE_ROOT);
        else
                snprintf(root, sizeof(root), "%s/merkle/testdata", base);
        n = scandir(root, &names, NULL, alphasort);
        if (n < 0) {
                printf("merkle: %s: %s: conformance data missing, skipping\n", root, strerror(errno));
                return 77;
        }

        for (size_t i = 0; i < ELEMENTSOF(rfc_entries_hex); i++) {
                uint8_t d[16];
                size_t len = strlen(rfc_entries_hex[i]) / 2;

                for (size_t k = 0; k < len; k++)
                        sscanf(rfc_entries_hex[i] + 2 * k, "%2hhx", &d[k]);
                if (merkle_leaf_hash(d, len, rfc_leaf[i]) < 0)
                        return 1;
        }

        for (int i = 0; i < n; i++) {
                const char *name = names[i]->d_name;
                struct stat st;
                Tally *t = NULL;

                snprintf(dirpath, sizeof(dirpath), "%s/%s", root, name);
                if (name[0] != '.' && stat(dirpath, &st) == 0 && S_ISDIR(st.st_mode)) {
                        for (size_t k = 0; k < ELEMENTSOF(tallies); k++)
                                if (streq(tallies[k].kind, name))
                                        t = &tallies[k];
                        walk(t, dirpath);
                }
                free(names[i]);
        }
        free(names);

        for (size_t k = 0; k < ELEMENTSOF(tallies); k++) {
                Tally *t = &tallies[k];

                printf("merkle %s: %u passed, %u failed\n", t->kind, t->passed, t->failed);
                printf("merkle %s (proofs generated from the RFC 6962 tree): %u passed, %u failed\n", t->kind,
                       t->gen_matched, t->gen_differed);
                if (streq(t->kind, "inclusion")) {
                        printf("merkle inclusion (proofs made from a batch over the frontier): %u passed, %u failed\n",
                               t->batch_matched, t->batch_differed);
                        if (t->batch_matched == 0)
                                printf("FAIL merkle inclusion: no proof made from a batch\n");
                }
                failed += t->failed + t->gen_differed + t->batch_differed;
                if (streq(t->kind, "inclusion") && t->batch_matched == 0)
                        failed++;
                if (t->passed + t->failed == 0) {
                        printf("FAIL merkle %s: no cases found\n", t->kind);
                        failed++;
                }
        }
        if (unknown_failed > 0)
                printf("merkle unknown kinds: 0 passed, %u failed\n", unknown_failed);
        failed += unknown_failed;
        return failed ? 1 : 0;
}
