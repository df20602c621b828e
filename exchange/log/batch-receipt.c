/* batch-receipt.c: tree heads signed once per group commit, and receipts of head, entry and inclusion path */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"
#include "log/batch-receipt.h"

const char *batch_receipt_strerror(int code)
{
        static const char *const reasons[_BATCH_RECEIPT_E_MAX] = {
                [BATCH_RECEIPT_E_MALFORMED] = "receipt malformed",
                [BATCH_RECEIPT_E_TOO_LARGE] = "receipt too large",
                [BATCH_RECEIPT_E_SIGNATURE] = "tree head signature refused",
                [BATCH_RECEIPT_E_HEAD] = "not a tree head",
                [BATCH_RECEIPT_E_ORIGIN] = "tree head of another log",
                [BATCH_RECEIPT_E_ENTRY] = "entry malformed or outside the tree",
                [BATCH_RECEIPT_E_INCLUSION] = "entry not under the tree head's root",
        };

        if (code < 0)
                return strerror(-code);
        if (code > 0 && code < _BATCH_RECEIPT_E_MAX)
                return reasons[code];
        return "unknown";
}

int batch_receipt_head_sign(const Signer *s, const BatchHead *h, char **ret)
{
        _cleanup_(json_decrefp) json_t *o = NULL;
        _cleanup_free_ char *payload = NULL;
        char root[b64_encoded_len(MERKLE_HASH_LEN) + 1];

        if (!checkpoint_name_valid(h->origin) || h->size > INT64_MAX || isempty(h->time))
                return -EINVAL;
        b64_encode(h->root, MERKLE_HASH_LEN, root);
        /* insertion order is the payload's order: origin, size, root, time */
        o = json_pack("{s:s, s:I, s:s, s:s}", "origin", h->origin, "size", (json_int_t)h->size, "root", root, "time",
                      h->time);
        if (!o)
                return -EINVAL; /* json_pack() refuses a time that is not UTF-8, and fails without memory */
        payload = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!payload)
                return -ENOMEM;
        return signer_sign_compact(s, BATCH_RECEIPT_HEAD_TYP, payload, strlen(payload), ret);
}

static bool copy_string(json_t *o, const char *key, char *out, size_t size)
{
        const char *s = json_string_value(json_object_get(o, key));

        if (!s || strlen(s) >= size)
                return false;
        strcpy(out, s);
        return true;
}

int batch_receipt_head_verify(const JwsVerifier *v, const char *jws, size_t len, BatchHead *ret)
{
        _cleanup_(json_decrefp) json_t *header = NULL, *payload = NULL;
        const char *typ, *root;
        json_t *size;
        BatchHead h = {};
        int r;

        r = jws_verify_compact_once(v, jws, len, &header, &payload);
        if (r < 0)
                return r == -ENOMEM ? r : BATCH_RECEIPT_E_SIGNATURE;
        if (r > 0)
                return r == JWS_E_PAYLOAD ? BATCH_RECEIPT_E_HEAD : BATCH_RECEIPT_E_SIGNATURE;

        typ = json_string_value(json_object_get(header, "typ"));
        if (!typ || !streq(typ, BATCH_RECEIPT_HEAD_TYP))
                return BATCH_RECEIPT_E_HEAD;
        size = json_object_get(payload, "size");
        root = json_string_value(json_object_get(payload, "root"));
        if (!copy_string(payload, "origin", h.origin, sizeof(h.origin)) || !checkpoint_name_valid(h.origin) ||
            !copy_string(payload, "time", h.time, sizeof(h.time)) || isempty(h.time) || !json_is_integer(size) ||
            json_integer_value(size) < 0 || !root ||
            b64_decode(root, strlen(root), h.root, MERKLE_HASH_LEN) != MERKLE_HASH_LEN)
                return BATCH_RECEIPT_E_HEAD;
        h.size = (uint64_t)json_integer_value(size);
        *ret = h;
        return 0;
}

int batch_receipt_format(const char *head, const void *entry, size_t entry_len, const uint8_t (*path)[MERKLE_HASH_LEN],
                         size_t path_len, char **ret)
{
        size_t head_len = strlen(head), n;
        char *s, *p;

        if (entry_len == 0 || entry_len > BATCH_RECEIPT_ENTRY_MAX || path_len > MERKLE_PROOF_MAX)
                return -EINVAL;
        n = head_len + 1 + b64url_encoded_len(entry_len) + 1 + b64url_encoded_len(path_len * MERKLE_HASH_LEN) + 1;
        s = malloc(n);
        if (!s)
                return -ENOMEM;
        memcpy(s, head, head_len);
        p = s + head_len;
        *p++ = '~';
        p += b64url_encode(entry, entry_len, p);
        *p++ = '~';
        p += b64url_encode(path, path_len * MERKLE_HASH_LEN, p);
        *p = '\0';
        *ret = s;
        return 0;
}

