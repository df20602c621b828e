/* test-audit-verify.c: store, export and bundle verification find each kind of damage and name it */
#include <assert.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit-verify.h"
#include "crypto/receipt.h"
#include "crypto/signer.h"
#include "tests/support/test-audit-util.h"
#include "util/macro.h"
#include "util/time-util.h"

static unsigned passed;

#define CHECK(cond)                                                                              \
        do {                                                                                     \
                if (!(cond)) {                                                                   \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
                        abort();                                                                 \
                }                                                                                \
                passed++;                                                                        \
        } while (0)

static CheckpointSigner *signer;
static CheckpointVerifier *verifier, *other_verifier;

static int store(const char *dir, const Checkpoint *const *held, size_t n_held, AuditReport *rep)
{
        AuditStoreOptions o = { .verifier = verifier, .held = held, .n_held = n_held };
        int r = audit_verify_store(dir, &o, rep);

        printf("  store %s: %d %s\n", dir, r, rep->reason ? rep->reason : "OK");
        return r;
}

/* Write an export of [start, end) proven against the checkpoint of size cp_size (0: latest). */
static void export_write(const char *dir, uint64_t start, uint64_t end, uint64_t cp_size, bool consistency,
                         const char *path)
{
        ExlogReader *r;
        char *note = NULL;
        uint64_t csize;
        uint8_t proof[MERKLE_PROOF_MAX][32];
        size_t plen = 0;
        FILE *f = fopen(path, "we");

        assert(f);
        assert(exlog_reader_open(&r, dir) == 0);
        assert(exlog_reader_checkpoint(r, cp_size, &note, &csize) == 0);
        if (consistency && end < csize)
                assert(exlog_reader_consistency_proof(r, end, csize, proof, &plen) == 0);
        assert(audit_export_write_header(f, "test.log", start, end, note,
                                         consistency && end < csize ? (const uint8_t(*)[32])proof : NULL, plen) == 0);
        for (uint64_t s = start; s < end; s++) {
                char *e;
                size_t n;
                assert(exlog_reader_get(r, s, &e, &n) == 0);
                if (start > 0)
                        assert(exlog_reader_inclusion_proof(r, s, csize, proof, &plen) == 0);
                assert(audit_export_write_line(f, s, e, n, start > 0 ? (const uint8_t(*)[32])proof : NULL, plen) == 0);
                free(e);
        }
        free(note);
        exlog_reader_close(r);
        assert(fclose(f) == 0);
}

static int export_verify(const char *path, const char *earlier, const Checkpoint *const *held, size_t n_held,
                         const CheckpointVerifier *v, AuditReport *rep)
{
        AuditExportOptions o = { .verifier = v ? v : verifier, .earlier = earlier, .held = held, .n_held = n_held };
        int r = audit_verify_export(path, &o, rep);

        printf("  export %s: %d %s\n", path, r, rep->reason ? rep->reason : "OK");
        return r;
}

/* Rewrite line `lineno` (0 = header) of a file through `fn`. */
static void edit_line(const char *path, unsigned lineno, void (*fn)(char *line, void *ud), void *ud)
{
        char *buf = NULL, tmp[256];
        size_t cap = 0;
        ssize_t n;
        unsigned i = 0;
        FILE *in = fopen(path, "re"), *out;

        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        out = fopen(tmp, "we");
        assert(in && out);
        while ((n = getline(&buf, &cap, in)) > 0) {
                if (i++ == lineno) {
                        if (!fn)
                                continue; /* drop the line */
                        fn(buf, ud);
                }
                fputs(buf, out);
        }
        free(buf);
        fclose(in);
        assert(fclose(out) == 0);
        assert(rename(tmp, path) == 0);
}

static void flip_in_entry(char *line, void *ud)
{
        char *p = strstr(line, "duration_us");
        assert(p);
        p[strlen("duration_us") + 3] ^= 1;
}

static void break_proof(char *line, void *ud)
{
        char *p = strstr(line, "\"inclusion_proof\":[\"");
        assert(p);
        p += strlen("\"inclusion_proof\":[\"");
        *p = *p == 'A' ? 'B' : 'A';
}

