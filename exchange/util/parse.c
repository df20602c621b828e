/* parse.c: decimal numbers, DNS names */
#include <errno.h>
#include <stddef.h>

#include "util/macro.h"
#include "util/parse.h"

int parse_digits(const char **s, uint64_t *ret)
{
        uint64_t v = 0;
        int n = 0;

        while (**s >= '0' && **s <= '9') {
                unsigned d = (unsigned)(**s - '0');

                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
                (*s)++;
                n++;
        }
        *ret = v;
        return n;
}

int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
        uint64_t v;
        int n;

        if (!s || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
                return -EINVAL;
        n = parse_digits(&s, &v);
        if (n == 0 || (n > 0 && *s))
                return -EINVAL;
        if (n < 0 || v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

bool dns_name_valid(const char *s, size_t n)
{
        size_t label = 0;

        if (!s || n == 0 || n > 253)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (c == '.') {
                        if (label == 0 || s[i - 1] == '-')
                                return false;
                        label = 0;
                        continue;
                }
                if (!(ascii_isalpha(c) || ascii_isdigit(c) || (c == '-' && label > 0)) || ++label > 63)
                        return false;
        }
        return label > 0 && s[n - 1] != '-';
}
