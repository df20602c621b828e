/* audit-verify-internal.h: what the pieces of audit-verify share (audit-verify.c, -store.c, -export.c)
 *
 * audit-verify.c holds the formats and the helpers below; audit-verify-store.c
 * verifies a log store, audit-verify-export.c exports and proof bundles.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "audit/audit-verify.h"
#include "log/merkle.h"
#include "util/macro.h"

/*
 * audit_report_set(): record the problem in rep (a malloc'd reason from
 * fmt, and the entry it is about, or UINT64_MAX) unless one is recorded
 * already: the first problem wins. Return: `code`.
 */
int audit_report_set(AuditReport *rep, int code, uint64_t seq, const char *fmt, ...) _printf_(4, 5);

/* A checkpoint to meet while streaming entries: its size and root, and how to name it in a reason. */
typedef struct AuditTarget {
        uint64_t size;
        uint8_t root[MERKLE_HASH_LEN];
        char label[96];
} AuditTarget;

/* audit_target_cmp(): qsort() order of targets, by size. */
int audit_target_cmp(const void *a, const void *b);

/*
 * audit_targets_from_held(): copy the held checkpoints into out (room for
 * n) and sort them. Return: 0, AUDIT_E_FORMAT (more than AUDIT_HELD_MAX).
 */
int audit_targets_from_held(const Checkpoint *const *held, size_t n, AuditTarget *out, AuditReport *rep);

/*
 * audit_targets_meet(): the tree `a` just grew; compare its root with the
 * targets of its size, from *next on (targets sorted), and move *next past
 * the targets it has passed, counting each one met in rep->checkpoints.
 * Return: 0, -errno, or 1 with *ret_missed the target whose root differs.
 */
int audit_targets_meet(const AuditTarget *targets, size_t n, size_t *next, const MerkleAppender *a, AuditReport *rep,
                       const AuditTarget **ret_missed);
