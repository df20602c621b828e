/* access.c: access lists for /metrics and /health (loopback, networks, registry roles) */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "http/access.h"
#include "registry.h"
#include "util/ini.h"
#include "util/macro.h"
#include "util/parse.h"
#include "util/strv.h"

const AccessList access_list_loopback = { .loopback = true };

/* One "ADDRESS[/BITS]" item. Return: 0 or -EINVAL. */
static int network_parse(const char *item, AccessNetwork *ret)
{
        char addr[INET6_ADDRSTRLEN];
        const char *slash = strchr(item, '/');
        size_t len = slash ? (size_t)(slash - item) : strlen(item);
        AccessNetwork n = {};
        uint64_t bits;

        if (len == 0 || len >= sizeof(addr))
                return -EINVAL;
        memcpy(addr, item, len);
        addr[len] = 0;
        if (inet_pton(AF_INET, addr, n.addr) == 1)
                n.family = AF_INET;
        else if (inet_pton(AF_INET6, addr, n.addr) == 1)
                n.family = AF_INET6;
        else
                return -EINVAL;
        n.bits = n.family == AF_INET ? 32 : 128;
        if (slash) {
                if (parse_u64(slash + 1, 0, n.bits, &bits) < 0)
                        return -EINVAL;
                n.bits = (unsigned)bits;
        }
        *ret = n;
        return 0;
}

int access_list_parse(AccessList *ret, const char *value)
{
        _cleanup_(strv_freep) char **items = NULL;
        AccessList l = {};
        int r;

        r = ini_parse_list(value, &items);
        if (r < 0)
                return r;
        if (!items || !items[0])
                return -EINVAL;
        for (size_t i = 0; items[i]; i++) {
                if (streq(items[i], "loopback"))
                        l.loopback = true;
                else if (strneq(items[i], "role:", 5)) {
                        unsigned role = registry_role_from_string(items[i] + 5);
                        if (!role)
                                return -EINVAL;
                        l.roles |= role;
                } else if (l.n_networks >= ACCESS_NETWORKS_MAX)
                        return -E2BIG;
                else if (network_parse(items[i], &l.networks[l.n_networks++]) < 0)
                        return -EINVAL;
        }
        *ret = l;
        return 0;
}

bool access_list_empty(const AccessList *l)
{
        return !l->loopback && !l->roles && l->n_networks == 0;
}

/* Whether the first `bits` bits of a and b are equal. */
static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
        unsigned bytes = bits / 8, rest = bits % 8;

        if (memcmp(a, b, bytes) != 0)
                return false;
        return rest == 0 || ((a[bytes] ^ b[bytes]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

bool access_list_allows(const AccessList *l, const struct sockaddr *peer, unsigned peer_roles)
{
        const uint8_t *addr = NULL;
        int family = 0;

        if (l->roles & peer_roles)
                return true;
        if (peer && peer->sa_family == AF_INET) {
                family = AF_INET;
                addr = (const uint8_t *)&((const struct sockaddr_in *)peer)->sin_addr;
        } else if (peer && peer->sa_family == AF_INET6) {
                const struct in6_addr *a6 = &((const struct sockaddr_in6 *)peer)->sin6_addr;
                family = IN6_IS_ADDR_V4MAPPED(a6) ? AF_INET : AF_INET6;
                addr = family == AF_INET ? a6->s6_addr + 12 : a6->s6_addr;
        }
        if (!addr)
                return false;
        if (l->loopback && ((family == AF_INET && addr[0] == 127) ||
                            (family == AF_INET6 && IN6_IS_ADDR_LOOPBACK((const struct in6_addr *)addr))))
                return true;
        for (size_t i = 0; i < l->n_networks; i++)
                if (l->networks[i].family == family && prefix_equal(addr, l->networks[i].addr, l->networks[i].bits))
                        return true;
        return false;
}