static void test_helpers(void)
{
        uint64_t seq;
        const char *t;
        size_t tl;
        uint8_t h[32], back[32];
        char b[AUDIT_HASH_B64_LEN + 1];
        const char *good = "{\"v\":1,\"seq\":12,\"time\":\"2026-01-02T03:04:05.000006Z\",\"a\":1}";

        CHECK(audit_entry_parse_prefix(good, strlen(good), &seq, &t, &tl) == 0);
        CHECK(seq == 12 && tl == 27 && strneq(t, "2026-01-02T03:04:05.000006Z", tl));
        static const char *const bad[] = {
                "{\"v\":2,\"seq\":12,\"time\":\"x\"}", "{\"v\":1,\"seq\":012,\"time\":\"x\"}",
                "{\"v\":1,\"seq\":,\"time\":\"x\"}",   "{\"v\":1,\"seq\":1,\"time\":\"\"}",
                "{\"v\":1,\"seq\":1,\"time\":\"x\"",   "{\"v\":1,\"seq\":99999999999999999999,\"time\":\"x\"}",
                "{\"v\":1,\"seq\":1,\"tim\":\"x\"}",   "",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                CHECK(audit_entry_parse_prefix(bad[i], strlen(bad[i]), &seq, NULL, NULL) == -EBADMSG);

        for (int i = 0; i < 32; i++)
                h[i] = (uint8_t)(i * 7 + 3);
        audit_hash_b64(h, b);
        CHECK(strlen(b) == 44 && b[43] == '=');
        CHECK(audit_hash_from_b64(b, back) == 0 && memcmp(h, back, 32) == 0);
        b[42] = b[42] == 'A' ? 'B' : 'A'; /* non-canonical trailing bits, or another hash */
        CHECK(audit_hash_from_b64(b, back) < 0 || memcmp(h, back, 32) != 0);
        CHECK(audit_hash_from_b64("AAAA", back) == -EINVAL);
        CHECK(audit_hash_from_b64(NULL, back) == -EINVAL);
        {
                json_t *a = json_pack("[s,i]", b, 1);
                uint8_t p[MERKLE_PROOF_MAX][32];
                size_t n;
                CHECK(audit_proof_parse(a, p, &n) == -EINVAL);
                json_decref(a);
                a = json_array();
                for (int i = 0; i < MERKLE_PROOF_MAX + 1; i++)
                        json_array_append_new(a, json_string(audit_hash_b64(h, b)));
                CHECK(audit_proof_parse(a, p, &n) == -E2BIG);
                json_decref(a);
        }
        {
                char *vk = NULL, arg[600];
                CheckpointVerifier *v = NULL;
                char *reason = NULL;
                CHECK(checkpoint_verifier_vkey(verifier, &vk) == 0);
                CHECK(audit_verifier_load(vk, &v, &reason) == 0);
                v = checkpoint_verifier_free(v);
                snprintf(arg, sizeof(arg), "%s+", vk);
                CHECK(audit_verifier_load(arg, &v, &reason) == CHECKPOINT_E_KEY && reason);
                free(reason);
                reason = NULL;
                CHECK(audit_verifier_load("@/nonexistent/vkey", &v, &reason) == -ENOENT && reason);
                free(reason);
                free(vk);
        }
}

static void test_store(const char *dir)
{
        AuditReport rep;
        char copy[64];
        size_t n;
        char *e;

        printf("store verification\n");
        CHECK(store(dir, NULL, 0, &rep) == 0);
        CHECK(rep.entries == 100 && rep.checkpoints == 3 && !rep.reason);
        audit_report_done(&rep);

        /* the wrong key */
        {
                AuditStoreOptions o = { .verifier = other_verifier };
                CHECK(audit_verify_store(dir, &o, &rep) == AUDIT_E_CHECKPOINT);
                CHECK(t_contains(rep.reason, "signature invalid for key test.log"));
                audit_report_done(&rep);
        }
        /* no log there */
        CHECK(store("/nonexistent/log", NULL, 0, &rep) == -ENOENT);
        audit_report_done(&rep);

        /* one byte of entry 17 */
        strcpy(copy, "/tmp/test-audit-c-XXXXXX");
        t_copy(dir, copy);
        e = t_get(copy, 17, &n);
        e[n - 3] ^= 1;
        t_put_entry(copy, 17, e, n);
        free(e);
        CHECK(store(copy, NULL, 0, &rep) == AUDIT_E_ENTRY && rep.bad_seq == 17);
        CHECK(t_contains(rep.reason, "entry 17: its leaf hash does not match"));
        audit_report_done(&rep);
        t_rmrf(copy);

        /* a deleted entry */
        strcpy(copy, "/tmp/test-audit-c-XXXXXX");
        t_copy(dir, copy);
        t_del_entry(copy, 40);
        CHECK(store(copy, NULL, 0, &rep) == AUDIT_E_SEQUENCE && rep.bad_seq == 40);
        CHECK(t_contains(rep.reason, "entry 40 is missing"));
        audit_report_done(&rep);
        t_rmrf(copy);

        /* two entries swapped */
        strcpy(copy, "/tmp/test-audit-c-XXXXXX");
        t_copy(dir, copy);
        {
                size_t n2;
                char *e2;
                e = t_get(copy, 10, &n);
                e2 = t_get(copy, 60, &n2);
                t_put_entry(copy, 10, e2, n2);
                t_put_entry(copy, 60, e, n);
                free(e);
                free(e2);
        }
        CHECK(store(copy, NULL, 0, &rep) == AUDIT_E_ENTRY && rep.bad_seq == 10);
        CHECK(t_contains(rep.reason, "entry 10: it holds the bytes of entry 60"));
        audit_report_done(&rep);
        t_rmrf(copy);

        /* the tail cut, checkpoints left: the last checkpoint covers more */
        strcpy(copy, "/tmp/test-audit-c-XXXXXX");
        t_copy(dir, copy);
        for (uint64_t s = 95; s < 100; s++)
                t_del_entry(copy, s);
        CHECK(store(copy, NULL, 0, &rep) == AUDIT_E_TRUNCATED && rep.bad_seq == 95);
        CHECK(t_contains(rep.reason, "the log holds 95 entries but the stored checkpoint of size 100"));
        audit_report_done(&rep);
        /* ... and the checkpoint removed too: the stored tree still has the leaves */
        {
                uint8_t k[8];
                be64_put(k, 100);
                t_raw(copy, "checkpoints", k, 8, NULL, 0);
        }
        CHECK(store(copy, NULL, 0, &rep) == AUDIT_E_TRUNCATED);
        CHECK(t_contains(rep.reason, "the stored tree has a leaf for entry 95"));
        audit_report_done(&rep);
        /* ... and the tree nodes too (a clean cut): only a checkpoint held from earlier shows it */
        for (uint64_t s = 95; s < 100; s++)
                t_del_node(copy, 0, s);
        t_del_node(copy, 1, 48);
        t_del_node(copy, 1, 49);
        t_del_node(copy, 2, 24);
        CHECK(store(copy, NULL, 0, &rep) == 0);
        audit_report_done(&rep);
        {
                ExlogReader *r;
                char *note;
                uint64_t cs;
                Checkpoint *held = NULL;
                assert(exlog_reader_open(&r, dir) == 0);
                assert(exlog_reader_checkpoint(r, 0, &note, &cs) == 0 && cs == 100);
                CHECK(checkpoint_open(note, strlen(note), verifier, "test.log", &held) == 0);
                CHECK(store(copy, (const Checkpoint *const *)&held, 1, &rep) == AUDIT_E_TRUNCATED);
                CHECK(t_contains(rep.reason, "the log holds 95 entries but the checkpoint you held (size 100)"));
                audit_report_done(&rep);
                /* the intact log reproduces it */
                CHECK(store(dir, (const Checkpoint *const *)&held, 1, &rep) == 0 && rep.checkpoints == 4);
                audit_report_done(&rep);
                checkpoint_free(held);
                free(note);
                exlog_reader_close(r);
        }
        t_rmrf(copy);

        /* a tree node removed */
        strcpy(copy, "/tmp/test-audit-c-XXXXXX");
        t_copy(dir, copy);
        t_del_node(copy, 1, 3);
        CHECK(store(copy, NULL, 0, &rep) == AUDIT_E_TREE && rep.bad_seq == 7);
        CHECK(t_contains(rep.reason, "no node (level 1, index 3)"));
        audit_report_done(&rep);
        t_rmrf(copy);

        /* a tree node changed */
        strcpy(copy, "/tmp/test-audit-c-XXXXXX");
        t_copy(dir, copy);
        {
                uint8_t k[9], h[32] = { 1 };
                k[0] = 2;
                be64_put(k + 1, 5);
                t_raw(copy, "tree", k, 9, h, 32);
        }
        CHECK(store(copy, NULL, 0, &rep) == AUDIT_E_TREE && rep.bad_seq == 20);
        CHECK(t_contains(rep.reason, "node (level 2, index 5) over entries 20..23 does not match"));
        audit_report_done(&rep);
        t_rmrf(copy);

        /* a checkpoint whose root is not the entries' (another log, same key, same size) */
        {
                char other[] = "/tmp/test-audit-o-XXXXXX";
                uint64_t sizes[] = { 50 };
                ExlogReader *r;
                char *note;
                uint64_t cs;
                uint8_t k[8];
                assert(mkdtemp(other));
                t_make_log(other, signer, sizes, 1, NULL);
                /* different bodies: append a second batch with another base */
                {
                        ExchangeLog *log;
                        assert(exlog_open(&log, other,
                                          &(ExlogOptions){ .checkpoints = signer,
                                                           .checkpoint_interval_ms = 3600000,
                                                           .map_size = (size_t)64 << 20 }) == 0);
                        t_append(log, 1000, 30, NULL);
                        exlog_close(log);
                }
                {
                        const uint64_t keep[] = { 50, 80 };
                        t_keep_checkpoints(other, keep, 2);
                }
                assert(exlog_reader_open(&r, other) == 0);
                assert(exlog_reader_checkpoint(r, 80, &note, &cs) == 0 && cs == 80);
                exlog_reader_close(r);
                strcpy(copy, "/tmp/test-audit-c-XXXXXX");
                t_copy(dir, copy);
                be64_put(k, 80);
                t_raw(copy, "checkpoints", k, 8, note, strlen(note));
                CHECK(store(copy, NULL, 0, &rep) == AUDIT_E_CHECKPOINT);
                CHECK(t_contains(rep.reason, "checkpoint of size 80") &&
                      t_contains(rep.reason, "its root is not the root of entries 0..79"));
                audit_report_done(&rep);
                /* a note by another key stored in its place */
                {
                        CheckpointSigner *s2 = t_signer("test.log");
                        uint8_t root[32] = { 0 };
                        char *forged;
                        assert(checkpoint_sign(s2, "test.log", 80, root, NULL, 0, &forged) == 0);
                        t_raw(copy, "checkpoints", k, 8, forged, strlen(forged));
                        CHECK(store(copy, NULL, 0, &rep) == AUDIT_E_CHECKPOINT);
                        CHECK(t_contains(rep.reason, "signature invalid for key test.log"));
                        audit_report_done(&rep);
                        free(forged);
                        checkpoint_signer_free(s2);
                }
                free(note);
                t_rmrf(copy);
                t_rmrf(other);
        }
}

static void test_export(const char *dir)
{
        char path[128], p2[128], copy[64];
        AuditReport rep;
        Checkpoint *cp80 = NULL;

        printf("export verification\n");
        snprintf(path, sizeof(path), "%s.export.jsonl", dir);
        snprintf(p2, sizeof(p2), "%s.export2.jsonl", dir);

        export_write(dir, 0, 100, 0, false, path);
        CHECK(export_verify(path, NULL, NULL, 0, NULL, &rep) == 0 && rep.entries == 100);
        audit_report_done(&rep);
        CHECK(export_verify(path, NULL, NULL, 0, other_verifier, &rep) == AUDIT_E_CHECKPOINT);
        CHECK(t_contains(rep.reason, "checkpoint signature invalid for key test.log"));
        audit_report_done(&rep);

        /* a prefix with the consistency proof to the checkpoint; without it, a truncation */
        export_write(dir, 0, 80, 0, true, p2);
        CHECK(export_verify(p2, NULL, NULL, 0, NULL, &rep) == 0 && rep.entries == 80);
        audit_report_done(&rep);
        export_write(dir, 0, 80, 0, false, p2);
        CHECK(export_verify(p2, NULL, NULL, 0, NULL, &rep) == AUDIT_E_TRUNCATED);
        CHECK(t_contains(rep.reason, "export ends at 80 but the checkpoint covers 100: truncated"));
        audit_report_done(&rep);

        /* a middle range with inclusion proofs; one proof damaged */
        export_write(dir, 30, 60, 80, false, p2);
        CHECK(export_verify(p2, NULL, NULL, 0, NULL, &rep) == 0 && rep.entries == 30);
        audit_report_done(&rep);
        edit_line(p2, 16, break_proof, NULL); /* entry 45 */
        CHECK(export_verify(p2, NULL, NULL, 0, NULL, &rep) == AUDIT_E_PROOF && rep.bad_seq == 45);
        CHECK(t_contains(rep.reason, "entry 45: leaf hash does not match the proof"));
        audit_report_done(&rep);

        /* a line dropped: the file ends early, or has a hole */
        export_write(dir, 0, 100, 0, false, p2);
        edit_line(p2, 100, NULL, NULL);
        CHECK(export_verify(p2, NULL, NULL, 0, NULL, &rep) == AUDIT_E_TRUNCATED);
        CHECK(t_contains(rep.reason, "export ends at 99 but its header says 100"));
        audit_report_done(&rep);
        export_write(dir, 0, 100, 0, false, p2);
        edit_line(p2, 51, NULL, NULL);
        CHECK(export_verify(p2, NULL, NULL, 0, NULL, &rep) == AUDIT_E_SEQUENCE && rep.bad_seq == 50);
        audit_report_done(&rep);
        /* an entry changed in the file */
        export_write(dir, 0, 100, 0, false, p2);
        edit_line(p2, 18, flip_in_entry, NULL);
        CHECK(export_verify(p2, NULL, NULL, 0, NULL, &rep) == AUDIT_E_CHECKPOINT);
        CHECK(t_contains(rep.reason, "do not reproduce its checkpoint's root"));
        audit_report_done(&rep);
        /* ... which an earlier export names */
        CHECK(export_verify(p2, path, NULL, 0, NULL, &rep) == AUDIT_E_ENTRY && rep.bad_seq == 17);
        CHECK(t_contains(rep.reason, "entry 17 differs from the earlier export"));
        audit_report_done(&rep);
        /* not an export */
        {
                FILE *f = fopen(p2, "we");
                fputs("{\"hello\":1}\n", f);
                fclose(f);
                CHECK(export_verify(p2, NULL, NULL, 0, NULL, &rep) == AUDIT_E_FORMAT);
                audit_report_done(&rep);
                f = fopen(p2, "we");
                fclose(f);
                CHECK(export_verify(p2, NULL, NULL, 0, NULL, &rep) == AUDIT_E_FORMAT);
                audit_report_done(&rep);
        }

        /* the log damaged after the earlier export: a new export shows it, the earlier one names it */
        strcpy(copy, "/tmp/test-audit-c-XXXXXX");
        t_copy(dir, copy);
        {
                size_t n;
                char *e = t_get(copy, 33, &n);
                e[n - 3] ^= 1;
                t_put_entry(copy, 33, e, n);
                free(e);
        }
        export_write(copy, 0, 100, 0, false, p2);
        CHECK(export_verify(p2, NULL, NULL, 0, NULL, &rep) == AUDIT_E_CHECKPOINT);
        audit_report_done(&rep);
        CHECK(export_verify(p2, path, NULL, 0, NULL, &rep) == AUDIT_E_ENTRY && rep.bad_seq == 33);
        audit_report_done(&rep);
        t_rmrf(copy);

        /* a clean cut back to 80 (entries, tree, checkpoints): self-consistent, but not with what was held
         */
        strcpy(copy, "/tmp/test-audit-c-XXXXXX");
        t_copy(dir, copy);
        {
                uint8_t k[8];
                for (uint64_t s = 80; s < 100; s++) {
                        t_del_entry(copy, s);
                        t_del_node(copy, 0, s);
                }
                for (uint64_t i = 40; i < 50; i++)
                        t_del_node(copy, 1, i);
                for (uint64_t i = 20; i < 25; i++)
                        t_del_node(copy, 2, i);
                t_del_node(copy, 3, 10);
                t_del_node(copy, 3, 11);
                be64_put(k, 100);
                t_raw(copy, "checkpoints", k, 8, NULL, 0);
        }
        CHECK(store(copy, NULL, 0, &rep) == 0);
        audit_report_done(&rep);
        export_write(copy, 0, 80, 0, false, p2);
        CHECK(export_verify(p2, NULL, NULL, 0, NULL, &rep) == 0);
        audit_report_done(&rep);
        CHECK(export_verify(p2, path, NULL, 0, NULL, &rep) == AUDIT_E_TRUNCATED);
        CHECK(t_contains(rep.reason, "covers 100 entries but the checkpoint of"));
        audit_report_done(&rep);
        t_rmrf(copy);

        /* a held checkpoint the export reproduces, and one it cannot reach */
        {
                ExlogReader *r;
                char *note;
                uint64_t cs;
                assert(exlog_reader_open(&r, dir) == 0);
                assert(exlog_reader_checkpoint(r, 80, &note, &cs) == 0 && cs == 80);
                exlog_reader_close(r);
                CHECK(checkpoint_open(note, strlen(note), verifier, NULL, &cp80) == 0);
                free(note);
        }
        CHECK(export_verify(path, NULL, (const Checkpoint *const *)&cp80, 1, NULL, &rep) == 0 && rep.checkpoints == 2);
        audit_report_done(&rep);
        export_write(dir, 0, 50, 0, true, p2);
        CHECK(export_verify(p2, NULL, (const Checkpoint *const *)&cp80, 1, NULL, &rep) == AUDIT_E_UNCHECKED);
        audit_report_done(&rep);
        checkpoint_free(cp80);
        unlink(path);
        unlink(p2);
}

/* A receipt for entry `seq` as the node would sign it, with one field optionally replaced. */
static char *make_receipt(const Signer *s, const char *entry, uint64_t seq, const char *field, const char *value)
{
        json_t *e = json_loads(entry, 0, NULL);
        char *jws = NULL;
        Receipt rc = {
                .seq = seq,
                .time = json_string_value(json_object_get(e, "time")),
                .xroad_id = json_string_value(json_object_get(e, "xroad_id")),
                .client = json_string_value(json_object_get(e, "client")),
                .service = json_string_value(json_object_get(e, "service")),
                .request_hash = json_string_value(json_object_get(e, "request_hash")),
                .response_hash = json_string_value(json_object_get(e, "response_hash")),
                .subject = json_string_value(json_object_get(e, "subject")),
                .purpose = json_string_value(json_object_get(e, "purpose")),
                .basis = json_string_value(json_object_get(e, "basis")),
        };
        if (field && streq(field, "response_hash"))
                rc.response_hash = value;
        if (field && streq(field, "seq"))
                rc.seq = seq + 1;
        if (field && streq(field, "subject"))
                rc.subject = value;
        assert(receipt_sign(s, &rc, &jws) == 0);
        json_decref(e);
        return jws;
}

static int bundle_check(json_t *b, const json_t *jwk, const CheckpointVerifier *v, AuditReport *rep)
{
        char *s = json_dumps(b, JSON_COMPACT);
        AuditBundleOptions o = { .verifier = v ? v : verifier, .receipt_jwk = jwk };
        int r = audit_verify_bundle(s, strlen(s), &o, rep);

        printf("  bundle: %d %s\n", r, rep->reason ? rep->reason : "OK");
        free(s);
        return r;
}

static void test_bundle(const char *dir)
{
        Signer *node_key = NULL, *other_key = NULL;
        EVP_PKEY *pk;
        json_t *jwk, *b;
        ExlogReader *r;
        char *entry, *note, *rc;
        uint64_t cs, seq = 40;
        size_t n, plen;
        uint8_t proof[MERKLE_PROOF_MAX][32];
        AuditReport rep;

        printf("bundle verification\n");
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        assert(pk && signer_new(&node_key, pk) == 0);
        EVP_PKEY_free(pk);
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        assert(pk && signer_new(&other_key, pk) == 0);
        EVP_PKEY_free(pk);
        jwk = signer_public_jwk(node_key);

        assert(exlog_reader_open(&r, dir) == 0);
        assert(exlog_reader_get(r, seq, &entry, &n) == 0);
        assert(exlog_reader_checkpoint(r, 0, &note, &cs) == 0 && cs == 100);
        assert(exlog_reader_inclusion_proof(r, seq, cs, proof, &plen) == 0);
        exlog_reader_close(r);

        rc = make_receipt(node_key, entry, seq, NULL, NULL);
        b = audit_bundle_new(seq, entry, n, cs, (const uint8_t(*)[32])proof, plen, note, rc);
        CHECK(bundle_check(b, jwk, NULL, &rep) == 0 && rep.entries == 1);
        audit_report_done(&rep);
        /* a receipt and no key to check it */
        CHECK(bundle_check(b, NULL, NULL, &rep) == AUDIT_E_UNCHECKED);
        audit_report_done(&rep);
        /* the wrong checkpoint key */
        CHECK(bundle_check(b, jwk, other_verifier, &rep) == AUDIT_E_CHECKPOINT);
        CHECK(t_contains(rep.reason, "checkpoint signature invalid for key test.log"));
        audit_report_done(&rep);
        json_decref(b);

        /* the entry changed */
        {
                char *e2 = strdup(entry);
                e2[n - 3] ^= 1;
                b = audit_bundle_new(seq, e2, n, cs, (const uint8_t(*)[32])proof, plen, note, NULL);
                CHECK(bundle_check(b, jwk, NULL, &rep) == AUDIT_E_PROOF);
                CHECK(t_contains(rep.reason, "entry 40: leaf hash does not match the proof"));
                audit_report_done(&rep);
                json_decref(b);
                free(e2);
        }
        /* claimed for another seq */
        b = audit_bundle_new(seq + 1, entry, n, cs, (const uint8_t(*)[32])proof, plen, note, NULL);
        CHECK(bundle_check(b, jwk, NULL, &rep) == AUDIT_E_ENTRY);
        CHECK(t_contains(rep.reason, "its bytes say seq 40"));
        audit_report_done(&rep);
        json_decref(b);
        /* a proof hash changed */
        proof[2][5] ^= 0x10;
        b = audit_bundle_new(seq, entry, n, cs, (const uint8_t(*)[32])proof, plen, note, NULL);
        CHECK(bundle_check(b, jwk, NULL, &rep) == AUDIT_E_PROOF);
        audit_report_done(&rep);
        json_decref(b);
        proof[2][5] ^= 0x10;
        /* a proof of the wrong length */
        b = audit_bundle_new(seq, entry, n, cs, (const uint8_t(*)[32])proof, plen - 1, note, NULL);
        CHECK(bundle_check(b, jwk, NULL, &rep) == AUDIT_E_PROOF);
        audit_report_done(&rep);
        json_decref(b);
        /* tree size not the checkpoint's */
        b = audit_bundle_new(seq, entry, n, cs - 1, (const uint8_t(*)[32])proof, plen, note, NULL);
        CHECK(bundle_check(b, jwk, NULL, &rep) == AUDIT_E_PROOF);
        audit_report_done(&rep);
        json_decref(b);
        /* receipts that are not this entry's, or not the node's */
        {
                struct {
                        const Signer *s;
                        const char *field, *value, *want;
                } cases[] = {
                        { node_key, "response_hash", "00", "the receipt's response_hash does not match" },
                        { node_key, "seq", NULL, "the receipt is for log entry 41, not entry 40" },
                        { node_key, "subject", "ff", "the receipt's subject does not match" },
                        { other_key, NULL, NULL, "the receipt is not signed by the node's key" },
                };
                for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                        char *bad = make_receipt(cases[i].s, entry, seq, cases[i].field, cases[i].value);
                        b = audit_bundle_new(seq, entry, n, cs, (const uint8_t(*)[32])proof, plen, note, bad);
                        CHECK(bundle_check(b, jwk, NULL, &rep) == AUDIT_E_RECEIPT);
                        CHECK(t_contains(rep.reason, cases[i].want));
                        audit_report_done(&rep);
                        json_decref(b);
                        free(bad);
                }
        }
        /* not a bundle */
        {
                AuditBundleOptions o = { .verifier = verifier };
                CHECK(audit_verify_bundle("[]", 2, &o, &rep) == AUDIT_E_FORMAT);
                audit_report_done(&rep);
                CHECK(audit_verify_bundle("{\"xbus_proof\":1}", 16, &o, &rep) == AUDIT_E_FORMAT);
                audit_report_done(&rep);
        }
        free(rc);
        free(entry);
        free(note);
        json_decref(jwk);
        signer_free(node_key);
        signer_free(other_key);
}

int main(void)
{
        setvbuf(stdout, NULL, _IOLBF, 0);
        char dir[] = "/tmp/test-audit-v-XXXXXX";
        const uint64_t sizes[] = { 50, 80, 100 };
        CheckpointSigner *s2;

        signer = t_signer("test.log");
        verifier = t_verifier(signer);
        s2 = t_signer("test.log");
        other_verifier = t_verifier(s2);
        checkpoint_signer_free(s2);

        assert(mkdtemp(dir));
        t_make_log(dir, signer, sizes, ELEMENTSOF(sizes), T_SUBJECT_A);

        test_helpers();
        test_store(dir);
        test_export(dir);
        test_bundle(dir);

        t_rmrf(dir);
        checkpoint_verifier_free(verifier);
        checkpoint_verifier_free(other_verifier);
        checkpoint_signer_free(signer);
        printf("%u checks passed\n", passed);
        return 0;
}