bool batch_receipt_is(const char *receipt, size_t len)
{
        return memchr(receipt, '~', len) != NULL;
}

BatchReceipt *batch_receipt_free(BatchReceipt *r)
{
        if (r) {
                free(r->head);
                free(r->entry);
                free(r->path);
                free(r);
        }
        return NULL;
}

/* Decode `len` base64url characters into a new buffer (one spare byte, zeroed). */
static int decode_part(const char *in, size_t len, uint8_t **ret, size_t *ret_size)
{
        _cleanup_free_ uint8_t *out = calloc(1, len * 3 / 4 + 1);
        long n;

        if (!out)
                return -ENOMEM;
        n = len ? b64url_decode(in, len, out) : 0;
        if (n < 0)
                return BATCH_RECEIPT_E_MALFORMED;
        *ret = TAKE_PTR(out);
        *ret_size = (size_t)n;
        return 0;
}

int batch_receipt_parse(const char *receipt, size_t len, BatchReceipt **ret)
{
        _cleanup_(batch_receipt_freep) BatchReceipt *r = NULL;
        const char *t1, *t2;
        uint8_t *path = NULL;
        size_t path_size;
        int k;

        if (len > BATCH_RECEIPT_MAX)
                return BATCH_RECEIPT_E_TOO_LARGE;
        t1 = memchr(receipt, '~', len);
        t2 = t1 ? memchr(t1 + 1, '~', len - (size_t)(t1 + 1 - receipt)) : NULL;
        if (!t2 || t1 == receipt || t2 == t1 + 1 || memchr(t2 + 1, '~', len - (size_t)(t2 + 1 - receipt)))
                return BATCH_RECEIPT_E_MALFORMED;

        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->head_len = (size_t)(t1 - receipt);
        r->head = strndup(receipt, r->head_len);
        if (!r->head)
                return -ENOMEM;
        if (strlen(r->head) != r->head_len)
                return BATCH_RECEIPT_E_MALFORMED;
        k = decode_part(t1 + 1, (size_t)(t2 - t1 - 1), &r->entry, &r->entry_len);
        if (k != 0)
                return k;
        if (r->entry_len == 0)
                return BATCH_RECEIPT_E_MALFORMED;
        if (r->entry_len > BATCH_RECEIPT_ENTRY_MAX)
                return BATCH_RECEIPT_E_TOO_LARGE;
        k = decode_part(t2 + 1, len - (size_t)(t2 + 1 - receipt), &path, &path_size);
        if (k != 0)
                return k;
        r->path = (uint8_t(*)[MERKLE_HASH_LEN])path;
        if (path_size % MERKLE_HASH_LEN != 0 || path_size / MERKLE_HASH_LEN > MERKLE_PROOF_MAX)
                return BATCH_RECEIPT_E_MALFORMED;
        r->path_len = path_size / MERKLE_HASH_LEN;
        *ret = TAKE_PTR(r);
        return 0;
}

int batch_receipt_verify_entry(const BatchReceipt *r, const BatchHead *h, json_t **ret_entry)
{
        _cleanup_(json_decrefp) json_t *entry = NULL;
        uint8_t leaf[MERKLE_HASH_LEN];
        json_error_t err;
        json_t *seq;
        int k;

        entry = json_loadb((const char *)r->entry, r->entry_len, JSON_REJECT_DUPLICATES, &err);
        seq = json_object_get(entry, "seq");
        if (!json_is_object(entry) || !json_is_integer(seq) || json_integer_value(seq) < 0 ||
            (uint64_t)json_integer_value(seq) >= h->size)
                return BATCH_RECEIPT_E_ENTRY;

        k = merkle_leaf_hash(r->entry, r->entry_len, leaf);
        if (k < 0)
                return k;
        k = merkle_verify_inclusion(leaf, (uint64_t)json_integer_value(seq), h->size,
                                    (const uint8_t(*)[MERKLE_HASH_LEN])r->path, r->path_len, h->root);
        if (k < 0)
                return k;
        if (k > 0)
                return BATCH_RECEIPT_E_INCLUSION;
        if (ret_entry)
                *ret_entry = TAKE_PTR(entry);
        return 0;
}

int batch_receipt_verify(const JwsVerifier *v, const BatchReceipt *r, const char *origin, BatchHead *ret_head,
                         json_t **ret_entry)
{
        BatchHead h;
        int k;

        k = batch_receipt_head_verify(v, r->head, r->head_len, &h);
        if (k != 0)
                return k;
        if (origin && !streq(origin, h.origin))
                return BATCH_RECEIPT_E_ORIGIN;
        k = batch_receipt_verify_entry(r, &h, ret_entry);
        if (k != 0)
                return k;
        if (ret_head)
                *ret_head = h;
        return 0;
}
