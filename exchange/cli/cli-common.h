/* cli-common.h: small helpers every cli-* module shares (error strings, numbers, usage messages)
 *
 * Nothing here owns state; strings returned through ret_error are malloc'd and
 * belong to the caller.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/macro.h"

#define CLI_EXIT_USAGE 2

/*
 * cli_fail(): store a malloc'd one-line reason in *ret_error (when ret_error
 * is not NULL; NULL there when out of memory) and return r unchanged.
 */
int cli_fail(char **ret_error, int r, const char *fmt, ...) _printf_(3, 4);

/*
 * cli_parse_decimal(): decimal digits only (no sign, at most 19 digits), the
 * value within [min, max]. *ret is written only on success.
 */
bool cli_parse_decimal(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/*
 * cli_vusage_error(): print "PROG[ SUB]: MESSAGE (see PROG[ SUB] --help)" on
 * standard error. Return: CLI_EXIT_USAGE.
 */
int cli_vusage_error(const char *prog, const char *sub, const char *fmt, va_list ap) _printf_(3, 0);
