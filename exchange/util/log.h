/* log.h: the operational log of the daemon (stderr), not the exchange log
 *
 * One line per event, written with one write(2):
 *
 *   2026-11-22T08:01:02.123Z xbusd[4242]: error: Exchange log write failed for "...": No space left on device
 *
 * (UTC, RFC 3339 with milliseconds; then the program, its pid, the level and
 * the message). log_format() is the one place that shapes a line.
 *
 * Rate limit: warnings and errors are limited per message template (the
 * format string, so per call site): at most LOG_RATELIMIT_BURST lines in
 * LOG_RATELIMIT_INTERVAL_USEC; the others are counted, and one line
 * "suppressed N similar messages" reports them before the template's next
 * line once the interval has passed, or at log_flush_suppressed().
 * Threads: every function may be called from any thread.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/macro.h"

enum {
        LOG_LEVEL_ERR = 3,
        LOG_LEVEL_WARNING = 4,
        LOG_LEVEL_NOTICE = 5,
        LOG_LEVEL_INFO = 6,
        LOG_LEVEL_DEBUG = 7,
};

#define LOG_RATELIMIT_BURST 10U
#define LOG_RATELIMIT_INTERVAL_USEC (10ULL * 1000000ULL)

/* Messages above this level are dropped. Default: LOG_LEVEL_INFO (or $XBUS_LOG_LEVEL). */
void log_set_max_level(int level);
int log_get_max_level(void);
/* Prefix for every line (program name). The string must outlive all logging. */
void log_set_ident(const char *ident);

/*
 * log_full(): write one line with `level` to stderr (subject to the rate
 * limit above). `error` (a positive or negative errno, or 0) is made
 * available to the format as %m. Return: -abs(error), so callers can
 * `return log_error_errno(r, ...)`.
 */
int log_full(int level, int error, const char *fmt, ...) _printf_(3, 4);

/* log_flush_suppressed(): report what the templates held back whose interval has passed (all: every one,
 * at exit). */
void log_flush_suppressed(bool all);

/* log_format(): the line for `message` at `realtime_usec` into buf (always terminated by "\n").
 * Return: its length (< size). */
size_t log_format(char *buf, size_t size, uint64_t realtime_usec, int level, const char *message);

/* One template's rate limit state; zero-initialised. */
typedef struct LogRatelimit {
        uint64_t begin; /* CLOCK_MONOTONIC usec: start of the current interval */
        unsigned n;     /* lines let through in it */
        unsigned suppressed;
} LogRatelimit;

/* log_ratelimit_check(): may a line go out at `now`? *ret_suppressed is the count to report
 * first (lines held back in the interval that just ended), else 0. */
bool log_ratelimit_check(LogRatelimit *rl, uint64_t now, unsigned *ret_suppressed);

#define log_debug(...) log_full(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full(LOG_LEVEL_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full(LOG_LEVEL_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full(LOG_LEVEL_ERR, 0, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full(LOG_LEVEL_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) log_full(LOG_LEVEL_ERR, (e), __VA_ARGS__)
