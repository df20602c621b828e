/* lmdb-util.h: LMDB return codes as -errno, one mapping for every store
 *
 * Modules that keep data in LMDB (the exchange log, the consent store in the
 * same environment, the audit verifier, the sample dataset) turn LMDB's codes
 * into the project's 0 / -errno convention here, so that two modules writing
 * in one transaction report the same condition the same way.
 *
 * It lives in util/ rather than log/ because the consent store, which is
 * below the log in the layer order, needs it too (docs/ARCHITECTURE.md).
 */
#pragma once

#include <errno.h>
#include <lmdb.h>

#include "util/macro.h"

/*
 * lmdb_to_errno(): MDB_SUCCESS -> 0; MDB_NOTFOUND -> -ENOENT; MDB_KEYEXIST ->
 * -EEXIST; MDB_MAP_FULL -> -ENOSPC (the map is full: the operator must grow
 * it); MDB_READERS_FULL, MDB_TXN_FULL, MDB_MAP_RESIZED -> -EBUSY (a transient
 * resource limit); MDB_BAD_VALSIZE -> -EINVAL; a system error (LMDB passes
 * them through as positive errno values) -> -errno; anything else -> -EIO.
 */
static inline int lmdb_to_errno(int r)
{
        switch (r) {
        case MDB_SUCCESS:
                return 0;
        case MDB_NOTFOUND:
                return -ENOENT;
        case MDB_KEYEXIST:
                return -EEXIST;
        case MDB_MAP_FULL:
                return -ENOSPC;
        case MDB_READERS_FULL:
        case MDB_TXN_FULL:
        case MDB_MAP_RESIZED:
                return -EBUSY;
        case MDB_BAD_VALSIZE:
                return -EINVAL;
        default:
                return r > 0 ? -r : -EIO;
        }
}

/* A read or write transaction that is aborted when it goes out of scope unless taken (TAKE_PTR). */
static inline void lmdb_txn_abortp(MDB_txn **t)
{
        if (*t)
                mdb_txn_abort(*t);
}

/* An environment closed when it goes out of scope: _cleanup_(mdb_env_closep). */
DEFINE_TRIVIAL_CLEANUP_FUNC(MDB_env *, mdb_env_close);
