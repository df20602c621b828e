/* log.h: the operational log of the daemon and the adapters (stderr or the journal), not the exchange log
 *
 * One event, one line, written with one write(2) (or one datagram), in the
 * format log_set_format() chose:
 *
 *   text     2026-11-22T08:01:02.123Z xbusd/node[4242]: error: Exchange log write failed for "...": No space left on device
 *   json     {"time":"2026-11-22T08:01:02.123Z","level":"error","program":"xbusd","pid":4242,"component":"node",
 *            "message":"Exchange log write failed for \"...\": No space left on device","errno":28}
 *   journal  the journal's native protocol (systemd.journal-fields(7)): one datagram to
 *            /run/systemd/journal/socket with MESSAGE, PRIORITY, SYSLOG_IDENTIFIER,
 *            XBUS_COMPONENT, ERRNO (when there is one), CODE_FILE, CODE_LINE, CODE_FUNC;
 *            a datagram that cannot be sent goes to stderr as text instead
 *   auto     journal when stderr is the journal's stream ($JOURNAL_STREAM names its device and
 *            inode, as systemd sets it for a service), text otherwise: the default
 *
 * The time is UTC (RFC 3339, milliseconds). The component is the source folder
 * of the call site (daemon, http, node, bus; runtime, rest, sample in the
 * adapters); in text it follows the program as in postfix's "postfix/smtpd[pid]",
 * so that "program[pid]: level: " stays one pattern. log_format() is the one
 * place that shapes a line.
 *
 * Rate limit: warnings and errors are limited per message template (the
 * format string, so per call site): at most LOG_RATELIMIT_BURST lines in
 * LOG_RATELIMIT_INTERVAL_USEC; the others are counted, and one line
 * "suppressed N similar messages" reports them before the template's next
 * line once the interval has passed, or at log_flush_suppressed().
 * Threads: every function may be called from any thread; log_set_*() belong
 * before the threads start.
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

typedef enum LogFormat {
        LOG_FORMAT_AUTO,
        LOG_FORMAT_TEXT,
        LOG_FORMAT_JSON,
        LOG_FORMAT_JOURNAL,
        _LOG_FORMAT_MAX,
} LogFormat;

#define LOG_RATELIMIT_BURST 10U
#define LOG_RATELIMIT_INTERVAL_USEC (10ULL * 1000000ULL)
#define LOG_JOURNAL_SOCKET "/run/systemd/journal/socket"

/* Messages above this level are dropped. Default: LOG_LEVEL_INFO (or $XBUS_LOG_LEVEL). */
void log_set_max_level(int level);
int log_get_max_level(void);
/* Prefix for every line (program name). The string must outlive all logging. */
void log_set_ident(const char *ident);

/* log_format_from_string(): "auto", "text", "json", "journal". Return: the format, or -EINVAL. */
int log_format_from_string(const char *s);
/* log_set_format(): the format of the lines from now on (AUTO is resolved here). Default: $XBUS_LOG_FORMAT, else AUTO. */
void log_set_format(LogFormat format);
/* log_get_format(): the format in use (never AUTO). */
LogFormat log_get_format(void);
/* log_set_journal_socket(): where journal datagrams go (tests; the string must outlive all logging). */
void log_set_journal_socket(const char *path);

/*
 * log_full(): write one line with `level` (subject to the rate limit above).
 * `error` (a positive or negative errno, or 0) is made available to the
 * format as %m. Return: -abs(error), so callers can
 * `return log_error_errno(r, ...)`.
 */
#define log_full(level, error, ...) log_internal((level), (error), __FILE__, __LINE__, __func__, __VA_ARGS__)
int log_internal(int level, int error, const char *file, int line, const char *func, const char *fmt, ...)
        _printf_(6, 7);

/* log_flush_suppressed(): report what the templates held back whose interval has passed (all: every one,
 * at exit). */
void log_flush_suppressed(bool all);

/* One event, as log_format() shapes it. */
typedef struct LogLine {
        uint64_t realtime_usec;
        int level;
        int error;        /* errno (positive), 0 for none */
        const char *file; /* the call site: its folder is the component */
        int line;
        const char *func;
        const char *message;
} LogLine;

/*
 * log_format(): `l` in `format` (TEXT, JSON, JOURNAL) into buf. TEXT and JSON
 * are one line ending in "\n", cut to fit (JSON stays valid JSON, with bytes
 * that are not UTF-8 as U+FFFD); JOURNAL is the datagram (a value with a
 * newline in the binary form), its MESSAGE cut to fit. `size` must leave room
 * for the fixed fields (256 bytes do). Return: its length (< size).
 */
size_t log_format(char *buf, size_t size, LogFormat format, const LogLine *l);

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
