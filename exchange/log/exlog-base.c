/* exlog-base.c: the exchange log's durable base: LMDB made durable behind the segments
 *
 * The writer commits LMDB without a sync (MDB_NOSYNC): the segments hold what
 * was acknowledged. But a power loss may leave data.mdb with a meta page that
 * names pages never written, so the log keeps a base, a state of LMDB it
 * knows is on the disk, and recovery (exlog-recover.c) puts LMDB back to it
 * before it replays the segment records that follow. A base is made about
 * every base_interval_ms while LMDB is written (none when idle: base_unchanged()),
 * and when exlog_sync() asks:
 *
 *   1. capture (writer thread, between commits, holding LMDB's write lock):
 *      a read transaction on the current state (the pin: LMDB reuses no page
 *      of a state a reader holds), LMDB's two meta pages as the file holds
 *      them, the next sequence number and the position in the segment;
 *   2. the syncer thread fdatasyncs data.mdb: the captured state is durable;
 *   3. the writer appends a BASE record naming it and syncs the segment; the
 *      previous pin is released and segment files wholly before the base are
 *      removed.
 *
 * A failed sync of data.mdb leaves pages Linux will not write again, so no
 * later base can be trusted: bases stop until the node restarts (entries
 * stay durable through the segments; exlog_sync() fails).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log/exlog-internal.h"
#include "util/lmdb-util.h"
#include "util/log.h"
#include "util/time-util.h"

int exlog_base_parse(const uint8_t *p, size_t n, BaseRecord *ret)
{
        SegmentCursor c = { .p = p, .n = n };
        BaseRecord b = { 0 };

        if (segment_get_u64(&c, &b.next_seq) < 0 || segment_get_u64(&c, &b.txnid) < 0 ||
            segment_get_u64(&c, &b.pos_first) < 0 || segment_get_u64(&c, &b.pos_offset) < 0 ||
            segment_get_u8(&c, &b.clean) < 0 || segment_get_u32(&c, &b.psize) < 0 || b.psize < 512 || b.psize > 65536 ||
            segment_get_bytes(&c, 2 * (size_t)b.psize, &b.metas) < 0 || c.n != 0)
                return -EBADMSG;
        *ret = b;
        return 0;
}

static void wake_writer(ExchangeLog *log)
{
        uint64_t one = 1;

        (void)!write(mailbox_fd(&log->queue), &one, sizeof(one));
}

static void *syncer_thread(void *userdata)
{
        ExchangeLog *log = userdata;
        ExlogBase *b = &log->base;

        pthread_mutex_lock(&b->lock);
        for (;;) {
                int r;

                while (!b->stop && b->state != BASE_SYNCING)
                        pthread_cond_wait(&b->cond, &b->lock);
                if (b->stop)
                        break;
                pthread_mutex_unlock(&b->lock);
                r = mdb_env_sync(log->env, 1);
                pthread_mutex_lock(&b->lock);
                if (r) {
                        log_error_errno(lmdb_to_errno(r), "exchange log: data.mdb could not be made durable: %m; "
                                                          "its entries stay durable in the segments until a restart");
                        b->failed = true;
                }
                b->state = BASE_SYNCED;
                pthread_cond_broadcast(&b->cond);
                wake_writer(log);
        }
        pthread_mutex_unlock(&b->lock);
        return NULL;
}

int exlog_base_init(ExchangeLog *log)
{
        ExlogBase *b = &log->base;
        int r;

        r = -pthread_mutex_init(&b->lock, NULL);
        if (r < 0)
                return r;
        r = -pthread_cond_init(&b->cond, NULL);
        if (r < 0) {
                pthread_mutex_destroy(&b->lock);
                return r;
        }
        b->initialised = true;
        return 0;
}

int exlog_base_start(ExchangeLog *log)
{
        int r = -pthread_create(&log->base.syncer, NULL, syncer_thread, log);

        log->base.syncer_started = r == 0;
        if (r == 0) /* by name in tests/bench/run.sh's per-thread CPU (the daemon's own threads go by order) */
                (void)pthread_setname_np(log->base.syncer, "xbusd-logbase");
        return r;
}

void exlog_base_stop(ExchangeLog *log)
{
        ExlogBase *b = &log->base;

        if (!b->syncer_started)
                return;
        pthread_mutex_lock(&b->lock);
        while (b->state == BASE_SYNCING)
                pthread_cond_wait(&b->cond, &b->lock);
        b->stop = true;
        pthread_cond_broadcast(&b->cond);
        pthread_mutex_unlock(&b->lock);
        pthread_join(b->syncer, NULL);
        b->syncer_started = false;
        if (b->pin_next) {
                mdb_txn_abort(b->pin_next);
                b->pin_next = NULL;
        }
        b->state = BASE_IDLE;
}

