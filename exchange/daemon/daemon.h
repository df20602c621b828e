/* daemon.h: a running node: keys, the exchange log, consents, the broker, the front door and its APIs
 *
 * daemon_start() brings a node up from its configuration in this order:
 * demo CURVE keys (if used) -> registry (its adapter key references read
 * from the state folder) -> demo PKI (if used) -> keys -> exchange log ->
 * consent store -> adapter broker (with the registry as its allow-list) ->
 * HTTPS front door (with the consent and auditor APIs as
 * its endpoints). daemon_stop() takes it down in the reverse order, after the
 * requests in flight are answered and logged. Errors are logged here (this is
 * the daemon level): callers only learn that it failed.
 *
 * Threads: call these from the main thread only (xbusd.c). Signals must be
 * blocked before daemon_start(), since the threads it starts inherit the mask.
 */
#pragma once

#include "daemon/config.h"
#include "registry.h"

typedef struct Daemon Daemon;

/* daemon_load_registry(): the registry the configuration names (or the embedded one), its adapter key
 * references read under `state_dir` (NULL: checked for form only), errors logged. */
int daemon_load_registry(const Config *c, const char *state_dir, Registry **ret);

/* daemon_test_config(): --test-config: check `c` and its registry, print a summary. Return: 0 or -errno. */
int daemon_test_config(const Config *c);

/* daemon_start(): start a node on `c` (borrowed; must outlive the Daemon). Return: 0 or -errno (logged). */
int daemon_start(Daemon **ret, const Config *c);

/* daemon_reload(): load the registry again and swap it in whole; a bad one is refused and the old one
 * keeps serving. With the demo PKI, certificates are issued for the subsystems it adds. Then the TLS
 * files (certificate, key, client CAs, CRLs) are read again and swapped in whole (a bad set is refused,
 * logged, and the old one stays); certificates near their expiry are warned about.
 * Return: 0 or -errno (logged, counted). */
int daemon_reload(Daemon *d);

/* daemon_tick(): call now and then (xbusd's main loop, every 10 s): once a day, warn about the
 * certificates the node uses or trusts that expire within 30 days (and about CRLs due); after a
 * flood of connections has gone, give the freed heap back (malloc_trim()). */
void daemon_tick(Daemon *d);

/* daemon_stop(): finish the requests in flight, stop every thread, close. NULL in, NULL out. */
Daemon *daemon_stop(Daemon *d);
