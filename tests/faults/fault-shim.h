/* fault-shim.h: what the fault shim counts, for a process that has it preloaded (tests and benchmarks only)
 *
 * The shim (libxbus-fault.so, fault-shim.c) exports xbus_fault_stats(). A
 * program looks it up with dlsym(RTLD_DEFAULT, XBUS_FAULT_STATS_SYMBOL): NULL
 * when the shim is not preloaded. Counts cover the tracked files only
 * (XBUS_FAULT_FILES), except msync, which the shim counts for the process.
 */
#pragma once

#include <stdint.h>

#define XBUS_FAULT_STATS_SYMBOL "xbus_fault_stats"

typedef struct XbusFaultStats {
        uint64_t writes;       /* write calls (write, pwrite, writev, pwritev) */
        uint64_t bytes;        /* bytes they wrote */
        uint64_t pages;        /* 4 KiB pages they touched (a page counted once per call) */
        uint64_t fsyncs;       /* fsync calls */
        uint64_t fdatasyncs;   /* fdatasync calls */
        uint64_t dsync_writes; /* writes through an O_SYNC or O_DSYNC descriptor: each one waits for the disk */
        uint64_t msyncs;       /* msync calls, any mapping */
        uint64_t eio;          /* errors the shim injected */
} XbusFaultStats;

/* Sync points: the calls that wait for the disk. */
static inline uint64_t xbus_fault_sync_points(const XbusFaultStats *s)
{
        return s->fsyncs + s->fdatasyncs + s->dsync_writes + s->msyncs;
}

/* xbus_fault_stats(): a copy of the counts so far. Thread-safe. */
typedef void (*XbusFaultStatsFn)(XbusFaultStats *ret);