void exlog_base_deinit(ExchangeLog *log)
{
        ExlogBase *b = &log->base;

        exlog_base_stop(log);
        if (b->pin)
                mdb_txn_abort(b->pin);
        if (b->pin_next)
                mdb_txn_abort(b->pin_next);
        b->pin = b->pin_next = NULL;
        free(b->metas);
        b->metas = NULL;
        if (b->initialised) {
                pthread_mutex_lock(&b->lock);
                b->stop = true;
                b->failed = true; /* exlog_sync() waiters give up */
                pthread_cond_broadcast(&b->cond);
                pthread_mutex_unlock(&b->lock);
                pthread_cond_destroy(&b->cond);
                pthread_mutex_destroy(&b->lock);
                b->initialised = false;
        }
}

/* Step 1: the pin, the meta pages, the position (writer thread, no commit running). Return: 0 or -errno. */
static int base_capture(ExchangeLog *log)
{
        ExlogBase *b = &log->base;
        MDB_txn *w = NULL, *pin = NULL;
        MDB_stat st;
        size_t size;
        ssize_t k;
        int r;

        r = lmdb_to_errno(mdb_env_stat(log->env, &st));
        if (r < 0)
                return r;
        size = 2 * (size_t)st.ms_psize;
        if (!b->metas || b->next.psize != st.ms_psize) {
                uint8_t *m = realloc(b->metas, size);
                if (!m)
                        return -ENOMEM;
                b->metas = m;
        }
        /* LMDB's write lock: no commit (a consent's, another thread's) changes the meta pages meanwhile */
        r = lmdb_to_errno(mdb_txn_begin(log->env, NULL, 0, &w));
        if (r < 0)
                return r;
        r = lmdb_to_errno(mdb_txn_begin(log->env, NULL, MDB_RDONLY, &pin));
        if (r == 0) {
                k = pread(log->data_fd, b->metas, size, 0);
                r = k < 0 ? -errno : (size_t)k != size ? -EIO : 0;
        }
        if (r == 0)
                b->next = (BaseRecord){ .next_seq = log->next_seq,
                                        .txnid = (uint64_t)mdb_txn_id(pin),
                                        .pos_first = log->seg.first_seq,
                                        .pos_offset = log->seg.size,
                                        .psize = st.ms_psize,
                                        .metas = b->metas };
        mdb_txn_abort(w);
        if (r < 0) {
                if (pin)
                        mdb_txn_abort(pin);
                return r;
        }
        b->pin_next = pin;
        return 0;
}

/* Remove the segment files wholly before the durable base: LMDB holds their records. */
static void base_remove_old(ExchangeLog *log, uint64_t before)
{
        SegmentFile *files = NULL;
        size_t n = 0;

        if (before <= log->base.removed_before || segment_list(log->seg_dir, &files, &n) < 0)
                return;
        for (size_t i = 0; i < n && files[i].first_seq < before; i++)
                (void)segment_remove(log->seg_dir, files[i].name);
        free(files);
        log->base.removed_before = before;
}

/* Step 3: the BASE record, durable; the pins move on. Return: 0 or -errno (the old base stays). */
static int base_record(ExchangeLog *log, bool clean)
{
        ExlogBase *b = &log->base;
        long at;
        int r;

        b->next.clean = clean;
        log->buf.size = 0;
        at = segment_record_begin(&log->buf, SEGMENT_BASE);
        r = at < 0 ? (int)at : segment_put_u64(&log->buf, b->next.next_seq);
        if (r == 0)
                r = segment_put_u64(&log->buf, b->next.txnid);
        if (r == 0)
                r = segment_put_u64(&log->buf, b->next.pos_first);
        if (r == 0)
                r = segment_put_u64(&log->buf, b->next.pos_offset);
        if (r == 0)
                r = segment_buf_put(&log->buf, &b->next.clean, 1);
        if (r == 0)
                r = segment_put_u32(&log->buf, b->next.psize);
        if (r == 0)
                r = segment_buf_put(&log->buf, b->metas, 2 * (size_t)b->next.psize);
        if (r == 0)
                r = segment_record_end(&log->buf, at);
        if (r == 0)
                r = exlog_segment_commit(log, false);
        if (r < 0) {
                mdb_txn_abort(b->pin_next);
                b->pin_next = NULL;
                return r;
        }
        if (b->pin)
                mdb_txn_abort(b->pin);
        b->pin = b->pin_next;
        b->pin_next = NULL;
        base_remove_old(log, b->next.pos_first);
        return 0;
}

