/* audit-verify.c: verification of a log store, of exports and of proof bundles
 *
 * Why the store is read directly rather than through an ExlogReader: a
 * reader opens one read transaction per call, and a verification must see
 * one consistent snapshot of millions of entries, stored tree nodes and
 * checkpoints at once. So this file opens the log folder read-only with its
 * own LMDB environment (allowed: it runs in the auditor's `xbus` process,
 * never inside xbusd) and walks the tables named in exlog.c with cursors
 * inside one read-only transaction. The layout it relies on:
 *
 *   entries      seq (8 bytes, big-endian) -> the entry's bytes
 *   tree         level (1) || index (8, BE) -> 32-byte hash of a complete node
 *   checkpoints  tree size (8, BE) -> signed note
 */
#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "audit/audit-verify.h"
#include "crypto/jws.h"
#include "util/macro.h"

#define RECEIPT_TYP "xbus-receipt+jws"
#define VKEY_FILE_MAX 4096

static const char *const error_names[_AUDIT_E_MAX] = {
        [AUDIT_E_ENTRY] = "damaged entry",         [AUDIT_E_SEQUENCE] = "sequence broken",
        [AUDIT_E_TREE] = "Merkle tree mismatch",   [AUDIT_E_CHECKPOINT] = "checkpoint invalid",
        [AUDIT_E_TRUNCATED] = "log truncated",     [AUDIT_E_PROOF] = "proof invalid",
        [AUDIT_E_RECEIPT] = "receipt invalid",     [AUDIT_E_FORMAT] = "malformed input",
        [AUDIT_E_UNCHECKED] = "cannot be checked",
};

const char *audit_strerror(int code)
{
        if (code > 0 && code < _AUDIT_E_MAX && error_names[code])
                return error_names[code];
        return "unknown";
}

void audit_report_init(AuditReport *rep)
{
        *rep = (AuditReport){ .bad_seq = UINT64_MAX };
}

void audit_report_done(AuditReport *rep)
{
        rep->reason = mfree(rep->reason);
}

/* Set the reason (first problem wins) and return `code`. */
static int report(AuditReport *rep, int code, uint64_t seq, const char *fmt, ...) _printf_(4, 5);
static int report(AuditReport *rep, int code, uint64_t seq, const char *fmt, ...)
{
        va_list ap;
        char *s = NULL;

        if (rep->reason)
                return code;
        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        rep->reason = s;
        rep->bad_seq = seq;
        return code;
}

static int set_reason(char **ret_reason, int code, const char *fmt, ...) _printf_(3, 4);
static int set_reason(char **ret_reason, int code, const char *fmt, ...)
{
        va_list ap;

        if (ret_reason) {
                char *s = NULL;
                va_start(ap, fmt);
                if (vasprintf(&s, fmt, ap) < 0)
                        s = NULL;
                va_end(ap);
                *ret_reason = s;
        }
        return code;
}

/* ------------------------------------------------------------------------ */
/* Helpers */

static inline void be64_put(uint8_t out[8], uint64_t v)
{
        for (int i = 7; i >= 0; i--, v >>= 8)
                out[i] = (uint8_t)v;
}

static inline uint64_t be64_get(const uint8_t in[8])
{
        uint64_t v = 0;

        for (int i = 0; i < 8; i++)
                v = (v << 8) | in[i];
        return v;
}

int audit_entry_parse_prefix(const char *entry, size_t size, uint64_t *ret_seq, const char **ret_time,
                             size_t *ret_time_len)
{
        static const char head[] = "{\"v\":1,\"seq\":";
        static const char mid[] = ",\"time\":\"";
        const char *p = entry, *end = entry + size, *t;
        uint64_t seq = 0;
        size_t digits = 0;

        if (!entry || size < sizeof(head) - 1 || memcmp(p, head, sizeof(head) - 1) != 0)
                return -EBADMSG;
        p += sizeof(head) - 1;
        while (p < end && *p >= '0' && *p <= '9') {
                if (digits == 19 || (digits == 1 && seq == 0))
                        return -EBADMSG; /* too long, or a leading zero */
                seq = seq * 10 + (uint64_t)(*p - '0');
                digits++;
                p++;
        }
        if (digits == 0 || (size_t)(end - p) < sizeof(mid) - 1 || memcmp(p, mid, sizeof(mid) - 1) != 0)
                return -EBADMSG;
        p += sizeof(mid) - 1;
        t = p;
        while (p < end && *p != '"' && *p != '\\')
                p++;
        if (p >= end || *p != '"' || p == t || entry[size - 1] != '}')
                return -EBADMSG;
        if (ret_seq)
                *ret_seq = seq;
        if (ret_time)
                *ret_time = t;
        if (ret_time_len)
                *ret_time_len = (size_t)(p - t);
        return 0;
}

char *audit_hash_b64(const uint8_t hash[MERKLE_HASH_LEN], char out[AUDIT_HASH_B64_LEN + 1])
{
        EVP_EncodeBlock((unsigned char *)out, hash, MERKLE_HASH_LEN);
        out[AUDIT_HASH_B64_LEN] = 0;
        return out;
}

int audit_hash_from_b64(const char *s, uint8_t out[MERKLE_HASH_LEN])
{
        unsigned char buf[36];
        char again[AUDIT_HASH_B64_LEN + 1];

        if (!s || strlen(s) != AUDIT_HASH_B64_LEN)
                return -EINVAL;
        if (EVP_DecodeBlock(buf, (const unsigned char *)s, AUDIT_HASH_B64_LEN) != 33)
                return -EINVAL;
        /* canonical only: re-encoding must give the same text */
        if (!streq(audit_hash_b64(buf, again), s))
                return -EINVAL;
        memcpy(out, buf, MERKLE_HASH_LEN);
        return 0;
}

