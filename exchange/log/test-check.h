/* test-check.h: the log's unit tests count their checks (printed at the end) and abort on the first that fails
 *
 * check() survives NDEBUG (assert() would not), and the count says how much
 * a test looked at ("713080 checks passed"). One copy for the test programs
 * of exchange/log; include it once per program.
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>

static unsigned checks;
#define check(expr)                                                                              \
        do {                                                                                     \
                checks++;                                                                        \
                if (!(expr)) {                                                                   \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
                        abort();                                                                 \
                }                                                                                \
        } while (0)
