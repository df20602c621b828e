/* log.c: the operational log (stderr lines, one write(2) each) */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "util/parse.h"

static int max_level = -1;
static const char *ident = "xbus";

void log_set_max_level(int level)
{
        max_level = level;
}

int log_get_max_level(void)
{
        if (max_level < 0) {
                uint64_t v;

                max_level = parse_u64(getenv("XBUS_LOG_LEVEL"), 0, INT_MAX, &v) < 0 ? LOG_LEVEL_INFO : (int)v;
        }
        return max_level;
}

void log_set_ident(const char *s)
{
        ident = s;
}

int log_full(int level, int error, const char *fmt, ...)
{
        static const char *const names[] = {
                [LOG_LEVEL_ERR] = "error", [LOG_LEVEL_WARNING] = "warning", [LOG_LEVEL_NOTICE] = "notice",
                [LOG_LEVEL_INFO] = "info", [LOG_LEVEL_DEBUG] = "debug",
        };
        char line[2048];
        int saved = errno, n;
        va_list ap;

        if (error < 0)
                error = -error;
        if (level > log_get_max_level())
                return -error;

        n = snprintf(line, sizeof(line), "%s[%d]: %s: ", ident, (int)getpid(),
                     level >= 0 && level < (int)ELEMENTSOF(names) && names[level] ? names[level] : "log");
        errno = error;
        va_start(ap, fmt);
        if (n > 0 && (size_t)n < sizeof(line))
                n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
        va_end(ap);
        if (n < 0)
                n = 0;
        if ((size_t)n >= sizeof(line) - 1)
                n = sizeof(line) - 2;
        line[n++] = '\n';
        (void)!write(STDERR_FILENO, line, n);
        errno = saved;
        return -error;
}
