/* test-access.c: the access lists of /metrics and /health (access.h) */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "http/access.h"
#include "registry.h"

static bool allows(const AccessList *l, const char *addr, unsigned roles)
{
        struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
        struct sockaddr_in s4 = { .sin_family = AF_INET };

        if (inet_pton(AF_INET, addr, &s4.sin_addr) == 1)
                return access_list_allows(l, (struct sockaddr *)&s4, roles);
        assert(inet_pton(AF_INET6, addr, &s6.sin6_addr) == 1);
        return access_list_allows(l, (struct sockaddr *)&s6, roles);
}

static void test_parse(void)
{
        AccessList l;

        assert(access_list_parse(&l, "loopback") == 0 && l.loopback && !l.roles && l.n_networks == 0);
        assert(access_list_parse(&l, "10.0.0.0/8, 2001:db8::/32 192.0.2.7 role:monitor") == 0);
        assert(!l.loopback && l.roles == REGISTRY_ROLE_MONITOR && l.n_networks == 3);
        assert(l.networks[0].family == AF_INET && l.networks[0].bits == 8);
        assert(l.networks[1].family == AF_INET6 && l.networks[1].bits == 32);
        assert(l.networks[2].bits == 32);
        assert(!access_list_empty(&l) && access_list_empty(&(AccessList){}));
        /* what is refused */
        const char *bad[] = { "",      " , ",       "localhost",  "10.0.0.0/33", "::1/129", "10.0.0.0/", "10.0.0.0/08",
                              "role:", "role:root", "10.0.0.300", "all" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert(access_list_parse(&l, bad[i]) == -EINVAL);
}

static void test_match(void)
{
        AccessList l;

        assert(access_list_parse(&l, "loopback") == 0);
        assert(allows(&l, "127.0.0.1", 0) && allows(&l, "127.1.2.3", 0) && allows(&l, "::1", 0));
        assert(allows(&l, "::ffff:127.0.0.1", 0));
        assert(!allows(&l, "10.0.0.1", 0) && !allows(&l, "::2", 0) && !allows(&l, "::ffff:10.0.0.1", 0));
        assert(!allows(&l, "10.0.0.1", REGISTRY_ROLE_MONITOR));
        assert(!access_list_allows(&l, NULL, 0));

        assert(access_list_parse(&l, "10.1.0.0/16 2001:db8:1::/48 127.0.0.2 192.168.1.128/25") == 0);
        assert(allows(&l, "10.1.255.1", 0) && !allows(&l, "10.2.0.1", 0) && allows(&l, "::ffff:10.1.0.9", 0));
        assert(allows(&l, "2001:db8:1:ffff::1", 0) && !allows(&l, "2001:db8:2::1", 0));
        assert(allows(&l, "127.0.0.2", 0) && !allows(&l, "127.0.0.1", 0));
        assert(allows(&l, "192.168.1.200", 0) && !allows(&l, "192.168.1.100", 0));

        assert(access_list_parse(&l, "role:monitor, role:auditor") == 0);
        assert(allows(&l, "10.9.9.9", REGISTRY_ROLE_MONITOR) && allows(&l, "10.9.9.9", REGISTRY_ROLE_AUDITOR));
        assert(!allows(&l, "127.0.0.1", REGISTRY_ROLE_CLIENT) && !allows(&l, "127.0.0.1", 0));
        assert(access_list_allows(&l, NULL, REGISTRY_ROLE_MONITOR));

        assert(access_list_parse(&l, "0.0.0.0/0") == 0 && allows(&l, "203.0.113.9", 0) && !allows(&l, "::1", 0));
}

int main(void)
{
        test_parse();
        test_match();
        printf("access: ok\n");
        return 0;
}
