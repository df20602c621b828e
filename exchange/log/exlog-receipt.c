/* exlog-receipt.c: one signed tree head per group commit, and each record's receipt under it (issue 14, lever 3)
 *
 * Why here, after the sync: the head says "the first N entries of this log
 * have this root", so it is signed only once the batch is durable; and the
 * writer alone knows the frontier before the batch, from which every path of
 * the batch is made without reading LMDB (merkle-batch.h). One ES256
 * signature per batch replaces one per exchange on the workers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log/batch-receipt.h"
#include "log/exlog-internal.h"
#include "log/merkle-batch.h"
#include "util/time-util.h"

int exlog_receipts_make(ExchangeLog *log, const MerkleAppender *before, MailboxItem *first, unsigned n)
{
        _cleanup_(merkle_batch_freep) MerkleBatch *b = NULL;
        _cleanup_free_ char *head = NULL;
        BatchHead h = {};
        MailboxItem *it;
        unsigned i;
        int r;

        r = merkle_batch_new(&b, before, (const uint8_t(*)[MERKLE_HASH_LEN])log->batch_leaves, n);
        if (r < 0)
                return r;
        /* the batch's tree is the one the writer stored: the same frontier */
        if (merkle_batch_size(b) != log->merkle.size)
                return -EIO;
        for (unsigned l = 0; l < MERKLE_MAX_LEVELS; l++)
                if ((log->merkle.size >> l & 1) &&
                    memcmp(merkle_batch_appender(b)->frontier[l], log->merkle.frontier[l], MERKLE_HASH_LEN) != 0)
                        return -EIO;

        strcpy(h.origin, log->receipt_origin); /* checkpoint_name_valid() at exlog_open(): it fits */
        h.size = merkle_batch_size(b);
        format_rfc3339(now_usec(CLOCK_REALTIME), h.time);
        r = merkle_batch_root(b, h.root);
        if (r < 0)
                return r;
        r = batch_receipt_head_sign(log->opts.receipt_signer, &h, &head);
        if (r < 0)
                return r;

        for (i = 0, it = first; i < n; i++, it = it->next) {
                ExlogRecord *rec = (ExlogRecord *)it;
                const BatchSpan *span = &log->batch_spans[i];
                uint8_t path[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
                size_t len;

                if (merkle_batch_path(b, rec->seq, path, &len) != 0 ||
                    batch_receipt_format(head, log->buf.data + span->offset, span->len,
                                         (const uint8_t(*)[MERKLE_HASH_LEN])path, len, &rec->batch_receipt) < 0)
                        rec->batch_receipt = NULL;
        }
        return 0;
}
