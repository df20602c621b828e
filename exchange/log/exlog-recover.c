/* exlog-recover.c: opening the exchange log: LMDB back to its last durable base, the segments replayed
 *
 * At open, before the writer starts:
 *   1. read every segment file, find the last BASE record (exlog-base.c) and
 *      where the valid records of the last file end (a record torn by a
 *      crash was never acknowledged: it is cut off);
 *   2. unless that base was written at a clean close, write its meta pages
 *      back into data.mdb and sync: LMDB is then the base's state, whatever
 *      a crash left of the commits made after it (their pages were never
 *      synced; the base's were, and the writer's pin kept them from reuse);
 *   3. open LMDB and replay, in one transaction, the records from the base's
 *      position on: the entries LMDB lacks (in sequence, no gaps), the consent
 *      uses they counted, the checkpoints;
 *   4. continue the last segment file (or start one).
 * A log folder from before the segments (LMDB only, synced at each commit)
 * has no segment files: LMDB is taken as it is.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "consent/consent.h"
#include "log/exlog-internal.h"
#include "util/bytes.h"
#include "util/lmdb-util.h"
#include "util/log.h"
#include "util/macro.h"

typedef struct Scan {
        uint8_t *base; /* a copy of the last BASE payload, or NULL */
        size_t base_size;
} Scan;

static int scan_record(void *userdata, uint8_t type, const uint8_t *payload, size_t n, uint64_t end)
{
        Scan *s = userdata;
        uint8_t *copy;

        (void)end;
        if (type != SEGMENT_BASE)
                return 0;
        copy = malloc(n ? n : 1);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, payload, n);
        free(s->base);
        s->base = copy;
        s->base_size = n;
        return 0;
}

typedef struct Replay {
        ExchangeLog *log;
        MDB_txn *txn;
        uint64_t from_first, from_offset; /* records that end at or before this position are in the base */
        uint64_t file_first;              /* the file being read */
        uint64_t replayed;
} Replay;

static int entry_parse(const uint8_t *p, size_t n, EntryRecord *e)
{
        SegmentCursor c = { .p = p, .n = n };
        uint16_t id_len = 0;
        uint32_t rec_len = 0;
        const uint8_t *id = NULL, *rec = NULL;
        int r;

        *e = (EntryRecord){ 0 };
        if ((r = segment_get_u64(&c, &e->seq)) < 0 || (r = segment_get_u8(&c, &e->flags)) < 0)
                return r;
        if ((e->flags & ENTRY_SUBJECT) && (r = segment_get_bytes(&c, 32, &e->subject)) < 0)
                return r;
        if ((e->flags & ENTRY_REVEALED) && (r = segment_get_bytes(&c, 32, &e->revealed)) < 0)
                return r;
        if (e->flags & ENTRY_CONSENT) {
                if ((r = segment_get_u16(&c, &id_len)) < 0 || (r = segment_get_bytes(&c, id_len, &id)) < 0 ||
                    (r = segment_get_u64(&c, &e->consent_uses)) < 0 || (r = segment_get_u32(&c, &rec_len)) < 0 ||
                    (r = segment_get_bytes(&c, rec_len, &rec)) < 0)
                        return r;
                e->consent_id = (const char *)id;
                e->consent_id_len = id_len;
                e->consent_record = rec_len ? (const char *)rec : NULL;
                e->consent_record_len = rec_len;
        }
        if (c.n < 2 || c.p[0] != '{' || c.p[c.n - 1] != '}')
                return -EBADMSG;
        e->entry = c.p;
        e->entry_len = c.n;
        return 0;
}

static int replay_entry(Replay *rp, const uint8_t *payload, size_t n)
{
        ExchangeLog *log = rp->log;
        EntryRecord e;
        int r;

        r = entry_parse(payload, n, &e);
        if (r < 0)
                return r;
        if (e.seq < log->next_seq)
                return 0; /* LMDB has it */
        if (e.seq > log->next_seq) {
                log_error("exchange log: the segments skip from entry %" PRIu64 " to %" PRIu64, log->next_seq, e.seq);
                return -EBADMSG;
        }
        r = exlog_store_entry(log, rp->txn, &log->merkle, &e, NULL);
        if (r == 0 && e.consent_id) {
                _cleanup_free_ char *id = strndup(e.consent_id, e.consent_id_len);
                r = id ? consent_use_replay(rp->txn, id, e.consent_uses, e.consent_record, e.consent_record_len)
                       : -ENOMEM;
        }
        if (r < 0)
                return r;
        log->next_seq++;
        rp->replayed++;
        return 0;
}

