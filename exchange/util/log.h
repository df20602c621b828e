/* log.h: the operational log of the daemon (stderr), not the exchange log */
#pragma once

#include <stdarg.h>

#include "util/macro.h"

enum {
        LOG_LEVEL_ERR = 3,
        LOG_LEVEL_WARNING = 4,
        LOG_LEVEL_NOTICE = 5,
        LOG_LEVEL_INFO = 6,
        LOG_LEVEL_DEBUG = 7,
};

/* Messages above this level are dropped. Default: LOG_LEVEL_INFO (or $XBUS_LOG_LEVEL). */
void log_set_max_level(int level);
int log_get_max_level(void);
/* Prefix for every line (program name). The string must outlive all logging. */
void log_set_ident(const char *ident);

/*
 * log_full(): write one line "ident[pid]: <level>: message" to stderr.
 * `error` (a positive or negative errno, or 0) is made available to the
 * format as %m. Return: -abs(error), so callers can `return log_error_errno(r, ...)`.
 */
int log_full(int level, int error, const char *fmt, ...) _printf_(3, 4);

#define log_debug(...) log_full(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full(LOG_LEVEL_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full(LOG_LEVEL_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full(LOG_LEVEL_ERR, 0, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full(LOG_LEVEL_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) log_full(LOG_LEVEL_ERR, (e), __VA_ARGS__)
