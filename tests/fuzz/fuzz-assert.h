/* fuzz-assert.h: a check in a fuzz target that survives NDEBUG and stops the run on the input that broke it */
#pragma once

#include <stdio.h>
#include <stdlib.h>

#define fuzz_assert(expr)                                                          \
        do {                                                                       \
                if (!(expr)) {                                                     \
                        fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #expr); \
                        abort();                                                   \
                }                                                                  \
        } while (0)