int exlog_base_make(ExchangeLog *log, bool clean)
{
        ExlogBase *b = &log->base;
        uint64_t number;
        int r;

        pthread_mutex_lock(&b->lock);
        r = b->failed ? -EIO : 0;
        number = ++b->captured;
        pthread_mutex_unlock(&b->lock);
        if (r < 0)
                return r;
        r = base_capture(log);
        if (r < 0)
                return r;
        r = lmdb_to_errno(mdb_env_sync(log->env, 1));
        if (r < 0) {
                pthread_mutex_lock(&b->lock);
                b->failed = true;
                pthread_mutex_unlock(&b->lock);
                mdb_txn_abort(b->pin_next);
                b->pin_next = NULL;
                return r;
        }
        r = base_record(log, clean);
        if (r < 0)
                return r;
        pthread_mutex_lock(&b->lock);
        b->durable = number;
        pthread_cond_broadcast(&b->cond);
        pthread_mutex_unlock(&b->lock);
        return 0;
}

/*
 * An idle node makes no timed base: LMDB's last transaction is the one the
 * durable base captured (the writer's thread owns both; a consent's or a
 * checkpoint's write is a transaction too), so another base would sync
 * data.mdb for nothing and add a record to the segment.
 */
static bool base_unchanged(ExchangeLog *log)
{
        ExlogBase *b = &log->base;
        MDB_envinfo info;
        bool durable;

        pthread_mutex_lock(&b->lock);
        durable = b->state == BASE_IDLE && b->durable > 0 && b->durable == b->captured;
        pthread_mutex_unlock(&b->lock);
        return durable && mdb_env_info(log->env, &info) == MDB_SUCCESS && (uint64_t)info.me_last_txnid == b->next.txnid;
}

void exlog_base_step(ExchangeLog *log)
{
        ExlogBase *b = &log->base;
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        bool capture = false, record = false, wanted;
        int r;

        if (now >= b->due && base_unchanged(log)) {
                /* nothing was written since the last durable base: it still describes LMDB */
                b->due = now + (uint64_t)log->opts.base_interval_ms * USEC_PER_MSEC;
                now = 0; /* a timed base is not due; one exlog_sync() wants is still made */
        }
        pthread_mutex_lock(&b->lock);
        wanted = b->wanted;
        if (b->state == BASE_IDLE && !b->failed && !log->broken && (wanted || (now && now >= b->due))) {
                /* numbered before the capture: exlog_sync() callers from now on wait for the next one */
                capture = true;
                b->captured++;
                b->wanted = false;
        } else if (b->state == BASE_SYNCED)
                record = !b->failed;
        pthread_mutex_unlock(&b->lock);

        if (capture) {
                r = base_capture(log);
                pthread_mutex_lock(&b->lock);
                if (r < 0)
                        b->wanted = b->wanted || wanted;
                else
                        b->state = BASE_SYNCING;
                pthread_cond_broadcast(&b->cond);
                pthread_mutex_unlock(&b->lock);
                if (r < 0)
                        b->due = now + (uint64_t)log->opts.base_interval_ms * USEC_PER_MSEC;
                return;
        }
        pthread_mutex_lock(&b->lock);
        if (b->state != BASE_SYNCED) {
                pthread_mutex_unlock(&b->lock);
                return;
        }
        pthread_mutex_unlock(&b->lock);
        r = record ? base_record(log, false) : -EIO;
        if (r < 0 && b->pin_next) {
                mdb_txn_abort(b->pin_next);
                b->pin_next = NULL;
        }
        pthread_mutex_lock(&b->lock);
        if (r == 0)
                b->durable = b->captured;
        b->state = BASE_IDLE;
        pthread_cond_broadcast(&b->cond);
        pthread_mutex_unlock(&b->lock);
        b->due = now + (uint64_t)log->opts.base_interval_ms * USEC_PER_MSEC;
}

int exlog_sync(ExchangeLog *log)
{
        ExlogBase *b = &log->base;
        uint64_t target;
        int r = 0;

        pthread_mutex_lock(&b->lock);
        target = b->captured + 1; /* a base captured after this call */
        b->wanted = true;
        pthread_mutex_unlock(&b->lock);
        wake_writer(log);
        pthread_mutex_lock(&b->lock);
        while (b->durable < target && !b->failed && !b->stop)
                pthread_cond_wait(&b->cond, &b->lock);
        if (b->durable < target)
                r = -EIO;
        pthread_mutex_unlock(&b->lock);
        return r;
}
