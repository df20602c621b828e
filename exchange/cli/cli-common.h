/* cli-common.h: what every cli-* module shares: the usage exit status, error strings and numbers
 *
 * Strings returned through ret_error (util/error.h error_set()) are malloc'd
 * and belong to the caller; numbers are parsed with util/parse.h.
 */
#pragma once

#include "util/error.h"
#include "util/macro.h"
#include "util/parse.h"

/* the exit status of a usage error (cli_command_usage_error()) */
#define CLI_EXIT_USAGE 2
