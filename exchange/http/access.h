/* access.h: who may read /metrics and /health: loopback, networks, or a registry role shown by a certificate
 *
 * An access list is a list of rules (xbusd.conf [metrics] allow, health-allow;
 * docs/configuration.md), any one of which admits a request:
 *
 *   loopback        the peer's address is 127.0.0.0/8 or ::1 (also IPv4-mapped)
 *   ADDRESS[/BITS]  an IPv4 or IPv6 network; an address alone is /32 or /128
 *   role:NAME       the peer's trusted client certificate identifies a registry
 *                   subsystem with the role NAME (monitor, auditor, ...)
 *
 * Parsed once at load (config.c), matched on the worker for each request
 * (metrics.c): pure functions, no allocation.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ACCESS_NETWORKS_MAX 64

typedef struct AccessNetwork {
        int family; /* AF_INET, AF_INET6 */
        uint8_t addr[16];
        unsigned bits;
} AccessNetwork;

typedef struct AccessList {
        bool loopback;
        unsigned roles; /* REGISTRY_ROLE_* */
        size_t n_networks;
        AccessNetwork networks[ACCESS_NETWORKS_MAX];
} AccessList;

/* Loopback only: the default. */
extern const AccessList access_list_loopback;

/* access_list_parse(): the rules in `value` (separated by commas or spaces) into *ret.
 * Return: 0, -EINVAL (an item that is none of the above, or none at all), -E2BIG, -ENOMEM. */
int access_list_parse(AccessList *ret, const char *value);

/* access_list_empty(): whether the list admits nobody (as a zeroed one, not given in the file). */
bool access_list_empty(const AccessList *l);

/* access_list_allows(): whether a request from `peer` (may be NULL: unknown), whose certificate shows the
 * registry roles `peer_roles` (0 without one), is admitted. */
bool access_list_allows(const AccessList *l, const struct sockaddr *peer, unsigned peer_roles);