static int replay_checkpoint(Replay *rp, const uint8_t *payload, size_t n)
{
        SegmentCursor c = { .p = payload, .n = n };
        uint64_t size;
        uint8_t key[8];
        MDB_val k, v;
        int r;

        r = segment_get_u64(&c, &size);
        if (r < 0)
                return r;
        if (size > rp->log->next_seq)
                return -EBADMSG; /* a checkpoint of entries the segments do not hold */
        be64_put(key, size);
        k = (MDB_val){ .mv_size = 8, .mv_data = key };
        v = (MDB_val){ .mv_size = c.n, .mv_data = (void *)c.p };
        r = lmdb_to_errno(mdb_put(rp->txn, rp->log->checkpoints, &k, &v, 0));
        if (r == 0 && size > rp->log->checkpoint_size)
                rp->log->checkpoint_size = size;
        return r;
}

static int replay_record(void *userdata, uint8_t type, const uint8_t *payload, size_t n, uint64_t end)
{
        Replay *rp = userdata;

        if (rp->file_first < rp->from_first || (rp->file_first == rp->from_first && end <= rp->from_offset))
                return 0;
        switch (type) {
        case SEGMENT_ENTRY:
                return replay_entry(rp, payload, n);
        case SEGMENT_CHECKPOINT:
                return replay_checkpoint(rp, payload, n);
        default:
                return 0;
        }
}

/* Step 2: LMDB's meta pages as they were at the base. Return: 0 or -errno. */
static int rewind_metas(ExchangeLog *log, const BaseRecord *b)
{
        size_t size = 2 * (size_t)b->psize;
        ssize_t k;

        if (log->data_fd < 0) {
                log_error("exchange log: the segments name a base but data.mdb is missing");
                return -ENOENT;
        }
        k = pwrite(log->data_fd, b->metas, size, 0);
        if (k < 0)
                return -errno;
        if ((size_t)k != size)
                return -EIO;
        return fdatasync(log->data_fd) < 0 ? -errno : 0;
}

/* Step 3: LMDB open, its databases, its size and tree frontier. Return: 0 or -errno. */
static int lmdb_open(ExchangeLog *log, const char *dir)
{
        MDB_txn *txn;
        MDB_cursor *c;
        MDB_val k, v;
        int r;

        r = exlog_env_open(&log->env, dir, log->opts.map_size, 0);
        if (r < 0)
                return r;
        r = mdb_txn_begin(log->env, NULL, 0, &txn);
        if (r)
                return lmdb_to_errno(r);
        r = mdb_dbi_open(txn, "entries", MDB_CREATE, &log->entries);
        if (!r)
                r = mdb_dbi_open(txn, "by_subject", MDB_CREATE, &log->by_subject);
        if (!r)
                r = mdb_dbi_open(txn, "tree", MDB_CREATE, &log->tree);
        if (!r)
                r = mdb_dbi_open(txn, "checkpoints", MDB_CREATE, &log->checkpoints);
        if (r) {
                mdb_txn_abort(txn);
                return lmdb_to_errno(r);
        }
        log->next_seq = 0;
        if (mdb_cursor_open(txn, log->entries, &c) == 0) {
                if (mdb_cursor_get(c, &k, &v, MDB_LAST) == 0 && k.mv_size == 8)
                        log->next_seq = be64_get(k.mv_data) + 1;
                mdb_cursor_close(c);
        }
        if (mdb_cursor_open(txn, log->checkpoints, &c) == 0) {
                if (mdb_cursor_get(c, &k, &v, MDB_LAST) == 0 && k.mv_size == 8)
                        log->checkpoint_size = be64_get(k.mv_data);
                mdb_cursor_close(c);
        }
        merkle_appender_init(&log->merkle);
        if (log->next_seq > 0) {
                TreeRead tr = { .txn = txn, .dbi = log->tree };
                r = merkle_appender_init_from_store(&log->merkle, exlog_tree_get, &tr, log->next_seq);
                if (r) {
                        /* the tree does not cover the entries: the store is damaged */
                        mdb_txn_abort(txn);
                        return r < 0 ? r : -EBADMSG;
                }
        }
        return lmdb_to_errno(mdb_txn_commit(txn));
}

