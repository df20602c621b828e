/* time-util.c: RFC 3339 formatting and parsing */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/time-util.h"

char *format_rfc3339(uint64_t usec, char out[RFC3339_MAX])
{
        time_t sec = (time_t)(usec / USEC_PER_SEC);
        struct tm tm;

        gmtime_r(&sec, &tm);
        snprintf(out, RFC3339_MAX, "%04u-%02u-%02uT%02u:%02u:%02u.%06uZ", (unsigned)(tm.tm_year + 1900) % 10000U,
                 (unsigned)(tm.tm_mon + 1) % 100U, (unsigned)tm.tm_mday % 100U, (unsigned)tm.tm_hour % 100U,
                 (unsigned)tm.tm_min % 100U, (unsigned)tm.tm_sec % 100U, (unsigned)(usec % USEC_PER_SEC));
        return out;
}

int parse_rfc3339(const char *s, uint64_t *ret_usec)
{
        struct tm tm = {};
        unsigned frac = 0, digits = 0;
        const char *p;
        time_t t;

        p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!p)
                return -EINVAL;
        if (*p == '.') {
                for (p++; *p >= '0' && *p <= '9'; p++) {
                        if (digits >= 6)
                                return -EINVAL;
                        frac = frac * 10 + (unsigned)(*p - '0');
                        digits++;
                }
                if (digits == 0)
                        return -EINVAL;
                for (; digits < 6; digits++)
                        frac *= 10;
        }
        if (strcmp(p, "Z") != 0)
                return -EINVAL;
        t = timegm(&tm);
        if (t < 0)
                return -EINVAL;
        *ret_usec = (uint64_t)t * USEC_PER_SEC + frac;
        return 0;
}
