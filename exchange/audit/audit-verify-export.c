/* audit-verify-export.c: verification of exports (JSON Lines) and proof bundles, offline */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit-verify-internal.h"
#include "crypto/jws.h"
#include "log/batch-receipt.h"
#include "util/macro.h"

#define RECEIPT_TYP "xbus-receipt+jws"

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
                return audit_report_set(rep, AUDIT_E_FORMAT, UINT64_MAX, "%s: %s", path,
                                        r == 0 ? "empty file, not an export" : "the first line is too long");
        j = json_loadb(lr->buf, lr->size, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(j) || json_integer_value(json_object_get(j, "xbus_export")) != 1 ||
            !json_u64(json_object_get(j, "start"), &h->start) || !json_u64(json_object_get(j, "end"), &h->end) ||
            !json_is_string(json_object_get(j, "checkpoint")))
                return audit_report_set(rep, AUDIT_E_FORMAT, UINT64_MAX,
                                        "%s: the first line is not an xbus export header (version 1)", path);
        note = json_string_value(json_object_get(j, "checkpoint"));
        r = checkpoint_open(note, json_string_length(json_object_get(j, "checkpoint")), v, NULL, &h->cp);
        if (r < 0)
                return r;
        if (r == CHECKPOINT_E_UNSIGNED || r == CHECKPOINT_E_SIGNATURE)
                return audit_report_set(rep, AUDIT_E_CHECKPOINT, UINT64_MAX,
                                        "%s: checkpoint signature invalid for key %s (%s)", path,
                                        checkpoint_verifier_name(v), checkpoint_strerror(r));
        if (r > 0)
                return audit_report_set(rep, AUDIT_E_CHECKPOINT, UINT64_MAX,
                                        "%s: the export's checkpoint is not valid (%s)", path, checkpoint_strerror(r));
        if (h->start > h->end || h->end > h->cp->size)
                return audit_report_set(rep, AUDIT_E_FORMAT, UINT64_MAX,
                                        "%s: the export claims entries %" PRIu64 "..%" PRIu64
                                        " but its checkpoint covers %" PRIu64,
                                        path, h->start, h->end, h->cp->size);
        cons = json_object_get(j, "consistency");
        if (cons) {
                r = audit_proof_parse(cons, h->consistency, &h->consistency_len);
                if (r < 0)
                        return audit_report_set(rep, AUDIT_E_FORMAT, UINT64_MAX,
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

/* The earlier export, read alongside the one verified: its line at or after the current entry. */
typedef struct Earlier {
        LineReader lr;
        bool at_end;
        uint64_t seq; /* of the line held in j */
        json_t *j;
        const char *entry; /* borrowed from j */
        size_t size;
} Earlier;

/* Move the earlier export's reader to line `seq`. Return: 1 positioned, 0 not there, < 0 error. */
static int earlier_seek(Earlier *e, uint64_t seq)
{
        while (!e->at_end && (!e->j || e->seq < seq)) {
                int r = line_reader_next(&e->lr);
                if (r < 0)
                        return r;
                if (r == 0) {
                        e->at_end = true;
                        break;
                }
                json_decref(e->j);
                e->j = NULL;
                if (export_line_parse(&e->lr, &e->j, &e->seq, &e->entry, &e->size) < 0)
                        return -EBADMSG; /* it was verified just before: it changed under us */
        }
        return e->j && e->seq == seq;
}

/* One walk through an export, line after line. */
typedef struct ExportWalk {
        const char *path;
        const AuditTarget *targets; /* checkpoints to meet, by size */
        size_t n_targets, next_target;
        AuditReport *rep;
        LineReader lr;
        ExportHeader h;
        MerkleAppender a;    /* the tree of the entries so far, for an export from 0 */
        const char *earlier; /* the earlier export's path, or NULL */
        Earlier e;
} ExportWalk;

/* Open the export (and the earlier one, past its header) and verify the header. */
static int export_open(ExportWalk *w, const CheckpointVerifier *v)
{
        int r;

        r = line_reader_open(&w->lr, w->path);
        if (r < 0) {
                audit_report_set(w->rep, AUDIT_E_FORMAT, UINT64_MAX, "cannot read \"%s\": %s", w->path, strerror(-r));
                return r;
        }
        if (w->earlier) {
                r = line_reader_open(&w->e.lr, w->earlier);
                if (r == 0)
                        r = line_reader_next(&w->e.lr) < 0 ? -EIO : 0; /* skip its header (already verified) */
                if (r < 0) {
                        audit_report_set(w->rep, AUDIT_E_FORMAT, UINT64_MAX, "cannot read \"%s\": %s", w->earlier,
                                         strerror(-r));
                        return r;
                }
        }
        r = export_header_parse(&w->lr, w->path, v, &w->h, w->rep);
        if (r)
                return r;
        merkle_appender_init(&w->a);
        /* the targets to meet (held checkpoints); and two checkpoints of one size must agree */
        for (size_t i = 0; i < w->n_targets; i++)
                if (w->targets[i].size == w->h.cp->size &&
                    memcmp(w->targets[i].root, w->h.cp->root, MERKLE_HASH_LEN) != 0)
                        return audit_report_set(w->rep, AUDIT_E_CHECKPOINT, UINT64_MAX,
                                                "%s: its checkpoint and %s have the same size but different roots: "
                                                "the log was rewritten",
                                                w->path, w->targets[i].label);
        return 0;
}

/* Entry `seq`, where entry `expect` belongs: its place, its bytes, and the same in the earlier export. */
static int export_check_entry(ExportWalk *w, uint64_t expect, uint64_t seq, const char *entry, size_t size)
{
        AuditReport *rep = w->rep;
        uint64_t fseq;
        int r;

        if (seq > expect)
                return audit_report_set(rep, AUDIT_E_SEQUENCE, expect,
                                        "entry %" PRIu64 " is missing from the export (the next line is entry %" PRIu64
                                        ")",
                                        expect, seq);
        if (seq < expect)
                return audit_report_set(rep, AUDIT_E_SEQUENCE, seq,
                                        "entry %" PRIu64 " appears again or out of order (line %" PRIu64 ")", seq,
                                        w->lr.line);
        if (seq >= w->h.end)
                return audit_report_set(rep, AUDIT_E_FORMAT, seq,
                                        "%s: entry %" PRIu64 " is beyond the end (%" PRIu64 ") its header names",
                                        w->path, seq, w->h.end);
        if (audit_entry_parse_prefix(entry, size, &fseq, NULL, NULL) < 0)
                return audit_report_set(rep, AUDIT_E_ENTRY, seq, "entry %" PRIu64 ": not a well-formed log entry", seq);
        if (fseq != seq)
                return audit_report_set(rep, AUDIT_E_ENTRY, seq,
                                        "entry %" PRIu64 ": it holds the bytes of entry %" PRIu64
                                        " (entries were moved or reordered)",
                                        seq, fseq);
        if (!w->earlier)
                return 0;
        r = earlier_seek(&w->e, seq);
        if (r < 0)
                return audit_report_set(rep, AUDIT_E_FORMAT, seq, "%s changed while it was read", w->earlier);
        if (r == 1 && (w->e.size != size || memcmp(w->e.entry, entry, size) != 0))
                return audit_report_set(rep, AUDIT_E_ENTRY, seq,
                                        "entry %" PRIu64 " differs from the earlier export (the log was changed)", seq);
        return 0;
}

/* The leaf of entry `seq`: into the tree for an export from 0 (meeting the targets), else against its proof. */
static int export_check_leaf(ExportWalk *w, const json_t *j, uint64_t seq, const uint8_t leaf[MERKLE_HASH_LEN])
{
        uint8_t proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
        MerkleNode nodes[MERKLE_MAX_LEVELS];
        const AuditTarget *t;
        size_t n_nodes, plen;
        int r;

        if (w->h.start == 0) {
                r = merkle_appender_append(&w->a, leaf, nodes, &n_nodes);
                if (r < 0)
                        return r;
                r = audit_targets_meet(w->targets, w->n_targets, &w->next_target, &w->a, w->rep, &t);
                if (r > 0)
                        return audit_report_set(w->rep, AUDIT_E_CHECKPOINT, UINT64_MAX,
                                                "entries 0..%" PRIu64 " of %s do not reproduce %s: the log was changed "
                                                "before entry %" PRIu64,
                                                w->a.size - 1, w->path, t->label, w->a.size);
                return r;
        }
        if (audit_proof_parse(json_object_get(j, "inclusion_proof"), proof, &plen) < 0)
                return audit_report_set(w->rep, AUDIT_E_FORMAT, seq,
                                        "entry %" PRIu64 ": no valid inclusion proof (an export that does not start "
                                        "at 0 needs one per entry)",
                                        seq);
        r = merkle_verify_inclusion(leaf, seq, w->h.cp->size, (const uint8_t(*)[32])proof, plen, w->h.cp->root);
        if (r > 0)
                return audit_report_set(w->rep, AUDIT_E_PROOF, seq,
                                        "entry %" PRIu64 ": leaf hash does not match the proof (%s)", seq,
                                        merkle_strerror(r));
        return r;
}

/* Read and verify the next line, where entry `expect` belongs; *ret_end at the end of the file. */
static int export_next(ExportWalk *w, uint64_t expect, bool *ret_end)
{
        _cleanup_(json_decrefp) json_t *j = NULL;
        uint8_t leaf[MERKLE_HASH_LEN];
        const char *entry;
        uint64_t seq;
        size_t size;
        int r;

        r = line_reader_next(&w->lr);
        if (r == -E2BIG)
                return audit_report_set(w->rep, AUDIT_E_FORMAT, expect, "%s:%" PRIu64 ": line longer than %u bytes",
                                        w->path, w->lr.line, AUDIT_LINE_MAX);
        *ret_end = r == 0;
        if (r <= 0)
                return r;
        if (w->lr.size == 0)
                return 0; /* an empty line */
        if (export_line_parse(&w->lr, &j, &seq, &entry, &size) < 0)
                return audit_report_set(w->rep, AUDIT_E_FORMAT, expect, "%s:%" PRIu64 ": not an export line", w->path,
                                        w->lr.line);
        r = export_check_entry(w, expect, seq, entry, size);
        if (r == 0)
                r = merkle_leaf_hash(entry, size, leaf);
        if (r == 0)
                r = export_check_leaf(w, j, seq, leaf);
        if (r == 0)
                w->rep->entries++;
        return r;
}

/* Past the last line, at `end`: all entries there, the checkpoint's root reproduced or proven. */
static int export_check_end(ExportWalk *w, uint64_t end)
{
        const ExportHeader *h = &w->h;
        uint8_t root[MERKLE_HASH_LEN];
        int r;

        if (end != h->end)
                return audit_report_set(w->rep, AUDIT_E_TRUNCATED, end,
                                        "export ends at %" PRIu64 " but its header says %" PRIu64
                                        ": the file was truncated",
                                        end, h->end);
        if (h->start != 0 || h->end == 0)
                return 0;
        r = merkle_appender_root(&w->a, root);
        if (r < 0)
                return r;
        if (h->end == h->cp->size) {
                if (memcmp(root, h->cp->root, MERKLE_HASH_LEN) != 0)
                        return audit_report_set(w->rep, AUDIT_E_CHECKPOINT, UINT64_MAX,
                                                "the %" PRIu64 " entries of %s do not reproduce its checkpoint's root: "
                                                "they were changed",
                                                h->end, w->path);
                return 0;
        }
        if (!h->has_consistency)
                return audit_report_set(w->rep, AUDIT_E_TRUNCATED, h->end,
                                        "export ends at %" PRIu64 " but the checkpoint covers %" PRIu64 ": truncated",
                                        h->end, h->cp->size);
        r = merkle_verify_consistency(h->end, h->cp->size, root, h->cp->root, (const uint8_t(*)[32])h->consistency,
                                      h->consistency_len);
        if (r > 0)
                return audit_report_set(w->rep, AUDIT_E_PROOF, UINT64_MAX,
                                        "the consistency proof from %" PRIu64 " to the checkpoint's %" PRIu64
                                        " entries does not verify (%s): the entries were changed",
                                        h->end, h->cp->size, merkle_strerror(r));
        return r;
}

/* The held checkpoints this export could not meet: covering more than it, or more than it holds from 0. */
static int export_check_unmet(ExportWalk *w)
{
        for (; w->next_target < w->n_targets; w->next_target++) {
                const AuditTarget *t = &w->targets[w->next_target];
                if (t->size == w->h.cp->size)
                        continue; /* same size, same root: checked when opening */
                if (t->size > w->h.cp->size)
                        return audit_report_set(w->rep, AUDIT_E_TRUNCATED, w->h.cp->size,
                                                "%s covers %" PRIu64 " entries but the checkpoint of %s only %" PRIu64
                                                ": the log was truncated",
                                                t->label, t->size, w->path, w->h.cp->size);
                if (w->h.start != 0 || t->size > w->h.end)
                        return audit_report_set(w->rep, AUDIT_E_UNCHECKED, UINT64_MAX,
                                                "%s cannot be checked against %s: export entries 0..%" PRIu64
                                                " at least",
                                                w->path, t->label, t->size - 1);
        }
        return 0;
}

static int verify_export_one(const char *path, const AuditExportOptions *o, const AuditTarget *targets,
                             size_t n_targets, const char *earlier, AuditReport *rep, Checkpoint **ret_cp)
{
        ExportWalk w = { .path = path, .targets = targets, .n_targets = n_targets, .rep = rep, .earlier = earlier };
        uint64_t expect;
        bool end = false;
        int r;

        r = export_open(&w, o->verifier);
        for (expect = w.h.start; r == 0; expect++) {
                r = export_next(&w, expect, &end);
                if (end)
                        break;
        }
        if (r == 0)
                r = export_check_end(&w, expect);
        if (r == 0)
                r = export_check_unmet(&w);
        if (r == 0 && ret_cp)
                *ret_cp = TAKE_PTR(w.h.cp);
        json_decref(w.e.j);
        export_header_done(&w.h);
        line_reader_close(&w.lr);
        line_reader_close(&w.e.lr);
        return r;
}

int audit_verify_export(const char *path, const AuditExportOptions *o, AuditReport *rep)
{
        AuditTarget targets[AUDIT_HELD_MAX + 1];
        size_t n;
        int r;

        audit_report_init(rep);
        if (!o || !o->verifier || !path)
                return -EINVAL;
        r = audit_targets_from_held(o->held, o->n_held, targets, rep);
        if (r)
                return r;
        n = o->n_held;
        if (o->earlier) {
                _cleanup_(checkpoint_freep) Checkpoint *ecp = NULL;
                AuditReport erep;

                audit_report_init(&erep);
                r = verify_export_one(o->earlier, o, targets, n, NULL, &erep, &ecp);
                if (r != 0) {
                        audit_report_set(rep, r > 0 ? r : AUDIT_E_FORMAT, erep.bad_seq, "the earlier export %s: %s",
                                         o->earlier, erep.reason ? erep.reason : strerror(-r));
                        audit_report_done(&erep);
                        return r;
                }
                audit_report_done(&erep);
                targets[n].size = ecp->size;
                memcpy(targets[n].root, ecp->root, MERKLE_HASH_LEN);
                snprintf(targets[n].label, sizeof(targets[n].label),
                         "the earlier export's checkpoint (size %" PRIu64 ")", ecp->size);
                n++;
                qsort(targets, n, sizeof(*targets), audit_target_cmp);
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

/* A receipt of a group commit (log/batch-receipt.h): its head signed by the node's key for the checkpoint's log, and
 * its entry, under the head's root by its path, the bundle's entry byte for byte. */
static int bundle_check_batch_receipt(const JwsVerifier *v, const char *receipt, const char *entry, size_t entry_size,
                                      const char *origin, uint64_t seq, AuditReport *rep)
{
        _cleanup_(batch_receipt_freep) BatchReceipt *b = NULL;
        int r;

        r = batch_receipt_parse(receipt, strlen(receipt), &b);
        if (r == 0)
                r = batch_receipt_verify(v, b, origin, NULL, NULL);
        if (r < 0)
                return r;
        if (r == BATCH_RECEIPT_E_SIGNATURE)
                return audit_report_set(rep, AUDIT_E_RECEIPT, seq,
                                        "the receipt's tree head is not signed by the node's key");
        if (r > 0)
                return audit_report_set(rep, AUDIT_E_RECEIPT, seq, "the receipt is not valid (%s)",
                                        batch_receipt_strerror(r));
        if (b->entry_len != entry_size || memcmp(b->entry, entry, entry_size) != 0)
                return audit_report_set(rep, AUDIT_E_RECEIPT, seq,
                                        "the receipt's entry is not the bundle's entry %" PRIu64, seq);
        return 0;
}

static int bundle_check_receipt(const char *jws, const json_t *entry, uint64_t seq, const AuditBundleOptions *o,
                                AuditReport *rep, const char *entry_bytes, size_t entry_size, const char *origin)
{
        static const char *const fields[] = { "time",         "xroad_id",           "client",    "service",
                                              "request_hash", "response_hash",      "subject",   "purpose",
                                              "basis",        "xroad_request_hash", "request_id" };
        _cleanup_(jws_verifier_freep) JwsVerifier *v = NULL;
        _cleanup_(json_decrefp) json_t *header = NULL, *payload = NULL;
        const char *typ;
        json_t *pseq;
        int r;

        r = jws_verifier_new(&v, o->receipt_jwk);
        if (r < 0)
                return r;
        if (r > 0)
                return audit_report_set(rep, AUDIT_E_UNCHECKED, seq, "the node's receipt key is not usable (%s)",
                                        jws_strerror(r));
        if (batch_receipt_is(jws, strlen(jws)))
                return bundle_check_batch_receipt(v, jws, entry_bytes, entry_size, origin, seq, rep);
        r = jws_verify_compact(v, jws, strlen(jws), &header, &payload);
        if (r < 0)
                return r;
        if (r > 0)
                return audit_report_set(rep, AUDIT_E_RECEIPT, seq, "the receipt is not signed by the node's key (%s)",
                                        jws_strerror(r));
        typ = json_string_value(json_object_get(header, "typ"));
        if (!typ || !streq(typ, RECEIPT_TYP))
                return audit_report_set(rep, AUDIT_E_RECEIPT, seq,
                                        "signed by the node, but not a receipt (typ \"%.40s\")", strempty(typ));
        pseq = json_object_get(payload, "seq");
        if (!json_is_integer(pseq) || json_integer_value(pseq) < 0 || (uint64_t)json_integer_value(pseq) != seq)
                return audit_report_set(rep, AUDIT_E_RECEIPT, seq,
                                        "the receipt is for log entry %" JSON_INTEGER_FORMAT ", not entry %" PRIu64,
                                        json_integer_value(pseq), seq);
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                const char *have = field_str(payload, fields[i]), *want = field_str(entry, fields[i]);
                if (!have != !want || (have && !streq(have, want)))
                        return audit_report_set(rep, AUDIT_E_RECEIPT, seq,
                                                "the receipt's %s does not match the entry's (\"%.80s\" vs \"%.80s\")",
                                                fields[i], strempty(have), strempty(want));
        }
        return 0;
}

int audit_verify_bundle(const char *json, size_t size, const AuditBundleOptions *o, AuditReport *rep)
{
        _cleanup_(json_decrefp) json_t *b = NULL, *entry_j = NULL;
        _cleanup_(checkpoint_freep) Checkpoint *cp = NULL;
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
                return audit_report_set(rep, AUDIT_E_FORMAT, UINT64_MAX, "the bundle is larger than %u bytes",
                                        AUDIT_BUNDLE_MAX);
        b = json_loadb(json, size, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(b) || json_integer_value(json_object_get(b, "xbus_proof")) != 1 ||
            !json_u64(json_object_get(b, "seq"), &seq) || !json_is_string(json_object_get(b, "entry")) ||
            !json_is_string(json_object_get(b, "checkpoint")))
                return audit_report_set(rep, AUDIT_E_FORMAT, UINT64_MAX, "not an xbus proof bundle (version 1)");
        entry = json_string_value(json_object_get(b, "entry"));
        entry_size = json_string_length(json_object_get(b, "entry"));
        note = json_string_value(json_object_get(b, "checkpoint"));
        jr = json_object_get(b, "receipt");
        if (jr && !json_is_null(jr)) {
                if (!json_is_string(jr))
                        return audit_report_set(rep, AUDIT_E_FORMAT, seq, "the bundle's receipt is not a string");
                receipt = json_string_value(jr);
        }
        if (json_object_get(b, "tree_size") && !json_u64(json_object_get(b, "tree_size"), &tree_size))
                return audit_report_set(rep, AUDIT_E_FORMAT, seq, "the bundle's tree_size is not a number");
        if (audit_proof_parse(json_object_get(b, "inclusion_proof"), proof, &plen) < 0)
                return audit_report_set(rep, AUDIT_E_FORMAT, seq, "the inclusion proof is not a list of base64 hashes");

        r = checkpoint_open(note, json_string_length(json_object_get(b, "checkpoint")), o->verifier, NULL, &cp);
        if (r < 0)
                return r;
        if (r == CHECKPOINT_E_UNSIGNED || r == CHECKPOINT_E_SIGNATURE)
                return audit_report_set(rep, AUDIT_E_CHECKPOINT, seq, "checkpoint signature invalid for key %s (%s)",
                                        checkpoint_verifier_name(o->verifier), checkpoint_strerror(r));
        if (r > 0)
                return audit_report_set(rep, AUDIT_E_CHECKPOINT, seq, "the bundle's checkpoint is not valid (%s)",
                                        checkpoint_strerror(r));
        rep->checkpoints = 1;
        if (tree_size && tree_size != cp->size)
                return audit_report_set(rep, AUDIT_E_PROOF, seq,
                                        "the proof is for a tree of %" PRIu64
                                        " entries but the checkpoint is of %" PRIu64,
                                        tree_size, cp->size);
        if (seq >= cp->size)
                return audit_report_set(rep, AUDIT_E_PROOF, seq,
                                        "entry %" PRIu64 " is not covered by the checkpoint (%" PRIu64 " entries)", seq,
                                        cp->size);
        if (audit_entry_parse_prefix(entry, entry_size, &fseq, NULL, NULL) < 0)
                return audit_report_set(rep, AUDIT_E_ENTRY, seq, "entry %" PRIu64 ": not a well-formed log entry", seq);
        if (fseq != seq)
                return audit_report_set(rep, AUDIT_E_ENTRY, seq, "entry %" PRIu64 ": its bytes say seq %" PRIu64, seq,
                                        fseq);
        r = merkle_leaf_hash(entry, entry_size, leaf);
        if (r < 0)
                return r;
        r = merkle_verify_inclusion(leaf, seq, cp->size, (const uint8_t(*)[32])proof, plen, cp->root);
        if (r < 0)
                return r;
        if (r > 0)
                return audit_report_set(rep, AUDIT_E_PROOF, seq,
                                        "entry %" PRIu64 ": leaf hash does not match the proof (%s)", seq,
                                        merkle_strerror(r));
        rep->entries = 1;

        if (!receipt) {
                if (o->require_receipt)
                        return audit_report_set(rep, AUDIT_E_RECEIPT, seq, "the bundle holds no receipt");
                return 0;
        }
        if (!o->receipt_jwk)
                return audit_report_set(rep, AUDIT_E_UNCHECKED, seq,
                                        "the bundle holds a receipt but no node receipt key (signing.jwk) was given");
        entry_j = json_loadb(entry, entry_size, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(entry_j))
                return audit_report_set(rep, AUDIT_E_ENTRY, seq, "entry %" PRIu64 ": not a JSON object", seq);
        return bundle_check_receipt(receipt, entry_j, seq, o, rep, entry, entry_size, cp->origin);
}