static int replay(ExchangeLog *log, const SegmentFile *files, size_t n, const BaseRecord *b)
{
        Replay rp = { .log = log, .from_first = b ? b->pos_first : 0, .from_offset = b ? b->pos_offset : 0 };
        uint64_t end;
        int r;

        r = lmdb_to_errno(mdb_txn_begin(log->env, NULL, 0, &rp.txn));
        if (r < 0)
                return r;
        for (size_t i = 0; i < n && r >= 0; i++) {
                rp.file_first = files[i].first_seq;
                if (files[i].first_seq < rp.from_first)
                        continue; /* wholly in the base */
                r = segment_read(log->seg_dir, files[i].name, files[i].first_seq, replay_record, &rp, &end);
        }
        if (r < 0) {
                mdb_txn_abort(rp.txn);
                return r;
        }
        r = lmdb_to_errno(mdb_txn_commit(rp.txn));
        if (r == 0 && rp.replayed)
                log_info("exchange log: %" PRIu64 " entries replayed from the segments (now %" PRIu64 ")", rp.replayed,
                         log->next_seq);
        return r;
}

static int scan(ExchangeLog *log, const SegmentFile *files, size_t n, Scan *s, uint64_t *ret_last_end)
{
        uint64_t end = 0;
        int r;

        for (size_t i = 0; i < n; i++) {
                struct stat st;
                char path[4096];

                r = segment_read(log->seg_dir, files[i].name, files[i].first_seq, scan_record, s, &end);
                if (r < 0)
                        return r;
                snprintf(path, sizeof(path), "%s/%s", log->seg_dir, files[i].name);
                if (i + 1 < n && (stat(path, &st) < 0 || (uint64_t)st.st_size != end)) {
                        /* only the last file can have a torn tail: the others were whole when the next began */
                        log_error("exchange log: segment %s is damaged at offset %" PRIu64, files[i].name, end);
                        return -EBADMSG;
                }
        }
        *ret_last_end = end;
        return 0;
}

static int segments_open(ExchangeLog *log, const char *dir)
{
        if (asprintf(&log->seg_dir, "%s/segments", dir) < 0) {
                log->seg_dir = NULL;
                return -ENOMEM;
        }
        if (mkdir(log->seg_dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        log->seg_dir_fd = open(log->seg_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return log->seg_dir_fd < 0 ? -errno : 0;
}

int exlog_recover(ExchangeLog *log, const char *dir)
{
        _cleanup_free_ SegmentFile *files = NULL;
        _cleanup_free_ char *data = NULL;
        Scan s = { 0 };
        BaseRecord b;
        bool have_base = false;
        uint64_t last_end = 0;
        size_t n = 0;
        int r;

        r = segments_open(log, dir);
        if (r < 0)
                return r;
        if (asprintf(&data, "%s/data.mdb", dir) < 0) {
                data = NULL;
                return -ENOMEM;
        }
        log->data_fd = open(data, O_RDWR | O_CLOEXEC);
        if (log->data_fd < 0 && errno != ENOENT)
                return -errno;
        r = segment_list(log->seg_dir, &files, &n);
        if (r == 0)
                r = scan(log, files, n, &s, &last_end);
        if (r == 0 && s.base) {
                r = exlog_base_parse(s.base, s.base_size, &b);
                have_base = r == 0;
        }
        if (r == 0 && have_base && !b.clean)
                r = rewind_metas(log, &b);
        if (r == 0)
                r = lmdb_open(log, dir);
        if (r == 0 && have_base && !b.clean && log->next_seq != b.next_seq) {
                log_error("exchange log: LMDB holds %" PRIu64 " entries, its base %" PRIu64, log->next_seq, b.next_seq);
                r = -EBADMSG;
        }
        if (r == 0 && n > 0)
                r = replay(log, files, n, have_base ? &b : NULL);
        free(s.base);
        if (r < 0)
                return r;
        atomic_store(&log->size, log->next_seq);
        if (log->data_fd < 0) {
                log->data_fd = open(data, O_RDWR | O_CLOEXEC);
                if (log->data_fd < 0)
                        return -errno;
        }
        /* continue the last file; a new log, or one whose last file lost even its header, starts one */
        if (n > 0 && last_end > 0)
                return segment_open(&log->seg, log->seg_dir, log->seg_dir_fd, files[n - 1].name, files[n - 1].first_seq,
                                    last_end);
        if (n > 0 && files[n - 1].first_seq != log->next_seq) {
                r = segment_remove(log->seg_dir, files[n - 1].name);
                if (r < 0)
                        return r;
        }
        return segment_create(&log->seg, log->seg_dir, log->seg_dir_fd, log->next_seq);
}