json_t *audit_proof_json(const uint8_t (*path)[MERKLE_HASH_LEN], size_t len)
{
        json_t *a = json_array();
        char b[AUDIT_HASH_B64_LEN + 1];

        if (!a)
                return NULL;
        for (size_t i = 0; i < len; i++)
                if (json_array_append_new(a, json_string(audit_hash_b64(path[i], b))) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

int audit_proof_parse(const json_t *a, uint8_t (*path)[MERKLE_HASH_LEN], size_t *ret_len)
{
        size_t i;
        json_t *v;

        if (!json_is_array(a))
                return -EINVAL;
        if (json_array_size(a) > MERKLE_PROOF_MAX)
                return -E2BIG;
        json_array_foreach(a, i, v)
                if (audit_hash_from_b64(json_string_value(v), path[i]) < 0)
                        return -EINVAL;
        *ret_len = json_array_size(a);
        return 0;
}

/* Read a whole small file (at most `max` bytes) as a NUL-terminated string. */
static int read_small_file(const char *path, size_t max, char **ret, size_t *ret_size)
{
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        FILE *f;
        size_t n;

        f = fopen(path, "re");
        if (!f)
                return -errno;
        if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
                fclose(f);
                return -EINVAL;
        }
        if ((uint64_t)st.st_size > max) {
                fclose(f);
                return -E2BIG;
        }
        buf = malloc(max + 1);
        if (!buf) {
                fclose(f);
                return -ENOMEM;
        }
        n = fread(buf, 1, max + 1, f);
        if (ferror(f) || n > max) {
                int e = ferror(f) ? -EIO : -E2BIG;
                fclose(f);
                return e;
        }
        fclose(f);
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = n;
        return 0;
}

int audit_verifier_load(const char *arg, CheckpointVerifier **ret, char **ret_reason)
{
        _cleanup_free_ char *text = NULL;
        const char *vkey = arg;
        int r;

        if (isempty(arg) || !ret)
                return -EINVAL;
        if (arg[0] == '@') {
                size_t n;
                r = read_small_file(arg + 1, VKEY_FILE_MAX, &text, &n);
                if (r < 0)
                        return set_reason(ret_reason, r, "cannot read the key file \"%s\": %s", arg + 1, strerror(-r));
                while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
                        text[--n] = 0;
                vkey = text;
        }
        r = checkpoint_verifier_from_vkey(ret, vkey);
        if (r != 0)
                return set_reason(ret_reason, r, "not a usable verifier key (vkey): %s",
                                  r > 0 ? checkpoint_strerror(r) : strerror(-r));
        return 0;
}

static int checkpoint_reason(char **ret_reason, int r, const CheckpointVerifier *v, const char *what)
{
        if (r == CHECKPOINT_E_UNSIGNED || r == CHECKPOINT_E_SIGNATURE)
                return set_reason(ret_reason, r, "%s: checkpoint signature invalid for key %s (%s)", what,
                                  checkpoint_verifier_name(v), checkpoint_strerror(r));
        return set_reason(ret_reason, r, "%s: not a valid checkpoint (%s)", what,
                          r > 0 ? checkpoint_strerror(r) : strerror(-r));
}

int audit_checkpoint_load(const char *path, const CheckpointVerifier *v, Checkpoint **ret, char **ret_reason)
{
        _cleanup_free_ char *text = NULL;
        size_t n;
        int r;

        r = read_small_file(path, CHECKPOINT_NOTE_MAX, &text, &n);
        if (r < 0)
                return set_reason(ret_reason, r, "cannot read the checkpoint \"%s\": %s", path, strerror(-r));
        r = checkpoint_open(text, n, v, NULL, ret);
        if (r != 0)
                return checkpoint_reason(ret_reason, r, v, path);
        return 0;
}

static int write_json_line(FILE *out, json_t *j)
{
        int r;

        if (!j)
                return -ENOMEM;
        r = json_dumpf(j, out, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(j);
        if (r < 0 || fputc('\n', out) == EOF)
                return -EIO;
        return 0;
}

int audit_export_write_header(FILE *out, const char *origin, uint64_t start, uint64_t end, const char *note,
                              const uint8_t (*consistency)[MERKLE_HASH_LEN], size_t consistency_len)
{
        json_t *j = json_pack("{s:i,s:s,s:I,s:I,s:s}", "xbus_export", 1, "origin", strempty(origin), "start",
                              (json_int_t)start, "end", (json_int_t)end, "checkpoint", note);

        if (j && consistency &&
            json_object_set_new(j, "consistency", audit_proof_json(consistency, consistency_len)) < 0)
                json_decref(j), j = NULL;
        return write_json_line(out, j);
}

int audit_export_write_line(FILE *out, uint64_t seq, const char *entry, size_t size,
                            const uint8_t (*proof)[MERKLE_HASH_LEN], size_t proof_len)
{
        json_t *j = json_pack("{s:I,s:s%}", "seq", (json_int_t)seq, "entry", entry, size);

        if (j && proof && json_object_set_new(j, "inclusion_proof", audit_proof_json(proof, proof_len)) < 0)
                json_decref(j), j = NULL;
        return write_json_line(out, j);
}

json_t *audit_bundle_new(uint64_t seq, const char *entry, size_t size, uint64_t tree_size,
                         const uint8_t (*proof)[MERKLE_HASH_LEN], size_t proof_len, const char *note,
                         const char *receipt)
{
        json_t *j = json_pack("{s:i,s:I,s:s%,s:I,s:o,s:s}", "xbus_proof", 1, "seq", (json_int_t)seq, "entry", entry,
                              size, "tree_size", (json_int_t)tree_size, "inclusion_proof",
                              audit_proof_json(proof, proof_len), "checkpoint", note);

        if (j && receipt && json_object_set_new(j, "receipt", json_string(receipt)) < 0) {
                json_decref(j);
                return NULL;
        }
        return j;
}

/* ------------------------------------------------------------------------ */
/* The store */

typedef struct Store {
        MDB_env *env;
        MDB_txn *txn;
        MDB_dbi entries, tree, checkpoints;
} Store;

static void store_close(Store *s)
{
        if (s->txn)
                mdb_txn_abort(s->txn);
        if (s->env)
                mdb_env_close(s->env);
        *s = (Store){};
}

static int mdb_errno(int r)
{
        switch (r) {
        case 0:
                return 0;
        case MDB_NOTFOUND:
                return -ENOENT;
        case MDB_INVALID:
        case MDB_CORRUPTED:
        case MDB_PAGE_NOTFOUND:
                return -EBADMSG;
        case MDB_VERSION_MISMATCH:
                return -EPROTO;
        default:
                return r > 0 ? -r : -EIO;
        }
}

static int store_open(Store *s, const char *dir)
{
        struct stat st;
        int r;

        *s = (Store){};
        if (stat(dir, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        r = mdb_env_create(&s->env);
        if (r)
                return mdb_errno(r);
        mdb_env_set_maxdbs(s->env, 8);
        mdb_env_set_maxreaders(s->env, 256);
        r = mdb_env_open(s->env, dir, MDB_RDONLY | MDB_NOTLS, 0600);
        if (!r)
                r = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &s->txn);
        if (!r)
                r = mdb_dbi_open(s->txn, "entries", 0, &s->entries);
        if (!r)
                r = mdb_dbi_open(s->txn, "tree", 0, &s->tree);
        if (!r)
                r = mdb_dbi_open(s->txn, "checkpoints", 0, &s->checkpoints);
        if (r) {
                store_close(s);
                return mdb_errno(r);
        }
        return 0;
}

static int store_tree_get(Store *s, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH_LEN])
{
        uint8_t key[9];
        MDB_val k = { .mv_size = sizeof(key), .mv_data = key }, v;
        int r;

        key[0] = (uint8_t)level;
        be64_put(key + 1, index);
        r = mdb_get(s->txn, s->tree, &k, &v);
        if (r)
                return mdb_errno(r);
        if (v.mv_size != MERKLE_HASH_LEN)
                return -EBADMSG;
        memcpy(out, v.mv_data, MERKLE_HASH_LEN);
        return 0;
}

/* A checkpoint to meet while streaming: its size and root, and how to name it. */
typedef struct Target {
        uint64_t size;
        uint8_t root[MERKLE_HASH_LEN];
        char label[96];
} Target;

static int target_cmp(const void *a, const void *b)
{
        const Target *x = a, *y = b;

        return x->size < y->size ? -1 : x->size > y->size;
}

/* Copy and sort the held checkpoints. Return: 0, AUDIT_E_FORMAT (too many). */
static int targets_from_held(const Checkpoint *const *held, size_t n, Target *out, AuditReport *rep)
{
        if (n > AUDIT_HELD_MAX)
                return report(rep, AUDIT_E_FORMAT, UINT64_MAX, "more than %d earlier checkpoints given",
                              AUDIT_HELD_MAX);
        for (size_t i = 0; i < n; i++) {
                out[i].size = held[i]->size;
                memcpy(out[i].root, held[i]->root, MERKLE_HASH_LEN);
                snprintf(out[i].label, sizeof(out[i].label), "the checkpoint you held (size %" PRIu64 ")",
                         held[i]->size);
        }
        qsort(out, n, sizeof(*out), target_cmp);
        return 0;
}

/* The signed time of a checkpoint ("time ..." extension), or "". */
static const char *checkpoint_time(const Checkpoint *c)
{
        for (size_t i = 0; i < c->n_extensions; i++)
                if (strneq(c->extensions[i], "time ", 5))
                        return c->extensions[i] + 5;
        return "";
}

/* Check the stored checkpoint (k, v) against the tree of `a` (whose size is its size). */
static int store_check_checkpoint(const AuditStoreOptions *o, const MDB_val *k, const MDB_val *v,
                                  const MerkleAppender *a, AuditReport *rep)
{
        _cleanup_(audit_checkpoint_freep) Checkpoint *c = NULL;
        uint8_t root[MERKLE_HASH_LEN];
        uint64_t size = be64_get(k->mv_data);
        int r;

        r = checkpoint_parse(v->mv_data, v->mv_size, &c);
        if (r < 0)
                return r;
        if (r > 0)
                return report(rep, AUDIT_E_CHECKPOINT, size,
                              "the stored checkpoint of size %" PRIu64 " is not a valid signed note (%s)", size,
                              checkpoint_strerror(r));
        if (c->size != size)
                return report(rep, AUDIT_E_CHECKPOINT, size,
                              "the checkpoint stored under size %" PRIu64 " says size %" PRIu64, size, c->size);
        if (o->verifier) {
                r = checkpoint_verify(c, o->verifier);
                if (r < 0)
                        return r;
                if (r > 0)
                        return report(rep, AUDIT_E_CHECKPOINT, size,
                                      "checkpoint of size %" PRIu64 "%s%s%s: signature invalid for key %s (%s)", size,
                                      *checkpoint_time(c) ? " (" : "", checkpoint_time(c),
                                      *checkpoint_time(c) ? ")" : "", checkpoint_verifier_name(o->verifier),
                                      checkpoint_strerror(r));
        }
        r = merkle_appender_root(a, root);
        if (r < 0)
                return r;
        if (memcmp(root, c->root, MERKLE_HASH_LEN) != 0)
                return report(rep, AUDIT_E_CHECKPOINT, size,
                              "checkpoint of size %" PRIu64 " (%s): its root is not the root of entries 0..%" PRIu64
                              " (the entries and tree were rewritten consistently, or the checkpoint is forged)",
                              size, checkpoint_time(c), size - 1);
        rep->checkpoints++;
        return 0;
}

/* A mismatch between a recomputed node and the stored one. */
static int store_node_problem(const MerkleNode *n, int r, uint64_t seq, AuditReport *rep)
{
        uint64_t first = n->index << n->level, last = ((n->index + 1) << n->level) - 1;

        if (r == -ENOENT)
                return report(rep, AUDIT_E_TREE, seq,
                              "entry %" PRIu64 ": the stored tree has no node (level %u, index %" PRIu64
                              ") for it (tree nodes were removed)",
                              seq, n->level, n->index);
        if (r < 0)
                return report(rep, AUDIT_E_TREE, seq,
                              "entry %" PRIu64 ": the stored tree node (level %u, index %" PRIu64 ") is unreadable",
                              seq, n->level, n->index);
        if (n->level == 0)
                return report(rep, AUDIT_E_ENTRY, seq,
                              "entry %" PRIu64 ": its leaf hash does not match the stored tree (the entry's bytes "
                              "were changed)",
                              seq);
        return report(rep, AUDIT_E_TREE, first,
                      "the stored tree node (level %u, index %" PRIu64 ") over entries %" PRIu64 "..%" PRIu64
                      " does not match the entries",
                      n->level, n->index, first, last);
}

int audit_verify_store(const char *dir, const AuditStoreOptions *o, AuditReport *rep)
{
        static const AuditStoreOptions none = {};
        Target held[AUDIT_HELD_MAX];
        size_t n_held, next_held = 0;
        Store s;
        MDB_cursor *ec = NULL, *cc = NULL;
        MDB_val k, v, ck, cv;
        bool have_cp;
        MerkleAppender a;
        char prev_time[64] = "";
        size_t prev_time_len = 0;
        uint8_t probe[MERKLE_HASH_LEN];
        int r, op;

        if (!o)
                o = &none;
        audit_report_init(rep);
        n_held = o->n_held;
        r = targets_from_held(o->held, n_held, held, rep);
        if (r)
                return r;
        r = store_open(&s, dir);
        if (r < 0)
                return r;
        r = mdb_cursor_open(s.txn, s.entries, &ec);
        if (!r)
                r = mdb_cursor_open(s.txn, s.checkpoints, &cc);
        if (r) {
                r = mdb_errno(r);
                goto out;
        }
        have_cp = mdb_cursor_get(cc, &ck, &cv, MDB_FIRST) == 0;
        merkle_appender_init(&a);

        for (op = MDB_FIRST; (r = mdb_cursor_get(ec, &k, &v, op)) == 0; op = MDB_NEXT) {
                uint8_t leaf[MERKLE_HASH_LEN];
                MerkleNode nodes[MERKLE_MAX_LEVELS];
                const char *t;
                size_t n_nodes, tlen;
                uint64_t seq, fseq;

                if (k.mv_size != 8) {
                        r = report(rep, AUDIT_E_ENTRY, a.size,
                                   "after entry %" PRIu64 ": a key in the entries table is not a sequence number",
                                   a.size);
                        goto out;
                }
                seq = be64_get(k.mv_data);
                if (seq != a.size) {
                        r = report(rep, AUDIT_E_SEQUENCE, a.size,
                                   "entry %" PRIu64 " is missing: the log goes from %s to entry %" PRIu64, a.size,
                                   a.size ? "the entry before it" : "the start", seq);
                        goto out;
                }
                if (audit_entry_parse_prefix(v.mv_data, v.mv_size, &fseq, &t, &tlen) < 0) {
                        r = report(rep, AUDIT_E_ENTRY, seq,
                                   "entry %" PRIu64 ": not a well-formed log entry (its bytes were changed)", seq);
                        goto out;
                }
                if (fseq != seq) {
                        r = report(rep, AUDIT_E_ENTRY, seq,
                                   "entry %" PRIu64 ": it holds the bytes of entry %" PRIu64
                                   " (entries were moved or reordered)",
                                   seq, fseq);
                        goto out;
                }
                if (tlen >= sizeof(prev_time) ||
                    (prev_time_len && (tlen != prev_time_len || memcmp(t, prev_time, tlen) < 0))) {
                        r = report(rep, AUDIT_E_ENTRY, seq,
                                   "entry %" PRIu64 ": its time \"%.*s\" is before the previous entry's \"%s\"", seq,
                                   (int)MIN(tlen, (size_t)40), t, prev_time);
                        goto out;
                }
                memcpy(prev_time, t, tlen);
                prev_time[tlen] = 0;
                prev_time_len = tlen;

                r = merkle_leaf_hash(v.mv_data, v.mv_size, leaf);
                if (r == 0)
                        r = merkle_appender_append(&a, leaf, nodes, &n_nodes);
                if (r < 0)
                        goto out;
                for (size_t i = 0; i < n_nodes; i++) {
                        uint8_t stored[MERKLE_HASH_LEN];
                        int g = store_tree_get(&s, nodes[i].level, nodes[i].index, stored);
                        if (g < 0 || memcmp(stored, nodes[i].hash, MERKLE_HASH_LEN) != 0) {
                                r = store_node_problem(&nodes[i], g, seq, rep);
                                goto out;
                        }
                }
                rep->entries++;

                /* checkpoints of exactly this size */
                while (have_cp) {
                        uint64_t csize;
                        if (ck.mv_size != 8) {
                                r = report(rep, AUDIT_E_CHECKPOINT, UINT64_MAX,
                                           "a key in the checkpoints table is not a tree size");
                                goto out;
                        }
                        csize = be64_get(ck.mv_data);
                        if (csize > a.size)
                                break;
                        if (csize == 0) {
                                r = report(rep, AUDIT_E_CHECKPOINT, UINT64_MAX,
                                           "a checkpoint of the empty tree is stored");
                                goto out;
                        }
                        r = store_check_checkpoint(o, &ck, &cv, &a, rep);
                        if (r)
                                goto out;
                        have_cp = mdb_cursor_get(cc, &ck, &cv, MDB_NEXT) == 0;
                }
                while (next_held < n_held && held[next_held].size <= a.size) {
                        uint8_t root[MERKLE_HASH_LEN];
                        if (held[next_held].size == a.size) {
                                r = merkle_appender_root(&a, root);
                                if (r < 0)
                                        goto out;
                                if (memcmp(root, held[next_held].root, MERKLE_HASH_LEN) != 0) {
                                        r = report(rep, AUDIT_E_CHECKPOINT, UINT64_MAX,
                                                   "the log no longer reproduces %s: entries before %" PRIu64
                                                   " were rewritten",
                                                   held[next_held].label, a.size);
                                        goto out;
                                }
                                rep->checkpoints++;
                        }
                        next_held++;
                }
        }
        if (r != MDB_NOTFOUND) {
                r = mdb_errno(r);
                goto out;
        }

        /* the end: nothing signed or held may cover more than the log holds */
        if (have_cp) {
                uint64_t csize = ck.mv_size == 8 ? be64_get(ck.mv_data) : 0;
                r = report(rep, AUDIT_E_TRUNCATED, a.size,
                           "the log holds %" PRIu64 " entries but the stored checkpoint of size %" PRIu64
                           " covers more: the log was truncated",
                           a.size, csize);
                goto out;
        }
        while (next_held < n_held && held[next_held].size == 0)
                next_held++;
        if (next_held < n_held) {
                r = report(rep, AUDIT_E_TRUNCATED, a.size,
                           "the log holds %" PRIu64 " entries but %s covers %" PRIu64 ": the log was truncated", a.size,
                           held[next_held].label, held[next_held].size);
                goto out;
        }
        if (store_tree_get(&s, 0, a.size, probe) == 0) {
                r = report(rep, AUDIT_E_TRUNCATED, a.size,
                           "the log ends at %" PRIu64 " entries but the stored tree has a leaf for entry %" PRIu64
                           ": entries were removed from the end",
                           a.size, a.size);
                goto out;
        }
        r = 0;
out:
        if (ec)
                mdb_cursor_close(ec);
        if (cc)
                mdb_cursor_close(cc);
        store_close(&s);
        return r;
}

/* ------------------------------------------------------------------------ */
/* Exports */

typedef struct LineReader {
        FILE *f;
        char *buf;
        size_t size;
        uint64_t line;
} LineReader;

static int line_reader_open(LineReader *lr, const char *path)
{
        *lr = (LineReader){};
        lr->f = fopen(path, "re");
        if (!lr->f)
                return -errno;
        lr->buf = malloc(AUDIT_LINE_MAX + 2);
        if (!lr->buf) {
                fclose(lr->f);
                lr->f = NULL;
                return -ENOMEM;
        }
        return 0;
}

static void line_reader_close(LineReader *lr)
{
        if (lr->f)
                fclose(lr->f);
        free(lr->buf);
        *lr = (LineReader){};
}

/* Next line without its newline. Return: 1 (a line), 0 (end), -E2BIG (too long), -EIO. */
static int line_reader_next(LineReader *lr)
{
        size_t n;

        if (!fgets(lr->buf, AUDIT_LINE_MAX + 2, lr->f))
                return ferror(lr->f) ? -EIO : 0;
        lr->line++;
        n = strlen(lr->buf);
        if (n > 0 && lr->buf[n - 1] == '\n')
                lr->buf[--n] = 0;
        else if (n > AUDIT_LINE_MAX)
                return -E2BIG;
        lr->size = n;
        return 1;
}

typedef struct ExportHeader {
        uint64_t start, end;
        Checkpoint *cp;
        bool has_consistency;
        uint8_t consistency[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
        size_t consistency_len;
} ExportHeader;

static void export_header_done(ExportHeader *h)
{
        h->cp = checkpoint_free(h->cp);
}

static bool json_u64(const json_t *j, uint64_t *ret)
{
        if (!json_is_integer(j) || json_integer_value(j) < 0)
                return false;
        *ret = (uint64_t)json_integer_value(j);
        return true;
}

static int export_header_parse(LineReader *lr, const char *path, const CheckpointVerifier *v, ExportHeader *h,
                               AuditReport *rep)
{
        _cleanup_(json_decrefp) json_t *j = NULL;
        const char *note;
        json_t *cons;
        int r;

        r = line_reader_next(lr);
        if (r < 0 && r != -E2BIG)
                return r;
        if (r != 1)
                return report(rep, AUDIT_E_FORMAT, UINT64_MAX, "%s: %s", path,
                              r == 0 ? "empty file, not an export" : "the first line is too long");
        j = json_loadb(lr->buf, lr->size, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(j) || json_integer_value(json_object_get(j, "xbus_export")) != 1 ||
            !json_u64(json_object_get(j, "start"), &h->start) || !json_u64(json_object_get(j, "end"), &h->end) ||
            !json_is_string(json_object_get(j, "checkpoint")))
                return report(rep, AUDIT_E_FORMAT, UINT64_MAX,
                              "%s: the first line is not an xbus export header (version 1)", path);
        note = json_string_value(json_object_get(j, "checkpoint"));
        r = checkpoint_open(note, json_string_length(json_object_get(j, "checkpoint")), v, NULL, &h->cp);
        if (r < 0)
                return r;
        if (r == CHECKPOINT_E_UNSIGNED || r == CHECKPOINT_E_SIGNATURE)
                return report(rep, AUDIT_E_CHECKPOINT, UINT64_MAX, "%s: checkpoint signature invalid for key %s (%s)",
                              path, checkpoint_verifier_name(v), checkpoint_strerror(r));
        if (r > 0)
                return report(rep, AUDIT_E_CHECKPOINT, UINT64_MAX, "%s: the export's checkpoint is not valid (%s)",
                              path, checkpoint_strerror(r));
        if (h->start > h->end || h->end > h->cp->size)
                return report(rep, AUDIT_E_FORMAT, UINT64_MAX,
                              "%s: the export claims entries %" PRIu64 "..%" PRIu64
                              " but its checkpoint covers %" PRIu64,
                              path, h->start, h->end, h->cp->size);
        cons = json_object_get(j, "consistency");
        if (cons) {
                r = audit_proof_parse(cons, h->consistency, &h->consistency_len);
                if (r < 0)
                        return report(rep, AUDIT_E_FORMAT, UINT64_MAX,
                                      "%s: the consistency proof is not a list of base64 hashes", path);
                h->has_consistency = true;
        }
        rep->checkpoints++;
        return 0;
}

/* One export line: {"seq":N,"entry":"..."[,"inclusion_proof":[...]]}. Entry borrowed from *ret_j. */
static int export_line_parse(LineReader *lr, json_t **ret_j, uint64_t *ret_seq, const char **ret_entry,
                             size_t *ret_size)
{
        json_t *j = json_loadb(lr->buf, lr->size, JSON_REJECT_DUPLICATES, NULL);
        json_t *e = json_object_get(j, "entry");

        if (!json_is_object(j) || !json_u64(json_object_get(j, "seq"), ret_seq) || !json_is_string(e)) {
                json_decref(j);
                return -EBADMSG;
        }
        *ret_entry = json_string_value(e);
        *ret_size = json_string_length(e);
        *ret_j = j;
        return 0;
}

/* Move the earlier export's reader to line `seq`. Return: 1 positioned, 0 not there, < 0 error. */
static int earlier_seek(LineReader *lr, bool *at_end, uint64_t *cur, json_t **cur_j, const char **cur_entry,
                        size_t *cur_size, uint64_t seq)
{
        while (!*at_end && (!*cur_j || *cur < seq)) {
                int r = line_reader_next(lr);
                if (r < 0)
                        return r;
                if (r == 0) {
                        *at_end = true;
                        break;
                }
                json_decref(*cur_j);
                *cur_j = NULL;
                if (export_line_parse(lr, cur_j, cur, cur_entry, cur_size) < 0)
                        return -EBADMSG; /* it was verified just before: it changed under us */
        }
        return *cur_j && *cur == seq;
}

static int verify_export_one(const char *path, const AuditExportOptions *o, const Target *targets, size_t n_targets,
                             const char *earlier, AuditReport *rep, Checkpoint **ret_cp)
{
        ExportHeader h = {};
        LineReader lr = {}, el = {};
        MerkleAppender a;
        uint8_t root[MERKLE_HASH_LEN];
        uint64_t expect, ecur = 0;
        json_t *ej = NULL;
        const char *eentry = NULL;
        size_t esize = 0, next_target = 0;
        bool eend = false;
        int r;

        r = line_reader_open(&lr, path);
        if (r < 0) {
                report(rep, AUDIT_E_FORMAT, UINT64_MAX, "cannot read \"%s\": %s", path, strerror(-r));
                return r;
        }
        if (earlier) {
                r = line_reader_open(&el, earlier);
                if (r == 0)
                        r = line_reader_next(&el) < 0 ? -EIO : 0; /* skip its header (already verified) */
                if (r < 0) {
                        report(rep, AUDIT_E_FORMAT, UINT64_MAX, "cannot read \"%s\": %s", earlier, strerror(-r));
                        goto out;
                }
        }
        r = export_header_parse(&lr, path, o->verifier, &h, rep);
        if (r)
                goto out;
        merkle_appender_init(&a);
        /* the targets to meet (held checkpoints); and two checkpoints of one size must agree */
        for (size_t i = 0; i < n_targets; i++)
                if (targets[i].size == h.cp->size && memcmp(targets[i].root, h.cp->root, MERKLE_HASH_LEN) != 0) {
                        r = report(rep, AUDIT_E_CHECKPOINT, UINT64_MAX,
                                   "%s: its checkpoint and %s have the same size but different roots: the log "
                                   "was rewritten",
                                   path, targets[i].label);
                        goto out;
                }

        for (expect = h.start;; expect++) {
                _cleanup_(json_decrefp) json_t *j = NULL;
                const char *entry;
                size_t size;
                uint64_t seq, fseq;
                uint8_t leaf[MERKLE_HASH_LEN];

                r = line_reader_next(&lr);
                if (r == -E2BIG) {
                        r = report(rep, AUDIT_E_FORMAT, expect, "%s:%" PRIu64 ": line longer than %u bytes", path,
                                   lr.line, AUDIT_LINE_MAX);
                        goto out;
                }
                if (r < 0)
                        goto out;
                if (r == 0)
                        break;
                if (lr.size == 0)
                        continue;
                if (export_line_parse(&lr, &j, &seq, &entry, &size) < 0) {
                        r = report(rep, AUDIT_E_FORMAT, expect, "%s:%" PRIu64 ": not an export line", path, lr.line);
                        goto out;
                }
                if (seq != expect) {
                        if (seq > expect)
                                r = report(rep, AUDIT_E_SEQUENCE, expect,
                                           "entry %" PRIu64
                                           " is missing from the export (the next line is entry %" PRIu64 ")",
                                           expect, seq);
                        else
                                r = report(rep, AUDIT_E_SEQUENCE, seq,
                                           "entry %" PRIu64 " appears again or out of order (line %" PRIu64 ")", seq,
                                           lr.line);
                        goto out;
                }
                if (seq >= h.end) {
                        r = report(rep, AUDIT_E_FORMAT, seq,
                                   "%s: entry %" PRIu64 " is beyond the end (%" PRIu64 ") its header names", path, seq,
                                   h.end);
                        goto out;
                }
                if (audit_entry_parse_prefix(entry, size, &fseq, NULL, NULL) < 0) {
                        r = report(rep, AUDIT_E_ENTRY, seq, "entry %" PRIu64 ": not a well-formed log entry", seq);
                        goto out;
                }
                if (fseq != seq) {
                        r = report(rep, AUDIT_E_ENTRY, seq,
                                   "entry %" PRIu64 ": it holds the bytes of entry %" PRIu64
                                   " (entries were moved or reordered)",
                                   seq, fseq);
                        goto out;
                }
                if (earlier) {
                        r = earlier_seek(&el, &eend, &ecur, &ej, &eentry, &esize, seq);
                        if (r < 0) {
                                r = report(rep, AUDIT_E_FORMAT, seq, "%s changed while it was read", earlier);
                                goto out;
                        }
                        if (r == 1 && (esize != size || memcmp(eentry, entry, size) != 0)) {
                                r = report(rep, AUDIT_E_ENTRY, seq,
                                           "entry %" PRIu64 " differs from the earlier export (the log was changed)",
                                           seq);
                                goto out;
                        }
                }
                r = merkle_leaf_hash(entry, size, leaf);
                if (r < 0)
                        goto out;
                if (h.start == 0) {
                        MerkleNode nodes[MERKLE_MAX_LEVELS];
                        size_t n_nodes;
                        r = merkle_appender_append(&a, leaf, nodes, &n_nodes);
                        if (r < 0)
                                goto out;
                        while (next_target < n_targets && targets[next_target].size <= a.size) {
                                if (targets[next_target].size == a.size) {
                                        r = merkle_appender_root(&a, root);
                                        if (r < 0)
                                                goto out;
                                        if (memcmp(root, targets[next_target].root, MERKLE_HASH_LEN) != 0) {
                                                r = report(rep, AUDIT_E_CHECKPOINT, UINT64_MAX,
                                                           "entries 0..%" PRIu64 " of %s do not reproduce %s: the "
                                                           "log was changed before entry %" PRIu64,
                                                           a.size - 1, path, targets[next_target].label, a.size);
                                                goto out;
                                        }
                                        rep->checkpoints++;
                                }
                                next_target++;
                        }
                } else {
                        uint8_t proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
                        size_t plen;
                        if (audit_proof_parse(json_object_get(j, "inclusion_proof"), proof, &plen) < 0) {
                                r = report(rep, AUDIT_E_FORMAT, seq,
                                           "entry %" PRIu64 ": no valid inclusion proof (an export that does not "
                                           "start at 0 needs one per entry)",
                                           seq);
                                goto out;
                        }
                        r = merkle_verify_inclusion(leaf, seq, h.cp->size, (const uint8_t(*)[32])proof, plen,
                                                    h.cp->root);
                        if (r < 0)
                                goto out;
                        if (r > 0) {
                                r = report(rep, AUDIT_E_PROOF, seq,
                                           "entry %" PRIu64 ": leaf hash does not match the proof (%s)", seq,
                                           merkle_strerror(r));
                                goto out;
                        }
                }
                rep->entries++;
        }

        if (expect != h.end) {
                r = report(rep, AUDIT_E_TRUNCATED, expect,
                           "export ends at %" PRIu64 " but its header says %" PRIu64 ": the file was truncated", expect,
                           h.end);
                goto out;
        }
        if (h.start == 0 && h.end > 0) {
                r = merkle_appender_root(&a, root);
                if (r < 0)
                        goto out;
                if (h.end == h.cp->size) {
                        if (memcmp(root, h.cp->root, MERKLE_HASH_LEN) != 0) {
                                r = report(rep, AUDIT_E_CHECKPOINT, UINT64_MAX,
                                           "the %" PRIu64 " entries of %s do not reproduce its checkpoint's root: "
                                           "they were changed",
                                           h.end, path);
                                goto out;
                        }
                } else if (!h.has_consistency) {
                        r = report(rep, AUDIT_E_TRUNCATED, h.end,
                                   "export ends at %" PRIu64 " but the checkpoint covers %" PRIu64 ": truncated", h.end,
                                   h.cp->size);
                        goto out;
                } else {
                        r = merkle_verify_consistency(h.end, h.cp->size, root, h.cp->root,
                                                      (const uint8_t(*)[32])h.consistency, h.consistency_len);
                        if (r < 0)
                                goto out;
                        if (r > 0) {
                                r = report(rep, AUDIT_E_PROOF, UINT64_MAX,
                                           "the consistency proof from %" PRIu64 " to the checkpoint's %" PRIu64
                                           " entries does not verify (%s): the entries were changed",
                                           h.end, h.cp->size, merkle_strerror(r));
                                goto out;
                        }
                }
        }
        /* held checkpoints this export could not meet */
        for (; next_target < n_targets; next_target++) {
                const Target *t = &targets[next_target];
                if (t->size == h.cp->size)
                        continue; /* same size, same root: checked above */
                if (t->size > h.cp->size) {
                        r = report(rep, AUDIT_E_TRUNCATED, h.cp->size,
                                   "%s covers %" PRIu64 " entries but the checkpoint of %s only %" PRIu64
                                   ": the log was truncated",
                                   t->label, t->size, path, h.cp->size);
                        goto out;
                }
                if (h.start != 0 || t->size > h.end) {
                        r = report(rep, AUDIT_E_UNCHECKED, UINT64_MAX,
                                   "%s cannot be checked against %s: export entries 0..%" PRIu64 " at least", path,
                                   t->label, t->size - 1);
                        goto out;
                }
        }
        if (ret_cp)
                *ret_cp = TAKE_PTR(h.cp);
        r = 0;
out:
        json_decref(ej);
        export_header_done(&h);
        line_reader_close(&lr);
        line_reader_close(&el);
        return r;
}

int audit_verify_export(const char *path, const AuditExportOptions *o, AuditReport *rep)
{
        Target targets[AUDIT_HELD_MAX + 1];
        size_t n;
        int r;

        audit_report_init(rep);
        if (!o || !o->verifier || !path)
                return -EINVAL;
        r = targets_from_held(o->held, o->n_held, targets, rep);
        if (r)
                return r;
        n = o->n_held;
        if (o->earlier) {
                _cleanup_(audit_checkpoint_freep) Checkpoint *ecp = NULL;
                AuditReport erep;

                audit_report_init(&erep);
                r = verify_export_one(o->earlier, o, targets, n, NULL, &erep, &ecp);
                if (r != 0) {
                        report(rep, r > 0 ? r : AUDIT_E_FORMAT, erep.bad_seq, "the earlier export %s: %s", o->earlier,
                               erep.reason ? erep.reason : strerror(-r));
                        audit_report_done(&erep);
                        return r;
                }
                audit_report_done(&erep);
                targets[n].size = ecp->size;
                memcpy(targets[n].root, ecp->root, MERKLE_HASH_LEN);
                snprintf(targets[n].label, sizeof(targets[n].label),
                         "the earlier export's checkpoint (size %" PRIu64 ")", ecp->size);
                n++;
                qsort(targets, n, sizeof(*targets), target_cmp);
        }
        return verify_export_one(path, o, targets, n, o->earlier, rep, NULL);
}

/* ------------------------------------------------------------------------ */
/* Bundles */

/* The entry's field `key` as a string, "" for null/absent (receipts omit absent fields). */
static const char *field_str(const json_t *o, const char *key)
{
        const json_t *v = json_object_get(o, key);

        return json_is_string(v) ? json_string_value(v) : NULL;
}

static int bundle_check_receipt(const char *jws, const json_t *entry, uint64_t seq, const AuditBundleOptions *o,
                                AuditReport *rep)
{
        static const char *const fields[] = { "time",          "xroad_id", "client",  "service", "request_hash",
                                              "response_hash", "subject",  "purpose", "basis" };
        _cleanup_(jws_verifier_freep) JwsVerifier *v = NULL;
        _cleanup_(json_decrefp) json_t *header = NULL, *payload = NULL;
        const char *typ;
        json_t *pseq;
        int r;

        r = jws_verifier_new(&v, o->receipt_jwk);
        if (r < 0)
                return r;
        if (r > 0)
                return report(rep, AUDIT_E_UNCHECKED, seq, "the node's receipt key is not usable (%s)",
                              jws_strerror(r));
        r = jws_verify_compact(v, jws, strlen(jws), &header, &payload);
        if (r < 0)
                return r;
        if (r > 0)
                return report(rep, AUDIT_E_RECEIPT, seq, "the receipt is not signed by the node's key (%s)",
                              jws_strerror(r));
        typ = json_string_value(json_object_get(header, "typ"));
        if (!typ || !streq(typ, RECEIPT_TYP))
                return report(rep, AUDIT_E_RECEIPT, seq, "signed by the node, but not a receipt (typ \"%.40s\")",
                              strempty(typ));
        pseq = json_object_get(payload, "seq");
        if (!json_is_integer(pseq) || json_integer_value(pseq) < 0 || (uint64_t)json_integer_value(pseq) != seq)
                return report(rep, AUDIT_E_RECEIPT, seq,
                              "the receipt is for log entry %" JSON_INTEGER_FORMAT ", not entry %" PRIu64,
                              json_integer_value(pseq), seq);
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                const char *have = field_str(payload, fields[i]), *want = field_str(entry, fields[i]);
                if (!have != !want || (have && !streq(have, want)))
                        return report(rep, AUDIT_E_RECEIPT, seq,
                                      "the receipt's %s does not match the entry's (\"%.80s\" vs \"%.80s\")", fields[i],
                                      strempty(have), strempty(want));
        }
        return 0;
}

int audit_verify_bundle(const char *json, size_t size, const AuditBundleOptions *o, AuditReport *rep)
{
        _cleanup_(json_decrefp) json_t *b = NULL, *entry_j = NULL;
        _cleanup_(audit_checkpoint_freep) Checkpoint *cp = NULL;
        uint8_t proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN], leaf[MERKLE_HASH_LEN];
        const char *entry, *note, *receipt = NULL;
        uint64_t seq, tree_size = 0, fseq;
        size_t entry_size, plen;
        json_t *jr;
        int r;

        audit_report_init(rep);
        if (!json || !o || !o->verifier)
                return -EINVAL;
        if (size > AUDIT_BUNDLE_MAX)
                return report(rep, AUDIT_E_FORMAT, UINT64_MAX, "the bundle is larger than %u bytes", AUDIT_BUNDLE_MAX);
        b = json_loadb(json, size, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(b) || json_integer_value(json_object_get(b, "xbus_proof")) != 1 ||
            !json_u64(json_object_get(b, "seq"), &seq) || !json_is_string(json_object_get(b, "entry")) ||
            !json_is_string(json_object_get(b, "checkpoint")))
                return report(rep, AUDIT_E_FORMAT, UINT64_MAX, "not an xbus proof bundle (version 1)");
        entry = json_string_value(json_object_get(b, "entry"));
        entry_size = json_string_length(json_object_get(b, "entry"));
        note = json_string_value(json_object_get(b, "checkpoint"));
        jr = json_object_get(b, "receipt");
        if (jr && !json_is_null(jr)) {
                if (!json_is_string(jr))
                        return report(rep, AUDIT_E_FORMAT, seq, "the bundle's receipt is not a string");
                receipt = json_string_value(jr);
        }
        if (json_object_get(b, "tree_size") && !json_u64(json_object_get(b, "tree_size"), &tree_size))
                return report(rep, AUDIT_E_FORMAT, seq, "the bundle's tree_size is not a number");
        if (audit_proof_parse(json_object_get(b, "inclusion_proof"), proof, &plen) < 0)
                return report(rep, AUDIT_E_FORMAT, seq, "the inclusion proof is not a list of base64 hashes");

        r = checkpoint_open(note, json_string_length(json_object_get(b, "checkpoint")), o->verifier, NULL, &cp);
        if (r < 0)
                return r;
        if (r == CHECKPOINT_E_UNSIGNED || r == CHECKPOINT_E_SIGNATURE)
                return report(rep, AUDIT_E_CHECKPOINT, seq, "checkpoint signature invalid for key %s (%s)",
                              checkpoint_verifier_name(o->verifier), checkpoint_strerror(r));
        if (r > 0)
                return report(rep, AUDIT_E_CHECKPOINT, seq, "the bundle's checkpoint is not valid (%s)",
                              checkpoint_strerror(r));
        rep->checkpoints = 1;
        if (tree_size && tree_size != cp->size)
                return report(rep, AUDIT_E_PROOF, seq,
                              "the proof is for a tree of %" PRIu64 " entries but the checkpoint is of %" PRIu64,
                              tree_size, cp->size);
        if (seq >= cp->size)
                return report(rep, AUDIT_E_PROOF, seq,
                              "entry %" PRIu64 " is not covered by the checkpoint (%" PRIu64 " entries)", seq,
                              cp->size);
        if (audit_entry_parse_prefix(entry, entry_size, &fseq, NULL, NULL) < 0)
                return report(rep, AUDIT_E_ENTRY, seq, "entry %" PRIu64 ": not a well-formed log entry", seq);
        if (fseq != seq)
                return report(rep, AUDIT_E_ENTRY, seq, "entry %" PRIu64 ": its bytes say seq %" PRIu64, seq, fseq);
        r = merkle_leaf_hash(entry, entry_size, leaf);
        if (r < 0)
                return r;
        r = merkle_verify_inclusion(leaf, seq, cp->size, (const uint8_t(*)[32])proof, plen, cp->root);
        if (r < 0)
                return r;
        if (r > 0)
                return report(rep, AUDIT_E_PROOF, seq, "entry %" PRIu64 ": leaf hash does not match the proof (%s)",
                              seq, merkle_strerror(r));
        rep->entries = 1;

        if (!receipt) {
                if (o->require_receipt)
                        return report(rep, AUDIT_E_RECEIPT, seq, "the bundle holds no receipt");
                return 0;
        }
        if (!o->receipt_jwk)
                return report(rep, AUDIT_E_UNCHECKED, seq,
                              "the bundle holds a receipt but no node receipt key (signing.jwk) was given");
        entry_j = json_loadb(entry, entry_size, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(entry_j))
                return report(rep, AUDIT_E_ENTRY, seq, "entry %" PRIu64 ": not a JSON object", seq);
        return bundle_check_receipt(receipt, entry_j, seq, o, rep);
}
