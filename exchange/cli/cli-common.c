/* cli-common.c: small helpers every cli-* module shares (error strings, numbers, usage messages) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli-common.h"

int cli_fail(char **ret_error, int r, const char *fmt, ...)
{
        va_list ap;

        if (ret_error) {
                char *s = NULL;
                va_start(ap, fmt);
                if (vasprintf(&s, fmt, ap) < 0)
                        s = NULL;
                va_end(ap);
                *ret_error = s;
        }
        return r;
}

bool cli_parse_decimal(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
        uint64_t v = 0;

        if (isempty(s) || strlen(s) > 19)
                return false;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return false;
                v = v * 10 + (uint64_t)(*p - '0');
        }
        if (v < min || v > max)
                return false;
        *ret = v;
        return true;
}

int cli_vusage_error(const char *prog, const char *sub, const char *fmt, va_list ap)
{
        fprintf(stderr, "%s%s%s: ", prog, sub ? " " : "", strempty(sub));
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, " (see %s%s%s --help)\n", prog, sub ? " " : "", strempty(sub));
        return CLI_EXIT_USAGE;
}
