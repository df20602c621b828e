/* cli-common.c: small helpers every cli-* module shares (error strings) */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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
