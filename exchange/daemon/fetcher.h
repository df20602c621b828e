/* fetcher.h: the registry of a federated node: signed snapshots fetched over HTTPS, verified, kept and swapped in
 *
 * With [snapshot] url in xbusd.conf a node takes its registry from the
 * registry authority's signed snapshots (registry/registry-snapshot.h,
 * docs/federation.md) instead of a folder:
 *
 *   - at start, the last good snapshot kept in <state-dir>/registry-snapshot.jws
 *     (verified again against the anchors: an anchor removed from the
 *     configuration takes its snapshots with it); without one, the first
 *     snapshot that one of the URLs serves (each tried once, in order);
 *   - then one thread downloads the snapshot every [snapshot] interval (at
 *     once on fetcher_wake(), which SIGHUP calls) from the URLs in order,
 *     until one serves the snapshot in force or a newer one. A newer one that
 *     verifies, passes registry_snapshot_accept() and loads is written to the
 *     state folder (a temporary file, fsync, rename) and swapped in whole,
 *     exactly as a reload swaps a registry (the broker's allow-list, then the
 *     node's pointer); anything else is refused, logged with its reason and
 *     counted (NodeFetchResult), and the snapshot in force keeps serving.
 *
 * Downloads use libcurl: https only, no redirects, the [snapshot] ca (or the
 * system's CAs) to check the server, [snapshot] timeout per download, at
 * most REGISTRY_SNAPSHOT_MAX bytes, and the ETag a URL gave with the
 * snapshot in force as If-None-Match (a 304 is "unchanged").
 *
 * Logging: this is the daemon level, so the fetcher logs what it does (a
 * swap at info, refusals and failures as warnings, rate-limited by
 * util/log.c), and when the snapshot in force expires and when its grace
 * period ends.
 *
 * Threads: fetcher_open() and fetcher_start() from the main thread before
 * and after the node starts; fetcher_wake() from any thread;
 * fetcher_free() from the main thread (it stops the thread, aborting a
 * download in progress).
 */
#pragma once

#include <stdbool.h>

#include "daemon/config.h"
#include "node/node.h"
#include "util/macro.h"

#define FETCHER_STATE_FILE "registry-snapshot.jws"

typedef struct Fetcher Fetcher;

/*
 * fetcher_open(): load c's anchors and find the registry to start with: the
 * snapshot kept in the state folder, or (with `fetch`) one downloaded now.
 * Errors are logged. Return: 0 with *ret and *ret_registry (the caller's
 * reference; NULL only without `fetch` when nothing is kept yet), or -errno
 * (-ENOENT: no snapshot kept, and none could be fetched).
 */
int fetcher_open(Fetcher **ret, const Config *c, bool fetch, Registry **ret_registry);

/* fetcher_start(): start the thread that keeps `node`'s registry up to date (node must outlive it). Return: 0, -errno. */
int fetcher_start(Fetcher *f, Node *node);

/* fetcher_wake(): fetch now, without waiting for the interval. */
void fetcher_wake(Fetcher *f);

/* fetcher_free(): stop the thread (a download in progress is aborted) and free. NULL in, NULL out. */
Fetcher *fetcher_free(Fetcher *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(Fetcher *, fetcher_free);
