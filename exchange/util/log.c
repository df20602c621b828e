/* log.c: the operational log (stderr lines, one write(2) each, rate-limited per template) */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "util/parse.h"
#include "util/time-util.h"

static int max_level = -1;
static const char *ident = "xbus";

/* The rate limit of one message template (its format string), in a small direct-mapped table. */
typedef struct LogTemplate {
        const char *fmt;
        int level;
        LogRatelimit rl;
} LogTemplate;

static pthread_mutex_t templates_lock = PTHREAD_MUTEX_INITIALIZER;
static LogTemplate templates[64];

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

size_t log_format(char *buf, size_t size, uint64_t usec, int level, const char *message)
{
        static const char *const names[] = {
                [LOG_LEVEL_ERR] = "error", [LOG_LEVEL_WARNING] = "warning", [LOG_LEVEL_NOTICE] = "notice",
                [LOG_LEVEL_INFO] = "info", [LOG_LEVEL_DEBUG] = "debug",
        };
        time_t sec = (time_t)(usec / USEC_PER_SEC);
        struct tm tm;
        int n;

        gmtime_r(&sec, &tm);
        n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ %s[%d]: %s: %s", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(usec % USEC_PER_SEC / 1000), ident,
                     (int)getpid(), level >= 0 && level < (int)ELEMENTSOF(names) && names[level] ? names[level] : "log",
                     message);
        if (n < 0)
                n = 0;
        if ((size_t)n >= size - 1)
                n = (int)size - 2;
        buf[n++] = '\n';
        buf[n] = 0;
        return (size_t)n;
}

static void log_write(int level, const char *message)
{
        char line[2304];
        size_t n = log_format(line, sizeof(line), now_usec(CLOCK_REALTIME), level, message);

        (void)!write(STDERR_FILENO, line, n);
}

static void log_write_suppressed(const LogTemplate *t, unsigned n)
{
        char msg[256];

        snprintf(msg, sizeof(msg), "suppressed %u similar messages (\"%.160s\")", n, t->fmt);
        log_write(t->level, msg);
}

bool log_ratelimit_check(LogRatelimit *rl, uint64_t now, unsigned *ret_suppressed)
{
        *ret_suppressed = 0;
        if (rl->n == 0 || now - rl->begin >= LOG_RATELIMIT_INTERVAL_USEC) {
                *ret_suppressed = rl->suppressed;
                *rl = (LogRatelimit){ .begin = now, .n = 1 };
                return true;
        }
        if (rl->n < LOG_RATELIMIT_BURST) {
                rl->n++;
                return true;
        }
        rl->suppressed++;
        return false;
}

/* May a line of template `fmt` go out now? Reports what was held back first. */
static bool log_admit(int level, const char *fmt)
{
        LogTemplate *t = &templates[((uintptr_t)fmt * 0x9E3779B97F4A7C15ULL) >> 58];
        LogTemplate old = {}, cur;
        unsigned suppressed;
        bool ok;

        pthread_mutex_lock(&templates_lock);
        if (t->fmt != fmt) {
                old = *t; /* another template had the slot: report its count, take the slot over */
                *t = (LogTemplate){ .fmt = fmt, .level = level };
        }
        ok = log_ratelimit_check(&t->rl, now_usec(CLOCK_MONOTONIC), &suppressed);
        cur = *t;
        pthread_mutex_unlock(&templates_lock);
        if (old.rl.suppressed)
                log_write_suppressed(&old, old.rl.suppressed);
        if (suppressed)
                log_write_suppressed(&cur, suppressed);
        return ok;
}

void log_flush_suppressed(bool all)
{
        uint64_t now = now_usec(CLOCK_MONOTONIC);

        for (size_t i = 0; i < ELEMENTSOF(templates); i++) {
                LogTemplate t = {};

                pthread_mutex_lock(&templates_lock);
                if (templates[i].rl.suppressed && (all || now - templates[i].rl.begin >= LOG_RATELIMIT_INTERVAL_USEC)) {
                        t = templates[i];
                        templates[i].rl.suppressed = 0;
                }
                pthread_mutex_unlock(&templates_lock);
                if (t.rl.suppressed)
                        log_write_suppressed(&t, t.rl.suppressed);
        }
}

int log_full(int level, int error, const char *fmt, ...)
{
        char message[2048];
        int saved = errno;
        va_list ap;

        if (error < 0)
                error = -error;
        if (level > log_get_max_level() || (level <= LOG_LEVEL_WARNING && !log_admit(level, fmt)))
                goto done;
        errno = error;
        va_start(ap, fmt);
        vsnprintf(message, sizeof(message), fmt, ap);
        va_end(ap);
        log_write(level, message);
done:
        errno = saved;
        return -error;
}
