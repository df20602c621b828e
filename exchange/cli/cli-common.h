/* cli-common.h: small helpers every cli-* module shares (error strings)
 *
 * Nothing here owns state; strings returned through ret_error are malloc'd and
 * belong to the caller.
 */
#pragma once

#include "util/macro.h"

/*
 * cli_fail(): store a malloc'd one-line reason in *ret_error (when ret_error
 * is not NULL; NULL there when out of memory) and return r unchanged.
 */
int cli_fail(char **ret_error, int r, const char *fmt, ...) _printf_(3, 4);
