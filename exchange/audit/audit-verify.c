/* audit-verify.c: what an auditor's verification is made of: reports, hashes and proofs as text, keys, targets
 *
 * The verifications themselves are in audit-verify-store.c (a log store)
 * and audit-verify-export.c (exports and proof bundles); this file holds
 * the formats they share with the API and the CLI (audit-verify.h) and the
 * helpers of audit-verify-internal.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "audit/audit-verify-internal.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/macro.h"

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

int audit_report_set(AuditReport *rep, int code, uint64_t seq, const char *fmt, ...)
{
        va_list ap;

        if (rep->reason)
                return code;
        va_start(ap, fmt);
        rep->reason = error_vformat(fmt, ap);
        va_end(ap);
        rep->bad_seq = seq;
        return code;
}

/* ------------------------------------------------------------------------ */
/* Helpers */

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

int audit_verifier_load(const char *arg, CheckpointVerifier **ret, char **ret_reason)
{
        _cleanup_free_ char *text = NULL;
        const char *vkey = arg;
        int r;

        if (isempty(arg) || !ret)
                return -EINVAL;
        if (arg[0] == '@') {
                size_t n;
                r = read_full_file(arg + 1, VKEY_FILE_MAX, &text, &n);
                if (r < 0)
                        return error_set(ret_reason, r, "cannot read the key file \"%s\": %s", arg + 1, strerror(-r));
                while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
                        text[--n] = 0;
                vkey = text;
        }
        r = checkpoint_verifier_from_vkey(ret, vkey);
        if (r != 0)
                return error_set(ret_reason, r, "not a usable verifier key (vkey): %s",
                                 r > 0 ? checkpoint_strerror(r) : strerror(-r));
        return 0;
}

static int checkpoint_reason(char **ret_reason, int r, const CheckpointVerifier *v, const char *what)
{
        if (r == CHECKPOINT_E_UNSIGNED || r == CHECKPOINT_E_SIGNATURE)
                return error_set(ret_reason, r, "%s: checkpoint signature invalid for key %s (%s)", what,
                                 checkpoint_verifier_name(v), checkpoint_strerror(r));
        return error_set(ret_reason, r, "%s: not a valid checkpoint (%s)", what,
                         r > 0 ? checkpoint_strerror(r) : strerror(-r));
}

int audit_checkpoint_load(const char *path, const CheckpointVerifier *v, Checkpoint **ret, char **ret_reason)
{
        _cleanup_free_ char *text = NULL;
        size_t n;
        int r;

        r = read_full_file(path, CHECKPOINT_NOTE_MAX, &text, &n);
        if (r < 0)
                return error_set(ret_reason, r, "cannot read the checkpoint \"%s\": %s", path, strerror(-r));
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
/* Targets: checkpoints to meet while streaming entries */

int audit_target_cmp(const void *a, const void *b)
{
        const AuditTarget *x = a, *y = b;

        return x->size < y->size ? -1 : x->size > y->size;
}

int audit_targets_from_held(const Checkpoint *const *held, size_t n, AuditTarget *out, AuditReport *rep)
{
        if (n > AUDIT_HELD_MAX)
                return audit_report_set(rep, AUDIT_E_FORMAT, UINT64_MAX, "more than %d earlier checkpoints given",
                                        AUDIT_HELD_MAX);
        for (size_t i = 0; i < n; i++) {
                out[i].size = held[i]->size;
                memcpy(out[i].root, held[i]->root, MERKLE_HASH_LEN);
                snprintf(out[i].label, sizeof(out[i].label), "the checkpoint you held (size %" PRIu64 ")",
                         held[i]->size);
        }
        qsort(out, n, sizeof(*out), audit_target_cmp);
        return 0;
}

int audit_targets_meet(const AuditTarget *targets, size_t n, size_t *next, const MerkleAppender *a, AuditReport *rep,
                       const AuditTarget **ret_missed)
{
        uint8_t root[MERKLE_HASH_LEN];
        int r;

        for (; *next < n && targets[*next].size <= a->size; (*next)++) {
                if (targets[*next].size != a->size)
                        continue;
                r = merkle_appender_root(a, root);
                if (r < 0)
                        return r;
                if (memcmp(root, targets[*next].root, MERKLE_HASH_LEN) != 0) {
                        *ret_missed = &targets[*next];
                        return 1;
                }
                rep->checkpoints++;
        }
        return 0;
}
