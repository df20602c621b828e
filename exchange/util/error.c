/* error.c: error messages for callers that asked for one */
#include <stdio.h>

#include "util/error.h"

char *error_vformat(const char *fmt, va_list ap)
{
        char *s;

        if (vasprintf(&s, fmt, ap) < 0)
                return NULL;
        return s;
}

int error_set(char **ret_error, int r, const char *fmt, ...)
{
        va_list ap;

        if (ret_error) {
                va_start(ap, fmt);
                *ret_error = error_vformat(fmt, ap);
                va_end(ap);
        }
        return r;
}
