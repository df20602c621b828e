/* error.h: error messages for callers that asked for one (char **ret_error) */
#pragma once

#include <stdarg.h>

#include "util/macro.h"

/* error_vformat(): the formatted text, malloc'd, or NULL when out of memory. */
char *error_vformat(const char *fmt, va_list ap);

/*
 * error_set(): when `ret_error` is not NULL, store the formatted message there
 * (malloc'd; NULL when out of memory). Return: `r`, for `return error_set(...)`.
 */
int error_set(char **ret_error, int r, const char *fmt, ...) _printf_(3, 4);
