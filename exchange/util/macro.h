/* macro.h: small macros used everywhere (cleanup attributes, sizes, limits) */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _pure_ __attribute__((pure))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _likely_(x) (__builtin_expect(!!(x), 1))
#define _unlikely_(x) (__builtin_expect(!!(x), 0))
#define _warn_unused_result_ __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
/* STRINGIFY(): the text of a macro that expands to a plain literal: STRINGIFY(AUDIT_HELD_MAX) is "64" */
#define STRINGIFY(x) STRINGIFY_(x)
#define STRINGIFY_(x) #x
#define KIB(x) ((size_t)(x)*1024U)
#define MIB(x) ((size_t)(x)*1024U * 1024U)

/* container_of(): the object of `type` whose `member` is at `ptr` (intrusive lists, mailbox items). */
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#define streq(a, b) (strcmp((a), (b)) == 0)
#define strneq(a, b, n) (strncmp((a), (b), (n)) == 0)

/*
 * DEFINE_TRIVIAL_CLEANUP_FUNC(type, func): defines funcp(type *p) that calls
 * func(*p) when *p is not NULL, for use as _cleanup_(funcp).
 */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func) \
        static inline void func##p(type *p)     \
        {                                       \
                if (*p)                         \
                        func(*p);               \
        }

static inline void freep(void *p)
{
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
        if (*fd >= 0)
                close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

/* Take ownership away from a cleanup variable: `return TAKE_PTR(p);` */
#define TAKE_PTR(p)                      \
        ({                               \
                __typeof__(p) _p_ = (p); \
                (p) = NULL;              \
                _p_;                     \
        })

#define TAKE_FD(fd)              \
        ({                       \
                int _fd_ = (fd); \
                (fd) = -1;       \
                _fd_;            \
        })

/* A NULL-tolerant free that returns NULL, for `x = mfree(x);` */
static inline void *mfree(void *p)
{
        free(p);
        return NULL;
}

/* ASCII character classes, whatever the locale (ctype.h's follow it). */
static inline bool ascii_isdigit(char c)
{
        return c >= '0' && c <= '9';
}

static inline bool ascii_isalpha(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool isempty(const char *s)
{
        return !s || !*s;
}

static inline const char *strempty(const char *s)
{
        return s ? s : "";
}
